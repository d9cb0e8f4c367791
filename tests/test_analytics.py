"""Tests for data_layer.analytics: hand-worked examples, each checking behaviour that could plausibly be wrong."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from data_layer.analytics import (
    ASSURANCE_SYMBOLS,
    ASSURANCE_WORDS,
    RAG_SYMBOLS,
    RAG_WORDS,
    VARIATION_SYMBOLS,
    VARIATION_WORDS,
    aggregate_proportion,
    compare_with_benchmark,
    compliance_rate,
    fft_percentages,
    funnel_limits,
    funnel_position,
    rag_status,
    spc,
    suppress_small_counts,
    training_status,
    wilson_interval,
)

# ---------------------------------------------------------------------------------------------------------------------
# Wilson intervals
# ---------------------------------------------------------------------------------------------------------------------


def test_wilson_matches_phe_reference_values():
    # 50/100 at 95%: (100 + 3.8415 -/+ 19.9726) / 207.6829
    lo, hi = wilson_interval(50, 100)
    assert isinstance(lo, float) and isinstance(hi, float)
    assert lo == pytest.approx(0.403832, abs=1e-6)
    assert hi == pytest.approx(0.596168, abs=1e-6)
    # 0/10: lower exactly 0, upper z^2/(n+z^2) = 3.8415/13.8415
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.277533, abs=1e-6))
    # 10/10: lower n/(n+z^2) = 10/13.8415, upper exactly 1
    assert wilson_interval(10, 10) == (pytest.approx(0.722467, abs=1e-6), 1.0)
    # PHEindicatormethods' own examples (wilson_lower(65, 100) etc.)
    assert wilson_interval(65, 100) == (pytest.approx(0.552544, abs=1e-6), pytest.approx(0.736358, abs=1e-6))
    lo998, hi998 = wilson_interval(65, 100, confidence=0.998)
    assert (lo998, hi998) == (pytest.approx(0.495495, abs=1e-6), pytest.approx(0.778354, abs=1e-6))
    # PHE accepts confidence as a percentage too
    assert wilson_interval(65, 100, confidence=99.8) == (lo998, hi998)


def test_wilson_vectorised_and_invalid_rows_are_nan():
    lo, hi = wilson_interval(pd.Series([50, 3, 0, 5]), pd.Series([100, 0, np.nan, 4]))
    assert isinstance(lo, np.ndarray) and lo.shape == (4,)
    assert lo[0] == pytest.approx(0.403832, abs=1e-6)
    assert np.isnan(lo[1:]).all() and np.isnan(hi[1:]).all()  # zero / missing denominator, numerator > denominator


def test_wilson_is_wider_at_higher_confidence():
    lo95, hi95 = wilson_interval(30, 200)
    lo998, hi998 = wilson_interval(30, 200, 0.998)
    assert lo998 < lo95 < 0.15 < hi95 < hi998


# ---------------------------------------------------------------------------------------------------------------------
# Benchmark comparison
# ---------------------------------------------------------------------------------------------------------------------


def test_compare_with_benchmark_polarities():
    lower = np.array([0.60, 0.20, 0.40, 0.50, np.nan])
    upper = np.array([0.70, 0.30, 0.60, 0.70, 0.60])
    bench = 0.5  # row 3 touches the benchmark: still "similar"
    assert list(compare_with_benchmark(lower, upper, bench, "neutral")) == [
        "higher", "lower", "similar", "similar", "not compared"]
    assert list(compare_with_benchmark(lower, upper, bench, "higher")) == [
        "better", "worse", "similar", "similar", "not compared"]
    assert list(compare_with_benchmark(lower, upper, bench, "lower")) == [
        "worse", "better", "similar", "similar", "not compared"]
    assert compare_with_benchmark(0.6, 0.7, 0.5, "lower") == "worse"
    assert compare_with_benchmark(0.6, 0.7, np.nan, "lower") == "not compared"


# ---------------------------------------------------------------------------------------------------------------------
# Funnel plots
# ---------------------------------------------------------------------------------------------------------------------


def test_funnel_limits_worked_example_and_shape():
    f = funnel_limits(0.5, [10, 100, 1000])
    assert list(f.columns) == ["denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]
    # Worked example, P = 0.5, n = 100, 95%: the lower limit p is where the Wilson upper bound of p reaches 0.5:
    # (p + z^2/2n + z*sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n) = 0.5 -> p = 0.4020 (0.402 + 0.0192 + 0.0980 = 0.5192).
    row = f.set_index("denominator").loc[100]
    assert row["lower_95"] == pytest.approx(0.402002, abs=1e-6)
    assert row["upper_95"] == pytest.approx(0.597998, abs=1e-6)
    # symmetric about 0.5 when the pooled proportion is 0.5
    np.testing.assert_allclose(f["lower_95"], 1 - f["upper_95"], atol=1e-12)
    np.testing.assert_allclose(f["lower_99_8"], 1 - f["upper_99_8"], atol=1e-12)
    # widens as the denominator shrinks, and the 99.8% funnel is outside the 95% funnel
    width = (f["upper_95"] - f["lower_95"]).to_numpy()
    assert width[0] > width[1] > width[2]
    assert (f["lower_99_8"] < f["lower_95"]).all() and (f["upper_99_8"] > f["upper_95"]).all()


def test_funnel_limits_are_inverse_wilson_and_clipped():
    pooled = 0.3
    f = funnel_limits(pooled, [5, 40, 400], confidences=(0.95,))
    for n, lo, hi in f[["denominator", "lower_95", "upper_95"]].itertuples(index=False):
        if lo > 0:
            assert wilson_interval(lo * n, n)[1] == pytest.approx(pooled, abs=1e-9)
        assert wilson_interval(hi * n, n)[0] == pytest.approx(pooled, abs=1e-9)
    # at n = 1 the 95% funnel covers everything, clipped to [0, 1]
    tiny = funnel_limits(0.3, [1])
    assert tiny.loc[0, "lower_95"] == 0.0 and tiny.loc[0, "upper_95"] == 1.0
    assert funnel_limits(0.3, [0])["lower_95"].isna().all()


def test_funnel_position():
    # P = 0.5, n = 100: 99.8% limits are 0.3455 .. 0.6545
    pos = funnel_position([30, 40, 60, 70, 5], [100, 100, 100, 100, 0], 0.5)
    assert list(pos) == ["below", "within", "within", "above", "not compared"]
    # at 95% (0.402 .. 0.598) 40/100 is below
    assert funnel_position(40, 100, 0.5, confidence=0.95) == "below"


# ---------------------------------------------------------------------------------------------------------------------
# FFT percentages and suppression
# ---------------------------------------------------------------------------------------------------------------------


def _fft_frame():
    return pd.DataFrame(
        {
            "practice": ["P1", "P2"],
            "very_good": [5, 0],
            "good": [3, 0],
            "neither": [1, 0],
            "poor": [1, 0],
            "very_poor": [0, 0],
            "dont_know": [10, 0],
        }
    )


def test_fft_percentages_keep_dont_know_in_denominator():
    out = fft_percentages(_fft_frame())
    r = out.iloc[0]
    assert r["total"] == 20 and r["positive"] == 8 and r["negative"] == 1
    assert r["pct_positive"] == pytest.approx(40.0)  # 8/20, not 8/10 (which would drop Don't know)
    assert r["pct_negative"] == pytest.approx(5.0)
    assert out.loc[1, "total"] == 0 and np.isnan(out.loc[1, "pct_positive"])
    assert "practice" in out.columns


def test_fft_percentages_requires_all_six_answers():
    with pytest.raises(KeyError):
        fft_percentages(_fft_frame().drop(columns="dont_know"))


def _units():
    # PCN A: 3 (primary) -> next smallest, 20, hidden too; 50 shown; 0 not suppressed.
    # PCN B: 4 and 4 both primary -> the next smallest is already hidden, 30 stays visible.
    # PCN C: nothing small.
    totals = [20, 3, 50, 0, 30, 4, 4, 10, 40]
    df = pd.DataFrame(
        {
            "pcn": ["A", "A", "A", "A", "B", "B", "B", "C", "C"],
            "practice": [f"P{i}" for i in range(9)],
            "very_good": totals,
            "good": 0,
            "neither": 0,
            "poor": 0,
            "very_poor": 0,
            "dont_know": 0,
        }
    )
    return fft_percentages(df)


def test_primary_suppression_hides_counts_and_percentages():
    out = suppress_small_counts(_units())
    small = out["practice"] == "P1"
    assert out.loc[small, "suppressed"].item()
    assert out.loc[small, "suppression_reason"].item() == "fewer than 5 responses"
    assert out.loc[small, ["total", "very_good", "positive", "pct_positive", "pct_negative"]].isna().all(axis=None)
    # zero responses: nothing to hide, but no percentage either
    zero = out["practice"] == "P3"
    assert not out.loc[zero, "suppressed"].item() and out.loc[zero, "suppression_reason"].item() == ""
    assert out.loc[zero, "total"].item() == 0 and np.isnan(out.loc[zero, "pct_positive"].item())
    # without a parent there is no secondary suppression
    assert not out.loc[out["practice"] == "P0", "suppressed"].item()


def test_secondary_suppression_within_parent():
    out = suppress_small_counts(_units(), parent_col="pcn").set_index("practice")
    assert out["suppressed"].to_dict() == {
        "P0": True, "P1": True, "P2": False, "P3": False,
        "P4": False, "P5": True, "P6": True, "P7": False, "P8": False,
    }
    assert out.loc["P0", "suppression_reason"] == "hidden so a small unit cannot be derived"
    assert out.loc["P5", "suppression_reason"] == "fewer than 5 responses"
    # secondary: counts hidden (so PCN total minus the visible units no longer reveals P1), percentage kept
    assert np.isnan(out.loc["P0", "total"]) and np.isnan(out.loc["P0", "very_good"])
    assert out.loc["P0", "pct_positive"] == pytest.approx(100.0)
    assert out.loc["P2", "total"] == 50


# ---------------------------------------------------------------------------------------------------------------------
# SPC
# ---------------------------------------------------------------------------------------------------------------------

QUIET = [12, 10] * 7  # mean 11, every moving range 2; ends below the mean so it never joins a run above it


def _rules(result):
    return result.points["rules"].tolist()


def test_spc_limits_hand_worked():
    # mean = 35/5 = 7; mR = 2, 1, 2, 1 -> mean mR 1.5
    r = spc(pd.Series([5, 7, 6, 8, 9], index=pd.period_range("2024-01", periods=5, freq="M")))
    p = r.points
    assert isinstance(p.index, pd.PeriodIndex)
    assert p["mean"].iloc[0] == pytest.approx(7.0)
    assert p["upper_limit"].iloc[0] == pytest.approx(7 + 2.66 * 1.5)  # 10.99
    assert p["lower_limit"].iloc[0] == pytest.approx(7 - 2.66 * 1.5)  # 3.01
    assert p["upper_near"].iloc[0] == pytest.approx(7 + 2.66 * 2 / 3 * 1.5)  # 9.66
    assert p["lower_near"].iloc[0] == pytest.approx(7 - 2.66 * 2 / 3 * 1.5)  # 4.34
    assert p["moving_range"].tolist()[1:] == [2, 1, 2, 1]
    assert not p["special_cause"].any()
    assert r.variation == "common_cause" and r.n_points == 5


def test_spc_screens_large_moving_ranges_like_nhsrplotthedots():
    # mR: nine 2s and two 20s -> mean 58/11 = 5.27; 3.267 * 5.27 = 17.2, so the 20s are dropped -> mean mR = 2
    vals = [10, 12, 10, 12, 10, 12, 10, 30, 10, 12, 10, 12]
    p = spc(vals).points
    assert p["mean"].iloc[0] == pytest.approx(12.5)
    assert p["upper_limit"].iloc[0] == pytest.approx(12.5 + 2.66 * 2)
    assert p.loc[7, "rules"] == "outside limits"


def test_spc_drops_missing_values_and_keeps_index():
    s = pd.Series([5, np.nan, 7, 6, 8, 9], index=list("abcdef"))
    r = spc(s)
    assert list(r.points.index) == ["a", "c", "d", "e", "f"]
    assert r.points["upper_limit"].iloc[0] == pytest.approx(10.99)  # same as without the gap


def test_single_point_outside_limits():
    r = spc(QUIET + [20], direction="higher")
    assert _rules(r) == [""] * 14 + ["outside limits"]
    assert r.points["point_type"].iloc[-1] == "improvement" and r.points["side"].iloc[-1] == "high"
    assert r.points["special_cause"].sum() == 1
    assert r.variation == "improvement_high"


def test_shift_of_seven_and_six():
    seven = QUIET + [11.6, 11.9] * 3 + [11.6] + [10, 12, 10]
    assert _rules(spc(seven)) == [""] * 14 + ["shift"] * 7 + [""] * 3
    six = QUIET + [11.6, 11.9] * 3 + [10, 12, 10]
    assert not spc(six).points["special_cause"].any()
    assert _rules(spc(six, run_length=6)) == [""] * 14 + ["shift"] * 6 + [""] * 3
    assert spc(six, run_length=6).run_length == 6


def test_point_on_the_mean_breaks_a_shift():
    # sum = 154 + 69 + 11 + 63 = 297 over 27 points: the mean is exactly 11.0, so the 4th 11.x point sits on it
    on_mean = QUIET + [11.5] * 3 + [11.0] + [11.5] * 3 + [10.5] * 6
    r = spc(on_mean)
    assert r.points["mean"].iloc[0] == 11.0
    assert not r.points["special_cause"].any()
    above = QUIET + [11.5] * 7 + [10.5] * 6
    assert _rules(spc(above))[14:21] == ["shift"] * 7


def test_trend_of_seven_and_not_six():
    rising7 = QUIET + [9.5, 10, 10.5, 11, 11.5, 12, 12.5] + [10, 12, 10]
    assert _rules(spc(rising7)) == [""] * 14 + ["trend"] * 7 + [""] * 3
    rising6 = QUIET + [9.5, 10, 10.5, 11, 11.5, 12] + [10, 12, 10]
    assert not spc(rising6).points["special_cause"].any()


def test_trend_repeated_value_neither_adds_nor_breaks():
    # 7 distinct rising values with a repeat inside: still a trend (all 8 points flagged)
    with_tie = QUIET + [9.5, 10, 10.5, 10.5, 11, 11.5, 12, 12.5] + [10, 12, 10]
    assert _rules(spc(with_tie)) == [""] * 14 + ["trend"] * 8 + [""] * 3
    # 7 points but only 6 distinct values: the repeat does not extend a 6-run to 7 ...
    six_distinct = QUIET + [9.5, 10, 10.5, 10.5, 11, 11.5, 12] + [10, 12, 10]
    assert not spc(six_distinct).points["special_cause"].any()
    # ... and it is a trend under the 6-point rule
    assert _rules(spc(six_distinct, run_length=6))[14:21] == ["trend"] * 7


def test_falling_trend_above_the_mean_is_low_side():
    # NHSRplotthedots issue 171: a trend's side is its direction of travel, not its side of the mean
    r = spc(QUIET + [15, 14.5, 14, 13.5, 13, 12.5, 12] + [10, 12, 10], direction="higher")
    p = r.points.iloc[14:21]
    assert all("trend" in x for x in p["rules"]) and all("shift" in x for x in p["rules"])
    assert set(p["side"]) == {"low"} and set(p["point_type"]) == {"concern"}


QUIET2 = [10.5, 10] * 10  # mean ~10.3, mean mR ~0.5 -> 2-sigma lines ~ +/- 0.9


def test_two_of_three_near_limits_same_side():
    r = spc(QUIET2 + [11.5, 10.6, 11.5] + [10, 10.5, 10])
    assert _rules(r)[20:23] == ["2 of 3 near limits", "", "2 of 3 near limits"]
    assert r.points["special_cause"].sum() == 2  # only the points beyond the 2-sigma line are flagged
    p = r.points
    assert (p["value"].iloc[[20, 22]] > p["upper_near"].iloc[0]).all()
    assert (p["value"].iloc[[20, 22]] < p["upper_limit"].iloc[0]).all()


def test_two_of_three_not_when_on_opposite_sides():
    r = spc(QUIET2 + [11.5, 10.3, 9.0] + [10, 10.5, 10])
    p = r.points
    assert p["value"].iloc[20] > p["upper_near"].iloc[0] and p["value"].iloc[22] < p["lower_near"].iloc[0]
    assert not p["special_cause"].any()


def test_two_of_three_counts_a_point_beyond_the_limit():
    # current Making Data Count rule: "beyond 2 sigma" includes beyond the process limit
    r = spc(QUIET2 + [11.5, 10.6, 12.5] + [10, 10.5, 10])
    assert _rules(r)[20:23] == ["2 of 3 near limits", "", "outside limits; 2 of 3 near limits"]


def test_improvement_or_concern_follows_direction():
    vals = QUIET + [20]
    assert spc(vals, direction="higher").points["point_type"].iloc[-1] == "improvement"
    lower = spc(vals, direction="lower")
    assert lower.points["point_type"].iloc[-1] == "concern" and lower.variation == "concern_high"
    neutral = spc(vals)
    assert neutral.points["point_type"].iloc[-1] == "neutral special cause" and neutral.variation == "neutral_high"
    low = spc(QUIET + [2], direction="higher")
    assert low.variation == "concern_low" and low.points["side"].iloc[-1] == "low"
    assert spc(QUIET + [2], direction="lower").variation == "improvement_low"


def test_variation_icon_is_the_latest_point():
    r = spc(QUIET + [20, 12, 10], direction="higher")
    assert r.points["special_cause"].sum() == 1  # the earlier special cause is still on the chart ...
    assert r.variation == "common_cause"  # ... but the icon describes the latest point
    assert r.variation_text == VARIATION_WORDS["common_cause"]
    assert spc(QUIET + [20], direction="higher").variation_text.startswith(
        "Special cause variation – improvement (higher is better)")


def test_assurance_pass_fail_hit_and_miss():
    vals = [12, 10] * 8  # limits 5.68 .. 16.32
    assert spc(vals, "higher", target=5).assurance == "pass"
    assert spc(vals, "higher", target=20).assurance == "fail"
    assert spc(vals, "higher", target=11).assurance == "hit_and_miss"
    assert spc(vals, "lower", target=20).assurance == "pass"
    assert spc(vals, "lower", target=5).assurance == "fail"
    r = spc(vals, "lower", target=11)
    assert r.assurance_text == "Hit and miss: the target lies between the process limits"
    none = spc(vals, "higher")
    assert none.assurance == "none" and none.assurance_text == "No target set"
    assert spc(vals, "neutral", target=5).assurance == "none"


def test_trial_limits_flag_under_twelve_points():
    eleven = spc([12, 10] * 5 + [12])
    assert eleven.trial_limits and "trial limits" in eleven.variation_text
    twelve = spc([12, 10] * 6)
    assert not twelve.trial_limits and "trial" not in twelve.variation_text
    assert twelve.summary()["trial_limits"] is False and twelve.summary()["n_points"] == 12


def test_rebasing_recalculates_limits_per_segment():
    vals = [12, 10] * 6 + [22, 20] * 6
    assert spc(vals).points["special_cause"].all()  # one set of limits: the step change is special cause
    r = spc(vals, rebase_at=[12])
    p = r.points
    assert not p["special_cause"].any()
    assert p["mean"].iloc[0] == pytest.approx(11) and p["mean"].iloc[-1] == pytest.approx(21)
    assert p["upper_limit"].iloc[-1] == pytest.approx(21 + 2.66 * 2)  # the jump is not a moving range of segment 1
    assert p["segment"].tolist() == [0] * 12 + [1] * 12
    assert np.isnan(p["moving_range"].iloc[12])


def test_spc_summary_and_symbols():
    s = spc(QUIET + [20], direction="higher", target=5).summary()
    assert s["variation"] == "improvement_high" and s["variation_symbol"] == VARIATION_SYMBOLS["improvement_high"]
    assert s["assurance_symbol"] == ASSURANCE_SYMBOLS[s["assurance"]]
    assert set(VARIATION_WORDS) == set(VARIATION_SYMBOLS) and set(ASSURANCE_WORDS) == set(ASSURANCE_SYMBOLS)
    assert spc([]).variation == "none"


# ---------------------------------------------------------------------------------------------------------------------
# RAG
# ---------------------------------------------------------------------------------------------------------------------


def test_rag_both_directions_with_tolerance():
    assert rag_status(82, 80, "higher", 5) == "green"
    assert rag_status(80, 80, "higher", 5) == "green"
    assert rag_status(75, 80, "higher", 5) == "amber"
    assert rag_status(74.9, 80, "higher", 5) == "red"
    assert rag_status(9, 10, "lower", 2) == "green"
    assert rag_status(11.5, 10, "lower", 2) == "amber"
    assert rag_status(12.5, 10, "lower", 2) == "red"
    assert rag_status(12.5, 10, "neutral", 2) == "none"
    assert rag_status(np.nan, 10, "higher", 2) == "none"
    assert rag_status(5, None, "higher", 2) == "none"
    assert list(rag_status([82, 77, 70], 80, "higher", 5)) == ["green", "amber", "red"]
    assert set(RAG_WORDS) == set(RAG_SYMBOLS) == {"green", "amber", "red", "none"}


# ---------------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------------

AS_OF = date(2024, 6, 30)


def _training_inputs():
    staff = pd.DataFrame(
        {
            "staff_id": ["s1", "s2", "s3", "s4"],
            "role": ["GP", "GP", "Receptionist", "GP"],
            "practice_code": ["A", "A", "B", "B"],
            "name": ["Ann", "Bob", "Cat", "Dan"],
        }
    )
    requirements = pd.DataFrame(
        {
            "role": ["GP", "GP", "Receptionist", "Receptionist"],
            "course": ["BLS", "Safeguarding children L3", "Fire safety", "Safeguarding children L1"],
            "renewal_months": pd.array([12, None, 24, None], dtype="Int64"),
            "hours": [np.nan, 8.0, np.nan, 2.0],
            "window_months": pd.array([None, 36, None, 36], dtype="Int64"),
        }
    )
    completions = pd.DataFrame(
        [
            ("s1", "BLS", date(2024, 1, 15), 1.0),
            ("s2", "BLS", date(2023, 8, 1), 1.0),
            ("s2", "BLS", date(2024, 7, 15), 1.0),  # after as_of: ignored
            ("s1", "Safeguarding children L3", date(2021, 5, 1), 4.0),  # out of the window on 30/6/2024
            ("s1", "Safeguarding children L3", date(2022, 3, 1), 3.0),
            ("s1", "Safeguarding children L3", date(2023, 9, 1), 2.0),
            ("s1", "Safeguarding children L3", date(2024, 2, 1), 3.0),
            ("s3", "Fire safety", date(2022, 5, 1), np.nan),
            ("s3", "Safeguarding children L1", date(2021, 1, 10), 2.0),
            ("s4", "Safeguarding children L3", date(2021, 8, 1), 8.0),
        ],
        columns=["staff_id", "course", "completed_on", "hours"],
    )
    return staff, completions, requirements


def test_training_status_renewal_and_rolling_hours():
    staff, completions, requirements = _training_inputs()
    st = training_status(staff, completions, requirements, AS_OF)
    assert len(st) == 8 and "name" in st.columns
    row = st.set_index(["staff_id", "course"])

    bls1 = row.loc[("s1", "BLS")]
    assert bls1["rule"] == "renewal" and bls1["status"] == "in date"
    assert bls1["expires_on"] == pd.Timestamp("2025-01-15") and bls1["days_left"] == 199

    bls2 = row.loc[("s2", "BLS")]  # the July 2024 completion is after as_of
    assert bls2["last_completed"] == pd.Timestamp("2023-08-01")
    assert bls2["expires_on"] == pd.Timestamp("2024-08-01") and bls2["status"] == "lapsing" and bls2["days_left"] == 32

    fire = row.loc[("s3", "Fire safety")]
    assert fire["status"] == "lapsed" and fire["days_left"] == -60

    # 3 + 2 + 3 = 8 hours in the window; newest first the 8th hour comes from 1/3/2022 -> expires 1/3/2025
    sg1 = row.loc[("s1", "Safeguarding children L3")]
    assert sg1["rule"] == "hours" and sg1["hours_in_window"] == 8.0
    assert sg1["expires_on"] == pd.Timestamp("2025-03-01") and sg1["status"] == "in date"

    sg4 = row.loc[("s4", "Safeguarding children L3")]  # one 8-hour course on 1/8/2021: lapses 1/8/2024
    assert sg4["status"] == "lapsing" and sg4["expires_on"] == pd.Timestamp("2024-08-01")

    sg3 = row.loc[("s3", "Safeguarding children L1")]
    assert sg3["status"] == "lapsed" and sg3["hours_in_window"] == 0.0
    assert sg3["expires_on"] == pd.Timestamp("2024-01-10")

    never = row.loc[("s2", "Safeguarding children L3")]
    assert never["status"] == "never completed" and pd.isna(never["expires_on"]) and pd.isna(never["days_left"])
    assert row.loc[("s4", "BLS"), "status"] == "never completed"
    assert str(st["days_left"].dtype) == "Int64"


def test_training_lapsing_window_and_month_end():
    staff = pd.DataFrame({"staff_id": [1], "role": ["Nurse"], "practice_code": ["A"]})
    req = pd.DataFrame({"role": ["Nurse"], "course": ["IG"], "renewal_months": [6], "hours": [np.nan],
                        "window_months": [np.nan]})
    comp = pd.DataFrame({"staff_id": [1], "course": ["IG"], "completed_on": [date(2023, 8, 31)], "hours": [1.0]})
    st = training_status(staff, comp, req, date(2024, 1, 15), lapsing_days=30)
    assert st.loc[0, "expires_on"] == pd.Timestamp("2024-02-29")  # calendar months, clamped to month end
    assert st.loc[0, "days_left"] == 45 and st.loc[0, "status"] == "in date"
    assert training_status(staff, comp, req, date(2024, 1, 15), lapsing_days=45).loc[0, "status"] == "lapsing"
    assert training_status(staff, comp, req, date(2024, 2, 29)).loc[0, "status"] == "lapsing"  # last valid day
    assert training_status(staff, comp, req, date(2024, 3, 1)).loc[0, "status"] == "lapsed"


def _brute_force_hours_expiry(dates, hours, need, window_months, as_of):
    """Day by day: the last day on which the rolling total of completions (counted until d + window) >= need."""
    dates = [pd.Timestamp(d) for d in dates]
    ends = [d + pd.DateOffset(months=window_months) for d in dates]
    best = pd.NaT
    day = min(dates)
    last_day = max(ends)
    while day <= last_day:
        total = sum(h for d, e, h in zip(dates, ends, hours) if d <= day <= e and d <= pd.Timestamp(as_of))
        if total >= need:
            best = day
        day += pd.Timedelta(days=1)
    return best


def test_rolling_hours_expiry_matches_brute_force():
    rng = np.random.default_rng(7)
    as_of = date(2024, 6, 30)
    staff = pd.DataFrame({"staff_id": range(12), "role": "GP", "practice_code": "A"})
    req = pd.DataFrame({"role": ["GP"], "course": ["SG"], "renewal_months": [np.nan], "hours": [6.0],
                        "window_months": [24]})
    rows = []
    for sid in range(12):
        for _ in range(rng.integers(1, 6)):
            rows.append((sid, "SG", pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 1640))),
                         float(rng.choice([1.0, 2.0, 3.0]))))
    comp = pd.DataFrame(rows, columns=["staff_id", "course", "completed_on", "hours"])
    st = training_status(staff, comp, req, as_of).set_index("staff_id")
    for sid in range(12):
        c = comp[(comp.staff_id == sid) & (comp.completed_on <= pd.Timestamp(as_of))]
        expected = _brute_force_hours_expiry(c.completed_on, c.hours, 6.0, 24, as_of)
        got = st.loc[sid, "expires_on"]
        assert (pd.isna(expected) and pd.isna(got)) or got == expected, sid
        in_window = c.hours[[d + pd.DateOffset(months=24) >= pd.Timestamp(as_of) for d in c.completed_on]].sum()
        assert st.loc[sid, "hours_in_window"] == pytest.approx(in_window)
        assert (st.loc[sid, "status"] in ("in date", "lapsing")) == (in_window >= 6.0)


def test_training_status_is_fast_enough():
    rng = np.random.default_rng(0)
    n_staff, courses = 8000, [f"c{i}" for i in range(15)]
    staff = pd.DataFrame({"staff_id": np.arange(n_staff), "role": rng.choice(["GP", "Nurse", "Admin"], n_staff),
                          "practice_code": rng.choice(list("ABCDEFGHIJ"), n_staff)})
    req = pd.DataFrame([(r, c, 12 if i % 2 else np.nan, 8.0 if i % 3 == 0 else np.nan, 36 if i % 3 == 0 else np.nan)
                        for r in ["GP", "Nurse", "Admin"] for i, c in enumerate(courses)],
                       columns=["role", "course", "renewal_months", "hours", "window_months"])
    m = n_staff * 25
    comp = pd.DataFrame({"staff_id": rng.integers(0, n_staff, m), "course": rng.choice(courses, m),
                         "completed_on": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 2200, m), "D"),
                         "hours": rng.choice([1.0, 2.0, np.nan], m)})
    start = time.perf_counter()
    st = training_status(staff, comp, req, AS_OF)
    assert time.perf_counter() - start < 5
    assert len(st) == n_staff * 15


def test_compliance_rate_counts_lapsing_as_in_date():
    staff, completions, requirements = _training_inputs()
    st = training_status(staff, completions, requirements, AS_OF)
    overall = compliance_rate(st)
    assert overall.iloc[0].to_dict() == {"required": 8, "in_date": 4, "lapsing": 2, "lapsed": 2,
                                         "never_completed": 2, "compliance_pct": 50.0}
    by = compliance_rate(st, ["practice_code"]).set_index("practice_code")
    assert by.loc["A", "compliance_pct"] == pytest.approx(75.0)  # 3 of 4 (one lapsing still counts)
    assert by.loc["B", "compliance_pct"] == pytest.approx(25.0)


# ---------------------------------------------------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------------------------------------------------


def test_aggregate_proportion_pools_not_averages():
    df = pd.DataFrame({"pcn": ["X", "X", "Y"], "numerator": [10, 90, 5], "denominator": [20, 100, np.nan]})
    out = aggregate_proportion(df, by=["pcn"]).set_index("pcn")
    assert out.loc["X", "value"] == pytest.approx(100 / 120 * 100)  # 83.3%, not the mean of 50% and 90%
    lo, hi = wilson_interval(100, 120)
    assert out.loc["X", "lower_ci"] == pytest.approx(lo * 100) and out.loc["X", "upper_ci"] == pytest.approx(hi * 100)
    assert np.isnan(out.loc["Y", "value"])  # its only row has no denominator
    overall = aggregate_proportion(df)
    assert len(overall) == 1 and overall.loc[0, "numerator"] == 100 and overall.loc[0, "denominator"] == 120


def test_screening_never_collapses_limits_to_zero_width():
    # mR = 0 x 6 and 3: screening would leave mean mR 0 and flag every 5 as outside; keep the unscreened 3/7 instead
    r = spc([5, 5, 5, 5, 5, 5, 5, 8])
    assert r.points["upper_limit"].iloc[0] == pytest.approx(5.375 + 2.66 * 3 / 7)
    assert not any("outside limits" in x for x in _rules(r)[:7])  # (they are a shift: 7 points below 5.375)
    flat = spc([5] * 8)  # constant: no variation, so no limits and nothing outside them
    assert not flat.points["special_cause"].any() and flat.variation == "no_variation"
    assert flat.points["upper_limit"].isna().all()
