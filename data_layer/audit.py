"""The audit trail: sign-ins, imports, exports, user and role changes. Append-only: the application inserts rows and
never updates or deletes them."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import Connection, Engine, insert, or_, select

from . import models as m
from .scope import AccessDenied, Viewer

ACTIONS = ("sign_in", "sign_in_refused", "import", "import_refused", "export", "user_added", "user_changed",
           "user_removed", "demo_built", "action_added", "action_updated", "note_added", "note_removed")
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
