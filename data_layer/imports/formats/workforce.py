"""Our practice-record templates, part 2: the monthly workforce return (staff in post and whole-time equivalent by
role, vacancies, leavers, sickness absence) and the log of violence and abuse towards staff."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import models_records as rec
from ..base import Col, Context, report_repeats
from ..values import lookup, norm, norm_series, parse_dates, parse_numbers, stripped, text_or_none
from ..writer import Target, row_hash
from .fft_responses import Occurrences
from .logs import references
from .records import PRACTICE, _RecordTemplate, counts, first_of_month, text

WORKFORCE = Target(rec.WorkforceMonth.__table__, ("practice_id", "month", "role"), scope="practice_id")
INCIDENTS = Target(rec.AbuseIncident.__table__, ("practice_id", "reference"), scope="practice_id")
MAX_STAFF = 10_000  # one practice's staff in one role: more is a mistake
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


class WorkforceTemplate(_RecordTemplate):
    kind = "workforce"
    label = "Workforce by month (our template)"
    description = ("Staff in post per practice, month and role: headcount and whole-time equivalent, vacancies, "
                   "leavers and sickness absence: the figures behind safe staffing and a sustainable federation.")
    feeds = ("workforce",)
    columns = (
        PRACTICE,
        Col("month", ("month start", "period", "date"), help="The month (its first day, e.g. 01/03/2025; any day "
            "of the month is read as that month).", example="01/03/2025"),
        Col("role", ("job role", "staff group", "staff role"), help="One of the roles in the federation's training "
            "policy.", example="Nurse"),
        Col("staff_in_post", ("staff in post", "headcount", "head count"),
            help="People in post in this role at the end of the month.", example="3"),
        Col("wte", ("whole time equivalent", "fte", "full time equivalent"),
            help="Their whole-time equivalent (1.0 = full time), e.g. 2.4.", example="2.4"),
        Col("vacancies_wte", ("vacancies", "vacant wte", "vacancy wte"), required=False,
            help="Funded posts not filled at the end of the month, whole-time equivalent (optional; empty = none).",
            example="0.6"),
        Col("leavers", ("leavers in month", "left"), required=False,
            help="People in this role who left during the month (optional; empty = none).", example="0"),
        Col("sickness_days", ("sickness days lost", "days lost to sickness", "sickness absence days"),
            required=False, help="Whole-time-equivalent working days lost to sickness in the month (optional).",
            example="4.5"),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        month = parse_dates(chunk, "month", log, ctx.today, what="month")
        roles = {norm(r): r for r in ctx.config.training.roles}
        role = lookup(chunk["role"], roles, normalise=True)
        log.add_mask("error", "is not one of the federation's roles: " + ", ".join(ctx.config.training.roles),
                     chunk, role.isna().to_numpy(), "role")
        headcount = counts(chunk, ctx, "staff_in_post", "number of staff in post", maximum=MAX_STAFF)
        wte = parse_numbers(chunk, "wte", log, required=True, what="whole-time equivalent", maximum=MAX_STAFF)
        log.add_mask("error", "is more than the staff in post: each person is at most 1.0 whole-time equivalent",
                     chunk, (wte > headcount + 1e-9).to_numpy(), "wte")
        out = pd.DataFrame({"practice_id": practice_id, "month": first_of_month(month), "role": role,
                            "headcount": headcount, "wte": wte})
        out["vacancies_wte"] = (parse_numbers(chunk, "vacancies_wte", log, what="vacancies (WTE)",
                                              maximum=MAX_STAFF).fillna(0.0)
                                if "vacancies_wte" in chunk else 0.0)
        out["leavers"] = (counts(chunk, ctx, "leavers", "number of leavers", required=False,
                                 maximum=MAX_STAFF).fillna(0.0) if "leavers" in chunk else 0.0)
        if "sickness_days" in chunk:
            days = parse_numbers(chunk, "sickness_days", log, what="number of days", maximum=MAX_STAFF * 31)
            log.add_mask("error", "is more days than the whole-time equivalent could work in a month (WTE × 23)",
                         chunk, (days > wte * 23 + 1e-9).to_numpy(), "sickness_days")
            out["sickness_days"] = days
        keyed = known & month.notna().to_numpy() & role.notna().to_numpy()
        repeat, first = ctx.duplicates.check(self.kind, row_hash(out, WORKFORCE.keys, WORKFORCE.table),
                                             chunk["_row"].to_numpy(), valid=keyed)
        report_repeats(ctx, chunk, "role", repeat, first, "the same practice, month and role appear twice")
        return [(WORKFORCE, out[known])]


def yes_no(chunk: pd.DataFrame, column: str, ctx: Context) -> pd.Series:
    words = stripped(chunk[column]).str.lower()
    bad = ~(words.isin(YES) | words.isin(NO) | (words == "")).to_numpy()
    ctx.log.add_mask("error", "is not yes or no", chunk, bad, column)
    return pd.Series(np.where(words.isin(YES), True, np.where(words.isin(NO), False, None)), index=chunk.index,
                     dtype=object)


class AbuseIncidentsTemplate(_RecordTemplate):
    kind = "abuse_incidents"
    label = "Violence and abuse towards staff (our template)"
    description = ("Incidents of violence or abuse towards staff (verbal, threatening, physical, discriminatory, "
                   "online) and the action taken.")
    feeds = ("violence",)
    columns = (
        PRACTICE,
        Col("incident_date", ("incident date", "date", "date of incident"), help="Date of the incident.",
            example="04/02/2025"),
        Col("category", ("type", "incident type", "kind of abuse"),
            help="What happened, e.g. Verbal abuse, Threatening behaviour, Physical assault, Discriminatory abuse, "
                 "Online abuse.", example="Verbal abuse"),
        Col("reported_to_police", ("reported to police", "police"), required=False,
            help="Yes or no (optional).", example="No"),
        Col("action_taken", ("action taken", "action", "outcome"), required=False,
            help="What was done: warning letter, removal from the list, police report, support for the member of "
                 "staff (empty until decided).", example="Warning letter sent; staff member offered support"),
        Col("reference", ("incident reference", "ref", "id"), required=False,
            help="The practice's own reference (optional; without it one is made from the practice, date and "
                 "category).", example="VA-2025-02"),
    )

    def begin(self, ctx: Context) -> None:
        self.occurrences = Occurrences()

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        when = parse_dates(chunk, "incident_date", log, ctx.today, what="incident date")
        category = text(chunk, ctx, "category", "a category", 100)
        out = pd.DataFrame({"practice_id": practice_id, "incident_date": when, "category": category})
        if "reported_to_police" in chunk:
            out["reported_to_police"] = yes_no(chunk, "reported_to_police", ctx)
        if "action_taken" in chunk:
            out["action_taken"] = text_or_none(chunk["action_taken"])
        codes = stripped(chunk["practice_code"]).str.upper()
        out["reference"] = references(ctx, chunk, "VA", [codes, when.dt.strftime("%Y-%m-%d"), norm_series(category)],
                                      self.occurrences)
        if "reference" in chunk:
            valid = known & (stripped(chunk["reference"]) != "").to_numpy()
            repeat, first = ctx.duplicates.check(self.kind, row_hash(out, INCIDENTS.keys, INCIDENTS.table),
                                                 chunk["_row"].to_numpy(), valid)
            report_repeats(ctx, chunk, "reference", repeat, first, "each reference may appear only once per practice")
        return [(INCIDENTS, out[known])]
