"""The practice records in a pack: the Patient Participation Group's "you said, we did" (Responsive: listening to and
involving people) and the premises and infection-control check register with what is overdue (Safe: safe
environments). Read through ``data_layer.practice_records`` (scoped to the viewer); nothing is calculated here."""
from __future__ import annotations

from sqlalchemy import Engine

from ... import practice_records as records
from ...config import FederationConfig
from ...imports.formats.records import counted_checks
from ...scope import Viewer
from ..pack_model import InspectionPack, Statement, Table


def extras(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack
           ) -> dict[tuple[str, str], Statement]:
    out: dict[tuple[str, str], Statement] = {}
    ppg = records.you_said_we_did(engine, viewer, pack.practice_codes, pack.period_start, pack.period_last_day)
    if len(ppg):
        st = Statement("Listening to and involving people")
        st.tables.append(Table("ppg_you_said_we_did", "Patient Participation Group: you said, we did", ppg,
                               kinds={"Meeting": "date"}, note="Each meeting of the 12 months, oldest first.",
                               pdf_columns=("Practice", "Meeting", "You said", "We did"),
                               pdf_widths=(22, 22, 68, 68)))
        out[("Responsive", "Listening to and involving people")] = st
    counted = counted_checks(config)
    checks = records.premises_register(engine, viewer, pack.practice_codes, pack.period_last_day, counted)
    if len(checks):
        st = Statement("Safe environments")
        overdue = checks[checks["Status"] != "In date"]
        st.paragraphs.append(
            f"{len(checks) - len(overdue)} of {len(checks)} required premises and infection-control checks in date "
            f"on {pack.period_last_day:%d %B %Y}" + (": overdue or never recorded — " + "; ".join(
                f"{p} {c.lower()}" for p, c in zip(overdue["Practice"], overdue["Check"])) + "." if len(overdue)
                else "."))
        st.tables.append(Table("premises_checks", "Premises and infection-control checks", checks,
                               kinds={"Done": "date", "Next due": "date", "Score": "dec1"},
                               note="The latest check of each type the federation requires."))
        out[("Safe", "Safe environments")] = st
    return out
