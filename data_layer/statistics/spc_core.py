"""The one XmR calculation behind every Making Data Count icon: limits, moving-range screening and the four rules,
for many series at once.

:func:`xmr` takes a 2-D array - one row per series (or per segment of a rebased series), values packed to the left
in time order, ``valid`` marking the real ones - and returns every point's flags. :func:`data_layer.statistics.spc_charts.spc`
(one chart, with rebasing) and :func:`data_layer.statistics.spc_charts.spc_latest` (the latest point of thousands of series)
are both thin wrappers over it, so the chart and the board table cannot disagree about a point. Nothing here loops in
Python over points or series: an ICB's 6,000 series x 60 months take milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPC_LIMIT = 2.66  # 3 sigma for an XmR chart = 2.66 x mean moving range
SPC_NEAR = 2.0 * SPC_LIMIT / 3.0  # 2 sigma = 1.7733 x mean moving range (the "close to limit" line)
SPC_MR_SCREEN = 3.267  # moving ranges at or above 3.267 x mean mR are left out (NHSRplotthedots screen_outliers)
SPC_TRIAL_POINTS = 12  # fewer points than this -> limits are trial limits
SPC_TOLERANCE = 1e-9  # relative: differences this small (x the series' scale) count as equal

RULE_OUTSIDE = "outside limits"
RULE_TREND = "trend"
RULE_TWO_IN_THREE = "2 of 3 near limits"
RULE_SHIFT = "shift"

_SENTINEL = 9  # run key of cells past the end of a row (never equal to a sign)


@dataclass
class Xmr:
    """Everything :func:`xmr` works out, one row per series; (m,) arrays per series, (m, w) arrays per point.

    ``has_limits`` is false for a row with fewer than 2 points (``enough`` false) or with no variation (``flat``:
    every moving range 0); such a row has NaN limits and no special causes. The limits here are unclamped: they are
    what the rules judged against (see :func:`clamp`).
    """

    y: np.ndarray  # (m, w) values, 0 past the end of a row
    valid: np.ndarray  # (m, w)
    n: np.ndarray  # (m,) points per row
    mean: np.ndarray
    amr: np.ndarray  # mean moving range after screening (NaN with fewer than 2 points)
    enough: np.ndarray  # at least 2 points
    flat: np.ndarray  # at least 2 points, all equal: no variation, no limits
    has_limits: np.ndarray
    lower_limit: np.ndarray
    upper_limit: np.ndarray
    lower_near: np.ndarray
    upper_near: np.ndarray
    moving_range: np.ndarray  # (m, w) unscreened |x_i - x_(i-1)|, NaN at the first point and past the end
    outside: np.ndarray  # (m, w) bool, one per rule
    trend: np.ndarray
    two_in_three: np.ndarray
    shift: np.ndarray
    special: np.ndarray
    side_sign: np.ndarray  # (m, w) +1 high, -1 low, 0 for common cause


def pack_left(y_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop missing values by moving each row's finite values to the left, in order (the moving ranges then join
    the points either side of a gap). Returns (values with 0 past the end, valid mask); at least one column."""
    y_raw = np.atleast_2d(np.asarray(y_raw, dtype=float))
    if y_raw.shape[1] == 0:
        y_raw = np.full((y_raw.shape[0], 1), np.nan)
    ok = np.isfinite(y_raw)
    order = np.argsort(~ok, axis=1, kind="stable")
    y = np.take_along_axis(y_raw, order, axis=1)
    valid = np.arange(y.shape[1])[None, :] < ok.sum(axis=1)[:, None]
    return np.where(valid, y, 0.0), valid


def _signs(d: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Sign with a tolerance per row so 2.0000000000000004 counts as 'on the mean' / 'a repeated value'."""
    return np.where(np.abs(d) <= tol[:, None], 0, np.sign(d)).astype(int)


def _run_bounds(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every cell, the first and last column of the run of equal ``key`` values along the row that holds it."""
    m, w = key.shape
    col = np.broadcast_to(np.arange(w), (m, w))
    starts = np.ones((m, w), dtype=bool)
    starts[:, 1:] = key[:, 1:] != key[:, :-1]
    ends = np.ones((m, w), dtype=bool)
    ends[:, :-1] = key[:, :-1] != key[:, 1:]
    first = np.maximum.accumulate(np.where(starts, col, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, col, w - 1)[:, ::-1], axis=1)[:, ::-1]
    return first, last


def _forward_fill(marks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` at the latest marked cell at or before each cell of the row (0 before the first mark)."""
    col = np.arange(marks.shape[1])[None, :]
    at = np.maximum.accumulate(np.where(marks, col, -1), axis=1)
    return np.where(at >= 0, np.take_along_axis(values, np.maximum(at, 0), axis=1), 0)


def _shift(rtm: np.ndarray, valid: np.ndarray, run_length: int) -> np.ndarray:
    """Points in a run of >= run_length consecutive points on the same side of the mean.

    As ``ptd_seven_point_one_side_mean``: a point exactly on the mean (sign 0) belongs to neither side and breaks the
    run."""
    first, last = _run_bounds(np.where(valid, rtm, _SENTINEL))
    return valid & (rtm != 0) & (last - first + 1 >= run_length)


def _trend(y: np.ndarray, valid: np.ndarray, tol: np.ndarray, run_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of ``run_length`` values all rising or all falling; a repeated value neither adds nor breaks.

    Steps between distinct values are counted, so 1,2,3,3,4,5,6,7 is a 7-point rising trend (8 points flagged) while
    1,2,3,3,4,5,6 holds only 6 distinct rising values. Flagged points run from the last point of the first value to
    the first point of the last value. Returns (flags, direction +1 / -1); a point at the turn of two trends takes
    the later one (the reference uses "the right side")."""
    m, w = y.shape
    flags = np.zeros((m, w), dtype=bool)
    direction = np.zeros((m, w), dtype=int)
    if w < 2:
        return flags, direction
    step_ok = valid[:, 1:]
    step = np.where(step_ok, _signs(np.diff(y, axis=1), tol), 0)
    moving = step != 0
    # run key: the sign of the latest non-zero step, so repeats join the run before them
    key = np.where(step_ok, _forward_fill(moving, step), _SENTINEL)
    first, last = _run_bounds(key)
    rows, cols = np.nonzero((first == np.arange(w - 1)[None, :]) & (np.abs(key) == 1))
    if len(rows) == 0:
        return flags, direction
    cum = np.cumsum(moving, axis=1)
    end = last[rows, cols]
    n_steps = cum[rows, end] - cum[rows, cols] + 1  # the run starts with a non-zero step
    keep = n_steps + 1 >= run_length
    rows, cols, end = rows[keep], cols[keep], end[keep]
    if len(rows) == 0:
        return flags, direction
    last_move = np.maximum.accumulate(np.where(moving, np.arange(w - 1)[None, :], -1), axis=1)[rows, end]
    paint = np.zeros((m, w + 2), dtype=int)
    np.add.at(paint, (rows, cols), 1)  # flagged from the step's first point ...
    np.add.at(paint, (rows, last_move + 2), -1)  # ... to the point after the run's last non-zero step
    flags = np.cumsum(paint, axis=1)[:, :w] > 0
    start_sign = np.zeros((m, w), dtype=int)
    start_sign[rows, cols] = key[rows, cols]
    direction = np.where(flags, _forward_fill(start_sign != 0, start_sign), 0)
    return flags, direction


def _two_in_three(beyond_high: np.ndarray, beyond_low: np.ndarray, rtm: np.ndarray) -> np.ndarray:
    """Points beyond a 2-sigma line that form 2 of 3 consecutive such points, all three on the same side of the mean.

    As ``ptd_two_in_three`` (all three points of the window on one side of the mean; only the points beyond the line
    are flagged) but counting points beyond the process limit too, per the current Making Data Count rule
    (NHSRplotthedots issue 194) and DOMAIN.md "2 of 3 points in the close zone (or beyond)"."""
    m, w = rtm.shape
    flags = np.zeros((m, w), dtype=bool)
    if w < 3:
        return flags
    for beyond, sign in ((beyond_high, 1), (beyond_low, -1)):
        same_side = (rtm[:, :-2] == sign) & (rtm[:, 1:-1] == sign) & (rtm[:, 2:] == sign)
        count = beyond[:, :-2].astype(int) + beyond[:, 1:-1] + beyond[:, 2:]
        window = same_side & (count >= 2)  # window starting at each column
        covered = np.zeros((m, w), dtype=bool)
        for k in range(3):
            covered[:, k:k + w - 2] |= window
        flags |= beyond & covered
    return flags


def xmr(y: np.ndarray, valid: np.ndarray, run_length: int) -> Xmr:
    """XmR limits and the four Making Data Count rules for every point of every row (``ptd_spc_standard``).

    Per row: mean; moving ranges; outlier screening as NHSRplotthedots (``screen_outliers = TRUE``: moving ranges not
    below 3.267 x mean mR are dropped and the mean mR recalculated once, except that if screening would leave only
    zero moving ranges the unscreened mean mR is kept); limits mean +/- 2.66 mR, near lines mean +/- 1.773 mR; then
    outside limits, trend, 2 of 3 beyond the near lines, shift. A row whose points are all equal has no variation:
    no limits and no special cause. See :func:`data_layer.statistics.spc_charts.spc` for the rules and the deviations.
    """
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    m, w = y.shape
    n = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, y.sum(axis=1) / np.maximum(n, 1), np.nan)
        mr_ok = valid[:, 1:]
        mr = np.abs(np.diff(y, axis=1))
        n_mr = mr_ok.sum(axis=1)
        raw_amr = np.where(n_mr > 0, np.where(mr_ok, mr, 0.0).sum(axis=1) / np.maximum(n_mr, 1), np.nan)
        keep = mr_ok & (mr < SPC_MR_SCREEN * raw_amr[:, None])
        n_keep = keep.sum(axis=1)
        amr = np.where(n_keep > 0, np.where(keep, mr, 0.0).sum(axis=1) / np.maximum(n_keep, 1), 0.0)
        amr = np.where((amr == 0.0) & (raw_amr > 0.0), raw_amr, amr)
        amr = np.where(n_mr > 0, amr, np.nan)
    scale = np.maximum(np.maximum(1.0, np.abs(np.nan_to_num(mean))), np.where(valid, np.abs(y), 0.0).max(axis=1))
    tol = SPC_TOLERANCE * scale
    enough = n >= 2
    flat = enough & (raw_amr <= tol)
    has_limits = enough & ~flat
    lim = np.where(has_limits, amr, np.nan)
    upl, lpl = mean + SPC_LIMIT * lim, mean - SPC_LIMIT * lim
    nupl, nlpl = mean + SPC_NEAR * lim, mean - SPC_NEAR * lim

    rtm = np.where(valid, _signs(y - np.nan_to_num(mean)[:, None], tol), 0)
    judged = valid & has_limits[:, None]
    with np.errstate(invalid="ignore"):
        outside = judged & ((y > (upl + tol)[:, None]) | (y < (lpl - tol)[:, None]))
        beyond_high = judged & (y > (nupl + tol)[:, None]) & (rtm == 1)
        beyond_low = judged & (y < (nlpl - tol)[:, None]) & (rtm == -1)
    trend, trend_dir = _trend(y, valid, tol, run_length)
    trend &= judged
    two3 = _two_in_three(beyond_high, beyond_low, rtm) & judged
    shift = _shift(rtm, valid, run_length) & judged
    special = outside | trend | two3 | shift
    # side from the highest-priority rule, as ptd_special_cause_type's case_when order: outside > trend > 2 of 3 >
    # shift; a trend's side is its direction of travel (a falling trend above the mean is "low")
    side_sign = np.where(special, np.where(~outside & trend, trend_dir, rtm), 0)

    moving_range = np.full((m, w), np.nan)
    moving_range[:, 1:] = np.where(mr_ok, mr, np.nan)
    return Xmr(y=y, valid=valid, n=n, mean=mean, amr=amr, enough=enough, flat=flat, has_limits=has_limits,
               lower_limit=lpl, upper_limit=upl, lower_near=nlpl, upper_near=nupl, moving_range=moving_range,
               outside=outside, trend=trend, two_in_three=two3, shift=shift, special=special, side_sign=side_sign)


def check_bounds(bounds) -> tuple[float, float] | None:
    """``None`` or (lower, upper) where either may be None (no bound on that side); lower must not exceed upper."""
    if bounds is None:
        return None
    try:
        lo, hi = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (lower, upper), got {bounds!r}") from None
    lo = -np.inf if lo is None else float(lo)
    hi = np.inf if hi is None else float(hi)
    if np.isnan(lo) or np.isnan(hi) or lo > hi:
        raise ValueError(f"bounds must be (lower, upper) with lower <= upper, got {bounds!r}")
    return lo, hi


def clamp(a: np.ndarray, bounds: tuple[float, float] | None) -> np.ndarray:
    """Limit lines drawn within the bounds (a percentage's limits never pass 0% or 100%); NaN stays NaN.

    Only the lines shown are clamped. The rules and the assurance icon are judged against the unclamped limits,
    which gives the same answer for every point and target inside the bounds (a point cannot lie beyond a limit
    that was clamped to a bound it cannot pass)."""
    if bounds is None:
        return a
    return np.clip(a, bounds[0], bounds[1])


def rule_text(outside, trend, two3, shift) -> list[str]:
    """The rules a point breaks, in words and in the reference's priority order, e.g. ``"outside limits; shift"``."""
    names = (RULE_OUTSIDE, RULE_TREND, RULE_TWO_IN_THREE, RULE_SHIFT)
    return ["; ".join(r for r, on in zip(names, flags) if on)
            for flags in zip(np.ravel(outside), np.ravel(trend), np.ravel(two3), np.ravel(shift))]
