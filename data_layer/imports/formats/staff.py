"""Our staff and training templates: who works where in which role, and the training each person completed."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from ... import models as m
from ..base import Col, Context, Format, report_repeats
from ..values import blank, check_length, lookup, norm, parse_dates, parse_numbers, stripped
from ..writer import Target, row_hash

STAFF = Target(m.Staff.__table__, ("staff_code",))
TRAINING = Target(m.TrainingCompletion.__table__, ("staff_id", "course", "completed_on"), scope="staff_id")
MAX_COURSE_HOURS = 1_000  # hours of learning recorded for one course: more is a mistake (or Infinity)


class StaffTemplate(Format):
    kind = "staff"
    label = "Staff (our template)"
    family = "template"
    detect_priority = 10
    description = "Everyone who works in the practices, with their role (which decides the training they need)."
    strict_columns = True
    feeds = ("training",)
    reports_rows = True
    columns = (
        Col("staff_id", ("staff id", "staff code", "employee id", "id"),
            help="The practice's own identifier for the person; the same person keeps the same id.", example="S000123"),
        Col("name", ("staff name", "full name"), help="Full name.", example="Priya Shah"),
        Col("role", ("job role", "staff role"), help="One of the roles in the federation's training policy.",
            example="Nurse"),
        Col("practice_code", ("practice code", "practice", "ods code"), help="The practice's ODS code.",
            example="G82002"),
        Col("start_date", ("start date", "started", "start"), help="First day in post (dd/mm/yyyy or yyyy-mm-dd).",
            example="01/09/2019"),
        Col("end_date", ("end date", "left", "leaving date"), required=False,
            help="Last day in post, for leavers (optional).", example=""),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        ids = stripped(chunk["staff_id"])
        require = blank(ids)
        log.add_mask("error", "is empty: a staff id is needed here", chunk, require, "staff_id")
        check_length(chunk, "staff_id", ids, log, 40, "staff id")
        names = stripped(chunk["name"])
        log.add_mask("error", "is empty: a name is needed here", chunk, blank(names), "name")
        check_length(chunk, "name", names, log, 200, "name")
        roles = {norm(r): r for r in ctx.config.training.roles}
        role = lookup(chunk["role"], roles, normalise=True)
        unknown = role.isna().to_numpy()
        log.add_mask("error", "is not one of the federation's roles: " + ", ".join(ctx.config.training.roles),
                     chunk, unknown, "role")
        practice_id, _ = ctx.practice_ids(chunk, "practice_code")
        start = parse_dates(chunk, "start_date", ctx.log, ctx.today, required=False, what="start date",
                            earliest_year=ctx.options.limits.earliest_year)
        out = pd.DataFrame({"staff_code": ids, "name": names, "role": role, "practice_id": practice_id,
                            "start_date": start})
        if "end_date" in chunk:
            end = parse_dates(chunk, "end_date", ctx.log, ctx.today, required=False, what="end date",
                              earliest_year=ctx.options.limits.earliest_year)
            before = (end < start).to_numpy()
            log.add_mask("error", "is before the start date: a person cannot leave before they start", chunk,
                         before, "end_date")
            out["end_date"] = end
        repeat, first = ctx.duplicates.check("staff", row_hash(out, ["staff_code"], STAFF.table),
                                             chunk["_row"].to_numpy(), valid=~require)
        report_repeats(ctx, chunk, "staff_id", repeat, first, "each staff id may appear only once")
        return [(STAFF, out)]


class TrainingTemplate(Format):
    kind = "training"
    label = "Training completions (our template)"
    family = "template"
    detect_priority = 10
    description = "Courses completed by staff: the training spreadsheet a practice manager keeps."
    strict_columns = True
    feeds = ("training",)
    reports_rows = True
    columns = (
        Col("staff_id", ("staff id", "staff code", "employee id"),
            help="The id used in the staff template.", example="S000123"),
        Col("course", ("course code", "course name", "training", "subject"),
            help="Course code or name from the federation's training policy (or one of its other names).",
            example="Fire safety"),
        Col("completed_on", ("completed on", "completed", "completion date", "date completed", "date"),
            help="Date completed (dd/mm/yyyy or yyyy-mm-dd).", example="14/03/2025"),
        Col("hours", ("hours", "duration hours", "cpd hours"), required=False,
            help="Hours of learning, for requirements counted in hours (optional).", example="2"),
    )

    def begin(self, ctx: Context) -> None:
        rows = ctx.conn.execute(select(m.Staff.staff_code, m.Staff.id)).all()
        self.staff = {code.upper(): sid for code, sid in rows}
        self.courses: dict[str, str] = {}
        for c in ctx.config.training.courses:
            for spelling in (c.code, c.name, *c.aliases):
                self.courses.setdefault(norm(spelling), c.code)

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        codes = stripped(chunk["staff_id"]).str.upper()
        empty = (codes == "").to_numpy()
        log.add_mask("error", "is empty: a staff id is needed here", chunk, empty, "staff_id")
        staff_id = lookup(codes, self.staff).astype("Int64")
        unknown = staff_id.isna().to_numpy() & ~empty
        log.add_mask("error", "is not a known member of staff: import them with the staff template first", chunk,
                     unknown, "staff_id")
        course = lookup(chunk["course"], self.courses, normalise=True)
        bad_course = course.isna().to_numpy()
        log.add_mask("error", "is not a course in the federation's training policy (codes: "
                     + ", ".join(c.code for c in ctx.config.training.courses) + ")", chunk, bad_course, "course")
        done = parse_dates(chunk, "completed_on", log, ctx.today, what="completion date")
        out = pd.DataFrame({"staff_id": staff_id, "course": course, "completed_on": done})
        if "hours" in chunk:
            out["hours"] = parse_numbers(chunk, "hours", log, what="number of hours", maximum=MAX_COURSE_HOURS)
        keyed = ~(empty | unknown | bad_course | done.isna().to_numpy())
        repeat, first = ctx.duplicates.check(
            "training", row_hash(out, ["staff_id", "course", "completed_on"], TRAINING.table),
            chunk["_row"].to_numpy(), valid=keyed)
        report_repeats(ctx, chunk, "course", repeat, first,
                       "the same person, course and completion date appear twice")
        return [(TRAINING, out)]
