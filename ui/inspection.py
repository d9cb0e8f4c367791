"""Cached calls for the Inspection pack page, and the builders its download buttons run on click.

Caches take the database URL, the viewer and the choices as arguments (never read the user inside) and are bounded
by ttl and max_entries. The files themselves are never cached: each download builds the pack afresh (so the cover
says when it was really generated) and writes the export to the audit log.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

import streamlit as st

from data_layer import exports
from data_layer.db import database_url
from data_layer.exports import inspection
from data_layer.scope import Viewer
from ui.state import CACHE_TTL, config, database

TTL = CACHE_TTL
FEDERATION = ""  # the choice meaning "the whole federation"

FORMAT_BUTTONS = (  # format, button label, icon
    ("pdf", "PDF report", ":material/picture_as_pdf:"),
    ("xlsx", "Excel workbook", ":material/table_view:"),
    ("csv", "CSV files (zip)", ":material/folder_zip:"),
)


def pack_choices(viewer: Viewer) -> list[str]:
    """What this viewer may export: the whole federation (admins and board members) and their practices."""
    codes = list(inspection.allowed_practices(database(), viewer))
    return ([FEDERATION] if inspection.may_export_federation(viewer) else []) + codes


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def pack_months(url: str, practice_code: str) -> list[date]:
    """Months with figures for the practice (or the federation), newest first: the periods a pack can end in."""
    return inspection.months_with_data(database(), practice_code or None)[::-1]


# Keyed by the person (not SCOPE_KEY): the pack's cover names who generated it.
@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def preview(url: str, viewer: Viewer, practice_code: str, period_end: date) -> inspection.InspectionPack:
    """The pack's content (no charts, no file): what the page shows before anyone downloads."""
    return inspection.build_pack(database(), config(), viewer, practice_code or None, period_end)


def builder(viewer: Viewer, practice_code: str, period_end: date, fmt: str) -> Callable[[], bytes]:
    """What a download button runs when clicked (on its own thread, so nothing here touches Streamlit)."""
    engine, cfg = database(), config()

    def build() -> bytes:
        return exports.export_inspection(engine, cfg, viewer, practice_code or None, fmt, period_end,
                                         channel="inspection page").content

    return build


def current_url() -> str:
    return database_url()
