"""NHS England's monthly GP FFT file: one row per practice with the count of each answer, the total, percentages and
counts by mode of collection. Header spellings vary from month to month, and practices with 1–4 responses have their
counts suppressed ("*"): those rows are reported and not stored."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import models as m
from ..base import Col, Context, Format, Match, file_period, report_repeats
from ..values import lookup, parse_numbers, parse_period, stripped
from ..writer import Target, row_hash

MONTHLY = Target(m.FFTMonthlyCount.__table__, ("practice_id", "month", "scale"), scope="practice_id")
CURRENT = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
LEGACY = ("extremely_likely", "likely", "neither_likely", "unlikely", "extremely_unlikely", "dont_know")
MODES = ("mode_sms", "mode_online", "mode_paper", "mode_telephone", "mode_other")
SUPPRESSED = {"*", "c", "x", "-", "supp", "suppressed"}


# Responses one practice gets in a month: far fewer than this (and the database counts up to 2,147,483,647).
MAX_MONTHLY_RESPONSES = 10_000_000

class NHSEMonthlyFFT(Format):
    kind = "nhse_fft_monthly"
    label = "NHS England monthly GP FFT file (counts per practice)"
    description = ("NHS England's monthly Friends and Family Test data for GP practices: counts of each answer, "
                   "total and counts by mode, per practice and month.")
    feeds = ("fft",)
    columns = (
        Col("period", ("month", "period name", "periodname", "reporting period", "date")),
        Col("practice_code", ("practice code", "prac code", "gp practice code", "org code", "organisation code",
                              "code", "gp code")),
        Col("practice_name", ("prac name", "practice name", "organisation name", "gp name"), required=False),
        Col("icb_code", ("icb code", "icb"), required=False),
        Col("sub_icb_code", ("sub icb code", "sub icb location code", "sub icb"), required=False),
        Col("very_good", ("very good", "very good responses", "1 very good"), required=False),
        Col("good", ("good responses", "2 good"), required=False),
        Col("neither", ("neither good nor poor", "neither good or poor", "3 neither good nor poor"), required=False),
        Col("poor", ("poor responses", "4 poor"), required=False),
        Col("very_poor", ("very poor", "5 very poor"), required=False),
        Col("dont_know", ("don't know", "dont know", "do not know", "6 don't know", "don t know"), required=False),
        Col("extremely_likely", ("extremely likely",), required=False),
        Col("likely", (), required=False),
        Col("neither_likely", ("neither likely nor unlikely",), required=False),
        Col("unlikely", (), required=False),
        Col("extremely_unlikely", ("extremely unlikely",), required=False),
        Col("total", ("total responses", "total", "responses", "all responses", "total_responses")),
        Col("pct_positive", ("percentage positive", "% positive", "positive %", "percent positive", "positive"),
            required=False),
        Col("pct_negative", ("percentage negative", "% negative", "negative %", "percent negative", "negative"),
            required=False),
        Col("mode_sms", ("sms", "mode sms", "sms text message", "text message", "sms/text message"), required=False),
        Col("mode_online", ("online", "mode online", "smartphone app / online", "smartphone app online", "app/online"),
            required=False),
        Col("mode_paper", ("paper", "mode paper", "paper / postcard", "paper postcard", "tablet kiosk"),
            required=False),
        Col("mode_telephone", ("telephone", "mode telephone", "telephone / ivr", "telephone ivr", "phone"),
            required=False),
        Col("mode_other", ("other", "mode other", "other mode"), required=False),
    )

    def match(self, header: list[str]) -> Match:
        result = super().match(header)
        if "period" not in result.positions:
            result.missing = [c for c in result.missing if c != "period"]  # a --period can stand in
        return result

    def recognises(self, match: Match, header: list[str]) -> bool:
        has = set(match.positions)
        return (not match.missing and {"practice_code", "total"} <= has
                and (set(CURRENT) <= has or set(LEGACY) <= has))

    def begin(self, ctx: Context) -> None:
        self.period = None
        if "period" not in ctx.headings:
            self.period = file_period(ctx, from_name=False)

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        answers = CURRENT if "very_good" in chunk else LEGACY
        scale = "current" if answers is CURRENT else "legacy"
        count_cols = [c for c in (*answers, "total", *MODES) if c in chunk]
        suppressed = np.zeros(len(chunk), dtype=bool)
        for c in (*answers, "total"):
            suppressed |= chunk[c].str.strip().str.lower().isin(SUPPRESSED).to_numpy()
        log.add_mask("skipped", "counts are suppressed in the published file (fewer than 5 responses): not stored",
                     chunk, suppressed, "total")
        practice_id, known = ctx.practice_ids(chunk, "practice_code", outside="skip")
        if "period" in chunk:
            labels = stripped(chunk["period"])
            parsed = {x: parse_period(x) for x in labels.unique()}
            start = pd.to_datetime(lookup(labels, {k: v[0] for k, v in parsed.items() if v}))
            end = pd.to_datetime(lookup(labels, {k: v[1] for k, v in parsed.items() if v}))
            bad = start.isna().to_numpy() & known
            log.add_mask("error", "is not a month (e.g. Apr-24, April 2024, 2024-04)", chunk, bad, "period")
            not_month = ((end - start).dt.days > 31).to_numpy() & known
            log.add_mask("error", "covers more than one month: this file has one row per practice per month", chunk,
                         not_month, "period")
            month = start.dt.to_period("M").dt.to_timestamp()
        elif self.period is not None:
            month = pd.Series(pd.Timestamp(self.period[0]).to_period("M").to_timestamp(), index=chunk.index)
        else:
            month = pd.Series(pd.NaT, index=chunk.index, dtype="datetime64[ns]")
        future = (month > pd.Timestamp(ctx.today)).to_numpy()
        log.add_mask("error", "is a month in the future", chunk, future, "period" if "period" in chunk else "total")
        use = known & ~suppressed
        sub = chunk[use]
        counts = {c: parse_numbers(sub, c, log, integer=True, required=c in (*answers, "total"),
                                   what="count of responses", maximum=MAX_MONTHLY_RESPONSES) for c in count_cols}
        total = counts["total"]
        answer_sum = sum(counts[c].fillna(0) for c in answers)
        mismatch = (total.notna() & (total != answer_sum)).to_numpy()
        log.add_rows("error", "does not equal the sum of the six answers", sub["_row"].to_numpy()[mismatch],
                     ctx.heading("total"), sub["total"].to_numpy()[mismatch],
                     reasons=[f"does not equal the sum of the six answers ({int(s):,})" for s in answer_sum[mismatch]])
        for pct_col, parts in (("pct_positive", answers[:2]), ("pct_negative", answers[3:5])):
            if pct_col not in sub:
                continue
            given = parse_numbers(sub, pct_col, log, minimum=0, what="percentage", percent_sign=True)
            given = given.where(given > 1, given * 100)  # some months publish 0.93 rather than 93%
            expected = sum(counts[c].fillna(0) for c in parts) / total.where(total > 0) * 100
            off = ((given - expected).abs() > 1).to_numpy()
            if off.any():
                log.add_rows("note", "percentage differs from the counts by more than 1 point; the dashboard "
                             "recalculates it from the counts", sub["_row"].to_numpy()[off], ctx.heading(pct_col),
                             sub[pct_col].to_numpy()[off])
        out = pd.DataFrame({"practice_id": practice_id[use], "month": month[use], "scale": scale})
        for c, target in zip(answers, CURRENT):
            out[target] = counts[c].astype("Int64")
        out["total"] = total.astype("Int64")
        for c in MODES:
            if c in counts:
                out[c] = counts[c].astype("Int64")
        valid = out["month"].notna().to_numpy()
        repeat, first = ctx.duplicates.check("monthly", row_hash(out, MONTHLY.keys, MONTHLY.table),
                                             sub["_row"].to_numpy(), valid)
        report_repeats(ctx, sub, "practice_code", repeat, first, "the same practice and month appear twice")
        ctx.stats["rows_for_federation"] += int(use.sum())
        return [(MONTHLY, out[valid])]
