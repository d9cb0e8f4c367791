"""One measure looked at closely: its special-cause runs in words, its control limits rebased from a known change,
the funnel comparing every practice in a month, and the import batches its numbers came from.

Split out of ``views`` (which re-exports every name here); every figure still goes through the one engine.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from . import engine as calc
from . import models as m
from .analytics import compare_with_benchmark, funnel_position, spc, wilson_interval
from .config import FederationConfig
from .db import tuples
from .measures import store
from .scope import Viewer


# ---------------------------------------------------------------------------------------------------------------
# Special-cause runs and rebased limits
# ---------------------------------------------------------------------------------------------------------------
def special_cause_runs(result: calc.KPIResult) -> pd.DataFrame:
    """The special-cause points of a measure's SPC chart grouped into runs of consecutive months of the same kind,
    each in words: when, how many points, improvement / concern / neutral, and which rules fired."""
    cols = ["from", "to", "points", "kind", "rules", "words"]
    s = result.spc
    if s is None or s.points.empty or not s.points["special_cause"].any():
        return pd.DataFrame(columns=cols)
    p = s.points.reset_index(names="period")
    p["kind"] = np.where(p["special_cause"], p["point_type"].astype("str") + "|" + p["side"].astype("str"), "")
    p["run"] = (p["kind"] != p["kind"].shift()).cumsum()
    rows = []
    unit = result.indicator.unit
    for _, g in p[p["special_cause"]].groupby("run", sort=True):
        point_type, side = g["kind"].iloc[0].split("|")
        rules = list(dict.fromkeys(r for rs in g["rules"] for r in str(rs).split("; ") if r))
        first, last = pd.Timestamp(g["period"].iloc[0]), pd.Timestamp(g["period"].iloc[-1])
        when = f"{first:%B %Y}" if first == last else f"{first:%B %Y} to {last:%B %Y}"
        kind = {"improvement": "Improvement", "concern": "Concern"}.get(point_type, "Unusual, no preferred direction")
        level = "high" if side == "high" else "low"
        low, high = (calc.format_value(float(g["value"].agg(f)), unit) for f in ("min", "max"))
        # never "1 point from 71.4% to 71.4%": one figure is "at", equal figures are "all at"
        if len(g) == 1:
            values = f"1 point at {low}"
        elif low == high:
            values = f"{len(g)} points, all at {low}"
        else:
            values = f"{len(g)} points from {low} to {high}"
        rows.append({
            "from": first.date(), "to": last.date(), "points": len(g), "kind": kind, "rules": "; ".join(rules),
            "words": f"{kind} ({level}), {when}: {values}; {_rules_in_words(rules, s.run_length)}.",
        })
    return pd.DataFrame(rows, columns=cols)


def rebased(result: calc.KPIResult, config: FederationConfig, start: date) -> calc.KPIResult:
    """The same result with the control limits recalculated from ``start`` (a known change, such as a new recall
    system): one set of limits before, another from then on, as Making Data Count allows. Only the chart changes;
    the latest value, RAG and everything else stay as ``engine.evaluate`` gave them."""
    values = result.series.set_index("period_start")["value"].dropna()
    if values.empty:
        return result
    pos = int((values.index < pd.Timestamp(start)).sum())
    if pos <= 0 or pos >= len(values):
        return result
    new_spc = spc(values, result.indicator.direction, result.target, run_length=config.thresholds.spc_run_length,
                  rebase_at=[pos])
    return replace(result, spc=new_spc)


def _rules_in_words(rules: list[str], run_length: int) -> str:
    words = {
        "outside limits": "outside the process limits",
        "shift": f"a shift of {run_length} or more points on one side of the mean",
        "trend": f"a trend of {run_length} points rising or falling",
        "2 of 3 near limits": "2 of 3 points close to a limit",
    }
    return ", ".join(words.get(r, r) for r in rules)


# ---------------------------------------------------------------------------------------------------------------
# Funnel: one measure, every practice, latest month
# ---------------------------------------------------------------------------------------------------------------
FUNNEL_COLUMNS = ["practice_code", "label", "period_start", "numerator", "denominator", "value", "lower_ci",
                  "upper_ci", "lower_ci_998", "upper_ci_998", "comparison", "position_95", "position",
                  "suppressed", "highlight", "note"]


def indicator_funnel(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters, code: str,
                     period: date | None = None, span_months: int = 1
                     ) -> tuple[pd.DataFrame, float | None, date | None]:
    """The practices compared for one measure: value, Wilson 95% and 99.8% intervals, better / similar / worse than
    the pooled value, and where each sits on the funnel (95% and 99.8%).

    Over one month (default: the latest month with data up to the chosen period end), or over ``span_months`` months
    ending then: each practice's Σnumerator / Σdenominator over those months, which suits measures with few cases a
    month (complaints, significant events). Practices are those of the PCN filter (all when none); the practice
    filter only highlights, because a funnel of one practice compares nothing.

    Everything comes from the measure store: the pooled value is the PCN's or federation's stored figure over the
    same months, and a practice the store hides stays hidden (its row says why, and no count of it is shown).
    Returns (rows, pooled value in the measure's unit, last month).
    """
    return indicator_funnels(engine, config, viewer, filters, {code: (period, span_months)})[code]


def indicator_funnels(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                      wanted: dict[str, tuple[date | None, int]]
                      ) -> dict[str, tuple[pd.DataFrame, float | None, date | None]]:
    """:func:`indicator_funnel` of several measures at once, ``wanted`` = {code: (period, span_months)}: the
    practices, the practices' figures and the pooled figures read once for all of them (a pack's seventy funnels
    were 280 small reads), each funnel then worked out exactly as alone."""
    none = (pd.DataFrame(columns=FUNNEL_COLUMNS), None, None)
    if not wanted:
        return {}
    scope = calc.resolve_practices(engine, viewer, calc.Filters(pcn=filters.pcn))
    default_end = calc.as_at(engine, filters) if any(p is None for p, _ in wanted.values()) else None
    ranges = {}
    for code, (period, span) in wanted.items():
        end = period or default_end
        if end is None:
            continue
        # without a period, the latest month with figures up to the end chosen (within two years) is the funnel's;
        # a period given (a pack's measure, at its latest period) needs its own months only
        lookback = 0 if period else 24
        ranges[code] = ((pd.Timestamp(end) - pd.DateOffset(months=max(span, 1) - 1 + lookback)).date(), end)
    if not scope or not ranges:
        return {code: none for code in wanted}
    plist = calc.practices(engine, viewer, config)
    names = dict(zip(plist["code"], plist["display_name"]))
    parent = ("pcn", filters.pcn) if filters.pcn else ("federation", "ALL")
    data_by, pooled_by = {}, {}
    by_range: dict[tuple, list[str]] = {}
    for code, months in ranges.items():  # measures of the same months in one read (most share the latest month)
        by_range.setdefault(months, []).append(code)
    for (first, last), codes in by_range.items():
        data = calc.indicator_by_practice(engine, codes, scope, first, last)
        pooled = store.values(engine, parent[0], [parent[1]], codes, first, last)
        data_by.update(dict(tuple(data.groupby("indicator_code", sort=False))))
        pooled_by.update(dict(tuple(pooled.groupby("indicator_code", sort=False))))
    out = {}
    for code in wanted:
        if code not in ranges or code not in data_by:
            out[code] = none
            continue
        start, end = (pd.Timestamp(x) for x in ranges[code])
        mine = data_by[code]
        mine = mine[(mine["period_start"] >= start) & (mine["period_start"] <= end)]
        out[code] = _funnel(config.indicator(code), mine, pooled_by.get(code), names, filters, wanted[code][1])
    return out


def _funnel(ind, data: pd.DataFrame, pooled_rows: pd.DataFrame | None, names: dict, filters: calc.Filters,
            span_months: int) -> tuple[pd.DataFrame, float | None, date | None]:
    none = (pd.DataFrame(columns=FUNNEL_COLUMNS), None, None)
    data = data[(data["denominator"] > 0) | data["suppressed"]]
    if data.empty or pooled_rows is None:
        return none
    when = data["period_start"].max()
    first = when - pd.DateOffset(months=max(span_months, 1) - 1)
    span = data[(data["period_start"] >= first) & (data["period_start"] <= when)]
    hidden = span.groupby("practice_code")["suppressed"].any()
    reasons = span.dropna(subset=["suppression_reason"]).groupby("practice_code")["suppression_reason"].first()
    d = span.groupby("practice_code", as_index=False)[["numerator", "denominator"]].sum(min_count=1)
    d["suppressed"] = d["practice_code"].map(hidden).fillna(False).astype(bool)
    d.loc[d["suppressed"], ["numerator", "denominator"]] = np.nan
    d["period_start"] = when
    pooled_rows = pooled_rows[(pooled_rows["period_start"] >= first) & (pooled_rows["period_start"] <= when)]
    pooled_rows = pooled_rows[pooled_rows["denominator"] > 0]
    if pooled_rows.empty:
        return none
    pooled_p = float(pooled_rows["numerator"].sum() / pooled_rows["denominator"].sum())
    scale = ind.multiplier
    lo95, hi95 = wilson_interval(d["numerator"].to_numpy(), d["denominator"].to_numpy(), 0.95)
    lo998, hi998 = wilson_interval(d["numerator"].to_numpy(), d["denominator"].to_numpy(), 0.998)
    d["value"] = d["numerator"] / d["denominator"] * scale
    d["lower_ci"], d["upper_ci"] = lo95 * scale, hi95 * scale
    d["lower_ci_998"], d["upper_ci_998"] = lo998 * scale, hi998 * scale
    d["comparison"] = compare_with_benchmark(d["lower_ci"], d["upper_ci"], pooled_p * scale, ind.direction)
    pos998 = funnel_position(d["numerator"], d["denominator"], pooled_p, 0.998)
    pos95 = funnel_position(d["numerator"], d["denominator"], pooled_p, 0.95)
    d["position"] = _by_direction(pos998, ind.direction)
    d["position_95"] = _by_direction(pos95, ind.direction)
    d["label"] = d["practice_code"].map(names).fillna(d["practice_code"]).astype("str")
    d["highlight"] = d["practice_code"].isin(filters.practice_codes)
    d["note"] = ""
    small = d["suppressed"]
    d.loc[small, ["comparison", "position", "position_95"]] = "not compared"
    d.loc[small, "note"] = "Not shown: " + d.loc[small, "practice_code"].map(reasons).fillna("too few responses")
    d = d.sort_values("label", kind="mergesort")
    return d[FUNNEL_COLUMNS].reset_index(drop=True), pooled_p * scale, when.date()


def _by_direction(position, direction: str) -> np.ndarray:
    """Funnel above / below in the measure's own words: better / worse when a direction is set."""
    pos = np.asarray(position, dtype=object)
    if direction == "higher":
        mapping = {"above": "better", "below": "worse"}
    elif direction == "lower":
        mapping = {"above": "worse", "below": "better"}
    else:
        mapping = {}
    return np.array([mapping.get(p, p) for p in pos], dtype=object)


# ---------------------------------------------------------------------------------------------------------------
# Where a number came from
# ---------------------------------------------------------------------------------------------------------------
def last_batches(engine: Engine, codes: list[str] | None = None) -> pd.DataFrame:
    """Per measure: the newest import batch that wrote any of its values, with its file, time and who imported it,
    and the months the measure covers."""
    stmt = (select(m.IndicatorValue.indicator_code, func.max(m.IndicatorValue.batch_id).label("batch_id"),
                   func.min(m.IndicatorValue.period_start), func.max(m.IndicatorValue.period_start),
                   func.count().label("rows"))
            .group_by(m.IndicatorValue.indicator_code))
    if codes:
        stmt = stmt.where(m.IndicatorValue.indicator_code.in_(list(codes)))
    with engine.connect() as conn:
        per = pd.DataFrame(tuples(conn.execute(stmt)),
                           columns=["indicator_code", "batch_id", "first_period", "last_period", "rows"])
        ids = [int(b) for b in per["batch_id"].dropna().unique()]
        batches = pd.DataFrame(
            conn.execute(select(m.ImportBatch.id, m.ImportBatch.kind, m.ImportBatch.file_name,
                                m.ImportBatch.imported_at, m.ImportBatch.imported_by)
                         .where(m.ImportBatch.id.in_(ids))).all() if ids else [],
            columns=["batch_id", "kind", "file_name", "imported_at", "imported_by"])
    out = per.merge(batches, on="batch_id", how="left")
    for c in ("first_period", "last_period"):
        out[c] = pd.to_datetime(out[c]).dt.date
    return out
