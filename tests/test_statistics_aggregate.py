"""A pooled figure adds numerators and denominators only from rows that have both (issue 10: one practice with a
count and no denominator lifted a federation's cervical screening from 75.4% to 94.9%)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer.analytics import aggregate_proportion, aggregate_rows_mask, wilson_interval


def test_a_count_without_a_denominator_does_not_lift_the_figure():
    df = pd.DataFrame({"practice": ["A", "B"], "numerator": [70, 5], "denominator": [100, np.nan]})
    out = aggregate_proportion(df)
    assert out.loc[0, "value"] == pytest.approx(70.0)  # not 75/100 = 75%
    assert (out.loc[0, "numerator"], out.loc[0, "denominator"]) == (70, 100)
    lo, hi = wilson_interval(70, 100)
    assert out.loc[0, "lower_ci"] == pytest.approx(lo * 100) and out.loc[0, "upper_ci"] == pytest.approx(hi * 100)


def test_a_zero_denominator_or_a_missing_count_is_left_out_of_both_sums():
    df = pd.DataFrame({"numerator": [70, 5, np.nan], "denominator": [100, 0, 50]})
    out = aggregate_proportion(df)
    # 5/0 would add 5 above the line; NaN/50 would add 50 below it (70/150 = 46.7%)
    assert out.loc[0, "value"] == pytest.approx(70.0)
    assert (out.loc[0, "numerator"], out.loc[0, "denominator"]) == (70, 100)


def test_issue_example_cervical_screening():
    # four practices pooled to 75.4%, then one reports 2,000 screened with no eligible count
    df = pd.DataFrame({"numerator": [754, 1508, 377, 2000], "denominator": [1000, 2000, 500, np.nan]})
    assert aggregate_proportion(df).loc[0, "value"] == pytest.approx(75.4)


def test_groups_with_no_countable_row_have_no_figure():
    df = pd.DataFrame({"pcn": ["X", "X", "Y", "Y"], "numerator": [10, 90, 5, 3],
                       "denominator": [20, 100, np.nan, 0]})
    out = aggregate_proportion(df, by="pcn").set_index("pcn")
    assert out.loc["X", "value"] == pytest.approx(100 / 120 * 100)
    assert np.isnan(out.loc["Y", "value"]) and out.loc["Y", "numerator"] == 0 and out.loc["Y", "denominator"] == 0
    assert np.isnan(out.loc["Y", "lower_ci"])


def test_rows_mask_is_reusable_on_any_input():
    mask = aggregate_rows_mask([70, 5, np.nan, 3, 0], [100, np.nan, 50, 0, 10])
    assert mask.tolist() == [True, False, False, False, True]  # a count of 0 on a real denominator counts
    num = pd.Series([1, None, 3], dtype="Int64")
    den = pd.Series(["10", "20", ""], dtype="str")  # pandas 3 strings from an importer
    assert aggregate_rows_mask(num, den).tolist() == [True, False, False]
    assert aggregate_rows_mask(4, 8).tolist() == [True]
