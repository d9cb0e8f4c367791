"""Individual FFT responses: our template, and a practice's own export from its survey system (which may name
practices rather than give codes, and may use the pre-2020 "how likely…" scale)."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from ... import models as m
from ..base import Col, Context, Format, report_repeats
from ..values import check_length, lookup, norm, norm_series, parse_dates, stripped, text_or_none
from ..writer import Target, row_hash

RESPONSES = Target(m.FFTResponse.__table__, ("practice_id", "response_key"), scope="practice_id")

CURRENT = {"verygood": 1, "good": 2, "neithergoodnorpoor": 3, "poor": 4, "verypoor": 5}
LEGACY = {"extremelylikely": 1, "likely": 2, "neitherlikelynorunlikely": 3, "unlikely": 4, "extremelyunlikely": 5}
EITHER = {"dontknow": 6, "donotknow": 6, "neither": 3}
NUMBERS = {str(i): i for i in range(1, 7)}
SCALE_WORDS = ("the current scale (Very good, Good, Neither good nor poor, Poor, Very poor, Don't know), the pre-2020 "
               "scale (Extremely likely, Likely, Neither likely nor unlikely, Unlikely, Extremely unlikely, Don't "
               "know) or a number 1–6")


class Occurrences:
    """Counts identical responses across the whole file, so two patients who gave the same answer with no comment in
    the same minute stay two responses, and re-importing the file matches each to itself."""

    def __init__(self):
        self.counts = pd.Series(dtype="int64")

    def number(self, content_hash: np.ndarray) -> np.ndarray:
        s = pd.Series(content_hash)
        within = s.groupby(s, sort=False).cumcount().to_numpy()
        before = s.map(self.counts).fillna(0).to_numpy(dtype="int64") if len(self.counts) else 0
        self.counts = self.counts.add(s.value_counts(), fill_value=0).astype("int64")
        return before + within


def content_keys(parts: list[pd.Series], occurrences: Occurrences) -> list[str]:
    """A stable key from the response's content (stored, so it must not depend on the process: blake2b), numbered
    when the same content appears more than once in the file."""
    columns = [p.to_numpy(dtype=object, na_value="") if p.dtype != object else p.fillna("").to_numpy()
               for p in parts]
    b2 = hashlib.blake2b
    sep = "\x1f"
    digests = [b2(sep.join(values).encode("utf-8"), digest_size=10).digest() for values in zip(*columns)]
    first8 = np.frombuffer(b"".join(d[:8] for d in digests), dtype="uint64") if digests else np.empty(0, "uint64")
    seen_before = occurrences.number(first8)
    return [d.hex() + (f"-{n + 1}" if n else "") for d, n in zip(digests, seen_before.tolist())]


def ratings(chunk: pd.DataFrame, ctx: Context, scale_column: str | None) -> tuple[pd.Series, pd.Series]:
    """(rating 1–6, scale) from the words of either FFT scale or a number."""
    codes, uniques = pd.factorize(chunk["rating"])
    words = [norm(u) for u in uniques]

    def per_row(mapping: dict) -> pd.Series:
        values = np.array([mapping.get(w) for w in words] + [None], dtype=object)
        return pd.Series(values[codes], index=chunk.index, dtype=object)

    cur, leg, either, num = per_row(CURRENT), per_row(LEGACY), per_row(EITHER), per_row(NUMBERS)
    scale = pd.Series(np.where(leg.notna(), "legacy", np.where(cur.notna(), "current", None)), index=chunk.index,
                      dtype="object")
    if scale_column:
        given = norm_series(chunk[scale_column])
        explicit = lookup(given, {"current": "current", "new": "current", "legacy": "legacy", "old": "legacy",
                              "likelytorecommend": "legacy", "": None})
        bad = explicit.isna().to_numpy() & (given != "").to_numpy()
        ctx.log.add_mask("error", "is not an FFT scale: write current or legacy (or leave it empty)", chunk, bad,
                         scale_column)
        clash = (explicit.notna() & scale.notna() & (explicit != scale)).to_numpy()
        ctx.log.add_mask("error", "does not match the rating's words (the current scale's words with 'legacy', or "
                         "the other way round)", chunk, clash, scale_column)
        scale = scale.where(scale.notna(), explicit)
    # "Don't know", "Neither" and numbers belong to whichever scale the rest of the file uses.
    default = "legacy" if leg.notna().any() and not cur.notna().any() else "current"
    scale = scale.fillna(default)
    rating = cur.fillna(leg).fillna(either).fillna(num)
    off = rating.isna().to_numpy()
    ctx.log.add_mask("error", f"is not an FFT rating: use {SCALE_WORDS}", chunk, off, "rating")
    return rating.astype("Int64"), scale


class FFTResponsesTemplate(Format):
    kind = "fft_responses"
    label = "FFT responses (our template)"
    family = "template"
    detect_priority = 10
    description = "Individual Friends and Family Test responses with patients' comments, on either FFT scale."
    strict_columns = True
    feeds = ("fft",)
    reports_rows = True
    lock_group = "fft_responses"
    columns = (
        Col("practice_code", ("practice code", "practice", "ods code"), help="The practice's ODS code.",
            example="G82002"),
        Col("response_date", ("response date", "date", "submitted", "time"),
            help="Date of the response (dd/mm/yyyy or yyyy-mm-dd; a time after it is allowed).", example="31/01/2025"),
        Col("rating", ("answer", "response", "score"),
            help="The answer in words of either FFT scale (Very good … Very poor, Don't know; or the pre-2020 "
                 "Extremely likely … Extremely unlikely) or its number 1–6.", example="Very good"),
        Col("comment", ("comments", "free text", "freetext", "what was good"),
            help="The patient's comment, stored exactly as written (may be empty).",
            example="Seen on time, the nurse was lovely."),
        Col("comment_2", ("second comment", "do better", "what could we do better", "improvement"), required=False,
            help="Answer to a second free-text question (optional).", example=""),
        Col("mode", ("mode of collection", "collection mode", "channel"), required=False,
            help="How it was collected: SMS, Online, Paper, Telephone or Other (optional).", example="SMS"),
        Col("response_id", ("response id", "id", "reference"), required=False,
            help="The survey system's own id for the response (optional; without it a re-import matches responses "
                 "by practice, date, answer and comment, so a corrected second comment or mode updates the "
                 "response).", example=""),
        Col("scale", ("fft scale", "question"), required=False,
            help="current or legacy, only needed when ratings are numbers from the pre-2020 scale (optional).",
            example=""),
    )

    def begin(self, ctx: Context) -> None:
        self.occurrences = Occurrences()

    def practice_column(self, chunk: pd.DataFrame, ctx: Context) -> tuple[pd.Series, np.ndarray, pd.Series]:
        ids, known = ctx.practice_ids(chunk, "practice_code")
        return ids, known, stripped(chunk["practice_code"]).str.upper()

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        practice_id, known, practice_key = self.practice_column(chunk, ctx)
        when = parse_dates(chunk, "response_date", log, ctx.today, what="response date")
        rating, scale = ratings(chunk, ctx, "scale" if "scale" in chunk else None)
        comment = text_or_none(chunk["comment"])
        comment_2 = text_or_none(chunk["comment_2"]) if "comment_2" in chunk else pd.Series(None, index=chunk.index,
                                                                                             dtype="str")
        mode = None
        if "mode" in chunk:
            mode = text_or_none(stripped(chunk["mode"]))
            check_length(chunk, "mode", mode, log, 20, "mode of collection")
        out = pd.DataFrame({"practice_id": practice_id, "response_date": when, "scale": scale, "rating": rating,
                            "comment": comment, "comment_2": comment_2})
        if mode is not None:
            out["mode"] = mode
        ids = stripped(chunk["response_id"]) if "response_id" in chunk else None
        has_id = (ids != "").to_numpy() if ids is not None else np.zeros(len(chunk), dtype=bool)
        keys = pd.Series("", index=chunk.index, dtype="object")
        if has_id.any():
            check_length(chunk, "response_id", ids.where(has_id, ""), log, 60, "response id")
            keys[has_id] = ("id:" + ids[has_id]).to_numpy()
        if (~has_id).any():
            # The natural key of a response without an id: practice, day, answer and comment (compared without case,
            # spacing or punctuation), numbered when identical rows repeat. The second comment, the mode and the
            # way the date is written are not part of it, so a corrected file updates those rows in place.
            part = ~has_id
            day = when[part].dt.strftime("%Y-%m-%d").fillna(chunk["response_date"][part].str.strip())
            parts = [practice_key[part], day, rating[part].astype("str").fillna(""), scale[part],
                     norm_series(comment[part].fillna(""))]
            keys[part] = content_keys(parts, self.occurrences)
        out["response_key"] = keys
        if has_id.any():
            valid = has_id & known
            repeat, first = ctx.duplicates.check("fft", row_hash(out, ["practice_id", "response_key"],
                                                                 RESPONSES.table), chunk["_row"].to_numpy(), valid)
            report_repeats(ctx, chunk, "response_id", repeat, first, "each response id may appear only once")
        out = out[known]
        ctx.stats["rows_for_federation"] += int(known.sum())
        return [(RESPONSES, out)]


class PracticeFFTExport(FFTResponsesTemplate):
    """A survey system's export of individual responses, as in the London PCN file: time, rating, free_text,
    do_better, surgery (names, not codes), plus columns the system added that are not imported."""

    kind = "fft_export"
    label = "FFT responses: a practice's own survey export"
    family = "published"
    detect_priority = 50
    description = ("Individual FFT responses exported from a practice's survey system, with comments; practices may "
                   "be named rather than coded (map the names to practice codes).")
    strict_columns = False
    uses_practice_map = True
    item_columns = ("surgery",)
    columns = (
        Col("response_date", ("time", "timestamp", "date", "response date", "submitted")),
        Col("rating", ("rating", "answer", "fft rating")),
        Col("comment", ("free_text", "free text", "comment", "comments")),
        Col("comment_2", ("do_better", "do better", "what could we do better"), required=False),
        Col("surgery", ("surgery", "practice name", "site", "practice")),
        Col("mode", ("mode", "channel"), required=False),
    )

    def recognises(self, match, header) -> bool:
        return not match.missing and "surgery" in match.positions

    def begin(self, ctx: Context) -> None:
        super().begin(ctx)
        self.name_to_code: dict[str, str] = {}
        for name, code in zip(ctx.practices["name"], ctx.practices["code"]):
            self.name_to_code.setdefault(norm(name), code)
        for name, code in ctx.options.practice_map.items():
            code = str(code).strip().upper()
            if code not in ctx.code_to_id:
                ctx.log.error(f"the practice map gives {code!r} for {name!r}, but {code!r} is not a practice in the "
                              "federation", column="practice map", value=f"{name}={code}")
                continue
            self.name_to_code[norm(name)] = code
        self.unmapped: dict[str, int] = {}

    def practice_column(self, chunk: pd.DataFrame, ctx: Context):
        names = stripped(chunk["surgery"])
        codes = lookup(names, self.name_to_code, normalise=True)
        ids = lookup(codes, ctx.code_to_id).astype("Int64")
        known = ids.notna().to_numpy()
        for name, n in names[~known].value_counts().items():
            self.unmapped[name] = self.unmapped.get(name, 0) + int(n)
        ctx.log.add_mask("skipped", "practice name not mapped to a practice code in the federation: row not imported",
                         chunk, ~known, "surgery")
        ctx.practices_seen.update(codes[known].unique().tolist())
        return ids, known, codes.fillna("")

    def finish(self, ctx: Context):
        if self.unmapped and not ctx.stats["rows_for_federation"]:
            names = ", ".join(f"{k} ({v:,})" for k, v in sorted(self.unmapped.items(), key=lambda x: -x[1]))
            ctx.log.error("none of the practices named in the file is mapped to a practice code in the federation. "
                          "Choose a practice for each name (on the command line: --practice-map 'NAME=CODE,…'). "
                          f"Names found: {names}",
                          column=ctx.heading("surgery"))
        return []
