"""Patient feedback: Friends and Family Test results, comments with theme tags, and complaints.

Every function takes the viewer. Aggregates (FFT counts and percentages, theme counts, complaint volumes and
response times) are for every role; patients' comments and complaint details are read only for the viewer's
person-level practices and are redacted with ``privacy.redact_for`` before they leave this module.

FFT counts are read from the FFT summary (``measures.fft_summary``: answers per practice × month × question × mode,
refreshed when data arrives, the same counts the stored FFT_POSITIVE / FFT_NEGATIVE indicators are made from), theme
counts and tags from ``comment_themes`` (``measures.themes``, themes declared in ``federation.toml``), percentages
from ``analytics.fft_percentages``, intervals from ``analytics.wilson_interval``, and
small numbers are hidden with ``analytics.suppress_small_counts``. The current six-answer question and the old
"how likely are you to recommend" question are separate series and never share a percentage.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from . import engine as calc
from .measures import fft_summary as summary
from .measures import store
from .measures.themes import tag_text, theme_names
from .analytics import (FFT_CATEGORIES, compare_with_benchmark, fft_percentages, funnel_position,
                        suppress_small_counts, wilson_interval)
from .config import FederationConfig
from .scope import Viewer
# The scope and answer words every feedback view shares live in feedback_scope, the comments browser and themes in
# comments, complaints in complaints (issue 10: no file over ~500 lines). Re-exported: ``feedback.<name>`` still works.
from .feedback_scope import (ANSWER_WORDS, MODES, SCALE_WORDS, SCALES, Scope, _fft_code, _hidden_practice_months,
                             _month_bounds, _practice_ids, scope, small_months)
from .comments import (COMMENT_COLUMNS, Comments, comment_months, comment_themes, comments, readable_practices,
                       tag_themes)
from .complaints import complaint_details, complaints_by_category, complaints_summary


# ----------------------------------------------------------------------------------------------------------------
# FFT counts and percentages
# ----------------------------------------------------------------------------------------------------------------
def _practice_month_counts(engine: Engine, sc: Scope, scale: str, every_practice: bool = False,
                           monthly: pd.DataFrame | None = None) -> pd.DataFrame:
    """FFT answer counts per selected practice (or every active practice) and month within the window, read from
    the FFT summary (``monthly``: counts already read for these practices, to filter instead of reading again)."""
    cols = ["practice_code", "month", *FFT_CATEGORIES, "total"]
    codes = tuple(sc.names) if every_practice else sc.codes
    if not codes or sc.end is None:
        return pd.DataFrame(columns=cols)
    start, end = _month_bounds(sc)
    with engine.connect() as conn:
        ids = _practice_ids(conn, codes)
        counts = monthly if monthly is not None else summary.answer_counts(conn, scale, tuple(ids), start, end)
    if counts.empty:
        return pd.DataFrame(columns=cols)
    counts = counts[counts["practice_id"].isin(ids)].copy()
    counts["month"] = pd.to_datetime(counts["month"])
    counts = counts[(counts["month"] >= pd.Timestamp(sc.start)) & (counts["month"] <= pd.Timestamp(sc.end))]
    counts["practice_code"] = counts["practice_id"].map(ids).astype("str")
    return counts[cols].sort_values(["month", "practice_code"]).reset_index(drop=True)


@dataclass(frozen=True)
class FFTCounts:
    """Answer counts per selected practice and month on each question: what every FFT view is summarised from.
    Load once (:func:`fft_counts`) and pass to the functions below to avoid reading the responses again."""

    scope: Scope
    current: pd.DataFrame
    legacy: pd.DataFrame
    federation: pd.DataFrame  # current question, every active practice: the benchmark for comparisons

    def on(self, scale: str) -> pd.DataFrame:
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}")
        return self.current if scale == "current" else self.legacy


def fft_counts(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters) -> FFTCounts:
    sc = scope(engine, config, viewer, filters)
    current = legacy = None
    if not sc.empty:
        start, end = _month_bounds(sc)
        with engine.connect() as conn:  # read once: both questions, the selection and the federation benchmark
            ids = _practice_ids(conn, tuple(sc.names))
            both = summary.answer_counts(conn, None, tuple(ids), start, end)
        current = both[both["scale"] == "current"].drop(columns="scale")
        legacy = both[both["scale"] == "legacy"].drop(columns="scale")
    return FFTCounts(sc, _practice_month_counts(engine, sc, "current", monthly=current),
                     _practice_month_counts(engine, sc, "legacy", monthly=legacy),
                     _practice_month_counts(engine, sc, "current", every_practice=True, monthly=current))


def _with_intervals(df: pd.DataFrame) -> pd.DataFrame:
    out = fft_percentages(df)
    for kind in ("positive", "negative"):
        lo, hi = wilson_interval(out[kind].to_numpy(dtype=float), out["total"].to_numpy(dtype=float))
        out[f"{kind}_lower"] = np.asarray(lo, dtype=float) * 100
        out[f"{kind}_upper"] = np.asarray(hi, dtype=float) * 100
    return out


_INTERVAL_COLS = ["positive_lower", "positive_upper", "negative_lower", "negative_upper"]


def _suppress(df: pd.DataFrame, min_count: int, parent_col: str | None = None) -> pd.DataFrame:
    """FFT suppression for rows the measure store does not hold (the old question): primary and, within
    ``parent_col``, second level. Intervals are hidden wherever the percentages are."""
    out = suppress_small_counts(df, min_count=min_count, parent_col=parent_col,
                                value_cols=["pct_positive", "pct_negative", *_INTERVAL_COLS])
    out["note"] = np.where(out["suppression_reason"] == f"fewer than {min_count} responses",
                           f"fewer than {min_count} responses: not shown",
                           np.where(out["suppression_reason"] != "", "counts hidden so a smaller practice's "
                                    "figures cannot be worked out", ""))
    return out


_HIDE = ["very_good", "good", "neither", "poor", "very_poor", "dont_know", "total", "positive", "negative",
         "pct_positive", "pct_negative", *_INTERVAL_COLS]



def _store_hide(out: pd.DataFrame, hidden: dict, key_cols: list[str]) -> pd.DataFrame:
    """Hide the rows the measure store hides (``hidden``: key -> reason), counts, percentages and intervals."""
    keys = list(zip(*[out[c] for c in key_cols])) if len(key_cols) > 1 else list(out[key_cols[0]])
    reasons = [hidden.get(k) for k in keys]
    hit = np.array([r is not None for r in reasons], dtype=bool)
    cols = [c for c in _HIDE if c in out.columns]
    out[cols] = out[cols].astype(float)
    out.loc[hit, cols] = np.nan
    out["suppressed"] = hit
    out["note"] = ["Not shown: " + r if r else "" for r in reasons]
    return out



def _hidden_area_months(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                        start, end) -> dict:
    """Months the chosen area's FFT figure is hidden in (several practices together: any of them hidden)."""
    code = _fft_code(config)
    where = calc.area(engine, viewer, filters, config)
    if code is None or where is None:
        return {}
    if where.stored:
        v = store.values(engine, where.area_type, [where.area_code], [code], start, end)
    else:
        v = store.values(engine, "practice", list(where.practice_codes), [code], start, end)
        v = v.assign(suppression_reason="one of these practices has too few responses")
    v = v[v["suppressed"]]
    return {pd.Timestamp(mo): r or "too few responses" for mo, r in zip(v["period_start"], v["suppression_reason"])}


def fft_by_month(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                 scale: str = "current", counts: FFTCounts | None = None) -> pd.DataFrame:
    """One row per month for the selected practices together, on one question: the six answer counts, total,
    positive / negative counts and %, their Wilson 95% intervals, and suppression (fewer than 5 responses).

    For the old question "positive" means Extremely likely + Likely and "negative" Unlikely + Extremely unlikely."""
    bundle = counts or fft_counts(engine, config, viewer, filters)
    sc, counts = bundle.scope, bundle.on(scale)
    cols = ["month", *FFT_CATEGORIES, "total", "positive", "negative", "pct_positive", "positive_lower",
            "positive_upper", "pct_negative", "negative_lower", "negative_upper", "practices", "suppressed", "note"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    monthly = counts.groupby("month", as_index=False)[list(FFT_CATEGORIES)].sum()
    monthly["practices"] = counts[counts["total"] > 0].groupby("month")["practice_code"].nunique().reindex(
        monthly["month"]).fillna(0).astype(int).to_numpy()
    if scale != "current":
        return _suppress(_with_intervals(monthly), config.thresholds.suppression_min)[cols]
    hidden = _hidden_area_months(engine, config, viewer, filters, sc.start, sc.end)
    return _store_hide(_with_intervals(monthly), hidden, ["month"])[cols]


def fft_practice_months(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                        scale: str = "current", counts: FFTCounts | None = None) -> pd.DataFrame:
    """Practice × month on one question, with second-level suppression within each month: if the smallest
    practice that month has fewer than 5 responses, the next smallest one's counts are hidden too, so the hidden
    figures cannot be worked out from the total for the selected practices."""
    bundle = counts or fft_counts(engine, config, viewer, filters)
    sc, counts = bundle.scope, bundle.on(scale)
    cols = ["practice_code", "practice_name", "month", "total", "positive", "negative", "pct_positive",
            "positive_lower", "positive_upper", "pct_negative", "negative_lower", "negative_upper", "suppressed",
            "note"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    if scale != "current":
        out = _suppress(_with_intervals(counts), config.thresholds.suppression_min, parent_col="month")
    else:  # the measure store's suppression: the same practice-months hidden on every page and in every pack
        hidden = _hidden_practice_months(engine, config, sc.codes, sc.start, sc.end)
        out = _store_hide(_with_intervals(counts), hidden, ["practice_code", "month"])
    out["practice_name"] = out["practice_code"].map(sc.names).astype("str")
    return out[cols].reset_index(drop=True)


def fft_by_practice(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                    months: int = 12, counts: FFTCounts | None = None) -> tuple[pd.DataFrame, float | None]:
    """Each selected practice over the last ``months`` months of the window (current question): responses,
    % positive with its Wilson interval, compared with the whole federation (Σpositive / Σresponses over every
    active practice, worked out before any suppression), and its position on the 99.8% funnel around it.
    Suppression (including second level) is judged across every practice, as the federation total is public.
    Returns (table of the selected practices, federation %)."""
    cols = ["practice_code", "practice_name", "total", "positive", "pct_positive", "positive_lower",
            "positive_upper", "compared", "funnel", "suppressed", "note"]
    bundle = counts or fft_counts(engine, config, viewer, filters)
    sc, counts = bundle.scope, bundle.federation
    if counts.empty or bundle.current.empty:
        return pd.DataFrame(columns=cols), None
    since = pd.Timestamp(sc.end) - pd.DateOffset(months=months - 1)
    recent = counts[counts["month"] >= since]
    per = recent.groupby("practice_code", as_index=False)[list(FFT_CATEGORIES)].sum()
    per = _with_intervals(per)
    total = float(per["total"].sum())
    pooled = float(per["positive"].sum()) / total * 100 if total > 0 else None
    ind = config.indicator(_fft_code(config)) if _fft_code(config) else None
    direction = ind.direction if ind else "higher"
    per["compared"] = compare_with_benchmark(per["positive_lower"], per["positive_upper"],
                                             np.nan if pooled is None else pooled, direction)
    position = funnel_position(per["positive"], per["total"], np.nan if pooled is None else pooled / 100)
    better = {"above": "better", "below": "worse"} if direction == "higher" else {"above": "worse", "below": "better"}
    per["funnel"] = pd.Series(position).replace(better).to_numpy()
    # A practice with a hidden month in the span is hidden for the span: its total less the months shown would
    # give the hidden month away.
    hidden_months = _hidden_practice_months(engine, config, tuple(per["practice_code"]), since.date(), sc.end)
    hidden = {}
    for (pcode, _month), reason in hidden_months.items():
        hidden.setdefault(pcode, reason)
    out = _store_hide(per, hidden, ["practice_code"])
    out.loc[out["pct_positive"].isna(), ["compared", "funnel"]] = "not compared"
    out = out[out["practice_code"].isin(sc.codes)].copy()
    out["practice_name"] = out["practice_code"].map(sc.names).astype("str")
    return out[cols].sort_values("practice_name").reset_index(drop=True), pooled


def legacy_use(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
               counts: FFTCounts | None = None) -> pd.DataFrame:
    """Which selected practices answered on the old question in the window, when, and how many responses."""
    bundle = counts or fft_counts(engine, config, viewer, filters)
    sc, counts = bundle.scope, bundle.legacy
    counts = counts[counts["total"] > 0]
    if counts.empty:
        return pd.DataFrame(columns=["practice_code", "practice_name", "first_month", "last_month", "months",
                                     "responses"])
    out = counts.groupby("practice_code", as_index=False).agg(first_month=("month", "min"),
                                                              last_month=("month", "max"),
                                                              months=("month", "nunique"),
                                                              responses=("total", "sum"))
    out.insert(1, "practice_name", out["practice_code"].map(sc.names).astype("str"))
    return out


def fft_trends(engine: Engine, config: FederationConfig, viewer: Viewer,
               filters: calc.Filters) -> dict[str, calc.KPIResult]:
    """FFT_POSITIVE, FFT_NEGATIVE and FFT_RESPONSE_RATE through the one engine (SPC included)."""
    sc = config.screens
    codes = [c for c in (sc.fft_positive, sc.fft_negative, sc.fft_responses) if c]
    return calc.kpi_results(engine, config, viewer, filters, codes=codes)


def response_modes(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters) -> pd.DataFrame:
    """Responses per month by how they were collected (both questions), for the selected practices, from the FFT
    summary: individual responses where a practice has them for the month and question, otherwise NHS England's
    monthly counts (never both). Months with fewer than 5 responses in all are not shown."""
    cols = ["month", *MODES, "Not recorded", "total", "suppressed"]
    sc = scope(engine, config, viewer, filters)
    if sc.empty:
        return pd.DataFrame(columns=cols)
    start, end = _month_bounds(sc)
    with engine.connect() as conn:
        ids = _practice_ids(conn, sc.codes)
        counts = summary.mode_counts(conn, tuple(ids), start, end)
    if counts.empty:
        return pd.DataFrame(columns=cols)
    counts["mode"] = counts["mode"].where(counts["mode"].isin(MODES), "Not recorded")
    out = counts.pivot_table(index="month", columns="mode", values="n", aggfunc="sum", fill_value=0)
    out = out.reindex(columns=[*MODES, "Not recorded"], fill_value=0).reset_index()
    out.columns.name = None
    out["total"] = out[[*MODES, "Not recorded"]].sum(axis=1)
    hidden = _hidden_area_months(engine, config, viewer, filters, sc.start, sc.end)
    small = ((out["total"] > 0) & (out["total"] < config.thresholds.suppression_min)) | pd.to_datetime(
        out["month"]).isin(list(hidden))
    out[[*MODES, "Not recorded", "total"]] = out[[*MODES, "Not recorded", "total"]].astype(float).mask(
        np.repeat(small.to_numpy()[:, None], len(MODES) + 2, axis=1))
    out["suppressed"] = small
    return out[cols].sort_values("month").reset_index(drop=True)


__all__ = [
    "SCALES", "ANSWER_WORDS", "SCALE_WORDS", "MODES", "Scope", "scope", "small_months", "FFTCounts", "fft_counts",
    "fft_by_month", "fft_practice_months", "fft_by_practice", "legacy_use", "fft_trends", "response_modes",
    "tag_text", "theme_names", "tag_themes", "comment_themes", "Comments", "COMMENT_COLUMNS", "readable_practices",
    "comments", "comment_months", "complaints_summary", "complaints_by_category", "complaint_details",
]
