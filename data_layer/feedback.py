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

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, or_, select

from . import engine as calc
from . import models as m
from .measures import fft_summary as summary
from .measures import store
from .measures.themes import tag_text, theme_names
from .analytics import (FFT_CATEGORIES, compare_with_benchmark, fft_percentages, funnel_position,
                        suppress_small_counts, wilson_interval)
from .config import FederationConfig
from .db import tuples
from .policy.calendar import working_days_between
from .privacy import redact_for
from .scope import Viewer

SCALES = ("current", "legacy")
ANSWER_WORDS = {
    "current": {1: "Very good", 2: "Good", 3: "Neither good nor poor", 4: "Poor", 5: "Very poor", 6: "Don't know"},
    "legacy": {1: "Extremely likely", 2: "Likely", 3: "Neither likely nor unlikely", 4: "Unlikely",
               5: "Extremely unlikely", 6: "Don't know"},
}
SCALE_WORDS = {"current": "Current question (how was your experience)",
               "legacy": "Old question (how likely to recommend)"}
MODES = ("SMS", "Online", "Paper", "Telephone", "Other")

@dataclass(frozen=True)
class Scope:
    """The practices and months a feedback view covers."""

    codes: tuple[str, ...]
    start: date | None
    end: date | None  # first day of the last month shown
    names: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.codes or self.end is None

    @property
    def end_date(self) -> date | None:
        """The last day covered (end of the last month)."""
        return None if self.end is None else (pd.Timestamp(self.end) + pd.offsets.MonthEnd(0)).date()


def scope(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters) -> Scope:
    plist = calc.practices(engine, viewer, config)
    codes = calc.resolve_practices(engine, viewer, filters)
    if (filters.practice_codes or filters.pcn) and not codes:
        codes = ()
    start, end = calc.period_window(engine, filters)
    return Scope(codes=tuple(codes), start=start, end=end, names=dict(zip(plist["code"], plist["display_name"])))


# ----------------------------------------------------------------------------------------------------------------
# FFT counts and percentages
# ----------------------------------------------------------------------------------------------------------------
def _practice_ids(conn, codes: tuple[str, ...]) -> dict[int, str]:
    return dict(conn.execute(select(m.Practice.id, m.Practice.code).where(m.Practice.code.in_(codes))).all())


def _month_bounds(sc: Scope) -> tuple[date, date]:
    """The window as first days of months (the summary's ``month``)."""
    return pd.Timestamp(sc.start).replace(day=1).date(), pd.Timestamp(sc.end).replace(day=1).date()


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


def _fft_code(config: FederationConfig) -> str | None:
    """The stored FFT measure whose suppression every FFT count follows (one rule for every page and pack)."""
    code = config.screens.fft_positive
    return code or next((i.code for i in config.indicators if i.suppression == "fft"), None)


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


def _hidden_practice_months(engine: Engine, config: FederationConfig, codes, start, end) -> dict:
    code = _fft_code(config)
    if code is None or not codes:
        return {}
    v = store.values(engine, "practice", list(codes), [code], start, end)
    v = v[v["suppressed"]]
    return {(c, pd.Timestamp(mo)): r or "too few responses" for c, mo, r in
            zip(v["area_code"], v["period_start"], v["suppression_reason"])}


def small_months(engine: Engine, config: FederationConfig, codes, start, end) -> list[tuple[str, date]]:
    """Practice-months with too few FFT responses to show (the primary rule): no comment of them is shown."""
    hidden = _hidden_practice_months(engine, config, codes, start, end)
    return [(c, mo.date()) for (c, mo), r in hidden.items() if r.startswith("fewer than")]


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


# ----------------------------------------------------------------------------------------------------------------
# Comments
# ----------------------------------------------------------------------------------------------------------------
def _comment_text():
    return func.lower(func.coalesce(m.FFTResponse.comment, "") + " " + func.coalesce(m.FFTResponse.comment_2, ""))


def tag_themes(config: FederationConfig, text: str | None) -> list[str]:
    """The themes a text carries by the config's rule (the stored tags were made by the same rule)."""
    return tag_text(config, text)


def comment_themes(engine: Engine, config: FederationConfig, viewer: Viewer,
                   filters: calc.Filters) -> pd.DataFrame:
    """How many comments touch each theme, split by what the patient answered (positive / neutral / negative),
    for the selected practices and months: counts only, so every role may see them. Read from the stored tags
    (``comment_themes``); every declared theme has a row while the selection has any comments."""
    cols = ["theme", "positive", "neutral", "negative", "total"]
    sc = scope(engine, config, viewer, filters)
    if sc.empty:
        return pd.DataFrame(columns=cols)
    start, end = _month_bounds(sc)
    ct = m.CommentTheme
    few = small_months(engine, config, sc.codes, start, end)  # months too small to show: not counted either
    with engine.connect() as conn:
        id_of = {c: i for i, c in _practice_ids(conn, sc.codes).items()}
        ids = tuple(id_of.values())
        any_comments = summary.comments_total(conn, ids, start, end) > 0
        conds = [ct.practice_id.in_(ids), ct.month >= start, ct.month <= end]
        if few:
            conds.append(~or_(*[and_(ct.practice_id == id_of[c], ct.month == mo) for c, mo in few if c in id_of]))
        rows = conn.execute(select(ct.theme, ct.sentiment, func.count()).where(*conds)
                            .group_by(ct.theme, ct.sentiment)).all()
    if not any_comments and not rows:
        return pd.DataFrame(columns=cols)
    counts: dict[str, dict[str, int]] = {}
    for theme, sentiment, n in rows:
        counts.setdefault(theme, {})[sentiment] = int(n)
    out = []
    for name in theme_names(config):
        by = counts.get(name, {})
        row = {"theme": name, "positive": by.get("positive", 0), "neutral": by.get("neutral", 0),
               "negative": by.get("negative", 0)}
        row["total"] = row["positive"] + row["neutral"] + row["negative"] + by.get("don't know", 0)
        out.append(row)
    return pd.DataFrame(out, columns=cols).sort_values("total", ascending=False).reset_index(drop=True)


@dataclass
class Comments:
    rows: pd.DataFrame  # what the browser shows, newest first
    matching: int  # how many comments match (rows may be fewer: the newest ``limit``)
    practices: tuple[str, ...]  # practices whose comments this viewer may read within the selection
    reason: str = ""  # why there is nothing, in words


COMMENT_COLUMNS = ["date", "practice_code", "practice_name", "question", "answer", "comment", "follow_up",
                   "themes", "mode"]


def _readable(sc: Scope, viewer: Viewer) -> tuple[tuple[str, ...], str]:
    if sc.empty:
        return (), "No practices or months selected."
    codes = viewer.person_level_practices(sc.codes)
    if codes:
        return codes, ""
    if viewer.role == "viewer":
        return (), "Your role sees figures only, not patients' comments."
    return (), "Comments are shown for your own practice only, and it is not in the current practice filter."


def readable_practices(engine: Engine, config: FederationConfig, viewer: Viewer,
                       filters: calc.Filters) -> tuple[tuple[str, ...], str]:
    """The selected practices whose comments this viewer may read, and if none, why not (in words)."""
    return _readable(scope(engine, config, viewer, filters), viewer)


def comments(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters, search: str = "",
             practice_codes: tuple[str, ...] = (), month: date | None = None, ratings: tuple[int, ...] = (),
             themes: tuple[str, ...] = (), limit: int = 500) -> Comments:
    """Patients' comments for the comments browser, newest first, redacted for this viewer.

    Only comments from the viewer's person-level practices (within the sidebar selection) are ever read. Filters:
    ``search`` (words anywhere in either answer, any case), ``practice_codes``, ``month`` (first day), ``ratings``
    (answer ids 1–6, either question) and ``themes`` (any of them). At most ``limit`` rows are returned;
    ``matching`` says how many there are."""
    sc = scope(engine, config, viewer, filters)
    readable, why = _readable(sc, viewer)
    allowed = tuple(c for c in readable if not practice_codes or c in practice_codes)
    empty = pd.DataFrame(columns=COMMENT_COLUMNS)
    if not readable:
        return Comments(empty, 0, (), why)
    if not allowed:
        return Comments(empty, 0, (), "No practice chosen whose comments you may read.")
    start, end = sc.start, sc.end_date
    if month is not None:
        start = max(pd.Timestamp(month), pd.Timestamp(sc.start)).date()
        end = min((pd.Timestamp(month) + pd.offsets.MonthEnd(0)), pd.Timestamp(end)).date()
    conds = [m.Practice.code.in_(allowed), m.FFTResponse.response_date >= start, m.FFTResponse.response_date <= end,
             or_(m.FFTResponse.comment.is_not(None), m.FFTResponse.comment_2.is_not(None))]
    # A month with too few responses to show is not shown here either: its comments and answers would identify
    # the few patients behind it (the measure store's rule, as every count on every page).
    few = small_months(engine, config, allowed, start, end)
    if few:
        conds.append(~or_(*[and_(m.Practice.code == c, m.FFTResponse.response_date >= mo,
                                 m.FFTResponse.response_date <= (pd.Timestamp(mo) + pd.offsets.MonthEnd(0)).date())
                            for c, mo in few]))
    if ratings:
        conds.append(m.FFTResponse.rating.in_(tuple(int(r) for r in ratings)))
    if themes:  # the stored tags (comment_themes), never a search of the text
        ct = m.CommentTheme
        tagged = select(ct.response_id).join(m.Practice, m.Practice.id == ct.practice_id).where(
            ct.theme.in_(tuple(themes)), m.Practice.code.in_(allowed),
            ct.month >= pd.Timestamp(start).replace(day=1).date(), ct.month <= end)
        conds.append(m.FFTResponse.id.in_(tagged))
    words = [w for w in re.split(r"\s+", (search or "").strip().lower()) if w]
    for w in words:
        conds.append(_comment_text().contains(w, autoescape=True))
    base = (select(m.FFTResponse.id, m.FFTResponse.response_date, m.Practice.code, m.FFTResponse.scale,
                   m.FFTResponse.rating, m.FFTResponse.comment, m.FFTResponse.comment_2, m.FFTResponse.mode)
            .join(m.Practice, m.Practice.id == m.FFTResponse.practice_id).where(and_(*conds))
            .order_by(m.FFTResponse.response_date.desc(), m.FFTResponse.id.desc()))
    count_stmt = (select(func.count()).select_from(m.FFTResponse)
                  .join(m.Practice, m.Practice.id == m.FFTResponse.practice_id).where(and_(*conds)))
    redacting = redact_for(viewer, "07700 900123") != "07700 900123"
    with engine.connect() as conn:
        if words and redacting:
            # Search what the viewer sees: a phone number that is redacted on screen must not be findable.
            raw = conn.execute(base).all()
        elif not words and not themes and not few and pd.Timestamp(start).day == 1:
            # Count from the FFT summary, and read only the newest months that hold the ``limit`` newest comments.
            matching, since = _comment_months_needed(conn, allowed, start, end, ratings, limit)
            raw = conn.execute(base.where(m.FFTResponse.response_date >= since).limit(limit)).all() if matching else []
        else:
            matching = conn.execute(count_stmt).scalar_one()
            raw = conn.execute(base.limit(limit)).all()
    df = pd.DataFrame(raw, columns=["id", "date", "practice_code", "scale", "rating", "comment", "follow_up", "mode"])
    for col in ("comment", "follow_up"):
        df[col] = pd.Series([redact_for(viewer, t) for t in df[col]], index=df.index, dtype=object)
    if words and redacting:
        text = (df["comment"].fillna("") + " " + df["follow_up"].fillna("")).str.lower()
        keep = np.ones(len(df), dtype=bool)
        for w in words:
            keep &= text.str.contains(w, regex=False).to_numpy()
        df = df[keep]
        matching = len(df)
        df = df.head(limit)
    df["themes"] = _stored_tags(engine, config, df["id"])
    df["date"] = pd.to_datetime(df["date"]).dt.date
    df["practice_name"] = df["practice_code"].map(sc.names).astype("str")
    df["question"] = df["scale"].map({"current": "Current", "legacy": "Old (likely to recommend)"}).astype("str")
    df["answer"] = [ANSWER_WORDS.get(s, ANSWER_WORDS["current"]).get(int(r), str(r))
                    for s, r in zip(df["scale"], df["rating"])]
    reason = "" if matching else "No comments match these filters in the chosen period."
    return Comments(df[COMMENT_COLUMNS].reset_index(drop=True), int(matching), allowed, reason)


def _comment_months_needed(conn, codes: tuple[str, ...], start: date, end: date, ratings: tuple[int, ...],
                           limit: int) -> tuple[int, date]:
    """How many comments the practices have from ``start`` (a month's first day) to ``end`` (from the FFT summary),
    and the first day of the oldest month needed for the newest ``limit`` of them."""
    counts = summary.comment_counts(conn, tuple(_practice_ids(conn, codes)), start, end)
    if ratings:
        counts = counts[counts["rating"].isin([int(r) for r in ratings])]
    by_month = counts.groupby("month")["comments"].sum().sort_index(ascending=False)
    by_month = by_month[by_month > 0]
    if by_month.empty:
        return 0, start
    reached = by_month.cumsum() >= limit
    since = by_month.index[int(reached.to_numpy().argmax())] if reached.any() else by_month.index[-1]
    return int(by_month.sum()), max(pd.Timestamp(since).date(), start)


def _stored_tags(engine: Engine, config: FederationConfig, ids: pd.Series) -> list[str]:
    """Each response's stored theme tags, in the config's order, joined with ", "."""
    ids = [int(i) for i in ids]
    if not ids:
        return []
    order = {name: i for i, name in enumerate(theme_names(config))}
    tags: dict[int, list[str]] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            for rid, theme in conn.execute(select(m.CommentTheme.response_id, m.CommentTheme.theme)
                                           .where(m.CommentTheme.response_id.in_(chunk))):
                tags.setdefault(int(rid), []).append(theme)
    return [", ".join(sorted(tags.get(i, []), key=lambda t: order.get(t, len(order)))) for i in ids]


def comment_months(engine: Engine, filters: calc.Filters) -> list[date]:
    """The months of the window, newest first (choices for the month filter)."""
    start, end = calc.period_window(engine, filters)
    if end is None:
        return []
    return [d.date() for d in pd.date_range(start, end, freq="MS")[::-1]]


# ----------------------------------------------------------------------------------------------------------------
# Complaints
# ----------------------------------------------------------------------------------------------------------------
def _complaint_rows(engine: Engine, sc: Scope, people: bool) -> pd.DataFrame:
    cols = [m.Practice.code, m.Complaint.received_on, m.Complaint.acknowledged_on, m.Complaint.resolved_on,
            m.Complaint.category]
    names = ["practice_code", "received_on", "acknowledged_on", "resolved_on", "category"]
    if people:
        cols += [m.Complaint.reference, m.Complaint.outcome, m.Complaint.summary]
        names += ["reference", "outcome", "summary"]
    stmt = (select(*cols).join(m.Practice, m.Practice.id == m.Complaint.practice_id)
            .where(m.Practice.code.in_(sc.codes), m.Complaint.received_on >= sc.start,
                   m.Complaint.received_on <= sc.end_date))
    with engine.connect() as conn:
        df = pd.DataFrame(tuples(conn.execute(stmt)), columns=names)
    for c in ("received_on", "acknowledged_on", "resolved_on"):
        df[c] = pd.to_datetime(df[c])
    return df


def _ack_days(config: FederationConfig) -> tuple[int, int]:
    ack = next((i.days for i in config.indicators if i.derived == "complaints_acknowledged_in_time"), 3)
    res = next((i.days for i in config.indicators if i.derived == "complaints_resolved_in_time"), 40)
    return int(ack or 3), int(res or 40)


def complaints_summary(engine: Engine, config: FederationConfig, viewer: Viewer,
                       filters: calc.Filters) -> pd.DataFrame:
    """Per selected practice (and all together) over the window: complaints received, still open, acknowledged and
    resolved in time (the stored COMPLAINTS_* indicators, Σnum/Σden, so these match the board's figures), and the
    median working days to acknowledge and to resolve. Counts only: every role may see it."""
    cols = ["practice_code", "practice_name", "received", "open", "ack_in_time", "ack_decided", "ack_pct",
            "resolved_in_time", "resolved_decided", "resolved_pct", "median_days_to_ack", "median_days_to_resolve"]
    sc = scope(engine, config, viewer, filters)
    if sc.empty:
        return pd.DataFrame(columns=cols)
    rows = _complaint_rows(engine, sc, people=False)
    rows["to_ack"] = working_days_between(rows["received_on"], rows["acknowledged_on"])
    rows["to_resolve"] = working_days_between(rows["received_on"], rows["resolved_on"])
    codes = {i.derived: i.code for i in config.indicators if i.derived and i.derived.startswith("complaints")}
    ind = calc.indicator_by_practice(engine, list(codes.values()), sc.codes, sc.start, sc.end)

    order = pd.Index(list(sc.codes), name="practice_code")

    def per_practice(frame: pd.DataFrame) -> pd.DataFrame:
        """Counts and medians per practice (grouped once, not filtered per practice)."""
        g = frame.assign(is_open=frame["resolved_on"].isna()).groupby("practice_code")
        return pd.DataFrame({"received": g.size(), "open": g["is_open"].sum(),
                             "median_days_to_ack": g["to_ack"].median(),
                             "median_days_to_resolve": g["to_resolve"].median()}).reindex(order)

    def kpi(derived: str) -> pd.DataFrame:
        part = ind[ind["indicator_code"] == codes.get(derived)]
        return part.groupby("practice_code")[["numerator", "denominator"]].sum().astype(float).reindex(order)

    base = per_practice(rows)
    ack, res = kpi("complaints_acknowledged_in_time"), kpi("complaints_resolved_in_time")
    each = pd.DataFrame({
        "practice_code": order, "practice_name": [sc.names.get(c, c) for c in order],
        "received": base["received"].fillna(0).astype(int).to_numpy(),
        "open": base["open"].fillna(0).astype(int).to_numpy(),
        "ack_in_time": ack["numerator"].fillna(0.0).to_numpy(), "ack_decided": ack["denominator"].fillna(0.0).to_numpy(),
        "resolved_in_time": res["numerator"].fillna(0.0).to_numpy(),
        "resolved_decided": res["denominator"].fillna(0.0).to_numpy(),
        "median_days_to_ack": base["median_days_to_ack"].astype(float).to_numpy(),
        "median_days_to_resolve": base["median_days_to_resolve"].astype(float).to_numpy(),
    })
    every = {"practice_code": "ALL", "practice_name": "All selected practices", "received": len(rows),
             "open": int(rows["resolved_on"].isna().sum()),
             "median_days_to_ack": float(rows["to_ack"].median()) if rows["to_ack"].notna().any() else np.nan,
             "median_days_to_resolve": float(rows["to_resolve"].median()) if rows["to_resolve"].notna().any()
             else np.nan}
    for key, frame in (("ack", ack), ("resolved", res)):
        every[f"{key}_in_time"] = float(frame["numerator"].sum())
        every[f"{key}_decided"] = float(frame["denominator"].sum())
    each = pd.concat([each, pd.DataFrame([every])], ignore_index=True)
    for key in ("ack", "resolved"):
        den = each[f"{key}_decided"]
        each[f"{key}_pct"] = np.where(den > 0, each[f"{key}_in_time"] / den.where(den > 0, 1) * 100, np.nan)
    df = each[cols]
    body = df[df["practice_code"] != "ALL"].sort_values("practice_name")
    return pd.concat([body, df[df["practice_code"] == "ALL"]], ignore_index=True)


def complaints_by_category(engine: Engine, config: FederationConfig, viewer: Viewer,
                           filters: calc.Filters) -> pd.DataFrame:
    """Complaints received per category over the window (selected practices), most frequent first."""
    sc = scope(engine, config, viewer, filters)
    if sc.empty:
        return pd.DataFrame(columns=["category", "received", "open"])
    stmt = (select(m.Complaint.category, func.count(),
                   func.sum(case((m.Complaint.resolved_on.is_(None), 1), else_=0)))
            .join(m.Practice, m.Practice.id == m.Complaint.practice_id)
            .where(m.Practice.code.in_(sc.codes), m.Complaint.received_on >= sc.start,
                   m.Complaint.received_on <= sc.end_date)
            .group_by(m.Complaint.category))
    with engine.connect() as conn:
        df = pd.DataFrame(tuples(conn.execute(stmt)), columns=["category", "received", "open"])
    df["received"] = pd.to_numeric(df["received"]).astype(int)
    df["open"] = pd.to_numeric(df["open"]).fillna(0).astype(int)
    return df.sort_values(["received", "category"], ascending=[False, True]).reset_index(drop=True)


def complaint_details(engine: Engine, config: FederationConfig, viewer: Viewer,
                      filters: calc.Filters) -> pd.DataFrame:
    """Each complaint (newest first) with working days to acknowledge and to resolve, for the viewer's
    person-level practices only; the summary is redacted for this viewer."""
    ack_days, res_days = _ack_days(config)
    cols = ["reference", "practice_code", "practice_name", "received_on", "category", "acknowledged_on",
            "days_to_ack", "ack_in_time", "resolved_on", "days_to_resolve", "resolved_in_time", "outcome", "summary"]
    sc = scope(engine, config, viewer, filters)
    allowed = viewer.person_level_practices(sc.codes)
    if sc.empty or not allowed:
        return pd.DataFrame(columns=cols)
    df = _complaint_rows(engine, Scope(allowed, sc.start, sc.end, sc.names), people=True)
    df["days_to_ack"] = working_days_between(df["received_on"], df["acknowledged_on"])
    df["days_to_resolve"] = working_days_between(df["received_on"], df["resolved_on"])
    df["ack_in_time"] = np.where(df["days_to_ack"].isna(), "not yet",
                                 np.where(df["days_to_ack"] <= ack_days, "yes", "no"))
    df["resolved_in_time"] = np.where(df["days_to_resolve"].isna(), "open",
                                      np.where(df["days_to_resolve"] <= res_days, "yes", "no"))
    df["practice_name"] = df["practice_code"].map(sc.names).astype("str")
    df["summary"] = [redact_for(viewer, t) for t in df["summary"]]
    for c in ("received_on", "acknowledged_on", "resolved_on"):
        df[c] = df[c].dt.date
    return df.sort_values(["received_on", "reference"], ascending=[False, True])[cols].reset_index(drop=True)
