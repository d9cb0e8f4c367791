"""Our complaints and significant events templates: a practice's logs. A ``reference`` column is optional: without it
each row gets a stable reference made from what identifies it (practice, date and category, numbered when two rows
share them), so re-importing the log updates rows rather than duplicating them, and a complaint resolved since the last
import is updated in place."""
from __future__ import annotations

import hashlib

import pandas as pd

from ... import models as m
from ..base import Col, Context, Format, report_repeats
from ..values import blank, check_length, norm_series, parse_dates, stripped, text_or_none
from ..writer import Target, row_hash
from .fft_responses import Occurrences

COMPLAINTS = Target(m.Complaint.__table__, ("practice_id", "reference"), scope="practice_id")
EVENTS = Target(m.SignificantEvent.__table__, ("practice_id", "reference"), scope="practice_id")


def references(ctx: Context, chunk: pd.DataFrame, prefix: str, parts: list[pd.Series],
               occurrences: Occurrences) -> pd.Series:
    """The file's own reference where given, else a stable one derived from the identifying columns."""
    given = stripped(chunk["reference"]) if "reference" in chunk else pd.Series("", index=chunk.index, dtype="str")
    has = (given != "").to_numpy()
    if "reference" in chunk:
        check_length(chunk, "reference", given, ctx.log, 64, "reference")
    out = given.astype(object).copy()
    if (~has).any():
        sub = [p[~has].fillna("").astype(str) for p in parts]
        joined = sub[0]
        for p in sub[1:]:
            joined = joined + "\x1f" + p
        content = row_hash(pd.DataFrame({"j": joined}), ["j"], kind="str")
        occ = occurrences.number(content)
        out[~has] = [f"{prefix}-{hashlib.blake2b(t.encode(), digest_size=6).hexdigest()}" + (f"-{n + 1}" if n else "")
                     for t, n in zip(joined.tolist(), occ.tolist())]
    return out


class _LogTemplate(Format):
    family = "template"
    detect_priority = 10
    strict_columns = True
    feeds = ("complaints", "significant_events")
    reports_rows = True
    target: Target
    date_col: str
    prefix: str
    what: str

    def begin(self, ctx: Context) -> None:
        self.occurrences = Occurrences()

    def common(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        when = parse_dates(chunk, self.date_col, log, ctx.today, what=self.what)
        category = stripped(chunk["category"])
        log.add_mask("error", "is empty: a category is needed here", chunk, blank(category), "category")
        check_length(chunk, "category", category, log, 100, "category")
        return practice_id, known, when, category

    def keyed(self, ctx, chunk, out, known, parts):
        out["reference"] = references(ctx, chunk, self.prefix, parts, self.occurrences)
        if "reference" in chunk:
            valid = known & (stripped(chunk["reference"]) != "").to_numpy()
            repeat, first = ctx.duplicates.check(self.kind, row_hash(out, self.target.keys, self.target.table),
                                                 chunk["_row"].to_numpy(), valid)
            report_repeats(ctx, chunk, "reference", repeat, first, "each reference may appear only once per practice")
        return [(self.target, out[known])]


class ComplaintsTemplate(_LogTemplate):
    kind = "complaints"
    label = "Complaints log (our template)"
    description = "Complaints received, when they were acknowledged and resolved, and the outcome."
    target = COMPLAINTS
    date_col = "received_on"
    prefix = "C"
    what = "date received"
    columns = (
        Col("practice_code", ("practice code", "practice", "ods code"), help="The practice's ODS code.",
            example="G82002"),
        Col("received_on", ("received on", "received", "date received"), help="Date the complaint was received.",
            example="03/02/2025"),
        Col("category", ("subject", "type"), help="What the complaint is about, e.g. Telephone access.",
            example="Telephone access"),
        Col("acknowledged_on", ("acknowledged on", "acknowledged", "date acknowledged"),
            help="Date acknowledged (empty if not yet).", example="04/02/2025"),
        Col("resolved_on", ("resolved on", "resolved", "closed", "date resolved"),
            help="Date of the final response (empty while open).", example="14/03/2025"),
        Col("outcome", ("result",), help="Upheld, Partially upheld, Not upheld or Withdrawn (empty while open).",
            example="Partially upheld"),
        Col("reference", ("complaint reference", "ref", "id"), required=False,
            help="The practice's own reference (optional; without it one is made from the practice, date received "
                 "and category).", example="C-2025-014"),
        Col("summary", ("details", "description"), required=False,
            help="Short summary; shown only to those who may see complaint details (optional).", example=""),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known, received, category = self.common(chunk, ctx)
        ack = parse_dates(chunk, "acknowledged_on", log, ctx.today, required=False, what="date acknowledged")
        res = parse_dates(chunk, "resolved_on", log, ctx.today, required=False, what="date resolved")
        log.add_mask("error", "is before the complaint was received", chunk, (ack < received).to_numpy(),
                     "acknowledged_on")
        log.add_mask("error", "is before the complaint was received", chunk, (res < received).to_numpy(),
                     "resolved_on")
        outcome = text_or_none(stripped(chunk["outcome"]))
        check_length(chunk, "outcome", outcome, log, 100, "outcome")
        summary = text_or_none(chunk["summary"]) if "summary" in chunk else None
        out = pd.DataFrame({"practice_id": practice_id, "received_on": received, "category": category,
                            "acknowledged_on": ack, "resolved_on": res, "outcome": outcome})
        if summary is not None:
            out["summary"] = summary
        # Practice, date received and category identify a complaint without a reference: the outcome, dates and
        # summary can then be corrected (or filled in once resolved) and the complaint is updated, not doubled.
        codes = stripped(chunk["practice_code"]).str.upper()
        parts = [codes, received.dt.strftime("%Y-%m-%d"), norm_series(category)]
        return self.keyed(ctx, chunk, out, known, parts)


class SignificantEventsTemplate(_LogTemplate):
    kind = "significant_events"
    label = "Significant events log (our template)"
    description = "Significant events with what was learnt."
    target = EVENTS
    date_col = "event_date"
    prefix = "SE"
    what = "event date"
    columns = (
        Col("practice_code", ("practice code", "practice", "ods code"), help="The practice's ODS code.",
            example="G82002"),
        Col("event_date", ("event date", "date", "date of event"), help="Date of the event.", example="12/02/2025"),
        Col("category", ("type", "event type"), help="What kind of event, e.g. Prescribing error.",
            example="Prescribing error"),
        Col("learning", ("learning points", "lessons learnt", "lessons learned", "actions"),
            help="What was learnt and changed (empty until the review).",
            example="Repeat-prescribing protocol updated and shared."),
        Col("reference", ("event reference", "ref", "id"), required=False,
            help="The practice's own reference (optional; without it one is made from the practice, date and "
                 "category).", example="SEA-2025-03"),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        practice_id, known, when, category = self.common(chunk, ctx)
        out = pd.DataFrame({"practice_id": practice_id, "event_date": when, "category": category,
                            "learning": text_or_none(chunk["learning"])})
        codes = stripped(chunk["practice_code"]).str.upper()
        return self.keyed(ctx, chunk, out, known, [codes, when.dt.strftime("%Y-%m-%d"), norm_series(category)])
