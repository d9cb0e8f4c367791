"""What the board views say: per-practice results for every measure, the practice × measure matrix, the "what needs
attention" list, funnel comparisons, where a number came from, and a practice's complaints and significant events.

Every figure goes through the one engine (``engine.evaluate`` for a series, ``analytics`` for intervals, funnels and
comparisons), so the matrix, the attention list, the quality page and the practice profile cannot disagree with the
scorecard. Every public function takes the viewer; person-level rows leave this module only for practices the viewer
may see people for.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from . import engine as calc
from .analytics import RAG_SYMBOLS
from .config import FederationConfig
# The funnel, special-cause runs, rebased limits and import batches live in funnels; a practice's complaints and
# significant events in practice_logs (issue 10: no file over ~500 lines). Re-exported: ``views.<name>`` still works.
from .funnels import FUNNEL_COLUMNS, indicator_funnel, indicator_funnels, last_batches, rebased, special_cause_runs
from .measures import store
from .policy import status
from .practice_logs import (
    complaints_list,
    practice_complaints,
    significant_events_list,
    significant_events_summary,
)
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
    if (filters.practice_codes or filters.pcn or filters.group) and not codes:
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
KIND_EVIDENCE = "Evidence review overdue"


def attention_items(config: FederationConfig, federation: dict[str, calc.KPIResult], rows: pd.DataFrame,
                    training: pd.DataFrame | None, where: str = "Federation",
                    evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """The list a board starts with, in words, most serious first within each kind.

    * special-cause concern: the latest month of a measure is a Making Data Count concern, for the selected
      practices together (``federation``) or for one practice (``rows``, from ``practice_results``);
    * missed target: the selected practices together are off target (red) on a measure;
    * training: practices with required training lapsed, never completed, or lapsing within 30 days
      (``training``: ``training.lapsing_counts`` output);
    * evidence: documents in the evidence register whose review date has passed, per practice
      (``evidence``: ``evidence.overdue_by_practice`` output).
    """
    items = []
    for code, res in federation.items():
        ind = res.indicator
        s = res.spc
        if s is not None and s.variation.startswith("concern"):
            last = s.points.iloc[-1]
            items.append({
                "kind": KIND_CONCERN, "rank": 0, "where": where, "practice_code": "", "indicator_code": code,
                # words only: the kind ("Special-cause concern") heads the list; a link label cannot hold an icon
                "headline": f"{ind.name}: {calc.format_value(res.latest_value, ind.unit)}"
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
                "headline": f"{r.practice_name} – {r.indicator}: "
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
            "detail": (f"{where}, {_fmt_period(res.latest_period)}: off target by "
                       + (f"{gap:.1f} percentage points. " if ind.unit == "%" else
                          f"{calc.format_value(gap, ind.unit)}. ")
                       + (res.spc.assurance_text if res.spc is not None else "")).strip(),
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
    for r in ([] if evidence is None else evidence.to_dict("records")):
        n = int(r["count"])
        items.append({
            "kind": KIND_EVIDENCE, "rank": -n, "where": r["where"], "practice_code": r["practice_code"],
            "indicator_code": "",
            "headline": f"{r['where']}: {n} evidence review{'s' if n != 1 else ''} overdue",
            "detail": (r["titles"] + "." if r["titles"] else
                       "Documents in the evidence register whose review date has passed."),
        })
    df = pd.DataFrame(items, columns=ATTENTION_COLUMNS)
    kinds = {KIND_CONCERN: 0, KIND_TARGET: 1, KIND_TRAINING: 2, KIND_EVIDENCE: 3}
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


__all__ = [
    "AccessDenied", "COMPARISON_SYMBOLS", "COMPARISON_WORDS", "kpi_codes", "practice_results",
    "practice_matrix", "cell_text", "attention_items", "aim_summary", "special_cause_runs", "rebased",
    "indicator_funnel", "indicator_funnels", "last_batches",
    "FUNNEL_COLUMNS", "practice_complaints", "significant_events_summary", "complaints_list",
    "significant_events_list",
]
