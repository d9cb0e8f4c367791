"""The audit trail: sign-ins, imports, exports (pack files and page downloads of person-level data), user and role
changes. Append-only: the application inserts rows and never updates or deletes them, and the database refuses to
(migration 0005: triggers on SQLite and PostgreSQL).

Who did it: the signed-in email in the app. On the command line there is no sign-in, so ``--as EMAIL`` is
self-declared: :func:`cli_actor` accepts it only for an active user and records the operating-system account beside
it (``ops@nhs.net (cli:alice)``), so the row says both who was claimed and who ran the command."""
from __future__ import annotations

import getpass
import io
import os
from datetime import date, datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import Connection, Engine, insert, or_, select

from . import models as m
from .scope import AccessDenied, Viewer

ACTIONS = ("sign_in", "sign_in_refused", "import", "import_refused", "export", "user_added", "user_changed",
           "user_removed", "demo_built", "action_added", "action_updated", "note_added", "note_removed", "digest_sent",
           "evidence_added", "evidence_updated", "evidence_opened", "catalogue_added")
COLUMNS = ["at", "actor", "action", "practice_code", "detail"]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record(target: Engine | Connection, actor: str, action: str, practice_code: str | None = None,
           detail: str | None = None) -> None:
    """Append one event. Pass a Connection to write inside the caller's transaction (so an import and its audit row
    commit or roll back together), or an Engine for a standalone event."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    stmt = insert(m.AuditEvent).values(at=_now(), actor=actor, action=action, practice_code=practice_code,
                                       detail=detail)
    if isinstance(target, Connection):
        target.execute(stmt)
    else:
        with target.begin() as conn:
            conn.execute(stmt)


class ActorError(ValueError):
    """``--as EMAIL`` names nobody who may use the dashboard."""


def os_account() -> str:
    """``cli:<operating-system account>`` of the process (``cli:unknown`` when the system cannot say)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name (e.g. a container without a passwd entry)
        return f"cli:uid {os.getuid()}" if hasattr(os, "getuid") else "cli:unknown"


def cli_actor(target: Engine | Connection, claimed: str | None, roles: tuple[str, ...] | None = None) -> str:
    """The actor to record for a command-line action. Without ``--as``: ``cli:<os account>``. With it: the claimed
    email must be an active user (with one of ``roles``, if given) and the OS account is recorded beside it."""
    account = os_account()
    if not claimed:
        return account
    from .users import find_viewer

    engine = target.engine if isinstance(target, Connection) else target
    viewer = find_viewer(engine, claimed)
    if viewer is None:
        raise ActorError(f"--as {claimed.strip()}: no active user with that email (--as is checked against the "
                         "users table: add them with `python -m data_layer users add EMAIL --role ...`, or leave "
                         "--as out to be recorded as your operating-system account)")
    if roles and viewer.role not in roles:
        raise ActorError(f"--as {viewer.email}: that user's role ({viewer.role}) may not do this; it needs "
                         + " or ".join(roles))
    return f"{viewer.email} ({account})"[:255]


def record_sign_in(engine: Engine, email: str, practice_code: str | None, detail: str, session_key: str,
                   since: datetime | None = None) -> bool:
    """Record a sign-in once per sign-in session (``session_key`` identifies the identity provider's login, e.g. a
    digest of its token's issue time; ``since``, when known, is that time, so the look-up uses the index on ``at``).
    A page load or a second tab of the same login adds no row. Returns True when it recorded."""
    marker = f"[session {session_key}]"
    with engine.begin() as conn:
        stmt = select(m.AuditEvent.id).where(m.AuditEvent.action == "sign_in", m.AuditEvent.actor == email,
                                             m.AuditEvent.detail.like(f"%{marker}"))
        if since is not None:
            stmt = stmt.where(m.AuditEvent.at >= since - timedelta(minutes=5))  # allow for clock skew
        seen = conn.execute(stmt.limit(1)).first()
        if seen is not None:
            return False
        record(conn, email, "sign_in", practice_code, f"{detail} {marker}")
    return True


def search(engine: Engine, viewer: Viewer, text: str = "", action: str | None = None, since: date | None = None,
           until: date | None = None, limit: int = 5000) -> pd.DataFrame:
    """Audit events, newest first. Admins only."""
    if viewer.role != "admin":
        raise AccessDenied("only administrators may read the audit log")
    stmt = select(m.AuditEvent.at, m.AuditEvent.actor, m.AuditEvent.action, m.AuditEvent.practice_code,
                  m.AuditEvent.detail)
    if text:
        like = f"%{text.lower()}%"
        from sqlalchemy import func

        stmt = stmt.where(or_(func.lower(m.AuditEvent.actor).like(like), func.lower(m.AuditEvent.detail).like(like),
                              func.lower(m.AuditEvent.practice_code).like(like)))
    if action:
        stmt = stmt.where(m.AuditEvent.action == action)
    if since:
        stmt = stmt.where(m.AuditEvent.at >= datetime.combine(since, datetime.min.time()))
    if until:
        stmt = stmt.where(m.AuditEvent.at < datetime.combine(until + timedelta(days=1), datetime.min.time()))
    stmt = stmt.order_by(m.AuditEvent.at.desc(), m.AuditEvent.id.desc()).limit(limit)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=COLUMNS)


def to_csv(events: pd.DataFrame) -> bytes:
    from .privacy import inert_for_spreadsheet

    out = events.copy()
    for c in ("actor", "detail", "practice_code"):
        out[c] = out[c].map(inert_for_spreadsheet)
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")
