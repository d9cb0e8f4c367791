"""Published NHS formats, tested on the real files in ../shared/data/nhs (skipped when absent) and on hand-made
fixtures where no real file is available (NHS England's monthly GP FFT file, QOF achievement). Both backends."""
from __future__ import annotations

import csv
from datetime import date

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import select

from data_layer import models as m
from tests.conftest import SHARED_NHS
from tests.test_imports import FIXTURES, count, federation, imp, problems, refused, snapshot

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def real(relative: str):
    path = SHARED_NHS / relative
    if not path.exists():
        pytest.skip(f"{relative} is not available (../shared is absent)")
    return path


def practice(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(m.Practice.__table__).where(m.Practice.code == code)).one()._mapping)


def values(engine, indicator: str) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.Practice.code, m.IndicatorValue.period_start, m.IndicatorValue.period_end,
                   m.IndicatorValue.numerator, m.IndicatorValue.denominator, m.IndicatorValue.value,
                   m.IndicatorValue.lower_ci, m.IndicatorValue.upper_ci)
            .join(m.Practice, m.Practice.id == m.IndicatorValue.practice_id)
            .where(m.IndicatorValue.indicator_code == indicator)).all()
    return pd.DataFrame(rows, columns=["code", "start", "end", "numerator", "denominator", "value", "lower", "upper"])


def benchmarks(engine, **where) -> pd.DataFrame:
    stmt = select(m.BenchmarkValue.__table__)
    for k, v in where.items():
        stmt = stmt.where(getattr(m.BenchmarkValue, k) == v)
    with engine.connect() as conn:
        return pd.DataFrame([dict(r._mapping) for r in conn.execute(stmt)])


def read_real(relative: str, **kw) -> pd.DataFrame:
    return pd.read_csv(SHARED_NHS / relative, dtype=str, keep_default_na=False, **kw)


def idempotent(engine, config, path, **options):
    again = imp(engine, config, path, **options)
    assert (again.new, again.updated) == (0, 0) and again.unchanged > 0, again.summary()


# --------------------------------------------------------------------------------------------------------------------
# OHID Fingertips
# --------------------------------------------------------------------------------------------------------------------
FINGERTIPS_SMOKING = "02_qof/fingertips_91547_smoking_prevalence_QOF_by_practice.csv"


def test_fingertips_practice_rows_become_values_of_the_mapped_indicator(empty_engine, config):
    path = real(FINGERTIPS_SMOKING)
    federation(empty_engine, config)
    result = imp(empty_engine, config, path, indicator_map={"91547": "SMOKING_SUPPORT"})
    assert result.imported and result.kind == "fingertips", result.summary()
    got = values(empty_engine, "SMOKING_SUPPORT")
    assert len(got) == 14  # 7 federation practices × 2022/23 and 2023/24 (G82011 closed before then)
    file = read_real(FINGERTIPS_SMOKING)
    row = file[(file["Area Code"] == "G82139") & (file["Time period"] == "2022/23")].iloc[0]
    ours = got[(got["code"] == "G82139") & (got["start"] == date(2022, 4, 1))].iloc[0]
    assert ours["end"] == date(2023, 3, 31)
    assert ours["numerator"] == float(row["Count"]) and ours["denominator"] == float(row["Denominator"])
    assert ours["value"] == pytest.approx(float(row["Value"]))
    assert ours["lower"] == pytest.approx(float(row["Lower CI 95.0 limit"]))
    assert ours["upper"] == pytest.approx(float(row["Upper CI 95.0 limit"]))
    # The 2023/24 rows carry no Indicator ID in the file; their name gives it.
    assert (got["start"] == date(2023, 4, 1)).sum() == 7
    # Everything else is kept as a benchmark: England, regions, ICBs and the other practices.
    england = benchmarks(empty_engine, area_code="E92000001", period_label="2013/14")
    assert england["value"].iloc[0] == pytest.approx(19.17076526)
    assert count(empty_engine, m.BenchmarkValue) == len(file) - 6 - 14  # 6 rows publish no value
    assert result.skipped == 6
    idempotent(empty_engine, config, path, indicator_map={"91547": "SMOKING_SUPPORT"})


def test_fingertips_unmapped_indicator_is_kept_as_benchmarks(empty_engine, config):
    path = real("05c_screening_immunisation_indicators/fingertips_93553_IMD2019_by_practice.csv")
    federation(empty_engine, config)
    # The shipped catalogue names 93553 as DEPRIVATION_IMD2019's source: without that, the indicator is unmapped.
    config = config.model_copy(update={"indicators": tuple(i.model_copy(update={"published": None})
                                                           for i in config.indicators)})
    result = imp(empty_engine, config, path)
    assert result.imported, result.summary()
    assert count(empty_engine, m.IndicatorValue) == 0
    ours = benchmarks(empty_engine, indicator_id="93553", area_code="G82139")
    assert len(ours) == 1 and ours["period_start"].iloc[0] == date(2019, 1, 1)
    assert len(benchmarks(empty_engine, area_code="E92000001")) == 1  # listed twice in the file: stored once
    assert any("not mapped to the catalogue" in n for n in problems(result, "note")["problem"])


def test_fingertips_mapping_to_an_unknown_or_derived_code_is_refused(empty_engine, config):
    path = real("05c_screening_immunisation_indicators/fingertips_93553_IMD2019_by_practice.csv")
    federation(empty_engine, config)
    result = refused(empty_engine, config, path, indicator_map={"93553": "FFT_POSITIVE", "99999": "DM_HBA1C"})
    reasons = " ".join(problems(result)["problem"])
    assert "calculated by the dashboard" in reasons and "not an indicator in this file" in reasons


# --------------------------------------------------------------------------------------------------------------------
# QOF raw files and the appointments mapping
# --------------------------------------------------------------------------------------------------------------------
def test_qof_mapping_sets_each_practices_pcn_and_can_add_a_pcn(empty_engine, config):
    path = real("02_qof/MAPPING_NHS_GEOGRAPHIES_2223.csv")
    result = imp(empty_engine, config, path, add_pcn=("Mpa PCN",))
    assert result.imported and result.kind == "pcn_mapping" and result.new == 3, result.summary()
    assert practice(empty_engine, "G82741")["name"] == "Princes Park Medical Centre"
    federation(empty_engine, config)  # the rest of the federation, some without a PCN
    assert practice(empty_engine, "G82028")["pcn"] is None
    again = imp(empty_engine, config, path)
    assert again.imported and again.skipped == 6378 - 8 + 1  # G82011 closed before 2022-23: not in the file
    mapping = read_real("02_qof/MAPPING_NHS_GEOGRAPHIES_2223.csv").set_index("PRACTICE_CODE")["PCN_NAME"]
    assert practice(empty_engine, "G82028")["pcn"] == mapping["G82028"]


def test_appointments_mapping_file_is_read_as_a_practice_mapping(empty_engine, config):
    path = real("05d_gpad_mapping/Mapping_Aug_25.csv")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == "pcn_mapping", result.summary()
    mapping = read_real("05d_gpad_mapping/Mapping_Aug_25.csv").drop_duplicates("GP_CODE").set_index("GP_CODE")
    assert practice(empty_engine, "G82006")["pcn"] == mapping.loc["G82006", "PCN_NAME"]
    idempotent(empty_engine, config, path)


def test_qof_prevalence_registers_become_values_when_mapped(empty_engine, config):
    path = real("02_qof/PREVALENCE_2223.csv")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path, indicator_map={"HYP": "HYP_BP"})
    assert result.imported and result.kind == "qof_prevalence", result.summary()
    got = values(empty_engine, "HYP_BP")
    file = read_real("02_qof/PREVALENCE_2223.csv")
    hyp = file[(file["PRACTICE_CODE"] == "G82139") & (file["GROUP_CODE"] == "HYP")].iloc[0]
    ours = got[got["code"] == "G82139"].iloc[0]
    assert (ours["start"], ours["end"]) == (date(2022, 4, 1), date(2023, 3, 31))  # from the file name
    assert ours["numerator"] == float(hyp["REGISTER"]) and ours["denominator"] == float(hyp["PRACTICE_LIST_SIZE"])
    assert ours["value"] == pytest.approx(float(hyp["REGISTER"]) / float(hyp["PRACTICE_LIST_SIZE"]) * 100)
    assert len(got) == 7
    af = benchmarks(empty_engine, indicator_id="AF", area_code="A81001")
    assert af["numerator"].iloc[0] == 112.0 and af["source"].iloc[0] == "qof_prevalence"
    assert result.skipped == 1  # one published register is larger than its list: reported, not stored


def test_qof_achievement_long_layout(empty_engine, config):
    federation(empty_engine, config)
    path = FIXTURES / "qof_achievement_2324.csv"
    result = imp(empty_engine, config, path, indicator_map={"DM006": "DM_HBA1C"})
    assert result.imported and result.kind == "qof_achievement", result.summary()
    got = values(empty_engine, "DM_HBA1C").set_index("code")
    assert got.loc["G82139", "numerator"] == 512 and got.loc["G82139", "denominator"] == 690
    assert got.loc["G82139", "start"] == date(2023, 4, 1)
    assert len(benchmarks(empty_engine, indicator_id="HYP008")) == 1 and len(benchmarks(empty_engine,
                                                                                       area_code="A81001")) == 1


def test_a_file_without_its_period_asks_for_one(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    path = tmp_path / "achievement.csv"
    path.write_bytes((FIXTURES / "qof_achievement_2324.csv").read_bytes())
    result = refused(empty_engine, config, path)
    assert "does not say which period" in problems(result)["problem"].iloc[0]
    assert imp(empty_engine, config, path, period="2023/24").imported


# --------------------------------------------------------------------------------------------------------------------
# Practice facts: list sizes, CQC ratings, ODS
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gp-reg-pat-prac-all_2021-01.csv", "gp-reg-pat-prac-all_2021-01.xlsx"])
def test_patients_registered_sets_list_sizes(empty_engine, config, name):
    path = real(f"05a_patients_registered/{name}")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == "list_sizes" and result.updated == 7, result.summary()
    file = read_real("05a_patients_registered/gp-reg-pat-prac-all_2021-01.csv").set_index("CODE")
    assert practice(empty_engine, "G82139")["list_size"] == int(file.loc["G82139", "NUMBER_OF_PATIENTS"])
    assert result.skipped == len(file) - 7  # G82011 closed in 2020: in the federation's history, not in the file
    idempotent(empty_engine, config, path)


def test_cqc_overall_ratings(empty_engine, config):
    path = real("04_cqc_ratings/HEEC_cqc_overall_ratings_by_practice.csv")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == "cqc_overall", result.summary()
    file = read_real("04_cqc_ratings/HEEC_cqc_overall_ratings_by_practice.csv").set_index("Practice.Code")
    for code in ("G82139", "G82028"):
        assert practice(empty_engine, code)["cqc_overall"] == file.loc[code, "latest_rating"]
    idempotent(empty_engine, config, path)


def test_cqc_key_question_ratings_then_the_api_json_by_location_id(empty_engine, config):
    path = real("04_cqc_ratings/cqc_gp_locations_key_question_ratings_london.csv")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == "cqc_key_questions" and result.updated == 3, result.summary()
    cedars = practice(empty_engine, "G82028")
    assert cedars["cqc_location_id"] == "1-1353963401"  # the registered location, not the deregistered one
    assert [cedars[f"cqc_{k}"] for k in ("overall", "safe", "effective", "caring", "responsive", "well_led")] == \
        ["Good"] * 6
    assert cedars["cqc_rating_date"] == date(2018, 11, 15)
    json_path = real("04_cqc_ratings/cqc_api_key_question_ratings_london.json")
    from_api = imp(empty_engine, config, json_path)
    assert from_api.imported and from_api.kind == "cqc_api_json" and from_api.unchanged == 3, from_api.summary()


def test_cqc_api_json_needs_location_ids_first(empty_engine, config):
    json_path = real("04_cqc_ratings/cqc_api_key_question_ratings_london.json")
    federation(empty_engine, config)
    result = refused(empty_engine, config, json_path)
    assert "no practice in the federation has a CQC location ID" in problems(result)["problem"].iloc[0]


def test_epraccur_without_a_header_marks_closed_practices_inactive(empty_engine, config):
    path = real("05b_ods_epraccur/epraccur.csv")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == "epraccur" and result.updated == 1, result.summary()
    assert practice(empty_engine, "G82011")["active"] is False
    assert practice(empty_engine, "G82139")["active"] is True
    assert any("G82011" in n and "closed" in n for n in problems(result, "note")["problem"])
    with open(path, newline="") as fh:
        assert result.rows == sum(1 for _ in csv.reader(fh))


# --------------------------------------------------------------------------------------------------------------------
# A wide table of indicators
# --------------------------------------------------------------------------------------------------------------------
WIDE = "05c_screening_immunisation_indicators/indicator_QKS_2025-26_v2.csv"
CERVICAL = "Cervical screening coverage: aged 25 to 49 years old"


def test_wide_indicator_table_mapped_to_catalogue_codes(empty_engine, config):
    path = real(WIDE)
    federation(empty_engine, config)
    options = dict(period="2024/25", indicator_map={CERVICAL: "CERVICAL_SCREENING",
                                                    "Bowel cancer screening coverage": "BOWEL_SCREENING"})
    result = imp(empty_engine, config, path, **options)
    assert result.imported and result.kind == "wide_indicators", result.summary()
    file = read_real(WIDE).set_index("GP code")
    got = values(empty_engine, "CERVICAL_SCREENING").set_index("code")
    assert got.loc["G82139", "value"] == pytest.approx(float(file.loc["G82139", CERVICAL]))
    assert got.loc["G82139", "start"] == date(2024, 4, 1) and pd.isna(got.loc["G82139", "numerator"])
    assert len(values(empty_engine, "BOWEL_SCREENING")) == 6  # matched by the start of its heading
    imd = benchmarks(empty_engine, indicator_id="Deprivation score (IMD 2025)", area_code="G82139")
    assert imd["value"].iloc[0] == pytest.approx(float(file.loc["G82139", "Deprivation score (IMD 2025)"]))
    idempotent(empty_engine, config, path, **options)


def test_wide_table_without_a_period_is_refused(empty_engine, config):
    path = real(WIDE)
    federation(empty_engine, config)
    refused(empty_engine, config, path)


# --------------------------------------------------------------------------------------------------------------------
# FFT: a practice's own export, and NHS England's monthly file
# --------------------------------------------------------------------------------------------------------------------
BROMPTON = "01_fft/practice_fft_responses_brompton_pcn.csv"


def test_practice_fft_export_with_names_mapped_to_codes(empty_engine, config):
    path = real(BROMPTON)
    federation(empty_engine, config)
    refused_result = refused(empty_engine, config, path)
    assert "Earls Court Surgery (1,270)" in " ".join(problems(refused_result)["problem"])
    mapping = {"Earls Court Surgery": "G82139", "the chelsea practice": "G82653"}  # names matched loosely
    result = imp(empty_engine, config, path, practice_map=mapping)
    assert result.imported and result.kind == "fft_export", result.summary()
    assert result.new == 1270 + 538 and result.skipped == 3882 - 1808
    file = read_real(BROMPTON)
    with empty_engine.connect() as conn:
        rows = conn.execute(select(m.FFTResponse.scale, m.FFTResponse.rating, m.FFTResponse.comment,
                                   m.FFTResponse.comment_2)
                            .join(m.Practice, m.Practice.id == m.FFTResponse.practice_id)
                            .where(m.Practice.code == "G82139")).all()
    assert {r.scale for r in rows} == {"legacy"}
    earls = file[file["surgery"] == "Earls Court Surgery"]
    assert sum(r.rating == 1 for r in rows) == (earls["rating"] == "Extremely likely").sum()
    tricky = max(earls["free_text"], key=len)  # 1,695 characters
    assert tricky in {r.comment for r in rows}  # stored exactly as written
    assert set(earls["do_better"]) - {""} == {r.comment_2 for r in rows} - {None}
    idempotent(empty_engine, config, path, practice_map=mapping)


def test_practice_map_to_a_code_outside_the_federation_is_refused(empty_engine, config):
    path = real(BROMPTON)
    federation(empty_engine, config)
    result = refused(empty_engine, config, path, practice_map={"Earls Court Surgery": "E87066"})
    assert "not a practice in the federation" in problems(result)["problem"].iloc[0]


def monthly_counts(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(m.Practice.code, m.FFTMonthlyCount.__table__)
                            .join(m.Practice, m.Practice.id == m.FFTMonthlyCount.practice_id)).all()
    return pd.DataFrame([dict(r._mapping) for r in rows]).set_index("code")


def test_nhs_england_monthly_fft_file(empty_engine, config):
    federation(empty_engine, config)
    result = imp(empty_engine, config, FIXTURES / "nhse_gp_fft_2025_01.csv")
    assert result.imported and result.kind == "nhse_fft_monthly", result.summary()
    got = monthly_counts(empty_engine)
    assert list(got.index) == ["G82139", "G82653"]
    row = got.loc["G82139"]
    assert (row["month"], row["scale"], row["very_good"], row["good"], row["total"]) == (
        date(2025, 1, 1), "current", 212, 61, 300)
    assert (row["mode_sms"], row["mode_online"], row["mode_other"]) == (240, 40, 3)
    reasons = " ".join(problems(result, "skipped")["problem"])
    assert "suppressed" in reasons and "outside the federation" in reasons
    assert result.derived_values  # FFT indicators recalculated from the counts
    idempotent(empty_engine, config, FIXTURES / "nhse_gp_fft_2025_01.csv")


def test_monthly_fft_workbook_with_title_rows_and_other_spellings(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    wb = Workbook()
    ws = wb.active
    ws.title = "GP Practice"
    ws.append(["Friends and Family Test: GP practice data, February 2025"])
    ws.append(["Source: NHS England"])
    ws.append([])
    ws.append(["Periodname", "ICB Code", "Prac Code", "Prac Name", "Very good", "Good", "Neither good nor poor",
               "Poor", "Very poor", "Don't Know", "Total", "% Positive", "% Negative", "Mode - SMS", "Mode - Online",
               "Mode - Paper", "Mode - Telephone", "Mode - Other"])
    ws.append(["Feb-2025", "QKS", "G82139", "MAIDSTONE RD", 200, 50, 10, 5, 5, 0, 270, 0.93, 0.04, 200, 50, 10, 5, 5])
    ws.append(["Feb-2025", "QKS", "G82653", "CASTLE", 100, 20, 0, 0, 0, 0, 120, 1.0, 0.0, 100, 20, 0, 0, 0])
    path = tmp_path / "FFT_GP_Feb25.xlsx"
    wb.save(path)
    result = imp(empty_engine, config, path)
    assert result.imported and result.kind == "nhse_fft_monthly" and result.header_row == 4, result.summary()
    got = monthly_counts(empty_engine)
    assert got.loc["G82139", "month"] == date(2025, 2, 1) and got.loc["G82139", "mode_telephone"] == 5


def test_monthly_fft_total_must_equal_the_answers(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    text = (FIXTURES / "nhse_gp_fft_2025_01.csv").read_text().replace(",212,61,9,6,8,4,300,", ",212,61,9,6,8,4,301,")
    path = tmp_path / "fft.csv"
    path.write_text(text)
    result = refused(empty_engine, config, path)
    row = problems(result).iloc[0]
    assert (row["row"], row["column"], row["value"]) == (2, "Total_Responses", "301")
    assert row["problem"] == "does not equal the sum of the six answers (300)"


def test_practices_outside_the_federation_are_reported_never_silently_dropped(empty_engine, config):
    path = real("05a_patients_registered/gp-reg-pat-prac-all_2021-01.csv")
    federation(empty_engine, config)
    result = imp(empty_engine, config, path)
    skipped = problems(result, "skipped")
    assert result.skipped == result.rows - 7  # G82011 closed in 2020 and is not in the file
    assert set(skipped["problem"]) == {"practice outside the federation: row not imported"}
    assert "skipped" in result.summary()


def test_a_file_with_no_federation_practice_at_all_is_refused(empty_engine, config):
    path = real("05a_patients_registered/gp-reg-pat-prac-all_2021-01.csv")
    text = "practice_code,practice_name\nZ90001,Demo Surgery\n"
    imp(empty_engine, config, text.encode(), "practices.csv")
    before = snapshot(empty_engine)
    result = imp(empty_engine, config, path)
    why = problems(result)["problem"].iloc[0]
    assert result.refused and why.startswith("None of the ") and "is your practice (Z90001)" in why, why
    assert snapshot(empty_engine) == before
