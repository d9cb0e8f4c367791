"""``python -m data_layer evidence add|list|update|get`` (registered in data_layer.cli).

Exit 2 with a plain message for bad input: an unknown quality statement, type, practice or owner, a file the register
does not keep (wrong type by its content, too large), a date in the wrong form, or a role that may not act.
``--as EMAIL`` names the user acting (their role decides what they may do, as on the Evidence register page); without
it the command acts as the operator at the command line, with an administrator's rights, audited as 'cli'.
"""
from __future__ import annotations

from pathlib import Path

from .governance.cli import _actor, _date, _json_records, _known_practice, _usage


def _read(path: str) -> tuple[bytes, str]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise _usage(f"--file {path}: no such file")
    return p.read_bytes(), p.name


def cmd_evidence(args) -> int:
    from . import evidence as ev
    from .db import get_engine

    engine = get_engine()
    try:
        viewer = _actor(engine, args.actor)
        if args.action == "add":
            data, name = _read(args.file) if args.file else (None, None)
            item_id = ev.add_evidence(
                engine, viewer, title=args.title, quality_statement=args.statement, document_type=args.type,
                evidence_category=args.category, owner_email=args.owner, dated=_date(args.dated, "--dated"),
                review_due=_date(args.review_due, "--review-due") if args.review_due else None,
                practice_code=args.practice, description=args.description, file_bytes=data, file_name=name,
                link=args.link)
            print(f"Evidence {item_id} added: {args.title.strip()} ({ev.parse_statement(args.statement)[1]}"
                  + (f", practice {args.practice.strip().upper()}" if args.practice else ", federation-wide") + ")")
        elif args.action == "update":
            data, name = _read(args.file) if args.file else (None, None)
            kwargs = {}
            if args.review_due:
                kwargs["review_due"] = _date(args.review_due, "--review-due")
            elif args.no_review:
                kwargs["review_due"] = None
            changes = ev.update_evidence(
                engine, viewer, args.id, title=args.title, owner_email=args.owner,
                dated=_date(args.dated, "--dated") if args.dated else None, file_bytes=data, file_name=name,
                link=args.link, withdrawn=True if args.withdraw else None, **kwargs)
            print(f"Evidence {args.id} updated: " + ev.describe_changes(changes))
        elif args.action == "get":
            f = ev.open_file(engine, viewer, args.id)
            out = Path(args.out).expanduser()
            if out.is_dir():
                out = out / f.file_name
            out.write_bytes(f.data)
            print(f"Evidence {args.id} ({f.title}) written to {out} ({len(f.data):,} bytes, {f.mime})")
        else:
            if args.practice:
                _known_practice(engine, args.practice)
            codes = (args.practice.strip().upper(),) if args.practice else None
            if viewer.role == "viewer":
                df = ev.summary(engine, viewer, codes)
                print(df[df["held"] > 0].to_string(index=False) if (df["held"] > 0).any() else "No evidence held.")
                return 0
            df = ev.list_evidence(engine, viewer, practice_codes=codes, overdue=True if args.overdue else None,
                                  quality_statement=args.statement, include_withdrawn=args.withdrawn)
            if args.json:
                print(_json_records(df))
            elif df.empty:
                print("No evidence" + (" with those filters" if args.practice or args.overdue or args.statement
                                       else " held yet") + ".")
            else:
                shown = df[["id", "where", "key_question", "quality_statement", "type_label", "title", "dated",
                            "review_due", "review_status", "held_as"]].rename(columns={
                                "where": "held for", "key_question": "key question",
                                "quality_statement": "statement", "type_label": "type", "review_due": "review due",
                                "review_status": "status", "held_as": "held as"})
                print(shown.fillna("").to_string(index=False))
    except ev.EvidenceError as exc:
        raise _usage(str(exc)) from exc
    return 0


def register(sub) -> None:
    p = sub.add_parser("evidence", help="the evidence register: add, list, update and get documents held for CQC's "
                                        "quality statements")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a document (a file or a link)")
    add.add_argument("--title", required=True)
    add.add_argument("--statement", required=True, metavar="TEXT", help="the CQC quality statement, e.g. 'Safe "
                                                                         "environments'")
    add.add_argument("--type", required=True, metavar="TYPE", help="policy, risk assessment, audit, meeting "
                                                                   "minutes, certificate, report or other")
    add.add_argument("--category", metavar="TEXT", help="CQC evidence category: people's experience, feedback from "
                                                        "staff and leaders, feedback from partners, processes, "
                                                        "outcomes (default: the type's usual one)")
    add.add_argument("--owner", required=True, metavar="EMAIL", help="the user who owns the document")
    add.add_argument("--dated", required=True, metavar="YYYY-MM-DD", help="when it was approved, carried out or held")
    add.add_argument("--review-due", metavar="YYYY-MM-DD")
    add.add_argument("--practice", metavar="CODE", help="the practice it is held for (default: federation-wide)")
    add.add_argument("--description")
    held = add.add_mutually_exclusive_group(required=True)
    held.add_argument("--file", metavar="PATH")
    held.add_argument("--link", metavar="URL")
    up = actions.add_parser("update", help="record a review, a new version, a new owner, or withdraw it")
    up.add_argument("id", type=int)
    up.add_argument("--title")
    up.add_argument("--owner", metavar="EMAIL")
    up.add_argument("--dated", metavar="YYYY-MM-DD")
    review = up.add_mutually_exclusive_group()
    review.add_argument("--review-due", metavar="YYYY-MM-DD")
    review.add_argument("--no-review", action="store_true", help="clear the review date")
    new = up.add_mutually_exclusive_group()
    new.add_argument("--file", metavar="PATH")
    new.add_argument("--link", metavar="URL")
    up.add_argument("--withdraw", action="store_true")
    get = actions.add_parser("get", help="write a stored document to a file (audited)")
    get.add_argument("id", type=int)
    get.add_argument("--out", required=True, metavar="PATH")
    ls = actions.add_parser("list", help="list the register (a viewer: counts only)")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--practice", metavar="CODE")
    ls.add_argument("--statement", metavar="TEXT")
    ls.add_argument("--overdue", action="store_true", help="only documents overdue for review")
    ls.add_argument("--withdrawn", action="store_true", help="include withdrawn documents")
    for q in (add, up, get, ls):
        q.add_argument("--as", dest="actor", metavar="EMAIL", help="the user acting (their role decides what they "
                                                                    "may do; recorded in the audit log)")
    p.set_defaults(func=cmd_evidence)
