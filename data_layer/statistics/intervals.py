"""Confidence intervals, benchmark comparison and funnel plots for proportions, as PHEindicatormethods (OHID
Fingertips) computes them: Wilson score intervals (``wilson_lower`` / ``wilson_upper``), "entirely above / below the
benchmark", and funnel limits (``sigma_adjustment`` used by ``phe_funnels`` / ``calculate_funnel_limits`` and
``assign_funnel_significance``). Proportions are 0..1 here.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from ._common import Direction, _confidence, _confidence_suffix, _direction, _is_scalar, _to_float, _z

__all__ = ["wilson_interval", "compare_with_benchmark", "funnel_limits", "funnel_position"]


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
