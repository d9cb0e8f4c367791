"""The practice records that evidence the aims (issue 16): staff survey or pulse, Patient Participation Group, premises
and infection-control checks, workforce, violence and abuse towards staff, and the published dementia figures.
Each template imports from its download, refuses a bad file whole with plain messages, feeds the measure store, and
the demo federation holds them; every aim has at least two measures that evidence it. Both backends."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from data_layer import engine as calc
from data_layer import models as m
from data_layer import models_records as rec
from data_layer.imports import TEMPLATE_KINDS, template_csv, template_guide
from data_layer.scope import Viewer
from tests.test_imports import federation, imp, problems, refused, snapshot

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
BOARD = Viewer("board@test.invalid", "board")
NEW_KINDS = ("staff_survey", "ppg_meetings", "premises_checks", "workforce", "abuse_incidents")

GOOD = {
    "staff_survey": (rec.StaffSurveyResult, """practice_code,survey,survey_month,question,respondents,positive,neutral,negative
G82139,Quarterly staff pulse,31/03/2025,I would feel safe speaking up about something that concerns me,14,11,2,1
G82139,Quarterly staff pulse,31/03/2025,I feel valued for the work I do,14,9,3,2
G82653,Quarterly staff pulse,28/03/2025,I would feel safe speaking up about something that concerns me,9,6,,2
"""),
    "ppg_meetings": (rec.PPGMeeting, """practice_code,meeting_date,members,attended,actions_agreed,actions_done,you_said,we_did
G82139,12/03/2025,18,9,3,2,It is hard to get through on the phone at 8am,Added a call-back queue
G82653,2025-02-20,11,,2,2,,
"""),
    "premises_checks": (rec.PremisesCheck, """practice_code,check_type,done_on,next_due,result,score,actions,actions_completed_on
G82139,fire risk assessment,15/01/2025,15/01/2026,Actions needed,,Replace two fire door closers,28/02/2025
G82139,Infection prevention and control audit,20/02/2025,20/02/2026,Pass,92,,
G82653,Gas safety certificate,01/03/2025,01/03/2026,Pass,,,
"""),
    "workforce": (rec.WorkforceMonth, """practice_code,month,role,staff_in_post,wte,vacancies_wte,leavers,sickness_days
G82139,01/03/2025,Nurse,3,2.4,0.6,0,4.5
G82139,01/03/2025,gp,5,3.6,,1,
G82653,15/03/2025,Receptionist,6,4.2,0,0,2
"""),
    "abuse_incidents": (rec.AbuseIncident, """practice_code,incident_date,category,reported_to_police,action_taken,reference
G82139,04/02/2025,Verbal abuse,No,Warning letter sent,VA-2025-02
G82139,11/02/2025,Physical assault,yes,Patient removed from the list; reported to the police,
G82653,04/03/2025,Threatening behaviour,,,
"""),
}

BAD = {
    "staff_survey": ("""practice_code,survey,survey_month,question,respondents,positive,neutral,negative
G82139,Quarterly staff pulse,31/03/2025,I feel valued,5,4,1,2
G82139,Quarterly staff pulse,31/03/2025,I feel valued,5,1,1,1
Z99999,,31/03/2099,,x,1,,1
""", ["is fewer than the positive, neutral and negative answers", "repeats row",
      "is not a practice in the federation", "is empty: a survey name is needed here", "is in the future",
      "is not a number"]),
    "ppg_meetings": ("""practice_code,meeting_date,members,attended,actions_agreed,actions_done,you_said,we_did
G82139,12/03/2025,18,9,2,3,,
G82139,12/03/2025,18,9,2,1,,
G82653,31/02/2025,-4,,1,0,,
""", ["is more than the actions agreed", "repeats row", "is not a real meeting date",
      "is negative"]),
    "premises_checks": ("""practice_code,check_type,done_on,next_due,result,score,actions,actions_completed_on
G82139,Fire risk assessment,15/01/2025,15/01/2024,Pass,,,
G82139,Infection prevention and control audit,20/02/2025,,,120,,01/01/2025
""", ["is before the date done: the next check cannot be due", "is empty: a result is needed here", "is too large",
      "is before the date done: actions cannot be completed"]),
    "workforce": ("""practice_code,month,role,staff_in_post,wte,vacancies_wte,leavers,sickness_days
G82139,01/03/2025,Surgeon,3,2.4,,,
G82139,01/03/2025,Nurse,2,2.5,,1.5,
G82653,01/03/2025,Nurse,2,1,,,40
G82653,01/03/2025,nurse,2,1,,,
""", ["is not one of the federation's roles", "is more than the staff in post", "is not a whole number",
      "is more days than the whole-time equivalent could work", "repeats row"]),
    "abuse_incidents": ("""practice_code,incident_date,category,reported_to_police,action_taken,reference
G82139,04/02/2025,,maybe,,VA-1
G82139,05/02/2025,Verbal abuse,no,,VA-1
""", ["is empty: a category is needed here", "is not yes or no", "each reference may appear only once"]),
}


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def _stored(engine, code: str, area_type: str = "practice") -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(m.MeasureValue.area_code, m.MeasureValue.period_start, m.MeasureValue.value,
                                   m.MeasureValue.suppressed, m.MeasureValue.suppression_reason)
                            .where(m.MeasureValue.indicator_code == code, m.MeasureValue.area_type == area_type)).all()
    return pd.DataFrame(rows, columns=["area", "month", "value", "suppressed", "reason"])


def test_each_new_template_is_offered_with_a_guide():
    assert set(NEW_KINDS) <= set(TEMPLATE_KINDS)
    for kind in NEW_KINDS:
        header = template_csv(kind).decode("utf-8-sig").splitlines()[0].split(",")
        assert header[0] == "practice_code"
        guide = template_guide(kind)
        assert guide["what to put in it"].str.len().min() > 10 and (guide["needed"] == "required column").any()


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_each_template_imports_once_and_a_reimport_changes_nothing(empty_engine, config, tmp_path, kind):
    federation(empty_engine, config)
    model, text = GOOD[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == kind, result.summary()
    assert result.new == len(text.strip().splitlines()) - 1 == _count(empty_engine, model)
    again = imp(empty_engine, config, path)
    assert (again.new, again.updated) == (0, 0) and again.unchanged == result.new, again.summary()
    # the downloaded template with its example row imports too (its practice is added first)
    example = template_csv(kind, with_example=True).decode("utf-8-sig").replace("G82002", "G82139")
    assert imp(empty_engine, config, example.encode("utf-8"), f"{kind}_example.csv").imported


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_a_bad_file_is_refused_whole_with_every_problem_in_plain_words(empty_engine, config, tmp_path, kind):
    federation(empty_engine, config)
    text, expected = BAD[kind]
    path = tmp_path / f"{kind}_bad.csv"
    path.write_text(text, encoding="utf-8")
    result = refused(empty_engine, config, path, kind=kind)
    found = " | ".join(problems(result)["problem"].astype(str))
    for words in expected:
        assert words in found, (words, found)


def test_premises_check_types_the_catalogue_does_not_count_are_kept_and_named(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    path = tmp_path / "premises.csv"
    path.write_text(GOOD["premises_checks"][1], encoding="utf-8")
    result = imp(empty_engine, config, path)
    notes = " ".join(problems(result, "note")["problem"].astype(str))
    assert "not counted in the premises measures" in notes and "Gas safety certificate" in notes
    with empty_engine.connect() as conn:
        kinds = set(conn.execute(select(rec.PremisesCheck.check_type)).scalars())
    assert "Fire risk assessment" in kinds  # "fire risk assessment" takes the catalogue's spelling


def test_imported_records_feed_the_measure_store(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    for kind in NEW_KINDS:
        path = tmp_path / f"{kind}.csv"
        path.write_text(GOOD[kind][1], encoding="utf-8")
        assert imp(empty_engine, config, path).imported
    vacancy = _stored(empty_engine, "VACANCY_RATE").set_index("area")
    assert vacancy.loc["G82139", "value"] == pytest.approx(0.6 / (2.4 + 3.6 + 0.6) * 100)
    wte = _stored(empty_engine, "CLINICAL_WTE_PER_1000").set_index("area")
    assert wte.loc["G82139", "value"] == pytest.approx((2.4 + 3.6) / 9800 * 1000)
    ipc = _stored(empty_engine, "IPC_AUDIT_SCORE")
    assert ipc[ipc["area"] == "G82139"]["value"].dropna().eq(92).all()
    checks = _stored(empty_engine, "PREMISES_CHECKS_IN_DATE").set_index(["area", "month"])
    assert checks.loc[("G82139", pd.Timestamp("2025-03-01").date()), "value"] == pytest.approx(2 / 6 * 100)
    assert not _stored(empty_engine, "PPG_ACTIONS_DONE").empty
    abuse = _stored(empty_engine, "ABUSE_INCIDENTS_ACTIONED", "federation").set_index("month")
    assert abuse.loc[pd.Timestamp("2025-02-01").date(), "value"] == 100
    survey = _stored(empty_engine, "STAFF_SURVEY_POSITIVE").set_index("area")
    assert survey.loc["G82139", "value"] == pytest.approx(20 / 28 * 100)


def test_a_staff_survey_of_few_respondents_is_never_shown(empty_engine, config, tmp_path):
    """Four staff at a small practice answered: their answers could be told apart, so that practice's figure is
    hidden, and another practice's too so it cannot be worked out from the federation's."""
    federation(empty_engine, config)
    path = tmp_path / "pulse.csv"
    rows = [f"{code},Pulse,31/03/2025,Q{q},{n},{n - 1},0,1" for code, n in (("G82139", 12), ("G82653", 4),
                                                                         ("G82741", 15)) for q in range(6)]
    path.write_text("practice_code,survey,survey_month,question,respondents,positive,neutral,negative\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    assert imp(empty_engine, config, path).imported
    got = _stored(empty_engine, "STAFF_SURVEY_POSITIVE").set_index("area")
    assert bool(got.loc["G82653", "suppressed"]) and pd.isna(got.loc["G82653", "value"])
    assert "fewer than 5" in got.loc["G82653", "reason"]
    assert got["suppressed"].sum() == 2  # a second practice hidden too, so G82653 cannot be subtracted out
    assert config.suppression_min(config.indicator("STAFF_SURVEY_POSITIVE")) == 5


def test_dementia_figures_map_from_the_published_files_by_themselves(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    qof = tmp_path / "qof_achievement_2324.csv"
    qof.write_text("PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\nG82139,DEM004,NUMERATOR,60\n"
                   "G82139,DEM004,DENOMINATOR,80\n", encoding="utf-8")
    assert imp(empty_engine, config, qof).imported
    header = ("Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,Age,"
              "Category Type,Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,Lower CI 99.8 limit,"
              "Upper CI 99.8 limit,Count,Denominator,Value note,Recent Trend,Compared to England value or "
              "percentiles,Column not used,Time period Sortable,New data,Compared to goal,Time period range")
    row = ("92949,Estimated dementia diagnosis rate (aged 65 and older),E92000001,England,G82139,Maidstone Rd "
           "Chatham Surgery,GPs,Persons,65+ yrs,,,2024,65.5,,,,,70,106.9,,,,,20240000,,,1y")
    ft = tmp_path / "fingertips_92949.csv"
    ft.write_text(header + "\n" + row + "\n", encoding="utf-8")
    result = imp(empty_engine, config, ft)
    assert result.imported, result.summary()
    with empty_engine.connect() as conn:
        got = dict(conn.execute(select(m.IndicatorValue.indicator_code, m.IndicatorValue.value)
                                .where(m.IndicatorValue.indicator_code.in_(["DEMENTIA_CARE_REVIEW",
                                                                            "DEMENTIA_DIAGNOSIS"]))).all())
    assert got["DEMENTIA_CARE_REVIEW"] == pytest.approx(75.0)
    assert got["DEMENTIA_DIAGNOSIS"] == pytest.approx(70 / 106.9 * 100, rel=0.01)


def test_the_demo_federation_holds_the_records_and_their_stories(demo_engine, config):
    for model in (rec.StaffSurveyResult, rec.PPGMeeting, rec.PremisesCheck, rec.WorkforceMonth, rec.AbuseIncident):
        assert _count(demo_engine, model) > 50, model.__tablename__
    codes = ["STAFF_SURVEY_POSITIVE", "PPG_MEETINGS", "PPG_ACTIONS_DONE", "PREMISES_CHECKS_IN_DATE",
             "IPC_AUDIT_SCORE", "VACANCY_RATE", "STAFF_TURNOVER", "SICKNESS_ABSENCE", "CLINICAL_WTE_PER_1000",
             "ABUSE_INCIDENTS_PER_1000", "ABUSE_INCIDENTS_ACTIONED", "DEMENTIA_DIAGNOSIS", "DEMENTIA_CARE_REVIEW",
             "PPG_MEMBERS_PER_1000"]
    fed = calc.kpi_results(demo_engine, config, BOARD, calc.Filters(), codes=codes)
    for code in codes:
        assert fed[code].latest_value is not None, code
    # Orchard's quiet quarter: four staff answered, so it is hidden
    orchard = _stored(demo_engine, "STAFF_SURVEY_POSITIVE").query("area == 'Z90008'")
    assert orchard["suppressed"].any() and orchard[orchard["suppressed"]]["value"].isna().all()
    # Foxglove's PPG has not met for over a year; Beacon Lane's legionella assessment is overdue
    meetings = calc.kpi_results(demo_engine, config, BOARD, calc.Filters(practice_codes=("Z90011",)),
                                codes=["PPG_MEETINGS", "PREMISES_CHECKS_IN_DATE"])
    assert meetings["PPG_MEETINGS"].latest_value == 0
    beacon = calc.kpi_results(demo_engine, config, BOARD, calc.Filters(practice_codes=("Z90007",)),
                              codes=["PREMISES_CHECKS_IN_DATE"])
    assert beacon["PREMISES_CHECKS_IN_DATE"].latest_value < 100
    # Sandpiper's dementia clinics: its diagnosis rate is above the federation's
    sandpiper = calc.kpi_results(demo_engine, config, BOARD, calc.Filters(practice_codes=("Z90009",)),
                                 codes=["DEMENTIA_DIAGNOSIS"])
    assert sandpiper["DEMENTIA_DIAGNOSIS"].latest_value > fed["DEMENTIA_DIAGNOSIS"].latest_value + 5


# --------------------------------------------------------------------------------------------------------------------
# The aims
# --------------------------------------------------------------------------------------------------------------------
def evidencing(config, aim) -> list[str]:
    """An aim's measures that evidence it: judged against a target, or explicitly monitored without one; context
    figures (neither higher nor lower is better, e.g. deprivation) do not count."""
    return [k.indicator for k in aim.kpis if (k.target is not None or k.monitored)
            and config.indicator(k.indicator).direction != "neutral"]


def test_every_aim_has_at_least_two_measures_that_evidence_it(config):
    assert len(config.aims) == 12
    for aim in config.aims:
        assert len(evidencing(config, aim)) >= 2, (aim.id, evidencing(config, aim))


def test_the_aims_the_issue_named_are_evidenced_by_what_they_are_about(config):
    aims = {a.id: set(evidencing(config, a)) for a in config.aims}
    assert {"PREMISES_CHECKS_IN_DATE", "IPC_AUDIT_SCORE"} <= aims["safe-environment"]
    assert not {"MED_REVIEW", "CKD_ACR", "GPPS_PHONE"} & aims["safe-environment"]
    assert {"PPG_MEETINGS", "PPG_ACTIONS_DONE"} <= aims["patient-voice"]
    assert {"VACANCY_RATE", "STAFF_TURNOVER", "CLINICAL_WTE_PER_1000"} <= aims["sustainable-federation"]
    assert {"ABUSE_INCIDENTS_ACTIONED", "ABUSE_INCIDENTS_PER_1000"} <= aims["zero-tolerance-of-abuse"]
    assert "DEMENTIA_DIAGNOSIS" in aims["partnership-with-agencies"]
    assert "STAFF_SURVEY_POSITIVE" in aims["competent-staff"]
    assert len(aims["efficiency"]) >= 2
    survey = config.indicator("STAFF_SURVEY_POSITIVE")
    assert survey.key_question == "Well-led" and "Freedom to speak up" in survey.quality_statements


def test_a_monitored_measure_cannot_also_have_a_target():
    from data_layer.config import KPI

    with pytest.raises(ValueError, match="monitored"):
        KPI(indicator="X", target=1, monitored=True)
    assert KPI(indicator="X", monitored=True).target is None


def test_the_inspection_pack_lists_the_new_measures_under_their_key_question(demo_engine, config):
    from data_layer.exports.inspection import build_pack

    admin = Viewer("admin@test.invalid", "admin")
    pack = build_pack(demo_engine, config, admin, None)
    where = {}
    for kq in pack.key_questions:
        for st in kq.statements:
            for ev in st.indicators:
                where[ev.indicator.code] = (kq.name, st.name)
    assert where["PREMISES_CHECKS_IN_DATE"] == ("Safe", "Safe environments")
    assert where["IPC_AUDIT_SCORE"] == ("Safe", "Infection prevention and control")
    assert where["STAFF_SURVEY_POSITIVE"] == ("Well-led", "Freedom to speak up")
    assert where["PPG_ACTIONS_DONE"] == ("Responsive", "Listening to and involving people")
    assert where["SICKNESS_ABSENCE"] == ("Caring", "Workforce wellbeing and enablement")
    assert where["DEMENTIA_DIAGNOSIS"] == ("Effective", "Assessing needs")


def test_the_practice_pack_lists_its_premises_checks_and_you_said_we_did_for_those_who_may_see_them(demo_engine,
                                                                                                    config):
    from data_layer.exports.inspection import build_pack

    def tables(viewer):
        pack = build_pack(demo_engine, config, viewer, "Z90007")  # Beacon Lane: legionella assessment overdue
        return {t.name: (kq.name, st.name, t.frame, st.paragraphs) for kq in pack.key_questions
                for st in kq.statements for t in st.tables}

    lead = tables(Viewer("lead@test.invalid", "practice_lead", ("Z90007",)))
    kq, statement, checks, words = lead["premises_checks"]
    assert (kq, statement) == ("Safe", "Safe environments")
    overdue = checks[checks["Status"] == "Overdue"]
    assert list(overdue["Check"]) == ["Legionella risk assessment"] and len(checks) == 6
    assert any("5 of 6 required premises" in w for w in words)
    kq, statement, ppg, _ = lead["ppg_you_said_we_did"]
    assert (kq, statement) == ("Responsive", "Listening to and involving people")
    assert len(ppg) >= 3 and ppg["You said"].str.len().min() > 5
