"""What the board views say: per-practice results for every measure, the practice × measure matrix, the "what needs
attention" list, funnel comparisons, where a number came from, and a practice's complaints and significant events.

Every figure goes through the one engine (``engine.evaluate`` for a series, ``analytics`` for intervals, funnels and
comparisons), so the matrix, the attention list, the quality page and the practice profile cannot disagree with the
scorecard. Every public function takes the viewer; person-level rows leave this module only for practices the viewer
may see people for.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, select

from . import engine as calc
from . import models as m
from .analytics import (
    RAG_SYMBOLS,
    VARIATION_SYMBOLS,
    compare_with_benchmark,
    funnel_position,
    spc,
    wilson_interval,
)
from .config import FederationConfig
from .db import tuples
from .measures import store
from .policy import status
from .privacy import redact_for
from .scope import AccessDenied, Viewer

COMPARISON_SYMBOLS = {"better": "▲", "worse": "▼", "similar": "●", "higher": "▲", "lower": "▼",
                      "not compared": "–"}
COMPARISON_WORDS = {"better": "Better than the federation", "worse": "Worse than the federation",
                    "similar": "Similar to the federation", "higher": "Higher than the federation",
                    "lower": "Lower than the federation", "not compared": "Not compared"}


def kpi_codes(config: FederationConfig) -> list[str]:
    """Every measure used by an aim, in the order the aims list them."""
    return list(dict.fromkeys(r["indicator_code"] for r in config.kpi_rows()))


def _selected(engine: Engine, viewer: Viewer, filters: calc.Filters) -> tuple[str, ...]:
    codes = calc.resolve_practices(engine, viewer, filters)
    if (filters.practice_codes or filters.pcn) and not codes:
        return ()
    return codes


def _fmt_period(d) -> str:
    return "–" if d is None or pd.isna(d) else f"{pd.Timestamp(d):%B %Y}"


# ---------------------------------------------------------------------------------------------------------------
# Per practice: every measure evaluated for every selected practice
# ---------------------------------------------------------------------------------------------------------------
PRACTICE_RESULT_COLUMNS = [
    "practice_code", "practice_name", "indicator_code", "indicator", "unit", "direction", "latest_period",
    "numerator", "denominator", "value", "lower_ci", "upper_ci", "suppressed", "target", "rag", "status",
    "variation", "variation_text", "concern_rules", "federation_value", "comparison", "comparison_text",
    "judgement", "judgement_text",
]


def practice_results(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                     codes: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Every measure for every selected practice as at the chosen month, as the measure store judged it.

    Returns a long table (one row per practice × measure, see ``PRACTICE_RESULT_COLUMNS``): the latest value, its
    Wilson 95% interval, RAG against the target, the practice's own Making Data Count variation and how it compares
    with the whole federation in the same period; and the KPIResults keyed by (practice_code, indicator_code), read
    from the store only when a chart asks for one.
    """
    codes = codes or kpi_codes(config)
    targets = config.targets()
    plist = calc.practices(engine, viewer, config)
    names = dict(zip(plist["code"], plist["display_name"]))
    selected = _selected(engine, viewer, filters)
    when = calc.as_at(engine, filters)
    if not selected or when is None:
        return pd.DataFrame(columns=PRACTICE_RESULT_COLUMNS), {}
    every = set(selected) == set(plist["code"])  # no list of hundreds of codes for the database to match
    ev = store.evaluations(engine, "practice", None if every else list(selected), when, codes)
    ev = ev[ev["area_code"].isin(selected)]
    fed = store.evaluations(engine, "federation", None, when, codes).set_index("indicator_code")["value"]
    out = _practice_rows(ev, fed, config, targets, names)
    order = {c: i for i, c in enumerate(codes)}
    pos = {c: i for i, c in enumerate(plist["code"])}
    out = out.sort_values(["indicator_code", "practice_code"], key=lambda s: s.map(order if s.name ==
                          "indicator_code" else pos), kind="mergesort").reset_index(drop=True)
    keys = list(zip(out["practice_code"], out["indicator_code"]))
    return out, PracticeResults(engine.url.render_as_string(hide_password=False), config, viewer, filters, keys)


def _practice_rows(ev: pd.DataFrame, fed: pd.Series, config: FederationConfig, targets: dict, names: dict
                   ) -> pd.DataFrame:
    if ev.empty:
        return pd.DataFrame(columns=PRACTICE_RESULT_COLUMNS)
    inds = [config.indicator(c) for c in ev["indicator_code"]]
    judgement = ev["judgement"].to_numpy(dtype=object)
    words = [status.judgement_words(j, config.suppression_min(i), config.min_denominator(i))
             for j, i in zip(judgement, inds)]
    variation = ev["variation"].to_numpy(dtype=object)
    rag = ev["rag"].to_numpy(dtype=object)
    pcodes = ev["area_code"].to_numpy(dtype=object)
    comparison = ev["comparison"].to_numpy(dtype=object)
    return pd.DataFrame({
        "practice_code": pcodes, "practice_name": [names.get(c, c) for c in pcodes],
        "indicator_code": ev["indicator_code"].to_numpy(), "indicator": [i.name for i in inds],
        "unit": [i.unit for i in inds], "direction": [i.direction for i in inds],
        "latest_period": [None if pd.isna(p) else pd.Timestamp(p).date() for p in ev["latest_period"]],
        "numerator": ev["numerator"].to_numpy(dtype=float), "denominator": ev["denominator"].to_numpy(dtype=float),
        "value": [None if pd.isna(v) else float(v) for v in ev["value"]],
        "lower_ci": ev["lower_ci"].to_numpy(dtype=float), "upper_ci": ev["upper_ci"].to_numpy(dtype=float),
        "suppressed": judgement == status.SUPPRESSED,
        "target": [targets.get(i.code, (None,))[0] for i in inds], "rag": rag,
        "status": [status.rag_text(r) if j == status.JUDGED else w for r, j, w in zip(rag, judgement, words)],
        "variation": variation,
        "variation_text": [status.variation_words(v, t, w) for v, t, w in zip(variation, ev["trial_limits"], words)],
        "concern_rules": np.where(pd.Series(variation).astype(str).str.startswith("concern").to_numpy(dtype=bool),
                                  ev["rules"].fillna("").to_numpy(dtype=object), ""),
        "federation_value": ev["indicator_code"].map(fed).to_numpy(dtype=float),
        "comparison": comparison, "comparison_text": [COMPARISON_WORDS.get(c, c) for c in comparison],
        "judgement": judgement, "judgement_text": words,
    }, columns=PRACTICE_RESULT_COLUMNS)


class PracticeResults(Mapping):
    """``practice_results``' KPIResults keyed by (practice_code, indicator_code), each read from the store only
    when asked for (a chart): the rows already hold what the board views show. Pickles small (a URL, not data)."""

    def __init__(self, url: str, config: FederationConfig, viewer: Viewer, filters: calc.Filters, keys: list):
        self.url, self.config, self.viewer, self.filters = url, config, viewer, filters
        self._keys = list(keys)
        self._known = set(self._keys)
        self._done: dict = {}

    def __getitem__(self, key):
        if key not in self._known:
            raise KeyError(key)
        if key not in self._done:
            from .db import get_engine

            pcode, code = key
            one = calc.Filters(practice_codes=(pcode,), period_end=self.filters.period_end, months=self.filters.months)
            self._done[key] = calc.kpi_results(get_engine(self.url), self.config, self.viewer, one, codes=[code])[code]
        return self._done[key]

    def __iter__(self):
        return iter(self._keys)

    def __len__(self):
        return len(self._keys)

    def __getstate__(self):
        return {**self.__dict__, "_done": {}}


# ---------------------------------------------------------------------------------------------------------------
# The practice × measure matrix
# ---------------------------------------------------------------------------------------------------------------
def cell_text(value, unit: str, rag: str, suppressed: bool, judgement: str = status.JUDGED) -> str:
    """What a matrix cell says: the value and the RAG symbol (never colour alone), or why there is none."""
    if suppressed or judgement == status.SUPPRESSED:
        return "not shown"
    if judgement == status.NOT_RECEIVED:
        return "not received"
    if value is None or pd.isna(value):
        return "no data"
    if unit == "%" and float(value) >= 99.95:
        short = "100%"  # saves a column's width in the matrix; 99.96% still shows as 100.0% elsewhere
    else:
        short = calc.format_value(float(value), unit).replace(" per 10,000", "").replace(" per 1,000", "")
    if judgement == status.TOO_FEW:
        return f"{short} (too few)"
    return f"{short} {RAG_SYMBOLS[rag]}" if rag != "none" else short


MATRIX_COLUMNS = ["indicator_code", "measure", "unit", "practice_code", "practice", "value", "rag", "suppressed",
                  "target", "latest_period", "comparison", "judgement", "text", "status"]


def practice_matrix(rows: pd.DataFrame, federation: dict[str, calc.KPIResult], config: FederationConfig,
                    overall_label: str = "Federation") -> pd.DataFrame:
    """Long table for the heatmap: one row per measure × column (the chosen area's figure first, then each
    practice), all as at the same month, with the cell text, RAG and words for the hover. ``rows`` is
    ``practice_results`` output and ``federation`` the KPIResults of the same filters (empty: no overall column)."""
    out = []
    kpis = {r["indicator_code"]: r for r in config.kpi_rows()}
    for code in kpi_codes(config):
        ind = config.indicator(code)
        res = federation.get(code)
        if res is not None:
            out.append({
                "indicator_code": code, "measure": ind.name, "unit": ind.unit, "practice_code": "",
                "practice": overall_label, "value": res.latest_value, "rag": res.rag,
                "suppressed": res.suppressed, "target": kpis[code]["target"],
                "latest_period": res.latest_period, "comparison": "", "judgement": res.judgement,
                "text": cell_text(res.latest_value, ind.unit, res.rag, res.suppressed, res.judgement),
                "words": res.judgement_text,
            })
    for r in rows.itertuples(index=False):
        out.append({
            "indicator_code": r.indicator_code, "measure": r.indicator, "unit": r.unit,
            "practice_code": r.practice_code, "practice": r.practice_name, "value": r.value, "rag": r.rag,
            "suppressed": r.suppressed, "target": r.target, "latest_period": r.latest_period,
            "comparison": r.comparison_text, "judgement": r.judgement,
            "text": cell_text(r.value, r.unit, r.rag, r.suppressed, r.judgement), "words": r.judgement_text,
        })
    df = pd.DataFrame(out, columns=MATRIX_COLUMNS[:-1] + ["words"])
    df["status"] = [
        (w if j != status.JUDGED else status.rag_text(g))
        + (f" (target {calc.format_value(t, u)})" if t is not None and not pd.isna(t) else "")
        for j, w, g, t, u in zip(df["judgement"], df["words"], df["rag"], df["target"], df["unit"])
    ]
    return df[MATRIX_COLUMNS]


# ---------------------------------------------------------------------------------------------------------------
# What needs attention
# ---------------------------------------------------------------------------------------------------------------
ATTENTION_COLUMNS = ["kind", "rank", "where", "practice_code", "indicator_code", "headline", "detail"]
KIND_CONCERN, KIND_TARGET, KIND_TRAINING = "Special-cause concern", "Missed target", "Training lapsed or lapsing"


def attention_items(config: FederationConfig, federation: dict[str, calc.KPIResult], rows: pd.DataFrame,
                    training: pd.DataFrame | None, where: str = "Federation") -> pd.DataFrame:
    """The list a board starts with, in words, most serious first within each kind.

    * special-cause concern: the latest month of a measure is a Making Data Count concern, for the selected
      practices together (``federation``) or for one practice (``rows``, from ``practice_results``);
    * missed target: the selected practices together are off target (red) on a measure;
    * training: practices with required training lapsed, never completed, or lapsing within 30 days
      (``training``: ``training.lapsing_counts`` output).
    """
    items = []
    for code, res in federation.items():
        ind = res.indicator
        s = res.spc
        if s is not None and s.variation.startswith("concern"):
            last = s.points.iloc[-1]
            items.append({
                "kind": KIND_CONCERN, "rank": 0, "where": where, "practice_code": "", "indicator_code": code,
                "headline": f"{VARIATION_SYMBOLS[s.variation]} {ind.name}: {calc.format_value(res.latest_value, ind.unit)}"
                            f" in {_fmt_period(res.latest_period)}",
                "detail": f"{where}: {s.variation_text}. Rule: {res.rules or last['rules']} (mean "
                          f"{calc.format_value(float(last['mean']), ind.unit)}).",
            })
    # One practice chosen: its own figures are already the area's, so its concerns are not listed twice.
    single = rows is not None and not rows.empty and rows["practice_code"].nunique() == 1 and \
        rows["practice_name"].iloc[0] == where
    if rows is not None and not rows.empty and not single:
        # Too few cases are never a concern: the store judges them "too few to judge", not special cause.
        concern = rows[rows["variation"].astype("str").str.startswith("concern")]
        for r in concern.itertuples(index=False):
            items.append({
                "kind": KIND_CONCERN, "rank": 1, "where": r.practice_name, "practice_code": r.practice_code,
                "indicator_code": r.indicator_code,
                "headline": f"{VARIATION_SYMBOLS[r.variation]} {r.practice_name} – {r.indicator}: "
                            f"{calc.format_value(r.value, r.unit)} in {_fmt_period(r.latest_period)}",
                "detail": f"{r.variation_text}. Rule: {r.concern_rules}.",
            })
    for code, res in federation.items():
        if res.rag != "red":
            continue
        ind = res.indicator
        gap = abs((res.latest_value or 0) - (res.target or 0))
        items.append({
            "kind": KIND_TARGET, "rank": -gap / max(abs(res.target or 1), 1e-9), "where": where, "practice_code": "",
            "indicator_code": code,
            "headline": f"{RAG_SYMBOLS['red']} {ind.name}: {calc.format_value(res.latest_value, ind.unit)} against a "
                        f"target of {calc.format_value(res.target, ind.unit)}",
            "detail": f"{where}, {_fmt_period(res.latest_period)}: off target by "
                      f"{calc.format_value(gap, ind.unit).replace(' pts', '')}"
                      f"{' percentage points' if ind.unit == '%' else ''}. "
                      f"{res.spc.assurance_text if res.spc is not None else ''}".strip(),
        })
    if training is not None and not training.empty:
        t = training[training["practice_code"] != "ALL"]
        buckets = [c for c in training.columns if c not in ("practice_code", "practice_name", "Total to act on")]
        lapsed_col, never_col, soon_col, later_cols = buckets[0], buckets[1], buckets[2], buckets[3:]
        within = soon_col.replace("Lapses within ", "lapse within ")
        for r in t.to_dict("records"):
            lapsed = int(r.get(lapsed_col, 0)) + int(r.get(never_col, 0))
            soon = int(r.get(soon_col, 0))
            if lapsed + soon == 0:
                continue
            bits = []
            if int(r.get(lapsed_col, 0)):
                bits.append(f"{int(r[lapsed_col])} lapsed")
            if int(r.get(never_col, 0)):
                bits.append(f"{int(r[never_col])} never completed")
            if soon:
                bits.append(f"{soon} {within}")
            later = sum(int(r.get(c, 0)) for c in later_cols)
            horizon = later_cols[-1].rsplit("–", 1)[-1] if later_cols else ""
            items.append({
                "kind": KIND_TRAINING, "rank": -(lapsed * 2 + soon), "where": r["practice_name"],
                "practice_code": r["practice_code"], "indicator_code": (config.screens.training or ("",))[0],
                "headline": f"{r['practice_name']}: {', '.join(bits)}",
                "detail": "Required staff × course training" + (
                    f": {later} more lapse within {horizon}." if later_cols else "."),
            })
    df = pd.DataFrame(items, columns=ATTENTION_COLUMNS)
    kinds = {KIND_CONCERN: 0, KIND_TARGET: 1, KIND_TRAINING: 2}
    return df.sort_values(["kind", "rank"], key=lambda s: s.map(kinds) if s.name == "kind" else s,
                          kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------------
# Aims in plain words
# ---------------------------------------------------------------------------------------------------------------
def aim_summary(config: FederationConfig, aim_id: str, results: dict[str, calc.KPIResult]) -> str:
    """A paragraph a board member can read aloud: how many of the aim's measures meet their targets, which are
    improving or of concern (Making Data Count) and which targets are missed."""
    aim = next(a for a in config.aims if a.id == aim_id)
    codes = [k.indicator for k in aim.kpis]
    res = [results[c] for c in codes if c in results]
    with_target = [r for r in res if r.target is not None]
    with_data = [r for r in res if r.latest_value is not None]
    if not with_data:
        return "No data for these measures in the chosen period and practices."
    parts = []
    if with_target:
        parts.append(status.tally(r.rag for r in with_target))
        too_few = [r for r in with_target if r.judgement == status.TOO_FEW]
        if too_few:
            parts.append("Too few cases to judge this month: " + "; ".join(r.indicator.name for r in too_few) + ".")
        for r in (r for r in with_target if r.rag == "red"):
            parts.append(f"{r.indicator.name} is {calc.format_value(r.latest_value, r.indicator.unit)} against a "
                         f"target of {calc.format_value(r.target, r.indicator.unit)}.")
    improving = [r for r in res if r.variation.startswith("improvement")]
    concern = [r for r in res if r.variation.startswith("concern")]
    if improving:
        parts.append("Improving (special cause): " + "; ".join(r.indicator.name for r in improving) + ".")
    if concern:
        parts.append("Special-cause concern: " + "; ".join(r.indicator.name for r in concern) + ".")
    if not improving and not concern:
        parts.append("No measure shows special-cause variation: month-to-month changes are within the usual range.")
    # Assurance speaks for a stable process only: while a measure is changing (special cause) its limits describe
    # the old and the new process together, so "consistently fails" would mislead.
    stable = [r for r in res if r.spc is not None and r.spc.variation == "common_cause"]
    fails = [r for r in stable if r.spc.assurance == "fail"]
    passes = [r for r in stable if r.spc.assurance == "pass"]
    if fails:
        parts.append("Stable but short of target, so it will not be met without a change in how the work is done: "
                     + "; ".join(r.indicator.name for r in fails) + ".")
    if passes:
        parts.append("Consistently meets its target: " + "; ".join(r.indicator.name for r in passes) + ".")
    suppressed = [r for r in res if r.suppressed]
    if suppressed:
        parts.append("Not shown (too few responses to show safely): " + "; ".join(r.indicator.name for r in suppressed)
                     + ".")
    return " ".join(parts)


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
        rows.append({
            "from": first.date(), "to": last.date(), "points": len(g), "kind": kind, "rules": "; ".join(rules),
            "words": f"{kind} ({level}), {when}: {len(g)} point{'s' if len(g) != 1 else ''} from "
                     f"{calc.format_value(float(g['value'].min()), unit)} to "
                     f"{calc.format_value(float(g['value'].max()), unit)}; {_rules_in_words(rules, s.run_length)}.",
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
    ind = config.indicator(code)
    scope = calc.resolve_practices(engine, viewer, calc.Filters(pcn=filters.pcn))
    plist = calc.practices(engine, viewer, config)
    names = dict(zip(plist["code"], plist["display_name"]))
    end = period or calc.as_at(engine, filters)
    if not scope or end is None:
        return pd.DataFrame(columns=FUNNEL_COLUMNS), None, None
    start = (pd.Timestamp(end) - pd.DateOffset(months=max(span_months, 1) - 1 + 24)).date()
    data = calc.indicator_by_practice(engine, [code], scope, start, end)
    data = data[(data["denominator"] > 0) | data["suppressed"]]
    if data.empty:
        return pd.DataFrame(columns=FUNNEL_COLUMNS), None, None
    when = data["period_start"].max()
    first = when - pd.DateOffset(months=max(span_months, 1) - 1)
    span = data[(data["period_start"] >= first) & (data["period_start"] <= when)]
    hidden = span.groupby("practice_code")["suppressed"].any()
    reasons = span.dropna(subset=["suppression_reason"]).groupby("practice_code")["suppression_reason"].first()
    d = span.groupby("practice_code", as_index=False)[["numerator", "denominator"]].sum(min_count=1)
    d["suppressed"] = d["practice_code"].map(hidden).fillna(False).astype(bool)
    d.loc[d["suppressed"], ["numerator", "denominator"]] = np.nan
    d["period_start"] = when
    parent = ("pcn", filters.pcn) if filters.pcn else ("federation", "ALL")
    pooled_rows = store.values(engine, parent[0], [parent[1]], [code], first.date(), when.date())
    pooled_rows = pooled_rows[pooled_rows["denominator"] > 0]
    if pooled_rows.empty:
        return pd.DataFrame(columns=FUNNEL_COLUMNS), None, None
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


# ---------------------------------------------------------------------------------------------------------------
# A practice's complaints and significant events
# ---------------------------------------------------------------------------------------------------------------
def _practice_id(conn, code: str) -> int | None:
    return conn.execute(select(m.Practice.id).where(m.Practice.code == code)).scalar_one_or_none()


def _window_12m(engine: Engine, filters: calc.Filters) -> tuple[date, date]:
    end = filters.period_end or calc.latest_period(engine) or date.today()
    end_ts = pd.Timestamp(end) + pd.offsets.MonthEnd(0)
    start_ts = (pd.Timestamp(end).replace(day=1) - pd.DateOffset(months=11))
    return start_ts.date(), end_ts.date()


def practice_complaints(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                        practice_code: str) -> dict:
    """Complaints received by one practice over the 12 months to the chosen period end: received, still open, the
    median working days to acknowledge and to resolve, and counts by category (aggregates: every role). One
    calculation with the feedback page and the packs: ``feedback.complaints_summary`` for that practice."""
    from . import feedback as fb  # feedback reads the engine, not the views

    start, end = _window_12m(engine, filters)
    one = calc.Filters(practice_codes=(practice_code,), period_end=end.replace(day=1), months=12)
    summary = fb.complaints_summary(engine, config, viewer, one)
    row = summary[summary["practice_code"] == practice_code]
    out = {"start": start, "end": end, "count": 0, "open": 0, "median_ack_days": None, "median_resolve_days": None,
           "by_category": pd.DataFrame(columns=["Category", "Complaints"])}
    if row.empty or int(row["received"].iloc[0]) == 0:
        return out
    r = row.iloc[0]
    cats = fb.complaints_by_category(engine, config, viewer, one)
    out.update(count=int(r["received"]), open=int(r["open"]),
               median_ack_days=None if pd.isna(r["median_days_to_ack"]) else float(r["median_days_to_ack"]),
               median_resolve_days=None if pd.isna(r["median_days_to_resolve"]) else float(r["median_days_to_resolve"]),
               by_category=cats.rename(columns={"category": "Category", "received": "Complaints"})[
                   ["Category", "Complaints"]].reset_index(drop=True))
    return out


def significant_events_summary(engine: Engine, viewer: Viewer, filters: calc.Filters, practice_code: str) -> dict:
    """Significant events at one practice over the 12 months to the chosen period end: count, by category, and how
    many have their learning recorded (aggregates: every role)."""
    start, end = _window_12m(engine, filters)
    has_learning = func.coalesce(func.length(func.trim(m.SignificantEvent.learning)), 0) > 0
    with engine.connect() as conn:
        pid = _practice_id(conn, practice_code)
        rows = conn.execute(
            select(m.SignificantEvent.category, func.count(), func.sum(case((has_learning, 1), else_=0)))
            .where(m.SignificantEvent.practice_id == pid, m.SignificantEvent.event_date >= start,
                   m.SignificantEvent.event_date <= end)
            .group_by(m.SignificantEvent.category)
        ).all() if pid is not None else []
    df = pd.DataFrame(rows, columns=["Category", "Events", "With learning recorded"])
    df["Events"] = pd.to_numeric(df["Events"]).astype(int)
    df["With learning recorded"] = pd.to_numeric(df["With learning recorded"]).fillna(0).astype(int)
    df = df.sort_values(["Events", "Category"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    total = int(df["Events"].sum())
    learned = int(df["With learning recorded"].sum())
    return {"start": start, "end": end, "count": total, "with_learning": learned, "by_category": df}


def complaints_list(engine: Engine, viewer: Viewer, filters: calc.Filters, practice_code: str) -> pd.DataFrame:
    """Complaint details (person-level: summaries can identify people) for one practice over 12 months. Refused
    unless the viewer may see people at that practice; summaries redacted for everyone but admins."""
    viewer.require_people([practice_code])
    start, end = _window_12m(engine, filters)
    with engine.connect() as conn:
        pid = _practice_id(conn, practice_code)
        rows = conn.execute(
            select(m.Complaint.reference, m.Complaint.received_on, m.Complaint.category, m.Complaint.acknowledged_on,
                   m.Complaint.resolved_on, m.Complaint.outcome, m.Complaint.summary)
            .where(m.Complaint.practice_id == pid, m.Complaint.received_on >= start, m.Complaint.received_on <= end)
            .order_by(m.Complaint.received_on.desc())
        ).all() if pid is not None else []
    df = pd.DataFrame(rows, columns=["Reference", "Received", "Category", "Acknowledged", "Resolved", "Outcome",
                                     "Summary"])
    df["Summary"] = [redact_for(viewer, s) for s in df["Summary"]]
    return df


def significant_events_list(engine: Engine, viewer: Viewer, filters: calc.Filters, practice_code: str
                            ) -> pd.DataFrame:
    """Significant event details for one practice over 12 months (person-level; refused otherwise)."""
    viewer.require_people([practice_code])
    start, end = _window_12m(engine, filters)
    with engine.connect() as conn:
        pid = _practice_id(conn, practice_code)
        rows = conn.execute(
            select(m.SignificantEvent.reference, m.SignificantEvent.event_date, m.SignificantEvent.category,
                   m.SignificantEvent.learning)
            .where(m.SignificantEvent.practice_id == pid, m.SignificantEvent.event_date >= start,
                   m.SignificantEvent.event_date <= end)
            .order_by(m.SignificantEvent.event_date.desc())
        ).all() if pid is not None else []
    df = pd.DataFrame(rows, columns=["Reference", "Date", "Category", "Learning"])
    df["Learning"] = [redact_for(viewer, s) for s in df["Learning"]]
    return df


__all__ = [
    "AccessDenied", "COMPARISON_SYMBOLS", "COMPARISON_WORDS", "kpi_codes", "practice_results",
    "practice_matrix", "cell_text", "attention_items", "aim_summary", "special_cause_runs", "rebased", "indicator_funnel", "last_batches",
    "practice_complaints", "significant_events_summary", "complaints_list", "significant_events_list",
]
