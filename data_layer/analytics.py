"""Statistics for the federation governance dashboard.

Pure functions over numbers, numpy arrays and pandas objects: no database, no Streamlit. Every page that shows a
number with a judgement attached to it (a confidence interval, a funnel plot, an SPC icon, a RAG rating, a training
status) gets it from here, so the table and the chart can never disagree about what a number means.

The methods follow the public reference implementations named in ``/work/shared/DOMAIN.md``:

* **Proportions, benchmarks and funnels** - PHEindicatormethods (OHID Fingertips): Wilson score intervals
  (``wilson_lower`` / ``wilson_upper``), the "entirely above / below the benchmark" comparison, and funnel limits for
  proportions (``sigma_adjustment`` used by ``phe_funnels`` / ``calculate_funnel_limits`` and
  ``assign_funnel_significance``).
* **Statistical process control** - NHSRplotthedots (``ptd_spc_standard``, ``ptd_calculate_point_type``,
  ``ptd_calculate_assurance_type``, ``ptd_get_icons``), i.e. NHS England's "Making Data Count" XmR chart. Where the
  package and DOMAIN.md / current Making Data Count guidance differ, the difference is stated in :func:`spc`.
* **FFT suppression** - NHS England ``fft_pipeline`` (``src/fft/suppression.py``).

Units: proportions are 0..1 unless a name says ``pct`` (0..100). Aggregates are always sum(numerators) /
sum(denominators), never a mean of percentages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "Direction",
    "wilson_interval",
    "compare_with_benchmark",
    "funnel_limits",
    "funnel_position",
    "FFT_CATEGORIES",
    "fft_percentages",
    "suppress_small_counts",
    "SpcResult",
    "spc",
    "VARIATION_WORDS",
    "VARIATION_SYMBOLS",
    "ASSURANCE_WORDS",
    "ASSURANCE_SYMBOLS",
    "rag_status",
    "RAG_WORDS",
    "RAG_SYMBOLS",
    "TRAINING_STATUSES",
    "training_status",
    "compliance_rate",
    "aggregate_proportion",
]

Direction = Literal["higher", "lower", "neutral"]

# --------------------------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------------------------


def _to_float(x: Any) -> np.ndarray:
    """Return ``x`` as a float ndarray (0-d for scalars); anything non-numeric or missing becomes NaN.

    Needed because values arrive as numpy arrays, pandas nullable integers (``pd.NA``), pandas 3 string columns from
    importers, or plain Python numbers, and every function here should treat "missing" the same way: NaN.
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        return x.astype(float)
    if isinstance(x, (pd.Series, pd.Index)) or isinstance(x, pd.api.extensions.ExtensionArray):
        return pd.to_numeric(pd.Series(x), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.ndim(x) == 0:
        if x is None:
            return np.asarray(np.nan)
        try:
            if pd.isna(x):
                return np.asarray(np.nan)
            return np.asarray(float(x))
        except (TypeError, ValueError):
            return np.asarray(np.nan)
    arr = np.asarray(x, dtype=object)
    flat = pd.to_numeric(pd.Series(arr.ravel()), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return flat.reshape(arr.shape)


def _is_scalar(*xs: Any) -> bool:
    return all(np.ndim(x) == 0 for x in xs)


def _confidence(confidence: float) -> float:
    """Normalise a confidence level given as 0.95 or as 95 (PHEindicatormethods accepts both)."""
    c = float(confidence)
    if c >= 1.0:
        c = c / 100.0
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be in (0, 1) or (1, 100), got {confidence!r}")
    return c


def _z(confidence: float) -> float:
    """Two-sided normal quantile, PHE's ``zscore()``: qnorm(c + (1 - c) / 2). 95% -> 1.959964, 99.8% -> 3.090232."""
    c = _confidence(confidence)
    return NormalDist().inv_cdf(c + (1.0 - c) / 2.0)


def _confidence_suffix(confidence: float) -> str:
    """Column suffix for a confidence level: 0.95 -> '95', 0.998 -> '99_8'."""
    pct = round(_confidence(confidence) * 100.0, 6)
    return f"{pct:g}".replace(".", "_")


_DIRECTION_ALIASES = {
    "higher": "higher",
    "increase": "higher",
    "up": "higher",
    "higher is better": "higher",
    "lower": "lower",
    "decrease": "lower",
    "down": "lower",
    "lower is better": "lower",
    "neutral": "neutral",
    "none": "neutral",
    "": "neutral",
}


def _direction(direction: Any) -> str:
    """Accept our own words and NHSRplotthedots' ('increase' / 'decrease' / 'neutral'); None means neutral."""
    if direction is None or (not isinstance(direction, str) and pd.isna(direction)):
        return "neutral"
    key = str(direction).strip().lower()
    if key not in _DIRECTION_ALIASES:
        raise ValueError(f"direction must be 'higher', 'lower' or 'neutral', got {direction!r}")
    return _DIRECTION_ALIASES[key]


# --------------------------------------------------------------------------------------------------------------------
# Confidence intervals, benchmark comparison, funnel plots (PHEindicatormethods)
# --------------------------------------------------------------------------------------------------------------------


def wilson_interval(numerator, denominator, confidence: float = 0.95):
    """Wilson score interval for a proportion, as proportions 0..1 (not %).

    Why Wilson: OHID Fingertips (PHEindicatormethods ``wilson_lower`` / ``wilson_upper``) uses it for every
    proportion because, unlike the normal approximation, it never leaves 0..1 and behaves at 0/n and n/n - which
    matters for small practices and small monthly FFT counts. The formula is PHE's::

        lower = (2x + z^2 - z * sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))
        upper = (2x + z^2 + z * sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))

    with z = qnorm(c + (1 - c)/2). ``confidence`` may be 0.95 or 95 (99.8% is the Fingertips alternative).

    Worked examples (checked by hand, z = 1.959964, z^2 = 3.841459):

    * 50/100: sqrt(3.8415 + 4*50*0.5) = 10.1903, times z = 19.9726; (100 + 3.8415 -/+ 19.9726) / 207.6829
      -> 0.4038 .. 0.5962.
    * 0/10: lower = 0 exactly; upper = 2z^2 / (2(10 + z^2)) = 3.8415 / 13.8415 = 0.2775.
    * 10/10: lower = 2*10 / (2*13.8415) = 0.7225; upper = 1.
    * 65/100 at 95%: 0.5525 .. 0.7364; at 99.8% (z = 3.090232): 0.4955 .. 0.7784.

    Vectorised: two scalars in -> two floats out; arrays / Series in -> two numpy arrays out. A denominator of 0,
    negative or NaN, a negative numerator, or a numerator above the denominator gives NaN (PHE raises an error; a
    dashboard showing many practices should show a gap for the bad row instead of failing the whole page).
    """
    scalar = _is_scalar(numerator, denominator)
    x, n = np.broadcast_arrays(_to_float(numerator), _to_float(denominator))
    z = _z(confidence)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.isfinite(x) & np.isfinite(n) & (n > 0) & (x >= 0) & (x <= n)
        xs = np.where(valid, x, 0.0)
        ns = np.where(valid, n, 1.0)
        root = z * np.sqrt(np.maximum(z2 + 4.0 * xs * (1.0 - xs / ns), 0.0))
        denom = 2.0 * (ns + z2)
        lower = (2.0 * xs + z2 - root) / denom
        upper = (2.0 * xs + z2 + root) / denom
    lower = np.where(xs == 0, 0.0, lower)  # exact bounds at 0/n and n/n (rounding would give 0.9999999999999999)
    upper = np.where(xs == ns, 1.0, upper)
    lower = np.where(valid, np.clip(lower, 0.0, 1.0), np.nan)
    upper = np.where(valid, np.clip(upper, 0.0, 1.0), np.nan)
    if scalar:
        return float(lower), float(upper)
    return lower, upper


def compare_with_benchmark(lower, upper, benchmark, direction: Direction):
    """Fingertips-style comparison of a confidence interval with a benchmark.

    Why: ranking practices on point estimates turns noise into league tables; Fingertips instead says a value is
    significantly higher / lower only when the whole interval lies on one side of the benchmark (strictly: an interval
    that touches the benchmark is "similar").

    * interval entirely above -> ``"higher"``; entirely below -> ``"lower"``; otherwise ``"similar"``;
    * ``direction="higher"`` (higher is better) turns higher/lower into ``"better"`` / ``"worse"``,
      ``direction="lower"`` the reverse; ``"neutral"`` keeps higher / similar / lower;
    * any of lower, upper or benchmark missing -> ``"not compared"``.

    Units only have to agree (all proportions or all %). Scalars in -> str out; arrays in -> object ndarray of str.
    """
    direction = _direction(direction)
    scalar = _is_scalar(lower, upper, benchmark)
    lo, hi, b = np.broadcast_arrays(_to_float(lower), _to_float(upper), _to_float(benchmark))
    out = np.full(lo.shape, "similar", dtype=object)
    with np.errstate(invalid="ignore"):
        above = lo > b
        below = hi < b
    if direction == "higher":
        out[above], out[below] = "better", "worse"
    elif direction == "lower":
        out[above], out[below] = "worse", "better"
    else:
        out[above], out[below] = "higher", "lower"
    out[~(np.isfinite(lo) & np.isfinite(hi) & np.isfinite(b))] = "not compared"
    if scalar:
        return str(out.reshape(()).item())
    return out


def _phe_funnel_limit(pooled: float, n: np.ndarray, confidence: float, side: str) -> np.ndarray:
    """PHEindicatormethods ``sigma_adjustment(p, population, average_proportion, side, multiplier = 1)``.

    p = 1 - (1 - c)/2, i.e. 0.975 for the 95% limits and 0.999 for the 99.8% limits. The result is the observed
    proportion at denominator n whose Wilson interval just touches the pooled proportion, so a practice outside the
    funnel is exactly one whose Wilson interval excludes the pooled value. Unclipped; NaN for n <= 0 / NaN.
    """
    c = _confidence(confidence)
    z = NormalDist().inv_cdf(1.0 - (1.0 - c) / 2.0)
    z2 = z * z
    P = float(pooled)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(n) & (n > 0)
        n = np.where(ok, n, 1.0)
        first = P * (n / z2 + 1.0)
        disc = (-8.0 * P * (n / z2 + 1.0)) ** 2 - 64.0 * (1.0 / z2 + 1.0 / n) * P * (
            n * (P * (n / z2 + 2.0) - 1.0) + z2 * (P - 1.0)
        )
        adj = np.sqrt(np.maximum(disc, 0.0))  # disc is >= 0 in exact arithmetic; guard rounding at P = 0 or 1
        last = 1.0 / z2 + 1.0 / n
        value = (first - adj / 8.0) / last if side == "low" else (first + adj / 8.0) / last
        value = value / n
    return np.where(ok, value, np.nan)


def funnel_limits(pooled_proportion: float, denominators, confidences=(0.95, 0.998)) -> pd.DataFrame:
    """Funnel-plot control limits around the pooled proportion for each denominator (PHE method for proportions).

    Why: comparing practices of very different sizes on one chart is fair only if the "expected noise" band widens
    for small denominators; that band is the funnel. ``pooled_proportion`` must be sum(numerators) / sum(denominators)
    over the practices being compared (see :func:`aggregate_proportion`), as ``phe_funnels`` computes it.

    Limits are PHEindicatormethods' ``sigma_adjustment`` (Wilson-based, hence not symmetric except at 0.5), clipped to
    [0, 1] as ``phe_funnels`` clips to [0, multiplier]. Columns: ``denominator`` then, for each confidence c,
    ``lower_<c>`` and ``upper_<c>`` (``lower_95``, ``upper_95``, ``lower_99_8``, ``upper_99_8`` by default), as
    proportions 0..1. A denominator <= 0 or missing gives NaN limits. To draw a smooth funnel pass e.g.
    ``np.unique(np.geomspace(1, max_denominator, 100).round())`` as denominators.
    """
    n = np.atleast_1d(_to_float(denominators)).ravel()
    out = pd.DataFrame({"denominator": n})
    for c in confidences:
        suffix = _confidence_suffix(c)
        out[f"lower_{suffix}"] = np.clip(_phe_funnel_limit(pooled_proportion, n, c, "low"), 0.0, 1.0)
        out[f"upper_{suffix}"] = np.clip(_phe_funnel_limit(pooled_proportion, n, c, "high"), 0.0, 1.0)
    return out


def funnel_position(numerator, denominator, pooled_proportion, confidence=0.998):
    """Where each unit sits on the funnel: ``"above"``, ``"within"`` or ``"below"`` the limits at ``confidence``.

    Same test as PHEindicatormethods ``assign_funnel_significance`` for proportions: strictly above the upper limit /
    strictly below the lower limit (default 99.8%, the "3 sigma" funnel; pass 0.95 for the inner one). A missing or
    non-positive denominator, or a numerator outside 0..denominator, gives ``"not compared"``. Scalars in -> str out.
    """
    scalar = _is_scalar(numerator, denominator)
    x, n = np.broadcast_arrays(_to_float(numerator), _to_float(denominator))
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.isfinite(x) & np.isfinite(n) & (n > 0) & (x >= 0) & (x <= n) & np.isfinite(pooled_proportion)
        p = np.where(valid, x / np.where(valid, n, 1.0), np.nan)
        flat_n = n.ravel()
        lo = _phe_funnel_limit(pooled_proportion, flat_n, confidence, "low").reshape(n.shape)
        hi = _phe_funnel_limit(pooled_proportion, flat_n, confidence, "high").reshape(n.shape)
        out = np.full(x.shape, "within", dtype=object)
        out[p > hi] = "above"
        out[p < lo] = "below"
    out[~valid] = "not compared"
    if scalar:
        return str(out.reshape(()).item())
    return out


# --------------------------------------------------------------------------------------------------------------------
# Friends and Family Test
# --------------------------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------------------------
# Statistical process control (NHSRplotthedots / Making Data Count)
# --------------------------------------------------------------------------------------------------------------------

SPC_LIMIT = 2.66  # 3 sigma for an XmR chart = 2.66 x mean moving range
SPC_NEAR = 2.0 * SPC_LIMIT / 3.0  # 2 sigma = 1.7733 x mean moving range (the "close to limit" line)
SPC_MR_SCREEN = 3.267  # moving ranges at or above 3.267 x mean mR are left out (NHSRplotthedots screen_outliers)
SPC_TRIAL_POINTS = 12  # fewer points than this -> limits are trial limits

RULE_OUTSIDE = "outside limits"
RULE_TREND = "trend"
RULE_TWO_IN_THREE = "2 of 3 near limits"
RULE_SHIFT = "shift"

VARIATION_WORDS = {
    "common_cause": "Common cause variation – no significant change",
    "improvement_high": "Special cause variation – improvement (higher is better)",
    "improvement_low": "Special cause variation – improvement (lower is better)",
    "concern_high": "Special cause variation – concern (higher, where lower is better)",
    "concern_low": "Special cause variation – concern (lower, where higher is better)",
    "neutral_high": "Special cause variation – unusually high (no preferred direction)",
    "neutral_low": "Special cause variation – unusually low (no preferred direction)",
    "none": "Not enough data to calculate process limits",
}
# Text symbols (not colour, not emoji) so the icon means the same in a table, a PDF and to a screen reader user.
VARIATION_SYMBOLS = {
    "common_cause": "∼",
    "improvement_high": "⇑",
    "improvement_low": "⇓",
    "concern_high": "↑!",
    "concern_low": "↓!",
    "neutral_high": "↑",
    "neutral_low": "↓",
    "none": "–",
}
ASSURANCE_WORDS = {
    "pass": "Consistently passes the target",
    "fail": "Consistently fails the target",
    "hit_and_miss": "Hit and miss: the target lies between the process limits",
    "none": "No target set",
}
ASSURANCE_SYMBOLS = {"pass": "P", "fail": "F", "hit_and_miss": "?", "none": "–"}


@dataclass
class SpcResult:
    """Result of :func:`spc`.

    ``points`` (index as the input, missing values dropped) has columns ``value``, ``mean``, ``lower_limit``,
    ``upper_limit``, ``lower_near``, ``upper_near`` (the 2-sigma lines), ``special_cause`` (bool), ``rules`` (e.g.
    ``"outside limits; shift"``), ``point_type`` (``"common cause"`` / ``"improvement"`` / ``"concern"`` /
    ``"neutral special cause"``), ``side`` (``"high"`` / ``"low"`` / ``""``), plus ``moving_range`` (unscreened
    |x_i - x_(i-1)| within the segment), ``segment`` (0, 1, ... after each rebase) and ``trial_limits`` (the point's
    segment has fewer than 12 points).

    ``variation`` / ``assurance`` are icon codes for the LATEST point (see :data:`VARIATION_WORDS`,
    :data:`ASSURANCE_WORDS`); ``variation_text`` is the words for the icon, with a trial-limits warning appended when
    ``trial_limits`` is true. ``trial_limits`` refers to the segment of the latest point, i.e. the limits the icons
    were judged against.
    """

    points: pd.DataFrame
    variation: str
    variation_text: str
    assurance: str
    assurance_text: str
    trial_limits: bool
    run_length: int
    n_points: int
    direction: str = "neutral"
    target: float | None = None

    def summary(self) -> dict:
        """One row of scalars for an indicator table: the icons, their symbols and words, and the latest limits."""
        last = self.points.iloc[-1] if len(self.points) else None

        def _get(col: str) -> float:
            return float(last[col]) if last is not None else float("nan")

        return {
            "variation": self.variation,
            "variation_symbol": VARIATION_SYMBOLS.get(self.variation, ""),
            "variation_text": self.variation_text,
            "assurance": self.assurance,
            "assurance_symbol": ASSURANCE_SYMBOLS.get(self.assurance, ""),
            "assurance_text": self.assurance_text,
            "trial_limits": self.trial_limits,
            "run_length": self.run_length,
            "n_points": self.n_points,
            "direction": self.direction,
            "target": self.target,
            "latest_value": _get("value"),
            "mean": _get("mean"),
            "lower_limit": _get("lower_limit"),
            "upper_limit": _get("upper_limit"),
        }


def _segments(n: int, rebase_at) -> np.ndarray:
    """Segment number of each input position: a new segment starts at every position in ``rebase_at``."""
    if not rebase_at:
        return np.zeros(n, dtype=int)
    starts = []
    for r in rebase_at:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
            raise TypeError(f"rebase_at must hold integer positions, got {r!r}")
        if not 0 <= int(r) < n:
            raise ValueError(f"rebase position {r} is outside 0..{n - 1}")
        if int(r) > 0:
            starts.append(int(r))
    starts = np.unique(np.asarray(starts, dtype=int))
    return np.searchsorted(starts, np.arange(n), side="right")


def _sign(d: np.ndarray, tol: float) -> np.ndarray:
    """Sign with a tiny tolerance so 2.0000000000000004 counts as 'on the mean' / 'repeated value'."""
    s = np.sign(d)
    s[np.abs(d) <= tol] = 0
    return s.astype(int)


def _runs(mask_values: np.ndarray):
    """Yield (start, end_exclusive, value) for runs of equal values."""
    n = len(mask_values)
    i = 0
    while i < n:
        j = i + 1
        while j < n and mask_values[j] == mask_values[i]:
            j += 1
        yield i, j, mask_values[i]
        i = j


def _shift_flags(rtm: np.ndarray, run_length: int) -> np.ndarray:
    """Points in a run of >= run_length consecutive points on the same side of the mean.

    As ``ptd_seven_point_one_side_mean``: a point exactly on the mean (sign 0) belongs to neither side and breaks the
    run.
    """
    flags = np.zeros(len(rtm), dtype=bool)
    for start, end, v in _runs(rtm):
        if v != 0 and end - start >= run_length:
            flags[start:end] = True
    return flags


def _trend_flags(y: np.ndarray, run_length: int, tol: float):
    """Points in a run of ``run_length`` points all rising or all falling; a repeated value neither adds nor breaks.

    Consecutive equal values are collapsed into one step before counting (DOMAIN.md / NHS "guide to creating and
    interpreting run and control charts": like values do not make or break a trend), so 1,2,3,3,4,5,6,7 is a
    7-point rising trend (8 points flagged) while 1,2,3,3,4,5,6 is only 6 distinct rising values. Flagged points run
    from the last point of the first value to the first point of the last value. Returns (flags, direction) where
    direction is +1 / -1 for trend points; a point at the turn of two trends takes the later one (the reference uses
    "the right side").
    """
    n = len(y)
    flags = np.zeros(n, dtype=bool)
    direction = np.zeros(n, dtype=int)
    if n < 2:
        return flags, direction
    d = _sign(np.diff(y), tol)
    # groups of repeated values
    new_group = np.concatenate([[True], d != 0])
    group_id = np.cumsum(new_group) - 1
    n_groups = group_id[-1] + 1
    first_idx = np.flatnonzero(new_group)
    last_idx = np.concatenate([first_idx[1:] - 1, [n - 1]])
    if n_groups < run_length:
        return flags, direction
    step = d[d != 0]  # sign between consecutive groups, length n_groups - 1
    for start, end, s in _runs(step):
        # steps start..end-1 connect groups start..end
        if end - start + 1 >= run_length:
            a = last_idx[start]
            b = first_idx[end]
            flags[a : b + 1] = True
            direction[a : b + 1] = s
    return flags, direction


def _two_in_three_flags(beyond_high: np.ndarray, beyond_low: np.ndarray, rtm: np.ndarray) -> np.ndarray:
    """Points beyond a 2-sigma line that form 2 of 3 consecutive such points, all three on the same side of the mean.

    As ``ptd_two_in_three`` (all three points of the window on one side of the mean; only the points beyond the line
    are flagged) but counting points beyond the process limit too, per the current Making Data Count rule
    (NHSRplotthedots issue 194) and DOMAIN.md "2 of 3 points in the close zone (or beyond)".
    """
    n = len(rtm)
    flags = np.zeros(n, dtype=bool)
    for i in range(n - 2):
        w = slice(i, i + 3)
        if np.all(rtm[w] == 1) and beyond_high[w].sum() >= 2:
            flags[w] |= beyond_high[w]
        elif np.all(rtm[w] == -1) and beyond_low[w].sum() >= 2:
            flags[w] |= beyond_low[w]
    return flags


def spc(
    values,
    direction: Direction = "neutral",
    target: float | None = None,
    run_length: int = 7,
    rebase_at: list[int] | None = None,
) -> SpcResult:
    """XmR (individuals) chart with NHS "Making Data Count" rules, as NHSRplotthedots computes it.

    Why: month-to-month FFT, QOF and access figures move by chance; SPC separates that common-cause noise from
    special-cause signals so boards react to real change only. The icon for the latest point and the words for it
    come from the same calculation as the chart, so a table and a chart cannot disagree.

    Calculation (``ptd_spc_standard``), per segment (see ``rebase_at``):

    * NaN values are dropped first; the moving ranges then join the points either side of a gap.
    * mean; moving ranges mR_i = |x_i - x_(i-1)| within the segment; mean mR.
    * Outlier screening, as NHSRplotthedots does by default (``screen_outliers = TRUE``): moving ranges that are not
      below 3.267 x mean mR are dropped and the mean mR is recalculated once. Two degenerate cases differ from the
      R code: a segment whose moving ranges are all 0 keeps mean mR = 0 and limits equal to the mean (R: NaN limits);
      and if screening would leave only zero moving ranges (e.g. counts 0,0,0,0,0,1) the unscreened mean mR is kept,
      because zero-width limits would flag every point (R: every point "outside limits").
    * limits = mean +/- 2.66 x mean mR; near-limit lines = mean +/- 1.773 x mean mR (2/3 of the way).

    Rules (each evaluated within a segment; a run never crosses a rebase):

    1. ``outside limits`` - strictly above the upper or below the lower limit.
    2. ``trend`` - ``run_length`` points all rising or all falling; repeated values are skipped, neither adding to nor
       breaking the trend. **Deviation:** NHSRplotthedots' ``ptd_seven_point_trend`` uses ``sign(diff(y))``, so there
       a tie breaks a trend; we follow DOMAIN.md and the NHS run-chart guide that package's authors cite (PR 24).
       Without ties the two agree exactly.
    3. ``2 of 3 near limits`` - two of three consecutive points beyond the same 2-sigma line, all three on the same
       side of the mean. **Deviation:** points beyond the process limit count too (current Making Data Count rule,
       NHSRplotthedots issue 194); the package's ``close_to_limits`` counts only points between 2 and 3 sigma.
    4. ``shift`` - ``run_length`` or more consecutive points on the same side of the mean; a point exactly on the
       mean breaks the run (as the reference, where its sign is 0).

    ``run_length`` is 7 by default; 6 is the alternative Making Data Count allows (NHSRplotthedots issue 202).

    Each special-cause point gets a side from its highest-priority rule, in the reference's order outside limits >
    trend > 2 of 3 > shift: the side of the mean for 1, 3 and 4, the direction of travel for a trend (a falling trend
    above the mean is "low"). With ``direction`` "higher" a high point is "improvement" and a low one "concern";
    "lower" the reverse; "neutral" gives "neutral special cause".

    Icons (``ptd_get_icons``): the variation icon is the point type of the latest point - ``common_cause``,
    ``improvement_high`` / ``improvement_low``, ``concern_high`` / ``concern_low``, ``neutral_high`` /
    ``neutral_low`` - or ``none`` when the latest segment has fewer than 2 points (no limits). The assurance icon
    (``ptd_calculate_assurance_type``) compares ``target`` with the latest segment's limits: target beyond the limit
    on the bad side of the process (above the upper limit when higher is better) -> ``fail``; beyond the limit on the
    good side -> ``pass``; between or on the limits -> ``hit_and_miss``; no target or neutral direction -> ``none``.

    ``rebase_at``: integer positions in ``values`` (0-based, counting missing values) where a new segment with its
    own mean and limits starts - e.g. at a known change such as a new appointment system.

    Trial limits: fewer than 12 points in a segment (DOMAIN.md; NHSRplotthedots' message says n < 12, though its
    code's default threshold is 13).
    """
    direction = _direction(direction)
    run_length = int(run_length)
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    if isinstance(values, pd.Series):
        index = values.index
        y_all = _to_float(values)
    else:
        y_all = np.atleast_1d(_to_float(values)).ravel()
        index = pd.RangeIndex(len(y_all))
    seg_all = _segments(len(y_all), rebase_at)
    keep = np.isfinite(y_all)
    y = y_all[keep]
    seg = seg_all[keep]
    idx = index[keep]
    n = len(y)

    mean = np.full(n, np.nan)
    amr_arr = np.full(n, np.nan)
    mr_col = np.full(n, np.nan)
    special = np.zeros(n, dtype=bool)
    side_sign = np.zeros(n, dtype=int)
    rule_sets: list[list[str]] = [[] for _ in range(n)]
    trial = np.zeros(n, dtype=bool)

    for s in np.unique(seg):
        pos = np.flatnonzero(seg == s)
        ys = y[pos]
        m = float(ys.mean())
        mr = np.abs(np.diff(ys))
        if len(mr):
            raw_amr = float(mr.mean())
            screened = mr[mr < SPC_MR_SCREEN * raw_amr]
            amr = float(screened.mean()) if len(screened) else 0.0
            if amr == 0.0 and raw_amr > 0.0:
                # screening left only zero moving ranges (e.g. counts 0,0,0,0,0,1): zero-width limits would make
                # every point "outside limits"; keep the unscreened mean mR instead.
                amr = raw_amr
        else:
            amr = np.nan
        mean[pos] = m
        amr_arr[pos] = amr
        mr_col[pos[1:]] = mr
        trial[pos] = len(pos) < SPC_TRIAL_POINTS
        if not np.isfinite(amr):
            continue

        tol = 1e-9 * max(1.0, abs(m), float(np.max(np.abs(ys))))
        rtm = _sign(ys - m, tol)
        upl, lpl = m + SPC_LIMIT * amr, m - SPC_LIMIT * amr
        nupl, nlpl = m + SPC_NEAR * amr, m - SPC_NEAR * amr
        outside = (ys > upl + tol) | (ys < lpl - tol)
        beyond_high = (ys > nupl + tol) & (rtm == 1)
        beyond_low = (ys < nlpl - tol) & (rtm == -1)
        trend, trend_dir = _trend_flags(ys, run_length, tol)
        two3 = _two_in_three_flags(beyond_high, beyond_low, rtm)
        shift = _shift_flags(rtm, run_length)

        for k, p in enumerate(pos):
            rules = rule_sets[p]
            if outside[k]:
                rules.append(RULE_OUTSIDE)
            if trend[k]:
                rules.append(RULE_TREND)
            if two3[k]:
                rules.append(RULE_TWO_IN_THREE)
            if shift[k]:
                rules.append(RULE_SHIFT)
            if rules:
                special[p] = True
                # side from the highest-priority rule, as ptd_special_cause_type's case_when order
                side_sign[p] = trend_dir[k] if (not outside[k] and trend[k]) else rtm[k]

    with np.errstate(invalid="ignore"):
        upper = mean + SPC_LIMIT * amr_arr
        lower = mean - SPC_LIMIT * amr_arr
        upper_near = mean + SPC_NEAR * amr_arr
        lower_near = mean - SPC_NEAR * amr_arr

    side = np.where(side_sign > 0, "high", np.where(side_sign < 0, "low", ""))
    side = np.where(special, side, "")
    if direction == "neutral":
        point_type = np.where(special, "neutral special cause", "common cause")
    else:
        good = "high" if direction == "higher" else "low"
        point_type = np.where(~special, "common cause", np.where(side == good, "improvement", "concern"))

    points = pd.DataFrame(
        {
            "value": y,
            "mean": mean,
            "lower_limit": lower,
            "upper_limit": upper,
            "lower_near": lower_near,
            "upper_near": upper_near,
            "special_cause": special,
            "rules": ["; ".join(r) for r in rule_sets],
            "point_type": point_type.astype(object),
            "side": side.astype(object),
            "moving_range": mr_col,
            "segment": seg.astype(int),
            "trial_limits": trial,
        },
        index=idx,
    )
    for col in ("rules", "point_type", "side"):
        points[col] = points[col].astype("str")

    # ---- icons for the latest point
    target_value = None if target is None or pd.isna(target) else float(target)
    if n == 0 or not np.isfinite(amr_arr[-1]):
        variation = "none"
        trial_latest = True
    else:
        trial_latest = bool(trial[-1])
        if not special[-1]:
            variation = "common_cause"
        else:
            kind = "neutral" if direction == "neutral" else point_type[-1]
            variation = f"{kind}_{side[-1]}"

    if target_value is None:
        assurance, assurance_text = "none", ASSURANCE_WORDS["none"]
    elif direction == "neutral":
        assurance = "none"
        assurance_text = "No assurance: the measure has no preferred direction"
    elif variation == "none":
        assurance = "none"
        assurance_text = "Not enough data to compare the process with the target"
    else:
        higher_better = direction == "higher"
        if target_value > upper[-1]:
            assurance = "fail" if higher_better else "pass"
        elif target_value < lower[-1]:
            assurance = "pass" if higher_better else "fail"
        else:
            assurance = "hit_and_miss"
        assurance_text = ASSURANCE_WORDS[assurance]

    variation_text = VARIATION_WORDS[variation]
    if variation != "none" and trial_latest:
        k = int((seg == seg[-1]).sum())
        variation_text += f" (trial limits: only {k} points, fewer than {SPC_TRIAL_POINTS})"

    return SpcResult(
        points=points,
        variation=variation,
        variation_text=variation_text,
        assurance=assurance,
        assurance_text=assurance_text,
        trial_limits=bool(trial_latest),
        run_length=run_length,
        n_points=int(n),
        direction=direction,
        target=target_value,
    )


def spc_latest(values, direction: Direction = "neutral", target=None, run_length: int = 7) -> pd.DataFrame:
    """The latest point's Making Data Count icons for many series at once: what :func:`spc` says about each series'
    last point, without drawing each chart.

    Why: the board's practice × measure views evaluate every measure for every practice (200 practices × 30 measures
    in an ICB is 6,000 series); calling :func:`spc` per series takes minutes, this takes milliseconds. It is the same
    calculation, restricted to what the latest point needs (one segment, no rebasing), and a test holds it to
    :func:`spc` on every demo series and on random ones.

    ``values``: 2-D array, one row per series, columns in time order; NaN for a missing or suppressed month (dropped,
    as :func:`spc` drops them). ``direction`` and ``target``: one for all rows or one per row.

    Returns one row per series: ``variation``, ``variation_text`` (with the trial-limits warning, as :func:`spc`),
    ``assurance``, ``assurance_text``, ``rules`` (the latest point's rules, e.g. ``"outside limits; shift"``),
    ``n_points``, ``trial_limits``, ``mean``, ``lower_limit``, ``upper_limit``. A series with fewer than 2 values
    gets ``variation`` ``"none"``, as :func:`spc` does when it cannot calculate limits.
    """
    run_length = int(run_length)
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    y_raw = np.atleast_2d(_to_float(values))
    n_series, width = y_raw.shape
    dirs = np.broadcast_to(np.asarray([_direction(d) for d in np.atleast_1d(np.asarray(direction, dtype=object))],
                                      dtype=object), (n_series,))
    targets = np.broadcast_to(_to_float(target if target is not None else np.nan), (n_series,))

    # Missing values are dropped and the moving ranges join the points either side of a gap: move every row's
    # values to the left, in order.
    valid_raw = np.isfinite(y_raw)
    order = np.argsort(~valid_raw, axis=1, kind="stable")
    y = np.take_along_axis(y_raw, order, axis=1)
    n = valid_raw.sum(axis=1)
    col = np.arange(width)[None, :]
    valid = col < n[:, None]
    y0 = np.where(valid, y, 0.0)
    rows = np.arange(n_series)
    last = np.maximum(n - 1, 0)

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = y0.sum(axis=1) / n
        mr = np.abs(np.diff(y0, axis=1)) if width > 1 else np.zeros((n_series, 0))
        mr_valid = valid[:, 1:]
        mr0 = np.where(mr_valid, mr, 0.0)
        n_mr = mr_valid.sum(axis=1)
        raw_amr = mr0.sum(axis=1) / n_mr
        keep = mr_valid & (mr < SPC_MR_SCREEN * raw_amr[:, None])
        n_keep = keep.sum(axis=1)
        amr = np.where(n_keep > 0, np.where(keep, mr, 0.0).sum(axis=1) / np.maximum(n_keep, 1), 0.0)
        amr = np.where((amr == 0.0) & (raw_amr > 0.0), raw_amr, amr)
        amr = np.where(n_mr > 0, amr, np.nan)

        tol = 1e-9 * np.maximum(np.maximum(1.0, np.abs(mean)), np.where(valid, np.abs(y0), 0.0).max(axis=1))
        upl, lpl = mean + SPC_LIMIT * amr, mean - SPC_LIMIT * amr
        nupl, nlpl = mean + SPC_NEAR * amr, mean - SPC_NEAR * amr
        d_mean = y0 - mean[:, None]
        rtm = np.where(np.abs(d_mean) <= tol[:, None], 0, np.sign(d_mean)).astype(int)
        rtm = np.where(valid, rtm, 0)
        y_last = y0[rows, last]
        rtm_last = rtm[rows, last]

        # 1. outside the limits
        outside = (y_last > upl + tol) | (y_last < lpl - tol)
        # 4. shift: the run of points on the latest point's side of the mean that ends with it
        mismatch = valid & (rtm != rtm_last[:, None])
        run_start = np.where(mismatch, col, -1).max(axis=1)
        shift = (rtm_last != 0) & (last - run_start >= run_length)
        # 2. trend: steps between distinct values (repeats skipped); the latest point is flagged when it is the
        # only point of the last value and the steps ending there all go one way, run_length values long
        if width > 1:
            d = np.diff(y0, axis=1)
            step = np.where(np.abs(d) <= tol[:, None], 0, np.sign(d)).astype(int)
            step = np.where(mr_valid, step, 0)
            step_last = step[rows, np.maximum(n - 2, 0)] * (n >= 2)
            opposite = mr_valid & (step == -step_last[:, None]) & (step != 0)
            turn = np.where(opposite, col[:, 1:] - 1, -1).max(axis=1)
            same_way = (mr_valid & (step != 0) & ((col[:, 1:] - 1) > turn[:, None])).sum(axis=1)
            trend = (step_last != 0) & (same_way + 1 >= run_length)
        else:
            step_last = np.zeros(n_series, dtype=int)
            trend = np.zeros(n_series, dtype=bool)
        # 3. two of the last three points beyond the same 2-sigma line, all three on one side of the mean
        two3 = np.zeros(n_series, dtype=bool)
        three = n >= 3
        if three.any():
            w = np.stack([np.maximum(n - 3, 0), np.maximum(n - 2, 0), last], axis=1)
            yw = np.take_along_axis(y0, w, axis=1)
            rw = np.take_along_axis(rtm, w, axis=1)
            high = (yw > (nupl + tol)[:, None]) & (rw == 1)
            low = (yw < (nlpl - tol)[:, None]) & (rw == -1)
            all_high = (rw == 1).all(axis=1) & (high.sum(axis=1) >= 2)
            all_low = (rw == -1).all(axis=1) & (low.sum(axis=1) >= 2)
            two3 = three & ((all_high & high[:, 2]) | (~all_high & all_low & low[:, 2]))

    enough = (n >= 2) & np.isfinite(amr)
    outside, trend, two3, shift = (x & enough for x in (outside, trend, two3, shift))
    special = outside | trend | two3 | shift
    side_sign = np.where(~outside & trend, step_last, rtm_last)
    side = np.where(side_sign > 0, "high", np.where(side_sign < 0, "low", ""))
    trial = n < SPC_TRIAL_POINTS
    variation, variation_text, assurance, assurance_text, rules = [], [], [], [], []
    for i in range(n_series):
        if not enough[i]:
            v = "none"
        elif not special[i]:
            v = "common_cause"
        elif dirs[i] == "neutral":
            v = f"neutral_{side[i]}"
        else:
            good = "high" if dirs[i] == "higher" else "low"
            v = f"{'improvement' if side[i] == good else 'concern'}_{side[i]}"
        text = VARIATION_WORDS.get(v, v)
        if v != "none" and trial[i]:
            text += f" (trial limits: only {int(n[i])} points, fewer than {SPC_TRIAL_POINTS})"
        t = targets[i]
        if not np.isfinite(t):
            a, a_text = "none", ASSURANCE_WORDS["none"]
        elif dirs[i] == "neutral":
            a, a_text = "none", "No assurance: the measure has no preferred direction"
        elif v == "none":
            a, a_text = "none", "Not enough data to compare the process with the target"
        else:
            higher_better = dirs[i] == "higher"
            if t > upl[i]:
                a = "fail" if higher_better else "pass"
            elif t < lpl[i]:
                a = "pass" if higher_better else "fail"
            else:
                a = "hit_and_miss"
            a_text = ASSURANCE_WORDS[a]
        variation.append(v)
        variation_text.append(text)
        assurance.append(a)
        assurance_text.append(a_text)
        rules.append("; ".join(r for r, on in ((RULE_OUTSIDE, outside[i]), (RULE_TREND, trend[i]),
                                               (RULE_TWO_IN_THREE, two3[i]), (RULE_SHIFT, shift[i])) if on))
    return pd.DataFrame({
        "variation": variation, "variation_text": variation_text, "assurance": assurance,
        "assurance_text": assurance_text, "rules": rules, "n_points": n.astype(int),
        "trial_limits": trial | ~enough, "mean": np.where(n > 0, mean, np.nan),
        "lower_limit": np.where(enough, lpl, np.nan), "upper_limit": np.where(enough, upl, np.nan),
    })


# --------------------------------------------------------------------------------------------------------------------
# RAG against a target
# --------------------------------------------------------------------------------------------------------------------

RAG_WORDS = {"green": "On target", "amber": "Near target", "red": "Off target", "none": "No target"}
RAG_SYMBOLS = {"green": "✔", "amber": "▲", "red": "✖", "none": "–"}


def _rag_one(value: float, target: float, direction: str, tolerance: float) -> str:
    if direction == "neutral" or not np.isfinite(value) or not np.isfinite(target):
        return "none"
    tol = abs(tolerance) if np.isfinite(tolerance) else 0.0
    gap = value - target if direction == "higher" else target - value  # >= 0 means the target is met
    if gap >= 0:
        return "green"
    if gap >= -tol:
        return "amber"
    return "red"


def rag_status(value, target, direction: Direction, tolerance: float):
    """Red / amber / green against a target, for a single headline number.

    ``"green"`` meets the target (>= for higher-is-better, <= for lower-is-better), ``"amber"`` misses it by no more
    than ``tolerance`` (in the indicator's own units, e.g. 2 percentage points), ``"red"`` otherwise; ``"none"`` when
    value or target is missing or the direction is neutral (a target without a preferred direction cannot be missed).
    Always show :data:`RAG_WORDS` or :data:`RAG_SYMBOLS` with the colour (WCAG: colour never carries meaning alone).
    RAG is a snapshot; use :func:`spc` to say whether a change is real. Scalars in -> str; arrays in -> ndarray.
    """
    direction = _direction(direction)
    if _is_scalar(value, target, tolerance):
        return _rag_one(float(_to_float(value)), float(_to_float(target)), direction, float(_to_float(tolerance)))
    v, t, tol = np.broadcast_arrays(_to_float(value), _to_float(target), _to_float(tolerance))
    out = np.empty(v.shape, dtype=object)
    for i in np.ndindex(v.shape):
        out[i] = _rag_one(float(v[i]), float(t[i]), direction, float(tol[i]))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Training compliance
# --------------------------------------------------------------------------------------------------------------------

TRAINING_STATUSES = ("in date", "lapsing", "lapsed", "never completed")
_DAY_NS = np.int64(86_400_000_000_000)


def _to_datetime(s) -> pd.Series:
    return pd.to_datetime(s, errors="coerce").dt.normalize().astype("datetime64[ns]")


def _add_months(dates: pd.Series, months) -> pd.Series:
    """Add whole calendar months, clamping to the month end (31 Jan + 1 month = 28/29 Feb), like pd.DateOffset.

    Vectorised with a different number of months per row; NaT dates or NaN months give NaT.
    """
    d = pd.DatetimeIndex(_to_datetime(pd.Series(dates)))
    m = np.asarray(_to_float(months), dtype=float)
    m = np.broadcast_to(m, (len(d),))
    ok = ~d.isna() & np.isfinite(m)
    mm = np.where(ok, m, 0).astype(np.int64)
    year = np.where(ok, d.year, 1970).astype(np.int64)
    month0 = np.where(ok, d.month, 1).astype(np.int64) - 1
    day = np.where(ok, d.day, 1).astype(np.int64)
    total = year * 12 + month0 + mm
    first = ((total - 1970 * 12)).astype("datetime64[M]")
    first_day = first.astype("datetime64[D]")
    days_in_month = ((first + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    result = first_day + (np.minimum(day, days_in_month) - 1).astype("timedelta64[D]")
    result = result.astype("datetime64[ns]")
    result[~ok] = np.datetime64("NaT")
    return pd.Series(result, index=getattr(dates, "index", None))


def training_status(
    staff: pd.DataFrame,
    completions: pd.DataFrame,
    requirements: pd.DataFrame,
    as_of: date,
    lapsing_days: int = 90,
) -> pd.DataFrame:
    """Status of every (member of staff x course required for their role) pair on ``as_of``.

    Why: CQC expects each practice to decide its mandatory training, tell staff, and monitor uptake (Regulation 18,
    GP mythbuster 70); the unit of compliance is the required pair, and practice leads act on what is about to lapse.

    Inputs: ``staff`` (``staff_id``, ``role``, ``practice_code`` and any other columns, carried through; staff in post
    only); ``completions`` (``staff_id``, ``course``, ``completed_on``, ``hours`` - may be NaN); ``requirements``
    (``role``, ``course``, ``renewal_months``, ``hours``, ``window_months``; nullable). Completions dated after
    ``as_of`` are ignored so a past ``as_of`` reproduces a past report. Duplicate (role, course) requirement rows:
    the first wins.

    Output: one row per pair, staff columns first, then ``course``, ``rule``, ``required_hours``,
    ``last_completed``, ``expires_on`` (both datetime64, NaT when none), ``hours_in_window`` (hours rules only),
    ``days_left`` (nullable Int64: expires_on - as_of in days) and ``status``:

    * **renewal rule** (``hours`` empty): expires_on = last completion + ``renewal_months`` calendar months (month-end
      clamped). A requirement with no renewal period is one-off: done once, in date forever (expires_on NaT).
    * **hours rule** (``hours`` given): hours accumulated over the rolling ``window_months`` (``renewal_months`` if
      no window is given) must reach ``hours``. A completion counts up to and including the day ``window_months``
      after it, the same convention as renewal expiry. ``hours_in_window`` is the total on ``as_of``.
      expires_on = last day the rolling total stays at or above the requirement with nothing new done: walking
      completions newest first until the hours are reached, the oldest one needed + window_months. For a lapsed
      pair it is the last day it was met (NaT if the hours were never reached). Without any window the hours are
      accumulated for ever and never expire.
    * status: ``"never completed"`` (no completion of the course), ``"lapsed"`` (has completions but is not compliant
      today, including an hours requirement never yet reached), ``"lapsing"`` (in date, 0 <= days_left <=
      ``lapsing_days``; the expiry day itself is the last valid day) or ``"in date"``.

    Fully vectorised (merges, a sorted cumulative sum and ``searchsorted``): 8,000 staff x 15 courses with 25
    completions each runs in well under a few seconds.
    """
    as_of_ts = pd.Timestamp(as_of).normalize()
    as_of_ns = np.datetime64(as_of_ts.to_datetime64(), "ns")

    req = requirements.loc[:, ["role", "course"]].copy()
    req["_renewal"] = _to_float(requirements["renewal_months"]) if "renewal_months" in requirements else np.nan
    req["_hours"] = _to_float(requirements["hours"]) if "hours" in requirements else np.nan
    req["_window"] = _to_float(requirements["window_months"]) if "window_months" in requirements else np.nan
    req = req.drop_duplicates(["role", "course"], keep="first")

    staff_cols = list(staff.columns)
    pairs = staff.merge(req, on="role", how="inner", sort=False).reset_index(drop=True)
    pairs["_pair"] = np.arange(len(pairs))
    is_hours = pairs["_hours"].notna().to_numpy()
    window = np.where(pairs["_window"].notna(), pairs["_window"], pairs["_renewal"]).astype(float)
    pairs["_win"] = np.where(is_hours, window, np.nan)

    comp = completions.loc[:, ["staff_id", "course"]].copy()
    comp["_date"] = _to_datetime(completions["completed_on"])
    comp["_h"] = np.nan_to_num(_to_float(completions["hours"]), nan=0.0) if "hours" in completions else 0.0
    comp = comp[comp["_date"].notna() & (comp["_date"] <= as_of_ts)]

    # every completion of a required course, tagged with its pair
    cp = comp.merge(pairs[["staff_id", "course", "_pair"]], on=["staff_id", "course"], how="inner")
    last = cp.groupby("_pair")["_date"].max()
    last_completed = pd.Series(pd.NaT, index=pairs.index, dtype="datetime64[ns]")
    last_completed.iloc[last.index.to_numpy()] = last.to_numpy()
    has_any = last_completed.notna().to_numpy()

    # ---- renewal rules
    expires = _add_months(last_completed, np.where(is_hours, np.nan, pairs["_renewal"].to_numpy(dtype=float)))
    expires = expires.to_numpy(dtype="datetime64[ns]").copy()

    # ---- hours rules
    hours_in_window = np.full(len(pairs), np.nan)
    if is_hours.any():
        hrs = cp[is_hours[cp["_pair"].to_numpy()]].copy()
        hrs = hrs.sort_values(["_pair", "_date"], kind="mergesort").reset_index(drop=True)
        pair_ids = hrs["_pair"].to_numpy()
        need = pairs["_hours"].to_numpy(dtype=float)[pair_ids]
        win = pairs["_win"].to_numpy(dtype=float)[pair_ids]
        days = (hrs["_date"].to_numpy(dtype="datetime64[ns]").astype(np.int64) // _DAY_NS).astype(np.int64)
        end = _add_months(hrs["_date"], win).to_numpy(dtype="datetime64[ns]")
        end_days = np.where(np.isnat(end), 0, end.astype(np.int64) // _DAY_NS)
        shift = np.int64(200_000)
        key = pair_ids.astype(np.int64) * np.int64(1_000_000) + days + shift
        end_key = pair_ids.astype(np.int64) * np.int64(1_000_000) + end_days + shift
        cum = np.concatenate([[0.0], np.cumsum(hrs["_h"].to_numpy(dtype=float))])
        lo = np.searchsorted(key, key, side="left")
        hi = np.searchsorted(key, end_key, side="right")
        windowed = np.isfinite(win)
        # total in the window that starts at this completion, up to its anniversary
        span_total = cum[hi] - cum[lo]
        valid = windowed & (span_total >= need - 1e-9)
        cand = pd.Series(np.where(valid, end, np.datetime64("NaT")).astype("datetime64[ns]"))
        best = cand.groupby(pair_ids).max()
        expires[best.index.to_numpy()] = best.to_numpy(dtype="datetime64[ns]")

        counts_now = np.where(windowed, ~np.isnat(end) & (end >= as_of_ns), True)
        now_h = pd.Series(np.where(counts_now, hrs["_h"].to_numpy(dtype=float), 0.0)).groupby(pair_ids).sum()
        hours_in_window[now_h.index.to_numpy()] = now_h.to_numpy()
        # hours requirement without any window: accumulated for ever, never expires
        no_window = is_hours & ~np.isfinite(pairs["_win"].to_numpy(dtype=float))
        expires[no_window] = np.datetime64("NaT")
    hours_in_window = np.where(is_hours & ~np.isfinite(hours_in_window), 0.0, hours_in_window)

    exp_series = pd.Series(expires, dtype="datetime64[ns]")
    days_left = (exp_series - as_of_ts).dt.days.astype("Int64")
    dl = days_left.to_numpy(dtype=float, na_value=np.nan)

    status = np.full(len(pairs), "in date", dtype=object)
    has_expiry = np.isfinite(dl)
    status[has_expiry & (dl <= lapsing_days)] = "lapsing"
    status[has_expiry & (dl < 0)] = "lapsed"
    # hours rule whose total is below the requirement today (never reached, or no window and not enough yet)
    hours_short = is_hours & (np.nan_to_num(hours_in_window) < pairs["_hours"].to_numpy(dtype=float) - 1e-9)
    windowed_pairs = np.isfinite(pairs["_win"].to_numpy(dtype=float))
    status[is_hours & windowed_pairs & ~has_expiry] = "lapsed"
    status[is_hours & ~windowed_pairs & hours_short] = "lapsed"
    status[~has_any] = "never completed"

    out = pairs[staff_cols].copy()
    out["course"] = pairs["course"].to_numpy()
    out["rule"] = pd.Series(np.where(is_hours, "hours", "renewal"), dtype="str")
    out["required_hours"] = pairs["_hours"].to_numpy(dtype=float)
    out["last_completed"] = last_completed.to_numpy(dtype="datetime64[ns]")
    out["expires_on"] = exp_series.to_numpy(dtype="datetime64[ns]")
    out["hours_in_window"] = np.where(is_hours, hours_in_window, np.nan)
    out["days_left"] = days_left.array
    out["status"] = pd.Series(status, dtype="str")
    return out


def compliance_rate(status: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Training compliance = in-date required pairs / all required pairs, as DOMAIN.md defines it.

    ``status`` is the output of :func:`training_status`. Columns: ``required`` (pairs), ``in_date`` (pairs in date,
    **including** lapsing ones, which are still valid today), ``lapsing`` (the subset of ``in_date`` expiring within
    the lapsing window), ``lapsed``, ``never_completed`` and ``compliance_pct`` = 100 x in_date / required (NaN with
    no required pairs). So in_date + lapsed + never_completed = required. Grouped by ``by`` (e.g.
    ``["practice_code"]`` or ``["practice_code", "course"]``), or one overall row.
    """
    st = status["status"].astype("str")
    frame = pd.DataFrame(
        {
            "required": 1,
            "in_date": st.isin(["in date", "lapsing"]).astype(int).to_numpy(),
            "lapsing": (st == "lapsing").astype(int).to_numpy(),
            "lapsed": (st == "lapsed").astype(int).to_numpy(),
            "never_completed": (st == "never completed").astype(int).to_numpy(),
        },
        index=status.index,
    )
    cols = ["required", "in_date", "lapsing", "lapsed", "never_completed"]
    if by:
        for b in by:
            frame[b] = status[b]
        out = frame.groupby(list(by), dropna=False, sort=True)[cols].sum().reset_index()
    else:
        out = pd.DataFrame([frame[cols].sum().to_dict()], columns=cols)
    req = out["required"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["compliance_pct"] = np.where(req > 0, out["in_date"].to_numpy(dtype=float) / req * 100.0, np.nan)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------------------------------


def aggregate_proportion(df, numerator="numerator", denominator="denominator", by=None) -> pd.DataFrame:
    """Pooled proportion sum(numerator) / sum(denominator) per group, as %, with a Wilson 95% interval.

    Why: a federation's figure is its patients' figure; averaging practice percentages would give a 200-patient
    practice the same weight as a 20,000-patient one (DOMAIN.md: never a mean of percentages).

    Rows where either numerator or denominator is missing are left out of both sums, so the two always describe the
    same patients. Columns: the ``by`` columns, ``numerator``, ``denominator`` (under the names given), ``value``,
    ``lower_ci``, ``upper_ci`` (all %, NaN when the denominator sums to 0). ``by`` None -> one overall row.
    """
    if isinstance(by, str):
        by = [by]
    num = _to_float(df[numerator])
    den = _to_float(df[denominator])
    ok = np.isfinite(num) & np.isfinite(den)
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
