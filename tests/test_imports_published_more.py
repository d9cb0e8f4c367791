"""More published NHS files read as what they are (issue 13 items 1 and 4): NHS Payments to General Practice, the
long childhood immunisations file, detection that prefers the format whose required columns all match, the one-line
"probably not a … file", and setting up the federation's practices from a mapping or epraccur file by PCN, sub-ICB
or a list of codes. Small invented fixtures in tests/fixtures cover each format everywhere; the real files in
../shared/data/nhs are read too when present (skipped when absent). Both backends."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from data_layer import engine as calc
from data_layer import models as m
from data_layer.imports import inspect_file
from data_layer.measures.refresh import refresh
from data_layer.scope import Viewer
from tests.conftest import ROOT
from tests.test_imports import FIXTURES, federation, imp, problems
from tests.test_imports_published import benchmarks, idempotent, read_real, real, values

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ADMIN = Viewer(email="admin@test.invalid", role="admin", name="Admin")
PAYMENTS = FIXTURES / "nhs_payments_gp_2022-23.csv"
IMMUNISATIONS = FIXTURES / "childhood_immunisations.csv"
MAPPING = FIXTURES / "practice_mapping.csv"
EPRACCUR = FIXTURES / "epraccur.csv"
REAL_PAYMENTS = "06_payments_to_general_practice/nhs-payments-gp-2022-23.csv"
REAL_IMMUNISATIONS = "05c_screening_immunisation_indicators/west_sussex_GP_childhood_immunisations.csv"


def codes(engine) -> dict[str, bool]:
    with engine.connect() as conn:
        return dict(conn.execute(select(m.Practice.code, m.Practice.active)).all())


# --------------------------------------------------------------------------------------------------------------------
# NHS Payments to General Practice
# --------------------------------------------------------------------------------------------------------------------
def test_payments_become_pounds_per_weighted_and_registered_patient(empty_engine, config):
    federation(empty_engine, config)
    assert inspect_file(PAYMENTS).kind == "nhs_payments"
    result = imp(empty_engine, config, PAYMENTS)
    assert result.imported and result.kind == "nhs_payments", result.summary()
    file = pd.read_csv(PAYMENTS, dtype=str, encoding="utf-8-sig").set_index("Practice Code")
    weighted = values(empty_engine, "PAYMENTS_PER_WEIGHTED_PATIENT").set_index("code")
    assert sorted(weighted.index) == ["G82002", "G82139", "G82653", "G82741"]  # G82011 has no patients: skipped
    row = weighted.loc["G82139"]
    assert (row["start"], row["end"]) == (date(2022, 4, 1), date(2023, 3, 31))  # the year in the file's name
    assert row["numerator"] == float(file.loc["G82139", "Total NHS Payments to General Practice"])
    assert row["denominator"] == float(file.loc["G82139", "Number of Weighted Patients (Last Known Figure)"])
    assert round(row["value"], 2) == float(file.loc["G82139", "Average payments per weighted patient"])
    registered = values(empty_engine, "PAYMENTS_PER_REGISTERED_PATIENT").set_index("code")
    assert round(registered.loc["G82653", "value"], 2) == float(file.loc["G82653",
                                                                        "Average payments per registered patient"])
    qof = values(empty_engine, "QOF_PAYMENTS_PER_PATIENT").set_index("code")
    assert qof.loc["G82741", "value"] == pytest.approx(260000 / 27000)
    skipped = problems(result, "skipped")
    assert set(skipped["value"].astype(str)) <= {"0"} and "closed practice" in skipped["problem"].iloc[0]
    assert "48" not in result.summary() and "payment columns that no catalogue indicator names are not stored" in \
        result.summary()
    # Other practices' figures are kept as benchmarks, negative payments (recoveries) included
    bench = benchmarks(empty_engine, source="nhs_payments")
    assert set(bench["area_code"]) == {"A81001", "B82002"}
    qof_b = bench[(bench["area_code"] == "B82002") &
                  (bench["indicator_id"] == "Total QOF Payments per registered patient")].iloc[0]
    assert qof_b["value"] == pytest.approx(-120.5 / 10000)
    idempotent(empty_engine, config, PAYMENTS)


def test_a_pcns_payment_per_patient_is_all_its_payments_over_all_its_patients(empty_engine, config):
    federation(empty_engine, config)
    assert imp(empty_engine, config, PAYMENTS).imported
    refresh(empty_engine, config)
    got = calc.kpi_results(empty_engine, config, ADMIN, calc.Filters(pcn="Mpa PCN", period_end=date(2022, 4, 1)))
    r = got["PAYMENTS_PER_WEIGHTED_PATIENT"]
    assert r.latest_value == pytest.approx((420000 + 620000 + 3800000) / (3100.25 + 4900 + 27500))
    assert calc.format_value(r.latest_value, r.indicator.unit).startswith("£")


def test_real_payments_file_gives_the_published_averages_for_the_mpa_practices(empty_engine, config):
    path = real(REAL_PAYMENTS)
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    assert result.imported, result.summary()
    file = read_real(REAL_PAYMENTS, encoding="utf-8-sig").set_index("Practice Code")
    got = values(empty_engine, "PAYMENTS_PER_WEIGHTED_PATIENT").set_index("code")
    for code in ("G82139", "G82653", "G82741"):
        assert round(got.loc[code, "value"], 2) == float(file.loc[code, "Average payments per weighted patient"])
    assert len(benchmarks(empty_engine, source="nhs_payments")) > 6000 * 3


def test_payments_without_a_period_in_the_name_ask_for_one(empty_engine, config):
    federation(empty_engine, config)
    result = imp(empty_engine, config, PAYMENTS.read_bytes(), "payments.csv")
    assert result.refused and "does not say which period" in problems(result)["problem"].iloc[0]
    assert imp(empty_engine, config, PAYMENTS.read_bytes(), "payments.csv", period="2022/23").imported


# --------------------------------------------------------------------------------------------------------------------
# Childhood immunisations: one row per practice × vaccine
# --------------------------------------------------------------------------------------------------------------------
def test_immunisations_per_vaccine_become_the_catalogue_entries_values(empty_engine, config):
    federation(empty_engine, config)
    seen = inspect_file(IMMUNISATIONS)
    assert seen.kind == "immunisations" and seen.uses_indicator_map
    assert {"MMR2 at 5 years", "MMR1 at 24 months", "Rota at 12 months", "PCV2 at 12 months"} <= set(
        seen.items["source"])
    result = imp(empty_engine, config, IMMUNISATIONS)
    assert result.imported, result.summary()
    mmr2 = values(empty_engine, "MMR2_AGE5").sort_values(["code", "start"]).reset_index(drop=True)
    assert list(zip(mmr2["code"], mmr2["start"], mmr2["numerator"], mmr2["denominator"])) == [
        ("G82139", date(2020, 4, 1), 88, 94), ("G82139", date(2021, 4, 1), 89, 94),
        ("G82653", date(2020, 4, 1), 120, 130), ("G82653", date(2021, 4, 1), 120, 131)]
    assert mmr2["value"].iloc[0] == pytest.approx(88 / 94 * 100)
    mmr1 = values(empty_engine, "MMR1_AGE2").set_index(["code", "start"])
    assert mmr1.loc[("G82139", date(2020, 4, 1)), "numerator"] == 91  # 91.0000000000001 as published
    assert len(values(empty_engine, "ROTA_AGE1")) == 4
    summary = result.summary()
    assert "vaccine MMR2 at 5 years → MMR2_AGE5: 4 values" in summary
    assert "repeat another row's practice, year, vaccine and figures exactly: stored once" in summary
    assert "PCV2 at 12 months" in summary  # not in the catalogue: said so, kept as a benchmark
    skipped = set(problems(result, "skipped")["problem"])
    assert skipped == {"has no eligible children (denominator 0) and no numerator",
                       "has no numerator or denominator in the file (nothing published)"}
    bench = benchmarks(empty_engine, source="immunisations")
    assert set(bench["area_code"]) == {"G82139", "H82006"}  # G82139's PCV2, and the practice outside
    idempotent(empty_engine, config, IMMUNISATIONS)


def test_immunisations_with_two_different_figures_for_one_vaccine_are_refused(empty_engine, config):
    federation(empty_engine, config)
    text = IMMUNISATIONS.read_text().replace('"2021/22","G82653","5 years","MMR2","Measles, mumps, and rubella booster '
                                             'vaccine; second dose by 3 years and 4 months or soon after",120,131',
                                             '"2021/22","G82653","5 years","MMR2","Measles, mumps, and rubella booster '
                                             'vaccine; second dose by 3 years and 4 months or soon after",119,131', 1)
    result = imp(empty_engine, config, text.encode(), "immunisations.csv")
    assert result.refused
    row = problems(result).iloc[0]
    assert "the same practice, year and vaccine with different figures" in row["problem"]


def test_real_west_sussex_immunisations_for_practices_there(empty_engine, config):
    path = real(REAL_IMMUNISATIONS)
    practices = "practice_code,practice_name\nH82006,The Petworth Surgery\nH82014,Another Surgery\n"
    assert imp(empty_engine, config, practices.encode(), "practices.csv").imported
    result = imp(empty_engine, config, path)
    assert result.imported, result.summary()
    file = read_real(REAL_IMMUNISATIONS)
    row = file[(file["ODS_Code"] == "H82006") & (file["Item"] == "MMR2") & (file["Year"] == "2019/20")].iloc[0]
    got = values(empty_engine, "MMR2_AGE5").set_index(["code", "start"]).loc[("H82006", date(2019, 4, 1))]
    assert (got["numerator"], got["denominator"]) == (float(row["Numerator"]), float(row["Denominator"]))
    assert got["value"] == pytest.approx(float(row["Proportion"]) * 100)
    assert "repeat another row's practice, year, vaccine and figures exactly" in result.summary()


# --------------------------------------------------------------------------------------------------------------------
# Detection and the one-line refusal
# --------------------------------------------------------------------------------------------------------------------
def test_detection_prefers_the_format_whose_required_columns_all_match():
    # Immunisations with an extra "Number of patients" column: the list-sizes format's two columns match too, but
    # the immunisations format claims more of the file's columns
    head = IMMUNISATIONS.read_text().splitlines()[0] + ',"Number of patients"\n'
    assert inspect_file(head.encode() + b'"2020/21","G82139","5 years","MMR2","x",1,2,0.5,"","a","b","c",9\n',
                        "x.csv").kind == "immunisations"
    # Most of a Fingertips export's columns but not its Value: the list sizes file it also is wins
    partial = ("Indicator ID,Indicator Name,Area Code,Area Type,Time period,Sex,Age,CODE,NUMBER_OF_PATIENTS\n"
               "1,x,G82139,GP,2021,Persons,All ages,G82139,9800\n")
    assert inspect_file(partial.encode(), "y.csv").kind == "list_sizes"
    # The payments file has a sub-ICB "Code" column and many numeric ones: it is payments, not a wide table
    assert inspect_file(PAYMENTS).kind == "nhs_payments"


def test_a_file_with_more_problems_than_rows_is_probably_not_of_the_chosen_format(empty_engine, config):
    federation(empty_engine, config)
    result = imp(empty_engine, config, IMMUNISATIONS, kind="wide_indicators", period="2021/22")
    assert result.refused and result.errors == 1
    message = problems(result)["problem"].iloc[0]
    assert message.startswith("This is probably not a Wide table of indicators per practice (one column per "
                              "indicator) file: its ")
    assert "is not a number" in message


@pytest.mark.parametrize("relative, kind", [(REAL_PAYMENTS, "nhs_payments"), (REAL_IMMUNISATIONS, "immunisations")])
def test_the_real_files_are_recognised_as_what_they_are(relative, kind):
    assert inspect_file(real(relative)).kind == kind


# --------------------------------------------------------------------------------------------------------------------
# Setting up the federation's practices: by PCN, sub-ICB or codes
# --------------------------------------------------------------------------------------------------------------------
def test_set_up_from_a_mapping_file_by_a_list_of_codes_then_by_sub_icb(empty_engine, config):
    result = imp(empty_engine, config, MAPPING, add_practices=("G82139", "g82653"))
    assert result.imported and result.new == 2, result.summary()
    assert "2 practices of G82139, G82653 added to the federation" in result.summary()
    with empty_engine.connect() as conn:
        pcn = dict(conn.execute(select(m.Practice.code, m.Practice.pcn)).all())
    assert pcn == {"G82139": "Mpa PCN", "G82653": "Mpa PCN"}
    result = imp(empty_engine, config, MAPPING, add_sub_icb=("91Q",))
    assert result.imported and (result.new, result.unchanged) == (3, 2), result.summary()
    assert set(codes(empty_engine)) == {"G82139", "G82653", "G82741", "G82002", "G82006"}  # not 16C's A81001
    by_name = imp(empty_engine, config, MAPPING, add_sub_icb=("NHS North East and North Cumbria ICB - 16C",))
    assert by_name.imported and "A81001" in codes(empty_engine)


def test_set_up_choices_the_file_does_not_hold_are_refused_and_write_nothing(empty_engine, config):
    result = imp(empty_engine, config, MAPPING, add_sub_icb=("99X",), add_practices=("G82139", "Z99999"),
                 add_pcn=("Nowhere PCN",))
    assert result.refused and codes(empty_engine) == {}
    said = set(problems(result)["problem"])
    assert said == {"no practice in the file belongs to the sub-ICB '99X'", "the practice Z99999 is not in the file",
                    "no practice in the file belongs to the PCN 'Nowhere PCN'"}


def test_set_up_from_epraccur_by_sub_icb_adds_its_open_gp_practices(empty_engine, config):
    result = imp(empty_engine, config, EPRACCUR, add_sub_icb=("91Q",))
    assert result.imported and result.new == 3, result.summary()
    assert codes(empty_engine) == {"G82139": True, "G82653": True, "G82741": True}
    assert "2 organisations of sub-ICB 91Q are not open GP practices" in result.summary()
    with empty_engine.connect() as conn:
        assert conn.execute(select(m.Practice.name).where(m.Practice.code == "G82139")).scalar() == \
            "Test Road Surgery"
    # By code: a closed practice named on purpose joins, marked inactive; epraccur has no PCN to choose by
    assert imp(empty_engine, config, EPRACCUR, add_practices=("G82011",)).imported
    assert codes(empty_engine)["G82011"] is False
    no_pcn = imp(empty_engine, config, EPRACCUR, add_pcn=("Mpa PCN",))
    assert no_pcn.refused and "does not say which PCN" in problems(no_pcn)["problem"].iloc[0]


def test_set_up_from_the_command_line_by_codes_and_sub_icb(empty_url):
    from data_layer.db import get_engine
    from tests.test_real_federation import cli

    out = cli(empty_url, ROOT / "federation.toml", str(MAPPING), "--add-practices", "G82139,G82653",
              "--add-practices", "G82741")
    assert out.returncode == 0, out.stderr
    assert "3 practices of G82139, G82653, G82741 added to the federation" in out.stdout
    out = cli(empty_url, ROOT / "federation.toml", str(EPRACCUR), "--add-sub-icb", "16C")
    assert out.returncode == 0, out.stderr
    engine = get_engine(empty_url)
    try:
        assert set(codes(engine)) == {"G82139", "G82653", "G82741", "A81001"}
    finally:
        engine.dispose()
    bad = cli(empty_url, ROOT / "federation.toml", str(EPRACCUR), "--add-sub-icb", "99X")
    assert bad.returncode == 2 and "no practice in the file belongs to the sub-ICB '99X'" in bad.stderr


def test_the_real_mapping_file_sets_up_kent_and_medway_by_sub_icb(empty_engine, config):
    path = real("02_qof/MAPPING_NHS_GEOGRAPHIES_2223.csv")
    result = imp(empty_engine, config, path, add_sub_icb=("91Q",), dry_run=True)
    assert not result.refused and result.new == 185, result.summary()


# --------------------------------------------------------------------------------------------------------------------
# The Import page: set-up by sub-ICB, and an unlisted Fingertips indicator added to the catalogue with a button
# --------------------------------------------------------------------------------------------------------------------
FINGERTIPS_NEW = ("Indicator ID,Indicator Name,Area Code,Area Name,Area Type,Time period,Value,Lower CI 95.0 limit,"
                  "Upper CI 95.0 limit,Count,Denominator,Compared to England value or percentiles\n"
                  "99999,Invented screening uptake,E92000001,England,England,2023/24,60.0,59.9,60.1,600,1000,\n"
                  "99999,Invented screening uptake,G82139,Test Road Surgery,GP,2023/24,70.0,66.0,73.7,140,200,Better\n"
                  "99999,Invented screening uptake,G82653,Test Castle Practice,GP,2023/24,50.0,45.0,55.0,150,300,"
                  "Worse\n")


def test_the_import_page_sets_up_by_sub_icb_and_adds_an_unlisted_indicator_with_a_button(empty_url, backend,
                                                                                       monkeypatch, tmp_path):
    from data_layer.db import get_engine
    from data_layer.users import save_user
    from tests.apptest_util import app, visible_text
    from tests.test_access import AUTH

    if backend != "sqlite":
        pytest.skip("the page is exercised once, on SQLite; the importer itself is tested on both backends")
    config_file = tmp_path / "federation.toml"
    config_file.write_text((ROOT / "federation.toml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("FEDERATION_CONFIG", str(config_file))
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    engine = get_engine(empty_url)
    save_user(engine, "admin@nhs.test", "admin")
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "admin@nhs.test"})
    at.switch_page("pages/imports.py").run()
    assert "--add-sub-icb" in visible_text(at) and "nhs-payments-to-general-practice" in visible_text(at)
    at.file_uploader(key="import_upload").set_value((MAPPING.name, MAPPING.read_bytes(), "text/csv"))
    at.run()
    at.text_input(key="import_add_sub_icb").set_value("91Q").run()
    assert [mt.value for mt in at.metric][1] == "5"  # would be added
    at = next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception and any("5 new" in s.value for s in at.success)
    assert set(codes(engine)) == {"G82139", "G82653", "G82741", "G82002", "G82006"}

    at.file_uploader(key="import_upload").set_value(("fingertips.csv", FINGERTIPS_NEW.encode(), "text/csv"))
    at.run()
    assert not at.exception
    text = visible_text(at)
    assert "1 of the file's indicators are not in the catalogue" in text and "FINGERTIPS_99999" in text
    at.button(key="import_add_indicators").click().run()
    assert not at.exception
    local = (tmp_path / "federation.local.toml").read_text(encoding="utf-8")
    assert 'code = "FINGERTIPS_99999"' in local and 'direction = "higher"' in local  # Better above England
    assert any("Added 1 indicator to the catalogue" in s.value for s in at.success)
    notes = " ".join(c.value for c in at.caption)
    assert "indicator 99999 → FINGERTIPS_99999" in notes and "2 values for the federation's practices" in notes
    at = next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    got = values(engine, "FINGERTIPS_99999").set_index("code")
    assert got.loc["G82139", "value"] == 70.0 and got.loc["G82653", "numerator"] == 150
    with engine.connect() as conn:
        actions = list(conn.execute(select(m.AuditEvent.action)).scalars())
    assert "catalogue_added" in actions
    engine.dispose()


# --------------------------------------------------------------------------------------------------------------------
# Registered patients by single year of age
# --------------------------------------------------------------------------------------------------------------------
POPULATION = FIXTURES / "f_pop_2024-25.csv"


def test_population_by_single_year_of_age_is_kept_per_practice_sex_and_age(empty_engine, config):
    federation(empty_engine, config)
    assert inspect_file(POPULATION).kind == "population_by_age"
    result = imp(empty_engine, config, POPULATION)
    assert result.imported, result.summary()
    assert "the file counts female patients (from its name)" in result.summary()
    file = pd.read_csv(POPULATION, dtype=str, keep_default_na=False).set_index("GP code")
    got = benchmarks(empty_engine, source="population_by_age")
    assert set(got["sex"]) == {"Female"} and len(got) == 3 * 96 - 1  # A81001's empty cell at 95 is not stored
    one = got[got["area_code"] == "G82139"].set_index("age")
    total = sum(float(v) for v in file.loc["G82139"])
    assert one.loc["0", "numerator"] == float(file.loc["G82139", "0"]) and one.loc["0", "denominator"] == total
    assert one.loc["65", "value"] == pytest.approx(float(file.loc["G82139", "65"]) / total * 100)
    assert (one.loc["0", "period_start"], one.loc["0", "period_end"]) == (date(2024, 4, 1), date(2025, 3, 31))
    idempotent(empty_engine, config, POPULATION)


def test_a_population_file_that_does_not_say_its_sex_is_refused_or_read_from_a_sex_column(empty_engine, config):
    federation(empty_engine, config)
    data = POPULATION.read_bytes()
    result = imp(empty_engine, config, data, "pop_2024-25.csv")
    assert result.refused and "does not say which sex it counts" in problems(result)["problem"].iloc[0]
    lines = data.decode().splitlines()
    with_sex = "\n".join([lines[0] + ",Sex", *[line + ",Male" for line in lines[1:]]]) + "\n"
    assert imp(empty_engine, config, with_sex.encode(), "pop_2024-25.csv").imported
    assert set(benchmarks(empty_engine, source="population_by_age")["sex"]) == {"Male"}


def test_the_real_population_files_are_read_for_each_sex(empty_engine, config):
    female = real("05c_screening_immunisation_indicators/f_pop_QKS_2026-27.csv")
    male = real("05c_screening_immunisation_indicators/m_pop_QKS_2026-27.csv")
    federation(empty_engine, config)
    for path in (female, male):
        result = imp(empty_engine, config, path, today=date(2026, 11, 1))
        assert result.imported, result.summary()
    got = benchmarks(empty_engine, source="population_by_age")
    file = read_real("05c_screening_immunisation_indicators/m_pop_QKS_2026-27.csv").set_index("GP code")
    men = got[(got["sex"] == "Male") & (got["area_code"] == "G82139")]
    assert men["numerator"].sum() == pytest.approx(sum(float(v) for v in file.loc["G82139"] if v))


def test_every_file_in_the_shared_folder_is_read_as_what_it_is_or_refused_in_one_line():
    from tests.conftest import SHARED_NHS

    if not SHARED_NHS.exists():
        pytest.skip("../shared is absent")
    expected = {"nhs-payments-gp-2022-23.csv": "nhs_payments", "west_sussex_GP_childhood_immunisations.csv":
                "immunisations", "f_pop_QKS_2026-27.csv": "population_by_age", "m_pop_QKS_2026-27.csv":
                "population_by_age", "epraccur.csv": "epraccur", "MAPPING_NHS_GEOGRAPHIES_2223.csv": "pcn_mapping"}
    for path in sorted(p for p in SHARED_NHS.rglob("*") if p.is_file()):
        seen = inspect_file(path)
        if path.suffix == ".md":
            assert seen.kind is None and "\n" not in seen.problem and "not imported" in seen.problem, path
        else:
            assert seen.kind and not seen.problem, (path, seen.problem)
            assert seen.kind == expected.get(path.name, seen.kind), path
