"""Imports of our templates: every problem reported at once, nothing written when a file has errors, re-imports
idempotent, batches and audit recorded, derived indicators refreshed, free text stored as given. Both backends."""
from __future__ import annotations

import hashlib
import io
from datetime import date

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from data_layer import models as m
from data_layer.imports import ImportOptions, inspect_file, run_import, template_csv, template_guide, TEMPLATE_KINDS
from data_layer.scope import AccessDenied, Viewer
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
ADMIN = Viewer("admin@federation.invalid", "admin", name="Admin")
TODAY = date(2025, 6, 30)  # fixtures are dated in 2025; a fixed "today" keeps "future date" checks stable


def imp(engine, config, source, file_name=None, viewer=ADMIN, **options):
    options.setdefault("today", TODAY)
    dry_run = options.pop("dry_run", False)
    return run_import(engine, config, viewer, source, file_name=file_name, options=ImportOptions(**options),
                      dry_run=dry_run)


def federation(engine, config):
    result = imp(engine, config, FIXTURES / "practices.csv")
    assert result.imported, result.summary()
    return result


def with_staff(engine, config):
    federation(engine, config)
    assert imp(engine, config, FIXTURES / "staff.csv").imported


def snapshot(engine) -> dict[str, str]:
    """Every data table's rows (the audit log aside), hashed: 'unchanged' means byte-for-byte the same."""
    out = {}
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def audit_actions(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(m.AuditEvent.action).order_by(m.AuditEvent.id))]


def problems(result, severity="error") -> pd.DataFrame:
    return result.problems((severity,))


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


# --------------------------------------------------------------------------------------------------------------------
# Templates: good files
# --------------------------------------------------------------------------------------------------------------------
def test_every_template_imports_and_a_second_import_changes_nothing(empty_engine, config):
    federation(empty_engine, config)
    files = ["staff", "training", "fft_responses", "indicator_values", "complaints", "significant_events"]
    first = {f: imp(empty_engine, config, FIXTURES / f"{f}.csv") for f in files}
    for name, result in first.items():
        assert result.imported and result.kind == name, result.summary()
        assert result.new == result.rows and result.updated == 0, (name, result.summary())
    assert count(empty_engine, m.Staff) == 5
    assert count(empty_engine, m.TrainingCompletion) == 7
    assert count(empty_engine, m.FFTResponse) == 10
    assert count(empty_engine, m.Complaint) == 3
    assert count(empty_engine, m.SignificantEvent) == 3
    before = snapshot(empty_engine)
    for name in files:
        again = imp(empty_engine, config, FIXTURES / f"{name}.csv")
        assert (again.new, again.updated, again.unchanged) == (0, 0, again.rows), (name, again.summary())
    after = snapshot(empty_engine)
    changed = {t for t in before if before[t] != after[t]}
    assert changed <= {"import_batches"}, changed  # only the batch history grows


def test_practice_template_creates_practices_with_their_facts(empty_engine, config):
    federation(empty_engine, config)
    with empty_engine.connect() as conn:
        row = conn.execute(select(m.Practice.__table__).where(m.Practice.code == "G82741")).one()
    assert (row.name, row.pcn, row.list_size, row.contract_type, row.active) == (
        "Princes Park Medical Centre", "Mpa PCN", 6200, "PMS", True)


def test_headings_match_ignoring_case_spaces_and_punctuation(empty_engine, config):
    text = "Practice Code;PRACTICE-NAME; List Size \nG82139;Maidstone Road;9800\n"  # semicolons, odd spacing
    result = imp(empty_engine, config, csv_bytes(text), "practices.csv")
    assert result.imported and result.kind == "practices", result.summary()
    assert count(empty_engine, m.Practice) == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_utf8_bom_and_windows_1252_files_keep_their_accents(empty_engine, config, encoding):
    federation(empty_engine, config)
    text = ("staff_id,name,role,practice_code,start_date\n"
            "S900,Zoë Brontë,Nurse,G82139,01/02/2020\nS901,José Muñoz,GP,G82139,01/02/2020\n")
    result = imp(empty_engine, config, csv_bytes(text, encoding), "staff.csv")
    assert result.imported, result.summary()
    with empty_engine.connect() as conn:
        names = set(conn.execute(select(m.Staff.name)).scalars())
    assert names == {"Zoë Brontë", "José Muñoz"}


def test_xlsx_sheet_is_found_and_can_be_chosen(empty_engine, config, tmp_path):
    wb = Workbook()
    notes = wb.active
    notes.title = "Read me"
    notes.append(["This workbook lists the federation's practices."])
    data = wb.create_sheet("Practices")
    data.append(["Practice list, January 2025"])  # a title row above the header
    data.append([])
    data.append(["practice_code", "practice_name", "list_size"])
    data.append(["G82139", "Maidstone Road Chatham Surgery", 9800])
    data.append(["G82653", "Castle Medical Practice", 7400.0])  # whole numbers saved as floats by Excel
    other = wb.create_sheet("Old list")
    other.append(["practice_code", "practice_name"])
    other.append(["G82741", "Princes Park Medical Centre"])
    path = tmp_path / "practices.xlsx"
    wb.save(path)
    result = imp(empty_engine, config, path)
    assert result.imported and result.sheet == "Practices" and result.header_row == 3, result.summary()
    with empty_engine.connect() as conn:
        sizes = dict(conn.execute(select(m.Practice.code, m.Practice.list_size)).all())
    assert sizes == {"G82139": 9800, "G82653": 7400}
    chosen = imp(empty_engine, config, path, sheet="Old list")
    assert chosen.imported and chosen.new == 1


def test_free_text_is_stored_exactly_as_written(empty_engine, config):
    federation(empty_engine, config)
    assert imp(empty_engine, config, FIXTURES / "fft_responses.csv").imported
    with empty_engine.connect() as conn:
        comments = set(conn.execute(select(m.FFTResponse.comment)).scalars())
    assert '=HYPERLINK("http://example.com")' in comments
    assert "<b>Great</b> service <script>alert(1)</script>" in comments
    assert "Waited 40 minutes on the phone\nbefore anyone answered." in comments
    assert "Friendly team 👍" in comments


def test_fft_ratings_in_words_of_either_scale_or_numbers(empty_engine, config):
    federation(empty_engine, config)
    assert imp(empty_engine, config, FIXTURES / "fft_responses.csv").imported
    legacy = ("practice_code,response_date,rating,comment\n"
              "G82653,01/02/2025,Extremely likely,\nG82653,01/02/2025,Unlikely,\nG82653,01/02/2025,Don't know,\n")
    assert imp(empty_engine, config, csv_bytes(legacy), "legacy.csv").imported
    with empty_engine.connect() as conn:
        rows = conn.execute(select(m.FFTResponse.scale, m.FFTResponse.rating, func.count())
                            .group_by(m.FFTResponse.scale, m.FFTResponse.rating)).all()
    got = {(s, r): n for s, r, n in rows}
    assert got[("current", 1)] == 4  # "Very good" ×3 and "VERY GOOD"
    assert got[("current", 2)] == 2  # "Good" and the number 2
    assert got[("current", 6)] == 1
    assert got[("legacy", 1)] == 1 and got[("legacy", 4)] == 1 and got[("legacy", 6)] == 1


def test_identical_responses_without_ids_stay_separate_and_reimport_matches_them(empty_engine, config):
    federation(empty_engine, config)
    first = imp(empty_engine, config, FIXTURES / "fft_responses.csv")
    assert first.new == 10  # rows 2 and 3 are the same answer at the same practice on the same day: two patients
    again = imp(empty_engine, config, FIXTURES / "fft_responses.csv")
    assert (again.new, again.unchanged) == (0, 10)


def test_fft_import_refreshes_the_derived_fft_indicators(empty_engine, config):
    federation(empty_engine, config)
    result = imp(empty_engine, config, FIXTURES / "fft_responses.csv")
    assert result.derived_values
    with empty_engine.connect() as conn:
        jan = conn.execute(select(m.IndicatorValue.numerator, m.IndicatorValue.denominator)
                           .join(m.Practice, m.Practice.id == m.IndicatorValue.practice_id)
                           .where(m.IndicatorValue.indicator_code == "FFT_POSITIVE", m.Practice.code == "G82139",
                                  m.IndicatorValue.period_start == date(2025, 1, 1))).one()
    assert tuple(jan) == (3.0, 5.0)  # 3 "Very good" of 5 responses in January


def test_complaints_without_a_reference_update_in_place_when_resolved(empty_engine, config):
    federation(empty_engine, config)
    assert imp(empty_engine, config, FIXTURES / "complaints.csv").new == 3
    text = (FIXTURES / "complaints.csv").read_text(encoding="utf-8")
    resolved = text.replace('04/02/2025,,,"Could not', '04/02/2025,20/02/2025,Upheld,"Could not')
    assert resolved != text
    again = imp(empty_engine, config, csv_bytes(resolved), "complaints.csv")
    assert (again.new, again.updated, again.unchanged) == (0, 1, 2), again.summary()
    assert count(empty_engine, m.Complaint) == 3
    assert count(empty_engine, m.Complaint, m.Complaint.resolved_on == date(2025, 2, 20)) == 1


def test_significant_events_keep_their_own_references(empty_engine, config):
    federation(empty_engine, config)
    imp(empty_engine, config, FIXTURES / "significant_events.csv")
    with empty_engine.connect() as conn:
        refs = set(conn.execute(select(m.SignificantEvent.reference)).scalars())
    assert refs == {"SEA-2025-01", "SEA-2025-02", "SEA-2025-03"}


def test_indicator_values_template_computes_the_value(empty_engine, config):
    federation(empty_engine, config)
    assert imp(empty_engine, config, FIXTURES / "indicator_values.csv").imported
    with empty_engine.connect() as conn:
        value = conn.execute(select(m.IndicatorValue.value).where(
            m.IndicatorValue.indicator_code == "CERVICAL_SCREENING")).scalar_one()  # code written in lower case
    assert value == pytest.approx(76.0)


def test_each_import_is_a_batch_with_the_user_and_an_audit_event(empty_engine, config):
    result = federation(empty_engine, config)
    with empty_engine.connect() as conn:
        batch = conn.execute(select(m.ImportBatch.__table__).where(m.ImportBatch.id == result.batch_id)).one()
        practice = conn.execute(select(m.Practice.batch_id).where(m.Practice.code == "G82139")).scalar_one()
    data = (FIXTURES / "practices.csv").read_bytes()
    assert (batch.kind, batch.file_name, batch.imported_by) == ("practices", "practices.csv", ADMIN.email)
    assert batch.sha256 == hashlib.sha256(data).hexdigest()
    assert (batch.rows_new, batch.rows_updated, batch.rows_unchanged) == (8, 0, 0)
    assert practice == result.batch_id
    assert audit_actions(empty_engine) == ["import"]


def test_dry_run_counts_but_writes_nothing(empty_engine, config):
    federation(empty_engine, config)
    before = snapshot(empty_engine)
    result = imp(empty_engine, config, FIXTURES / "staff.csv", dry_run=True)
    assert not result.refused and result.new == 5 and result.batch_id is None
    assert snapshot(empty_engine) == before


def test_only_administrators_may_import(empty_engine, config):
    federation(empty_engine, config)
    before = snapshot(empty_engine)
    board = Viewer("board@federation.invalid", "board")
    with pytest.raises(AccessDenied):
        imp(empty_engine, config, FIXTURES / "staff.csv", viewer=board)
    assert snapshot(empty_engine) == before


def test_templates_download_with_a_guide(config):
    assert set(TEMPLATE_KINDS) == {"practices", "staff", "training", "fft_responses", "indicator_values",
                                   "complaints", "significant_events", "staff_survey", "ppg_meetings",
                                   "premises_checks", "workforce", "abuse_incidents"}
    header = template_csv("complaints").decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:6] == ["practice_code", "received_on", "category", "acknowledged_on", "resolved_on", "outcome"]
    assert "reference" in header
    guide = template_guide("training")
    assert list(guide["needed"]) == ["required column"] * 3 + ["optional column"]
    assert guide["what to put in it"].str.len().min() > 10


def test_a_downloaded_template_with_its_example_row_imports(empty_engine, config):
    federation(empty_engine, config)
    result = imp(empty_engine, config, template_csv("practices", with_example=True), "practices.csv")
    assert result.imported, result.summary()


def test_inspection_previews_the_file_and_names_the_format(config):
    seen = inspect_file(FIXTURES / "fft_responses.csv")
    assert seen.kind == "fft_responses" and seen.encoding == "UTF-8" and seen.header_row == 1
    assert list(seen.preview.columns[:3]) == ["practice_code", "response_date", "rating"]
    assert len(seen.preview) == 10


# --------------------------------------------------------------------------------------------------------------------
# Bad input: a clear error and an unchanged database
# --------------------------------------------------------------------------------------------------------------------
def refused(engine, config, source, file_name=None, **options):
    before = snapshot(engine)
    result = imp(engine, config, source, file_name, **options)
    assert result.refused, result.summary()
    assert snapshot(engine) == before, "a refused file must write nothing"
    assert audit_actions(engine)[-1] == "import_refused"
    return result


def test_every_problem_in_a_file_is_reported_at_once_with_row_column_value_and_reason(empty_engine, config):
    federation(empty_engine, config)
    result = refused(empty_engine, config, FIXTURES / "staff_bad.csv")
    got = {(int(p.row), p.column, p.value) : p.problem for p in problems(result).itertuples()}
    assert got == {
        (2, "start_date", "31/02/2024"): "is not a real start date (there is no such day)",
        (3, "name", ""): "is empty: a name is needed here",
        (3, "role", "Doctor"): got[(3, "role", "Doctor")],
        (4, "practice_code", "G99999"): got[(4, "practice_code", "G99999")],
        (5, "staff_id", "S101"): "repeats row 2: each staff id may appear only once",
        (6, "start_date", "01/01/2999"): got[(6, "start_date", "01/01/2999")],
        (7, "start_date", "1/1/20"): got[(7, "start_date", "1/1/20")],
        (8, "start_date", "yesterday"): got[(8, "start_date", "yesterday")],
    }
    assert got[(3, "role", "Doctor")].startswith("is not one of the federation's roles: GP, Nurse")
    assert "not a practice in the federation" in got[(4, "practice_code", "G99999")]
    assert "in the future" in got[(6, "start_date", "01/01/2999")]
    assert "four digits" in got[(7, "start_date", "1/1/20")]
    assert "dd/mm/yyyy" in got[(8, "start_date", "yesterday")]


def test_missing_and_unknown_columns_are_named(empty_engine, config):
    federation(empty_engine, config)
    text = "staff_id,name,role,practice_code,started_on\nS1,A B,GP,G82139,01/01/2020\n"
    result = refused(empty_engine, config, csv_bytes(text), "staff.csv", kind="staff")
    reasons = {p.column: p.problem for p in problems(result).itertuples()}
    assert reasons["start_date"].startswith("is missing")
    assert "is not a column of the Staff (our template)" in reasons["started_on"]
    assert "did you mean 'start_date'" in reasons["started_on"]


def test_unknown_staff_in_a_training_file(empty_engine, config):
    with_staff(empty_engine, config)
    text = "staff_id,course,completed_on\nS001,Fire safety,01/03/2025\nS999,Fire safety,01/03/2025\n" \
           "S001,Underwater basket weaving,01/03/2025\n"
    result = refused(empty_engine, config, csv_bytes(text), "training.csv")
    got = {(int(p.row), p.column): p.problem for p in problems(result).itertuples()}
    assert set(got) == {(3, "staff_id"), (4, "course")}
    assert "not a known member of staff" in got[(3, "staff_id")]
    assert "not a course in the federation's training policy" in got[(4, "course")]


def test_future_dates_are_refused_and_uk_and_iso_dates_accepted(empty_engine, config):
    with_staff(empty_engine, config)
    good = "staff_id,course,completed_on\nS001,Fire safety,30/06/2025\nS002,Fire safety,2025-06-29\n"
    assert imp(empty_engine, config, csv_bytes(good), "t.csv").imported
    bad = "staff_id,course,completed_on\nS003,Fire safety,01/07/2025\n"
    result = refused(empty_engine, config, csv_bytes(bad), "t.csv")
    assert "in the future" in problems(result)["problem"].iloc[0]


def test_ratings_off_the_scale_and_two_digit_years(empty_engine, config):
    federation(empty_engine, config)
    result = refused(empty_engine, config, FIXTURES / "fft_bad.csv")
    got = {(int(p.row), p.column): p.problem for p in problems(result).itertuples()}
    assert set(got) == {(2, "rating"), (3, "response_date"), (4, "rating")}
    assert got[(2, "rating")].startswith("is not an FFT rating")


def test_negative_counts_numerator_above_denominator_and_unknown_indicators(empty_engine, config):
    federation(empty_engine, config)
    result = refused(empty_engine, config, FIXTURES / "indicator_values_bad.csv")
    got = {(int(p.row), p.column): p.problem for p in problems(result).itertuples()}
    assert got == {
        (2, "numerator"): "is more than the denominator: a percentage cannot be above 100%",
        (3, "numerator"): "is negative: it cannot be below zero",
        (4, "indicator_code"): "is not an indicator code in the federation's catalogue (federation.toml)",
        (5, "indicator_code"): got[(5, "indicator_code")],
        (6, "period_end"): "is before the period start",
        (7, "numerator"): "is not a number",
    }
    assert "calculated by the dashboard" in got[(5, "indicator_code")]


def test_duplicates_inside_the_file(empty_engine, config):
    federation(empty_engine, config)
    text = ("indicator_code,practice_code,period_start,period_end,numerator,denominator\n"
            "DM_HBA1C,G82139,01/01/2025,31/01/2025,1,2\nDM_HBA1C,G82653,01/01/2025,31/01/2025,1,2\n"
            "DM_HBA1C,G82139,2025-01-01,2025-01-31,1,3\n")
    result = refused(empty_engine, config, csv_bytes(text), "values.csv")
    row = problems(result).iloc[0]
    assert (row["row"], row["problem"]) == (4, "repeats row 2: the same indicator, practice and period start "
                                                "appear twice")


def test_empty_file_header_only_not_a_table_and_too_large(empty_engine, config):
    federation(empty_engine, config)
    assert "empty" in problems(refused(empty_engine, config, b"", "empty.csv"))["problem"].iloc[0]
    header_only = refused(empty_engine, config, csv_bytes("staff_id,name,role,practice_code,start_date\n"), "s.csv")
    assert problems(header_only)["problem"].iloc[0] == "The file has a header row but no data rows."
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    assert "not a table" in problems(refused(empty_engine, config, png, "photo.csv"))["problem"].iloc[0]
    prose = csv_bytes("Dear practice manager\nPlease find the figures attached\nThanks\n")
    assert "does not look like a table" in problems(refused(empty_engine, config, prose, "x.csv"))["problem"].iloc[0]
    big = refused(empty_engine, config, FIXTURES / "fft_responses.csv", max_bytes=100)
    assert "largest file the importer accepts" in problems(big)["problem"].iloc[0]


def test_unrecognised_columns_name_the_closest_format(empty_engine, config):
    result = refused(empty_engine, config, csv_bytes("colour,size\nred,3\n"), "x.csv")
    assert "does not recognise" in problems(result)["problem"].iloc[0]


def test_a_damaged_csv_row_is_reported_with_its_line(empty_engine, config):
    federation(empty_engine, config)
    text = "staff_id,name,role,practice_code,start_date\nS1,A,GP,G82139,01/01/2020\nS2,B,GP,G82139,01/01/2020,extra\n"
    for data in (text, text.replace("\nS2", "\n\nS2")):  # with a blank line the slower, line-exact reader is used
        result = refused(empty_engine, config, csv_bytes(data), "staff.csv")
        row = problems(result).iloc[0]
        assert row["problem"].startswith("has 6 values but the header has 5"), row["problem"]
        assert row["row"] == (3 if data == text else 4)


def test_a_bad_row_at_the_end_of_a_long_file_writes_nothing_at_all(empty_engine, config):
    """Rows are written chunk by chunk inside one transaction: a problem in the last chunk undoes the first ones."""
    federation(empty_engine, config)
    lines = ["practice_code,response_date,rating,comment"]
    lines += [f"G82139,01/03/2025,Good,comment {i}" for i in range(250)]
    lines.append("G82139,01/03/2025,Superb,")
    result = refused(empty_engine, config, csv_bytes("\n".join(lines) + "\n"), "fft.csv", chunk_rows=100)
    assert result.rows == 251 and result.errors == 1
    assert count(empty_engine, m.FFTResponse) == 0


def test_errors_csv_makes_formula_values_harmless(empty_engine, config):
    federation(empty_engine, config)
    text = "practice_code,response_date,rating,comment\nG82139,01/03/2025,=1+1,\n"
    result = refused(empty_engine, config, csv_bytes(text), "fft.csv")
    table = pd.read_csv(io.BytesIO(result.problems_csv()), dtype=str, encoding="utf-8-sig")
    assert table.loc[0, "value"] == "'=1+1"
