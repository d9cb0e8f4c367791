"""Import messages a practice manager can act on (issue 15, item 10): a national file with none of the federation's
practices says so with both counts; no problem row reads "None"; skipped rows are counted as skipped, not imported;
a file's size is shown as it is."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from data_layer import models as m
from data_layer.imports import pipeline
from data_layer.imports.base import ImportOptions
from data_layer.imports.problems import ProblemLog, none_of_yours
from data_layer.scope import Viewer

ADMIN = Viewer("admin@example.org", "admin", name="Test administrator")
OURS = [f"G8{i:04d}" for i in range(1, 12)]  # the federation's 11 practices


@pytest.fixture
def eleven(empty_engine):
    with empty_engine.begin() as conn:
        conn.execute(insert(m.Practice), [{"code": c, "name": f"Practice {c}", "pcn": "Test PCN"} for c in OURS])
    return empty_engine


def _list_sizes(codes: list[str]) -> bytes:
    lines = ["EXTRACT_DATE,CODE,NUMBER_OF_PATIENTS"] + [f"01/01/2025,{c},{5000 + i}" for i, c in enumerate(codes)]
    return ("\n".join(lines) + "\n").encode()


def test_a_national_file_with_none_of_your_practices_says_how_many_it_has_and_which_are_yours(eleven, config):
    others = [f"Y{i:05d}" for i in range(1, 31)]
    result = pipeline.run_import(eleven, config, ADMIN, _list_sizes(others), "gp-reg-pat-prac-all.csv",
                                 ImportOptions(kind="list_sizes"))
    assert result.refused
    errors = result.problems(("error",))["problem"].tolist()
    assert any("None of the 30 practices in this file is one of your 11 (codes G800…)" in e for e in errors), errors
    assert "nothing could be imported" in errors[0] and "30 rows skipped" in result.summary()


def test_rows_for_other_practices_are_counted_as_skipped_not_imported(eleven, config):
    result = pipeline.run_import(eleven, config, ADMIN, _list_sizes(OURS[:3] + ["Y00001", "Y00002"]),
                                 "gp-reg-pat-prac-all.csv", ImportOptions(kind="list_sizes"))
    assert result.imported, result.summary()
    assert result.rows == 5 and result.skipped == 2
    head = result.summary().splitlines()[0]
    assert "3 of its 5 rows" in head, head
    assert "2 rows skipped" in result.summary()


def test_no_problem_row_reads_none():
    log = ProblemLog()
    log.error("The file has no data rows.")  # a problem of the whole file: no row, column or value
    log.skipped("practice outside the federation: row not imported", row=4, column="CODE", value=None)
    frame = log.frame()
    assert frame["column"].tolist() == ["", "CODE"] and frame["value"].tolist() == ["", ""]
    assert not frame[["column", "value", "problem"]].isin(["None", "nan"]).any().any()
    from ui.imports import problems_shown

    shown = problems_shown(frame)
    assert shown["row"].tolist() == ["–", "4"] and "severity" not in shown
    assert "None" not in shown.to_csv(index=False)


def test_which_practices_are_yours_in_words():
    log = ProblemLog()
    import numpy as np

    log.add_rows("skipped", "practice outside the federation: row not imported", np.array([2, 3, 4]),
                 "CODE", np.array(["A1", "A2", "A1"], dtype=object))
    assert none_of_yours(log, ["Z90001", "Z90002"]).startswith(
        "None of the 2 practices in this file is one of your 2 (codes Z9000…)")
    assert "is your practice (Z90001)" in none_of_yours(log, ["Z90001"])
    assert "has no practices" in none_of_yours(log, [])
    assert none_of_yours(ProblemLog(), ["Z90001"]) is None


@pytest.mark.parametrize("size, words", [(0, "0 bytes"), (1, "1 byte"), (512, "512 bytes"), (3 * 1024, "3.0 KB"),
                                         (3_300, "3.2 KB"), (48 * 1024, "48 KB"), (int(2.4 * 2**20), "2.4 MB")])
def test_a_file_size_in_words(size, words):
    from ui.imports import size_words

    assert size_words(size) == words


def test_the_import_page_shows_the_uploads_own_size():
    """The page takes the size from the upload itself, so a file refused before it is read is not '0 bytes'."""
    from tests.conftest import ROOT

    page = (ROOT / "pages" / "imports.py").read_text()
    assert "ui.size_words(upload.size" in page and "bytes\" if seen.size" not in page
