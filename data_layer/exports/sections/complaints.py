"""Complaints (Responsive: listening to and involving people) and significant events (Safe: learning culture) in a
pack: counts, response times and the feedback module's in-time figures, with summaries and learning redacted."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, select

from ... import engine as calc
from ... import feedback as fb
from ... import models as m
from ... import views
from ...config import FederationConfig
from ...scope import Viewer
from ..pack_model import PACK_MONTHS, InspectionPack, Statement, Table
from ..redact import Redactor, blank


def deadline_days(config: FederationConfig, derived: str) -> int | None:
    """The working-day deadline of a complaints measure, from its config entry (None: no such measure)."""
    return next((i.days for i in config.indicators if i.derived == derived), None)


def _within(days: int | None) -> str:
    return f"within {days} working days" if days is not None else "in time"


def outcomes(engine: Engine, codes: tuple[str, ...], start: date, end: date) -> pd.DataFrame:
    """Complaints received in the window by outcome (counts only)."""
    outcome = func.coalesce(m.Complaint.outcome, "Not yet decided")
    stmt = (select(outcome, func.count()).join(m.Practice, m.Practice.id == m.Complaint.practice_id)
            .where(m.Practice.code.in_(codes), m.Complaint.received_on >= start, m.Complaint.received_on <= end)
            .group_by(outcome))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=["Outcome", "Complaints"])
    df["Complaints"] = pd.to_numeric(df["Complaints"]).astype(int)
    return df.sort_values(["Complaints", "Outcome"], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def complaints(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
               filters: calc.Filters, clean: Redactor) -> Statement:
    st = Statement("Listening to and involving people")
    summary = fb.complaints_summary(engine, config, viewer, filters)
    if summary.empty:
        return st
    ack_days = deadline_days(config, "complaints_acknowledged_in_time")
    res_days = deadline_days(config, "complaints_resolved_in_time")
    total = summary[summary["practice_code"] == "ALL"].iloc[0]
    received = int(total["received"])
    if received == 0:
        st.paragraphs.append(f"No complaints received in the {PACK_MONTHS} months.")
    else:
        def share(pct, num, den):  # the percentage as the feedback module gives it, with its counts
            return f"{calc.format_value(float(pct), '%')} ({int(num)} of {int(den)})" if den else "–"

        def days(v):
            return "–" if pd.isna(v) else f"{v:.0f} working day{'s' if v != 1 else ''}"

        st.paragraphs.append(
            f"{received} complaint{'s' if received != 1 else ''} received in the {PACK_MONTHS} months, "
            f"{int(total['open'])} still open. Acknowledged {_within(ack_days)}: "
            f"{share(total['ack_pct'], total['ack_in_time'], total['ack_decided'])}; median "
            f"{days(total['median_days_to_ack'])}. Final response {_within(res_days)}: "
            f"{share(total['resolved_pct'], total['resolved_in_time'], total['resolved_decided'])}; median "
            f"{days(total['median_days_to_resolve'])}.")
    body = summary if pack.is_federation else summary[summary["practice_code"] != "ALL"]
    ack_col = f"Acknowledged in {ack_days} days (%)" if ack_days is not None else "Acknowledged in time (%)"
    res_col = f"Resolved in {res_days} days (%)" if res_days is not None else "Resolved in time (%)"
    st.tables.append(Table(
        "complaints_summary", "Complaints: numbers and response times", pd.DataFrame({
            "Practice": body["practice_name"].astype(str), "Received": body["received"].astype(int),
            "Still open": body["open"].astype(int),
            ack_col: body["ack_pct"].astype(float), res_col: body["resolved_pct"].astype(float),
            "Median working days to acknowledge": body["median_days_to_ack"].astype(float),
            "Median working days to resolve": body["median_days_to_resolve"].astype(float),
        }).reset_index(drop=True),
        kinds={"Median working days to acknowledge": "dec1", "Median working days to resolve": "dec1"},
        note="In time: of complaints whose deadline has passed or that were answered (the board's COMPLAINTS_* "
             "measures, summed over the months).",
        pdf_widths=(40, 16, 16, 26, 24, 29, 29)))
    cats = fb.complaints_by_category(engine, config, viewer, filters)
    st.tables.append(Table("complaints_by_category", "Complaints by category", pd.DataFrame({
        "Category": cats["category"].astype(str), "Received": cats["received"].astype(int),
        "Still open": cats["open"].astype(int)}), pdf_widths=(100, 40, 40)))
    st.tables.append(Table("complaints_by_outcome", "Complaints by outcome",
                           outcomes(engine, pack.practice_codes, pack.period_start, pack.period_last_day),
                           pdf_widths=(120, 60)))
    if not pack.detail:  # a preview: the list is read (and redacted) only for a file
        return st
    details = fb.complaint_details(engine, config, viewer, filters)
    allowed = viewer.person_level_practices(pack.practice_codes)
    frame = pd.DataFrame({
        "Reference": details["reference"].astype(str), "Practice": details["practice_name"].astype(str),
        "Received": pd.to_datetime(details["received_on"]), "Category": details["category"].astype(str),
        "Acknowledged": pd.to_datetime(details["acknowledged_on"]),
        "Working days to acknowledge": pd.to_numeric(details["days_to_ack"], errors="coerce").astype(float),
        "Resolved": pd.to_datetime(details["resolved_on"]),
        "Working days to resolve": pd.to_numeric(details["days_to_resolve"], errors="coerce").astype(float),
        "Outcome": details["outcome"].fillna("Not yet decided").astype(str),
        "Summary": [clean(s) or "" for s in details["summary"]],
    })
    note = ("Oldest first. Summaries have names, phone numbers, email addresses, NHS numbers and postcodes removed. "
            "Working days: Monday to Friday, not counting England and Wales bank holidays.")
    if set(allowed) != set(pack.practice_codes):
        note += " Details only for practices whose complaint details your role may see."
    frame = frame.sort_values(["Received", "Reference"], kind="mergesort").reset_index(drop=True)
    pdf_cols = ("Reference", "Received", "Category", "Working days to acknowledge", "Working days to resolve",
                "Outcome", "Summary")
    widths = (21, 19, 26, 24, 20, 22, 48)
    if pack.is_federation:
        pdf_cols = ("Reference", "Practice", "Received", "Category", "Working days to acknowledge",
                    "Working days to resolve", "Outcome")
        widths = (22, 36, 19, 28, 24, 20, 26)
    st.tables.append(Table("complaints", f"Complaints received in the {PACK_MONTHS} months", frame,
                           kinds={"Working days to acknowledge": "int", "Working days to resolve": "int"},
                           note=note, pdf_columns=pdf_cols, pdf_widths=widths))
    return st


def significant_events(engine: Engine, viewer: Viewer, pack: InspectionPack, filters: calc.Filters,
                       clean: Redactor) -> Statement:
    st = Statement("Learning culture")
    plist = calc.practices(engine, viewer)
    names = dict(zip(plist["code"], plist["display_name"]))
    per_practice, cats, details = [], [], []
    for code in pack.practice_codes:
        one = calc.Filters(practice_codes=(code,), period_end=filters.period_end, months=PACK_MONTHS)
        s = views.significant_events_summary(engine, viewer, one, code)
        per_practice.append({"Practice": names.get(code, code), "Code": code, "Events": s["count"],
                             "With learning recorded": s["with_learning"]})
        cats.append(s["by_category"])
        if pack.detail and viewer.may_see_people(code):
            d = views.significant_events_list(engine, viewer, one, code)
            details.append(d.assign(Practice=names.get(code, code)))
    events = sum(r["Events"] for r in per_practice)
    learned = sum(r["With learning recorded"] for r in per_practice)
    st.paragraphs.append(
        f"{events} significant event{'s' if events != 1 else ''} recorded in the {PACK_MONTHS} months; learning "
        f"recorded for {learned} of them." if events else
        f"No significant events recorded in the {PACK_MONTHS} months. A practice that reports none may not be "
        "recognising them.")
    by_cat = (pd.concat(cats, ignore_index=True).groupby("Category", as_index=False)[
        ["Events", "With learning recorded"]].sum() if cats else pd.DataFrame(
        columns=["Category", "Events", "With learning recorded"]))
    by_cat = by_cat.sort_values(["Events", "Category"], ascending=[False, True], kind="mergesort")
    st.tables.append(Table("significant_events_by_category", "Significant events by category",
                           by_cat.astype({"Events": int, "With learning recorded": int}).reset_index(drop=True),
                           pdf_widths=(100, 40, 40)))
    if pack.is_federation:
        st.tables.append(Table("significant_events_by_practice", "Significant events by practice",
                               pd.DataFrame(per_practice).astype({"Events": int, "With learning recorded": int}),
                               pdf_widths=(80, 30, 35, 35)))
    frame = pd.concat(details, ignore_index=True) if details else pd.DataFrame(
        columns=["Reference", "Date", "Category", "Learning", "Practice"])
    frame = pd.DataFrame({
        "Reference": frame["Reference"].astype(str), "Practice": frame["Practice"].astype(str),
        "Date": pd.to_datetime(frame["Date"]), "Category": frame["Category"].astype(str),
        "Learning": ["Not yet recorded" if blank(t) else clean(t) for t in frame["Learning"]],
    }).sort_values(["Date", "Reference"], kind="mergesort").reset_index(drop=True)
    pdf_cols = ("Reference", "Practice", "Date", "Category", "Learning") if pack.is_federation else (
        "Reference", "Date", "Category", "Learning")
    widths = (24, 34, 20, 34, 68) if pack.is_federation else (26, 22, 40, 92)
    st.tables.append(Table("significant_events", "Significant events and the learning recorded", frame,
                           note="Oldest first. Names, phone numbers, email addresses, NHS numbers and postcodes "
                                "removed from the learning.", pdf_columns=pdf_cols, pdf_widths=widths))
    return st
