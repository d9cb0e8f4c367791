"""Downloads of person-level data (names of staff, patients' comments, complaint details) are audited: the audit row
is written when the person clicks the button (``on_click``), not when the page is drawn, and says what was taken,
how many rows, from which page and for which practice."""
from __future__ import annotations

import logging

import streamlit as st

from data_layer import audit

log = logging.getLogger("federation.audit")


def record_download(what: str, file_name: str, rows: int | None = None, practice_code: str | None = None,
                    page: str | None = None) -> None:
    """Append the audit row for one download by the viewer of this session (the on_click callback)."""
    from ui.state import database

    viewer = st.session_state.get("viewer")
    actor = getattr(viewer, "email", None) or "(unknown viewer)"
    detail = f"page download: {what} ({file_name}" + (f", {rows:,} rows" if rows is not None else "") + ")"
    if page:
        detail += f" from {page}"
    try:
        audit.record(database(), actor, "export", practice_code, detail[:4000])
    except Exception:  # noqa: BLE001 - the file is already on its way; never turn a download into a traceback
        log.exception("could not record the audit row for a download: %s", detail)


def audited_download_button(label: str, data, file_name: str, *, what: str, rows: int | None = None,
                            practice_code: str | None = None, page: str | None = None, container=None, **kwargs):
    """``st.download_button`` for person-level data: the click is recorded in the audit log.

    ``what`` names the data in words ("training chase list"); ``container`` draws it there (a column, the sidebar);
    everything else is passed to ``st.download_button``."""
    return (container or st).download_button(
        label, data, file_name=file_name, on_click=record_download,
        args=(what, file_name, rows, practice_code, page), **kwargs)
