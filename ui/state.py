"""Session-wide things every page needs: the database, the config, who is looking, and the sidebar filters.

Filters live in ``st.session_state`` (so they survive page switches) and are mirrored into the URL query string, so a
copied link opens the same view.
"""
from __future__ import annotations

import os
from datetime import date

import pandas as pd
import streamlit as st

from data_layer import engine as calc
from data_layer.config import FederationConfig, load_config
from data_layer.db import database_url, get_engine, is_empty, schema_lock
from data_layer.scope import Viewer

WINDOWS = {12: "Last 12 months", 24: "Last 24 months", 36: "Last 36 months", 60: "Last 60 months"}

# How long a cached figure is reused (seconds). Several app servers on one database each keep their own caches, so
# a change made through one server shows on the others after at most this long (FEDERATION_CACHE_TTL; default 300).
CACHE_TTL = int(os.environ.get("FEDERATION_CACHE_TTL", "300"))


def database():
    """The shared engine for DATABASE_URL (keyed by URL, so tests can point the app at another database). The data
    layer keeps one engine per URL and process; it is never a broken one: PostgreSQL connections are checked before
    use, and after a database fault the entry point drops it (ui.health), so the app recovers without a restart."""
    return get_engine(database_url())


def config() -> FederationConfig:
    return load_config()  # cached inside the data layer by file and modification time


# The steps the demo builder reports, and how far through the first start each one is (the refresh is most of it).
FIRST_RUN_STEPS = (("Generating", 0.04), ("Writing", 0.22), ("Working out every figure", 0.34),
                   ("Summarising", 0.40), ("Calculating", 0.52), ("Working out every measure", 0.62),
                   ("Judging", 0.80))


def first_start_if_new() -> None:
    """Before anything else on a start without sign-in: a brand-new database (no tables) goes straight to the
    first-start screen, which creates the schema and builds the demo there, so Streamlit's bare list of page files
    is never on screen while that happens. Anything else (unreachable, another schema state) is left to ui.health."""
    from sqlalchemy.exc import DBAPIError

    from data_layer.db import schema_state, shared_engine

    try:
        new = schema_state(shared_engine(database_url())).status == "new"
    except DBAPIError:
        return
    if new:
        ensure_data(create_schema=True)


def ensure_data(create_schema: bool = False) -> None:
    """First start on an empty database: build the demo federation behind a first-start screen with a progress bar
    (never the bare list of page files Streamlit shows until the app's navigation is drawn), then open the app.
    Only ever called without sign-in configured; the build holds the schema lock, so two servers starting together
    on one new database build it once. ``create_schema``: the database has no tables yet; the screen creates them."""
    engine = database() if not create_schema else None
    if engine is not None and not is_empty(engine):
        return

    def first_start() -> None:
        from data_layer import demo

        st.title("Setting up the dashboard")
        st.markdown("This is the dashboard's first start on this computer, so it is building a **fictional** demo "
                    "federation to explore: 11 practices in 3 PCNs, about 200 staff and three years of quality, "
                    "training and patient feedback figures. It takes about half a minute, once; the board overview "
                    "opens by itself when it is ready.")
        bar = st.progress(0.0, text="Starting…")
        done = st.empty()
        seen: list[str] = []
        nonlocal engine
        if engine is None:
            from data_layer.db import create_if_new, shared_engine

            bar.progress(0.01, text="Creating the database…")
            create_if_new(shared_engine(database_url()))
            engine = database()

        def progress(message: str) -> None:
            share = next((f for prefix, f in FIRST_RUN_STEPS if message.startswith(prefix)), None)
            seen.append(message)
            bar.progress(share if share is not None else min(0.95, 0.8 + 0.03 * len(seen)), text=message)
            done.caption(" · ".join(m.rstrip("…") for m in seen[:-1]))

        with schema_lock(engine):
            if is_empty(engine):  # else another server built it while this one waited
                summary = demo.build(engine, config(), progress=progress)
                bar.progress(1.0, text=f"Ready: {summary.practices} practices, {summary.staff} staff, "
                                       f"{summary.fft_responses:,} Friends and Family Test answers")
        st.cache_data.clear()
        st.rerun()  # the app itself, on the page the address asked for

    # Through st.navigation, so the sidebar lists no page while the demo is built
    st.navigation([st.Page(first_start, title="Setting up the dashboard", default=True)], position="hidden").run()
    st.stop()


# ---------------------------------------------------------------------------------------------------------------
# Filters, kept in the URL
# ---------------------------------------------------------------------------------------------------------------
def _from_url() -> dict:
    q = st.query_params
    out = {}
    if q.get("practice"):
        out["f_practices"] = [c for c in q.get("practice").split(",") if c]
    if q.get("pcn"):
        out["f_pcn"] = q.get("pcn")
    if q.get("group"):
        out["f_group"] = q.get("group")
    if q.get("end"):
        out["f_end"] = q.get("end")
    if q.get("months"):
        try:
            out["f_months"] = int(q.get("months"))
        except ValueError:
            pass
    return out


def _to_url() -> None:
    params = {}
    if st.session_state.get("f_practices"):
        params["practice"] = ",".join(st.session_state["f_practices"])
    if st.session_state.get("f_pcn") and st.session_state["f_pcn"] != "All PCNs":
        params["pcn"] = st.session_state["f_pcn"]
    if st.session_state.get("f_group"):
        params["group"] = st.session_state["f_group"]
    if st.session_state.get("f_end"):
        params["end"] = st.session_state["f_end"]
    if st.session_state.get("f_months") and st.session_state["f_months"] != 36:
        params["months"] = str(st.session_state["f_months"])
    current = {k: st.query_params.get(k) for k in ("practice", "pcn", "group", "end", "months")
               if st.query_params.get(k)}
    if current != params:
        # only the filter keys: pages keep their own keys in the URL too (e.g. ?indicator=, ?profile=)
        for k in ("practice", "pcn", "group", "end", "months"):
            if k not in params and k in st.query_params:
                del st.query_params[k]
        st.query_params.update(params)


@st.cache_data(ttl=CACHE_TTL, max_entries=64, show_spinner=False)
def practice_list(viewer: Viewer) -> pd.DataFrame:
    return calc.practices(database(), viewer, config())


@st.cache_data(ttl=CACHE_TTL, max_entries=8, show_spinner=False)
def periods() -> list[date]:
    return calc.available_periods(database())


def sidebar_filters(viewer: Viewer) -> calc.Filters:
    """Draw the shared filters (practice, PCN, period) in the sidebar and return them."""
    if not st.session_state.get("_filters_loaded"):
        for k, v in _from_url().items():
            st.session_state[k] = v
        st.session_state["_filters_loaded"] = True
    plist = practice_list(viewer)
    months = periods()
    month_labels = [pd.Timestamp(d).strftime("%Y-%m") for d in months]
    with st.sidebar:
        st.markdown("**Filters**")
        pcns = ["All PCNs", *sorted(plist["pcn"].dropna().unique())]
        if st.session_state.get("f_pcn") not in pcns:
            st.session_state["f_pcn"] = "All PCNs"
        pcn = st.selectbox("Primary care network", pcns, key="f_pcn")
        groups = {g.id: g.name for g in config().groups}
        if st.session_state.get("f_group") not in groups:
            st.session_state["f_group"] = None
        group = st.selectbox("Group of practices", [None, *groups], key="f_group",
                             format_func=lambda g: "No group" if g is None else groups[g],
                             help="A group the federation declared (federation.toml): the figures are the "
                                  "group's practices together") if groups else None
        in_pcn = plist if pcn == "All PCNs" else plist[plist["pcn"] == pcn]
        names = dict(zip(in_pcn["code"], in_pcn["display_name"]))
        st.session_state["f_practices"] = [c for c in st.session_state.get("f_practices", []) if c in names]
        chosen = st.multiselect("Practice", list(names), format_func=lambda c: f"{names[c]} ({c})",
                                key="f_practices", placeholder="All practices")
        if month_labels:
            if st.session_state.get("f_end") not in month_labels:
                st.session_state["f_end"] = month_labels[-1]
            end_label = st.selectbox("Period up to", month_labels[::-1], key="f_end",
                                     format_func=lambda s: pd.Timestamp(s + "-01").strftime("%B %Y"))
        else:
            end_label = None
        if st.session_state.get("f_months") not in WINDOWS:
            st.session_state["f_months"] = 36
        window = st.selectbox("History shown", list(WINDOWS), key="f_months", format_func=WINDOWS.get)
    _to_url()
    return calc.Filters(
        practice_codes=tuple(chosen),
        pcn=None if pcn == "All PCNs" else pcn,
        group=group,
        period_end=pd.Timestamp(end_label + "-01").date() if end_label else None,
        months=int(window),
    )
