"""Patients' comments: the theme counts (every role) and the comments browser (the viewer's person-level practices
only, redacted with ``privacy.redact_for``). A month with too few FFT responses to show shows no comment either.

Split out of ``feedback`` (which re-exports every name here).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from . import engine as calc
from .comment_search import postgresql_condition, search_words, sqlite_matches, words_in
from . import models as m
from .config import FederationConfig
from .feedback_scope import ANSWER_WORDS, Scope, _month_bounds, _practice_ids, scope, small_months
from .measures import fft_summary as summary
from .measures.themes import tag_text, theme_names
from .privacy import redact_for
from .scope import Viewer


# ----------------------------------------------------------------------------------------------------------------
# Comments
# ----------------------------------------------------------------------------------------------------------------
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
    ``search`` (full text: every word starts a word of either answer, any case; best matches first, then
    newest), ``practice_codes``, ``month`` (first day), ``ratings`` (answer ids 1–6, either question) and ``themes``
    (any of them). At most ``limit`` rows are returned; ``matching`` says how many there are."""
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
    words = search_words(search)
    base = (select(m.FFTResponse.id, m.FFTResponse.response_date, m.Practice.code, m.FFTResponse.scale,
                   m.FFTResponse.rating, m.FFTResponse.comment, m.FFTResponse.comment_2, m.FFTResponse.mode)
            .join(m.Practice, m.Practice.id == m.FFTResponse.practice_id))
    count_stmt = (select(func.count()).select_from(m.FFTResponse)
                  .join(m.Practice, m.Practice.id == m.FFTResponse.practice_id))
    order = [m.FFTResponse.response_date.desc(), m.FFTResponse.id.desc()]
    if words:  # the full-text index (data_layer/comment_search.py), best matches first
        if engine.dialect.name == "sqlite":
            found = sqlite_matches(words)
            base = base.join(found, found.c.id == m.FFTResponse.id)
            count_stmt = count_stmt.join(found, found.c.id == m.FFTResponse.id)
            order = [found.c.rank.asc(), *order]
        else:
            matches, rank = postgresql_condition(words)
            conds.append(matches)
            order = [rank.desc(), *order]
    base = base.where(and_(*conds)).order_by(*order)
    count_stmt = count_stmt.where(and_(*conds))
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
        # The index found the words in the text as written; keep only comments that still hold them as the viewer
        # reads them (a redacted name or number is not findable).
        keep = [words_in(f"{a or ''} {b or ''}", words) for a, b in zip(df["comment"], df["follow_up"])]
        df = df[np.asarray(keep, dtype=bool)] if len(df) else df
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
