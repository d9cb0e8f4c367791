"""Cached calls into the data layer. Every cache takes the viewer and the filters as arguments (never reads the user
inside), and is bounded by ttl and max_entries so memory cannot grow without limit.

Caches are keyed by what decides the answer - the viewer's role and practices (``SCOPE_KEY``) - never by who the
person is, so the second board member to open a page gets the first one's work (nothing cached names the person)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer import engine as calc
from data_layer.demo import is_demo
from data_layer.scope import Viewer
from ui.state import CACHE_TTL, config, database

TTL = CACHE_TTL
SCOPE_KEY = {Viewer: lambda v: (v.role, tuple(v.practice_codes))}


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=128, show_spinner=False)
def kpi_results(viewer: Viewer, filters: calc.Filters) -> dict[str, calc.KPIResult]:
    return calc.kpi_results(database(), config(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=128, show_spinner=False)
def scorecard(viewer: Viewer, filters: calc.Filters) -> pd.DataFrame:
    return calc.scorecard(config(), kpi_results(viewer, filters))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=4, show_spinner=False)
def demo_database() -> bool:
    return is_demo(database())
