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

from sqlalchemy.exc import OperationalError

from .config import ConfigError, load_config
from .db import SchemaError, UpgradeBusy, create_if_new, database_url, get_engine, make_engine


from .cli_common import UsageError  # noqa: F401  (sub-commands import it from cli_common)
from .cli_common import say as _say


def _summary_line(s) -> str:
    secs = sum(s.seconds.values())
    return (f"{s.practices} practices, {s.staff} staff, {s.training_completions:,} training completions, "
            f"{s.fft_responses:,} FFT responses, {s.indicator_values:,} indicator values, {s.complaints:,} complaints, "
            f"{s.significant_events:,} significant events in {secs:.1f} s")


def _create_if_new() -> bool:
    engine = make_engine()
    try:
        return create_if_new(engine)
    finally:
        engine.dispose()


def cmd_init(args) -> int:
    from . import demo

    config = load_config()
    created = _create_if_new()  # only a brand-new database; an older schema needs `db upgrade`
    engine = get_engine()
    if args.empty:
        print(("Schema created" if created else "Database ready") + " (at the newest revision): "
              + engine.url.render_as_string(hide_password=True))
        return 0
    refusal = None if args.force else demo.replace_refusal(engine)
    if refusal:
        raise UsageError(refusal + " --demo would delete them. Use an empty database, or add --force if you "
                         "really mean to replace them.")
    summary = demo.build(engine, config, progress=_say)
    print("Demo federation built: " + _summary_line(summary))
    return 0


def cmd_demo(args) -> int:
    from . import demo

    if args.practices < 1 or args.months < 2:
        raise UsageError("--practices must be at least 1 and --months at least 2")
    config = load_config()
    _create_if_new()
    engine = get_engine()
    refusal = None if args.force else demo.replace_refusal(engine)
    if refusal:
        raise UsageError(refusal + " Refusing to replace them with demo data (use an empty database, or --force).")
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

    from .audit import ActorError, cli_actor

    engine = get_engine()
    try:
        actor = cli_actor(engine, args.actor, roles=("admin",))
    except ActorError as exc:
        raise UsageError(str(exc)) from exc
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
        q.add_argument("--as", dest="actor", metavar="EMAIL",
                       help="who is making the change, for the audit log. Self-declared (the command line has no "
                            "sign-in): it must be an active user, and the audit row also names the operating-system "
                            "account that ran the command (cli:<account>)")
    p.set_defaults(func=cmd_users)


COMMANDS: dict[str, Callable] = {"users": _register_users}


def cmd_db(args) -> int:
    from .db import SchemaState, head_revision, schema_state, upgrade

    engine = make_engine()
    try:
        if args.action == "upgrade":
            before, after = upgrade(engine, wait=not args.no_wait)
            if before == after:
                print(f"Schema already at the newest revision ({after}): nothing to do.")
            else:
                print(f"Schema upgraded from {before or 'an empty database'} to {after} (the newest revision).")
            return 0
        state: SchemaState = schema_state(engine)
        if args.json:
            print(json.dumps({"status": state.status, "revision": state.revision, "head": head_revision()}))
        else:
            print(f"{state.revision or 'none'} ({state.status}; newest {state.head})")
            if not state.ok:
                _say(state.message)
        return 0
    finally:
        engine.dispose()


def _register_db(sub) -> None:
    p = sub.add_parser("db", help="the database schema: upgrade it to the newest revision, or show where it is")
    db = p.add_subparsers(dest="action", required=True)
    up = db.add_parser("upgrade", help="bring the schema to the newest revision (run after installing a new version,"
                                       " before starting the app servers)")
    up.add_argument("--no-wait", action="store_true",
                    help="fail at once (exit 2) if another process is upgrading, instead of waiting for it")
    cur = db.add_parser("current", help="print the schema revision and whether it is the newest")
    cur.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_db)


COMMANDS["db"] = _register_db


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


def _register_evidence(sub) -> None:
    from .evidence_cli import register

    register(sub)


COMMANDS["evidence"] = _register_evidence


def _register_digest(sub) -> None:
    from .governance.digest import register

    register(sub)


COMMANDS["digest"] = _register_digest


def cmd_refresh(args) -> int:
    from .measures import refresh as measures

    config = load_config()
    engine = get_engine()
    why = measures.stale_reason(engine)
    started = time.perf_counter()
    result = measures.refresh(engine, config, reason="python -m data_layer refresh" + (f" (after: {why})" if why else ""),
                              progress=_say)
    print(f"Figures worked out again in {time.perf_counter() - started:.1f} s: {result.derived_values:,} derived "
          f"indicator values, {result.values:,} figures and {result.evaluations:,} judgements"
          + (f" (the store was out of date after: {why})" if why else "") + ".")
    return 0


def _register_refresh(sub) -> None:
    p = sub.add_parser("refresh", help="work out every figure again from the raw data (the measure store); imports "
                                       "do this themselves, and a refresh that was interrupted is finished by this")
    p.set_defaults(func=cmd_refresh)


COMMANDS["refresh"] = _register_refresh


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
    except (UsageError, ConfigError, SchemaError, UpgradeBusy) as exc:
        _say(f"error: {exc}")
        return 2
    except OperationalError as exc:
        _say("error: the database is not reachable: " + str(getattr(exc, "orig", exc)).strip().splitlines()[0]
             + " (check DATABASE_URL and that the database server is running, then try again)")
        return 1
    except KeyboardInterrupt:
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI reports, a cron job sees exit 1
        _say(f"error: unexpected failure: {type(exc).__name__}: {exc}")
        return 1
