"""Comment themes: each patient comment tagged once with the themes declared in ``federation.toml`` ([[themes]]).

A comment carries a theme when its text (both answers joined, any case) contains one of the theme's words or phrases
as written (a plain substring: "book" also finds "booked"; "dr " only matches at a word's end). The sentiment stored
with a tag is what the patient answered (Very good / Good: positive; Neither: neutral; Poor / Very poor: negative;
Don't know), on either question. The feedback page's theme counts and the comments browser's theme filter and tags
all read ``comment_themes``; nothing searches the comments' text for themes on a visit.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, delete, or_, select

from .. import models as m
from ..bulk import insert_frame
from ..config import FederationConfig
from ..db import tuples
from .fft_summary import date_in_months, month_firsts

SENTIMENT = {1: "positive", 2: "positive", 3: "neutral", 4: "negative", 5: "negative", 6: "don't know"}


def theme_names(config: FederationConfig) -> list[str]:
    """The declared themes, in the config's order."""
    return [t.name for t in config.themes]


def _patterns(config: FederationConfig) -> dict[str, str]:
    return {t.name: "|".join(re.escape(w.lower()) for w in t.words) for t in config.themes}


def tag_text(config: FederationConfig, text: str | None) -> list[str]:
    """The themes one text carries (the rule :func:`tag_comments` applies to every comment)."""
    low = (text or "").lower()
    return [t.name for t in config.themes if any(w.lower() in low for w in t.words)]


def tag_comments(conn: Connection, config: FederationConfig, practice_ids: Iterable[int] | None = None,
                 months: Iterable | None = None) -> int:
    """Replace the theme tags of every comment (``practice_ids=None``) or of the given practices' comments, in every
    month (``months=None``) or only the given ones (any dates within them), inside the caller's transaction.
    Returns the number of tags written."""
    ids = None if practice_ids is None else tuple(int(p) for p in practice_ids)
    firsts = month_firsts(months)
    if (ids is not None and not ids) or (firsts is not None and not firsts):
        return 0
    r = m.FFTResponse
    stmt = (select(r.id, r.practice_id, r.response_date, r.rating, r.comment, r.comment_2)
            .where(or_(r.comment.is_not(None), r.comment_2.is_not(None))))
    gone = delete(m.CommentTheme)
    if ids is not None:
        stmt = stmt.where(r.practice_id.in_(ids))
        gone = gone.where(m.CommentTheme.practice_id.in_(ids))
    if firsts is not None:
        stmt = stmt.where(date_in_months(r.response_date, firsts))
        gone = gone.where(m.CommentTheme.month.in_(firsts))
    df = pd.DataFrame(tuples(conn.execute(stmt)),
                      columns=["response_id", "practice_id", "date", "rating", "comment", "comment_2"])
    conn.execute(gone)
    if df.empty or not config.themes:
        return 0
    text = (df["comment"].fillna("").astype(str) + " " + df["comment_2"].fillna("").astype(str)).str.lower()
    base = pd.DataFrame({
        "response_id": pd.to_numeric(df["response_id"]).astype("int64"),
        "practice_id": pd.to_numeric(df["practice_id"]).astype("int64"),
        "month": pd.to_datetime(df["date"]).dt.to_period("M").dt.to_timestamp(),
        "sentiment": pd.to_numeric(df["rating"]).map(SENTIMENT).fillna("don't know").astype(str),
    })
    frames = [base[text.str.contains(pattern, regex=True).to_numpy()].assign(theme=name)
              for name, pattern in _patterns(config).items()]
    tags = pd.concat(frames, ignore_index=True)
    return insert_frame(conn, m.CommentTheme.__table__, tags)
