"""PCN and group comparison from the measure store: each group's Σnumerator / Σdenominator, Wilson interval, status
and variation in words, and funnel position against the federation's stored figure. Both backends."""
from __future__ import annotations

import pandas as pd
import pytest

from data_layer import engine as calc
from data_layer.analytics import wilson_interval
from data_layer.bulk import record_batch
from data_layer.config import Group
from data_layer.governance import compare
from data_layer.measures import store
from data_layer.measures.refresh import refresh
from data_layer.scope import Viewer
from tests.test_measure_store import _practices, _values

BOARD = Viewer("board@test.invalid", "board")
CODE = "CERVICAL_SCREENING"  # higher is better, target 80%
MONTHS = [d.date() for d in pd.date_range("2024-01-01", periods=15, freq="MS")]


@pytest.fixture
def grouped(empty_engine, config):
    """North's practices screen 90%, South's 50%, Tiny has five patients a month; the custom group "Mixed" is one
    practice of each big PCN."""
    cfg = config.model_copy(update={"groups": (Group(id="mixed", name="Mixed", practices=("Z1", "Z4")),)})
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "North", "Z2": "North", "Z3": "North", "Z4": "South", "Z5": "South",
                                       "Z6": "South", "Z7": "Tiny"})
        for code in ("Z1", "Z2", "Z3"):
            _values(conn, batch, ids[code], CODE, [(d, 900 + i % 3, 1000) for i, d in enumerate(MONTHS)])
        for code in ("Z4", "Z5", "Z6"):
            _values(conn, batch, ids[code], CODE, [(d, 500 + i % 3, 1000) for i, d in enumerate(MONTHS)])
        _values(conn, batch, ids["Z7"], CODE, [(d, 3, 5) for d in MONTHS])
    refresh(empty_engine, cfg)
    return empty_engine, cfg


def test_groups_side_by_side_with_intervals_funnel_and_words(grouped):
    engine, cfg = grouped
    rows, fed = compare.compare(engine, cfg, BOARD, CODE)
    assert list(rows["label"]) == ["North", "South", "Tiny", "Mixed"]  # PCNs, then the federation's groups
    assert list(rows["kind"]) == ["PCN", "PCN", "PCN", "Group"] and list(rows["practices"]) == [3, 3, 1, 2]
    by = rows.set_index("label")
    last = len(MONTHS) - 1
    assert by.loc["North", "numerator"] == 3 * (900 + last % 3) and by.loc["North", "denominator"] == 3000
    lo, hi = wilson_interval(by.loc["North", "numerator"], 3000, 0.95)
    assert by.loc["North", "lower_ci"] == pytest.approx(lo * 100)
    assert by.loc["North", "upper_ci"] == pytest.approx(hi * 100)
    assert by.loc["Mixed", "denominator"] == 2000  # Σ over its two practices, not an average of percentages

    # the federation's stored figure is the funnel's centre: 90% is better, 50% worse, the mixed group within it
    total = 3 * (900 + last % 3) + 3 * (500 + last % 3) + 3
    assert fed["denominator"] == 6005 and fed["value"] == pytest.approx(total / 6005 * 100)
    assert by.loc["North", "position"] == "better" and by.loc["North", "position_text"].startswith("Better than")
    assert by.loc["South", "position"] == "worse" and by.loc["South", "status"] == "✖ Off target"
    assert by.loc["North", "status"] == "✔ On target"
    assert by.loc["Mixed", "position"] == "within"
    # five patients a month: too few to judge, so no RAG, no icon and no place on the funnel
    assert by.loc["Tiny", "status"].startswith("Too few to judge") and by.loc["Tiny", "position"] == "not compared"
    assert by.loc["Tiny", "variation_text"].startswith("Too few to judge")
    for words in rows["variation_text"]:  # the control chart's signal in words, never a code
        assert words and "_" not in words


def test_a_group_stands_for_its_practices_on_every_screen(grouped):
    """The sidebar's group filter reads the group's stored series, the same figure the comparison shows."""
    engine, cfg = grouped
    rows, _ = compare.compare(engine, cfg, BOARD, CODE)
    res = calc.kpi_results(engine, cfg, BOARD, calc.Filters(group="mixed"), codes=[CODE])[CODE]
    mixed = rows.set_index("area_code").loc["mixed"]
    assert res.numerator == mixed["numerator"] and res.denominator == mixed["denominator"]
    assert res.latest_value == pytest.approx(mixed["value"])


def test_the_demo_group_is_the_sum_of_its_practices_stored_figures(demo_engine, config):
    rows, fed = compare.compare(demo_engine, config, BOARD, "HYP_BP")
    group = config.groups[0]
    row = rows.set_index("area_code").loc[group.id]
    when = store.latest_month(demo_engine)
    practice = store.values(demo_engine, "practice", list(group.practices), ["HYP_BP"], when, when)
    assert row["label"] == group.name and row["practices"] == len(group.practices)
    assert row["numerator"] == practice["numerator"].sum() and row["denominator"] == practice["denominator"].sum()
    assert set(rows.loc[rows["kind"] == "PCN", "label"]) == {"Riverside PCN", "Chalk Downs PCN", "Estuary PCN"}
    assert fed["value"] is not None
