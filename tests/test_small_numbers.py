"""FFT figures on 1-4 responses are never shown: every page as every role, the downloads behind them and the packs.

Holds issue 11 finding 1: a practice with 3 responses in a month had its count in the practice profile's CSV, "3.0
per 1,000" on the quality page, its denominator, response rate and three comments in the inspection pack and its
comments in the comments browser. A demo federation gets a tiny practice (Z99999) whose only FFT month has 3
responses with marker comments; each test looks for them where a user would.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from data_layer import engine as calc
from data_layer import models as m
from data_layer.db import get_engine
from data_layer.measures import store
from data_layer.measures.refresh import refresh
from data_layer.scope import Viewer
from tests.apptest_util import visible_text
from tests.conftest import ROOT
from tests.test_pages_board import open_page

TINY = "Z99999"
MARKER = "Tinymarker comment"
ROLES = {"admin": Viewer("admin@test.invalid", "admin"), "board": Viewer("board@test.invalid", "board"),
         "practice_lead": Viewer("lead@test.invalid", "practice_lead", (TINY,)),
         "viewer": Viewer("viewer@test.invalid", "viewer")}


_built: dict[str, str] = {}


@pytest.fixture
def tiny(demo_copy, backend, config, monkeypatch):
    """The demo plus the tiny practice, built once per backend for this module (the tests only read it)."""
    if backend in _built:
        monkeypatch.setenv("DATABASE_URL", _built[backend])
        monkeypatch.chdir(ROOT)
        engine = get_engine(_built[backend])
        return engine, calc.latest_period(engine)
    empty_url = demo_copy(backend)
    engine = get_engine(empty_url)
    month = calc.latest_period(engine)
    with engine.begin() as conn:
        pid = conn.execute(insert(m.Practice).values(code=TINY, name="Tiny Test Surgery", pcn="Estuary PCN",
                                                     list_size=900, active=True)).inserted_primary_key[0]
        for i, rating in enumerate((1, 2, 5)):
            conn.execute(insert(m.FFTResponse).values(
                practice_id=pid, response_key=f"tiny-{i}", response_date=month.replace(day=10), scale="current",
                rating=rating, comment=f"{MARKER} {i}", mode="SMS"))
    refresh(engine, config)
    _built[backend] = empty_url
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    return engine, month



def test_the_store_hides_every_fft_figure_of_the_tiny_practice(tiny, config):
    engine, month = tiny
    fft = [i.code for i in config.indicators if i.suppression == "fft"]
    v = store.values(engine, "practice", [TINY], fft, month, month)
    assert len(v) == len(fft) and v["suppressed"].all()
    assert v[["numerator", "denominator", "value", "lower_ci", "upper_ci"]].isna().all().all()
    for role, viewer in ROLES.items():
        res = calc.kpi_results(engine, config, viewer, calc.Filters(practice_codes=(TINY,)), codes=fft)
        for code, r in res.items():
            assert r.suppressed and r.latest_value is None and r.denominator is None, (role, code)
            assert r.series["denominator"].dropna().empty, (role, code)


@pytest.mark.parametrize("role", ["board", "practice_lead", "viewer"])  # admin sees what the board sees
def test_no_page_shows_the_tiny_practices_comments_or_counts(tiny, monkeypatch, role):
    from ui.navigation import pages_for

    viewer = ROLES[role]
    shown_somewhere = False
    for spec in pages_for(role):
        if spec.path in ("pages/imports.py", "pages/users.py", "pages/audit.py"):
            continue  # administration pages show no FFT figures
        for query in ({"practice": TINY, "profile": TINY, "indicator": "FFT_RESPONSE_RATE"},):
            at = open_page(monkeypatch, viewer, spec.path, query)
            text = visible_text(at)
            assert MARKER not in text, (role, spec.path, query)
            shown_somewhere |= "Tiny Test Surgery" in text
            for frame in (d.value for d in at.dataframe):
                rows = frame[frame.astype(str).apply(lambda c: c.str.contains("Tiny Test Surgery")).any(axis=1)]
                for col in [c for c in rows.columns if str(c).lower() in ("responses", "total", "positive (%)",
                                                                          "value", "numerator", "denominator")]:
                    cells = pd.to_numeric(rows[col], errors="coerce")
                    assert cells.isna().all() or (cells >= 5).all() or (cells == 0).all(), (spec.path, col)
    assert shown_somewhere  # the walk did reach the tiny practice: the test can fail


def test_the_practice_profile_download_has_no_count_for_the_hidden_month(tiny, monkeypatch):
    at = open_page(monkeypatch, ROLES["board"], "pages/practice.py", {"profile": TINY})
    behind = next(d.value for d in at.dataframe if {"Month", "Responses", "Positive (%)"} <= set(d.value.columns))
    month = tiny[1]
    row = behind[behind["Month"] == f"{month:%B %Y}"]  # months in full, as the NHS style guide writes them
    assert len(row) == 1 and np.isnan(float(row["Responses"].iloc[0])) and "Not shown" in row["Note"].iloc[0]
    metric = {mt.label: mt.value for mt in at.metric}
    assert metric["Responses"].startswith("Fewer than")
    assert date(2000, 1, 1) < month
