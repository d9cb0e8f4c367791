"""Our practice-record templates, part 1: staff survey or pulse results, Patient Participation Group meetings, and
premises and infection-control checks (the records behind the aims on staff, patients' voice and a safe
environment). Each is validated like the other templates and refused whole on any problem."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import models_records as rec
from ..base import Col, Context, Format, report_repeats
from ..values import blank, check_length, norm, parse_dates, parse_numbers, stripped, text_or_none
from ..writer import Target, row_hash

SURVEY = Target(rec.StaffSurveyResult.__table__, ("practice_id", "survey", "period_start", "question"),
                scope="practice_id")
PPG = Target(rec.PPGMeeting.__table__, ("practice_id", "meeting_date"), scope="practice_id")
PREMISES = Target(rec.PremisesCheck.__table__, ("practice_id", "check_type", "done_on"), scope="practice_id")
MAX_PEOPLE = 100_000  # respondents, members: more is a mistake
MAX_ACTIONS = 1_000

PRACTICE = Col("practice_code", ("practice code", "practice", "ods code"), help="The practice's ODS code.",
               example="G82002")


def first_of_month(when: pd.Series) -> pd.Series:
    return when.dt.to_period("M").dt.to_timestamp()


def counts(chunk: pd.DataFrame, ctx: Context, column: str, what: str, required: bool = True,
           maximum: float = MAX_PEOPLE) -> pd.Series:
    return parse_numbers(chunk, column, ctx.log, required=required, integer=True, what=what, maximum=maximum)


def text(chunk: pd.DataFrame, ctx: Context, column: str, what: str, limit: int, required: bool = True) -> pd.Series:
    values = stripped(chunk[column])
    if required:
        ctx.log.add_mask("error", f"is empty: {what} is needed here", chunk, blank(values), column)
    check_length(chunk, column, values, ctx.log, limit, what)
    return values


class _RecordTemplate(Format):
    family = "template"
    detect_priority = 10
    strict_columns = True
    reports_rows = True


class StaffSurveyTemplate(_RecordTemplate):
    kind = "staff_survey"
    label = "Staff survey or pulse results (our template)"
    description = ("A staff survey or pulse per practice: for each question, how many answered and how many "
                   "positively, neutrally and negatively. Results from very few respondents are never shown.")
    feeds = ("staff_survey",)
    columns = (
        PRACTICE,
        Col("survey", ("survey name", "pulse"), help="Which survey, e.g. Quarterly staff pulse (the same name each "
            "time it runs).", example="Quarterly staff pulse"),
        Col("survey_month", ("survey month", "month", "closed on", "survey date", "date"),
            help="When the survey closed (any day of the month: results are counted in that month).",
            example="31/03/2025"),
        Col("question", ("question text", "statement", "item"), help="The question or statement as asked.",
            example="I would feel safe speaking up about something that concerns me"),
        Col("respondents", ("responses", "answered", "number answered"),
            help="How many staff answered this question.", example="14"),
        Col("positive", ("agree", "positive answers"), help="How many answered positively (agree or strongly "
            "agree).", example="11"),
        Col("neutral", ("neither", "neutral answers"), required=False,
            help="How many answered neither (optional; otherwise respondents not positive or negative).",
            example="2"),
        Col("negative", ("disagree", "negative answers"), help="How many answered negatively (disagree or strongly "
            "disagree).", example="1"),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        survey = text(chunk, ctx, "survey", "a survey name", 100)
        closed = parse_dates(chunk, "survey_month", log, ctx.today, what="survey date")
        question = text(chunk, ctx, "question", "the question", 300)
        respondents = counts(chunk, ctx, "respondents", "number of respondents")
        positive = counts(chunk, ctx, "positive", "number of positive answers")
        negative = counts(chunk, ctx, "negative", "number of negative answers")
        neutral = counts(chunk, ctx, "neutral", "number of neutral answers", required=False) if (
            "neutral" in chunk) else pd.Series(np.nan, index=chunk.index)
        answered = positive.fillna(0) + negative.fillna(0) + neutral.fillna(0)
        log.add_mask("error", "is fewer than the positive, neutral and negative answers added together: each "
                     "answer is one respondent's", chunk, (answered > respondents).to_numpy(), "respondents")
        out = pd.DataFrame({"practice_id": practice_id, "survey": survey, "period_start": first_of_month(closed),
                            "question": question, "respondents": respondents, "positive": positive,
                            "negative": negative})
        if "neutral" in chunk:
            out["neutral"] = neutral
        keyed = known & ~blank(survey) & ~blank(question) & closed.notna().to_numpy()
        repeat, first = ctx.duplicates.check(self.kind, row_hash(out, SURVEY.keys, SURVEY.table),
                                             chunk["_row"].to_numpy(), valid=keyed)
        report_repeats(ctx, chunk, "question", repeat, first,
                       "the same practice, survey, month and question appear twice")
        return [(SURVEY, out[known])]


class PPGMeetingsTemplate(_RecordTemplate):
    kind = "ppg_meetings"
    label = "Patient Participation Group meetings (our template)"
    description = ("The Patient Participation Group's meetings: members and attendance, actions agreed and done, and "
                   "“you said, we did”.")
    feeds = ("ppg",)
    columns = (
        PRACTICE,
        Col("meeting_date", ("meeting date", "date", "met on"), help="Date of the meeting.", example="12/03/2025"),
        Col("members", ("ppg members", "membership", "number of members"),
            help="Members of the group at the time of the meeting (including virtual members).", example="18"),
        Col("attended", ("attendance", "present"), required=False, help="How many came (optional).", example="9"),
        Col("actions_agreed", ("actions agreed", "actions"), help="Actions the practice agreed at the meeting.",
            example="3"),
        Col("actions_done", ("actions done", "actions completed", "completed"),
            help="How many of those actions are done now (update and re-import as they are completed).",
            example="2"),
        Col("you_said", ("you said", "patients said", "feedback"), required=False,
            help="What patients raised (optional; shown as “you said”).",
            example="It is hard to get through on the phone at 8am"),
        Col("we_did", ("we did", "practice response", "response"), required=False,
            help="What the practice did about it (optional; shown as “we did”).",
            example="Added a call-back queue and two more lines at 8am"),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        when = parse_dates(chunk, "meeting_date", log, ctx.today, what="meeting date")
        members = counts(chunk, ctx, "members", "number of members")
        agreed = counts(chunk, ctx, "actions_agreed", "number of actions", maximum=MAX_ACTIONS)
        done = counts(chunk, ctx, "actions_done", "number of actions", maximum=MAX_ACTIONS)
        log.add_mask("error", "is more than the actions agreed: only agreed actions can be done", chunk,
                     (done > agreed).to_numpy(), "actions_done")
        out = pd.DataFrame({"practice_id": practice_id, "meeting_date": when, "members": members,
                            "actions_agreed": agreed, "actions_done": done})
        if "attended" in chunk:
            out["attended"] = counts(chunk, ctx, "attended", "number who attended", required=False)
        for col in ("you_said", "we_did"):
            if col in chunk:
                out[col] = text_or_none(chunk[col])
        repeat, first = ctx.duplicates.check(self.kind, row_hash(out, PPG.keys, PPG.table), chunk["_row"].to_numpy(),
                                             valid=known & when.notna().to_numpy())
        report_repeats(ctx, chunk, "meeting_date", repeat, first, "the same practice and meeting date appear twice")
        return [(PPG, out[known])]


def counted_checks(config) -> list[str]:
    """The check types the catalogue's premises measures count (``checks`` of each premises indicator)."""
    from ...measures.registry import get

    out: dict[str, str] = {}
    for ind in config.indicators:
        if ind.derived and get(ind.derived).reads == "premises":
            for c in ind.checks:
                out.setdefault(norm(c), c)
    return list(out.values())


class PremisesChecksTemplate(_RecordTemplate):
    kind = "premises_checks"
    label = "Premises and infection-control checks (our template)"
    description = ("Premises and infection-control checks and audits: fire, health and safety, infection control "
                   "audit (with its score), legionella, equipment; when done, when next due, the result and actions.")
    feeds = ("premises",)
    columns = (
        PRACTICE,
        Col("check_type", ("check type", "check", "audit", "type"),
            help="What was checked, e.g. Fire risk assessment, Infection prevention and control audit, Legionella "
                 "risk assessment (the measures count the types named in the federation's catalogue).",
            example="Fire risk assessment"),
        Col("done_on", ("done on", "date done", "completed", "date"), help="Date the check or audit was done.",
            example="15/01/2025"),
        Col("next_due", ("next due", "due", "review date"), required=False,
            help="When the next one is due (optional: without it a check lasts a year).", example="15/01/2026"),
        Col("result", ("outcome", "status"), help="The result in a few words, e.g. Pass, Actions needed, Fail.",
            example="Actions needed"),
        Col("score", ("score %", "percentage", "compliance"), required=False,
            help="For scored audits (e.g. the infection control audit): the score out of 100 (optional).",
            example="92"),
        Col("actions", ("actions raised", "action plan"), required=False,
            help="Actions the check raised (optional).", example="Replace two fire door closers"),
        Col("actions_completed_on", ("actions completed on", "actions done", "actions completed"), required=False,
            help="When the actions were all completed (optional; empty while open).", example="28/02/2025"),
    )

    def begin(self, ctx: Context) -> None:
        self.counted = {norm(c): c for c in counted_checks(ctx.config)}
        self.others: set[str] = set()

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        kind = text(chunk, ctx, "check_type", "the type of check", 100)
        # The catalogue's spelling, so "fire risk assessment" and "Fire Risk Assessment" are one check.
        kind = kind.map(lambda k: self.counted.get(norm(k), k))
        self.others.update(k for k in kind.unique() if k and norm(k) not in self.counted)
        done = parse_dates(chunk, "done_on", log, ctx.today, what="date done")
        out = pd.DataFrame({"practice_id": practice_id, "check_type": kind, "done_on": done,
                            "result": text(chunk, ctx, "result", "a result", 40)})
        if "next_due" in chunk:
            due = parse_dates(chunk, "next_due", log, ctx.today, required=False, allow_future=True,
                              what="next-due date")
            log.add_mask("error", "is before the date done: the next check cannot be due before this one",
                         chunk, (due < done).to_numpy(), "next_due")
            out["next_due"] = due
        if "score" in chunk:
            out["score"] = parse_numbers(chunk, "score", log, what="score", maximum=100)
        if "actions" in chunk:
            out["actions"] = text_or_none(chunk["actions"])
        if "actions_completed_on" in chunk:
            closed = parse_dates(chunk, "actions_completed_on", log, ctx.today, required=False,
                                 what="date the actions were completed")
            log.add_mask("error", "is before the date done: actions cannot be completed before the check",
                         chunk, (closed < done).to_numpy(), "actions_completed_on")
            out["actions_completed_on"] = closed
        repeat, first = ctx.duplicates.check(self.kind, row_hash(out, PREMISES.keys, PREMISES.table),
                                             chunk["_row"].to_numpy(),
                                             valid=known & ~blank(kind) & done.notna().to_numpy())
        report_repeats(ctx, chunk, "check_type", repeat, first,
                       "the same practice, check and date done appear twice")
        return [(PREMISES, out[known])]

    def finish(self, ctx: Context):
        if self.others and self.counted:
            shown = ", ".join(sorted(self.others)[:5]) + (" …" if len(self.others) > 5 else "")
            ctx.log.note(f"Kept, but not counted in the premises measures (not a check type the federation's catalogue "
                         f"names: {', '.join(self.counted.values())}): {shown}", count=len(self.others))
        return []
