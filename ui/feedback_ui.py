"""Cached calls and chart builders for the Patient feedback page.

Every cache takes the database URL, the viewer and the filters as arguments (never reads the user inside) and is
bounded by ttl and max_entries. Charts only draw what the data layer has calculated; each is shown with the table it
was drawn from, and colour is always repeated in words, numbers or symbols.

Split out of ``ui.training_feedback`` (which re-exports every name here).
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_layer import feedback as fb
from data_layer.db import database_url
from data_layer.engine import Filters
from data_layer.scope import Viewer
from ui.data import SCOPE_KEY
from ui import theme
from ui.state import config, database
from ui.page_common import TTL, _style, pct

ANSWER_WORDS = fb.ANSWER_WORDS
MODES = fb.MODES


def theme_names() -> list[str]:
    """The comment themes declared in federation.toml, in its order."""
    return fb.theme_names(config())


# ----------------------------------------------------------------------------------------------------------------
# Cached data (keyed by database URL, viewer and filters)
# ----------------------------------------------------------------------------------------------------------------
@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _fft_trends(url: str, viewer: Viewer, filters: Filters):
    return fb.fft_trends(database(), config(), viewer, filters)


def fft_trends(viewer: Viewer, filters: Filters):
    return _fft_trends(database_url(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _fft_counts(url: str, viewer: Viewer, filters: Filters) -> fb.FFTCounts:
    return fb.fft_counts(database(), config(), viewer, filters)


def fft_by_month(viewer: Viewer, filters: Filters, scale: str = "current") -> pd.DataFrame:
    counts = _fft_counts(database_url(), viewer, filters)
    return fb.fft_by_month(database(), config(), viewer, filters, scale, counts=counts)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _fft_practice_months(url: str, viewer: Viewer, filters: Filters) -> pd.DataFrame:
    counts = _fft_counts(url, viewer, filters)
    return fb.fft_practice_months(database(), config(), viewer, filters, counts=counts)


def fft_practice_months(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return _fft_practice_months(database_url(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _fft_by_practice(url: str, viewer: Viewer, filters: Filters, months: int):
    counts = _fft_counts(url, viewer, filters)
    return fb.fft_by_practice(database(), config(), viewer, filters, months, counts=counts)


def fft_by_practice(viewer: Viewer, filters: Filters, months: int = 12):
    return _fft_by_practice(database_url(), viewer, filters, months)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _legacy_use(url: str, viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return fb.legacy_use(database(), config(), viewer, filters, counts=_fft_counts(url, viewer, filters))


def legacy_use(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return _legacy_use(database_url(), viewer, filters)


# The practice × month heatmap is thousands of cells: built once per scope and filters and shared (figures are never
# changed after they are built), not on every run of the page.
@st.cache_resource(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def fft_heatmap_for(viewer: Viewer, filters: Filters, names: tuple):
    pooled = fft_by_practice(viewer, filters, 12)[1]
    return fft_heatmap(fft_practice_months(viewer, filters), legacy_use(viewer, filters), dict(names), pooled)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _modes(url: str, viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return fb.response_modes(database(), config(), viewer, filters)


def response_modes(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return _modes(database_url(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _themes(url: str, viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return fb.comment_themes(database(), config(), viewer, filters)


def comment_themes(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return _themes(database_url(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=128, show_spinner=False)
def _comments(url: str, viewer: Viewer, filters: Filters, search: str, practice_codes: tuple[str, ...],
              month: date | None, ratings: tuple[int, ...], themes: tuple[str, ...]) -> fb.Comments:
    return fb.comments(database(), config(), viewer, filters, search=search, practice_codes=practice_codes,
                       month=month, ratings=ratings, themes=themes)


def comments(viewer: Viewer, filters: Filters, search: str = "", practice_codes: tuple[str, ...] = (),
             month: date | None = None, ratings: tuple[int, ...] = (), themes: tuple[str, ...] = ()) -> fb.Comments:
    return _comments(database_url(), viewer, filters, search, tuple(practice_codes), month, tuple(ratings),
                     tuple(themes))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _readable(url: str, viewer: Viewer, filters: Filters) -> tuple[tuple[str, ...], str]:
    return fb.readable_practices(database(), config(), viewer, filters)


def readable_practices(viewer: Viewer, filters: Filters) -> tuple[tuple[str, ...], str]:
    """(practices whose comments the viewer may read within the filters, why none if empty)."""
    return _readable(database_url(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=16, show_spinner=False)
def _comment_months(url: str, filters: Filters) -> list[date]:
    return fb.comment_months(database(), filters)


def comment_months(filters: Filters) -> list[date]:
    return _comment_months(database_url(), filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _complaints(url: str, viewer: Viewer, filters: Filters):
    eng, cfg = database(), config()
    return (fb.complaints_summary(eng, cfg, viewer, filters), fb.complaints_by_category(eng, cfg, viewer, filters),
            fb.complaint_details(eng, cfg, viewer, filters))


def complaints(viewer: Viewer, filters: Filters):
    """(summary per practice, by category, details for person-level practices)."""
    return _complaints(database_url(), viewer, filters)


# ----------------------------------------------------------------------------------------------------------------
# Charts
# ----------------------------------------------------------------------------------------------------------------
def fft_interval_figure(monthly: pd.DataFrame, kind: str, title: str, colour: str, target: float | None = None,
                        height: int = 300) -> go.Figure:
    """Monthly % with its 95% Wilson interval as an error bar; suppressed months are marked, not drawn."""
    df = monthly.copy()
    shown = df[df["pct_" + kind].notna()]
    fig = go.Figure(go.Scatter(
        x=shown["month"], y=shown["pct_" + kind], mode="markers+lines", name=f"% {kind}",
        line=dict(color=colour, width=1.5), marker=dict(size=7, color=colour),
        error_y=dict(type="data", symmetric=False, array=shown[f"{kind}_upper"] - shown["pct_" + kind],
                     arrayminus=shown["pct_" + kind] - shown[f"{kind}_lower"], color=colour, thickness=1.2, width=3),
        customdata=np.stack([shown[f"{kind}_lower"], shown[f"{kind}_upper"], shown["total"]], axis=-1)
        if len(shown) else None,
        hovertemplate="%{x|%B %Y}: %{y:.1f}% (95% CI %{customdata[0]:.1f}–%{customdata[1]:.1f}%, "
                      "%{customdata[2]:,.0f} responses)<extra></extra>",
    ))
    hidden = df[df["suppressed"]]
    if len(hidden):
        fig.add_trace(go.Scatter(x=hidden["month"], y=[float(shown["pct_" + kind].min()) if len(shown) else 0]
                                 * len(hidden), mode="markers+text", name="Not shown: too few responses",
                                 marker=dict(symbol="x-thin-open", size=10, color=theme.NHS_DARK_GREY),
                                 text=["<5"] * len(hidden), textposition="bottom center",
                                 hovertemplate="%{x|%B %Y}: not shown (too few responses)<extra></extra>"))
    if target is not None:
        fig.add_hline(y=target, line=dict(color=theme.NHS_RED, dash="dot", width=2),
                      annotation_text=f"Target {target:g}%", annotation_position="bottom right",
                      annotation_font=dict(color=theme.NHS_RED, size=12))
    _style(fig, title, height, y_title="%")
    fig.update_xaxes(tickformat="%B %Y", dtick="M1" if len(df) <= 8 else None)
    return fig


def fft_heatmap(pm: pd.DataFrame, legacy: pd.DataFrame, names: dict[str, str], pooled: float | None,
                height: int | None = None) -> go.Figure:
    """Practices × months of % positive (current question), each cell labelled; '<5' where suppressed, 'old Q'
    where the practice used the old question that month, blank where there were no responses."""
    months = sorted(pm["month"].unique())
    codes = sorted(pm["practice_code"].unique(), key=lambda c: names.get(c, c))
    # one dict lookup per cell: DataFrame.loc per cell took seconds for an ICB's 200 practices × 60 months
    grid = {(r["practice_code"], pd.Timestamp(r["month"])): r for r in pm.to_dict("records")}
    legacy_months = set()
    for r in legacy.itertuples(index=False):
        for mth in pd.date_range(r.first_month, r.last_month, freq="MS"):
            legacy_months.add((r.practice_code, mth))
    z, text, hover = [], [], []
    for c in codes:
        zr, tr_, hr = [], [], []
        for mth in months:
            key = (c, mth)
            row = grid.get((c, pd.Timestamp(mth)))
            v = None if row is None else row["pct_positive"]
            # Only numbers per cell (the practice and month are the axes' labels, the words are in the template):
            # an ICB's 200 practices × 60 months is 12,000 cells, and words in each sent 2 MB to every browser.
            if row is not None and row["total"] != 0 and not pd.isna(v):
                zr.append(round(float(v), 1))
                tr_.append(f"{v:.0f}")
                hr.append([round(float(row["positive_lower"]), 1), round(float(row["positive_upper"]), 1),
                           None if pd.isna(row["total"]) else int(row["total"])])
            else:
                zr.append(np.nan)
                # no hover on an empty cell: its own text says why it is empty (see the caption under the chart)
                tr_.append("old" if key in legacy_months else "<5" if row is not None and row["suppressed"] else "")
                hr.append([None, None, None])
        z.append(zr)
        text.append(tr_)
        hover.append(hr)
    mid = pooled if pooled is not None else 90.0
    fig = go.Figure(go.Heatmap(
        z=z, x=[pd.Timestamp(mth).strftime("%B<br>%Y") for mth in months], y=[names.get(c, c) for c in codes],
        text=text, texttemplate="%{text}", textfont=dict(size=10, color=theme.TEXT), customdata=hover,
        hovertemplate="<b>%{y}</b><br>%{x}<br>%{z:.1f}% positive (95% CI %{customdata[0]:.1f}–%{customdata[1]:.1f}%), "
                      "%{customdata[2]:,} responses<extra></extra>",
        hoverongaps=False,
        colorscale=[[0.0, "#ED8B00"], [0.5, "#FCE8D0"], [0.75, "#F4F6F7"], [1.0, "#A7C8EA"]],
        zmin=mid - 15, zmax=mid + 5, showscale=True, xgap=1, ygap=2,
        colorbar=dict(title=dict(text="% positive", side="right"), thickness=12, len=0.8),
    ))
    _style(fig, None, height or max(200, 90 + 34 * len(codes)))
    fig.update_layout(margin=dict(l=10, r=10, t=16, b=10))
    # months are written in full, so a label every quarter (every half year beyond three years) keeps them apart;
    # each cell's hover still names its own month
    labels = [pd.Timestamp(mth).strftime("%B<br>%Y") for mth in months]
    step = 6 if len(labels) > 36 else 3 if len(labels) > 12 else 1
    fig.update_xaxes(side="top", tickfont=dict(size=9), tickangle=0, showline=False, tickmode="array",
                     tickvals=labels[::step], ticktext=labels[::step])
    fig.update_yaxes(autorange="reversed", showline=False, gridcolor="white", tickfont=dict(size=12))
    return fig


MODE_COLOURS = {"SMS": theme.NHS_BLUE, "Online": theme.NHS_AQUA_GREEN, "Paper": theme.NHS_WARM_YELLOW,
                "Telephone": theme.NHS_DARK_BLUE, "Other": theme.NHS_MID_GREY, "Not recorded": "#C8D0D4"}


def modes_figure(modes: pd.DataFrame, height: int = 340) -> go.Figure:
    fig = go.Figure()
    for mode in [*fb.MODES, "Not recorded"]:
        if mode not in modes or not modes[mode].fillna(0).any():
            continue
        fig.add_trace(go.Bar(x=modes["month"], y=modes[mode], name=mode, marker_color=MODE_COLOURS[mode],
                             hovertemplate=f"{mode} %{{x|%B %Y}}: %{{y:,.0f}}<extra></extra>"))
    fig.update_layout(barmode="stack")
    _style(fig, None, height, y_title="Responses")
    fig.update_xaxes(tickformat="%B %Y")
    return fig


def legacy_figure(monthly: pd.DataFrame, height: int = 300) -> go.Figure:
    return fft_interval_figure(monthly, "positive", None, theme.NHS_DARK_GREY, height=height).update_traces(
        name="% extremely likely or likely to recommend", selector=dict(mode="markers+lines"))


def themes_figure(themes: pd.DataFrame, height: int | None = None) -> go.Figure:
    df = themes.iloc[::-1]
    fig = go.Figure()
    for col, colour, words in (("positive", theme.NHS_BLUE, "Positive answer"),
                               ("neutral", theme.NHS_MID_GREY, "Neither"),
                               ("negative", theme.NHS_ORANGE, "Negative answer")):
        fig.add_trace(go.Bar(y=df["theme"], x=df[col], name=words, orientation="h", marker_color=colour,
                             text=[f"{int(v):,}" if v >= 0.04 * float(df["total"].max()) else "" for v in df[col]],
                             textposition="inside",
                             insidetextanchor="middle",
                             textfont=dict(color="white" if col != "neutral" else theme.TEXT),
                             hovertemplate="%{y}: %{x:,} comments (" + words.lower() + ")<extra></extra>"))
    fig.update_layout(barmode="stack")
    _style(fig, None, height or 80 + 34 * len(df), x_title="Comments mentioning the theme")
    fig.update_layout(legend_traceorder="normal")
    return fig


def complaint_times_figure(summary: pd.DataFrame, ack_days: int, res_days: int) -> go.Figure:
    """Per practice: % acknowledged within the deadline and % resolved within the deadline (labelled bars)."""
    df = summary[summary["practice_code"] != "ALL"].iloc[::-1]
    fig = go.Figure()
    for col, colour, words in (("ack_pct", theme.NHS_BLUE, f"Acknowledged within {ack_days} working days"),
                               ("resolved_pct", theme.NHS_AQUA_GREEN, f"Resolved within {res_days} working days")):
        fig.add_trace(go.Bar(y=df["practice_name"], x=df[col], name=words, orientation="h", marker_color=colour,
                             text=[pct(v, 0) for v in df[col]], textposition="outside", cliponaxis=False,
                             hovertemplate="%{y}: %{x:.1f}% " + words.lower() + "<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.25, legend_traceorder="reversed")
    _style(fig, None, 100 + 46 * len(df), x_title="% of complaints")
    fig.update_xaxes(range=[0, 112])
    return fig
