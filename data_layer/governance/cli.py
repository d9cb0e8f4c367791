"""``python -m data_layer actions ...`` and ``python -m data_layer notes ...`` (registered in data_layer.cli).

Exit 2 with a plain message for bad input: an unknown owner, practice, indicator or status, a past due date on a new
action, or a role that may not act. ``--as EMAIL`` names the user acting (their role decides what they may do);
without it the command acts as the operator at the command line, with an administrator's rights, audited as 'cli'.
"""
from __future__ import annotations

import json
from datetime import date

from ..scope import Viewer

CLI_OPERATOR = Viewer(email="cli", role="admin", name="Command line")


def _usage(message: str):
    from ..cli_common import UsageError

    return UsageError(message)


def _actor(engine, email: str | None) -> Viewer:
    if not email:
        return CLI_OPERATOR
    from ..users import find_viewer

    viewer = find_viewer(engine, email)
    if viewer is None:
        raise _usage(f"--as {email}: no active user has that email (add them with: python -m data_layer users add "
                     "EMAIL --role ROLE)")
    return viewer


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise _usage(f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31") from None


def _json_records(df) -> str:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype).startswith("datetime"):
            out[c] = out[c].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return json.dumps(out.astype(object).where(out.notna(), None).to_dict("records"), indent=2, default=str)


# --------------------------------------------------------------------------------------------------------------------
# actions
# --------------------------------------------------------------------------------------------------------------------
def cmd_actions(args) -> int:
    from ..config import load_config
    from ..db import get_engine
    from . import actions as act

    engine = get_engine()
    try:
        if args.action == "add":
            viewer = _actor(engine, args.actor)
            action_id = act.add_action(
                engine, viewer, load_config(), title=args.title, owner_email=args.owner,
                due_on=_date(args.due, "--due"), description=args.description, practice_code=args.practice,
                indicator_code=args.indicator, quality_statement=args.statement, pcn=args.pcn, aim_id=args.aim,
                attention_key=args.attention)
            print(f"Action {action_id} raised: {args.title.strip()} (owner {args.owner.strip().lower()}, "
                  f"due {args.due})")
        elif args.action == "update":
            viewer = _actor(engine, args.actor)
            changes = act.update_action(engine, viewer, args.id, status=args.status, comment=args.comment,
                                        owner_email=args.owner,
                                        due_on=_date(args.due, "--due") if args.due else None)
            print(f"Action {args.id} updated: " + (act.describe_changes(changes) or "comment added"))
        else:
            viewer = _actor(engine, args.actor)
            if args.status:
                act.parse_status(args.status)
            if args.practice:
                _known_practice(engine, args.practice)
            df = act.list_actions(engine, viewer, status=args.status, practice_code=args.practice)
            if args.json:
                print(_json_records(df.drop(columns=["status_label", "due_soon"])))
            elif df.empty:
                print("No actions" + (" with those filters" if args.status or args.practice else " yet") + ".")
            else:
                shown = df.assign(overdue=df["overdue"].map({True: "overdue", False: ""}))[
                    ["id", "status_label", "overdue", "due_on", "owner_email", "practice_code", "indicator_code",
                     "title"]].rename(columns={"status_label": "status", "due_on": "due", "owner_email": "owner",
                                               "practice_code": "practice", "indicator_code": "indicator"})
                print(shown.fillna("").to_string(index=False))
    except act.ActionError as exc:
        raise _usage(str(exc)) from exc
    return 0


def _known_practice(engine, code: str) -> None:
    from sqlalchemy import select

    from .. import models as m

    with engine.connect() as conn:
        if conn.execute(select(m.Practice.id).where(m.Practice.code == code.strip().upper())).first() is None:
            raise _usage(f"unknown practice {code.strip().upper()}: it is not one of the federation's practices")


def register_actions(sub) -> None:
    p = sub.add_parser("actions", help="raise, update and list the board's actions")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="raise an action")
    add.add_argument("--title", required=True)
    add.add_argument("--owner", required=True, metavar="EMAIL", help="the user who owns the action")
    add.add_argument("--due", required=True, metavar="YYYY-MM-DD")
    add.add_argument("--description")
    add.add_argument("--practice", metavar="CODE")
    add.add_argument("--indicator", metavar="CODE", help="the measure that raised it (from federation.toml)")
    add.add_argument("--statement", metavar="TEXT", help="the CQC quality statement it is evidence for")
    add.add_argument("--pcn", metavar="NAME")
    add.add_argument("--aim", metavar="ID")
    add.add_argument("--attention", metavar="KEY", help="the 'what needs attention' item that raised it")
    up = actions.add_parser("update", help="change an action's status, with a comment")
    up.add_argument("id", type=int)
    up.add_argument("--status", metavar="S", help="open, in_progress, done or dropped")
    up.add_argument("--comment", metavar="TEXT")
    up.add_argument("--owner", metavar="EMAIL")
    up.add_argument("--due", metavar="YYYY-MM-DD")
    ls = actions.add_parser("list", help="list actions")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--practice", metavar="CODE")
    ls.add_argument("--status", metavar="S")
    for q in (add, up, ls):
        q.add_argument("--as", dest="actor", metavar="EMAIL", help="the user acting (their role decides what they "
                                                                    "may do; recorded in the audit log)")
    p.set_defaults(func=cmd_actions)


# --------------------------------------------------------------------------------------------------------------------
# notes
# --------------------------------------------------------------------------------------------------------------------
def cmd_notes(args) -> int:
    from ..config import load_config
    from ..db import get_engine
    from . import notes

    engine = get_engine()
    try:
        if args.action == "add":
            viewer = _actor(engine, args.actor)
            note_id = notes.add_note(engine, viewer, load_config(), indicator_code=args.indicator, month=args.month,
                                     text=args.text, practice_code=args.practice, rebase=args.rebase)
            print(f"Note {note_id} added to {args.indicator.strip().upper()} {args.month}"
                  + (f" at {args.practice.strip().upper()}" if args.practice else " (every practice)")
                  + (": the SPC limits restart from this month" if args.rebase else ""))
        elif args.action == "remove":
            viewer = _actor(engine, args.actor)
            notes.remove_note(engine, viewer, args.id)
            print(f"Note {args.id} removed")
        else:
            df = notes.list_notes(engine, indicator_code=(args.indicator or "").strip().upper() or None)
            if args.json:
                print(_json_records(df))
            elif df.empty:
                print("No notes yet.")
            else:
                shown = df.assign(month=df["month"].map(lambda d: f"{d:%Y-%m}"),
                                  practice_code=df["practice_code"].fillna("(all)"),
                                  rebase=df["rebase"].map({True: "rebase", False: ""}))
                print(shown[["id", "indicator_code", "practice_code", "month", "rebase", "created_by", "text"]]
                      .rename(columns={"indicator_code": "indicator", "practice_code": "practice"})
                      .to_string(index=False))
    except notes.NoteError as exc:
        raise _usage(str(exc)) from exc
    return 0


def register_notes(sub) -> None:
    p = sub.add_parser("notes", help="add, remove and list notes on the charts (a rebase note restarts the limits)")
    notes = p.add_subparsers(dest="action", required=True)
    add = notes.add_parser("add", help="add a note to a measure's charts")
    add.add_argument("--indicator", required=True, metavar="CODE")
    add.add_argument("--practice", metavar="CODE", help="only this practice's charts (default: every chart)")
    add.add_argument("--month", required=True, metavar="YYYY-MM")
    add.add_argument("--text", required=True, metavar="T")
    add.add_argument("--rebase", action="store_true", help="recalculate the SPC limits from this month")
    rm = notes.add_parser("remove", help="remove a note")
    rm.add_argument("id", type=int)
    ls = notes.add_parser("list", help="list notes")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--indicator", metavar="CODE")
    for q in (add, rm):
        q.add_argument("--as", dest="actor", metavar="EMAIL", help="the user acting (recorded in the audit log)")
    p.set_defaults(func=cmd_notes)
