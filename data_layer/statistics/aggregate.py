"""Pooling proportions across practices: sum(numerators) / sum(denominators) over the rows that have both.

Why: a federation's figure is its patients' figure. Averaging practice percentages would give a 200-patient practice
the same weight as a 20,000-patient one (DOMAIN.md: never a mean of percentages), and adding a numerator whose
denominator is missing would count patients above the line who are not below it (one practice with a count and no
denominator lifted cervical screening from 75.4% to 94.9%, issue 10).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import _to_float
from .intervals import wilson_interval

__all__ = ["aggregate_rows_mask", "aggregate_proportion"]


def aggregate_rows_mask(numerator, denominator) -> np.ndarray:
    """Which rows may be pooled: those with a numerator AND a positive denominator (bool ndarray, one per row).

    A row with a count but no denominator (or a denominator of 0) must not lift the pooled figure, and a row with a
    denominator but no count must not lower it: both sums have to describe the same patients. Use this wherever
    numerators and denominators are added up (SQL results included) so every pooled figure follows the same rule.
    """
    num, den = np.broadcast_arrays(np.atleast_1d(_to_float(numerator)), np.atleast_1d(_to_float(denominator)))
    with np.errstate(invalid="ignore"):
        return np.isfinite(num) & np.isfinite(den) & (den > 0)


def aggregate_proportion(df, numerator="numerator", denominator="denominator", by=None) -> pd.DataFrame:
    """Pooled proportion sum(numerator) / sum(denominator) per group, as %, with a Wilson 95% interval.

    Only rows that :func:`aggregate_rows_mask` accepts (a numerator and a positive denominator) are added to either
    sum: practices (70/100, 5/no denominator) give 70%, not 75/100. Columns: the ``by`` columns, ``numerator``,
    ``denominator`` (under the names given; the sums over the rows counted), ``value``, ``lower_ci``, ``upper_ci``
    (all %, NaN when no row of the group could be counted). ``by`` None -> one overall row.
    """
    if isinstance(by, str):
        by = [by]
    num = _to_float(df[numerator])
    den = _to_float(df[denominator])
    ok = aggregate_rows_mask(num, den)
    frame = pd.DataFrame({numerator: np.where(ok, num, 0.0), denominator: np.where(ok, den, 0.0)}, index=df.index)
    if by:
        for b in by:
            frame[b] = df[b]
        out = frame.groupby(list(by), dropna=False, sort=True)[[numerator, denominator]].sum().reset_index()
    else:
        out = pd.DataFrame([frame[[numerator, denominator]].sum().to_dict()], columns=[numerator, denominator])
    n_ = out[numerator].to_numpy(dtype=float)
    d_ = out[denominator].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = np.where(d_ > 0, n_ / d_ * 100.0, np.nan)
    lo, hi = wilson_interval(n_, d_, 0.95)
    out["lower_ci"] = np.asarray(lo) * 100.0
    out["upper_ci"] = np.asarray(hi) * 100.0
    return out
