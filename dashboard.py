"""Federation governance dashboard: the entry point (`streamlit run dashboard.py`).

Sets up the page, checks the database (reachable, schema at the newest revision: ui.health), makes sure there is
data, works out who is looking, draws the shared sidebar filters and runs the page the viewer chose from those their
role may use. A database fault anywhere in that shows a plain screen, never a traceback.
"""
from pathlib import Path

import streamlit as st

from data_layer.config import ConfigError
from data_layer.demo import is_demo
from ui import health, state, theme
from ui.auth import auth_configured, current_viewer, sign_out_button
from ui.navigation import landing_page, pages_for
from ui.text import plain

# The favicon is served by the app itself: NHS networks block outside hosts.
st.set_page_config(page_title="Federation governance dashboard",
                   page_icon=str(Path(__file__).parent / "ui" / "assets" / "favicon.png"), layout="wide")
st.markdown(theme.CSS, unsafe_allow_html=True)

try:
    cfg = state.config()
except ConfigError as exc:
    st.error("The federation config could not be loaded, so the dashboard cannot start.")
    st.code(str(exc), language=None)
    st.stop()

signing_in = auth_configured()
if not signing_in:
    state.first_start_if_new()  # a brand-new database: the first-start screen at once (it creates the schema)
health.check_database(first_start=not signing_in)
navigation_drawn = False
try:
    if not signing_in:
        state.ensure_data()  # first start without sign-in: the demo federation (never over a production database)
    # Read on every run, not cached: the demo picker must never be offered once the database holds real data.
    viewer = current_viewer(demo_database=is_demo(state.database()))

    sections: dict[str, list] = {}
    for spec in pages_for(viewer.role):
        sections.setdefault(spec.section, []).append(
            st.Page(str(spec.file), title=spec.title, icon=spec.icon, url_path=spec.url_path,
                    default=spec.url_path == landing_page(viewer.role)))
    page = st.navigation(sections, expanded=True)  # every page a role may use in view, never "View more"
    navigation_drawn = True

    with st.sidebar:
        st.markdown(f"### {cfg.name}")
        st.caption(f"Signed in as **{plain(viewer.name or viewer.email)}** · {viewer.label}"
                   + (f" · {plain(', '.join(viewer.practice_codes))}" if viewer.practice_codes else ""))
    st.session_state["filters"] = state.sidebar_filters(viewer)
    with st.sidebar:
        sign_out_button()
    st.session_state["viewer"] = viewer
    page.run()
except Exception as exc:  # noqa: BLE001 - only database faults are handled; anything else is re-raised
    if not health.is_database_fault(exc):
        raise
    health.on_fault(exc, navigation_drawn)
