"""A practice's complaints and significant events over the 12 months to the chosen period end: aggregates for
every role, person-level details only for viewers who may see people at that practice (summaries redacted).

Split out of ``views`` (which re-exports every name here).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, case, func, select

from . import engine as calc
from . import models as m
from .config import FederationConfig
from .privacy import redact_for
from .scope import Viewer


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
