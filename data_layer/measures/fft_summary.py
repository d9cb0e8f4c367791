"""The FFT summary: answer counts per practice × month × question (scale) × answer × mode, kept in ``fft_summary``.

Every FFT count the feedback page, the inspection pack and the derived FFT indicators show is read from here instead
of scanning ``fft_responses`` (1.65 million rows at ICB scale) on each visit. Refreshed after each import and demo
build (:func:`refresh_fft_summary`), for every practice or only those an import touched.

Rows, by where the counts came from:

* **individual responses** (``fft_responses``): ``rating`` 1–6, ``mode`` as recorded (``""`` when not recorded),
  ``responses`` and how many of them have a comment (either answer);
* **NHS England's aggregated monthly counts** (``fft_monthly_counts``), used only for a practice × month × question
  with no individual responses (never both, so nothing is counted twice): one row per answer with ``mode`` =
  :data:`ALL_MODES` (the file does not split answers by mode), and one row per mode with ``rating`` =
  :data:`ANY_ANSWER` (``mode`` ``""`` for responses whose mode the file does not give: total less the mode counts).

So answer counts are the rows with ``rating`` 1–6, and mode counts the rows whose ``mode`` is not ``ALL_MODES``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import Connection, Date, case, cast, delete, func, or_, select

from .. import models as m
from ..bulk import insert_frame
from ..db import tuples

ALL_MODES = "*"  # aggregated counts: one answer's responses over every mode
ANY_ANSWER = 0  # aggregated counts: one mode's responses over every answer
ANSWER_COLUMNS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")  # ratings 1–6
MODE_COLUMNS = {"SMS": "mode_sms", "Online": "mode_online", "Paper": "mode_paper", "Telephone": "mode_telephone",
                "Other": "mode_other"}
COLUMNS = ["practice_id", "month", "scale", "rating", "mode", "responses", "comments"]


def _month_start(column, dialect: str):
    """The first day of a date column's month, in SQL, on either backend."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.strftime("%Y-%m-01", column)


def _as_month(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values)).dt.to_period("M").dt.to_timestamp()


def _ids_condition(column, practice_ids: Iterable[int] | None):
    return None if practice_ids is None else column.in_(tuple(int(p) for p in practice_ids))


def month_firsts(months: Iterable | None) -> tuple[date, ...] | None:
    """Months given as any dates within them, as their first days (None: every month)."""
    if months is None:
        return None
    return tuple(sorted({pd.Timestamp(d).to_period("M").to_timestamp().date() for d in months}))


def date_in_months(column, months: tuple[date, ...]):
    """SQL: a date column falls in one of the months (first days), as ranges so the date index serves it."""
    return or_(*[column.between(mo, (pd.Timestamp(mo) + pd.offsets.MonthEnd(0)).date()) for mo in months])


def _individual(conn: Connection, practice_ids, months) -> pd.DataFrame:
    r = m.FFTResponse
    month = _month_start(r.response_date, conn.dialect.name).label("month")
    mode = func.coalesce(r.mode, "").label("mode")
    has_comment = case((or_(r.comment.is_not(None), r.comment_2.is_not(None)), 1), else_=0)
    stmt = (select(r.practice_id, month, r.scale, r.rating, mode, func.count(), func.sum(has_comment))
            .group_by(r.practice_id, month, r.scale, r.rating, mode))
    cond = _ids_condition(r.practice_id, practice_ids)
    if cond is not None:
        stmt = stmt.where(cond)
    if months is not None:
        stmt = stmt.where(date_in_months(r.response_date, months))
    df = pd.DataFrame(tuples(conn.execute(stmt)), columns=COLUMNS)
    df["month"] = _as_month(df["month"])
    return df


def _aggregated(conn: Connection, practice_ids, months, individual: pd.DataFrame) -> pd.DataFrame:
    a = m.FFTMonthlyCount
    stmt = select(a.practice_id, a.month, a.scale, a.total, *[getattr(a, c) for c in ANSWER_COLUMNS],
                  *[getattr(a, c) for c in MODE_COLUMNS.values()])
    cond = _ids_condition(a.practice_id, practice_ids)
    if cond is not None:
        stmt = stmt.where(cond)
    if months is not None:
        stmt = stmt.where(date_in_months(a.month, months))
    agg = pd.DataFrame(tuples(conn.execute(stmt)),
                       columns=["practice_id", "month", "scale", "total", *ANSWER_COLUMNS, *MODE_COLUMNS.values()])
    if agg.empty:
        return pd.DataFrame(columns=COLUMNS)
    agg["month"] = _as_month(agg["month"])
    if not individual.empty:  # never both: individual responses win for their practice × month × question
        key = ["practice_id", "month", "scale"]
        have = pd.MultiIndex.from_frame(individual[key].drop_duplicates())
        agg = agg[~pd.MultiIndex.from_frame(agg[key]).isin(have)]
    if agg.empty:
        return pd.DataFrame(columns=COLUMNS)
    num = agg[["total", *ANSWER_COLUMNS, *MODE_COLUMNS.values()]].apply(pd.to_numeric, errors="coerce").fillna(0)
    base = agg[["practice_id", "month", "scale"]]
    frames = [base.assign(rating=i, mode=ALL_MODES, responses=num[c].to_numpy())
              for i, c in enumerate(ANSWER_COLUMNS, start=1)]
    frames += [base.assign(rating=ANY_ANSWER, mode=mode, responses=num[c].to_numpy())
               for mode, c in MODE_COLUMNS.items()]
    unrecorded = (num["total"] - num[list(MODE_COLUMNS.values())].sum(axis=1)).clip(lower=0)
    frames.append(base.assign(rating=ANY_ANSWER, mode="", responses=unrecorded.to_numpy()))
    out = pd.concat(frames, ignore_index=True)
    out = out[out["responses"] > 0].assign(comments=0)
    return out[COLUMNS]


def refresh_fft_summary(conn: Connection, practice_ids: Iterable[int] | None = None,
                        months: Iterable | None = None) -> int:
    """Rebuild ``fft_summary`` for every practice (``practice_ids=None``) or only the given ones, and for every month
    (``months=None``) or only the given ones (any dates within them: what a one-month import touched), inside the
    caller's transaction (readers keep seeing the previous rows until it commits). Returns the rows written."""
    ids = None if practice_ids is None else tuple(int(p) for p in practice_ids)
    firsts = month_firsts(months)
    if (ids is not None and not ids) or (firsts is not None and not firsts):
        return 0
    individual = _individual(conn, ids, firsts)
    out = pd.concat([x for x in (individual, _aggregated(conn, ids, firsts, individual)) if not x.empty]
                    or [pd.DataFrame(columns=COLUMNS)], ignore_index=True)
    stmt = delete(m.FFTSummary)
    if ids is not None:
        stmt = stmt.where(m.FFTSummary.practice_id.in_(ids))
    if firsts is not None:
        stmt = stmt.where(m.FFTSummary.month.in_(firsts))
    conn.execute(stmt)
    if out.empty:
        return 0
    for c in ("practice_id", "rating", "responses", "comments"):
        out[c] = pd.to_numeric(out[c]).astype("int64")
    out["month"] = pd.to_datetime(out["month"])
    out["mode"] = out["mode"].astype(str)
    return insert_frame(conn, m.FFTSummary.__table__, out)


# ----------------------------------------------------------------------------------------------------------------
# Readers
# ----------------------------------------------------------------------------------------------------------------
def _where(stmt, practice_ids, start, end):
    s = m.FFTSummary
    cond = _ids_condition(s.practice_id, practice_ids)
    if cond is not None:
        stmt = stmt.where(cond)
    if start is not None:
        stmt = stmt.where(s.month >= start)
    if end is not None:
        stmt = stmt.where(s.month <= end)
    return stmt


def answer_counts(conn: Connection, scale: str | None = "current", practice_ids: Iterable[int] | None = None,
                  start=None, end=None) -> pd.DataFrame:
    """One row per practice × month (× scale when ``scale`` is None) with the six answer counts and their total:
    the frame ``derived.fft_monthly`` returns, read from the summary (``start`` / ``end``: first days of months)."""
    s = m.FFTSummary
    stmt = (select(s.practice_id, s.month, s.scale, s.rating, func.sum(s.responses))
            .where(s.rating.between(1, 6)).group_by(s.practice_id, s.month, s.scale, s.rating))
    if scale is not None:
        stmt = stmt.where(s.scale == scale)
    raw = pd.DataFrame(tuples(conn.execute(_where(stmt, practice_ids, start, end))),
                       columns=["practice_id", "month", "scale", "rating", "n"])
    keys = ["practice_id", "month"] if scale is not None else ["practice_id", "month", "scale"]
    if raw.empty:
        out = pd.DataFrame(columns=[*keys, *ANSWER_COLUMNS])
    else:
        raw["month"] = _as_month(raw["month"])
        raw["n"] = pd.to_numeric(raw["n"])
        out = raw.pivot_table(index=keys, columns="rating", values="n", aggfunc="sum", fill_value=0)
        out = out.reindex(columns=range(1, 7), fill_value=0)
        out.columns = list(ANSWER_COLUMNS)
        out = out.reset_index()
        out.columns.name = None
    for c in ANSWER_COLUMNS:
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    out["total"] = out[list(ANSWER_COLUMNS)].sum(axis=1)
    return out


def fft_monthly_from_summary(conn: Connection, scale: str = "current") -> pd.DataFrame:
    """The same frame as ``derived.fft_monthly(conn, scale)`` (practice_id, month, the six answers, total), from the
    summary: what the derived FFT indicators can read instead of the raw responses."""
    return answer_counts(conn, scale)


def mode_counts(conn: Connection, practice_ids: Iterable[int] | None = None, start=None, end=None) -> pd.DataFrame:
    """Responses per practice × month × mode, both questions together (``mode`` as recorded, ``""`` not recorded)."""
    s = m.FFTSummary
    stmt = (select(s.practice_id, s.month, s.mode, func.sum(s.responses)).where(s.mode != ALL_MODES)
            .group_by(s.practice_id, s.month, s.mode))
    df = pd.DataFrame(tuples(conn.execute(_where(stmt, practice_ids, start, end))),
                      columns=["practice_id", "month", "mode", "n"])
    df["month"] = _as_month(df["month"])
    df["n"] = pd.to_numeric(df["n"]).astype("int64") if len(df) else df["n"]
    return df


def comment_counts(conn: Connection, practice_ids: Iterable[int] | None = None, start=None,
                   end=None) -> pd.DataFrame:
    """Comments (responses with a comment in either answer) per practice × month × scale × answer."""
    s = m.FFTSummary
    stmt = (select(s.practice_id, s.month, s.scale, s.rating, func.sum(s.comments)).where(s.rating.between(1, 6))
            .group_by(s.practice_id, s.month, s.scale, s.rating))
    df = pd.DataFrame(tuples(conn.execute(_where(stmt, practice_ids, start, end))),
                      columns=["practice_id", "month", "scale", "rating", "comments"])
    df["month"] = _as_month(df["month"])
    df["comments"] = pd.to_numeric(df["comments"]).fillna(0).astype("int64") if len(df) else df["comments"]
    return df


def comments_total(conn: Connection, practice_ids: Iterable[int] | None = None, start=None, end=None) -> int:
    """How many responses have a comment, over the practices and months given."""
    stmt = _where(select(func.coalesce(func.sum(m.FFTSummary.comments), 0)), practice_ids, start, end)
    return int(conn.execute(stmt).scalar_one() or 0)
