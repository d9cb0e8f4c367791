"""Readers of the raw tables the derived indicators are worked out from (the registered derivations in
``derivations.py`` call these; ``refresh.py`` stores what they return). FFT percentages, training compliance,
complaint timeliness and significant-event measures are declared in the federation config (``derived = "…"``).
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Date, cast, func, select

from .. import models as m
from .. import models_records as rec
from ..analytics import training_status
from ..config import FederationConfig, Indicator
from ..db import tuples

MAX_MONTHS = 120


def month_start(column, dialect: str):
    """SQL expression for the first day of the month of a date column, on either backend."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.strftime("%Y-%m-01", column)


def _as_month(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.to_period("M").dt.to_timestamp()


def _last_complete_month(today: date | None = None) -> pd.Timestamp:
    today = pd.Timestamp(today or date.today())
    return (today.replace(day=1) - pd.DateOffset(months=1)).normalize()


def data_months(conn: Connection, derived_codes: list[str]) -> pd.DatetimeIndex:
    """The months the federation holds data for: from the earliest raw record to the latest (never the future)."""
    candidates = [
        select(func.min(m.FFTResponse.response_date), func.max(m.FFTResponse.response_date)),
        select(func.min(m.FFTMonthlyCount.month), func.max(m.FFTMonthlyCount.month)),
        select(func.min(m.Complaint.received_on), func.max(m.Complaint.received_on)),
        select(func.min(m.SignificantEvent.event_date), func.max(m.SignificantEvent.event_date)),
        # the practice records (data_layer/models_records.py)
        select(func.min(rec.StaffSurveyResult.period_start), func.max(rec.StaffSurveyResult.period_start)),
        select(func.min(rec.PPGMeeting.meeting_date), func.max(rec.PPGMeeting.meeting_date)),
        # a check done years ago is still evidence now, but it does not make those years months with data
        select(func.max(rec.PremisesCheck.done_on), func.max(rec.PremisesCheck.done_on)),
        select(func.min(rec.WorkforceMonth.month), func.max(rec.WorkforceMonth.month)),
        select(func.min(rec.AbuseIncident.incident_date), func.max(rec.AbuseIncident.incident_date)),
        select(func.min(m.IndicatorValue.period_start), func.max(m.IndicatorValue.period_start)).where(
            m.IndicatorValue.indicator_code.not_in(derived_codes)
        ),
    ]
    lows, highs = [], []
    for stmt in candidates:
        lo, hi = conn.execute(stmt).one()
        if lo is not None:
            lows.append(pd.Timestamp(lo))
            highs.append(pd.Timestamp(hi))
    latest = _last_complete_month()
    if highs:
        end = min(max(highs), latest + pd.DateOffset(months=1))
        end = end.to_period("M").to_timestamp()
        start = min(lows).to_period("M").to_timestamp()
    else:
        has_training = conn.execute(select(func.count()).select_from(m.TrainingCompletion)).scalar_one()
        if not has_training:
            return pd.DatetimeIndex([])
        end, start = latest, latest - pd.DateOffset(months=35)
    start = max(start, end - pd.DateOffset(months=MAX_MONTHS - 1))
    return pd.date_range(start, end, freq="MS")


def _list_sizes(conn: Connection) -> pd.Series:
    rows = conn.execute(select(m.Practice.id, m.Practice.list_size)).all()
    return pd.Series({pid: size for pid, size in rows}, dtype="float64")


def fft_monthly(conn: Connection, scale: str = "current") -> pd.DataFrame:
    """FFT counts per practice-month on one scale: individual responses where a practice has them for the month,
    otherwise NHS England's aggregated counts (never both, so nothing is counted twice)."""
    dialect = conn.dialect.name
    month = month_start(m.FFTResponse.response_date, dialect).label("month")
    stmt = (
        select(m.FFTResponse.practice_id, month, m.FFTResponse.rating, func.count().label("n"))
        .where(m.FFTResponse.scale == scale)
        .group_by(m.FFTResponse.practice_id, month, m.FFTResponse.rating)
    )
    resp = pd.DataFrame(tuples(conn.execute(stmt)), columns=["practice_id", "month", "rating", "n"])
    cols = ["very_good", "good", "neither", "poor", "very_poor", "dont_know"]
    if not resp.empty:
        resp["month"] = _as_month(resp["month"])
        resp = resp.pivot_table(index=["practice_id", "month"], columns="rating", values="n", aggfunc="sum",
                                fill_value=0)
        resp = resp.reindex(columns=range(1, 7), fill_value=0)
        resp.columns = cols
        resp = resp.reset_index()
    else:
        resp = pd.DataFrame(columns=["practice_id", "month", *cols])
    agg = pd.DataFrame(
        tuples(conn.execute(
            select(m.FFTMonthlyCount.practice_id, m.FFTMonthlyCount.month,
                   *[getattr(m.FFTMonthlyCount, c) for c in cols]).where(m.FFTMonthlyCount.scale == scale)
        )),
        columns=["practice_id", "month", *cols],
    )
    if not agg.empty:
        agg["month"] = _as_month(agg["month"])
        if not resp.empty:
            have = pd.MultiIndex.from_frame(resp[["practice_id", "month"]])
            agg = agg[~pd.MultiIndex.from_frame(agg[["practice_id", "month"]]).isin(have)]
    out = pd.concat([x for x in (resp, agg) if not x.empty], ignore_index=True) if not (
        resp.empty and agg.empty) else resp
    for c in cols:
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    out["total"] = out[cols].sum(axis=1)
    return out


def _fft(conn: Connection, ind: Indicator, sizes: pd.Series, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    counts = fft_monthly(conn) if counts is None else counts
    if counts.empty:
        return counts
    if ind.derived == "fft_positive":
        num = counts["very_good"] + counts["good"]
        den = counts["total"]
    elif ind.derived == "fft_negative":
        num = counts["poor"] + counts["very_poor"]
        den = counts["total"]
    else:  # fft_responses_per_1000
        num = counts["total"]
        den = counts["practice_id"].map(sizes)
    return pd.DataFrame({"practice_id": counts["practice_id"], "period_start": counts["month"],
                         "numerator": num.astype(float), "denominator": den.astype(float)})


def _working_days(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Working days in England and Wales (bank holidays excluded): see data_layer.policy.calendar."""
    from ..policy.calendar import working_days_between

    return working_days_between(start, end)


def _complaints(conn: Connection, ind: Indicator, as_of: pd.Timestamp) -> pd.DataFrame:
    df = pd.DataFrame(
        tuples(conn.execute(select(m.Complaint.practice_id, m.Complaint.received_on, m.Complaint.acknowledged_on,
                                   m.Complaint.resolved_on))),
        columns=["practice_id", "received_on", "acknowledged_on", "resolved_on"],
    )
    if df.empty:
        return df
    done_col = "acknowledged_on" if ind.derived == "complaints_acknowledged_in_time" else "resolved_on"
    taken = _working_days(df["received_on"], df[done_col])
    waited = _working_days(df["received_on"], pd.Series(as_of, index=df.index))
    in_time = taken <= ind.days
    # A complaint still open but inside its deadline is not yet a miss: leave it out of the denominator.
    decided = ~np.isnan(taken) | (waited > ind.days)
    df = df.assign(period_start=_as_month(df["received_on"]), in_time=in_time & decided, decided=decided)
    g = df.groupby(["practice_id", "period_start"], as_index=False).agg(
        numerator=("in_time", "sum"), denominator=("decided", "sum"))
    return g[g["denominator"] > 0].astype({"numerator": float, "denominator": float})


def _significant_events(conn: Connection, ind: Indicator, sizes: pd.Series, months: pd.DatetimeIndex) -> pd.DataFrame:
    df = pd.DataFrame(
        tuples(conn.execute(select(m.SignificantEvent.practice_id, m.SignificantEvent.event_date,
                                   m.SignificantEvent.learning))),
        columns=["practice_id", "event_date", "learning"],
    )
    if ind.derived == "significant_events_with_learning":
        if df.empty:
            return df
        df = df.assign(period_start=_as_month(df["event_date"]),
                       has_learning=df["learning"].fillna("").astype(str).str.strip() != "")
        g = df.groupby(["practice_id", "period_start"], as_index=False).agg(
            numerator=("has_learning", "sum"), denominator=("has_learning", "size"))
        return g.astype({"numerator": float, "denominator": float})
    # Events per 10,000 patients: months without events count as zero, so every practice-month has a value.
    grid = pd.MultiIndex.from_product([sizes.index, months], names=["practice_id", "period_start"])
    if df.empty:
        counts = pd.Series(0, index=grid)
    else:
        df = df.assign(period_start=_as_month(df["event_date"]))
        counts = df.groupby(["practice_id", "period_start"]).size().reindex(grid, fill_value=0)
    out = counts.rename("numerator").reset_index()
    out["denominator"] = out["practice_id"].map(sizes)
    return out.astype({"numerator": float, "denominator": float})


def _staff_and_completions(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    staff = pd.DataFrame(
        tuples(conn.execute(select(m.Staff.id, m.Staff.role, m.Staff.practice_id, m.Staff.start_date,
                                   m.Staff.end_date))),
        columns=["staff_id", "role", "practice_id", "start_date", "end_date"],
    )
    completions = pd.DataFrame(
        tuples(conn.execute(select(m.TrainingCompletion.staff_id, m.TrainingCompletion.course,
                                   m.TrainingCompletion.completed_on, m.TrainingCompletion.hours))),
        columns=["staff_id", "course", "completed_on", "hours"],
    )
    for c in ("start_date", "end_date"):
        staff[c] = pd.to_datetime(staff[c])
    completions["completed_on"] = pd.to_datetime(completions["completed_on"])
    completions["hours"] = pd.to_numeric(completions["hours"], errors="coerce")
    return staff, completions


def requirements_frame(config: FederationConfig, courses: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = []
    for r in config.training.requirements:
        if courses and r.course not in courses:
            continue
        course = config.training.course(r.course)
        for role in r.roles:
            rows.append({
                "role": role,
                "course": r.course,
                "renewal_months": None if r.hours else course.renewal_months,
                "hours": r.hours,
                "window_months": r.window_months,
            })
    return pd.DataFrame(rows, columns=["role", "course", "renewal_months", "hours", "window_months"])


def staff_in_post(staff: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    started = staff["start_date"].isna() | (staff["start_date"] <= as_of)
    not_left = staff["end_date"].isna() | (staff["end_date"] > as_of)
    return staff[started & not_left]


def _training(staff: pd.DataFrame, completions: pd.DataFrame, config: FederationConfig, ind: Indicator,
              months: pd.DatetimeIndex) -> pd.DataFrame:
    reqs = requirements_frame(config, ind.courses)
    frames = []
    for month in months:
        as_of = month + pd.offsets.MonthEnd(0)
        in_post = staff_in_post(staff, as_of)
        if in_post.empty or reqs.empty:
            continue
        done = completions[completions["completed_on"] <= as_of]
        status = training_status(in_post.assign(practice_code=in_post["practice_id"]), done, reqs, as_of.date(),
                                 lapsing_days=config.thresholds.lapsing_days)
        if status.empty:
            continue
        ok = status["status"].isin(["in date", "lapsing"])
        g = status.assign(ok=ok).groupby("practice_id", as_index=False).agg(numerator=("ok", "sum"),
                                                                            denominator=("ok", "size"))
        g["period_start"] = month
        frames.append(g)
    if not frames:
        return pd.DataFrame(columns=["practice_id", "period_start", "numerator", "denominator"])
    return pd.concat(frames, ignore_index=True).astype({"numerator": float, "denominator": float})
