"""Cached calls and chart builders for the Staff training page.

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

from data_layer import training as tr
from data_layer.analytics import RAG_SYMBOLS
from data_layer.db import database_url
from data_layer.engine import Filters
from data_layer.scope import Viewer
from ui.data import SCOPE_KEY
from ui import theme
from ui.state import config, database
from ui.page_common import TTL, _style, date_text, wrap_name

# Cheap calculations on an already-loaded snapshot: the data layer's own functions, named here for the pages.
compliance_matrix = tr.compliance_matrix
compliance_by_role = tr.compliance_by_role
lapsing_counts = tr.lapsing_counts
lapsing_by_course = tr.lapsing_by_course
chase_list = tr.chase_list
hours_summary = tr.hours_summary
hours_by_person = tr.hours_by_person


# ----------------------------------------------------------------------------------------------------------------
# Cached data (keyed by database URL, viewer and filters)
# ----------------------------------------------------------------------------------------------------------------
@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _snapshot(url: str, viewer: Viewer, filters: Filters, as_of: date | None) -> tr.Snapshot:
    return tr.snapshot(database(), config(), viewer, filters, as_of)


def training_snapshot(viewer: Viewer, filters: Filters, as_of: date | None = None) -> tr.Snapshot:
    return _snapshot(database_url(), viewer, filters, as_of)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _dates(url: str, filters: Filters, today: date) -> tuple[date | None, date | None]:
    return tr.snapshot_date(database(), filters, today), tr.action_date(database(), filters, today)


def training_dates(filters: Filters) -> tuple[date | None, date | None]:
    """(date the matrix is measured on, date the chase list is worked out for)."""
    return _dates(database_url(), filters, date.today())


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def _training_trends(url: str, viewer: Viewer, filters: Filters):
    return tr.compliance_trends(database(), config(), viewer, filters)


def training_trends(viewer: Viewer, filters: Filters):
    return _training_trends(database_url(), viewer, filters)


def chase_reason(r) -> str:
    """Why an item is on the chase list, in words (one row of training.chase_list)."""
    if r.status == "never completed":
        return "No completion on record"
    if r.rule == "hours" and r.status == "lapsed":
        return (f"{r.hours_in_window:g} of {r.required_hours:g} hours done in the rolling window")
    if r.status == "lapsed":
        return f"Expired {date_text(r.expires_on)}"
    days = int(r.days_left)
    if days == 0:
        return f"Expires today ({date_text(r.expires_on)})"
    return f"Expires {date_text(r.expires_on)} (in {days} day{'s' if days != 1 else ''})"


# ----------------------------------------------------------------------------------------------------------------
# Charts
# ----------------------------------------------------------------------------------------------------------------
PALE_RAG = {"green": "#CDE9D6", "amber": "#FFE9B3", "red": "#F6C9C5", "none": "#F0F4F5"}
# Lapsed, never completed, then each lapsing window from the most urgent (any number of windows).
BUCKET_COLOURS = [theme.NHS_RED, "#8A1538", theme.NHS_ORANGE, theme.NHS_WARM_YELLOW, theme.NHS_LIGHT_BLUE,
                  theme.NHS_PALE_GREY]


def compliance_heatmap(matrix: pd.DataFrame, target: float | None, tolerance: float, height: int | None = None
                       ) -> go.Figure:
    """Courses (rows) × practices (columns): each cell says its % and count in date of required, with the RAG
    symbol against the training target; the colour repeats the symbol."""
    practices = list(dict.fromkeys(matrix.loc[matrix["practice_code"] != "ALL", "practice_name"])) + [
        "All selected practices"]
    body = matrix[matrix["course"] != "ALL"].sort_values("course_name")
    courses = list(dict.fromkeys(body["course_name"])) + ["All required training"]
    # one dict lookup per cell (DataFrame.loc per cell took seconds for an ICB's 200 practices)
    grid = {}
    for r in matrix.to_dict("records"):
        grid.setdefault((r["course_name"], r["practice_name"]), r)
    levels = {"green": 2, "amber": 1, "red": 0}
    z, text, hover = [], [], []
    for c in courses:
        zr, tr_, hr = [], [], []
        for p in practices:
            if (c, p) in grid:
                r = grid[(c, p)]
                rag = r["rag"]  # the data layer's RAG (policy.status), never worked out here
                zr.append(levels.get(rag, np.nan))
                tr_.append(f"{cell_pct(r['compliance_pct'], rag)} {RAG_SYMBOLS[rag] if rag != 'none' else ''}<br>"
                           f"{int(r['in_date'])}/{int(r['required'])}")
                # only what the cell's own text does not say (names are the axes' labels, the share, symbol and
                # counts the cell's text, words the template's): 200 practices' hover in words sent a megabyte
                hr.append([int(r["lapsed"]), int(r["never_completed"])])
            else:
                zr.append(np.nan)  # not required for any of this practice's staff: empty, no hover
                tr_.append("")
                hr.append([None] * 2)
        z.append(zr)
        text.append(tr_)
        hover.append(hr)
    colorscale = [[0.0, PALE_RAG["red"]], [0.33, PALE_RAG["red"]], [0.34, PALE_RAG["amber"]],
                  [0.66, PALE_RAG["amber"]], [0.67, PALE_RAG["green"]], [1.0, PALE_RAG["green"]]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[wrap_name(p, 10) for p in practices], y=courses, text=text, texttemplate="%{text}",
        textfont=dict(size=11, color=theme.TEXT), customdata=hover, hoverongaps=False,
        hovertemplate="<b>%{x}</b><br>%{y}<br>In date: %{text}<br>%{customdata[0]} lapsed, %{customdata[1]} never "
                      "completed<extra></extra>",
        colorscale=colorscale, zmin=0, zmax=2, showscale=False, xgap=2, ygap=2,
    ))
    _style(fig, None, height or 110 + 40 * len(courses))
    fig.update_layout(margin=dict(l=10, r=10, t=80, b=10))
    fig.update_xaxes(side="top", tickangle=0, tickfont=dict(size=11), showline=False)
    fig.update_yaxes(autorange="reversed", showline=False, gridcolor="white", tickfont=dict(size=12))
    return fig


def cell_pct(value: float, rag: str) -> str:
    """A heatmap cell's figure: whole numbers where it meets the target, one decimal otherwise, as the RAG is judged
    at one decimal (so 94.96% near a 95% target reads "95.0% ▲", never "95% ▲ Near target")."""
    return f"{value:.0f}%" if rag in ("green", "none") else f"{value:.1f}%"


def role_bars(by_role: pd.DataFrame, target: float | None, tolerance: float = 0.0) -> go.Figure:
    df = by_role.copy()
    symbols = [RAG_SYMBOLS[r] if target is not None else "" for r in df["rag"]]
    labels = [f"{v:.1f}% {s} ({int(i)}/{int(r)})" for v, s, i, r in zip(df["compliance_pct"], symbols, df["in_date"],
                                                                        df["required"])]
    colours = [theme.NHS_DARK_BLUE if r == "All roles" else theme.NHS_BLUE for r in df["role"]]
    fig = go.Figure(go.Bar(x=df["compliance_pct"], y=df["role"], orientation="h", text=labels,
                           textposition="outside", marker_color=colours, cliponaxis=False,
                           hovertemplate="%{y}: %{x:.1f}% in date<extra></extra>", name="In date"))
    if target is not None:
        fig.add_vline(x=target, line=dict(color=theme.NHS_RED, dash="dot", width=2),
                      annotation_text=f"Target {target:g}%", annotation_position="top")
    lo = max(0.0, float(np.nanmin(df["compliance_pct"])) - 15) if len(df) else 0
    _style(fig, None, 80 + 38 * len(df), x_title="% of required training in date")
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10))
    fig.update_xaxes(range=[lo, 100 + (100 - lo) * 0.35], tickvals=[v for v in range(0, 101, 5 if lo > 60 else 10)
                                                                   if v >= lo])
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return fig


def practice_lines(series: pd.DataFrame, names: dict[str, str], highlight: set[str], federation: pd.DataFrame | None,
                   unit_title: str, target: float | None = None, height: int = 380) -> go.Figure:
    """Every practice's monthly value as a thin grey line; highlighted practices drawn in colour and named, the
    selected practices together in NHS blue."""
    fig = go.Figure()
    palette = [theme.NHS_ORANGE, "#8A1538", "#330072", theme.NHS_AQUA_GREEN]
    k = 0
    for code, g in series.groupby("practice_code", sort=True):
        g = g.sort_values("period_start")
        hot = code in highlight
        name = names.get(code, code)
        colour = palette[k % len(palette)] if hot else "#B8C2C7"
        k += int(hot)
        # months as "2026-10" and values as the one decimal shown (plain lists: plotly sends numpy arrays as
        # 8-byte binary): an ICB's 200 lines × 60 months as timestamps and doubles were half a megabyte to send
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(g["period_start"]).dt.strftime("%Y-%m").tolist(),
            y=[None if pd.isna(v) else round(float(v), 1) for v in g["value"]],
            mode="lines+markers" if hot else "lines", name=name,
            line=dict(color=colour, width=3 if hot else 1.2, dash="solid"),
            marker=dict(size=5, symbol="diamond") if hot else None, showlegend=hot,
            legendgroup="hot" if hot else "others",
            hovertemplate=f"{name} %{{x|%B %Y}}: %{{y:.1f}}<extra></extra>",
        ))
    if highlight != set(series["practice_code"]):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="Other practices",
                                 line=dict(color="#B8C2C7", width=1.2)))
    if federation is not None and not federation.empty:
        fig.add_trace(go.Scatter(x=federation["period_start"], y=federation["value"], mode="lines",
                                 name="Selected practices together", line=dict(color=theme.NHS_BLUE, width=3),
                                 hovertemplate="All selected %{x|%B %Y}: %{y:.1f}<extra></extra>"))
    if target is not None and not series.empty:
        fig.add_trace(go.Scatter(x=[series["period_start"].min(), series["period_start"].max()], y=[target, target],
                                 mode="lines", name=f"Target {target:g}", line=dict(color=theme.NHS_RED, dash="dot")))
    _style(fig, None, height, y_title=unit_title)
    fig.update_xaxes(tickformat="%B %Y")
    return fig


def lapsing_bars(counts: pd.DataFrame) -> go.Figure:
    df = counts[counts["practice_code"] != "ALL"].iloc[::-1]
    fig = go.Figure()
    buckets = [c for c in counts.columns if c not in ("practice_code", "practice_name", "Total to act on")]
    for i, b in enumerate(buckets):
        fig.add_trace(go.Bar(
            y=df["practice_name"], x=df[b], name=b, orientation="h",
            marker_color=BUCKET_COLOURS[min(i, len(BUCKET_COLOURS) - 1)],
            text=[str(int(v)) if v else "" for v in df[b]], textposition="inside", insidetextanchor="middle",
            textfont=dict(color="white" if i < 2 else theme.TEXT),
            hovertemplate="%{y}: %{x} " + b.lower() + "<extra></extra>",
        ))
    fig.update_layout(barmode="stack")
    _style(fig, None, 90 + 30 * len(df), x_title="Required training items to act on")
    fig.update_layout(legend_traceorder="normal")
    return fig


def hours_bars(summary: pd.DataFrame) -> go.Figure:
    """Per hours-based course: % of staff meeting their hours in the rolling window (all selected practices)."""
    df = summary[summary["practice_code"] == "ALL"]
    labels = [f"{p:.0f}%  ({int(mt)}/{int(s)} staff)" for p, mt, s in zip(df["meeting_pct"], df["meeting"],
                                                                          df["staff"])]
    names = [f"{c} ({h:g} h / {int(w)} months)" for c, h, w in zip(df["course_name"], df["required_hours"],
                                                                    df["window_months"])]
    fig = go.Figure(go.Bar(x=df["meeting_pct"], y=names, orientation="h", text=labels, textposition="outside",
                           cliponaxis=False, marker_color=theme.NHS_AQUA_GREEN,
                           hovertemplate="%{y}: %{x:.1f}% meet their hours<extra></extra>"))
    _style(fig, None, 70 + 44 * len(df), x_title="% of staff meeting the hours required over the rolling window")
    fig.update_xaxes(range=[0, 135], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_yaxes(autorange="reversed")
    return fig


def person_hours(rows: pd.DataFrame) -> go.Figure:
    """Hours done in the window against the hours required, one bar per person and course."""
    df = rows.iloc[::-1]
    label = [f"{n} – {c.replace('Safeguarding ', 'SG ')}" for n, c in zip(df["name"], df["course_name"])]
    met = df["status"].isin(["in date", "lapsing"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=df["hours_in_window"], y=label, orientation="h", name="Hours done in the window",
                         marker_color=np.where(met, theme.NHS_AQUA_GREEN, theme.NHS_ORANGE),
                         text=[f"{h:g} of {r:g} h{'' if ok else ' ✖ short'}" for h, r, ok in
                               zip(df["hours_in_window"], df["required_hours"], met)],
                         textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: %{x:g} hours<extra></extra>"))
    fig.add_trace(go.Scatter(x=df["required_hours"], y=label, mode="markers", name="Hours required",
                             marker=dict(symbol="line-ns-open", size=14, color=theme.TEXT, line=dict(width=3)),
                             hovertemplate="%{y}: %{x:g} hours required<extra></extra>"))
    _style(fig, None, 90 + 26 * len(df), x_title="Hours in the rolling window")
    fig.update_xaxes(range=[0, max(float(df["hours_in_window"].max() or 0), float(df["required_hours"].max())) * 1.3])
    return fig


# The two big training figures (every practice × course; every practice's line) are built once per scope and
# filters and shared, not rebuilt on every run of the page (figures are never changed after they are built).
@st.cache_resource(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def compliance_heatmap_for(viewer: Viewer, filters: Filters, as_of: date | None, target, tolerance):
    return compliance_heatmap(tr.compliance_matrix(training_snapshot(viewer, filters, as_of)), target, tolerance)


@st.cache_resource(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def practice_lines_for(viewer: Viewer, filters: Filters, code: str, names: tuple, hot: tuple, fed_key: tuple,
                       unit_title: str, target):
    from ui.page_common import practice_series

    fed = pd.DataFrame(list(fed_key), columns=["period_start", "value"]) if fed_key else None
    return practice_lines(practice_series(viewer, filters, code), dict(names), set(hot), fed, unit_title, target)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def compliance_matrix_for(viewer: Viewer, filters: Filters, as_of: date | None) -> pd.DataFrame:
    return tr.compliance_matrix(training_snapshot(viewer, filters, as_of))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def chase_table_for(viewer: Viewer, filters: Filters, as_of: date | None, buckets: tuple[str, ...]) -> pd.DataFrame:
    """The chase list as the page shows it (names only for the viewer's person-level practices), built once per
    scope, filters and chosen buckets: thousands of rows at ICB size."""
    from ui.page_common import date_text

    chase = tr.chase_list(training_snapshot(viewer, filters, as_of), viewer)
    chosen = chase[chase["bucket"].isin(buckets)]
    return pd.DataFrame({
        "Practice": chosen["practice_name"], "Name": chosen["name"], "Role": chosen["role"],
        "Course": chosen["course_name"], "What to do": chosen["bucket"],
        "Why": [chase_reason(r) for r in chosen.itertuples(index=False)],
        "Last completed": [date_text(d) for d in chosen["last_completed"]],
        "Expires": [date_text(d) for d in chosen["expires_on"]],
    })
