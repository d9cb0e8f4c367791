"""End to end in real Chromium: the Staff training and Patient feedback pages open without a Streamlit exception,
follow the practice filter, and download a CSV of what a chart shows. Skipped when Chromium is not installed."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")

APP_READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(demo_url, backend):
    if backend != "sqlite":
        pytest.skip("the browser test runs once, on SQLite")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": demo_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
        yield context.new_page()
        browser.close()


def sign_in(pg) -> None:
    """Who the browser is: the demo database opens as the demo board member without sign-in. If sign-in ever
    needs steps on the demo, they go here."""


def settle(pg) -> None:
    pg.wait_for_selector(APP_READY, timeout=90_000)
    pg.wait_for_timeout(800)
    pg.wait_for_selector(APP_READY, timeout=90_000)
    assert pg.locator(EXCEPTION).count() == 0, pg.locator(EXCEPTION).first.inner_text()


def open_from_nav(pg, title: str) -> None:
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(pg)
    pg.get_by_role("heading", name=title).first.wait_for(timeout=60_000)


def choose_practice(pg, name: str) -> None:
    box = pg.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first
    box.click()
    pg.keyboard.type(name)
    pg.keyboard.press("Enter")
    pg.keyboard.press("Escape")
    settle(pg)


def download(pg, label: str, tmp_path) -> str:
    button = pg.get_by_role("button", name=label).first
    button.scroll_into_view_if_needed()
    with pg.expect_download(timeout=60_000) as info:
        button.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target.read_text(encoding="utf-8-sig")  # written with a byte-order mark for Excel


def test_training_and_feedback_in_chromium(app_url, page, tmp_path):
    pg = page
    pg.goto(app_url, timeout=90_000)
    settle(pg)
    sign_in(pg)

    open_from_nav(pg, "Staff training")
    assert pg.get_by_text("Compliance by practice and course").count() == 1
    matrix_csv = download(pg, "Download the matrix (CSV)", tmp_path)
    assert matrix_csv.startswith("Practice,Course,Required,In date")
    assert "Harbour View Surgery" in matrix_csv
    choose_practice(pg, "Millstream")
    assert "practice=Z90005" in pg.url  # the filter is in the link
    matrix_csv = download(pg, "Download the matrix (CSV)", tmp_path)
    practices = {line.split(",")[0] for line in matrix_csv.splitlines()[1:]}
    assert practices == {"Millstream Surgery", "All selected practices"}

    open_from_nav(pg, "Patient feedback")
    assert "practice=Z90005" in pg.url  # shared filters follow the viewer between pages
    month_csv = download(pg, "Download FFT by month (CSV)", tmp_path)
    assert month_csv.startswith("Month,Responses,Very good,Good")
    pg.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first.get_by_role(
        "button").first.click()  # clear the practice filter
    settle(pg)
    assert "practice=" not in pg.url
    assert pg.get_by_text("What patients wrote").count() == 1
    assert pg.locator(EXCEPTION).count() == 0
