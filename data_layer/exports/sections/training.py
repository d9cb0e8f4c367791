"""Staff training in a pack (Safe: safe and effective staffing; safeguarding): the training module's compliance
matrix, by course, role and practice, with the data layer's RAG against the federation's training target."""
from __future__ import annotations

import pandas as pd

from ... import engine as calc
from ... import training as tr
from ...analytics import compliance_rate
from ...config import FederationConfig
from ..pack_model import InspectionPack, Statement, Table, day_words


def _target_words(config: FederationConfig, snap: tr.Snapshot) -> str:
    target = snap.target[0]
    return (f"the federation's target of {calc.format_value(target, '%')} for mandatory training (line)"
            if target is not None else "no target set for mandatory training")


def staffing(config: FederationConfig, pack: InspectionPack, snap: tr.Snapshot) -> Statement:
    st = Statement("Safe and effective staffing")
    if snap.status.empty:
        st.paragraphs.append("No staff in post with required training on this date.")
        return st
    as_of = day_words(snap.as_of)
    days = config.thresholds.lapsing_buckets
    soon, last = tr.bucket_labels(config)[2], days[-1]
    matrix = tr.compliance_matrix(snap)
    overall = matrix[(matrix["practice_code"] == "ALL") & (matrix["course"] == "ALL")].iloc[0]
    lapsing = tr.lapsing_counts(snap)
    total = lapsing[lapsing["practice_code"] == "ALL"].iloc[0]
    st.paragraphs.append(
        f"Training compliance on {as_of}: {calc.format_value(overall['compliance_pct'], '%')} "
        f"({int(overall['in_date']):,} of {int(overall['required']):,} required staff × course pairs in date). "
        f"{int(total[tr.LAPSED])} lapsed, {int(total[tr.NEVER])} never completed, and {int(total[soon])} more lapse "
        f"within {days[0]} days. Which courses each role needs is the federation's policy (CQC sets no mandatory "
        f"list for GP practices; Regulation 18).")
    by_course = matrix[(matrix["practice_code"] == "ALL") & (matrix["course"] != "ALL")].copy()
    by_course = by_course.sort_values("compliance_pct", kind="mergesort")
    pack.training_courses = by_course[["course", "course_name", "required", "in_date", "compliance_pct",
                                       "rag"]].copy()
    course_table = pd.DataFrame({
        "Course": by_course["course_name"].astype(str), "Required": by_course["required"].astype(int),
        "In date": by_course["in_date"].astype(int), f"Lapsing in {last} days": by_course["lapsing"].astype(int),
        "Lapsed": by_course["lapsed"].astype(int), "Never completed": by_course["never_completed"].astype(int),
        "Compliance (%)": by_course["compliance_pct"].astype(float),
    })
    st.tables.append(Table(
        "training_by_course", f"Training compliance by course on {as_of}", course_table.reset_index(drop=True),
        note=f"Required: staff in post whose role needs the course. In date includes training that lapses within "
             f"{last} days. Lowest compliance first.",
        pdf_widths=(62, 18, 18, 22, 16, 22, 22)))
    st.charts.append(("training", f"Training compliance by course on {as_of} (bars coloured on, near or off target),"
                                  f" with {_target_words(config, snap)}."))
    by_role = tr.compliance_by_role(snap)
    role_table = pd.DataFrame({
        "Role": by_role["role"].astype(str), "Staff in post": by_role["staff"].astype(int),
        "Required": by_role["required"].astype(int), "In date": by_role["in_date"].astype(int),
        "Lapsed": by_role["lapsed"].astype(int), "Never completed": by_role["never_completed"].astype(int),
        "Compliance (%)": by_role["compliance_pct"].astype(float),
    })
    st.tables.append(Table(
        "training_by_role", f"Training compliance and staff in post by role on {as_of}", role_table,
        note="Staff in post: people with a role the training policy covers, on that date.",
        pdf_widths=(40, 22, 22, 22, 22, 26, 26)))
    # course × role: where compliance falls short, and for whom
    cells = compliance_rate(snap.status, by=["course_name", "role"])
    roles = [r for r in config.training.roles if r in set(cells["role"])]
    grid = cells.pivot(index="course_name", columns="role", values="compliance_pct").reindex(columns=roles)
    order = [c.name for c in config.training.courses if c.name in grid.index]
    grid = grid.reindex(order).reset_index().rename(columns={"course_name": "Course"})
    grid.columns = ["Course", *roles]
    st.tables.append(Table(
        "training_course_role", "Training compliance (%) by course and role", grid,
        kinds={r: "dec1" for r in roles},
        note="Percentage of the role's staff in post with the course in date. Blank: the role does not need the "
             "course.",
        pdf_widths=(44, *([136 / max(len(roles), 1)] * len(roles)))))
    if pack.is_federation:
        per = matrix[(matrix["course"] == "ALL") & (matrix["practice_code"] != "ALL")]
        lap = lapsing.set_index("practice_code")
        practice_table = pd.DataFrame({
            "Practice": per["practice_name"].astype(str), "Code": per["practice_code"].astype(str),
            "Required": per["required"].astype(int), "In date": per["in_date"].astype(int),
            "Lapsed": per["practice_code"].map(lap[tr.LAPSED]).astype(int),
            "Never completed": per["practice_code"].map(lap[tr.NEVER]).astype(int),
            f"Lapse within {days[0]} days": per["practice_code"].map(lap[soon]).astype(int),
            "Compliance (%)": per["compliance_pct"].astype(float),
        }).sort_values("Practice").reset_index(drop=True)
        st.tables.append(Table("training_by_practice", f"Training compliance by practice on {as_of}",
                               practice_table, pdf_widths=(48, 18, 18, 18, 16, 22, 20, 20)))
    return st


def safeguarding(config: FederationConfig, pack: InspectionPack, snap: tr.Snapshot) -> Statement:
    st = Statement("Safeguarding")
    if snap.status.empty:
        return st
    courses = set()
    for code in ("SAFEGUARDING_TRAINING", "DOMESTIC_ABUSE_TRAINING"):
        if code in config.indicator_codes:
            courses |= set(config.indicator(code).courses)
    if not courses:
        return st
    status = snap.status[snap.status["course"].isin(courses)]
    if status.empty:
        return st
    rows = compliance_rate(status, by=["course_name", "role"])
    order = {c.name: i for i, c in enumerate(config.training.courses)}
    role_order = {r: i for i, r in enumerate(config.training.roles)}
    rows = rows.sort_values(["course_name", "role"], key=lambda s: s.map(order if s.name == "course_name"
                                                                         else role_order), kind="mergesort")
    as_of = day_words(snap.as_of)
    table = pd.DataFrame({
        "Course": rows["course_name"].astype(str), "Role": rows["role"].astype(str),
        "Required": rows["required"].astype(int), "In date": rows["in_date"].astype(int),
        "Lapsed": rows["lapsed"].astype(int), "Never completed": rows["never_completed"].astype(int),
        "Compliance (%)": rows["compliance_pct"].astype(float),
    }).reset_index(drop=True)
    st.tables.append(Table("safeguarding_training", f"Safeguarding and domestic abuse training by role on {as_of}",
                           table, note="The level each role needs follows the intercollegiate guidance as set in the "
                                       "federation's training policy.",
                           pdf_widths=(54, 30, 17, 17, 16, 22, 24)))
    hours = tr.hours_summary(snap, config)
    hours = hours[hours["practice_code"] == "ALL"]
    if not hours.empty:
        st.tables.append(Table(
            "safeguarding_hours", "Safeguarding hours over the rolling window",
            pd.DataFrame({
                "Course": hours["course_name"].astype(str),
                "Hours required": hours["required_hours"].astype(float),
                "Window (months)": hours["window_months"].astype(int),
                "Staff who need it": hours["staff"].astype(int), "Meeting it": hours["meeting"].astype(int),
                "Meeting it (%)": hours["meeting_pct"].astype(float),
                "Median hours done": hours["median_hours"].astype(float),
                "Hours short in all": hours["shortfall_hours"].astype(float),
            }).reset_index(drop=True),
            kinds={"Hours required": "dec1", "Median hours done": "dec1", "Hours short in all": "dec1"},
            note="Hours-based requirements count every session completed inside the rolling window.",
            pdf_widths=(52, 18, 18, 20, 18, 18, 18, 18)))
    return st
