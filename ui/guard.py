"""The first lines of every page: who is looking and what they filtered, or a detour through the entry point.

Streamlit runs a file in ``pages/`` on its own when a page URL is the very first request a fresh server gets (its old
pages-directory mode). The entry point is where sign-in happens, so a page reached that way never trusts itself: it
runs again through ``dashboard.py`` first. A page also refuses a viewer whose role may not use it.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from data_layer.engine import Filters
from data_layer.scope import Viewer
from ui.navigation import PAGES


def page_context(page_file: str) -> tuple[Viewer, Filters]:
    viewer = st.session_state.get("viewer")
    filters = st.session_state.get("filters")
    if viewer is None or filters is None:
        # Leave Streamlit's pages-directory mode for good and run again through the entry point, which signs the
        # person in and then opens this same page (its URL is kept).
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    spec = next((p for p in PAGES if p.file == Path(page_file).resolve()), None)
    if spec is None or viewer.role not in spec.roles:
        st.error("This page is not available to your role.")
        st.stop()
    return viewer, filters
