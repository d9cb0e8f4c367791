"""What a pack does to free text before it leaves the building. The redaction itself is ``privacy.redact`` (the
same for screens, downloads and packs); the pack adds the full names of the practices' own staff."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from .. import models as m
from ..privacy import people_pattern, redact
from ..scope import Viewer


class Redactor:
    """What a pack does to free text before it leaves the building: ``privacy.redact`` (NHS numbers, phone numbers,
    email addresses, postcodes and names after titles) for everyone, admins included, with the full name of anyone
    on the practices' staff lists removed too."""

    def __init__(self, staff_names: list[str]):
        self._staff = people_pattern(staff_names)

    def __call__(self, text):
        if _blank(text):
            return None
        return redact(str(text), people=self._staff)


def _blank(text) -> bool:
    """No text. "nan" counts: a missing value that went through ``str()`` on its way here (the views redact with
    ``str(text)``, and pandas turns a NULL into NaN first)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return True
    return str(text).strip() in ("", "nan", "None", "<NA>")


def _redactor(engine: Engine, viewer: Viewer, codes: tuple[str, ...]) -> Redactor:
    """Staff names are read only to remove them, and only for practices whose people this viewer may see."""
    allowed = viewer.person_level_practices(codes)
    if not allowed:
        return Redactor([])
    with engine.connect() as conn:
        names = conn.execute(select(m.Staff.name).join(m.Practice, m.Practice.id == m.Staff.practice_id)
                             .where(m.Practice.code.in_(allowed))).scalars().all()
    return Redactor(list(names))


blank = _blank
redactor_for = _redactor

__all__ = ["Redactor", "blank", "redactor_for"]
