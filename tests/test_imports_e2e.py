"""The Import page in real Chromium: upload a file with problems (see them, Import stays off), then a good file
(preview, no problems), import it, and find it in the history. Runs once, on SQLite, against its own database."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data_layer import models as m
from data_layer.db import get_engine
from tests.e2e_util import assert_no_exception, browser, needs_chromium, streamlit_server, wait_idle

pytestmark = needs_chromium

BAD = "practice_code,response_date,rating,comment\nZ90001,31/02/2025,Very good,\nZ99999,01/02/2025,Excellent,\n"
GOOD = ("Practice Code,Response Date,Rating,Comment\nZ90001,03/02/2025,Very good,\"Seen on time, lovely nurse\"\n"
        "Z90002,04/02/2025,Poor,<b>not bold</b>\n")


def test_upload_preview_problems_and_import_in_chromium(fresh_databases, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("the browser test runs once, on SQLite")
    url = fresh_databases.url("sqlite")
    bad, good = tmp_path / "fft_bad.csv", tmp_path / "fft_feb.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    with streamlit_server(url) as base, browser() as b:
        pg = b.new_page(viewport={"width": 1400, "height": 2400})
        pg.goto(base, timeout=120_000)
        wait_idle(pg, timeout=180_000)  # the first start builds the demo federation
        pg.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
        pg.get_by_role("option", name="Administrator – Alex Admin").click()
        wait_idle(pg)
        pg.get_by_test_id("stSidebarNav").get_by_text("Import data", exact=True).click()
        wait_idle(pg)
        uploader = pg.locator('[data-testid="stFileUploaderDropzoneInput"]')

        uploader.set_input_files(str(bad))
        wait_idle(pg)
        assert_no_exception(pg)
        pg.get_by_text("The file has 3 problems").wait_for(timeout=60_000)  # the check runs after the upload
        assert pg.get_by_text("FFT responses (our template)").count() >= 1
        assert pg.get_by_role("button", name="Download the problems (CSV)").count() == 1
        assert pg.get_by_role("button", name="Import", exact=True).is_disabled()

        uploader.set_input_files(str(good))
        wait_idle(pg)
        pg.get_by_text("No problems in 2 rows.").wait_for(timeout=60_000)
        pg.get_by_role("button", name="Import", exact=True).click()
        pg.get_by_text("Imported 2 rows from fft_feb.csv: 2 new, 0 updated, 0 unchanged").wait_for(timeout=60_000)
        assert_no_exception(pg)
        pg.get_by_role("tab", name="History").click()
        wait_idle(pg)
        assert pg.get_by_test_id("stDataFrame").count() >= 1
    with get_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.FFTResponse).where(
            m.FFTResponse.comment == "<b>not bold</b>")).scalar_one() == 1
