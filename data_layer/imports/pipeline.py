"""One import, start to finish: read, detect the format (``detection``), check every row, then write everything in one
transaction or nothing at all; record the batch and an audit event; recalculate derived indicators.

``inspect_file`` (``inspection``, re-exported here) is the cheap first look (format, preview, what can be mapped);
``run_import`` with ``dry_run=True`` checks the whole file and counts what would be new, updated or unchanged without
writing.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from .. import audit, models as m
from ..demo import import_refusal
from ..bulk import record_batch
from ..config import FederationConfig
from ..scope import AccessDenied, Viewer
from .base import Context, Format, ImportOptions, suggest
from .detection import Detection, detect  # noqa: F401  (re-exported: catalogue and callers use pipeline.detect)
from .formats import BY_KIND, new_format
from . import limits
from .inspection import Inspection, inspect_file  # noqa: F401  (re-exported: the package's public names)
from .problems import ProblemLog, problems_csv
from .reading import CSVShapeError, iter_frames, load_source
from .source import FileRefused
from .writer import Writer

Progress = Callable[[float, str], None]
LISTED_CHANGES = 1_000  # row numbers kept per table for "which rows changed"
PROBABLY_NOT_FROM_ROWS = 20  # a file of at least this many rows with more problems than rows is not of its format
log_ = logging.getLogger(__name__)


def _integrity_errors() -> tuple[type[BaseException], ...]:
    """Unique-key failures as SQLAlchemy raises them and as the drivers do (COPY and executemany run on the driver's
    own connection)."""
    import sqlite3

    errors: list[type[BaseException]] = [IntegrityError, sqlite3.IntegrityError]
    try:
        import psycopg

        errors.append(psycopg.errors.IntegrityError)
    except ImportError:  # pragma: no cover - PostgreSQL support not installed
        pass
    return tuple(errors)


_INTEGRITY_ERRORS = _integrity_errors()


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class ImportResult:
    file_name: str
    sha256: str = ""
    kind: str | None = None
    label: str = ""
    sheet: str | None = None
    encoding: str = ""
    header_row: int | None = None
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    log: ProblemLog = field(default_factory=ProblemLog)
    refused: bool = False
    dry_run: bool = False
    batch_id: int | None = None
    derived_values: int | None = None
    seconds: float = 0.0  # the whole import, including the recalculation of derived indicators
    derived_seconds: float = 0.0
    changed_rows: dict[str, list[int]] = field(default_factory=dict)  # "new" / "updated" -> the file's row numbers

    @property
    def errors(self) -> int:
        return self.log.errors

    @property
    def skipped(self) -> int:
        return self.log.skipped_rows

    @property
    def imported(self) -> bool:
        return not self.refused and not self.dry_run

    def problems(self, severities: tuple[str, ...] = ("error", "skipped", "note")) -> pd.DataFrame:
        return self.log.frame(severities)

    def problems_csv(self, severities: tuple[str, ...] = ("error", "skipped", "note")) -> bytes:
        return problems_csv(self.problems(severities))

    def counts_text(self) -> str:
        return f"{self.new:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged"

    def changes_lines(self, limit: int = 20) -> list[str]:
        """Which rows of the file are updates (and, on a re-import, which are new), by row number."""
        if self.refused or not (self.updated or self.unchanged):
            return []  # a first import: every row is new, nothing to point at
        lines = []
        for what, total in (("updated", self.updated), ("new", self.new)):
            listed = self.changed_rows.get(what) or []
            if listed and total:
                more = f" and {total - limit:,} more" if total > limit else ""
                verb = "would be " if self.dry_run else ""
                lines.append(f"Rows {verb}{what} ({total:,}): {', '.join(str(r) for r in listed[:limit])}{more}.")
        return lines

    def summary(self) -> str:
        if self.refused:
            head = (f"Refused: {self.file_name} ({self.label or 'format not recognised'}) has {self.errors:,} "
                    f"problem{'s' if self.errors != 1 else ''}; nothing was written.")
        elif self.dry_run:
            head = (f"Checked {self.file_name} ({self.label}): {self.rows:,} rows, no problems. Importing would give "
                    f"{self.counts_text()}.")
        else:
            taken = (f"{max(self.rows - self.skipped, 0):,} of its {self.rows:,} rows" if self.skipped else
                     f"{self.rows:,} rows")  # skipped rows are not imported
            head = (f"Imported {self.file_name} ({self.label}): {taken} → {self.counts_text()} "
                    f"(batch {self.batch_id}).")
        lines = [head, *self.changes_lines()]
        if self.skipped:
            lines.append(f"{self.skipped:,} rows skipped: " + "; ".join(self.log.summary_lines("skipped", 4)))
        for note in self.log.summary_lines("note", 6):
            lines.append(f"Note: {note}")
        if self.derived_values is not None:
            lines.append(f"Derived indicators recalculated ({self.derived_values:,} values).")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------------------------
def run_import(engine: Engine, config: FederationConfig, viewer: Viewer, source, file_name: str | None = None,
               options: ImportOptions | None = None, dry_run: bool = False,
               progress: Progress | None = None) -> ImportResult:
    """Check the file and, unless it has errors or this is a dry run, write it in one transaction."""
    if not viewer.may_import:
        raise AccessDenied(f"{viewer.email} may not import data: only administrators may")
    options = options or ImportOptions()
    token = limits.CURRENT.set(options.limits)
    try:
        return _run_import(engine, config, viewer, source, file_name, options, dry_run, progress)
    finally:
        limits.CURRENT.reset(token)


def _run_import(engine: Engine, config: FederationConfig, viewer: Viewer, source, file_name: str | None,
                options: ImportOptions, dry_run: bool, progress: Progress | None) -> ImportResult:
    started = time.perf_counter()
    say = progress or (lambda fraction, text: None)
    result = ImportResult(file_name=file_name or getattr(source, "name", None) or str(source), dry_run=dry_run)
    log = result.log
    try:
        src = load_source(source, file_name, options.max_bytes, options.limits)
    except FileRefused as exc:
        log.error(str(exc))
        return _refuse(result, engine, viewer, started, dry_run)
    result.file_name, result.sha256, result.encoding = src.name, src.sha256, src.encoding_label
    try:
        det = detect(src, options)
    except FileRefused as exc:
        log.error(str(exc))
        return _refuse(result, engine, viewer, started, dry_run)
    result.sheet, result.header_row = det.sheet, det.header_row
    if det.format is None:
        log.error(det.message)
        return _refuse(result, engine, viewer, started, dry_run)
    fmt = new_format(det.format.kind)
    result.kind, result.label = fmt.kind, fmt.label
    if not _check_header(fmt, det, log) or log.errors:
        return _refuse(result, engine, viewer, started, dry_run)

    chunk_rows = 10**9 if fmt.whole_file else options.chunk_rows
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            if not dry_run:
                _one_import_at_a_time(conn, fmt)
            ctx = Context(conn, config, options, log, src.name, det.match.headings)
            writer = Writer(conn, dry_run=dry_run)
            fmt.begin(ctx)
            batch_id = None
            blank_rows = 0
            say(0.0, "Reading and checking the file…")

            def on_read(fraction: float) -> None:
                say(0.95 * fraction, f"Checked {result.rows:,} rows…")

            def apply(writes) -> None:
                nonlocal batch_id
                if log.errors:
                    return  # keep checking so every problem is reported, but write nothing more
                if batch_id is None and not dry_run:
                    batch_id = record_batch(conn, fmt.kind, src.name[:255], src.sha256, viewer.email)
                for target, frame in writes:
                    rows = None
                    if chunk_rows_of is not None and fmt.reports_rows:
                        rows = chunk_rows_of.reindex(frame.index).to_numpy()
                    writer.apply(target, frame, batch_id, rows=rows)

            chunk_rows_of = None
            for chunk in iter_frames(src, det.sheet, det.header_index, det.match.positions, chunk_rows, on_read,
                                     width=len(det.header), headings=det.match.headings):
                empty = np.ones(len(chunk), dtype=bool)
                for column in det.match.positions:
                    empty &= (chunk[column] == "").to_numpy()
                if empty.any():
                    blank_rows += int(empty.sum())
                    chunk = chunk[~empty]
                if chunk.empty:
                    continue
                chunk.attrs["headings"] = det.match.headings
                result.rows += len(chunk)
                chunk = chunk.reset_index(drop=True)
                chunk_rows_of = chunk["_row"]
                apply(fmt.process(chunk, ctx))
            chunk_rows_of = None
            if result.rows == 0:
                log.error("The file has a header row but no data rows." if det.header_index >= 0 else
                          "The file has no data rows.")
            else:
                apply(fmt.finish(ctx))
            if blank_rows:
                log.note(f"{blank_rows:,} empty rows ignored", count=1)
            totals = writer.totals()
            result.new, result.updated, result.unchanged = totals["new"], totals["updated"], totals["unchanged"]
            result.by_table = {k: dict(v) for k, v in writer.counts.items()}
            result.changed_rows = writer.changed_rows()
            if log.errors > result.rows >= PROBABLY_NOT_FROM_ROWS:
                result.log = log = _probably_not(fmt, log, result.rows)
            if result.rows and not log.errors and not (result.new + result.updated + result.unchanged):
                from .problems import none_of_yours  # how many practices the file has, and which are yours

                log.error(none_of_yours(log, ctx.code_to_id) or "No row of the file could be imported: every row "
                          "was skipped (see the skipped rows and their reasons).")
            if not log.errors:  # no real data in the demo database (platform: data_layer.demo)
                demo_refusal = import_refusal(conn, ctx.practices_seen)
                if demo_refusal:
                    log.error(demo_refusal)
            if log.errors or dry_run:
                transaction.rollback()
                if log.errors:
                    return _refuse(result, engine, viewer, started, dry_run, rolled_back=True)
                result.seconds = time.perf_counter() - started
                return result
            say(0.96, "Saving…")
            conn.execute(update(m.ImportBatch).where(m.ImportBatch.id == batch_id).values(
                rows_new=result.new, rows_updated=result.updated, rows_unchanged=result.unchanged))
            result.batch_id = batch_id
            _audit(conn, viewer, "import", ctx.practices_seen, _audit_detail(result))
            if result.new or result.updated:
                from ..measures.refresh import mark_stale

                mark_stale(conn, f"import of {result.file_name} (batch {batch_id})")  # cleared by the refresh
            transaction.commit()
        except (CSVShapeError, FileRefused) as exc:
            transaction.rollback()
            log.error(str(exc), row=exc.row)
            return _refuse(result, engine, viewer, started, dry_run, rolled_back=True)
        except _INTEGRITY_ERRORS:
            # Two imports of the same rows at once (SQLite; PostgreSQL takes a lock first): the other one won.
            transaction.rollback()
            log_.warning("import of %s collided with another import", src.name, exc_info=True)
            log.error("Another import wrote the same rows while this file was being read, so nothing was written "
                      "from this file: import it again (it will then show what the other import already added).")
            return _refuse(result, engine, viewer, started, dry_run, rolled_back=True)
        except OperationalError as exc:
            transaction.rollback()
            if "locked" not in str(exc).lower():
                raise
            log_.warning("import of %s found the database locked", src.name, exc_info=True)
            log.error("Another import is being written to the database; nothing was written from this file. "
                      "Import it again when the other import has finished.")
            return _refuse(result, engine, viewer, started, dry_run, rolled_back=True)
        except (MemoryError, RecursionError, UnicodeError, ValueError, OverflowError) as exc:
            # A file the checks above did not foresee: the user gets a plain refusal, the log gets the detail.
            transaction.rollback()
            log_.exception("import of %s failed while reading it", src.name)
            log.error(f"The file could not be read ({type(exc).__name__}): it may be damaged. Nothing was written. "
                      "Save it again from the program that made it (CSV UTF-8 or XLSX) and import it again.")
            return _refuse(result, engine, viewer, started, dry_run, rolled_back=True)
        except BaseException:
            transaction.rollback()
            raise
    from ..measures import refresh as measures

    if (result.new or result.updated) or measures.stale_reason(engine):
        say(0.97, "Working out every figure again (derived indicators, practices, PCNs, the federation)…")
        derived_started = time.perf_counter()
        result.derived_values = measures.refresh(
            engine, config, reason=f"import of {result.file_name}", actor=viewer.email,
            sources=None if not (result.new or result.updated) else set(fmt.feeds),
            practice_codes=set(ctx.practices_seen) or None, batch_id=result.batch_id).derived_values
        result.derived_seconds = time.perf_counter() - derived_started
    say(1.0, "Done")
    result.seconds = time.perf_counter() - started
    return result


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"import:{name}".encode(), digest_size=8).digest(), "big", signed=True)


def _one_import_at_a_time(conn: Connection, fmt: Format) -> None:
    """PostgreSQL: imports of the same kind of data take turns (a transaction-level advisory lock, released at commit
    or rollback), so a second import of the same file waits and then finds every row already there, instead of
    failing on the unique key. SQLite writes one transaction at a time anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(fmt.lock_group or fmt.kind)})


def _probably_not(fmt: Format, log: ProblemLog, rows: int) -> ProblemLog:
    """A file with more problems than rows is not of this format: one line that says so instead of thousands."""
    reasons = [(n, reason) for (sev, reason), n in log.by_reason.items() if sev == "error"]
    reasons.sort(key=lambda x: -x[0])
    n, reason = reasons[0] if reasons else (0, "")
    column = next((p.column for p in log.listed if p.severity == "error" and p.reason.startswith(reason[:30])
                   and p.column), None)
    where = f" in column {column!r}" if column else ""
    out = ProblemLog()
    out.error(f"This is probably not a {fmt.label} file: its {rows:,} rows gave {log.errors:,} problems, most often "
              f"“{reason}”{where} ({n:,} times). Check that it is the file you meant, or choose the kind of file by "
              "hand.")
    return out


def _check_header(fmt: Format, det: Detection, log: ProblemLog) -> bool:
    row = det.header_row
    match = det.match
    for name in match.missing:
        col = next(c for c in fmt.columns if c.name == name)
        close = suggest(name, match.unknown) if match.unknown else ""
        also = f" (also accepted: {', '.join(col.aliases[:4])})" if col.aliases else ""
        log.error(f"is missing: the {fmt.label} needs this column{also}{close}", row=row, column=name)
    if fmt.strict_columns:
        known = [c.name for c in fmt.columns]
        for heading in match.unknown:
            log.error(f"is not a column of the {fmt.label}{suggest(heading, known)}; its columns are: "
                      f"{', '.join(known)}", row=row, column=heading)
    seen: dict[str, int] = {}
    for heading in det.header:
        key = heading.strip().lower()
        if key and key in seen and heading in match.headings.values():
            log.error("appears twice in the header row: keep one column of each name", row=row, column=heading)
        seen[key] = 1
    return not log.errors


def _audit_detail(result: ImportResult) -> str:
    tables = "; ".join(f"{t}: {c.get('new', 0)} new, {c.get('updated', 0)} updated, {c.get('unchanged', 0)} "
                       "unchanged" for t, c in result.by_table.items())
    return (f"{result.label}: {result.file_name} (sha256 {result.sha256[:12]}…), {result.rows:,} rows, "
            f"{result.counts_text()}, {result.skipped:,} skipped" + (f"; batch {result.batch_id}" if result.batch_id
                                                                     else "") + (f" [{tables}]" if tables else ""))


def _audit(target, viewer: Viewer, action: str, practices: set[str], detail: str) -> None:
    practice = next(iter(practices)) if len(practices) == 1 else None
    audit.record(target, viewer.email, action, practice_code=practice, detail=detail[:4000])


def _refuse(result: ImportResult, engine: Engine, viewer: Viewer, started: float, dry_run: bool,
            rolled_back: bool = False) -> ImportResult:
    """Nothing was written. A refused import (not a check) is still worth an audit entry of its own."""
    result.refused = True
    result.new = result.updated = result.unchanged = 0
    result.by_table = {}
    if not dry_run:
        _audit(engine, viewer, "import_refused", set(),
               f"{result.label or 'unrecognised file'}: {result.file_name} refused with {result.errors:,} problems: "
               + "; ".join(result.log.summary_lines("error", 3)))
    result.seconds = time.perf_counter() - started
    return result


def import_history(engine: Engine, viewer: Viewer, limit: int = 200) -> pd.DataFrame:
    """Import batches, newest first (the derived-indicator recalculations left out). Administrators only."""
    if not viewer.may_import:
        raise AccessDenied("only administrators may see the import history")
    from sqlalchemy import select

    stmt = (select(m.ImportBatch.imported_at, m.ImportBatch.kind, m.ImportBatch.file_name, m.ImportBatch.imported_by,
                   m.ImportBatch.rows_new, m.ImportBatch.rows_updated, m.ImportBatch.rows_unchanged,
                   m.ImportBatch.sha256, m.ImportBatch.id)
            .where(m.ImportBatch.kind != "derived").order_by(m.ImportBatch.imported_at.desc(), m.ImportBatch.id.desc())
            .limit(limit))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=["imported_at", "kind", "file_name", "imported_by",
                                                              "rows_new", "rows_updated", "rows_unchanged", "sha256",
                                                              "batch"])
    labels = {k: c.label for k, c in BY_KIND.items()} | {"demo": "Demo federation (fictional data)"}
    df["format"] = df["kind"].map(labels).fillna(df["kind"])
    return df
