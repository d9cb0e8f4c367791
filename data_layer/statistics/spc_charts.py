"""Statistical process control as NHS England's "Making Data Count" XmR chart, as NHSRplotthedots computes it
(``ptd_spc_standard``, ``ptd_calculate_point_type``, ``ptd_calculate_assurance_type``, ``ptd_get_icons``).

:func:`spc` draws one chart (every point, with rebasing); :func:`spc_latest` gives the latest point's icons for
thousands of series at once. Both are thin wrappers over :func:`data_layer.statistics.spc_core.xmr` and share
:func:`_icons`, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import Direction, _direction, _to_float
from .spc_core import (  # noqa: F401  (constants re-exported for data_layer.analytics)
    RULE_OUTSIDE,
    RULE_SHIFT,
    RULE_TREND,
    RULE_TWO_IN_THREE,
    SPC_LIMIT,
    SPC_MR_SCREEN,
    SPC_NEAR,
    SPC_TRIAL_POINTS,
    check_bounds,
    clamp,
    pack_left,
    rule_text,
    xmr,
)

__all__ = [
    "SpcResult",
    "spc",
    "spc_latest",
    "VARIATION_WORDS",
    "VARIATION_SYMBOLS",
    "ASSURANCE_WORDS",
    "ASSURANCE_SYMBOLS",
]

VARIATION_WORDS = {
    "common_cause": "Common cause variation – no significant change",
    "improvement_high": "Special cause variation – improvement (higher is better)",
    "improvement_low": "Special cause variation – improvement (lower is better)",
    "concern_high": "Special cause variation – concern (higher, where lower is better)",
    "concern_low": "Special cause variation – concern (lower, where higher is better)",
    "neutral_high": "Special cause variation – unusually high (no preferred direction)",
    "neutral_low": "Special cause variation – unusually low (no preferred direction)",
    "no_variation": "No variation: every point is the same, so there are no limits to judge against",
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
    "no_variation": "=",
    "none": "–",
}
ASSURANCE_WORDS = {
    "pass": "Consistently passes the target",
    "fail": "Consistently fails the target",
    "hit_and_miss": "Hit and miss: the target lies between the process limits",
    "no_limits": "Cannot say: no variation, so there are no process limits to compare with the target",
    "none": "No target set",
}
ASSURANCE_SYMBOLS = {"pass": "P", "fail": "F", "hit_and_miss": "?", "no_limits": "=", "none": "–"}
_NO_DIRECTION = "No assurance: the measure has no preferred direction"
_NO_DATA = "Not enough data to compare the process with the target"


@dataclass
class SpcResult:
    """Result of :func:`spc`.

    ``points`` (index as the input, missing values dropped) has columns ``value``, ``mean``, ``lower_limit``,
    ``upper_limit``, ``lower_near``, ``upper_near`` (the 2-sigma lines; NaN where a segment has no limits),
    ``special_cause`` (bool), ``rules`` (e.g. ``"outside limits; shift"``), ``point_type`` (``"common cause"`` /
    ``"improvement"`` / ``"concern"`` / ``"neutral special cause"``), ``side`` (``"high"`` / ``"low"`` / ``""``),
    plus ``moving_range`` (unscreened |x_i - x_(i-1)| within the segment), ``segment`` (0, 1, ... after each rebase)
    and ``trial_limits`` (the point's segment has fewer than 12 points).

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


def _icons(enough, flat, special, side_sign, n, dirs, targets, upl, lpl):
    """Variation and assurance icons (codes and words) of the latest point of each row, as ``ptd_get_icons``.

    All arguments are per row: the latest point's ``special`` and ``side_sign``, the row's point count ``n`` and
    its unclamped limits. Returns four lists: variation, variation_text, assurance, assurance_text."""
    out_v, out_vt, out_a, out_at = [], [], [], []
    for i in range(len(n)):
        d = dirs[i]
        side = "high" if side_sign[i] > 0 else "low"
        if not enough[i]:
            v = "none"
        elif flat[i]:
            v = "no_variation"
        elif not special[i]:
            v = "common_cause"
        elif d == "neutral":
            v = f"neutral_{side}"
        else:
            v = f"{'improvement' if side == ('high' if d == 'higher' else 'low') else 'concern'}_{side}"
        text = VARIATION_WORDS[v]
        if v not in ("none", "no_variation") and n[i] < SPC_TRIAL_POINTS:
            text += f" (trial limits: only {int(n[i])} points, fewer than {SPC_TRIAL_POINTS})"
        t = targets[i]
        if not np.isfinite(t):
            a, a_text = "none", ASSURANCE_WORDS["none"]
        elif d == "neutral":
            a, a_text = "none", _NO_DIRECTION
        elif v == "none":
            a, a_text = "none", _NO_DATA
        elif v == "no_variation":
            a, a_text = "no_limits", ASSURANCE_WORDS["no_limits"]
        else:
            if t > upl[i]:
                a = "fail" if d == "higher" else "pass"
            elif t < lpl[i]:
                a = "pass" if d == "higher" else "fail"
            else:
                a = "hit_and_miss"
            a_text = ASSURANCE_WORDS[a]
        out_v.append(v)
        out_vt.append(text)
        out_a.append(a)
        out_at.append(a_text)
    return out_v, out_vt, out_a, out_at


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


def spc(
    values,
    direction: Direction = "neutral",
    target: float | None = None,
    run_length: int = 7,
    rebase_at: list[int] | None = None,
    bounds: tuple[float | None, float | None] | None = None,
) -> SpcResult:
    """XmR (individuals) chart with NHS "Making Data Count" rules, as NHSRplotthedots computes it.

    Why: month-to-month FFT, QOF and access figures move by chance; SPC separates that common-cause noise from
    special-cause signals so boards react to real change only. The icon for the latest point and the words for it
    come from the same calculation as the chart, so a table and a chart cannot disagree.

    Calculation (``ptd_spc_standard``), per segment (see ``rebase_at``):

    * NaN values are dropped first; the moving ranges then join the points either side of a gap.
    * mean; moving ranges mR_i = |x_i - x_(i-1)| within the segment; mean mR.
    * Outlier screening, as NHSRplotthedots does by default (``screen_outliers = TRUE``): moving ranges that are not
      below 3.267 x mean mR are dropped and the mean mR is recalculated once. **Deviation:** if screening would leave
      only zero moving ranges (e.g. counts 0,0,0,0,0,1) the unscreened mean mR is kept, because zero-width limits
      would flag every point (R: every point "outside limits").
    * limits = mean +/- 2.66 x mean mR; near-limit lines = mean +/- 1.773 x mean mR (2/3 of the way).
    * **No variation:** a segment of 2 or more points that are all equal (every moving range 0) has no limits (NaN,
      as R's NaN mean mR gives), no special cause, the variation icon ``no_variation`` and, with a target, the
      assurance icon ``no_limits`` ("cannot say"). **Deviation:** R's ``ptd_calculate_assurance_type`` compares the
      target with NaN limits and falls through to "inconsistent" (hit and miss), which says something the data
      cannot show.
    * ``bounds`` (e.g. ``(0, 100)`` for a percentage, ``(0, None)`` for a count): the limit and near-limit lines
      returned are clamped into the bounds, so a percentage never has a limit past 100% or below 0%. Points are
      never changed; rules and assurance are judged on the unclamped limits, which for points and targets inside
      the bounds gives the same answers. **Deviation:** NHSRplotthedots does not clamp limits.

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
    Values within 1e-9 x the series' scale count as equal (so floating-point noise is neither a trend nor a shift).

    Each special-cause point gets a side from its highest-priority rule, in the reference's order outside limits >
    trend > 2 of 3 > shift: the side of the mean for 1, 3 and 4, the direction of travel for a trend (a falling trend
    above the mean is "low"). With ``direction`` "higher" a high point is "improvement" and a low one "concern";
    "lower" the reverse; "neutral" gives "neutral special cause".

    Icons (``ptd_get_icons``): the variation icon is the point type of the latest point - ``common_cause``,
    ``improvement_high`` / ``improvement_low``, ``concern_high`` / ``concern_low``, ``neutral_high`` /
    ``neutral_low`` - ``no_variation`` (see above), or ``none`` when the latest segment has fewer than 2 points (no
    limits). The assurance icon (``ptd_calculate_assurance_type``) compares ``target`` with the latest segment's
    limits: target beyond the limit on the bad side of the process (above the upper limit when higher is better) ->
    ``fail``; beyond the limit on the good side -> ``pass``; between or on the limits -> ``hit_and_miss``; no limits
    -> ``no_limits``; no target or neutral direction -> ``none``.

    ``rebase_at``: integer positions in ``values`` (0-based, counting missing values) where a new segment with its
    own mean and limits starts - e.g. at a known change such as a new appointment system.

    Trial limits: fewer than 12 points in a segment (DOMAIN.md; NHSRplotthedots' message says n < 12, though its
    code's default threshold is 13).
    """
    direction = _direction(direction)
    run_length = int(run_length)
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    bounds = check_bounds(bounds)
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

    # one row per segment, so each segment gets its own mean, limits and runs
    segs, row = np.unique(seg, return_inverse=True)
    if n:
        starts = np.searchsorted(row, np.arange(len(segs)))
        pos = np.arange(n) - starts[row]
        width = int(pos.max()) + 1
    else:
        segs, row, pos, width = np.zeros(1, dtype=int), np.zeros(0, dtype=int), np.zeros(0, dtype=int), 1
    grid = np.zeros((len(segs), width))
    valid = np.zeros((len(segs), width), dtype=bool)
    grid[row, pos] = y
    valid[row, pos] = True
    core = xmr(grid, valid, run_length)

    def per_point(a: np.ndarray) -> np.ndarray:
        return a[row, pos] if a.ndim == 2 else a[row]

    special = per_point(core.special)
    side = np.where(special, np.where(per_point(core.side_sign) > 0, "high", "low"), "")
    if direction == "neutral":
        point_type = np.where(special, "neutral special cause", "common cause")
    else:
        good = "high" if direction == "higher" else "low"
        point_type = np.where(~special, "common cause", np.where(side == good, "improvement", "concern"))
    points = pd.DataFrame(
        {
            "value": y,
            "mean": per_point(core.mean),
            "lower_limit": clamp(per_point(core.lower_limit), bounds),
            "upper_limit": clamp(per_point(core.upper_limit), bounds),
            "lower_near": clamp(per_point(core.lower_near), bounds),
            "upper_near": clamp(per_point(core.upper_near), bounds),
            "special_cause": special,
            "rules": rule_text(per_point(core.outside), per_point(core.trend), per_point(core.two_in_three),
                               per_point(core.shift)),
            "point_type": point_type.astype(object),
            "side": side.astype(object),
            "moving_range": per_point(core.moving_range),
            "segment": seg.astype(int),
            "trial_limits": per_point(core.n) < SPC_TRIAL_POINTS,
        },
        index=idx,
    )
    for col in ("rules", "point_type", "side"):
        points[col] = points[col].astype("str")

    # ---- icons for the latest point, judged on the latest segment (the last row)
    target_value = None if target is None or pd.isna(target) else float(target)
    last = -1
    k = int(core.n[last])
    (variation,), (variation_text,), (assurance,), (assurance_text,) = _icons(
        core.enough[last:], core.flat[last:], core.special[last:, k - 1] if k else [False],
        core.side_sign[last:, k - 1] if k else [0], core.n[last:], [direction],
        [np.nan if target_value is None else target_value], core.upper_limit[last:], core.lower_limit[last:])
    trial_latest = variation == "none" or k < SPC_TRIAL_POINTS
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


def spc_latest(values, direction: Direction = "neutral", target=None, run_length: int = 7,
               bounds: tuple[float | None, float | None] | None = None) -> pd.DataFrame:
    """The latest point's Making Data Count icons for many series at once: what :func:`spc` says about each series'
    last point, without drawing each chart.

    Why: the board's practice × measure views evaluate every measure for every practice (200 practices × 30 measures
    in an ICB is 6,000 series); calling :func:`spc` per series takes minutes, this takes milliseconds. It is the same
    calculation (:func:`data_layer.statistics.spc_core.xmr`, one segment, no rebasing), and a test holds it to
    :func:`spc` on every demo series and on random ones.

    ``values``: 2-D array, one row per series, columns in time order; NaN for a missing or suppressed month (dropped,
    as :func:`spc` drops them). ``direction`` and ``target``: one for all rows or one per row. ``bounds`` clamps the
    limits returned, as in :func:`spc`.

    Returns one row per series: ``variation``, ``variation_text`` (with the trial-limits warning, as :func:`spc`),
    ``assurance``, ``assurance_text``, ``rules`` (the latest point's rules, e.g. ``"outside limits; shift"``),
    ``n_points``, ``trial_limits``, ``mean``, ``lower_limit``, ``upper_limit``. A series with fewer than 2 values
    gets ``variation`` ``"none"``, one whose values are all equal ``"no_variation"`` (NaN limits), as :func:`spc`.
    """
    run_length = int(run_length)
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    bounds = check_bounds(bounds)
    y, valid = pack_left(_to_float(values))
    core = xmr(y, valid, run_length)
    n_series = len(y)
    dirs = np.broadcast_to(np.asarray([_direction(d) for d in np.atleast_1d(np.asarray(direction, dtype=object))],
                                      dtype=object), (n_series,))
    targets = np.broadcast_to(_to_float(target if target is not None else np.nan), (n_series,))
    rows = np.arange(n_series)
    last = np.maximum(core.n - 1, 0)
    special = core.special[rows, last]
    variation, variation_text, assurance, assurance_text = _icons(
        core.enough, core.flat, special, core.side_sign[rows, last], core.n, dirs, targets, core.upper_limit,
        core.lower_limit)
    rules = rule_text(core.outside[rows, last], core.trend[rows, last], core.two_in_three[rows, last],
                      core.shift[rows, last])
    return pd.DataFrame({
        "variation": variation, "variation_text": variation_text, "assurance": assurance,
        "assurance_text": assurance_text, "rules": rules, "n_points": core.n.astype(int),
        "trial_limits": (core.n < SPC_TRIAL_POINTS) | ~core.enough, "mean": core.mean,
        "lower_limit": clamp(core.lower_limit, bounds), "upper_limit": clamp(core.upper_limit, bounds),
    })
