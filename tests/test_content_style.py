"""NHS content style on screens, downloads and packs: dates as "1 October 2026", months in full ("October 2026"),
ranges with "to" ("April 2025 to March 2026"), one way of writing a percentage and its interval ("71.4% (68.2% to
74.3%)"). The words come from one module (data_layer/policy/words.py); the pages are read as rendered (AppTest) and
the packs as their files say, and fail on "1 Dec 2026", "Oct 2026", "01 October 2026" or "2026-10"."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pandas as pd
import pytest
from pypdf import PdfReader

from data_layer.config import load_config
from data_layer.db import get_engine
from data_layer.exports import board_pack, inspection, render
from data_layer.policy import words
from tests.apptest_util import app
from tests.conftest import ROOT
from tests.test_imports import ADMIN

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MONTHS = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
WRONG = {
    "an abbreviated month": re.compile(rf"\b({MONTHS})\.? (\d{{2}}|\d{{4}})\b"),
    "a day with an abbreviated month": re.compile(rf"\b\d{{1,2}} ({MONTHS})\b"),
    "a leading zero on the day": re.compile(r"\b0\d (January|February|March|April|May|June|July|August|September|"
                                            r"October|November|December)\b"),
    "a numeric month": re.compile(r"\b(19|20)\d\d-(0[1-9]|1[0-2])\b"),
    "a numeric date": re.compile(r"\b\d{1,2}/\d{1,2}/(19|20)?\d\d\b"),
    "a range with a hyphen": re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|"
                                        r"November|December) \d{4} ?[-–] ?(January|February|March|April|May|June|"
                                        r"July|August|September|October|November|December)\b"),
}


def style_problems(text: str, where: str) -> list[str]:
    out = []
    for what, pattern in WRONG.items():
        for hit in pattern.finditer(text):
            start = max(hit.start() - 50, 0)
            out.append(f"{where}: {what} {hit.group(0)!r} in …{text[start:hit.end() + 30]!r}")
    return out


# --------------------------------------------------------------------------------------------------------------------
# The one module
# --------------------------------------------------------------------------------------------------------------------
def test_dates_months_ranges_and_intervals_are_written_one_way():
    assert words.day(date(2026, 10, 1)) == "1 October 2026"
    assert words.day(pd.Timestamp("2026-12-01")) == "1 December 2026"
    assert words.day_time(datetime(2026, 10, 1, 14, 5)) == "1 October 2026, 14:05"
    assert words.month(date(2026, 10, 1)) == "October 2026"
    assert words.month_range(date(2025, 4, 1), date(2026, 3, 31)) == "April 2025 to March 2026"
    assert words.month_range(date(2026, 9, 1), date(2026, 11, 1)) == "September to November 2026"
    assert words.months_span(date(2026, 9, 1), 3) == "September to November 2026"
    assert words.period(date(2022, 4, 1), date(2023, 3, 31)) == "April 2022 to March 2023"  # a financial year
    assert words.period(date(2026, 10, 1), date(2026, 10, 31)) == "October 2026"
    assert words.day_range(date(2026, 10, 1), date(2026, 10, 14)) == "1 to 14 October 2026"
    assert words.day_range(date(2026, 9, 28), date(2026, 10, 4)) == "28 September to 4 October 2026"
    assert words.with_interval(71.43, 68.2, 74.31) == "71.4% (68.2% to 74.3%)"
    assert words.with_interval(71.43, None, None) == "71.4%"
    assert words.interval(68.2, 74.31) == "68.2% to 74.3%"
    for missing in (None, float("nan"), pd.NaT):
        assert words.day(missing) == words.month(missing) == words.with_interval(missing, 1, 2) == "–"


def test_the_screens_formatting_is_the_data_layers():
    from ui import format as fmt

    assert fmt.month_label(date(2026, 10, 1)) == words.month(date(2026, 10, 1))
    assert fmt.period_label(date(2026, 9, 1), 3) == "September to November 2026"
    assert fmt.day_label(date(2026, 10, 1)) == "1 October 2026"
    assert fmt.interval_label(68.2, 74.31) == "68.2% to 74.3%"


# --------------------------------------------------------------------------------------------------------------------
# Screens, as rendered
# --------------------------------------------------------------------------------------------------------------------
def screen_text(at) -> str:
    """What a person reads: text elements, metrics, labels and the cells of every table (not chart data)."""
    parts: list[str] = []

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict) and children:
            for child in children.values():
                walk(child)
            return
        value = getattr(node, "value", None)
        if isinstance(value, pd.DataFrame):
            parts.append(" ".join(map(str, value.columns)))
            for c in value.columns:
                if value[c].dtype == object or str(value[c].dtype).startswith("str"):
                    parts.extend(str(v) for v in value[c].dropna())
        elif isinstance(value, str) and not hasattr(node, "set_value"):  # a widget's value is not what it shows
            parts.append(value)
        for attr in ("label", "body", "help", "caption"):
            v = getattr(node, attr, None)
            if isinstance(v, str):
                parts.append(v)
        options = getattr(node, "options", None)
        if isinstance(options, list):
            parts.extend(str(o) for o in options)

    walk(at._tree)
    return "\n".join(parts)


PAGES = ("pages/overview.py", "pages/quality.py", "pages/practice.py", "pages/training.py", "pages/feedback.py",
         "pages/aims.py", "pages/compare.py", "pages/completeness.py", "pages/inspection.py", "pages/actions.py")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_board_page_writes_dates_and_months_in_full(app_env):
    problems = []
    at = app(role="board")
    for page in PAGES:
        if not (ROOT / page).exists():
            continue
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        problems += style_problems(screen_text(at), page)
    assert not problems, "\n".join(problems[:20])


# --------------------------------------------------------------------------------------------------------------------
# Packs, as their files say
# --------------------------------------------------------------------------------------------------------------------
def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def zip_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return "\n".join(z.read(n).decode("utf-8-sig") for n in z.namelist() if n.endswith((".csv", ".txt")))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_packs_write_dates_and_months_in_full(demo_url):
    engine, config = get_engine(demo_url), load_config(ROOT / "federation.toml")
    problems = []
    practice = inspection.build_pack(engine, config, ADMIN, "Z90001")
    problems += style_problems(pdf_text(render(practice, "pdf")), "inspection pack PDF")
    problems += style_problems(zip_text(render(practice, "csv")), "inspection pack CSV")
    board = board_pack.build_board_pack(engine, config, ADMIN)
    problems += style_problems(pdf_text(board_pack.render(board, "pdf")), "board pack PDF")
    assert not problems, "\n".join(problems[:20])
    assert re.search(r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
                     r"December) 20\d\d\b", zip_text(render(practice, "csv")))  # dates are written, in words
