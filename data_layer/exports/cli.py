"""``python -m data_layer export inspection``: a CQC evidence pack from the command line (registered in
``data_layer.cli.COMMANDS``). Exit 2 with a message for an unknown practice, an unknown ``--as`` user, a refused
export or a period without data."""
from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path


def _period(text: str | None) -> date | None:
    from ..cli_common import UsageError

    if text is None:
        return None
    mt = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not mt or not 1 <= int(mt.group(2)) <= 12:
        raise UsageError(f"--period-end must be a month written YYYY-MM, e.g. 2026-03 (got {text!r})")
    return date(int(mt.group(1)), int(mt.group(2)), 1)


def cmd_export_inspection(args) -> int:
    from ..cli_common import UsageError
    from ..config import load_config
    from ..db import get_engine
    from ..scope import SYSTEM, AccessDenied
    from ..users import find_viewer
    from . import FORMATS, NoData, UnknownPractice, export_inspection, file_name
    from .pdf import FontsMissing

    period_end = _period(args.period_end)
    engine = get_engine()
    config = load_config()
    if args.actor:
        viewer = find_viewer(engine, args.actor)
        if viewer is None:
            raise UsageError(f"--as {args.actor}: no active user with that email "
                             "(add one with `python -m data_layer users add EMAIL --role ...`)")
    else:
        viewer = SYSTEM
    out = Path(args.out)
    if out.exists() and out.is_dir():
        into_dir = True
    elif str(args.out).endswith(("/", "\\")):
        raise UsageError(f"--out {args.out}: that folder does not exist")
    else:
        into_dir = False
        if not out.parent.exists():
            raise UsageError(f"--out {args.out}: the folder {out.parent} does not exist")
    practice = None if args.federation else args.practice
    try:
        result = export_inspection(engine, config, viewer, practice, args.format, period_end,
                                   channel="command line")
    except UnknownPractice as exc:
        raise UsageError(f"--practice {args.practice}: {exc}") from exc
    except NoData as exc:
        raise UsageError(str(exc)) from exc
    except AccessDenied as exc:
        raise UsageError(f"refused: {exc}") from exc
    except FontsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    path = out / file_name(result.pack, args.format) if into_dir else out
    path.write_bytes(result.content)
    print(f"Wrote {path} ({len(result.content) / 1024:,.0f} KB, {FORMATS[args.format][2]}) in "
          f"{result.seconds:.1f} s: CQC evidence pack for {result.pack.scope_name}, {result.pack.period_words}. "
          f"Export recorded in the audit log as {viewer.email}.")
    return 0


def cmd_export_board_pack(args) -> int:
    """``export board-pack``: the monthly board pack (board members and administrators only)."""
    from ..cli_common import UsageError
    from ..config import load_config
    from ..db import get_engine
    from ..scope import SYSTEM, AccessDenied
    from ..users import find_viewer
    from .board_pack import FORMATS, export_board_pack
    from .pack_model import NoData
    from .pdf import FontsMissing

    period_end = _period(args.period_end)
    engine = get_engine()
    viewer = SYSTEM
    if args.actor:
        viewer = find_viewer(engine, args.actor)
        if viewer is None:
            raise UsageError(f"--as {args.actor}: no active user with that email "
                             "(add one with `python -m data_layer users add EMAIL --role ...`)")
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {args.out}: that is a folder; give the file to write, e.g. {out / 'board.pdf'}")
    if not out.parent.exists():
        raise UsageError(f"--out {args.out}: the folder {out.parent} does not exist")
    try:
        result = export_board_pack(engine, load_config(), viewer, args.format, period_end, channel="command line")
    except NoData as exc:
        raise UsageError(str(exc)) from exc
    except AccessDenied as exc:
        raise UsageError(f"refused: {exc}") from exc
    except FontsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out.write_bytes(result.content)
    print(f"Wrote {out} ({len(result.content) / 1024:,.0f} KB, {FORMATS[args.format][2]}) in {result.seconds:.1f} s: "
          f"board pack for {result.pack.federation_name}, {result.pack.period_words}. Export recorded in the audit "
          f"log as {viewer.email}.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export", help="export evidence packs (CQC inspection)")
    kinds = p.add_subparsers(dest="export_kind", required=True)
    q = kinds.add_parser("inspection", help="a CQC inspection evidence pack for a practice or the federation",
                         description="Build a CQC inspection evidence pack (12 months to --period-end, default "
                                     "the newest month with data) and write it to --out.")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--practice", metavar="CODE", help="the practice's ODS code, e.g. Z90001")
    who.add_argument("--federation", action="store_true", help="the whole federation (admins and board members)")
    q.add_argument("--format", required=True, choices=["pdf", "xlsx", "csv"],
                   help="pdf, xlsx (Excel) or csv (a zip of CSV files)")
    q.add_argument("--period-end", metavar="YYYY-MM", help="the last month of the 12 (default: the newest)")
    q.add_argument("--out", required=True, metavar="PATH", help="file to write, or an existing folder")
    q.add_argument("--as", dest="actor", metavar="EMAIL",
                   help="export as this user (their access applies and the audit log names them); default: the "
                        "system administrator identity")
    q.set_defaults(func=cmd_export_inspection)
    b = kinds.add_parser("board-pack", help="the monthly board pack (board members and administrators)",
                         description="Build the monthly board pack for --period-end (default the newest month with "
                                     "figures), compared with the month before, and write it to --out.")
    b.add_argument("--format", required=True, choices=["pdf", "xlsx"], help="pdf or xlsx (Excel)")
    b.add_argument("--period-end", metavar="YYYY-MM", help="the pack's month (default: the newest)")
    b.add_argument("--out", required=True, metavar="PATH", help="the file to write")
    b.add_argument("--as", dest="actor", metavar="EMAIL",
                   help="export as this user (a board member or administrator; the audit log names them); default: "
                        "the system administrator identity")
    b.set_defaults(func=cmd_export_board_pack)
