"""Cached calls and chart builders for the Staff training and Patient feedback pages.

Every cache takes the database URL, the viewer and the filters as arguments (never reads the user inside) and is
bounded by ttl and max_entries. Charts only draw what the data layer has calculated; each is shown with the table it
was drawn from, and colour is always repeated in words, numbers or symbols.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_layer import feedback as fb
from data_layer import training as tr
from data_layer.analytics import RAG_SYMBOLS, RAG_WORDS
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

# Cheap calculations on an already-loaded snapshot: the data layer's own functions, named here for the pages.
compliance_matrix = tr.compliance_matrix
compliance_by_role = tr.compliance_by_role
lapsing_counts = tr.lapsing_counts
lapsing_by_course = tr.lapsing_by_course
chase_list = tr.chase_list
hours_summary = tr.hours_summary
hours_by_person = tr.hours_by_person
ANSWER_WORDS = fb.ANSWER_WORDS
MODES = fb.MODES


def theme_names() -> list[str]:
    """The comment themes declared in federation.toml, in its order."""
    return fb.theme_names(config())


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


def fft_practice_months(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    counts = _fft_counts(database_url(), viewer, filters)
    return fb.fft_practice_months(database(), config(), viewer, filters, counts=counts)


def fft_by_practice(viewer: Viewer, filters: Filters, months: int = 12):
    counts = _fft_counts(database_url(), viewer, filters)
    return fb.fft_by_practice(database(), config(), viewer, filters, months, counts=counts)


def legacy_use(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return fb.legacy_use(database(), config(), viewer, filters, counts=_fft_counts(database_url(), viewer, filters))


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
# Tables and downloads
# ----------------------------------------------------------------------------------------------------------------
def csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as CSV, with text a spreadsheet would run as a formula made inert (patients write '=' too)."""
    out = table.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(inert_for_spreadsheet)
    return out.to_csv(index=False).encode("utf-8")


def table_with_download(table: pd.DataFrame, file_name: str, label: str, key: str, height: int | None = None,
                        column_config: dict | None = None, audited: str | None = None) -> None:
    """Show a table (plain text cells) and offer exactly that table as a CSV download. ``audited`` names
    person-level data ("training chase list"): the download is then recorded in the audit log when clicked."""
    st.dataframe(table, hide_index=True, width="stretch", column_config=column_config,
                 height=height if height is not None else "auto")
    _download(f"Download {label} (CSV)", csv_bytes(table), file_name, key, audited, len(table))


def _download(label: str, data: bytes, file_name: str, key: str, audited: str | None, rows: int) -> None:
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
        st.dataframe(table, hide_index=True, width="stretch", column_config=column_config,
                     height=height if height is not None else "auto")
    _download(f"Download {label} (CSV)", csv_bytes(table), file_name, key, audited, len(table))


def date_text(d) -> str:
    return "–" if d is None or pd.isna(d) else pd.Timestamp(d).strftime("%-d %b %Y")


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


def num_text(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):,.0f}"


def pct(v, digits: int = 1) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):.{digits}f}%"


def month_text(d) -> str:
    return "–" if d is None or pd.isna(d) else pd.Timestamp(d).strftime("%b %Y")


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
PALE_RAG = {"green": "#CDE9D6", "amber": "#FFE9B3", "red": "#F6C9C5", "none": "#F0F4F5"}
# Lapsed, never completed, then each lapsing window from the most urgent (any number of windows).
BUCKET_COLOURS = [theme.NHS_RED, "#8A1538", theme.NHS_ORANGE, theme.NHS_WARM_YELLOW, theme.NHS_LIGHT_BLUE,
                  theme.NHS_PALE_GREY]


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
                tr_.append(f"{r['compliance_pct']:.0f}% {RAG_SYMBOLS[rag] if rag != 'none' else ''}<br>"
                           f"{int(r['in_date'])}/{int(r['required'])}")
                hr.append(f"<b>{p}</b><br>{c}<br>{r['compliance_pct']:.1f}% in date ({int(r['in_date'])} of "
                          f"{int(r['required'])})<br>{int(r['lapsed'])} lapsed, {int(r['never_completed'])} never "
                          f"completed<br>{RAG_WORDS[rag]}")
            else:
                zr.append(np.nan)
                tr_.append("")
                hr.append(f"<b>{p}</b><br>{c}<br>Not required for any of this practice's staff")
        z.append(zr)
        text.append(tr_)
        hover.append(hr)
    colorscale = [[0.0, PALE_RAG["red"]], [0.33, PALE_RAG["red"]], [0.34, PALE_RAG["amber"]],
                  [0.66, PALE_RAG["amber"]], [0.67, PALE_RAG["green"]], [1.0, PALE_RAG["green"]]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[wrap_name(p, 10) for p in practices], y=courses, text=text, texttemplate="%{text}",
        textfont=dict(size=11, color=theme.TEXT), customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale=colorscale, zmin=0, zmax=2, showscale=False, xgap=2, ygap=2,
    ))
    _style(fig, None, height or 110 + 40 * len(courses))
    fig.update_layout(margin=dict(l=10, r=10, t=80, b=10))
    fig.update_xaxes(side="top", tickangle=0, tickfont=dict(size=11), showline=False)
    fig.update_yaxes(autorange="reversed", showline=False, gridcolor="white", tickfont=dict(size=12))
    return fig


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
        fig.add_trace(go.Scatter(
            x=g["period_start"], y=g["value"], mode="lines+markers" if hot else "lines", name=name,
            line=dict(color=colour, width=3 if hot else 1.2, dash="solid"),
            marker=dict(size=5, symbol="diamond"), showlegend=hot, legendgroup="hot" if hot else "others",
            hovertemplate=f"{name} %{{x|%b %Y}}: %{{y:.1f}}<extra></extra>",
        ))
    if highlight != set(series["practice_code"]):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="Other practices",
                                 line=dict(color="#B8C2C7", width=1.2)))
    if federation is not None and not federation.empty:
        fig.add_trace(go.Scatter(x=federation["period_start"], y=federation["value"], mode="lines",
                                 name="Selected practices together", line=dict(color=theme.NHS_BLUE, width=3),
                                 hovertemplate="All selected %{x|%b %Y}: %{y:.1f}<extra></extra>"))
    if target is not None and not series.empty:
        fig.add_trace(go.Scatter(x=[series["period_start"].min(), series["period_start"].max()], y=[target, target],
                                 mode="lines", name=f"Target {target:g}", line=dict(color=theme.NHS_RED, dash="dot")))
    _style(fig, None, height, y_title=unit_title)
    fig.update_xaxes(tickformat="%b %Y")
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
    fig.update_layout(legend=dict(y=1.02, yanchor="bottom", x=0, xanchor="left", traceorder="normal"))
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
    fig.update_xaxes(tickformat="%b %Y", dtick="M1" if len(df) <= 8 else None)
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
            if row is not None and row["total"] != 0 and not pd.isna(v):
                zr.append(float(v))
                tr_.append(f"{v:.0f}")
                hr.append(f"<b>{names.get(c, c)}</b><br>{pd.Timestamp(mth):%B %Y}<br>{v:.1f}% positive "
                          f"(95% CI {row['positive_lower']:.1f}–{row['positive_upper']:.1f}%), "
                          f"{int(row['total']) if not pd.isna(row['total']) else 'hidden'} responses")
            else:
                zr.append(np.nan)
                if key in legacy_months:
                    tr_.append("old")
                    hr.append(f"<b>{names.get(c, c)}</b><br>{pd.Timestamp(mth):%B %Y}<br>Old question: shown separately")
                elif row is not None and row["suppressed"]:
                    tr_.append("<5")
                    hr.append(f"<b>{names.get(c, c)}</b><br>{pd.Timestamp(mth):%B %Y}<br>Not shown (too few responses)")
                else:
                    tr_.append("")
                    hr.append(f"<b>{names.get(c, c)}</b><br>{pd.Timestamp(mth):%B %Y}<br>No responses")
        z.append(zr)
        text.append(tr_)
        hover.append(hr)
    mid = pooled if pooled is not None else 90.0
    fig = go.Figure(go.Heatmap(
        z=z, x=[pd.Timestamp(mth).strftime("%b<br>%y") for mth in months], y=[names.get(c, c) for c in codes],
        text=text, texttemplate="%{text}", textfont=dict(size=10, color=theme.TEXT), customdata=hover,
        hovertemplate="%{customdata}<extra></extra>",
        colorscale=[[0.0, "#ED8B00"], [0.5, "#FCE8D0"], [0.75, "#F4F6F7"], [1.0, "#A7C8EA"]],
        zmin=mid - 15, zmax=mid + 5, showscale=True, xgap=1, ygap=2,
        colorbar=dict(title=dict(text="% positive", side="right"), thickness=12, len=0.8),
    ))
    _style(fig, None, height or max(200, 90 + 34 * len(codes)))
    fig.update_layout(margin=dict(l=10, r=10, t=16, b=10))
    fig.update_xaxes(side="top", tickfont=dict(size=9), tickangle=0, showline=False)
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
                             hovertemplate=f"{mode} %{{x|%b %Y}}: %{{y:,.0f}}<extra></extra>"))
    fig.update_layout(barmode="stack")
    _style(fig, None, height, y_title="Responses")
    fig.update_xaxes(tickformat="%b %Y")
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
    fig.update_layout(legend=dict(y=1.02, yanchor="bottom", x=0, xanchor="left", traceorder="normal"))
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
    fig.update_layout(legend=dict(y=1.02, yanchor="bottom", x=0, xanchor="left"))
    return fig
