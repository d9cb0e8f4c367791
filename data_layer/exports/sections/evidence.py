"""The evidence register in a pack: per CQC quality statement, the documents held (title, type, CQC evidence
category, date, review due, whether it is in date) and which are overdue for review, read from
``data_layer.evidence``. A practice's pack lists its own items and the federation-wide ones; the federation's pack
every practice's. Owners are not listed (a pack holds no staff names); nor are the files themselves: the pack says
what is held, and the register hands the documents out to those who may open them."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine

from ... import evidence as ev
from ...scope import Viewer
from ..pack_model import InspectionPack, Statement, Table, day_words


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_")[:40]


def statements(engine: Engine, viewer: Viewer, pack: InspectionPack, today: date | None = None
               ) -> dict[tuple[str, str], Statement]:
    """(key question, quality statement) -> the statement's evidence from the register (only those with items)."""
    today = today or pack.generated_at.date()
    items = ev.list_evidence(engine, viewer, practice_codes=pack.practice_codes, today=today)
    out: dict[tuple[str, str], Statement] = {}
    for (kq, name), rows in items.groupby(["key_question", "quality_statement"], sort=False):
        st = Statement(name)
        overdue = rows[rows["overdue"]]
        words = (f"Evidence register: {len(rows)} document{'s' if len(rows) != 1 else ''} held for this statement "
                 f"on {day_words(today)}")
        if overdue.empty:
            words += ", none overdue for review."
        else:
            words += (f"; {len(overdue)} overdue for review: "
                      + "; ".join(f"{r.title}{'' if not pack.is_federation else f' ({r.where})'} (review was due "
                                  f"{day_words(r.review_due)})" for r in overdue.itertuples()) + ".")
        st.paragraphs.append(words)
        frame = pd.DataFrame({
            "Document": rows["title"].astype(str), "Held for": rows["where"].astype(str),
            "Type": rows["type_label"].astype(str), "CQC evidence category": rows["category_label"].astype(str),
            "Dated": pd.to_datetime(rows["dated"]), "Review due": pd.to_datetime(rows["review_due"]),
            "Status": rows["review_status"].astype(str),
            "Held as": ["Stored file" if h == "file" else "Link" for h in rows["held_as"]],
        }).reset_index(drop=True)
        st.tables.append(Table(
            f"evidence_{_slug(name)}", f"Evidence held – {name}", frame,
            kinds={"Dated": "date", "Review due": "date"},
            note="From the federation's evidence register. Status: review overdue (the review date has passed), "
                 "due soon (within 30 days), in date, or no review date (e.g. minutes of a meeting). The documents "
                 "themselves are opened from the register by those who may see the practice's records.",
            pdf_columns=("Document", "Held for", "Type", "Dated", "Review due", "Status"),
            pdf_widths=(58, 36, 24, 20, 20, 22)))
        out[(kq, name)] = st
    return out


def merge(extras: dict[tuple[str, str], Statement], held: dict[tuple[str, str], Statement]) -> None:
    """Add the register's evidence to the pack's other extras for the same statements (after them)."""
    for key, st in held.items():
        if key in extras:
            extras[key].paragraphs.extend(st.paragraphs)
            extras[key].tables.extend(st.tables)
        else:
            extras[key] = st
