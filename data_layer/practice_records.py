"""Reading the practice records a pack or page lists (not figures: those are in the measure store): the Patient
Participation Group's "you said, we did" and the premises and infection-control checks with their next-due dates.
Every read takes the viewer: "you said, we did" is free text written about people, so it is given only for the
practices whose person-level records the viewer may see (and redacted); the check register is not about people."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from . import models as m
from . import models_records as rec
from .db import tuples
from .privacy import redact_for
from .scope import Viewer


def you_said_we_did(engine: Engine, viewer: Viewer, practice_codes, start: date, end: date) -> pd.DataFrame:
    """PPG meetings between ``start`` and ``end`` with what patients said and what the practice did, oldest first."""
    codes = list(viewer.person_level_practices(practice_codes))
    cols = ["Practice", "Meeting", "Members", "Actions agreed", "Actions done", "You said", "We did"]
    if not codes:
        return pd.DataFrame(columns=cols)
    t = rec.PPGMeeting
    with engine.connect() as conn:
        rows = tuples(conn.execute(
            select(m.Practice.code, t.meeting_date, t.members, t.actions_agreed, t.actions_done, t.you_said, t.we_did)
            .join(m.Practice, m.Practice.id == t.practice_id)
            .where(m.Practice.code.in_(codes), t.meeting_date >= start, t.meeting_date <= end)
            .order_by(t.meeting_date, m.Practice.code)))
    df = pd.DataFrame(rows, columns=cols)
    for c in ("You said", "We did"):
        df[c] = [redact_for(viewer, s) if s else "" for s in df[c]]
    df["Meeting"] = pd.to_datetime(df["Meeting"])
    return df


def premises_register(engine: Engine, viewer: Viewer, practice_codes, as_of: date, counted: list[str]
                      ) -> pd.DataFrame:
    """Per practice and check type counted by the catalogue (``counted``): the latest check done by ``as_of``, its
    result, score and next-due date, and whether it is in date, overdue or never recorded."""
    codes = [c for c in practice_codes]
    t = rec.PremisesCheck
    with engine.connect() as conn:
        rows = tuples(conn.execute(
            select(m.Practice.code, t.check_type, t.done_on, t.next_due, t.result, t.score)
            .join(m.Practice, m.Practice.id == t.practice_id)
            .where(m.Practice.code.in_(codes), t.done_on <= as_of)))
    df = pd.DataFrame(rows, columns=["Practice", "Check", "Done", "Next due", "Result", "Score"])
    held = set(df["Practice"])
    df = df[df["Check"].isin(counted)].sort_values("Done").drop_duplicates(["Practice", "Check"], keep="last")
    grid = pd.DataFrame([(p, c) for p in codes if p in held for c in counted], columns=["Practice", "Check"])
    out = grid.merge(df, on=["Practice", "Check"], how="left")
    for c in ("Done", "Next due"):
        out[c] = pd.to_datetime(out[c])
    lasts = out["Done"] + pd.DateOffset(years=1)
    due = out["Next due"].where(out["Next due"].notna(), lasts)
    out["Status"] = ["Never recorded" if pd.isna(d) else "In date" if n >= pd.Timestamp(as_of) else "Overdue"
                     for d, n in zip(out["Done"], due)]
    return out.sort_values(["Practice", "Check"], kind="mergesort").reset_index(drop=True)
