"""Encodings and delimiters as Excel and survey systems write them (issue 13 item 5): UTF-16 with a byte-order mark and
tabs ("Unicode text"), semicolons, tabs, UTF-8 with and without BOM, Windows-1252 (also when its first accented letter
comes late in the file, or the file is too short for a statistical guess). Names arrive exactly as written. Both
backends."""
from __future__ import annotations

import codecs

import pytest
from sqlalchemy import select

from data_layer import models as m
from data_layer.imports import inspect_file
from tests.test_imports import federation, imp

ROWS = [("S001", "Zoë Nowak", "Nurse", "G82139", "01/09/2019"),
        ("S002", "Tom O'Brien", "GP", "G82139", "2015-04-01"),
        ("S003", "Smith, José", "Receptionist", "G82653", "14/02/2022"),  # a comma inside a value
        ("S004", "Siân Müller-Ørsted", "HCA", "G82741", "2021-06-07")]
HEADER = ("staff_id", "name", "role", "practice_code", "start_date")


def table(delimiter: str, newline: str = "\n", rows=ROWS) -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if delimiter in v or '"' in v else v

    return newline.join(delimiter.join(cell(v) for v in r) for r in [HEADER, *rows]) + newline


CASES = {
    # Excel "Unicode text": UTF-16 little-endian with BOM, tabs, CRLF
    "unicode_text": (codecs.BOM_UTF16_LE + table("\t", "\r\n").encode("utf-16-le"), "UTF-16"),
    "utf16_big_endian": (codecs.BOM_UTF16_BE + table("\t", "\r\n").encode("utf-16-be"), "UTF-16"),
    "utf16_commas": (table(",", "\r\n").encode("utf-16"), "UTF-16"),
    "semicolons": (table(";").encode("utf-8"), "UTF-8"),
    "tabs_utf8": (table("\t").encode("utf-8"), "UTF-8"),
    "utf8": (table(",").encode("utf-8"), "UTF-8"),
    "utf8_bom": (codecs.BOM_UTF8 + table(",", "\r\n").encode("utf-8"), "UTF-8 with BOM"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_staff_files_in_every_encoding_excel_writes_import_with_names_as_written(empty_engine, config, case):
    data, label = CASES[case]
    federation(empty_engine, config)
    seen = inspect_file(data, f"{case}.csv")
    assert not seen.problem and seen.kind == "staff", seen.problem
    assert seen.encoding.startswith(label)
    result = imp(empty_engine, config, data, f"{case}.csv")
    assert result.imported and result.new == 4, result.summary()
    with empty_engine.connect() as conn:
        names = dict(conn.execute(select(m.Staff.staff_code, m.Staff.name)).all())
    assert names == {r[0]: r[1] for r in ROWS}
    again = imp(empty_engine, config, data, f"{case}.csv")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)


def test_windows_1252_short_and_late_accents(empty_engine, config):
    federation(empty_engine, config)
    rows = [r for r in ROWS if r[0] != "S004"]  # Ø and â fit Windows-1252, but keep the file plainly 1252
    short = table(",", "\r\n", rows[:1]).encode("cp1252")  # "Zoë": too short for a statistical guess alone
    result = imp(empty_engine, config, short, "short.csv")
    assert result.imported and result.encoding == "Windows-1252", result.summary()
    # 300 KB of plain ASCII first, then the accents: the sample alone would say UTF-8
    filler = [(f"S{i:04d}", "Alex Brown", "GP", "G82139", "2015-04-01") for i in range(100, 9100)]
    late = table(",", "\r\n", filler + rows).encode("cp1252")
    assert late.index("Zoë".encode("cp1252")) > 256 * 1024
    result = imp(empty_engine, config, late, "late.csv")
    assert result.imported and result.encoding == "Windows-1252", result.summary()
    with empty_engine.connect() as conn:
        names = dict(conn.execute(select(m.Staff.staff_code, m.Staff.name).where(
            m.Staff.staff_code.in_(["S001", "S003"]))).all())
    assert names == {"S001": "Zoë Nowak", "S003": "Smith, José"}


def test_a_pound_sign_and_curly_quotes_in_windows_1252_are_read_as_such(empty_engine, config):
    federation(empty_engine, config)
    text = ("practice_code,response_date,rating,comment\r\n"
            "G82139,03/02/2025,Good,“Worth every £” – really\r\n")
    result = imp(empty_engine, config, text.encode("cp1252"), "fft.csv")
    assert result.imported and result.encoding == "Windows-1252", result.summary()
    with empty_engine.connect() as conn:
        assert conn.execute(select(m.FFTResponse.comment)).scalar_one() == "“Worth every £” – really"


def test_utf16_beyond_its_limit_is_refused_saying_how_to_save_it(empty_engine, config):
    from data_layer.imports.limits import Limits

    federation(empty_engine, config)
    data, _ = CASES["unicode_text"]
    result = imp(empty_engine, config, data, "big.txt", limits=Limits(utf16_bytes=100))
    assert result.refused and "CSV UTF-8" in result.log.summary_lines("error", 1)[0]
