"""Notes on the charts: a note belongs to a measure, optionally one practice, and a month ("new phone system",
"recall project started"). Every chart of that series shows it; a **rebase** note restarts the SPC limits from its
month, in every view and pack (the measure store reads ``rebase_months``).

A note on no single practice is on every chart of the measure (the federation's, each PCN's and each practice's); a
note on one practice is on that practice's charts only. Stored with ``practice_code`` '' for "no single practice"
(see ``models.ChartNote``); these functions take and return None for it.

Who may add or remove notes: board members and administrators on any series; a practice lead on their own
practice's series; viewers read.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pandas as pd
from sqlalchemy import Engine, delete, insert, or_, select

from .. import audit
from .. import models as m
from ..config import FederationConfig
from ..scope import Viewer
from .actions import ActionError as _Base

TEXT_MAX = 500
COLUMNS = ["id", "indicator_code", "practice_code", "month", "text", "rebase", "created_by", "created_at"]
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class NoteError(_Base):
    """Bad input for a note, or a role that may not add it; the message says what to fix."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse_month(text: str) -> date:
    """'2025-10' -> date(2025, 10, 1)."""
    match = MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise NoteError(f"the month {text!r} is not a month: write it as YYYY-MM, e.g. 2025-10")
    return date(int(match.group(1)), int(match.group(2)), 1)


def may_note(viewer: Viewer, practice_code: str | None) -> bool:
    if viewer.role in ("admin", "board"):
        return True
    return viewer.role == "practice_lead" and practice_code is not None and practice_code in viewer.practice_codes


def _refuse(viewer: Viewer, practice_code: str | None) -> None:
    if may_note(viewer, practice_code):
        return
    if viewer.role == "practice_lead":
        where = f"practice {practice_code}" if practice_code else "every practice's charts"
        raise NoteError(f"{viewer.email} is a practice lead and may add notes only to their own practice's charts "
                        f"({', '.join(viewer.practice_codes) or 'none'}), not to {where}")
    raise NoteError(f"{viewer.email} is a {viewer.label.lower()} and may read notes but not add or remove them")


def _mark_stale(conn, reason: str) -> None:
    """A rebase note changes SPC limits: the measure store must be recalculated. Marked inside the note's
    transaction, so a refresh that never runs or dies is done again by the next one."""
    from ..measures.refresh import mark_stale

    mark_stale(conn, reason)


def _refresh(engine: Engine, config: FederationConfig | None, reason: str, actor: str, progress=None) -> None:
    """After a rebase note's transaction commits: work the measure store out again, so every view and pack judges
    the series from the new limits at once."""
    from ..config import load_config
    from ..measures.refresh import refresh

    refresh(engine, config or load_config(), reason=reason, actor=actor, progress=progress)


def add_note(engine: Engine, viewer: Viewer, config: FederationConfig, *, indicator_code: str, month,
             text: str, practice_code: str | None = None, rebase: bool = False, refresh: bool = True,
             progress=None) -> int:
    """Add a note; returns its id. ``month``: a date (any day of the month) or 'YYYY-MM'. A rebase note then
    refreshes the measure store (``refresh=False``: only marks it stale, for a caller that refreshes itself;
    ``progress``: a callback given each step's words)."""
    code = (indicator_code or "").strip().upper()
    if code not in config.indicator_codes:
        raise NoteError(f"unknown indicator {indicator_code!r}: it is not in the federation config's indicator "
                        "catalogue (federation.toml)")
    month = parse_month(month) if isinstance(month, str) else date(month.year, month.month, 1)
    text = (text or "").strip()
    if not text:
        raise NoteError("a note needs its text (--text TEXT)")
    if len(text) > TEXT_MAX:
        raise NoteError(f"the note is {len(text)} characters long; keep it to {TEXT_MAX}")
    practice = (practice_code or "").strip().upper() or None
    with engine.begin() as conn:
        if practice and conn.execute(select(m.Practice.id).where(m.Practice.code == practice)).first() is None:
            raise NoteError(f"unknown practice {practice}: it is not one of the federation's practices")
        _refuse(viewer, practice)
        exists = conn.execute(select(m.ChartNote.id).where(
            m.ChartNote.indicator_code == code, m.ChartNote.practice_code == (practice or ""),
            m.ChartNote.month == month, m.ChartNote.text == text)).first()
        if exists is not None:
            raise NoteError(f"that note is already on {code} for {month:%Y-%m}"
                            + (f" at {practice}" if practice else "") + f" (note {exists.id})")
        note_id = conn.execute(insert(m.ChartNote).values(
            indicator_code=code, practice_code=practice or "", month=month, text=text, rebase=bool(rebase),
            created_by=viewer.email, created_at=_now())).inserted_primary_key[0]
        audit.record(conn, viewer.email, "note_added", practice,
                     f"note {note_id} on {code} {month:%Y-%m}" + (" (rebase)" if rebase else "") + f": {text}")
        reason = f"rebase note added on {code} {month:%Y-%m}" + (f" at {practice}" if practice else "")
        if rebase:
            _mark_stale(conn, reason)
    if rebase and refresh:
        _refresh(engine, config, reason, viewer.email, progress)
    return int(note_id)


def remove_note(engine: Engine, viewer: Viewer, note_id: int, config: FederationConfig | None = None,
                refresh: bool = True, progress=None) -> None:
    """Remove a note; removing a rebase note refreshes the measure store (as :func:`add_note`; ``config``: the
    federation config, loaded from its file when not given)."""
    with engine.begin() as conn:
        row = conn.execute(select(m.ChartNote).where(m.ChartNote.id == note_id)).mappings().one_or_none()
        if row is None:
            raise NoteError(f"there is no note {note_id}")
        practice = row["practice_code"] or None
        _refuse(viewer, practice)
        conn.execute(delete(m.ChartNote).where(m.ChartNote.id == note_id))
        audit.record(conn, viewer.email, "note_removed", practice,
                     f"note {note_id} on {row['indicator_code']} {row['month']:%Y-%m}"
                     + (" (rebase)" if row["rebase"] else "") + f": {row['text']}")
        reason = (f"rebase note removed from {row['indicator_code']} {row['month']:%Y-%m}"
                  + (f" at {practice}" if practice else ""))
        if row["rebase"]:
            _mark_stale(conn, reason)
    if row["rebase"] and refresh:
        _refresh(engine, config, reason, viewer.email, progress)


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)
    # None (not NaN, which pandas' string dtype would give) for a note on every practice
    df["practice_code"] = pd.Series([c or None for c in df["practice_code"]], index=df.index, dtype=object)
    df["rebase"] = df["rebase"].astype(bool)
    return df


def _select():
    return select(*[getattr(m.ChartNote, c) for c in COLUMNS])


def list_notes(engine: Engine, indicator_code: str | None = None, practice_code: str | None = None) -> pd.DataFrame:
    """Every note (or one measure's, or those on one practice), by measure and month."""
    stmt = _select()
    if indicator_code:
        stmt = stmt.where(m.ChartNote.indicator_code == indicator_code)
    if practice_code:
        stmt = stmt.where(m.ChartNote.practice_code == practice_code)
    with engine.connect() as conn:
        return _frame(conn.execute(stmt.order_by(m.ChartNote.indicator_code, m.ChartNote.month, m.ChartNote.id)).all())


def notes_for(engine: Engine, indicator_code: str, practice_code: str | None = None) -> pd.DataFrame:
    """The notes on one series' charts, by month: for a practice, the notes on every practice plus its own; for
    the federation (or a PCN or group: ``practice_code`` None), the notes on every practice only.
    Columns: id, indicator_code, practice_code (None: every practice), month, text, rebase, created_by, created_at."""
    scope = m.ChartNote.practice_code == ""
    if practice_code:
        scope = or_(scope, m.ChartNote.practice_code == practice_code)
    stmt = _select().where(m.ChartNote.indicator_code == indicator_code, scope)
    with engine.connect() as conn:
        return _frame(conn.execute(stmt.order_by(m.ChartNote.month, m.ChartNote.id)).all())


def rebase_months(engine: Engine, indicator_code: str, practice_code: str | None = None) -> list[date]:
    """The months the series' SPC limits restart from (oldest first, no repeats): rebase notes on every practice,
    plus, for a practice, its own."""
    notes = notes_for(engine, indicator_code, practice_code)
    return sorted(set(notes.loc[notes["rebase"], "month"]))


def all_rebase_months(engine: Engine) -> dict[tuple[str, str | None], list[date]]:
    """Every rebase in one query, for a refresh of the whole store: {(indicator_code, practice_code or None):
    [months]}. A key with practice None applies to every series of that measure."""
    with engine.connect() as conn:
        rows = conn.execute(select(m.ChartNote.indicator_code, m.ChartNote.practice_code, m.ChartNote.month)
                            .where(m.ChartNote.rebase.is_(True)).distinct()).all()
    out: dict[tuple[str, str | None], list[date]] = {}
    for code, practice, month in rows:
        out.setdefault((code, practice or None), []).append(month)
    return {k: sorted(v) for k, v in out.items()}
