"""Refresh the measure store: after every import, the demo build and ``python -m data_layer refresh``.

One transaction: the summaries of the raw tables (FFT answers, comment themes), the derived indicators, every
measure for every area and month, and every evaluation are replaced together, so a reader sees the previous figures
until the new ones commit and never a mixture. An import marks the store stale in its own transaction
(:func:`mark_stale`); the refresh clears the mark when it commits. A refresh killed half-way leaves the mark, so the
next refresh, the next import or ``python -m data_layer refresh`` does the work again: nothing is left stale.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from . import sources as raw
from .. import models as m
from ..bulk import insert_frame, record_batch
from ..config import FederationConfig
from ..db import tuples
from . import compute, registry
from .derivations import Context

STALE_KEY = "measures_stale"


@dataclass
class RefreshResult:
    derived_values: int = 0
    values: int = 0
    evaluations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def mark_stale(conn: Connection, reason: str) -> None:
    """Record, inside the caller's transaction, that the store no longer matches the raw data. An earlier mark is
    kept (first), so a refresh that died before is never forgotten: the next refresh then does the whole store."""
    before = conn.execute(select(m.AppMeta.value).where(m.AppMeta.key == STALE_KEY)).scalar_one_or_none()
    conn.execute(delete(m.AppMeta).where(m.AppMeta.key == STALE_KEY))
    value = reason if before is None else f"{before}; then {reason}"
    conn.execute(insert(m.AppMeta).values(key=STALE_KEY, value=value[:2000]))


def stale_reason(engine: Engine) -> str | None:
    """Why the store is out of date (None when it matches the raw data)."""
    with engine.connect() as conn:
        return conn.execute(select(m.AppMeta.value).where(m.AppMeta.key == STALE_KEY)).scalar_one_or_none()


EVERY_SOURCE = frozenset({"fft", "training", "complaints", "significant_events", "practices", "indicators",
                          "staff_survey", "ppg", "premises", "workforce", "violence"})


def refresh(engine: Engine, config: FederationConfig, reason: str = "refresh", actor: str = "system",
            progress: Callable[[str], None] | None = None, sources=None,
            practice_codes=None, batch_id: int | None = None) -> RefreshResult:
    """Work the store out again. ``sources`` (what an import fed: "fft", "training", ...; None: everything) limits
    the work to the derivations that read them and the measures they change; ``practice_codes`` and ``batch_id``
    (the import's batch) limit the FFT summaries to the practices and months the import touched, and imported
    indicator values to the indicators in the batch. A store marked stale is always refreshed whole."""
    say = progress or (lambda _m: None)
    result = RefreshResult()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[name] = now - clock
        clock = now

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one refresh at a time across app servers and cron jobs
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(770011)")
        whole = sources is None or "practices" in sources or _stale_before_this_import(conn, reason)
        sources = EVERY_SOURCE if whole else frozenset(sources)
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        rid = conn.execute(insert(m.MeasureRefresh).values(started_at=started, reason=reason[:200], values_written=0,
                                                           evaluations_written=0)).inserted_primary_key[0]
        if "fft" in sources:
            say("Summarising the Friends and Family Test answers and comments…")
            ids = None if whole or not practice_codes else _practice_ids(conn, practice_codes)
            months = None if whole or batch_id is None else _batch_months(conn, batch_id)
            _summaries(conn, config, ids, months)
        lap("summaries")
        say("Calculating the derived indicators…")
        ctx = _context(conn, config)
        derived = [i for i in config.indicators if i.derived and registry.get(i.derived).reads in sources]
        result.derived_values = _derived(conn, config, ctx, actor, derived)
        codes = None if whole else [i.code for i in derived] + (
            _batch_codes(conn, config, batch_id) if "indicators" in sources else [])
        lap("derived")
        if codes == []:
            _benchmarks(conn, config, rid)  # a file may bring only benchmark areas' figures
            _finish(conn, rid, result)
            return result
        say("Working out every measure for every practice, PCN and the federation…")
        values = _values(conn, config, ctx, codes)
        lap("values")
        say("Judging every series (targets and Making Data Count)…")
        evaluations = compute.evaluate(values, config, rebases=_rebases(conn))
        lap("evaluate")
        for table in (m.MeasureValue, m.MeasureEvaluation):
            stmt = delete(table)
            conn.execute(stmt if codes is None else stmt.where(table.indicator_code.in_(codes)))
        result.values = insert_frame(conn, m.MeasureValue.__table__, values.assign(refresh_id=rid))
        result.evaluations = insert_frame(conn, m.MeasureEvaluation.__table__, evaluations.assign(refresh_id=rid))
        _benchmarks(conn, config, rid)
        _finish(conn, rid, result)
        lap("write")
    return result


def _stale_before_this_import(conn: Connection, reason: str) -> bool:
    """A stale mark left by something other than this import (a refresh that died): do the whole store."""
    why = conn.execute(select(m.AppMeta.value).where(m.AppMeta.key == STALE_KEY)).scalar_one_or_none()
    return why is not None and (";" in why or not why.startswith(reason))


def _benchmarks(conn: Connection, config: FederationConfig, rid: int) -> None:
    """England, region, ICB, sub-ICB and PCN beside every area's published figures (measures/benchmarks.py)."""
    from .benchmarks import refresh_benchmarks

    refresh_benchmarks(conn, config, rid)


def _finish(conn: Connection, rid: int, result: RefreshResult) -> None:
    conn.execute(delete(m.AppMeta).where(m.AppMeta.key == STALE_KEY))
    conn.execute(update(m.MeasureRefresh).where(m.MeasureRefresh.id == rid).values(
        finished_at=datetime.now(timezone.utc).replace(tzinfo=None), values_written=result.values,
        evaluations_written=result.evaluations))


def _batch_months(conn: Connection, batch_id: int) -> list | None:
    """The months an import's FFT rows fall in (None: it wrote none, so nothing limits the summary)."""
    from .sources import month_start

    month = month_start(m.FFTResponse.response_date, conn.dialect.name)
    found = {pd.Timestamp(v).date() for (v,) in conn.execute(
        select(month).where(m.FFTResponse.batch_id == batch_id).distinct())}
    found |= {pd.Timestamp(v).date() for (v,) in conn.execute(
        select(m.FFTMonthlyCount.month).where(m.FFTMonthlyCount.batch_id == batch_id).distinct())}
    return sorted(found) or None


def _batch_codes(conn: Connection, config: FederationConfig, batch_id: int | None) -> list[str]:
    """The imported (not derived) indicators an import wrote; every one when the batch is not known."""
    imported = [i.code for i in config.indicators if not i.derived]
    if batch_id is None:
        return imported
    found = {c for (c,) in conn.execute(select(m.IndicatorValue.indicator_code).where(
        m.IndicatorValue.batch_id == batch_id).distinct())}
    return [c for c in imported if c in found]


def _practice_ids(conn: Connection, codes) -> list[int]:
    return [r for (r,) in conn.execute(select(m.Practice.id).where(m.Practice.code.in_(list(codes))))]


def _rebases(conn: Connection) -> dict:
    """Rebase notes: {(indicator_code, practice_code or None): [months]} (see compute.rebase_matrix)."""
    rows = conn.execute(select(m.ChartNote.indicator_code, m.ChartNote.practice_code, m.ChartNote.month)
                        .where(m.ChartNote.rebase.is_(True)).distinct()).all()
    out: dict = {}
    for code, practice, month in rows:
        out.setdefault((code, practice or None), []).append(pd.Timestamp(month))
    return out


def _summaries(conn: Connection, config: FederationConfig, practice_ids=None, months=None) -> None:
    """The FFT answer counts and comment themes the feedback views read (rebuilt from the raw responses)."""
    from .fft_summary import refresh_fft_summary
    from .themes import tag_comments

    refresh_fft_summary(conn, practice_ids, months)
    tag_comments(conn, config, practice_ids, months)


def _context(conn: Connection, config: FederationConfig) -> Context:
    derived_codes = [i.code for i in config.indicators if i.derived]
    months = raw.data_months(conn, derived_codes)
    as_of = raw._last_complete_month() + pd.offsets.MonthEnd(1)
    return Context(conn=conn, config=config, months=months, sizes=raw._list_sizes(conn), as_of=as_of)


def _derived(conn: Connection, config: FederationConfig, ctx: Context, actor: str, derived: list) -> int:
    """The given derived indicators from the raw tables, replacing their previous values."""
    codes = [i.code for i in derived]
    frames = []
    for ind in derived:
        df = registry.get(ind.derived).function(ctx, ind)
        if df.empty:
            continue
        df = df[df["period_start"].isin(ctx.months)] if len(ctx.months) else df.iloc[0:0]
        df = df[df["denominator"] > 0]
        frames.append(df.assign(indicator_code=ind.code, value=df["numerator"] / df["denominator"] * ind.multiplier))
    if codes:
        conn.execute(delete(m.IndicatorValue).where(m.IndicatorValue.indicator_code.in_(codes)))
    if not frames:
        return 0
    out = pd.concat(frames, ignore_index=True)
    out["period_start"] = pd.to_datetime(out["period_start"])
    out["period_end"] = out["period_start"] + pd.offsets.MonthEnd(0)
    out["batch_id"] = record_batch(conn, "derived", "calculated from the raw tables", "-", actor, rows_new=len(out))
    return insert_frame(conn, m.IndicatorValue.__table__, out)


def _practice_values(conn: Connection, config: FederationConfig, codes: list[str] | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    practices = pd.DataFrame(tuples(conn.execute(
        select(m.Practice.id, m.Practice.code, m.Practice.pcn).where(m.Practice.active.is_(True)))),
        columns=["practice_id", "code", "pcn"])
    stmt = (select(m.IndicatorValue.indicator_code, m.Practice.code, m.IndicatorValue.period_start,
                   m.IndicatorValue.numerator, m.IndicatorValue.denominator, m.IndicatorValue.value,
                   m.IndicatorValue.lower_ci, m.IndicatorValue.upper_ci)
            .join(m.Practice, m.Practice.id == m.IndicatorValue.practice_id)
            .where(m.Practice.active.is_(True), m.IndicatorValue.indicator_code.in_(
                list(config.indicator_codes) if codes is None else codes)))
    pv = pd.DataFrame(tuples(conn.execute(stmt)), columns=["indicator_code", "practice_code", "period_start",
                                                           "numerator", "denominator", "value", "lower_ci",
                                                           "upper_ci"])
    for c in ("numerator", "denominator", "value", "lower_ci", "upper_ci"):
        pv[c] = pd.to_numeric(pv[c], errors="coerce").astype(float)
    pv["period_start"] = pd.to_datetime(pv["period_start"])
    return practices, pv


def _basis(frame: pd.DataFrame, ar: compute.Areas) -> pd.DataFrame:
    """Practice-month counts (practice_code, period_start, count) summed to every area."""
    practice = frame.assign(area_type=compute.PRACTICE, area_code=frame["practice_code"])
    agg = frame.merge(ar.members, on="practice_code").groupby(
        ["area_type", "area_code", "period_start"], as_index=False)["count"].sum()
    return pd.concat([practice[["area_type", "area_code", "period_start", "count"]], agg], ignore_index=True)


def _values(conn: Connection, config: FederationConfig, ctx: Context, codes: list[str] | None = None
            ) -> pd.DataFrame:
    practices, pv = _practice_values(conn, config, codes)
    if pv.empty:
        return pd.DataFrame(columns=compute.VALUE_COLUMNS)
    ar = compute.areas(practices, config)
    values = compute.area_values(pv, ar, config)
    hidden: dict[str, pd.DataFrame] = {}
    fft_codes = [i.code for i in config.indicators if i.suppression == "fft" and (codes is None or i.code in codes)]
    if fft_codes:
        counts = ctx.fft_counts()
        code_of = dict(zip(practices["practice_id"], practices["code"]))
        fft = pd.DataFrame({"practice_code": counts["practice_id"].map(code_of), "period_start":
                            pd.to_datetime(counts["month"]), "count": counts["total"].astype(float)}).dropna()
        rule = compute.suppression(_basis(fft, ar), ar, config.thresholds.suppression_min)
        hidden.update({c: rule for c in fft_codes})
    for ind in config.indicators:
        if ind.suppression == "gpps" and (codes is None or ind.code in codes):
            own = pv[(pv["indicator_code"] == ind.code) & pv["denominator"].notna()]
            frame = own[["practice_code", "period_start"]].assign(count=own["denominator"])
            hidden[ind.code] = compute.suppression(_basis(frame, ar), ar, config.thresholds.gpps_suppression_min)
    staff_codes = [i.code for i in config.indicators if i.suppression == "staff" and (codes is None or i.code in codes)]
    if staff_codes:  # staff survey: hidden on few respondents (people), not few answers
        from .derivations_records import staff_survey_respondents

        resp = staff_survey_respondents(conn)
        code_of = dict(zip(practices["practice_id"], practices["code"]))
        frame = pd.DataFrame({"practice_code": resp["practice_id"].map(code_of), "period_start":
                              pd.to_datetime(resp["period_start"]), "count": resp["count"].astype(float)}).dropna()
        rule = compute.suppression(_basis(frame, ar), ar, config.thresholds.staff_suppression_min)
        hidden.update({c: rule for c in staff_codes})
    out = compute.apply_flags(values, hidden, config)
    return out
