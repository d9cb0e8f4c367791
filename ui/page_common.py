"""What the Staff training and Patient feedback pages share: one measure's figures practice by practice (cached),
tables with their CSV downloads, value formatting, and the chart style (every chart made inert: names from data
never draw a link).

Split out of ``ui.training_feedback`` (which re-exports every name here).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_layer import training as tr
from data_layer.db import database_url
from data_layer.engine import Filters
from data_layer.privacy import inert_for_spreadsheet
from ui.text import inert_figure
from data_layer.scope import Viewer
from ui.data import SCOPE_KEY
from ui import theme
from ui.state import CACHE_TTL, config, database

TTL = CACHE_TTL
FONT = "Arial, Helvetica, sans-serif"


# ----------------------------------------------------------------------------------------------------------------
# Cached data (keyed by database URL, viewer and filters)
# ----------------------------------------------------------------------------------------------------------------
@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _signals(url: str, viewer: Viewer, filters: Filters, code: str) -> pd.DataFrame:
    return tr.practice_signals(database(), config(), viewer, filters, code)


def practice_signals(viewer: Viewer, filters: Filters, code: str) -> pd.DataFrame:
    return _signals(database_url(), viewer, filters, code)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _practice_series(url: str, viewer: Viewer, filters: Filters, code: str) -> pd.DataFrame:
    from data_layer import engine as calc

    eng = database()
    codes = calc.resolve_practices(eng, viewer, filters)
    if (filters.practice_codes or filters.pcn) and not codes:
        return pd.DataFrame(columns=["indicator_code", "practice_code", "period_start", "numerator", "denominator",
                                     "value"])
    start, end = calc.period_window(eng, filters)
    return calc.indicator_by_practice(eng, [code], codes, start, end)


def practice_series(viewer: Viewer, filters: Filters, code: str) -> pd.DataFrame:
    """Per-practice monthly figures of one measure, as the measure store holds them (hidden ones without value)."""
    return _practice_series(database_url(), viewer, filters, code)


# ----------------------------------------------------------------------------------------------------------------
# Tables and downloads
# ----------------------------------------------------------------------------------------------------------------
def csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as CSV, with text a spreadsheet would run as a formula made inert (patients write '=' too)."""
    out = table.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(inert_for_spreadsheet)
    return out.to_csv(index=False).encode("utf-8-sig")  # with a byte-order mark, so Excel reads ✔ ▲ – and accents


SHOWN_ROWS = 300  # a long table shows its first rows on screen; the download has every row


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    if len(table) <= SHOWN_ROWS:
        return table
    st.caption(f"Showing the first {SHOWN_ROWS:,} of {len(table):,} rows; the download below has all of them.")
    return table.head(SHOWN_ROWS)


def table_with_download(table: pd.DataFrame, file_name: str, label: str, key: str, height: int | None = None,
                        column_config: dict | None = None, audited: str | None = None) -> None:
    """Show a table (plain text cells; a long one by its first rows) and offer the whole table as a CSV download,
    built when clicked. ``audited`` names person-level data ("training chase list"): the download is then
    recorded in the audit log when clicked."""
    st.dataframe(_shown(table), hide_index=True, width="stretch", column_config=column_config,
                 height=height if height is not None else "auto")
    _download(f"Download {label} (CSV)", lambda: csv_bytes(table), file_name, key, audited, len(table))


def _download(label: str, data, file_name: str, key: str, audited: str | None, rows: int) -> None:
    if audited:
        from ui.audit_download import audited_download_button

        audited_download_button(label, data, file_name, what=audited, rows=rows, mime="text/csv",
                                icon=":material/download:", key=key)
    else:
        st.download_button(label, data, file_name=file_name, mime="text/csv", icon=":material/download:", key=key)


def chart_table(table: pd.DataFrame, file_name: str, label: str, key: str, title: str = "Table behind the chart",
                height: int | None = None, column_config: dict | None = None, audited: str | None = None) -> None:
    """The table a chart was drawn from, folded away under the chart, with its CSV download always in view."""
    with st.expander(title):
        st.dataframe(_shown(table), hide_index=True, width="stretch", column_config=column_config,
                     height=height if height is not None else "auto")
    _download(f"Download {label} (CSV)", lambda: csv_bytes(table), file_name, key, audited, len(table))


def date_text(d) -> str:
    from data_layer.policy import words

    return words.day(d)



def num_text(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):,.0f}"


def pct(v, digits: int = 1) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):.{digits}f}%"


def month_text(d) -> str:
    from data_layer.policy import words

    return words.month(d)


def wrap_name(name: str, width: int = 11) -> str:
    """Practice names over two lines for chart axes."""
    words, lines, cur = str(name).split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "<br>".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Charts
# ----------------------------------------------------------------------------------------------------------------
def _style(fig: go.Figure, title: str | None, height: int, y_title: str = "", x_title: str = "") -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16, color=theme.NHS_DARK_BLUE)) if title else None,
        height=height, margin=dict(l=10, r=10, t=56 if title else 16, b=10),
        font=dict(family=FONT, size=13, color=theme.TEXT), plot_bgcolor="white", paper_bgcolor="white",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1, font=dict(size=12)),
        hoverlabel=dict(font=dict(family=FONT, size=13)),
    )
    fig.update_xaxes(showgrid=False, linecolor=theme.NHS_MID_GREY, title=dict(text=x_title, font=dict(size=13)))
    fig.update_yaxes(gridcolor=theme.NHS_PALE_GREY, zeroline=False, linecolor=theme.NHS_MID_GREY,
                     title=dict(text=y_title, font=dict(size=13)))
    return inert_figure(fig)  # names from data never draw a link
