"""Complaints: volumes, still open, acknowledged and resolved in time, median working days (every role), and each
complaint's details for the viewer's person-level practices only (summary redacted).

Split out of ``feedback`` (which re-exports every name here).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, select

from . import engine as calc
from . import models as m
from .config import FederationConfig
from .db import tuples
from .feedback_scope import Scope, scope
from .policy.calendar import working_days_between
from .privacy import redact_for
from .scope import Viewer


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
