"""Actions: what a board decided to do about something the dashboard showed, by whom and by when.

An action links to what raised it (a measure, a practice, a PCN, a CQC quality statement, an aim or an attention
item). Every change is kept in ``action_updates`` (who, when, what changed, a comment) and in the audit log.

Who may do what (``data_layer.scope.Viewer``):
* board members and administrators raise and update actions on every practice, and actions on no practice;
* a practice lead raises and updates actions on their own practice(s) only;
* the owner of an action may update it (unless their role is viewer);
* viewers read.
What each role reads: board and admins every action; practice leads and viewers the actions on no practice (the
federation, a PCN, an aim) and those on their own practices.

Overdue is derived, never stored: due before today and neither done nor dropped.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import Engine, and_, insert, or_, select, update

from .. import audit
from .. import models as m
from ..config import QUALITY_STATEMENTS, FederationConfig
from ..scope import Viewer

STATUSES: tuple[str, ...] = m.ACTION_STATUSES
STATUS_LABELS = {"open": "Open", "in_progress": "In progress", "done": "Done", "dropped": "Dropped"}
CLOSED = ("done", "dropped")
DUE_SOON_DAYS = 14
TITLE_MAX = 200
ALL_STATEMENTS = tuple(s for group in QUALITY_STATEMENTS.values() for s in group)
LINK_FIELDS = ("indicator_code", "practice_code", "pcn", "quality_statement", "aim_id", "attention_key")
FIELD_LABELS = {"title": "title", "description": "description", "owner_email": "owner", "due_on": "due date",
                "status": "status", "indicator_code": "measure", "practice_code": "practice", "pcn": "PCN",
                "quality_statement": "quality statement", "aim_id": "aim", "attention_key": "attention item"}
COLUMNS = ["id", "title", "status", "status_label", "overdue", "due_soon", "due_on", "owner_email", "practice_code",
           "indicator_code", "pcn", "quality_statement", "aim_id", "attention_key", "description", "created_by",
           "created_at", "updated_at"]
HISTORY_COLUMNS = ["at", "by", "what_changed", "comment"]


class ActionError(ValueError):
    """Bad input for an action; the message says what to fix, in plain words."""


class ActionRefused(ActionError):
    """The person's role does not let them do this."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def parse_status(status: str) -> str:
    """'open', 'in progress', 'in-progress', 'In_Progress', 'done', 'dropped' -> the stored status."""
    s = (status or "").strip().lower().replace("-", "_").replace(" ", "_")
    if s not in STATUSES:
        raise ActionError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    return s


def attention_key(kind: str, practice_code: str | None, indicator_code: str | None) -> str:
    """A stable key for a "what needs attention" item (kind, practice, measure), stored on the action it raised."""
    return ":".join([kind, practice_code or "", indicator_code or ""])[:200]


def is_overdue(due_on: date, status: str, today: date | None = None) -> bool:
    return status not in CLOSED and due_on < (today or date.today())


# --------------------------------------------------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------------------------------------------------
def may_raise(viewer: Viewer, practice_code: str | None) -> bool:
    """May this person raise an action on ``practice_code`` (None: on no single practice)?"""
    if viewer.role in ("admin", "board"):
        return True
    if viewer.role == "practice_lead":
        return practice_code is not None and practice_code in viewer.practice_codes
    return False


def may_update(viewer: Viewer, action: dict) -> bool:
    """May this person change ``action`` (a row from ``get_action``/``list_actions``)?"""
    if viewer.role == "viewer":
        return False
    if may_raise(viewer, action.get("practice_code")):
        return True
    return viewer.email.lower() == (action.get("owner_email") or "").lower()


def _readable(viewer: Viewer):
    """The WHERE clause for the actions this viewer may read."""
    if viewer.role in ("admin", "board"):
        return None
    return or_(m.Action.practice_code.is_(None), m.Action.practice_code.in_(viewer.practice_codes or ("",)),
               m.Action.owner_email == viewer.email.lower())


def _refuse_raise(viewer: Viewer, practice_code: str | None) -> None:
    if may_raise(viewer, practice_code):
        return
    who = viewer.email
    if viewer.role == "practice_lead":
        own = ", ".join(viewer.practice_codes) or "none"
        where = f"practice {practice_code}" if practice_code else "no single practice"
        raise ActionRefused(f"{who} is a practice lead and may raise actions only on their own practice ({own}), "
                            f"not on {where}")
    raise ActionRefused(f"{who} is a {viewer.label.lower()} and may read actions but not raise or change them")


# --------------------------------------------------------------------------------------------------------------------
# Checks on what an action links to
# --------------------------------------------------------------------------------------------------------------------
def owner_candidates(engine: Engine) -> pd.DataFrame:
    """Active users who may own an action (everyone but viewers, who only read): email, name, role."""
    with engine.connect() as conn:
        rows = conn.execute(select(m.User.email, m.User.name, m.User.role).where(
            m.User.active.is_(True), m.User.role != "viewer").order_by(m.User.email)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["email", "name", "role"])


def _check_owner(conn, email: str) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise ActionError("an action needs an owner: give the email of a user (--owner EMAIL)")
    row = conn.execute(select(m.User.role, m.User.active).where(m.User.email == email)).one_or_none()
    if row is None or not row.active:
        raise ActionError(f"unknown owner {email}: the owner must be a user who can sign in "
                          "(add them with: python -m data_layer users add EMAIL --role ROLE)")
    if row.role == "viewer":
        raise ActionError(f"{email} is a viewer and could not update the action; choose an owner who is a board "
                          "member, administrator or practice lead")
    return email


def _check_links(conn, config: FederationConfig, links: dict) -> dict:
    out = {k: _clean(links.get(k)) for k in LINK_FIELDS}
    if out["practice_code"]:
        out["practice_code"] = out["practice_code"].upper()
        if conn.execute(select(m.Practice.id).where(m.Practice.code == out["practice_code"])).first() is None:
            raise ActionError(f"unknown practice {out['practice_code']}: it is not one of the federation's practices")
    if out["indicator_code"]:
        out["indicator_code"] = out["indicator_code"].upper()
        if out["indicator_code"] not in config.indicator_codes:
            raise ActionError(f"unknown indicator {out['indicator_code']}: it is not in the federation config's "
                              "indicator catalogue (federation.toml)")
    if out["quality_statement"]:
        match = next((s for s in ALL_STATEMENTS if s.lower() == out["quality_statement"].lower()), None)
        if match is None:
            raise ActionError(f"unknown quality statement {out['quality_statement']!r}: use one of CQC's quality "
                              "statements, e.g. 'Governance, management and sustainability'")
        out["quality_statement"] = match
    if out["aim_id"] and out["aim_id"] not in {a.id for a in config.aims}:
        raise ActionError(f"unknown aim {out['aim_id']!r}: use one of {', '.join(a.id for a in config.aims)}")
    if out["pcn"]:
        pcns = set(conn.execute(select(m.Practice.pcn).where(m.Practice.pcn.is_not(None))).scalars())
        if out["pcn"] not in pcns:
            raise ActionError(f"unknown PCN {out['pcn']!r}: it is not the PCN of any of the federation's practices")
    return out


def _check_title(title: str | None) -> str:
    title = _clean(title)
    if not title:
        raise ActionError("an action needs a title (--title TEXT)")
    if len(title) > TITLE_MAX:
        raise ActionError(f"the title is {len(title)} characters long; keep it to {TITLE_MAX} "
                          "(put the detail in the description)")
    return title


def _check_due(due_on, today: date) -> date:
    if not isinstance(due_on, date):
        raise ActionError("an action needs a due date (YYYY-MM-DD)")
    if isinstance(due_on, datetime):
        due_on = due_on.date()
    if due_on < today:
        raise ActionError(f"the due date {due_on.isoformat()} is in the past; a new action is due today or later")
    return due_on


# --------------------------------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------------------------------
def _jsonable(v):
    return v.isoformat() if isinstance(v, date) else v


def add_action(engine: Engine, viewer: Viewer, config: FederationConfig, *, title: str, owner_email: str,
               due_on: date, description: str | None = None, practice_code: str | None = None,
               indicator_code: str | None = None, pcn: str | None = None, quality_statement: str | None = None,
               aim_id: str | None = None, attention_key: str | None = None, today: date | None = None) -> int:
    """Raise an action; returns its id. Refused (ActionError) with a plain message for bad input or a role that may
    not raise it. The first history entry says who raised it; the audit log records it in the same transaction."""
    today = today or date.today()
    title = _check_title(title)
    due_on = _check_due(due_on, today)
    with engine.begin() as conn:
        links = _check_links(conn, config, {"practice_code": practice_code, "indicator_code": indicator_code,
                                            "pcn": pcn, "quality_statement": quality_statement, "aim_id": aim_id,
                                            "attention_key": attention_key})
        _refuse_raise(viewer, links["practice_code"])
        owner = _check_owner(conn, owner_email)
        now = _now()
        values = {"title": title, "description": _clean(description), "owner_email": owner, "due_on": due_on,
                  "status": "open", **links, "created_by": viewer.email, "created_at": now, "updated_at": now}
        action_id = conn.execute(insert(m.Action).values(**values)).inserted_primary_key[0]
        raised = {k: [None, _jsonable(v)] for k, v in values.items()
                  if k in ("title", "owner_email", "due_on", "status", *LINK_FIELDS) and v is not None}
        conn.execute(insert(m.ActionUpdate).values(action_id=action_id, at=now, actor=viewer.email,
                                                   changes=json.dumps(raised), comment="Action raised"))
        audit.record(conn, viewer.email, "action_added", links["practice_code"],
                     f"action {action_id} {title!r}: owner {owner}, due {due_on.isoformat()}"
                     + "".join(f", {FIELD_LABELS[k]} {v}" for k, v in links.items() if v))
    return int(action_id)


def update_action(engine: Engine, viewer: Viewer, action_id: int, *, status: str | None = None,
                  comment: str | None = None, owner_email: str | None = None, due_on: date | None = None,
                  title: str | None = None, description: str | None = None) -> dict:
    """Change an action's status (and/or owner, due date, title, description) with a comment; returns what
    changed ({field: [old, new]}). A comment alone is kept as an update too. Refused with a plain message for an
    unknown action or status, nothing to change, or a role that may not change this action."""
    with engine.begin() as conn:
        row = conn.execute(select(m.Action).where(m.Action.id == action_id)).mappings().one_or_none()
        if row is None:
            raise ActionError(f"there is no action {action_id}")
        current = dict(row)
        if not may_update(viewer, current):
            if viewer.role == "viewer":
                raise ActionRefused(f"{viewer.email} is a viewer and may read actions but not change them")
            raise ActionRefused(f"{viewer.email} may not change action {action_id}: it is on practice "
                                f"{current['practice_code'] or '(none)'} and owned by {current['owner_email']}; "
                                "a practice lead changes only their own practice's actions or those they own")
        new: dict = {}
        if status is not None:
            new["status"] = parse_status(status)
        if owner_email is not None:
            new["owner_email"] = _check_owner(conn, owner_email)
        if due_on is not None:
            new["due_on"] = due_on
        if title is not None:
            new["title"] = _check_title(title)
        if description is not None:
            new["description"] = _clean(description)
        changes = {k: [_jsonable(current[k]), _jsonable(v)] for k, v in new.items() if current[k] != v}
        comment = _clean(comment)
        if not changes and not comment:
            raise ActionError(f"nothing to change on action {action_id}: its status is already "
                              f"{STATUS_LABELS[current['status']].lower()}; give another status or a comment")
        now = _now()
        if changes:
            conn.execute(update(m.Action).where(m.Action.id == action_id)
                         .values(**{k: new[k] for k in changes}, updated_at=now))
        else:
            conn.execute(update(m.Action).where(m.Action.id == action_id).values(updated_at=now))
        conn.execute(insert(m.ActionUpdate).values(action_id=action_id, at=now, actor=viewer.email,
                                                   changes=json.dumps(changes) if changes else None, comment=comment))
        audit.record(conn, viewer.email, "action_updated", current["practice_code"],
                     f"action {action_id} {current['title']!r}: " + (describe_changes(changes) or "comment added"))
    return changes


# --------------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------------
def _frame(rows, today: date, soon_days: int = DUE_SOON_DAYS) -> pd.DataFrame:
    records = []
    for r in rows:
        d = dict(r)
        d["status_label"] = STATUS_LABELS[d["status"]]
        d["overdue"] = is_overdue(d["due_on"], d["status"], today)
        d["due_soon"] = d["status"] not in CLOSED and today <= d["due_on"] <= today + timedelta(days=soon_days)
        records.append(d)
    df = pd.DataFrame(records, columns=COLUMNS)
    for c in df.columns:  # pandas 3 reads None in a text column as NaN: an action on no practice keeps None
        if pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["overdue"] = df["overdue"].astype(bool)
    df["due_soon"] = df["due_soon"].astype(bool)
    return df


def list_actions(engine: Engine, viewer: Viewer, *, status=None, practice_code: str | None = None,
                 indicator_code: str | None = None, quality_statement: str | None = None,
                 overdue: bool | None = None, practice_codes=None, today: date | None = None,
                 soon_days: int = DUE_SOON_DAYS) -> pd.DataFrame:
    """Actions this viewer may read, soonest due first, with ``overdue`` and ``due_soon`` worked out for ``today``.

    ``status``: one status or several; ``practice_code``: one practice; ``practice_codes``: actions on any of these
    practices or on no single practice (a sidebar filter); ``overdue``: True for overdue only, False for not overdue.
    """
    today = today or date.today()
    stmt = select(*[getattr(m.Action, c) for c in COLUMNS if hasattr(m.Action, c)])
    where = _readable(viewer)
    if where is not None:
        stmt = stmt.where(where)
    if status:
        wanted = [parse_status(s) for s in ([status] if isinstance(status, str) else status)]
        stmt = stmt.where(m.Action.status.in_(wanted))
    if practice_code:
        stmt = stmt.where(m.Action.practice_code == practice_code.strip().upper())
    if practice_codes:
        stmt = stmt.where(or_(m.Action.practice_code.is_(None), m.Action.practice_code.in_(tuple(practice_codes))))
    if indicator_code:
        stmt = stmt.where(m.Action.indicator_code == indicator_code)
    if quality_statement:
        stmt = stmt.where(m.Action.quality_statement == quality_statement)
    if overdue is True:
        stmt = stmt.where(and_(m.Action.due_on < today, m.Action.status.not_in(CLOSED)))
    elif overdue is False:
        stmt = stmt.where(or_(m.Action.due_on >= today, m.Action.status.in_(CLOSED)))
    stmt = stmt.order_by(m.Action.due_on, m.Action.id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return _frame(rows, today, soon_days)


def get_action(engine: Engine, viewer: Viewer, action_id: int, today: date | None = None) -> dict | None:
    """One action as a dict (with overdue/due_soon), or None when it does not exist or this viewer may not read it."""
    today = today or date.today()
    stmt = select(*[getattr(m.Action, c) for c in COLUMNS if hasattr(m.Action, c)]).where(m.Action.id == action_id)
    where = _readable(viewer)
    if where is not None:
        stmt = stmt.where(where)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    df = _frame(rows, today)
    return None if df.empty else df.iloc[0].to_dict()


def due_actions(engine: Engine, viewer: Viewer, *, practice_codes=None, indicator_code: str | None = None,
                practice_code: str | None = None, today: date | None = None,
                soon_days: int = DUE_SOON_DAYS) -> pd.DataFrame:
    """Open and in-progress actions that are overdue or due within ``soon_days`` days, overdue first."""
    df = list_actions(engine, viewer, status=("open", "in_progress"), practice_codes=practice_codes,
                      indicator_code=indicator_code, practice_code=practice_code, today=today, soon_days=soon_days)
    df = df[df["overdue"] | df["due_soon"]]
    return df.sort_values(["overdue", "due_on", "id"], ascending=[False, True, True]).reset_index(drop=True)


def describe_changes(changes: dict | None) -> str:
    """{'status': ['open', 'done']} -> 'status open → done' (in plain words, for history and the audit log)."""
    if not changes:
        return ""
    bits = []
    for field, (old, new) in changes.items():
        label = FIELD_LABELS.get(field, field)
        if field == "status":
            old, new = STATUS_LABELS.get(old, old), STATUS_LABELS.get(new, new)
        if old is None:
            bits.append(f"{label} {new}")
        else:
            bits.append(f"{label} {old} → {new if new is not None else '(none)'}")
    return "; ".join(bits)


def history(engine: Engine, viewer: Viewer, action_id: int) -> pd.DataFrame:
    """Every change to an action, oldest first: at, by, what_changed (in words), comment. Empty when the viewer may
    not read the action."""
    if get_action(engine, viewer, action_id) is None:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(select(m.ActionUpdate.at, m.ActionUpdate.actor, m.ActionUpdate.changes,
                                   m.ActionUpdate.comment).where(m.ActionUpdate.action_id == action_id)
                            .order_by(m.ActionUpdate.at, m.ActionUpdate.id)).all()
    return pd.DataFrame([(r.at, r.actor, describe_changes(json.loads(r.changes) if r.changes else None),
                          r.comment or "") for r in rows], columns=HISTORY_COLUMNS)


# --------------------------------------------------------------------------------------------------------------------
# For packs: the board pack's actions section and the inspection pack's evidence by quality statement
# --------------------------------------------------------------------------------------------------------------------
def _add_months(d: date, months: int) -> date:
    y, mo = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, mo + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def done_dates(engine: Engine, action_ids) -> dict[int, datetime]:
    """When each action was last marked done (from its history)."""
    ids = [int(i) for i in action_ids]
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(m.ActionUpdate.action_id, m.ActionUpdate.at, m.ActionUpdate.changes).where(
            m.ActionUpdate.action_id.in_(ids), m.ActionUpdate.changes.is_not(None))
            .order_by(m.ActionUpdate.at, m.ActionUpdate.id)).all()
    out: dict[int, datetime] = {}
    for action_id, at, changes in rows:
        status = json.loads(changes).get("status")
        if status and status[1] == "done":
            out[action_id] = at
    return out


def board_pack_actions(engine: Engine, viewer: Viewer, as_at: date, since: date | None = None,
                       next_meeting: date | None = None, practice_codes=None) -> dict[str, pd.DataFrame]:
    """The board pack's actions section, as at ``as_at`` (the meeting, or the day the pack is made):

    * ``overdue``: open or in progress and due before ``as_at``;
    * ``due_before_next``: open or in progress, due from ``as_at`` up to ``next_meeting`` (default a month later);
    * ``done_since_last``: marked done on or after ``since`` (default a month earlier), with ``done_at``.
    Each is a ``list_actions`` frame (``done_since_last`` adds ``done_at``), soonest due first."""
    since = since or _add_months(as_at, -1)
    next_meeting = next_meeting or _add_months(as_at, 1)
    live = list_actions(engine, viewer, status=("open", "in_progress"), practice_codes=practice_codes, today=as_at)
    overdue = live[live["due_on"] < as_at].reset_index(drop=True)
    due = live[(live["due_on"] >= as_at) & (live["due_on"] <= next_meeting)].reset_index(drop=True)
    done = list_actions(engine, viewer, status="done", practice_codes=practice_codes, today=as_at)
    when = done_dates(engine, done["id"])
    done = done.assign(done_at=[when.get(int(i)) for i in done["id"]])
    start = datetime.combine(since, datetime.min.time())
    done = done[done["done_at"].map(lambda t: t is not None and t >= start)].reset_index(drop=True)
    return {"overdue": overdue, "due_before_next": due, "done_since_last": done}


def actions_by_statement(engine: Engine, viewer: Viewer, practice_codes=None) -> pd.DataFrame:
    """Actions linked to a CQC quality statement, by key question and statement (the inspection pack's evidence of
    governance, learning and improvement): a ``list_actions`` frame with ``key_question`` first."""
    df = list_actions(engine, viewer, practice_codes=practice_codes)
    df = df[df["quality_statement"].notna()].copy()
    kq = {s: k for k, group in QUALITY_STATEMENTS.items() for s in group}
    order = {s: i for i, s in enumerate(ALL_STATEMENTS)}
    df.insert(0, "key_question", [kq[s] for s in df["quality_statement"]])
    df["_order"] = [order[s] for s in df["quality_statement"]]
    return df.sort_values(["_order", "due_on", "id"]).drop(columns="_order").reset_index(drop=True)
