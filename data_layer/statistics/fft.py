"""Friends and Family Test: percentages by NHS England's definitions and small-number suppression as NHS England's
``fft_pipeline`` (``src/fft/suppression.py``) applies it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FFT_CATEGORIES", "fft_percentages", "suppress_small_counts"]

FFT_CATEGORIES = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
_FFT_COUNT_COLUMNS = FFT_CATEGORIES + ("positive", "negative")
_FFT_VALUE_COLUMNS = ("pct_positive", "pct_negative")


def fft_percentages(counts: pd.DataFrame) -> pd.DataFrame:
    """Add ``total``, ``positive``, ``negative``, ``pct_positive``, ``pct_negative`` to FFT answer counts.

    NHS England's definitions (fft_pipeline, FFT_DATA_REFERENCE.md): % positive = (Very good + Good) / all responses,
    % negative = (Poor + Very poor) / all responses. "Neither" and "Don't know" stay in the denominator: leaving them
    out would inflate both percentages and make practices with many "Don't know" answers look better than they are.

    ``counts`` needs the six columns in :data:`FFT_CATEGORIES`; other columns are carried through. ``total`` is always
    recomputed from the six answers (an imported "total responses" column, if it is called ``total``, is replaced so
    the percentages and the total can never disagree). Missing counts count as 0. Percentages are 0..100 floats and
    NaN when total is 0. Only for the 2020+ six-answer question - never mix it with the old "likely to recommend"
    scale in one series.
    """
    missing = [c for c in FFT_CATEGORIES if c not in counts.columns]
    if missing:
        raise KeyError(f"FFT counts are missing columns: {missing}")
    out = counts.copy()
    num = {c: pd.to_numeric(out[c], errors="coerce").fillna(0) for c in FFT_CATEGORIES}
    total = sum(num[c] for c in FFT_CATEGORIES)
    positive = num["very_good"] + num["good"]
    negative = num["poor"] + num["very_poor"]
    out["total"] = total
    out["positive"] = positive
    out["negative"] = negative
    t = total.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_positive"] = np.where(t > 0, positive.to_numpy(dtype=float) / t * 100.0, np.nan)
        out["pct_negative"] = np.where(t > 0, negative.to_numpy(dtype=float) / t * 100.0, np.nan)
    return out


_REASON_SECONDARY = "hidden so a small unit cannot be derived"


def suppress_small_counts(
    df: pd.DataFrame,
    total_col: str = "total",
    min_count: int = 5,
    parent_col: str | None = None,
    value_cols: list[str] | None = None,
) -> pd.DataFrame:
    """Hide small FFT counts so individual patients' answers cannot be identified.

    Adds a bool column ``suppressed`` and a string column ``suppression_reason``:

    * **Primary** (``"fewer than 5 responses"``): a unit with 1..min_count-1 responses. Its counts (``total_col``
      and, where present, the six answer columns and ``positive`` / ``negative``) and its values (``value_cols``,
      default ``pct_positive`` / ``pct_negative`` where present) become NaN.
    * **Secondary** (``"hidden so a small unit cannot be derived"``), only when ``parent_col`` is given: within each
      parent (e.g. PCN, federation), non-zero units are ordered by total; if the smallest is primary-suppressed, the
      next smallest is suppressed too, otherwise the hidden counts could be recovered as parent total minus the
      visible units. As DOMAIN.md and fft_pipeline ``apply_second_level_suppression`` / ``suppress_values`` specify,
      a secondary-suppressed unit has its **counts** hidden but keeps its percentages (it has enough responses for
      them to be safe); its total is hidden too, so the percentages cannot be turned back into counts. Ties in total
      keep the input order.
    * Rows with 0 responses are not suppressed (nothing to hide), are not ranked, and get NaN values.

    Apply this last, to the rows being displayed: aggregates (parent totals, funnel pooled proportions) must be
    computed from the unsuppressed data first. Count columns become float so they can hold NaN.
    """
    out = df.copy()
    total = pd.to_numeric(out[total_col], errors="coerce")
    primary = ((total >= 1) & (total < min_count)).fillna(False).to_numpy(dtype=bool)
    zero = (total == 0).fillna(False).to_numpy(dtype=bool)
    secondary = np.zeros(len(out), dtype=bool)

    if parent_col is not None:
        nz = (total > 0).fillna(False).to_numpy(dtype=bool)
        ranks = pd.DataFrame(
            {
                "parent": out[parent_col].to_numpy(dtype=object),
                "total": total.to_numpy(dtype=float),
                "primary": primary,
                "pos": np.arange(len(out)),
            }
        )[nz]
        ranks = ranks.sort_values(["total", "pos"], kind="mergesort")
        grouped = ranks.groupby("parent", dropna=False, sort=False)
        rank = grouped.cumcount().to_numpy()
        smallest_is_primary = grouped["primary"].transform("first").to_numpy(dtype=bool)
        hit = (rank == 1) & smallest_is_primary & ~ranks["primary"].to_numpy(dtype=bool)
        secondary[ranks["pos"].to_numpy()[hit]] = True

    count_cols = [total_col] + [c for c in _FFT_COUNT_COLUMNS if c in out.columns and c != total_col]
    if value_cols is None:
        value_cols = [c for c in _FFT_VALUE_COLUMNS if c in out.columns]
    value_cols = [c for c in value_cols if c not in count_cols]

    hide_counts = primary | secondary
    for col in count_cols:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(hide_counts)
    for col in value_cols:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(primary | zero)

    out["suppressed"] = hide_counts
    reason = np.full(len(out), "", dtype=object)
    reason[secondary] = _REASON_SECONDARY
    reason[primary] = f"fewer than {min_count} responses"
    out["suppression_reason"] = pd.Series(reason, index=out.index, dtype="str")
    return out
