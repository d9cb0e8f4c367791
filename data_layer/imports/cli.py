"""``python -m data_layer import FILE``: the importer for people and cron jobs.

Exit codes: 0 imported (or checked, with --dry-run) and a summary printed; 2 refused, with the problems listed and
written to --errors-csv, nothing written; 1 anything unexpected.
"""
from __future__ import annotations

import csv
import getpass
import os
import sys
from pathlib import Path

import pandas as pd

from .base import ImportOptions
from .formats import KINDS
from .reading import MAX_FILE_BYTES

LISTED = 50


def _pairs(values: list[str] | None, option: str, split_commas: bool) -> dict[str, str]:
    """NAME=CODE pairs from repeated options (and comma-separated lists, where names cannot contain commas); a value
    that names an existing CSV file is read as two columns: name, code."""
    from ..cli_common import UsageError

    out: dict[str, str] = {}
    for value in values or []:
        if value.lower().endswith(".csv") and Path(value).exists():
            with open(value, newline="", encoding="utf-8-sig") as fh:
                rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
            if rows and len(rows[0]) >= 2 and rows[0][1].strip().lower() in ("code", "practice_code", "catalogue",
                                                                             "indicator_code", "catalogue_code"):
                rows = rows[1:]  # a header row
            for r in rows:
                if len(r) < 2 or not r[1].strip():
                    raise UsageError(f"{option} {value}: each row needs a name and a code, got {r!r}")
                out[r[0].strip()] = r[1].strip()
            continue
        parts = value.split(",") if split_commas else [value]
        for part in parts:
            if not part.strip():
                continue
            if "=" not in part:
                raise UsageError(f"{option}: {part!r} is not NAME=CODE")
            name, code = part.rsplit("=", 1)
            out[name.strip()] = code.strip()
    return out


def cmd_import(args) -> int:
    from ..cli_common import UsageError
    from ..config import load_config
    from ..db import get_engine
    from ..scope import Viewer
    from .pipeline import run_import

    path = Path(args.file)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    if not path.is_file():
        raise UsageError(f"{path} is a folder, not a file: name the file to import")
    options = ImportOptions(
        kind=args.kind,
        sheet=args.sheet,
        practice_map=_pairs(args.practice_map, "--practice-map", split_commas=True),
        indicator_map=_pairs(args.indicator_map, "--indicator-map", split_commas=False),
        period=args.period,
        keep_benchmarks=not args.no_benchmarks,
        add_pcn=tuple(args.add_pcn or ()),
        add_sub_icb=tuple(args.add_sub_icb or ()),
        add_practices=tuple(c.strip() for v in args.add_practices or () for c in v.split(",") if c.strip()),
        max_bytes=int(args.max_mb * 1024 * 1024) if args.max_mb else MAX_FILE_BYTES,
    )
    from ..audit import ActorError, cli_actor

    try:  # --as is self-declared: only an active administrator, recorded with the OS account (data_layer.audit)
        who = (cli_actor(get_engine(), args.actor, roles=("admin",)) if args.actor
               else os.environ.get("IMPORT_USER") or f"cli:{getpass.getuser()}")
    except ActorError as exc:
        raise UsageError(str(exc)) from exc
    viewer = Viewer(email=who, role="admin", name=who)  # whoever can run the CLI already holds the database
    config = load_config()
    engine = get_engine()

    def progress(fraction: float, text: str) -> None:
        if args.verbose:
            print(f"  {fraction:4.0%} {text}", file=sys.stderr, flush=True)

    added, local_text = [], None
    if args.add_indicators:  # the file's indicators the catalogue lacks join it (federation.local.toml) first
        from ..config import config_path
        from .catalogue import unlisted, with_additions

        added = unlisted(path, config, options)
        if added is None:
            raise UsageError(f"--add-indicators adds indicators from OHID Fingertips exports; {path.name} is not one")
        if added:
            config, local_text = with_additions(config_path(), added)
    result = run_import(engine, config, viewer, path, options=options, dry_run=args.dry_run, progress=progress)
    catalogue_lines = []
    if added and not result.refused:
        from ..config import config_path, local_config_path
        from .catalogue import write_local

        where = local_config_path() if args.dry_run else write_local(config_path(), local_text)
        catalogue_lines.append(f"{'Would add' if args.dry_run else 'Added'} {len(added)} indicator"
                               f"{'s' * (len(added) != 1)} to the catalogue ({where}):")
        catalogue_lines += [f"  - {a.code}: {a.name} (Fingertips {a.fingertips_id}; {a.unit}"
                            f"{', published value only' if a.value_only else ''}; "
                            f"{'better when ' + a.direction if a.direction != 'neutral' else 'no better or worse'})"
                            for a in added]
    if args.errors_csv and (result.refused or result.skipped or args.dry_run):
        Path(args.errors_csv).write_bytes(result.problems_csv())
    if result.refused:
        print(result.summary(), file=sys.stderr)
        problems = result.problems(("error",))
        for p in problems.head(LISTED).itertuples(index=False):
            where = []
            if not pd.isna(p.row):
                where.append(f"row {p.row}")
            if p.column:
                where.append(f"column {p.column!r}")
            text = (", ".join(where) + ": " if where else "") + (f"{p.value!r} " if p.value else "") + p.problem
            print(f"  - {text}", file=sys.stderr)
        if result.errors > LISTED:
            more = f"… and {result.errors - LISTED:,} more"
            print(f"  {more}" + (f" (all listed in {args.errors_csv})" if args.errors_csv else
                                 " (use --errors-csv PATH to get them all)"), file=sys.stderr)
        return 2
    print(result.summary())
    for line in catalogue_lines:
        print(line)
    if args.errors_csv and result.skipped:
        print(f"Skipped rows listed in {args.errors_csv}.")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="import a file (our templates or a published NHS format); all-or-nothing",
        description="Check a file and import it in one transaction. Exit 0 imported, 2 refused (nothing written), "
                    "1 unexpected failure.",
    )
    p.add_argument("file", help="CSV, XLSX or JSON file")
    p.add_argument("--kind", choices=KINDS, help="the kind of file (default: detected from the header row)")
    p.add_argument("--sheet", help="XLSX: the sheet to read (default: the first sheet that is recognised)")
    p.add_argument("--dry-run", action="store_true", help="check and count only; write nothing")
    p.add_argument("--errors-csv", metavar="PATH", help="write the problems (row, column, value, reason) to this CSV")
    p.add_argument("--practice-map", action="append", metavar="NAME=CODE,...",
                   help="practice names in the file → practice codes (repeatable; or a CSV file: name,code)")
    p.add_argument("--indicator-map", action="append", metavar="SOURCE=CODE",
                   help="a source indicator (Fingertips ID, QOF group or indicator code, or a column heading) → a "
                        "catalogue code; one pair per option (repeatable), or a CSV file: source,code. SOURCE= "
                        "(no code) keeps it as benchmark values even when a catalogue entry names it as its source")
    p.add_argument("--period", help="the period the file covers when it does not say (2024/25, 2024, 2024-04, "
                                    "2024-04-01..2025-03-31)")
    p.add_argument("--no-benchmarks", action="store_true",
                   help="do not keep rows for other areas and unmapped indicators as benchmark values")
    p.add_argument("--add-pcn", action="append", metavar="PCN",
                   help="practice mapping files: add the practices of this PCN (name or code) to the federation")
    p.add_argument("--add-sub-icb", action="append", metavar="SUB_ICB",
                   help="practice mapping or epraccur files: add the open GP practices of this sub-ICB (code, e.g. "
                        "91Q, or name) to the federation")
    p.add_argument("--add-practices", action="append", metavar="CODE,...",
                   help="practice mapping or epraccur files: add these practices (ODS codes, comma-separated; "
                        "repeatable) to the federation")
    p.add_argument("--add-indicators", action="store_true",
                   help="Fingertips files: add the file's indicators that are not in the catalogue to "
                        "federation.local.toml beside the federation config (name, unit and polarity from the file), "
                        "then import their practice rows as values")
    p.add_argument("--max-mb", type=float, help=f"largest file accepted, in MB (default {MAX_FILE_BYTES // 2**20})")
    p.add_argument("--as", dest="actor", metavar="EMAIL", help="who is importing (for the batch and the audit log)")
    p.add_argument("--verbose", action="store_true", help="show progress")
    p.set_defaults(func=cmd_import)
