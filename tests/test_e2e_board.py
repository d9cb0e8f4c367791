"""The board views end to end in a real Chromium: open every board page, change the practice filter, follow the
matrix drill-down into a practice profile and download CSVs — with no Streamlit exception on any page."""
from __future__ import annotations

import re

import pytest

from tests.e2e_util import assert_no_exception, browser, needs_chromium, streamlit_server, wait_idle

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def board_app(demo_url):
    """The app in demo mode (no sign-in configured), whose default demo user is a board member."""
    with streamlit_server(demo_url) as base:
        yield base


def open_nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    wait_idle(page)
    assert_no_exception(page)


def download(page, button: str) -> str:
    with page.expect_download(timeout=90_000) as info:  # built on click: slow on a loaded two-core machine
        page.get_by_role("button", name=button).first.click()
    raw = open(info.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark, so Excel reads the symbols and accents
    return raw.decode("utf-8-sig")


def test_board_pages_filters_drill_down_and_downloads(board_app):
    base = board_app
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(base + "/", timeout=120_000)
        wait_idle(page, 120_000)
        assert_no_exception(page)
        page.get_by_text("What needs attention", exact=True).wait_for()
        matrix = page.locator('[data-testid="stPlotlyChart"]').first
        matrix.scroll_into_view_if_needed()
        matrix.locator(".js-plotly-plot").wait_for(timeout=60_000)  # the practice × measure matrix drew

        # the attention list as CSV
        csv = download(page, "Download the attention list (CSV)")
        assert csv.splitlines()[0] == "Kind,Where,Headline,Detail"
        assert "Millstream Surgery" in csv and "Missed target" in csv

        # drill down from the matrix into a practice profile
        page.get_by_role("link", name="Millstream Surgery", exact=True).last.click()
        wait_idle(page)
        assert_no_exception(page)
        assert re.search(r"/practice\?.*profile=Z90005", page.url), page.url
        page.get_by_role("heading", name="Millstream Surgery").wait_for()
        measures = download(page, "Download this practice's measures (CSV)")
        assert measures.splitlines()[0].startswith("Aim,Measure,Practice,Target,Status") and "Mandatory training compliance" in measures

        # every board page, as the sidebar opens them
        for title, heading in (("Aims & objectives", "Aims and objectives"),
                               ("Quality indicators", "Quality indicators"),
                               ("Practice profile", "Practice profile"),
                               ("Overview", "MPA board overview")):
            open_nav(page, title)
            page.get_by_role("heading", name=heading).first.wait_for()

        # change the practice filter: the quality page follows it and keeps it in the URL
        open_nav(page, "Quality indicators")
        practice_filter = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
        practice_filter.click()
        page.keyboard.type("Harbour View")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        wait_idle(page)
        assert_no_exception(page)
        assert "practice=Z90003" in page.url, page.url
        page.get_by_text("Harbour View Surgery · 36 months", exact=False).first.wait_for()
        table = download(page, "Download the practice comparison (CSV)")
        assert table.splitlines()[0].startswith("Practice,Numerator,Denominator")
        assert len(table.strip().splitlines()) == 12  # header + 11 practices compared

        # a copied link opens the same view
        page.goto(base + "/quality?indicator=DM_HBA1C&practice=Z90005")
        wait_idle(page, 120_000)
        assert_no_exception(page)
        page.get_by_text("Diabetes: HbA1c 58 mmol/mol or less", exact=False).first.wait_for()
        page.get_by_text("Millstream Surgery · 36 months", exact=False).first.wait_for()
