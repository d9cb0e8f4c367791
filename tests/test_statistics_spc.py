"""SPC on small and flat series, and limits kept inside a measure's bounds: hand-worked examples, for spc() (one
chart) and spc_latest() (the board's many series) alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer.analytics import (
    ASSURANCE_SYMBOLS,
    ASSURANCE_WORDS,
    VARIATION_SYMBOLS,
    VARIATION_WORDS,
    spc,
    spc_latest,
)

# ---------------------------------------------------------------------------------------------------------------------
# Zero variation
# ---------------------------------------------------------------------------------------------------------------------


def test_a_flat_series_has_no_limits_and_says_so():
    # every moving range is 0: 2.66 x 0 would put both limits on the mean, and any later wobble would be "special"
    r = spc([4, 4, 4, 4, 4], "higher", target=3)
    p = r.points
    assert r.variation == "no_variation"
    assert r.variation_text == "No variation: every point is the same, so there are no limits to judge against"
    assert "trial" not in r.variation_text  # no limits at all, so no "trial limits" warning about them
    assert p["mean"].tolist() == [4.0] * 5
    assert p[["lower_limit", "upper_limit", "lower_near", "upper_near"]].isna().all(axis=None)
    assert not p["special_cause"].any() and set(p["rules"]) == {""}
    assert p["moving_range"].tolist()[1:] == [0.0] * 4


def test_a_flat_series_with_a_target_cannot_say_pass_fail_or_hit_and_miss():
    for direction, target in (("higher", 3), ("higher", 4), ("higher", 9), ("lower", 3)):
        r = spc([90.0] * 14 if target == 9 else [4] * 14, direction, target=target)
        assert r.assurance == "no_limits"
        assert r.assurance_text == ASSURANCE_WORDS["no_limits"]
        assert "hit and miss" not in r.assurance_text.lower() and r.assurance_text.startswith("Cannot say")
    # no target, or no preferred direction: the usual words
    assert spc([4] * 6, "higher").assurance_text == "No target set"
    assert spc([4] * 6, "neutral", target=3).assurance == "none"
    assert set(VARIATION_WORDS) == set(VARIATION_SYMBOLS) and set(ASSURANCE_WORDS) == set(ASSURANCE_SYMBOLS)
    assert VARIATION_SYMBOLS["no_variation"] != VARIATION_SYMBOLS["common_cause"]


def test_a_month_of_zero_complaints_every_month_is_not_a_shift():
    # 14 zeros: all "on the mean", so no run on one side, and no special cause anywhere
    r = spc([0] * 14, "lower", target=1)
    assert r.variation == "no_variation" and not r.points["special_cause"].any()
    assert r.summary()["variation_symbol"] == VARIATION_SYMBOLS["no_variation"]
    assert np.isnan(r.summary()["upper_limit"])


def test_floating_point_noise_is_still_no_variation():
    vals = [0.1 + 0.2, 0.3, 0.3, 0.30000000000000004, 0.3]  # differences of 5.6e-17
    assert spc(vals).variation == "no_variation"
    assert spc_latest(np.array([vals]))["variation"].tolist() == ["no_variation"]


def test_one_different_point_gives_limits_again():
    # 5 x 7 then 8: mR 0 x 6 and 3 -> mean mR 3/7; mean 43/8 = 5.375
    r = spc([5, 5, 5, 5, 5, 5, 5, 8])
    assert r.variation != "no_variation"
    assert r.points["upper_limit"].iloc[0] == pytest.approx(5.375 + 2.66 * 3 / 7)


def test_flat_segment_after_a_rebase():
    varied = [12, 10] * 6
    r = spc(varied + [15] * 6, "higher", target=14, rebase_at=[12])
    p = r.points
    assert r.variation == "no_variation" and r.assurance == "no_limits"  # the icons judge the latest segment
    assert p["upper_limit"].iloc[0] == pytest.approx(11 + 2.66 * 2)  # the first segment keeps its limits
    assert p["upper_limit"].iloc[12:].isna().all() and p["mean"].iloc[-1] == 15
    assert not p["special_cause"].any()
    back = spc([15] * 6 + varied, "higher", target=14, rebase_at=[6])
    assert back.variation == "common_cause" and back.assurance == "hit_and_miss"
    assert back.points["upper_limit"].iloc[:6].isna().all()


def test_spc_latest_flat_rows_match_spc():
    y = np.array([
        [3.0] * 8,
        [np.nan, 7, 7, np.nan, 7, 7, 7, np.nan],  # flat once the gaps are dropped
        [np.nan] * 7 + [2.0],  # one point: not enough data, not "no variation"
        [12, 10, 12, 10, 12, 10, 12, 10],
    ])
    out = spc_latest(y, "higher", [2.0, 9.0, 1.0, 11.0])
    assert out["variation"].tolist() == ["no_variation", "no_variation", "none", "common_cause"]
    assert out["assurance"].tolist() == ["no_limits", "no_limits", "none", "hit_and_miss"]
    assert out.loc[:2, ["lower_limit", "upper_limit"]].isna().all(axis=None)
    assert out.loc[0, "mean"] == 3.0 and out.loc[1, "mean"] == 7.0
    for row, t, got in zip(y, [2.0, 9.0, 1.0, 11.0], out.itertuples()):
        one = spc(row, "higher", target=t)
        assert (got.variation, got.variation_text, got.assurance, got.assurance_text) == (
            one.variation, one.variation_text, one.assurance, one.assurance_text)


# ---------------------------------------------------------------------------------------------------------------------
# Bounds
# ---------------------------------------------------------------------------------------------------------------------

NEAR_100 = [98, 100, 96, 100, 98, 100]  # mean 592/6 = 98.667; mR 2, 4, 4, 2, 2 -> mean mR 2.8 (none screened out)


def test_percentage_limits_never_pass_100():
    free = spc(NEAR_100).points
    assert free["upper_limit"].iloc[0] == pytest.approx(592 / 6 + 2.66 * 2.8)  # 106.1%: impossible
    assert free["upper_near"].iloc[0] == pytest.approx(592 / 6 + 2.66 * 2 / 3 * 2.8)  # 103.6%
    p = spc(NEAR_100, bounds=(0, 100)).points
    assert p["upper_limit"].tolist() == [100.0] * 6 and p["upper_near"].tolist() == [100.0] * 6
    assert p["lower_limit"].iloc[0] == pytest.approx(592 / 6 - 2.66 * 2.8)  # 91.2%: inside, unchanged
    assert p["lower_near"].iloc[0] == pytest.approx(592 / 6 - 2.66 * 2 / 3 * 2.8)
    assert p["value"].tolist() == NEAR_100  # points are never changed
    assert p["mean"].iloc[0] == pytest.approx(592 / 6)


def test_count_limits_never_go_below_zero():
    counts = [0, 1, 0, 2, 0, 1, 0, 0]  # mean 0.5; mR 1, 1, 2, 2, 1, 1, 0 -> 8/7
    p = spc(counts, bounds=(0, None)).points
    assert p["lower_limit"].tolist() == [0.0] * 8 and p["lower_near"].tolist() == [0.0] * 8
    assert p["upper_limit"].iloc[0] == pytest.approx(0.5 + 2.66 * 8 / 7)  # no upper bound given: unchanged
    assert spc(counts).points["lower_limit"].iloc[0] == pytest.approx(0.5 - 2.66 * 8 / 7)  # default: no clamping


def test_bounds_do_not_change_the_judgement():
    vals = NEAR_100 * 2 + [100, 100, 100, 100, 100, 100, 100, 91]
    for target in (80, 95, 99.5, 100):
        free = spc(vals, "higher", target=target)
        held = spc(vals, "higher", target=target, bounds=(0, 100))
        assert held.points["rules"].tolist() == free.points["rules"].tolist()
        assert (held.variation, held.assurance) == (free.variation, free.assurance)
    assert (spc(vals, bounds=(0, 100)).points["upper_limit"] <= 100).all()


def test_bounds_apply_to_each_segment_and_to_spc_latest():
    vals = [50, 60, 50, 60, 50, 60] + NEAR_100
    r = spc(vals, rebase_at=[6], bounds=(0, 100)).points
    assert r["upper_limit"].iloc[0] == pytest.approx(55 + 2.66 * 10)  # 81.6: inside the bounds
    assert r["upper_limit"].iloc[6:].tolist() == [100.0] * 6
    out = spc_latest(np.array([NEAR_100 + [np.nan] * 2, [0, 1, 0, 2, 0, 1, 0, 0]], dtype=float), bounds=(0, 100))
    assert out["upper_limit"].iloc[0] == 100.0 and out["lower_limit"].iloc[1] == 0.0
    assert out["lower_limit"].iloc[0] == pytest.approx(592 / 6 - 2.66 * 2.8)
    assert spc_latest(np.array([NEAR_100], dtype=float))["upper_limit"].iloc[0] == pytest.approx(592 / 6 + 2.66 * 2.8)


@pytest.mark.parametrize("bad", [(100, 0), (0,), "0-100", (np.nan, 1)])
def test_bounds_must_be_lower_then_upper(bad):
    with pytest.raises(ValueError):
        spc(NEAR_100, bounds=bad)
    with pytest.raises(ValueError):
        spc_latest(np.array([NEAR_100], dtype=float), bounds=bad)
