"""Published facts about practices: registered patients (list sizes), CQC ratings (overall; per key question from a
CSV or the CQC API's JSON) and ODS epraccur (open or closed). These update the federation's practices; rows for other
practices are reported and skipped."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..base import Col, Context, Format, Match, report_repeats
from ..values import lookup, norm, norm_series, parse_dates, parse_numbers, stripped
from ..writer import row_hash
from .choosing import choice_words, chosen_rows, wanted
from .practices import MAX_LIST_SIZE, PRACTICES
from .qof import PRACTICE_UPDATES

RATINGS = {norm(r): r for r in ("Outstanding", "Good", "Requires improvement", "Inadequate",
                                "Insufficient evidence to rate", "Not rated")}
KEY_QUESTIONS = ("safe", "effective", "caring", "responsive", "well_led")


def _one_per_practice(ctx: Context, chunk: pd.DataFrame, codes: pd.Series, out: pd.DataFrame, what: str,
                      prefer: pd.Series | None = None) -> pd.DataFrame:
    """Exact repeats are stored once; a practice given two different values is refused (unless ``prefer`` ranks
    them, e.g. a registered location over a deregistered one)."""
    dup = codes.duplicated(keep=False).to_numpy()
    if not dup.any():
        return out
    if prefer is not None:
        order = out.assign(_p=prefer.to_numpy(), _r=chunk["_row"].to_numpy()).sort_values(["_p", "_r"],
                                                                                          ascending=[False, True])
        kept = order.drop_duplicates("code")
        dropped = len(out) - len(kept)
        ctx.log.note(f"{dropped} rows repeat a practice already given: the registered location with the latest "
                     "inspection is used", count=dropped)
        return kept.drop(columns=["_p", "_r"]).sort_index()
    values = row_hash(out, [c for c in out.columns if c != "code"], kind="str")
    frame = pd.DataFrame({"code": codes.to_numpy(), "v": values})
    conflicting = frame.groupby("code")["v"].transform("nunique").to_numpy() > 1
    repeat, first = ctx.duplicates.check(f"{what}-codes", row_hash(pd.DataFrame({"c": codes}), ["c"], kind="str"),
                                         chunk["_row"].to_numpy())
    report_repeats(ctx, chunk, "practice_code", repeat & conflicting, first, f"the same practice with a different {what}")
    return out[~(dup & repeat)]


class ListSizes(Format):
    kind = "list_sizes"
    label = "Patients registered at a GP practice (list sizes)"
    description = ("NHS Digital's 'Patients registered at a GP practice' totals (CSV or XLSX): sets each federation "
                   "practice's list size.")
    feeds = ("practices",)
    whole_file = True
    columns = (
        Col("practice_code", ("code", "prac code", "practice code", "org code", "ods code")),
        Col("patients", ("number of patients", "no of pts", "list size", "registered patients", "total patients")),
        Col("sex", (), required=False),
        Col("age", (), required=False),
        Col("extract_date", ("extract date",), required=False),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        keep = np.ones(len(chunk), dtype=bool)
        for c in ("sex", "age"):
            if c in chunk:
                part = norm_series(chunk[c])
                other = (part != "all").to_numpy() & (part != "").to_numpy()
                log.add_mask("skipped", f"counts one {c} group only; list sizes use the ALL rows", chunk, other, c)
                keep &= ~other
        chunk = chunk[keep]
        if "extract_date" in chunk and len(chunk):
            dates = parse_dates(chunk, "extract_date", log, ctx.today, required=False, what="extract date")
            if dates.notna().any():
                log.note(f"list sizes as at {dates.max():%d/%m/%Y}")
        practice_id, known = ctx.practice_ids(chunk, "practice_code", outside="skip")
        patients = parse_numbers(chunk, "patients", log, required=True, integer=True, what="number of patients",
                                 maximum=MAX_LIST_SIZE)
        codes = stripped(chunk["practice_code"]).str.upper()
        out = pd.DataFrame({"code": codes, "list_size": patients})
        out = _one_per_practice(ctx, chunk, codes, out, "list size")
        out = out[out["code"].isin(list(ctx.code_to_id))]
        ctx.stats["rows_for_federation"] += len(out)
        return [(PRACTICE_UPDATES, out)]


class CQCOverall(Format):
    kind = "cqc_overall"
    feeds = ()  # ratings: no figure of the measure store changes
    label = "CQC overall rating per practice"
    description = "CQC's latest overall rating per practice (Practice code, latest rating): sets the overall rating."
    whole_file = True
    columns = (
        Col("practice_code", ("practice code", "practice.code", "location ods code", "ods code")),
        Col("rating", ("latest rating", "latest_rating", "overall rating")),
        Col("domain", ("key question",), required=False),
        Col("year", ("publication year",), required=False),
        Col("location_name", ("location name",), required=False),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        if "domain" in chunk:
            other = ~norm_series(chunk["domain"]).isin(["overall", ""]).to_numpy()
            log.add_mask("skipped", "is a key-question rating; this file is read for overall ratings", chunk, other,
                         "domain")
            chunk = chunk[~other]
        practice_id, known = ctx.practice_ids(chunk, "practice_code", outside="skip")
        rating = lookup(chunk["rating"], RATINGS, normalise=True)
        bad = rating.isna().to_numpy() & known
        log.add_mask("error", "is not a CQC rating (Outstanding, Good, Requires improvement, Inadequate)", chunk, bad,
                     "rating")
        codes = stripped(chunk["practice_code"]).str.upper()
        out = pd.DataFrame({"code": codes, "cqc_overall": rating})[known]
        out = _one_per_practice(ctx, chunk[known], codes[known], out, "rating")
        ctx.stats["rows_for_federation"] += len(out)
        return [(PRACTICE_UPDATES, out)]


def _ratings(ctx: Context, chunk: pd.DataFrame, columns: dict[str, str], rows_ok: np.ndarray) -> dict[str, pd.Series]:
    out = {}
    for target, col in columns.items():
        if col not in chunk:
            continue
        text = norm_series(chunk[col])
        rating = lookup(chunk[col], RATINGS, normalise=True)
        bad = rating.isna().to_numpy() & (text != "").to_numpy() & rows_ok
        ctx.log.add_mask("error", "is not a CQC rating (Outstanding, Good, Requires improvement, Inadequate)", chunk,
                         bad, col)
        out[target] = rating
    return out


class CQCKeyQuestions(Format):
    kind = "cqc_key_questions"
    feeds = ()  # ratings: no figure of the measure store changes
    label = "CQC ratings per key question (locations CSV)"
    description = ("CQC locations with overall and Safe, Effective, Caring, Responsive and Well-led ratings, "
                   "matched on the location's ODS code; also records the CQC location ID.")
    whole_file = True
    columns = (
        Col("location_id", ("location id",)),
        Col("location_name", ("location name",), required=False),
        Col("practice_code", ("location ods code", "ods code")),
        Col("registration_status", ("registration status",), required=False),
        Col("current_overall", ("current overall rating (locations api)", "current overall rating"),
            required=False),
        Col("overall", ("overall rating",)),
        Col("safe", ()),
        Col("effective", ()),
        Col("caring", ()),
        Col("responsive", ()),
        Col("well_led", ("well-led", "wellled")),
        Col("last_inspected", ("last inspected", "inspected", "last inspection date"), required=False),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        codes = stripped(chunk["practice_code"]).str.upper()
        no_code = (codes == "").to_numpy()
        if no_code.any():
            log.add_mask("skipped", "location has no ODS code, so it cannot be a federation practice", chunk, no_code,
                         "practice_code")
        practice_id = lookup(codes, ctx.code_to_id)
        known = practice_id.notna().to_numpy()
        log.add_mask("skipped", "practice outside the federation: row not imported", chunk, ~known & ~no_code,
                     "practice_code")
        ratings = _ratings(ctx, chunk, {"cqc_overall": "overall", **{f"cqc_{k}": k for k in KEY_QUESTIONS},
                                        "_current": "current_overall"}, known)
        overall = ratings["cqc_overall"]
        if "_current" in ratings:
            overall = overall.fillna(ratings.pop("_current"))
        inspected = parse_dates(chunk, "last_inspected", log, ctx.today, required=False, what="inspection date") \
            if "last_inspected" in chunk else pd.Series(pd.NaT, index=chunk.index)
        out = pd.DataFrame({"code": codes, "cqc_location_id": stripped(chunk["location_id"]), "cqc_overall": overall,
                            **{k: v for k, v in ratings.items() if k != "cqc_overall"},
                            "cqc_rating_date": inspected})
        rated = out[["cqc_overall", *[f"cqc_{k}" for k in KEY_QUESTIONS]]].notna().any(axis=1).to_numpy()
        unrated = known & ~rated
        log.add_mask("skipped", "no ratings published for this location: practice left unchanged", chunk, unrated,
                     "overall")
        use = known & rated
        registered = norm_series(chunk["registration_status"]).eq("registered") if "registration_status" in chunk \
            else pd.Series(True, index=chunk.index)
        rank = registered.astype(int) * 10**9 + inspected.fillna(pd.Timestamp(0)).astype("int64") // 10**9
        out = _one_per_practice(ctx, chunk[use], codes[use], out[use], "rating", prefer=rank[use])
        ctx.practices_seen.update(out["code"].tolist())
        ctx.stats["rows_for_federation"] += len(out)
        return [(PRACTICE_UPDATES, out)]


class CQCApiJSON(Format):
    kind = "cqc_api_json"
    feeds = ()  # ratings: no figure of the measure store changes
    label = "CQC API ratings (JSON keyed by location ID)"
    description = ("Ratings from CQC's public API saved as JSON ({location ID: {overall, safe, …}}): matched to "
                   "practices by their CQC location ID.")
    whole_file = True
    columns = (
        Col("location_id", ("id", "location id", "locationid")),
        Col("overall", ()),
        Col("safe", (), required=False),
        Col("effective", (), required=False),
        Col("caring", (), required=False),
        Col("responsive", (), required=False),
        Col("well_led", ("wellled", "well-led"), required=False),
        Col("inspected", ("last inspected", "inspection date"), required=False),
    )

    def recognises(self, match: Match, header: list[str]) -> bool:
        return not match.missing and sum(k in match.positions for k in KEY_QUESTIONS) >= 3

    def begin(self, ctx: Context) -> None:
        located = ctx.practices.dropna(subset=["cqc_location_id"])
        self.by_location = dict(zip(located["cqc_location_id"].str.strip(), located["code"]))
        if not self.by_location:
            ctx.log.error("no practice in the federation has a CQC location ID yet, so these ratings cannot be "
                          "matched: import the CQC locations CSV (or add cqc_location_id to the practices template) "
                          "first")

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        loc = stripped(chunk["location_id"])
        codes = lookup(loc, self.by_location)
        known = codes.notna().to_numpy()
        log.add_mask("skipped", "location is not one of the federation's practices: not imported", chunk, ~known,
                     "location_id")
        ratings = _ratings(ctx, chunk, {"cqc_overall": "overall", **{f"cqc_{k}": k for k in KEY_QUESTIONS}}, known)
        out = pd.DataFrame({"code": codes, **ratings})
        if "inspected" in chunk:
            out["cqc_rating_date"] = parse_dates(chunk, "inspected", log, ctx.today, required=False,
                                                 what="inspection date")
        out = out[known]
        ctx.practices_seen.update(out["code"].tolist())
        ctx.stats["rows_for_federation"] += len(out)
        return [(PRACTICE_UPDATES, out)]


EPRACCUR = {"practice_code": 0, "name": 1, "region": 2, "icb": 3, "postcode": 9, "open_date": 10, "close_date": 11,
            "status": 12, "sub_type": 13, "commissioner": 14, "prescribing_setting": 25}
STATUS = {"A": True, "C": False, "D": False, "P": False}
STATUS_WORDS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}


class Epraccur(Format):
    kind = "epraccur"
    feeds = ("practices",)  # new practices and their PCNs
    label = "ODS epraccur practice list (no header row)"
    description = "NHS Digital's ODS list of GP practices as published (no header row): marks closed practices inactive."
    has_header = False
    whole_file = True
    columns = tuple(Col(n, ()) for n in EPRACCUR)

    def match(self, header: list[str]) -> Match:
        ok = (len(header) >= 26 and re.fullmatch(r"[A-Z][A-Z0-9]\d{3,4}", header[0].strip() or "-") is not None
              and re.fullmatch(r"\d{8}", header[10].strip() or "-") is not None
              and header[12].strip() in STATUS)
        if not ok:
            return Match({}, {}, list(EPRACCUR), [], 0)
        return Match(dict(EPRACCUR), {k: f"column {v + 1} ({k.replace('_', ' ')})" for k, v in EPRACCUR.items()},
                     [], [], len(EPRACCUR))

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        codes = stripped(chunk["practice_code"]).str.upper()
        status = stripped(chunk["status"]).str.upper()
        add = np.zeros(len(chunk), dtype=bool)
        writes = []
        if wanted(ctx):  # set-up: the practices of a sub-ICB (the commissioner column), or codes
            chosen = chosen_rows(ctx, chunk, codes, None, {"commissioner": stripped(chunk["commissioner"])})
            gp_open = ((stripped(chunk["prescribing_setting"]) == "4") & (status == "A")).to_numpy()
            listed = codes.isin({c.strip().upper() for c in ctx.options.add_practices}).to_numpy()
            add = chosen & ~codes.isin(list(ctx.code_to_id)).to_numpy() & (gp_open | listed)
            left = int((chosen & ~gp_open & ~listed).sum())
            if left:
                log.note(f"{left:,} organisations of {choice_words(ctx)} are not open GP practices (closed, or "
                         "another prescribing setting): not added", count=left)
            if add.any():
                new = pd.DataFrame({"code": codes, "name": stripped(chunk["name"]).str.title(), "pcn": None,
                                    "active": lookup(status, STATUS).fillna(False).astype(bool)})[add]
                new = new.drop_duplicates("code")
                log.note(f"{len(new)} practices of {choice_words(ctx)} added to the federation (names as ODS "
                         "publishes them; their PCN comes from the practice to PCN mapping file)", count=len(new))
                writes.append((PRACTICES, new))
                ctx.practices_seen.update(new["code"].tolist())
        practice_id, known = ctx.practice_ids(chunk[~add], "practice_code", outside="skip")
        known = _spread(known, ~add)
        bad = ~status.isin(list(STATUS)).to_numpy() & known
        log.add_mask("error", "is not an ODS status code (A active, C closed, D dormant, P proposed)", chunk, bad,
                     "status")
        out = pd.DataFrame({"code": codes, "active": lookup(status, STATUS)})[known & ~bad]
        closing = chunk[known & ~bad & (status != "A").to_numpy()]
        for code, st, name in zip(stripped(closing["practice_code"]), stripped(closing["status"]),
                                  stripped(closing["name"])):
            log.note(f"{code} {name.title()} is {STATUS_WORDS[st.upper()]} in ODS: marked inactive, so it leaves "
                     "the dashboard's views (its history is kept)")
        out = _one_per_practice(ctx, chunk[known & ~bad], codes[known & ~bad], out, "status")
        ctx.stats["rows_for_federation"] += len(out) + int(add.sum())
        return [(PRACTICE_UPDATES, out), *writes]


def _spread(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """A mask over the rows ``where`` selects, put back over every row (False elsewhere)."""
    out = np.zeros(len(where), dtype=bool)
    out[where] = values
    return out
