"""Staff training: compliance by practice, course and role, what has lapsed or is about to, and safeguarding hours.

Every function takes the viewer. Staff names are only ever read from the database for the viewer's person-level
practices (``viewer.person_level_practices``): other practices, and every practice for the viewer role, are
reduced to counts before anything leaves this module.

The status of each (member of staff × course required for their role) pair comes from
``analytics.training_status`` with the policy in the federation config (``derived.requirements_frame``), the same
calculation that produces the stored TRAINING_COMPLIANCE indicators, so the matrix on the training page agrees with
the board's headline figure for the same month.

SQL does the reduction: staff in post at the chosen date for the chosen practices only, and for courses renewed by
date only the latest completion per person and course; hours-based requirements need each session, so those rows are
read in full (a few per person).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from . import engine as calc
from . import models as m
from .analytics import compliance_rate, training_status
from .config import FederationConfig
from .db import tuples
from .measures.sources import requirements_frame, staff_in_post
from .policy import status
from .scope import Viewer

# What a practice lead acts on: lapsed first, then what lapses soonest.
LAPSED, NEVER = "Lapsed", "Never completed"


def bucket_labels(config: FederationConfig) -> tuple[str, ...]:
    """What needs doing, most urgent first: lapsed, never completed, then lapsing within each window the federation
    counts (``thresholds.lapsing_buckets``, e.g. 30, 60 and 90 days)."""
    days = config.thresholds.lapsing_buckets
    labels = [LAPSED, NEVER, f"Lapses within {days[0]} days"]
    labels += [f"Lapses in {a + 1}–{b} days" for a, b in zip(days, days[1:])]
    return tuple(labels)


@dataclass(frozen=True)
class Snapshot:
    """Everyone's training status on one date, for the practices the filters select."""

    as_of: date
    status: pd.DataFrame  # one row per required pair (see analytics.training_status) + practice_name, course_name
    practices: pd.DataFrame  # code, display_name of the selected practices
    person_level: tuple[str, ...]  # practices whose names this viewer may see (names present only for these)
    buckets: tuple[str, ...] = (LAPSED, NEVER)  # bucket_labels(config): the columns of what needs doing
    target: tuple = (None, 0.0, "higher")  # the headline training measure's target, tolerance and direction


# ----------------------------------------------------------------------------------------------------------------
# Dates
# ----------------------------------------------------------------------------------------------------------------
def snapshot_date(engine: Engine, filters: calc.Filters, today: date | None = None) -> date | None:
    """The end of the chosen month (the latest month with data when none is chosen), never later than today.

    Month end, because the stored TRAINING_COMPLIANCE for a month is measured at its end: the matrix and the board's
    headline figure for the same month then agree.
    """
    end = filters.period_end or calc.latest_period(engine)
    if end is None:
        return None
    month_end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
    return min(month_end, today or date.today())


def action_date(engine: Engine, filters: calc.Filters, today: date | None = None) -> date | None:
    """The date the chase list is worked out for: today when the latest month is shown (a practice lead chases
    people now), otherwise the end of the chosen month (to see what the list looked like then)."""
    today = today or date.today()
    latest = calc.latest_period(engine)
    if latest is None:
        return None
    if filters.period_end is None or pd.Timestamp(filters.period_end) >= pd.Timestamp(latest):
        return today
    return snapshot_date(engine, filters, today)


# ----------------------------------------------------------------------------------------------------------------
# Status of every required pair
# ----------------------------------------------------------------------------------------------------------------
def _course_names(config: FederationConfig) -> dict[str, str]:
    return {c.code: c.name for c in config.training.courses}


def _hours_courses(config: FederationConfig) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.course for r in config.training.requirements if r.hours))


def snapshot(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
             as_of: date | None = None, courses: tuple[str, ...] = ()) -> Snapshot:
    """Training status of every required (staff × course) pair on ``as_of`` for the practices the filters select.

    Staff names are read only for the viewer's person-level practices; for other practices ``name`` is empty.
    """
    as_of = as_of or snapshot_date(engine, filters)
    plist = calc.practices(engine, viewer, config)
    codes = calc.resolve_practices(engine, viewer, filters)
    if (filters.practice_codes or filters.pcn or filters.group) and not codes:
        codes = ()
    elif not codes:
        codes = tuple(plist["code"])
    chosen = plist[plist["code"].isin(codes)][["code", "display_name"]].reset_index(drop=True)
    person_level = viewer.person_level_practices(codes)
    reqs = requirements_frame(config, courses)
    labels = bucket_labels(config)
    target = _target(config)
    empty = Snapshot(as_of=as_of, status=_empty_status(), practices=chosen, person_level=person_level,
                     buckets=labels, target=target)
    if as_of is None or not codes or reqs.empty:
        return empty

    as_of_ts = pd.Timestamp(as_of)
    in_post = and_(
        m.Practice.code.in_(codes),
        or_(m.Staff.start_date.is_(None), m.Staff.start_date <= as_of),
        or_(m.Staff.end_date.is_(None), m.Staff.end_date > as_of),
        m.Staff.role.in_(tuple(reqs["role"].unique())),
    )
    staff_stmt = (select(m.Staff.id, m.Staff.role, m.Practice.code, m.Staff.start_date, m.Staff.end_date)
                  .join(m.Practice, m.Practice.id == m.Staff.practice_id).where(in_post))
    hours_courses = tuple(c for c in _hours_courses(config) if c in set(reqs["course"]))
    renewal_courses = tuple(c for c in reqs["course"].unique() if c not in hours_courses)
    staff_ids = select(m.Staff.id).join(m.Practice, m.Practice.id == m.Staff.practice_id).where(in_post)
    latest_stmt = (
        select(m.TrainingCompletion.staff_id, m.TrainingCompletion.course,
               func.max(m.TrainingCompletion.completed_on).label("completed_on"))
        .where(m.TrainingCompletion.staff_id.in_(staff_ids), m.TrainingCompletion.course.in_(renewal_courses),
               m.TrainingCompletion.completed_on <= as_of)
        .group_by(m.TrainingCompletion.staff_id, m.TrainingCompletion.course)
    )
    hours_stmt = (
        select(m.TrainingCompletion.staff_id, m.TrainingCompletion.course, m.TrainingCompletion.completed_on,
               m.TrainingCompletion.hours)
        .where(m.TrainingCompletion.staff_id.in_(staff_ids), m.TrainingCompletion.course.in_(hours_courses),
               m.TrainingCompletion.completed_on <= as_of)
    )
    with engine.connect() as conn:
        staff = pd.DataFrame(tuples(conn.execute(staff_stmt)),
                             columns=["staff_id", "role", "practice_code", "start_date", "end_date"])
        latest = pd.DataFrame(tuples(conn.execute(latest_stmt)) if renewal_courses else [],
                              columns=["staff_id", "course", "completed_on"])
        hours = pd.DataFrame(tuples(conn.execute(hours_stmt)) if hours_courses else [],
                             columns=["staff_id", "course", "completed_on", "hours"])
        names = {}
        if person_level:
            names = dict(conn.execute(
                select(m.Staff.id, m.Staff.name).join(m.Practice, m.Practice.id == m.Staff.practice_id)
                .where(in_post, m.Practice.code.in_(person_level))).all())
    if staff.empty:
        return empty
    for c in ("start_date", "end_date"):
        staff[c] = pd.to_datetime(staff[c])
    staff = staff_in_post(staff, as_of_ts)[["staff_id", "role", "practice_code"]]
    latest["hours"] = np.nan
    completions = pd.concat([x for x in (latest, hours) if not x.empty] or [latest], ignore_index=True)
    completions["completed_on"] = pd.to_datetime(completions["completed_on"])
    status = training_status(staff, completions, reqs, as_of, lapsing_days=config.thresholds.lapsing_buckets[-1])
    display = dict(zip(chosen["code"], chosen["display_name"]))
    status["practice_name"] = status["practice_code"].map(display).astype("str")
    status["course_name"] = status["course"].map(_course_names(config)).astype("str")
    status["name"] = pd.Series([names.get(i, "") for i in status["staff_id"]], index=status.index, dtype="str")
    status["bucket"] = _buckets(status, labels, config.thresholds.lapsing_buckets)
    return Snapshot(as_of=as_of, status=status, practices=chosen, person_level=person_level, buckets=labels,
                    target=target)


def _target(config: FederationConfig) -> tuple:
    """RAG for training compliance uses the headline training measure's target (screens.training[0])."""
    if not config.screens.training:
        return (None, config.thresholds.rag_tolerance, "higher")
    code = config.screens.training[0]
    target, tol = config.targets().get(code, (None, config.thresholds.rag_tolerance))
    return (target, tol, config.indicator(code).direction)


def _with_rag(df: pd.DataFrame, snap: Snapshot) -> pd.DataFrame:
    target, tol, direction = snap.target
    rag = status.rag(df["compliance_pct"].to_numpy(dtype=float), np.nan if target is None else target, direction,
                     tol, "%")
    return df.assign(rag=rag)


def _empty_status() -> pd.DataFrame:
    return pd.DataFrame(columns=["staff_id", "role", "practice_code", "course", "rule", "required_hours",
                                 "last_completed", "expires_on", "hours_in_window", "days_left", "status",
                                 "practice_name", "course_name", "name", "bucket"])


def _buckets(status: pd.DataFrame, labels: tuple[str, ...], days: tuple[int, ...]) -> pd.Series:
    left = status["days_left"].to_numpy(dtype=float, na_value=np.nan)
    st = status["status"].astype("str").to_numpy()
    out = np.full(len(status), "", dtype=object)
    in_date = np.isin(st, ["in date", "lapsing"])
    for upper, label in reversed(list(zip(days, labels[2:]))):
        out[in_date & (left <= upper)] = label
    out[st == "lapsed"] = labels[0]
    out[st == "never completed"] = labels[1]
    return pd.Series(out, index=status.index, dtype="str")


# ----------------------------------------------------------------------------------------------------------------
# Aggregates (every role)
# ----------------------------------------------------------------------------------------------------------------
COUNT_COLUMNS = ["required", "in_date", "lapsing", "lapsed", "never_completed", "compliance_pct"]


def compliance_matrix(snap: Snapshot) -> pd.DataFrame:
    """Practice × course: required pairs, in date (including lapsing), lapsed, never completed and compliance %.

    Rows for every selected practice × course that any of its staff need; a practice with no staff in post gets no
    rows. Also a row per practice for all courses (course "ALL") and per course for all practices (practice "ALL"),
    each Σ in date / Σ required, never a mean of percentages."""
    st = snap.status
    if st.empty:
        return pd.DataFrame(columns=["practice_code", "practice_name", "course", "course_name", *COUNT_COLUMNS,
                                     "rag"])
    cells = compliance_rate(st, by=["practice_code", "course"])
    by_practice = compliance_rate(st, by=["practice_code"]).assign(course="ALL")
    by_course = compliance_rate(st, by=["course"]).assign(practice_code="ALL")
    overall = compliance_rate(st).assign(practice_code="ALL", course="ALL")
    out = pd.concat([cells, by_practice, by_course, overall], ignore_index=True)
    names = dict(zip(snap.practices["code"], snap.practices["display_name"]))
    names["ALL"] = "All selected practices"
    courses = dict(zip(st["course"], st["course_name"]))
    courses["ALL"] = "All required training"
    out["practice_name"] = out["practice_code"].map(names).astype("str")
    out["course_name"] = out["course"].map(courses).astype("str")
    return _with_rag(out[["practice_code", "practice_name", "course", "course_name", *COUNT_COLUMNS]], snap)


def compliance_by_role(snap: Snapshot) -> pd.DataFrame:
    """Role (and all roles): required pairs, in date, lapsed, never completed, compliance % and staff in post."""
    st = snap.status
    if st.empty:
        return pd.DataFrame(columns=["role", "staff", *COUNT_COLUMNS, "rag"])
    out = compliance_rate(st, by=["role"])
    staff = st.groupby("role")["staff_id"].nunique()
    out["staff"] = out["role"].map(staff).astype(int)
    total = compliance_rate(st).assign(role="All roles", staff=int(st["staff_id"].nunique()))
    return _with_rag(pd.concat([out, total], ignore_index=True)[["role", "staff", *COUNT_COLUMNS]], snap)


def lapsing_counts(snap: Snapshot) -> pd.DataFrame:
    """Practice × what needs doing: counts of lapsed, never completed and lapsing within 30/60/90 days, for every
    selected practice (zeros included, so "nothing to chase" is visible), plus an all-practices row."""
    st = snap.status
    cols = ["practice_code", "practice_name", *snap.buckets, "Total to act on"]
    if snap.practices.empty:
        return pd.DataFrame(columns=cols)
    acted = st[st["bucket"] != ""] if not st.empty else st
    grid = pd.crosstab(acted["practice_code"], acted["bucket"]) if not acted.empty else pd.DataFrame()
    grid = grid.reindex(index=snap.practices["code"], columns=list(snap.buckets), fill_value=0).fillna(0).astype(int)
    grid["Total to act on"] = grid.sum(axis=1)
    out = grid.reset_index().rename(columns={"code": "practice_code", "index": "practice_code"})
    out.insert(1, "practice_name", snap.practices["display_name"].to_numpy())
    total = out[list(snap.buckets) + ["Total to act on"]].sum().to_dict()
    out = pd.concat([out, pd.DataFrame([{"practice_code": "ALL", "practice_name": "All selected practices",
                                         **total}])], ignore_index=True)
    return out[cols]


def lapsing_by_course(snap: Snapshot) -> pd.DataFrame:
    """Course × what needs doing (counts), the courses with most to act on first."""
    st = snap.status
    cols = ["course", "course_name", *snap.buckets, "Total to act on"]
    acted = st[st["bucket"] != ""] if not st.empty else st
    if acted.empty:
        return pd.DataFrame(columns=cols)
    grid = pd.crosstab([acted["course"], acted["course_name"]], acted["bucket"])
    grid = grid.reindex(columns=list(snap.buckets), fill_value=0)
    grid["Total to act on"] = grid.sum(axis=1)
    return grid.reset_index().sort_values("Total to act on", ascending=False, kind="mergesort")[cols]


def chase_list(snap: Snapshot, viewer: Viewer) -> pd.DataFrame:
    """The named list a practice lead chases: lapsed, never completed and lapsing within 90 days, soonest first.

    Only the viewer's person-level practices are ever included (names were only read for those)."""
    cols = ["practice_code", "practice_name", "name", "role", "course", "course_name", "bucket", "status", "rule",
            "last_completed", "expires_on", "days_left", "hours_in_window", "required_hours"]
    st = snap.status
    allowed = [c for c in snap.person_level if viewer.may_see_people(c)]
    if st.empty or not allowed:
        return pd.DataFrame(columns=cols)
    rows = st[(st["bucket"] != "") & st["practice_code"].isin(allowed)].copy()
    rows["_order"] = rows["bucket"].map({b: i for i, b in enumerate(snap.buckets)})
    rows["_days"] = rows["days_left"].astype("Float64").fillna(-10**6)
    rows = rows.sort_values(["_order", "_days", "practice_name", "name", "course_name"], kind="mergesort")
    return rows[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------------
# Safeguarding hours over the rolling window
# ----------------------------------------------------------------------------------------------------------------
def hours_summary(snap: Snapshot, config: FederationConfig) -> pd.DataFrame:
    """Per practice × hours-based requirement: staff who need it, how many meet it today, total hours done in the
    rolling window and the total shortfall. Plus an all-practices row per course."""
    cols = ["practice_code", "practice_name", "course", "course_name", "required_hours", "window_months", "staff",
            "meeting", "meeting_pct", "hours_done", "median_hours", "shortfall_hours"]
    st = snap.status
    hrs = st[st["rule"] == "hours"].copy() if not st.empty else st
    if hrs.empty:
        return pd.DataFrame(columns=cols)
    hrs["meets"] = hrs["status"].isin(["in date", "lapsing"])
    hrs["short"] = np.maximum(hrs["required_hours"].astype(float) - hrs["hours_in_window"].astype(float), 0.0)

    def agg(g: pd.DataFrame) -> pd.DataFrame:
        return g.agg(required_hours=("required_hours", "max"), staff=("staff_id", "nunique"),
                     meeting=("meets", "sum"), hours_done=("hours_in_window", "sum"),
                     median_hours=("hours_in_window", "median"), shortfall_hours=("short", "sum"))

    per = agg(hrs.groupby(["practice_code", "course"])).reset_index()
    tot = agg(hrs.groupby(["course"])).reset_index().assign(practice_code="ALL")
    out = pd.concat([per, tot], ignore_index=True)
    out["meeting_pct"] = np.where(out["staff"] > 0, out["meeting"] / out["staff"] * 100, np.nan)
    windows = {r.course: r.window_months for r in config.training.requirements if r.hours}
    out["window_months"] = out["course"].map(windows)
    names = dict(zip(snap.practices["code"], snap.practices["display_name"]))
    names["ALL"] = "All selected practices"
    out["practice_name"] = out["practice_code"].map(names).astype("str")
    out["course_name"] = out["course"].map(_course_names(config)).astype("str")
    return out[cols]


def hours_by_person(snap: Snapshot, viewer: Viewer) -> pd.DataFrame:
    """Hours done in the rolling window by each member of staff with an hours requirement (person-level practices
    only), those short of their hours first."""
    cols = ["practice_code", "practice_name", "name", "role", "course", "course_name", "hours_in_window",
            "required_hours", "shortfall_hours", "status", "expires_on"]
    st = snap.status
    allowed = [c for c in snap.person_level if viewer.may_see_people(c)]
    if st.empty or not allowed:
        return pd.DataFrame(columns=cols)
    rows = st[(st["rule"] == "hours") & st["practice_code"].isin(allowed)].copy()
    rows["shortfall_hours"] = np.maximum(rows["required_hours"].astype(float) - rows["hours_in_window"].astype(float),
                                         0.0)
    rows = rows.sort_values(["shortfall_hours", "practice_name", "name"], ascending=[False, True, True],
                            kind="mergesort")
    return rows[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------------
# Over time: the stored indicators, through the one engine
# ----------------------------------------------------------------------------------------------------------------
def compliance_trends(engine: Engine, config: FederationConfig, viewer: Viewer,
                      filters: calc.Filters) -> dict[str, calc.KPIResult]:
    """TRAINING_COMPLIANCE, SAFEGUARDING_TRAINING and DOMESTIC_ABUSE_TRAINING over the chosen months (SPC included),
    exactly as the overview evaluates them."""
    codes = list(config.screens.training)
    return calc.kpi_results(engine, config, viewer, filters, codes=codes)


def practice_signals(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters,
                     code: str, compare_months: int = 12) -> pd.DataFrame:
    """One row per selected practice for one indicator: latest value, value ``compare_months`` earlier, change, and
    what its own SPC chart says (latest variation, and when special-cause concern last happened).

    Lets a page say in words which practice moved, e.g. a practice whose compliance slid over the last year, or
    one whose patient feedback dipped and recovered. Values are per practice Σnum/Σden, through engine.evaluate.
    """
    cols = ["practice_code", "practice_name", "latest_period", "latest", "earlier_period", "earlier", "change",
            "variation", "variation_text", "concern_from", "concern_to", "concern_now", "points", "summary"]
    ind = config.indicator(code)
    plist = calc.practices(engine, viewer, config)
    codes = calc.resolve_practices(engine, viewer, filters)
    if (filters.practice_codes or filters.pcn or filters.group) and not codes:
        return pd.DataFrame(columns=cols)
    names = dict(zip(plist["code"], plist["display_name"]))
    rows = []
    for pcode, res in sorted(calc.practice_kpi_results(engine, config, viewer, filters, code).items()):
        s = res.series.set_index("period_start")["value"].dropna()
        latest_p = s.index.max() if len(s) else None
        earlier_p = (latest_p - pd.DateOffset(months=compare_months)) if latest_p is not None else None
        earlier = s.get(earlier_p) if earlier_p is not None and earlier_p in s.index else None
        concern_from = concern_to = None
        concern_now = False
        variation, variation_text = "none", "Not enough data"
        if res.spc is not None:
            pts = res.spc.points
            concern = pts.index[(pts["point_type"] == "concern").to_numpy()]
            if len(concern):
                # the latest run of concern points (allowing one-month gaps), which is what a reader remembers
                run = [concern[-1]]
                for t in concern[::-1][1:]:
                    if (run[-1] - t).days <= 62:
                        run.append(t)
                    else:
                        break
                concern_from, concern_to = min(run), max(run)
                concern_now = bool(pts["point_type"].iloc[-1] == "concern")
            variation, variation_text = res.spc.variation, res.spc.variation_text
        latest = None if res.latest_value is None else float(res.latest_value)
        change = None if latest is None or earlier is None or pd.isna(earlier) else latest - float(earlier)
        rows.append({
            "practice_code": pcode, "practice_name": names.get(pcode, pcode), "latest_period": latest_p,
            "latest": latest, "earlier_period": earlier_p,
            "earlier": None if earlier is None or pd.isna(earlier) else float(earlier), "change": change,
            "variation": variation, "variation_text": variation_text, "concern_from": concern_from,
            "concern_to": concern_to, "concern_now": concern_now, "points": len(s),
            "summary": _signal_words(ind.unit, concern_from, concern_to, concern_now),
        })
    return pd.DataFrame(rows, columns=cols)


def _signal_words(unit: str, concern_from, concern_to, concern_now: bool) -> str:
    if concern_from is None:
        return "No special-cause concern in this period."
    span = (f"{concern_from:%B %Y}" if concern_from == concern_to
            else f"{concern_from:%B %Y} to {concern_to:%B %Y}")
    if concern_now:
        return f"Special-cause concern from {concern_from:%B %Y}, continuing in the latest month."
    when = f"in {span}" if concern_from == concern_to else f"from {span}"
    return f"Special-cause concern {when}; since back within the usual range."
