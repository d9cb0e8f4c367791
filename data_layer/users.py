"""Users and their roles. Identity comes from sign-in (the email); what a person may see comes from here."""
from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import Engine, delete, select

from . import audit
from . import models as m
from .scope import ROLE_LABELS, ROLES, Viewer

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """Bad input for a user change; the message says what to fix."""


def _normalise(email: str) -> str:
    return (email or "").strip().lower()


def find_viewer(engine: Engine, email: str | None) -> Viewer | None:
    """The viewer for a signed-in email, or None if the email is not an active user."""
    email = _normalise(email or "")
    if not email:
        return None
    with engine.connect() as conn:
        user = conn.execute(select(m.User.id, m.User.email, m.User.role, m.User.name).where(
            m.User.email == email, m.User.active.is_(True))).one_or_none()
        if user is None:
            return None
        codes = tuple(sorted(conn.execute(select(m.UserPractice.practice_code).where(
            m.UserPractice.user_id == user.id)).scalars()))
        return Viewer(email=user.email, role=user.role, practice_codes=codes, name=user.name or "")


def list_users(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        users = conn.execute(select(m.User.id, m.User.email, m.User.name, m.User.role, m.User.active)
                             .order_by(m.User.email)).all()
        links = conn.execute(select(m.UserPractice.user_id, m.UserPractice.practice_code)).all()
    practices: dict[int, list[str]] = {}
    for uid, code in links:
        practices.setdefault(uid, []).append(code)
    return pd.DataFrame([{"email": u.email, "name": u.name or "", "role": u.role, "active": u.active,
                          "practices": ", ".join(sorted(practices.get(u.id, [])))} for u in users],
                        columns=["email", "name", "role", "active", "practices"])


def save_user(engine: Engine, email: str, role: str, practice_codes=(), name: str | None = None,
              actor: str = "system") -> str:
    """Add a user or change their role and practices. Returns 'added' or 'changed'."""
    email = _normalise(email)
    if not EMAIL.match(email):
        raise UserError(f"{email or '(empty)'} is not an email address")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    codes = sorted({c.strip().upper() for c in practice_codes if c and c.strip()})
    with engine.begin() as conn:
        known = set(conn.execute(select(m.Practice.code)).scalars())
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise UserError(f"unknown practice code(s): {', '.join(unknown)}")
        if role == "practice_lead" and not codes:
            raise UserError("a practice lead needs at least one practice (--practice CODE)")
        existing = conn.execute(select(m.User.id).where(m.User.email == email)).one_or_none()
        if existing is None:
            uid = conn.execute(m.User.__table__.insert().values(email=email, role=role, name=name, active=True)
                               ).inserted_primary_key[0]
            outcome = "added"
        else:
            uid = existing.id
            values = {"role": role, "active": True}
            if name is not None:
                values["name"] = name
            conn.execute(m.User.__table__.update().where(m.User.id == uid).values(**values))
            conn.execute(delete(m.UserPractice).where(m.UserPractice.user_id == uid))
            outcome = "changed"
        for c in codes:
            conn.execute(m.UserPractice.__table__.insert().values(user_id=uid, practice_code=c))
        audit.record(conn, actor, f"user_{outcome}", codes[0] if len(codes) == 1 else None,
                     f"{email}: {ROLE_LABELS[role]}" + (f", practices {', '.join(codes)}" if codes else ""))
    return outcome


def remove_user(engine: Engine, email: str, actor: str = "system") -> None:
    email = _normalise(email)
    with engine.begin() as conn:
        user = conn.execute(select(m.User.id, m.User.role).where(m.User.email == email)).one_or_none()
        if user is None:
            raise UserError(f"no user with email {email}")
        conn.execute(delete(m.UserPractice).where(m.UserPractice.user_id == user.id))
        conn.execute(delete(m.User).where(m.User.id == user.id))
        audit.record(conn, actor, "user_removed", None, f"{email} (was {ROLE_LABELS.get(user.role, user.role)})")


DEMO_USERS = (
    ("admin@demo.invalid", "admin", (), "Alex Admin (demo administrator)"),
    ("board@demo.invalid", "board", (), "Dr Bea Board (demo board member)"),
    ("lead@demo.invalid", "practice_lead", ("Z90001",), "Pat Lead (demo practice lead, Kingfisher Medical Centre)"),
    ("viewer@demo.invalid", "viewer", (), "Vic Viewer (demo viewer)"),
)


def add_demo_users(engine: Engine) -> None:
    """One user per role for the demo federation's user picker."""
    with engine.connect() as conn:
        codes = set(conn.execute(select(m.Practice.code)).scalars())
    for email, role, practices, name in DEMO_USERS:
        save_user(engine, email, role, [p for p in practices if p in codes] or ([next(iter(sorted(codes)))]
                  if role == "practice_lead" and codes else []), name=name, actor="demo builder")
