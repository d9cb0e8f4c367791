"""analytics.spc_latest (every practice × measure's latest SPC icon at once) says exactly what analytics.spc says
for each series' latest point, and the board views built on it give the engine's figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer import engine as calc
from data_layer import views
from data_layer.analytics import spc, spc_latest
from data_layer.scope import Viewer


def _one_by_one(y: np.ndarray, directions, targets, run_length: int) -> list[tuple]:
    out = []
    for vals, d, t in zip(y, directions, targets):
        if np.isfinite(vals).sum() < 2:
            out.append(("none",))
            continue
        r = spc(pd.Series(vals), d, None if np.isnan(t) else t, run_length=run_length)
        out.append((r.variation, r.variation_text, r.assurance, r.assurance_text, r.points["rules"].iloc[-1],
                    r.trial_limits))
    return out


def _batch(y, directions, targets, run_length) -> list[tuple]:
    b = spc_latest(y, directions, targets, run_length=run_length)
    return [("none",) if n < 2 else (v, vt, a, at, ru, bool(tl)) for v, vt, a, at, ru, tl, n in zip(
        b["variation"], b["variation_text"], b["assurance"], b["assurance_text"], b["rules"], b["trial_limits"],
        b["n_points"])]


@pytest.mark.parametrize("run_length", [7, 6])
def test_batch_icons_equal_spc_on_awkward_series(run_length):
    rng = np.random.default_rng(11)
    n = 1500
    walks = rng.normal(0, 3, (n, 30)).cumsum(axis=1) / 10 + 50 + rng.choice([0.0, 5.0], (n, 1)) * (np.arange(30) > 20)
    walks = np.array([np.round(r, d) for r, d in zip(walks, rng.integers(0, 3, n))])  # ties and repeats
    walks[rng.random(walks.shape) < 0.05] = np.nan  # gaps the moving range joins across
    walks[:40] = 3.0  # constant: zero moving range
    walks[40:80] = np.arange(30)  # a clean rising trend
    walks[80:120] = np.where(np.arange(30) % 3 == 0, 1.0, 0.0)  # counts with zero moving ranges
    walks[120:160, 1:] = np.nan  # a single point: no limits
    for i, k in zip(range(160, 400), rng.integers(0, 31, 240)):
        walks[i, k:] = np.nan  # short series: trial limits
    counts = rng.poisson(rng.uniform(0.2, 3, (n, 1)), (n, 24)).astype(float)
    for y in (walks, counts):
        directions = rng.choice(["higher", "lower", "neutral"], len(y))
        targets = np.where(rng.random(len(y)) < 0.5, np.nan, rng.normal(np.nanmean(y), 5, len(y)))
        assert _batch(y, directions, targets, run_length) == _one_by_one(y, directions, targets, run_length)


@pytest.mark.parametrize("bounds", [None, (0, 100)])
def test_batch_limits_equal_spc_latest_point(bounds):
    # the limits the board table reports are the chart's limits at its latest point, clamped the same way
    rng = np.random.default_rng(4)
    y = np.clip(rng.normal(rng.uniform(60, 99.5, (300, 1)), rng.uniform(0.2, 6, (300, 1)), (300, 24)), 0, 100)
    y[rng.random(y.shape) < 0.1] = np.nan
    y[:20] = 100.0  # flat at the bound: no limits at all
    y[20:25, 3:] = np.nan  # short: trial limits
    b = spc_latest(y, "higher", 95.0, bounds=bounds)
    for row, got in zip(y, b.itertuples()):
        p = spc(pd.Series(row), "higher", 95.0, bounds=bounds).points.iloc[-1]
        for col in ("mean", "lower_limit", "upper_limit"):
            assert getattr(got, col) == pytest.approx(p[col], nan_ok=True), col
    assert b["variation"].iloc[:20].eq("no_variation").all() and b["upper_limit"].iloc[:20].isna().all()
    if bounds:
        assert (b["upper_limit"].dropna() <= 100).all() and (b["upper_limit"] == 100).any()


def test_practice_rows_match_the_engine_for_each_practice(demo_engine, config):
    board = Viewer("board@test.invalid", "board")
    rows, results = views.practice_results(demo_engine, config, board, calc.Filters(months=24))
    assert len(rows) == len(results) and rows["practice_code"].nunique() == 11
    checked = 0
    for r in rows.sample(40, random_state=3).itertuples(index=False):
        one = calc.kpi_results(demo_engine, config, board, calc.Filters(practice_codes=(r.practice_code,), months=24),
                               codes=[r.indicator_code])[r.indicator_code]
        assert (r.rag, r.suppressed) == (one.rag, one.suppressed)
        assert (r.value is None or np.isnan(r.value)) == (one.latest_value is None)
        if one.latest_value is not None:
            assert r.value == pytest.approx(one.latest_value)
        assert r.variation == one.variation
        assert results[(r.practice_code, r.indicator_code)].rag == one.rag
        checked += 1
    assert checked == 40
