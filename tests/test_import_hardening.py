"""Imports under attack and carelessness (issue 11 findings 3, 5, 7, 8, 9, 11; issue 13 item 4): limits before parsing,
XLSX read without trusting its dimension, every failure a plain refusal (CLI exit 2, audited, page message), finite
in-range numbers and sane dates only, natural keys for rows without ids, concurrent imports on PostgreSQL, and
published files that are not what they look like refused in one line. Both backends unless said otherwise."""
from __future__ import annotations

import io
import re
import threading
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from data_layer import models as m
from data_layer.db import get_engine
from data_layer.imports import ImportOptions, inspect_file, run_import
from data_layer.imports.limits import Limits
from tests.conftest import SHARED_NHS
from tests.test_imports import ADMIN, FIXTURES, TODAY, audit_actions, count, federation, imp, snapshot, with_staff
from tests.test_imports_cli import cli

PRACTICES_HEADER = ["practice_code", "practice_name", "pcn", "list_size", "contract_type"]
FIVE_PRACTICES = [["Z90001", "One Surgery", "North PCN", 5000, "GMS"], ["Z90002", "Two Surgery", "North PCN", 6000, "GMS"],
                  ["Z90003", "Three Surgery", "North PCN", 7000, "PMS"], ["Z90004", "Four Surgery", "", 8000, "GMS"],
                  ["Z90005", "Five Surgery", "", 9000, "APMS"]]


def workbook_bytes(header, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite_zip(data: bytes, replace: dict, stream: dict | None = None) -> bytes:
    """A copy of the zip with some members' bytes replaced (``replace``: name -> function of the old bytes) and some
    written from an iterator of blocks (``stream``: name -> callable returning the blocks), at compression level 1."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                    compresslevel=1) as dst:
        for info in src.infolist():
            if stream and info.filename in stream:
                with dst.open(info.filename, "w", force_zip64=True) as fh:
                    for block in stream[info.filename]():
                        fh.write(block)
                continue
            body = src.read(info.filename)
            if info.filename in replace:
                body = replace[info.filename](body)
            dst.writestr(info.filename, body)
    return out.getvalue()


def only_error(result) -> str:
    errors = result.problems(("error",))
    assert result.refused and len(errors) == 1, result.summary()
    return str(errors["problem"].iloc[0])


# --------------------------------------------------------------------------------------------------------------------
# Finding 3: an XLSX zip bomb is refused from its zip directory, before anything is unpacked
# --------------------------------------------------------------------------------------------------------------------
def xlsx_with_shared_strings(header, rows, giant_mib: int = 0) -> bytes:
    """A minimal workbook whose text cells are shared strings (as Excel writes them); with ``giant_mib``, the last
    row's name is one shared string of that many MiB of 'A' (about 1 MB compressed per 200 MiB)."""
    strings: list[str] = []
    NUMBER, TEXT = "", ' t="s"'

    def ref(v) -> str:
        if isinstance(v, (int, float)):
            return f"<v>{v}</v>"
        strings.append(str(v))
        return f"<v>{len(strings) - 1}</v>"

    body = []
    for r, row in enumerate([header, *rows], start=1):
        cells = "".join(f'<c r="{chr(65 + c)}{r}"{NUMBER if isinstance(v, (int, float)) else TEXT}>{ref(v)}</c>'
                        for c, v in enumerate(row))
        body.append(f'<row r="{r}">{cells}</row>')
    if giant_mib:
        body[-1] = body[-1].replace("</row>", f'<c r="F{len(body)}" t="s"><v>{len(strings)}</v></c></row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    members = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet '
        'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'
        + "".join(body) + "</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, xml in members.items():
            zf.writestr(name, xml)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {ns}>'.encode())
            for t in strings:
                fh.write(f"<si><t>{t}</t></si>".encode())
            if giant_mib:
                fh.write(b"<si><t>")
                block = b"A" * (1 << 20)
                for _ in range(giant_mib):
                    fh.write(block)
                fh.write(b"</t></si>")
            fh.write(b"</sst>")
    return out.getvalue()


def bomb(declared_mib: int) -> bytes:
    return xlsx_with_shared_strings(PRACTICES_HEADER, FIVE_PRACTICES, giant_mib=declared_mib)


def test_an_xlsx_zip_bomb_is_refused_in_plain_words_with_memory_bounded(empty_engine, config):
    data = bomb(300)
    assert len(data) < 3 * 2**20  # a small upload …
    federation(empty_engine, config)
    before = snapshot(empty_engine)
    tracemalloc.start()
    try:
        result = imp(empty_engine, config, data, "bomb.xlsx")
        seen = inspect_file(data, "bomb.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = only_error(result)
    assert "would unpack to" in message and "not read" in message, message
    assert seen.problem == message
    assert peak < 64 * 2**20 + 3 * len(data)  # … that is never unpacked (it would take 300 MB and more)
    assert snapshot(empty_engine) == before
    assert audit_actions(empty_engine)[-1] == "import_refused"


def test_xlsx_limits_on_total_size_and_shared_strings_come_from_the_directory(empty_engine, config):
    federation(empty_engine, config)
    data = xlsx_with_shared_strings(PRACTICES_HEADER, FIVE_PRACTICES)
    small = imp(empty_engine, config, data, "p.xlsx", limits=Limits(xlsx_uncompressed_bytes=2000))
    assert "would unpack to" in only_error(small)
    strings = imp(empty_engine, config, data, "p.xlsx", limits=Limits(xlsx_shared_strings_bytes=100))
    assert "text cells take" in only_error(strings)
    assert imp(empty_engine, config, data, "p.xlsx").imported  # the same workbook within the default limits


def test_a_cell_longer_than_excel_allows_is_refused_naming_the_row(empty_engine, config):
    federation(empty_engine, config)
    long_comment = "x" * 40_000
    data = f'practice_code,response_date,rating,comment\nG82139,03/02/2025,Good,ok\nG82139,03/02/2025,Good,{long_comment}\n'
    message = only_error(imp(empty_engine, config, data.encode(), "long.csv"))
    assert "Row 3" in message and "32,767" in message, message
    rows = imp(empty_engine, config, FIXTURES / "fft_responses.csv", limits=Limits(max_rows=3))
    assert "more than 3 rows" in only_error(rows)


# --------------------------------------------------------------------------------------------------------------------
# Finding 5: XLSX rows are all read, whatever <dimension> says
# --------------------------------------------------------------------------------------------------------------------
def test_an_xlsx_whose_dimension_understates_its_rows_imports_every_row(empty_engine, config):
    data = workbook_bytes(PRACTICES_HEADER, FIVE_PRACTICES)
    lying = rewrite_zip(data, {"xl/worksheets/sheet1.xml": lambda b: re.sub(rb'<dimension ref="[^"]*"',
                                                                             b'<dimension ref="A1:E2"', b)})
    assert b'ref="A1:E2"' in zipfile.ZipFile(io.BytesIO(lying)).read("xl/worksheets/sheet1.xml")
    result = imp(empty_engine, config, lying, "practices.xlsx")
    assert result.imported and result.rows == 5 and result.new == 5, result.summary()
    assert count(empty_engine, m.Practice) == 5


# --------------------------------------------------------------------------------------------------------------------
# Finding 8 (and 11, NUL): every failure is one plain refusal, audited; the CLI exits 2; the page shows the words
# --------------------------------------------------------------------------------------------------------------------
FFT_HEAD = b"practice_code,response_date,rating,comment\n"
GOOD_ROW = b"G82139,03/02/2025,Good,fine\n"
BAD_FILES = {
    "unclosed_quote.csv": (FFT_HEAD + GOOD_ROW + b'G82139,03/02/2025,Very good,"never closed\n' + GOOD_ROW * 3,
                           "never closed"),
    "bom_then_latin1.csv": (b"\xef\xbb\xbf" + FFT_HEAD + b"G82139,03/02/2025,Good,caf\xe9\n", "mixes two encodings"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nests 100,000 levels deep"),
    "nul_late.csv": (FFT_HEAD + GOOD_ROW * 400 + b"G82139,03/02/2025,Good,a\x00b\n", "zero byte"),
    "nul_early.csv": (FFT_HEAD + b"G82139,03/02/2025,Good,a\x00b\n", "zero byte"),
    "nul_in_json.json": (b'[{"practice_code": "G82139", "response_date": "03/02/2025", "rating": "Good", '
                         b'"comment": "a\\u0000b"}]', "zero byte"),
    "empty.csv": (b"", "empty"),
    "blank_lines.csv": (b"\n\n  \n", "empty"),
    "picture.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a table"),
    "random.bin": (bytes((i * 7919 + 13) % 255 + 1 for i in range(6000)), "not a table"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_damaged_file_is_one_plain_refusal_audited_and_writes_nothing(empty_engine, config, name):
    data, words = BAD_FILES[name]
    federation(empty_engine, config)
    before = snapshot(empty_engine)
    result = imp(empty_engine, config, data, name)
    message = only_error(result)
    assert words in message, message
    if name == "unclosed_quote.csv":
        assert result.problems()["row"].tolist() == [3]  # where the stray quote is
    assert "Traceback" not in message and "Error" not in message.split(":")[0]
    assert snapshot(empty_engine) == before
    assert audit_actions(empty_engine)[-1] == "import_refused"
    seen = inspect_file(data, name)
    assert seen.problem or seen.kind  # the page's first look never raises either


def test_the_cli_exits_2_with_the_plain_message_and_an_audit_row_for_each_damaged_file(empty_url, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("the command line is exercised on SQLite; the importer itself on both backends")
    assert cli(empty_url, str(FIXTURES / "practices.csv")).returncode == 0
    for name, (data, words) in BAD_FILES.items():
        path = tmp_path / name
        path.write_bytes(data)
        done = cli(empty_url, str(path))
        assert done.returncode == 2, (name, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr and "unexpected" not in done.stderr, name
    with get_engine(empty_url).connect() as conn:
        refused = conn.execute(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "import_refused")).scalar_one()
    assert refused == len(BAD_FILES)


def test_the_import_page_shows_the_plain_message_for_a_damaged_file(fresh_databases, backend, monkeypatch):
    from tests.apptest_util import visible_text
    from tests.test_imports_page import open_import_page, upload

    if backend != "sqlite":
        pytest.skip("the page is exercised on SQLite")
    from tests.conftest import ROOT

    monkeypatch.setenv("DATABASE_URL", fresh_databases.url(backend))
    monkeypatch.chdir(ROOT)
    at = open_import_page()
    for name in ("bom_then_latin1.csv", "deep.json", "unclosed_quote.csv"):
        data, words = BAD_FILES[name]
        at = upload(at, name, data)
        assert not at.exception, name
        assert at.error, name  # said as an error …
        shown = visible_text(at)  # … in words: in the message or the problems table below it
        assert words in shown and "Traceback" not in shown, (name, shown)


# --------------------------------------------------------------------------------------------------------------------
# Finding 7: finite, in-range numbers; sane dates and real times
# --------------------------------------------------------------------------------------------------------------------
def refused_rows(result, column) -> dict[int, str]:
    errors = result.problems(("error",))
    errors = errors[errors["column"] == column]
    return dict(zip(errors["row"].astype(int), errors["problem"]))


def test_training_hours_must_be_finite_and_in_range(empty_engine, config):
    with_staff(empty_engine, config)
    data = ("staff_id,course,completed_on,hours\n"
            "S001,Fire safety,14/03/2025,Infinity\nS001,IG,14/03/2025,1e400\nS002,IG,14/03/2025,NaN\n"
            "S003,IG,14/03/2025,-inf\nS004,IG,14/03/2025,5000\nS005,IG,14/03/2025,2.5\n")
    result = imp(empty_engine, config, data.encode(), "training.csv")
    bad = refused_rows(result, "hours")
    assert sorted(bad) == [2, 3, 4, 5, 6], result.problems()
    assert "finite" in bad[2] and "finite" in bad[3] and "finite" in bad[5]
    assert "not a number" in bad[4] and "above 1,000" in bad[6]
    assert count(empty_engine, m.TrainingCompletion) == 0


def test_a_numerator_of_1e400_is_refused(empty_engine, config):
    federation(empty_engine, config)
    data = ("indicator_code,practice_code,period_start,period_end,numerator,denominator\n"
            "DM_HBA1C,G82139,01/01/2025,31/01/2025,1e400,598\n")
    bad = refused_rows(imp(empty_engine, config, data.encode(), "values.csv"), "numerator")
    assert list(bad) == [2] and "finite" in bad[2]
    assert count(empty_engine, m.IndicatorValue) == 0


def test_list_sizes_with_percent_or_pound_signs_are_refused_naming_the_column(empty_engine, config):
    federation(empty_engine, config)
    data = ("practice_code,practice_name,pcn,list_size,contract_type\n"
            "G82139,A Surgery,Mpa PCN,85%,GMS\nG82653,B Surgery,Mpa PCN,£9800,GMS\nG82741,C Surgery,Mpa PCN,\"9,8\",GMS\n"
            "G82002,D Surgery,,\"9,800\",GMS\n")
    result = imp(empty_engine, config, data.encode(), "practices.csv")
    bad = refused_rows(result, "list_size")
    assert "numbers with % or £ are not accepted in column 'list_size'" in bad[2]
    assert "numbers with % or £ are not accepted" in bad[3]
    assert "not a number" in bad[4]  # a decimal comma is not guessed
    assert 5 not in bad  # 9,800 is a thousands separator
    with empty_engine.connect() as conn:
        assert conn.execute(select(m.Practice.list_size).where(m.Practice.code == "G82139")).scalar_one() == 9800


def test_dates_before_sane_years_and_impossible_times_are_refused(empty_engine, config):
    with_staff(empty_engine, config)
    data = ("practice_code,response_date,rating,comment\n"
            "G82139,03/02/1900,Very good,a\nG82139,1989-12-31,Good,b\nG82139,2025-02-03 25:99,Good,c\n"
            "G82139,2025-02-03 23:59,Good,d\nG82139,1990-01-01,Good,e\n")
    bad = refused_rows(imp(empty_engine, config, data.encode(), "fft.csv"), "response_date")
    assert sorted(bad) == [2, 3, 4]
    assert "before 1990" in bad[2] and "before 1990" in bad[3] and "time of day" in bad[4]
    staff = ("staff_id,name,role,practice_code,start_date,end_date\n"
             "S100,Old Hand,GP,G82139,01/04/1975,\nS101,Zero Date,GP,G82139,01/01/1900,\n")
    bad = refused_rows(imp(empty_engine, config, staff.encode(), "staff.csv"), "start_date")
    assert list(bad) == [3] and "before 1948" in bad[3]  # 1975 is a real start date; 1900 never


def test_json_nan_or_infinity_as_an_id_is_refused(empty_engine, config):
    federation(empty_engine, config)
    for constant in ("NaN", "Infinity"):
        data = ('[{"staff_id": %s, "name": "A B", "role": "Nurse", "practice_code": "G82139", '
                '"start_date": "2020-01-01"}]' % constant).encode()
        assert constant in only_error(imp(empty_engine, config, data, "staff.json"))
    assert count(empty_engine, m.Staff) == 0


# --------------------------------------------------------------------------------------------------------------------
# Finding 9: re-imports of files without ids update rather than add
# --------------------------------------------------------------------------------------------------------------------
def fft_file(rows) -> bytes:
    lines = ["practice_code,response_date,rating,comment,comment_2,mode"]
    lines += [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def test_a_corrected_fft_file_without_ids_updates_the_corrected_rows(empty_engine, config):
    federation(empty_engine, config)
    original = [["G82139", f"{d:02d}/02/2025", rating, comment, "", "SMS"]
                for d in range(1, 11) for rating, comment in (("Very good", "great service"), ("Good", ""),
                                                              ("Good", ""))]  # identical rows repeat
    first = imp(empty_engine, config, fft_file(original), "fft_feb.csv")
    assert first.imported and first.new == 30
    corrected = [[p, f"2025-02-{d[:2]} 09:30", r, c, c2, mode] for p, d, r, c, c2, mode in original]  # ISO dates
    corrected[2][5] = "Online"  # mode corrected (row 4 of the file)
    corrected[5][4] = "Nothing to improve"  # second comment filled in (row 7)
    corrected[9][3] = "Great service."  # the comment's case and punctuation corrected (row 11)
    corrected += [["G82139", "2025-02-11", "Poor", "late", "", "SMS"], ["G82139", "2025-02-11", "Good", "", "", "SMS"]]
    second = imp(empty_engine, config, fft_file(corrected), "fft_feb_corrected.csv")
    assert (second.new, second.updated, second.unchanged) == (2, 3, 27), second.summary()
    assert second.changed_rows == {"new": [32, 33], "updated": [4, 7, 11]}
    assert "Rows updated (3): 4, 7, 11." in second.summary() and "Rows new (2): 32, 33." in second.summary()
    assert count(empty_engine, m.FFTResponse) == 32
    with empty_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.FFTResponse).where(
            m.FFTResponse.mode == "Online")).scalar_one() == 1


def test_a_corrected_complaint_without_a_reference_is_updated_not_doubled(empty_engine, config):
    federation(empty_engine, config)
    head = "practice_code,received_on,category,acknowledged_on,resolved_on,outcome,summary\n"
    imp(empty_engine, config, (head + "G82139,03/02/2025,Telephone access,04/02/2025,,,Could not get through\n"
                               ).encode(), "complaints.csv")
    fixed = imp(empty_engine, config, (head + "G82139,2025-02-03,telephone access,04/02/2025,14/03/2025,Upheld,"
                                       "Could not get through at 8am\n").encode(), "complaints.csv")
    assert (fixed.new, fixed.updated) == (0, 1), fixed.summary()
    assert count(empty_engine, m.Complaint) == 1
    with empty_engine.connect() as conn:
        assert conn.execute(select(m.Complaint.outcome)).scalar_one() == "Upheld"


# --------------------------------------------------------------------------------------------------------------------
# Finding 11: two imports of the same file at once on PostgreSQL take turns
# --------------------------------------------------------------------------------------------------------------------
def two_imports_at_once(empty_engine, config):
    """The same file imported twice, the second starting while the first has written its rows but not committed;
    returns both results (or what each raised)."""
    first_saving = threading.Event()
    release = threading.Event()
    results: dict[str, object] = {}

    def hold_before_commit(fraction, words):
        if words.startswith("Saving"):
            first_saving.set()
            release.wait(120)

    def run(name, progress=None):
        try:
            results[name] = run_import(empty_engine, config, ADMIN, FIXTURES / "staff.csv",
                                       options=ImportOptions(today=TODAY), progress=progress)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            results[name] = exc

    a = threading.Thread(target=run, args=("first", hold_before_commit))
    a.start()
    assert first_saving.wait(120)  # the first import has written its rows and not committed
    b = threading.Thread(target=run, args=("second",))
    b.start()
    with empty_engine.connect() as conn:  # wait until the second import is waiting for a lock (of any kind)
        for _ in range(1200):
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                break
            conn.rollback()
            threading.Event().wait(0.1)
        else:
            pytest.fail("the second import never waited")
    release.set()
    a.join(120)
    b.join(120)
    return results["first"], results["second"]


def test_two_concurrent_imports_of_the_same_file_take_turns_on_postgresql(empty_engine, config, backend):
    if backend != "postgresql":
        pytest.skip("SQLite writes one transaction at a time by itself")
    federation(empty_engine, config)
    first, second = two_imports_at_once(empty_engine, config)
    assert not isinstance(first, BaseException) and first.imported and first.new == 5
    assert not isinstance(second, BaseException), repr(second)
    assert second.imported and (second.new, second.unchanged) == (0, 5), second.summary()
    assert count(empty_engine, m.Staff) == 5


def test_without_the_lock_a_collision_is_still_a_plain_refusal(empty_engine, config, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("SQLite writes one transaction at a time by itself")
    import data_layer.imports.pipeline as pipeline

    federation(empty_engine, config)
    monkeypatch.setattr(pipeline, "_one_import_at_a_time", lambda conn, fmt: None)
    first, second = two_imports_at_once(empty_engine, config)
    assert not isinstance(first, BaseException) and first.imported
    assert not isinstance(second, BaseException), repr(second)  # not a raw UniqueViolation
    assert "Another import wrote the same rows" in only_error(second)
    assert count(empty_engine, m.Staff) == 5


# --------------------------------------------------------------------------------------------------------------------
# Issue 13 item 4: detection prefers complete matches; a file that is not of its format is said so in one line
# --------------------------------------------------------------------------------------------------------------------
# Payments to General Practice, the long immunisations file and populations by single year of age are read now
# (tests/test_imports_published_more.py); a document beside the data (a README or PROVENANCE.md naming the columns)
# is refused in one line that says what it is.
PROVENANCE = SHARED_NHS / "06_payments_to_general_practice" / "PROVENANCE.md"


def test_a_document_beside_the_data_is_refused_in_one_line(empty_engine, config, tmp_path):
    federation(empty_engine, config)
    readme = tmp_path / "README.md"
    readme.write_text("# Payments\nColumns: Practice Code, Number of Registered Patients (Last Known Figure), "
                      "Number of Weighted Patients (Last Known Figure), Total NHS Payments to General Practice\n")
    for path in (readme, PROVENANCE) if PROVENANCE.exists() else (readme,):
        message = only_error(imp(empty_engine, config, path))
        assert message == (f"{path.name} is a text document (Markdown), not a table of data, so it is not imported "
                           "(import the CSV, XLSX or JSON file it describes).")
        assert inspect_file(path).problem == message


def test_a_file_with_more_problems_than_rows_is_probably_not_of_that_format(empty_engine, config):
    federation(empty_engine, config)
    rows = "".join(f"G82139,{d:02d}/02/2025,Excellent,{d}\nG82139,99/99/2025,Brilliant,x\n" for d in range(1, 16))
    # Hand-chosen kind: 30 rows, 45 problems (bad ratings and dates)
    result = imp(empty_engine, config, (FFT_HEAD + rows.encode()), "odd.csv", kind="fft_responses")
    message = only_error(result)
    assert message.startswith("This is probably not a FFT responses (our template) file: its 30 rows gave 45 "
                              "problems"), message
    assert "is not an FFT rating" in message


def test_the_wide_table_takes_the_practice_code_column_over_another_code(empty_engine, config):
    federation(empty_engine, config)
    data = ("Code,Sub ICB NAME,Practice Code,Smoking prevalence\n91Q,Kent,G82139,17.5\n91Q,Kent,G82653,12.25\n")
    seen = inspect_file(data.encode(), "wide.csv")
    assert seen.kind == "wide_indicators" and seen.headings["practice_code"] == "Practice Code"


def test_every_shared_nhs_file_is_read_or_refused_in_one_line(empty_engine, config, backend):
    if backend != "sqlite" or not SHARED_NHS.exists():
        pytest.skip("the published files are read once, on SQLite, where they are present")
    federation(empty_engine, config)
    for path in sorted(p for p in SHARED_NHS.rglob("*") if p.is_file() and p.suffix != ".md"):
        result = imp(empty_engine, config, path, dry_run=True)
        assert result.errors <= 1, (path.name, result.summary())
        if result.kind is None:  # not read: one line that says what the file is
            assert result.log.summary_lines("error", 1)[0].startswith("This is "), path.name


def test_value_limits_are_set_per_import_from_the_one_place(empty_engine, config):
    federation(empty_engine, config)
    fft = FFT_HEAD + b"G82139,03/02/1995,Good,fine\n"
    assert imp(empty_engine, config, fft, "fft.csv", dry_run=True).errors == 0
    strict = imp(empty_engine, config, fft, "fft.csv", dry_run=True, limits=Limits(earliest_event_year=2000))
    assert "before 2000" in only_error(strict)
    values = ("indicator_code,practice_code,period_start,period_end,numerator,denominator\n"
              "DM_HBA1C,G82139,01/01/2025,31/01/2025,500,598\n").encode()
    assert imp(empty_engine, config, values, "v.csv", dry_run=True).errors == 0
    small = imp(empty_engine, config, values, "v.csv", dry_run=True, limits=Limits(largest_number=100))
    assert "cannot be above 100" in " ".join(small.problems()["problem"])


def test_counts_beyond_what_the_database_holds_are_refused_before_writing(empty_engine, config):
    federation(empty_engine, config)
    head = (FIXTURES / "nhse_gp_fft_2025_01.csv").read_text().splitlines()[:2]
    cells = head[1].split(",")
    cells[5] = "5000000000"  # Very_Good: more than a 32-bit count (PostgreSQL would refuse the row raw)
    result = imp(empty_engine, config, ("\n".join([head[0], ",".join(cells)]) + "\n").encode(), "fft_jan.csv")
    assert any("cannot be above 10,000,000" in p for p in result.problems()["problem"]), result.summary()
    practices = "practice_code,practice_name,pcn,list_size,contract_type\nG82139,A,Mpa PCN,3000000000,GMS\n"
    bad = refused_rows(imp(empty_engine, config, practices.encode(), "p.csv"), "list_size")
    assert "cannot be above 1,000,000" in bad[2]
