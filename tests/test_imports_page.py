"""The Import page, run in-process as the demo administrator on a database of its own: upload, detected format and
preview, the problems table with its download, the mapping table, the Import button and the history."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data_layer import models as m
from data_layer.db import get_engine
from tests.apptest_util import app, visible_text
from tests.conftest import ROOT

GOOD = (b"Practice Code,Response Date,Rating,Comment\n"
        b"Z90001,03/02/2025,Very good,\"Seen on time, lovely nurse\"\n"
        b"Z90002,04/02/2025,Poor,=HYPERLINK(\"x\")\n")
BAD = b"practice_code,response_date,rating,comment\nZ90001,31/02/2025,Very good,\nZ99999,01/02/2025,Excellent,\n"


@pytest.fixture
def own_app(fresh_databases, backend, monkeypatch):
    """A database for this test alone (the page writes), built as the demo federation on first start."""
    if backend != "sqlite":
        pytest.skip("the page is exercised once, on SQLite; the importer itself is tested on both backends")
    url = fresh_databases.url(backend)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


def open_import_page(role: str = "admin"):
    at = app(role=role, page="pages/imports.py")
    return at


def upload(at, name: str, data: bytes):
    at.file_uploader(key="import_upload").set_value((name, data, "text/csv"))
    return at.run()


def test_upload_check_and_import_a_file(own_app):
    at = open_import_page()
    assert not at.exception
    assert at.title[0].value == "Import data"
    at = upload(at, "fft_feb.csv", BAD)
    text = visible_text(at)
    assert "FFT responses (our template)" in text
    assert any("The file has 3 problems" in e.value for e in at.error)
    problems = at.dataframe[1].value
    assert list(problems["column"]) == ["response_date", "practice_code", "rating"]
    assert at.button[0].disabled  # Import stays off while the file has problems
    assert any(b.label == "Download the problems (CSV)" for b in at.get("download_button"))

    at = upload(at, "fft_feb.csv", GOOD)
    assert not at.error
    preview = at.dataframe[0].value
    assert preview["Comment"].tolist() == ["Seen on time, lovely nurse", '=HYPERLINK("x")']  # as written, as text
    assert [mt.value for mt in at.metric][:2] == ["2", "2"]
    import_button = next(b for b in at.button if b.label == "Import")
    assert not import_button.disabled
    at = import_button.click().run()
    assert not at.exception
    assert any("Imported 2 rows from fft_feb.csv: 2 new, 0 updated, 0 unchanged" in s.value for s in at.success)
    with get_engine(own_app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.ImportBatch).where(
            m.ImportBatch.kind == "fft_responses", m.ImportBatch.imported_by == "admin@demo.invalid")).scalar_one() == 1
    history = [d.value for d in at.dataframe if "file_name" in d.value.columns][0]
    assert history["file_name"].iloc[0] == "fft_feb.csv"


def test_practice_names_are_mapped_in_a_table(own_app):
    data = (b"time,rating,free_text,do_better,surgery\n"
            b"2025-02-03 10:00:00,Extremely likely,Lovely,,Kingfisher Medical Centre\n"
            b"2025-02-03 11:00:00,Likely,,,Old Name Surgery\n")
    at = open_import_page()
    at = upload(at, "export.csv", data)
    table = at.data_editor[0].value
    # A name that matches one of ours is chosen already; the other waits for the administrator.
    assert table.set_index("Name in the file")["Practice"].to_dict() == {
        "Kingfisher Medical Centre": "Kingfisher Medical Centre (Z90001)", "Old Name Surgery": "Not imported"}
    assert [mt.value for mt in at.metric][:2] == ["2", "1"]  # one response would be added, one skipped
    key = f"practice_map_export.csv_{len(data)}"
    at.session_state[key] = {"edited_rows": {1: {"Practice": "Oakwood Lane Surgery (Z90002)"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert [mt.value for mt in at.metric][:2] == ["2", "2"]


def test_templates_are_offered_with_guides(own_app):
    at = open_import_page()
    labels = [b.label for b in at.get("download_button")]
    from data_layer.imports.formats import BY_KIND, TEMPLATE_KINDS

    assert labels.count("Download the template (CSV)") == len(TEMPLATE_KINDS) >= 12  # every template, records too
    expanders = [e.label for e in at.expander]
    assert all(BY_KIND[k].label in expanders for k in TEMPLATE_KINDS)
    assert "Training completions (our template)" in expanders


def test_the_page_is_not_there_for_a_board_member(own_app):
    at = app(role="board")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/imports.py")
