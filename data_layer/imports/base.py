"""What every format shares: column specs matched by header, the import's context, duplicate tracking, practice and
indicator look-ups."""
from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from .. import models as m
from ..config import FederationConfig
from .limits import DEFAULT_LIMITS, Limits
from .problems import ProblemLog
from .reading import CHUNK_ROWS, MAX_FILE_BYTES
from .values import PRACTICE_CODE, lookup, norm, practice_codes
from .writer import Target


@dataclass(frozen=True)
class Col:
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True
    help: str = ""
    example: str = ""

    @property
    def spellings(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(norm(a) for a in (self.name, *self.aliases)))


@dataclass
class Match:
    positions: dict[str, int]  # canonical name -> column position in the file
    headings: dict[str, str]  # canonical name -> the file's heading
    missing: list[str]
    unknown: list[str]  # headings no column of the format claims
    score: int


@dataclass
class ImportOptions:
    kind: str | None = None
    sheet: str | None = None
    practice_map: dict[str, str] = field(default_factory=dict)  # practice name in the file -> practice code
    indicator_map: dict[str, str] = field(default_factory=dict)  # source indicator (id, name or column) -> catalogue
    period: str | None = None  # for files that do not say which period they cover
    keep_benchmarks: bool = True
    add_pcn: tuple[str, ...] = ()  # practice mapping files: add the practices of these PCNs to the federation
    add_sub_icb: tuple[str, ...] = ()  # mapping or epraccur files: add the practices of these sub-ICBs (code or name)
    add_practices: tuple[str, ...] = ()  # mapping or epraccur files: add these practices (ODS codes)
    max_bytes: int = MAX_FILE_BYTES
    today: date | None = None
    chunk_rows: int = CHUNK_ROWS
    limits: Limits = DEFAULT_LIMITS  # sizes, rows, columns, cell text, nesting, earliest dates, largest numbers


class Format:
    """One kind of file. Subclasses declare columns and turn checked chunks into frames for their tables."""

    kind: str = ""
    label: str = ""
    family: str = "published"  # template | published
    description: str = ""
    columns: tuple[Col, ...] = ()
    strict_columns: bool = False  # templates: a column the template does not have is an error
    whole_file: bool = False  # needs every row at once (pivots, de-duplication across rows)
    has_header: bool = True
    # What the import feeds, so the measure store refreshes only what it changes: "fft", "training", "complaints",
    # "significant_events", "practices" (list sizes and PCNs: every figure), "indicators" (imported values).
    feeds: tuple[str, ...] = ("indicators",)
    uses_indicator_map: bool = False
    uses_practice_map: bool = False
    published_field: str | None = None  # which field of a catalogue entry's `published` names this kind's indicators
    needs_period: bool = False  # the file does not say which period it covers
    detect_priority: int = 50  # lower wins: templates 10, published formats 50, the wide table 90
    reports_rows: bool = False  # frames keep the chunk's index, so the report can name the rows that changed
    lock_group: str = ""  # imports of one group take turns on PostgreSQL (default: the kind)

    @property
    def catch_all(self) -> bool:
        """Reads almost any table (the wide table): a file it alone recognises may be a known file of another kind."""
        return self.detect_priority >= 90

    # -- detection ---------------------------------------------------------------------------------------------
    def match(self, header: list[str]) -> Match:
        normed = [norm(h) for h in header]
        positions: dict[str, int] = {}
        used: set[int] = set()
        for col in self.columns:
            for spelling in col.spellings:
                hit = next((i for i, h in enumerate(normed) if h == spelling and i not in used), None)
                if hit is not None:
                    positions[col.name] = hit
                    used.add(hit)
                    break
        missing = [c.name for c in self.columns if c.required and c.name not in positions]
        unknown = [header[i] for i, h in enumerate(normed) if i not in used and h]
        return Match(positions, {n: header[i] for n, i in positions.items()}, missing, unknown, len(positions))

    def recognises(self, match: Match, header: list[str]) -> bool:
        # A template file has few columns of its own; a published file that happens to contain the template's
        # columns among many others is not one (choosing the kind by hand still reports the extra columns).
        if self.strict_columns and len(match.unknown) > max(2, match.score // 2):
            return False
        return not match.missing

    # -- processing --------------------------------------------------------------------------------------------
    def begin(self, ctx: "Context") -> None:
        """Check options and load look-ups before the first row."""

    def process(self, chunk: pd.DataFrame, ctx: "Context") -> list[tuple[Target, pd.DataFrame]]:
        raise NotImplementedError

    def finish(self, ctx: "Context") -> list[tuple[Target, pd.DataFrame]]:
        return []

    def items(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """For mapping in the page: the indicators or practice names this file holds (None: nothing to map)."""
        return None


class DuplicateTracker:
    """Finds rows that repeat an earlier row's natural key anywhere in the file (across chunks)."""

    def __init__(self):
        self.seen: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def check(self, name: str, key_hash: np.ndarray, rows: np.ndarray,
              valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(is a repeat, the row it repeats) for each row; rows whose key is not ``valid`` (already reported as
        errors) are left out."""
        rows = np.asarray(rows, dtype="int64")
        if valid is not None and not valid.all():
            repeat = np.zeros(len(rows), dtype=bool)
            first = np.zeros(len(rows), dtype="int64")
            r, f = self.check(name, key_hash[valid], rows[valid])
            repeat[valid], first[valid] = r, f
            return repeat, first
        df = pd.DataFrame({"h": key_hash, "r": rows})
        first_in_chunk = df.groupby("h", sort=False)["r"].transform("min").to_numpy()
        repeat = first_in_chunk != rows
        first = first_in_chunk.copy()
        prev_h, prev_r = self.seen.get(name, (np.empty(0, dtype="uint64"), np.empty(0, dtype="int64")))
        if len(prev_h):
            pos = np.minimum(np.searchsorted(prev_h, key_hash), len(prev_h) - 1)
            earlier = prev_h[pos] == key_hash
            repeat |= earlier
            first = np.where(earlier, prev_r[pos], first)
        new_h = key_hash[~repeat]
        new_r = rows[~repeat]
        all_h = np.concatenate([prev_h, new_h])
        all_r = np.concatenate([prev_r, new_r])
        order = np.argsort(all_h, kind="stable")
        self.seen[name] = (all_h[order], all_r[order])
        return repeat, first


class Context:
    """Everything a format needs while it reads one file."""

    def __init__(self, conn: Connection, config: FederationConfig, options: ImportOptions, log: ProblemLog,
                 file_name: str, headings: dict[str, str]):
        self.conn = conn
        self.config = config
        self.options = options
        self.log = log
        self.file_name = file_name
        self.headings = headings
        self.today = options.today or date.today()
        self.stats: Counter = Counter()
        self.duplicates = DuplicateTracker()
        rows = conn.execute(select(m.Practice.id, m.Practice.code, m.Practice.name, m.Practice.pcn,
                                   m.Practice.cqc_location_id, m.Practice.active)).all()
        self.practices = pd.DataFrame(rows, columns=["id", "code", "name", "pcn", "cqc_location_id", "active"])
        self.code_to_id = dict(zip(self.practices["code"], self.practices["id"].astype("int64")))
        self.practices_seen: set[str] = set()

    def heading(self, column: str) -> str:
        return self.headings.get(column, column)

    # -- practices ---------------------------------------------------------------------------------------------
    def practice_ids(self, chunk: pd.DataFrame, column: str, outside: str = "error") -> tuple[pd.Series, np.ndarray]:
        """Practice ids for a column of codes. ``outside``: "error" (templates), "skip" (published files: the row is
        reported and skipped) or "keep" (the caller keeps those rows, e.g. as benchmarks). Returns (ids, known)."""
        codes = practice_codes(chunk[column])
        empty = (codes == "").to_numpy()
        ids = lookup(codes, self.code_to_id)
        known = ids.notna().to_numpy()
        self.log.add_mask("error" if outside == "error" else "skipped",
                          "is empty: a practice code is needed here", chunk, empty, column)
        unknown = ~known & ~empty
        if outside == "error":
            bad_shape = unknown & ~codes.str.match(PRACTICE_CODE).to_numpy()
            self.log.add_mask("error", "is not a practice code: practice (ODS) codes are a letter, then a letter or "
                              "digit, then four digits, e.g. G82002", chunk, bad_shape, column)
            self.log.add_mask("error", "is not a practice in the federation: add it first (practices template) or "
                              "correct the code", chunk, unknown & ~bad_shape, column)
        elif outside == "skip":
            self.log.add_mask("skipped", "practice outside the federation: row not imported", chunk, unknown, column)
        self.practices_seen.update(codes[known].unique().tolist())
        return ids.astype("Int64"), known

    # -- catalogue ---------------------------------------------------------------------------------------------
    def catalogue_code(self, text: str) -> str | None:
        wanted = norm(text)
        for ind in self.config.indicators:
            if norm(ind.code) == wanted:
                return ind.code
        return None

    def published_map(self, available: dict[str, str], published: str) -> dict[str, str]:
        """Source id -> catalogue code for the file's indicators that a catalogue entry names as its published source
        (``published``: fingertips_id, qof_indicator or wide_column in the entry's ``published`` table)."""
        by_norm: dict[str, str] = {}
        for sid, name in available.items():
            by_norm.setdefault(norm(sid), sid)
        out: dict[str, str] = {}
        for ind in self.config.indicators:
            source = getattr(ind.published, published, None) if ind.published and not ind.derived else None
            sid = by_norm.get(norm(source)) if source else None
            if sid is not None:
                out[sid] = ind.code
        return out

    def resolve_indicator_map(self, available: dict[str, str], what: str = "an indicator",
                              published: str | None = None) -> dict[str, str]:
        """Match the user's mapping (by id, name or a distinctive start of the name) to the file's indicators, on top
        of the catalogue's own published sources (``published``: which field of an entry's ``published`` table names
        this kind of file's indicators; the user's mapping wins). ``available``: source id -> name. Returns source id
        -> catalogue code; option problems are errors."""
        result: dict[str, str] = self.published_map(available, published) if published else {}
        auto = dict(result)
        by_norm: dict[str, str] = {}
        for sid, name in available.items():
            by_norm.setdefault(norm(sid), sid)
            if name:
                by_norm.setdefault(norm(name), sid)
        for given, code in self.options.indicator_map.items():
            sid = by_norm.get(norm(given))
            if sid is None and len(norm(given)) >= 8:
                starts = {s for k, s in by_norm.items() if k.startswith(norm(given))}
                if len(starts) == 1:
                    sid = starts.pop()
            if sid is not None and not code.strip():  # "SOURCE=" (or "benchmark" on the page): not imported
                result.pop(sid, None)
                continue
            if sid is None:
                close = difflib.get_close_matches(given, [n or s for s, n in available.items()], n=3, cutoff=0.5)
                hint = f" Did you mean: {'; '.join(close)}?" if close else ""
                self.log.error(f"the indicator map names {given!r}, which is not {what} in this file.{hint}",
                               column="indicator map", value=given)
                continue
            catalogue = self.catalogue_code(code)
            if catalogue is None:
                self.log.error(f"{code!r} is not an indicator code in the federation's catalogue (federation.toml)",
                               column="indicator map", value=code)
                continue
            ind = self.config.indicator(catalogue)
            if ind.derived:
                self.log.error(f"{catalogue} is calculated by the dashboard from the raw records ({ind.derived}); "
                               "it cannot be imported", column="indicator map", value=code)
                continue
            for other in [k for k, v in auto.items() if v == catalogue and k != sid and result.get(k) == v]:
                del result[other]  # the user's choice replaces the catalogue's published source for this code
            result[sid] = catalogue
        codes = Counter(result.values())
        for code, n in codes.items():
            if n > 1:
                self.log.error(f"{n} of the file's indicators are mapped to {code}; each catalogue indicator can take "
                               "only one", column="indicator map", value=code)
        return result


def suggest(heading: str, options: list[str]) -> str:
    close = difflib.get_close_matches(norm(heading), [norm(o) for o in options], n=1, cutoff=0.6)
    if not close:
        return ""
    original = next(o for o in options if norm(o) == close[0])
    return f" (did you mean {original!r}?)"


def report_repeats(ctx: Context, chunk: pd.DataFrame, column: str, repeat: np.ndarray, first: np.ndarray,
                   what: str, values: pd.Series | None = None) -> None:
    """Each row that repeats an earlier row's key, naming the earlier row."""
    if not repeat.any():
        return
    rows = chunk["_row"].to_numpy()
    vals = (values if values is not None else chunk[column]).to_numpy(dtype=object)
    ctx.log.add_rows("error", f"appears twice in the file: {what}", rows[repeat],
                     chunk.attrs.get("headings", {}).get(column, column), vals[repeat],
                     reasons=[f"repeats row {f}: {what}" for f in first[repeat]])


def file_period(ctx: Context, from_name: bool = True) -> tuple[date, date] | None:
    """The period a file covers when its rows do not say: the user's --period, else the year in a QOF file name."""
    from .values import PERIOD_HELP, parse_period, period_from_file_name

    if ctx.options.period:
        parsed = parse_period(ctx.options.period)
        if parsed is None:
            ctx.log.error(f"the period {ctx.options.period!r} cannot be read: {PERIOD_HELP}", column="period",
                          value=ctx.options.period)
            return None
        if parsed[0] > ctx.today:
            ctx.log.error("the period is in the future", column="period", value=ctx.options.period)
            return None
        return parsed
    parsed = period_from_file_name(ctx.file_name) if from_name else None
    if parsed is None:
        ctx.log.error(f"the file does not say which period it covers: {PERIOD_HELP}", column="period")
    return parsed
