"""Command line: ``python -m data_layer <command>``.

Exit codes: 0 success, 2 bad input (with a message saying what and where), 1 anything else.
Later issues add ``import``, ``export`` and ``users`` by registering sub-commands in ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Callable

from .config import ConfigError, load_config
from .db import database_url, get_engine, is_empty


class UsageError(Exception):
    """Bad input from the user: exit code 2."""


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _summary_line(s) -> str:
    secs = sum(s.seconds.values())
    return (f"{s.practices} practices, {s.staff} staff, {s.training_completions:,} training completions, "
            f"{s.fft_responses:,} FFT responses, {s.indicator_values:,} indicator values, {s.complaints:,} complaints, "
            f"{s.significant_events:,} significant events in {secs:.1f} s")


def cmd_init(args) -> int:
    from . import demo

    config = load_config()
    engine = get_engine()
    if args.empty:
        print(f"Database ready (schema at the newest revision): {engine.url.render_as_string(hide_password=True)}")
        return 0
    if not args.force and not is_empty(engine) and not demo.is_demo(engine):
        raise UsageError("the database already holds a federation's data; --demo would replace it. "
                         "Use an empty database, or add --force if you really mean to replace it.")
    summary = demo.build(engine, config, progress=_say)
    print("Demo federation built: " + _summary_line(summary))
    return 0


def cmd_demo(args) -> int:
    from . import demo

    if args.practices < 1 or args.months < 2:
        raise UsageError("--practices must be at least 1 and --months at least 2")
    config = load_config()
    engine = get_engine()
    if not args.force and not is_empty(engine) and not demo.is_demo(engine):
        raise UsageError("the database already holds a federation's data; refusing to replace it with demo data "
                         "(use an empty database, or --force).")
    summary = demo.build(engine, config, n_practices=args.practices, months=args.months, seed=args.seed,
                         progress=_say)
    print("Demo federation built: " + _summary_line(summary))
    print("Timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items()))
    return 0


def cmd_status(args) -> int:
    from .status import database_status

    status = database_status(get_engine())
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True))
        return 0
    print(f"Database: {status['backend']}")
    for name, entry in status["datasets"].items():
        span = f"  {entry['from']} – {entry['to']}" if "from" in entry else ""
        print(f"  {name:<22}{entry['rows']:>12,}{span}")
    if status["last_import"]:
        print("Last import per kind:")
        for kind, b in status["last_import"].items():
            print(f"  {kind:<22}{b['at']}  {b['file']}  by {b['by']}")
    return 0


def cmd_users(args) -> int:
    from .users import UserError, list_users, remove_user, save_user

    engine = get_engine()
    actor = args.actor or "cli"
    try:
        if args.action == "add":
            practices = [c for group in (args.practice or []) for c in group.split(",")]
            outcome = save_user(engine, args.email, args.role, practices, name=args.name, actor=actor)
            print(f"User {args.email.strip().lower()} {outcome}: {args.role}"
                  + (f" for {', '.join(sorted(set(p.strip().upper() for p in practices)))}" if practices else ""))
        elif args.action == "remove":
            remove_user(engine, args.email, actor=actor)
            print(f"User {args.email.strip().lower()} removed")
        else:
            users = list_users(engine)
            if args.json:
                print(users.to_json(orient="records", indent=2))
            elif users.empty:
                print("No users yet. Add one: python -m data_layer users add EMAIL --role admin")
            else:
                print(users.to_string(index=False))
    except UserError as exc:
        raise UsageError(str(exc)) from exc
    return 0


def _register_users(sub) -> None:
    p = sub.add_parser("users", help="add, change, remove and list the people who may sign in")
    users = p.add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="add a user, or change an existing user's role and practices")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=["admin", "board", "practice_lead", "viewer"])
    add.add_argument("--practice", action="append", metavar="CODE", help="practice code (repeat, or comma-separate)")
    add.add_argument("--name")
    rm = users.add_parser("remove", help="remove a user")
    rm.add_argument("email")
    ls = users.add_parser("list", help="list users")
    ls.add_argument("--json", action="store_true")
    for q in (add, rm, ls):
        q.add_argument("--as", dest="actor", metavar="EMAIL", help="who is making the change (for the audit log)")
    p.set_defaults(func=cmd_users)


COMMANDS: dict[str, Callable] = {"users": _register_users}


def _register_import(sub) -> None:
    from .imports.cli import register

    register(sub)


COMMANDS["import"] = _register_import


def _register_export(sub) -> None:
    from .exports.cli import register

    register(sub)


COMMANDS["export"] = _register_export

from .governance.cli import register_actions, register_notes  # noqa: E402

COMMANDS["actions"] = register_actions
COMMANDS["notes"] = register_notes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data_layer",
                                     description="Federation governance dashboard: data commands.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the schema; with --demo, build the fictional demo federation")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--demo", action="store_true", help="build the demo federation (default)")
    g.add_argument("--empty", action="store_true", help="only create the schema")
    p.add_argument("--force", action="store_true", help="replace existing non-demo data")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="build a demo federation of any size (for benchmarks)")
    p.add_argument("--practices", type=int, default=11)
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--force", action="store_true", help="replace existing non-demo data")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("status", help="counts per dataset, periods covered, last import per kind")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    for register in COMMANDS.values():
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage already; keep its code
        return int(exc.code or 0)
    try:
        return args.func(args)
    except (UsageError, ConfigError) as exc:
        _say(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI reports, a cron job sees exit 1
        _say(f"error: unexpected failure: {type(exc).__name__}: {exc}")
        return 1
