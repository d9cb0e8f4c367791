"""Plotly figure builders shared by every page: XmR (SPC) charts, funnel plots, the practice × measure matrix and
small trend charts. They only draw what the engine has already calculated; no statistics are worked out here.

Colours follow Making Data Count (blue improvement, orange concern, purple neutral, grey common cause), but every
coloured point also carries its meaning in a different marker shape and in hover text, and every chart has a table
behind it on the page, so colour never carries meaning alone.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_layer.engine import KPIResult, format_value
from data_layer.policy.words import month as month_words
from ui import theme
from ui.text import inert_figure

FONT = "Arial, Helvetica, sans-serif"
POINT_STYLE = {  # point type -> (colour, marker symbol, legend words)
    "improvement": (theme.NHS_BLUE, "circle", "Improvement (special cause)"),
    "concern": (theme.NHS_ORANGE, "diamond", "Concern (special cause)"),
    "neutral special cause": (theme.MDC_COLOURS["neutral special cause"], "square", "Unusual (special cause)"),
}
FUNNEL_STYLE = {  # funnel position -> (colour, marker symbol, legend words)
    "better": (theme.NHS_BLUE, "triangle-up", "Better than expected (outside 99.8%)"),
    "worse": (theme.NHS_ORANGE, "triangle-down", "Worse than expected (outside 99.8%)"),
    "above": (theme.MDC_COLOURS["neutral special cause"], "triangle-up", "Higher than expected (outside 99.8%)"),
    "below": (theme.MDC_COLOURS["neutral special cause"], "triangle-down", "Lower than expected (outside 99.8%)"),
    "within": (theme.NHS_DARK_GREY, "circle", "Within the funnel"),
    "not compared": (theme.NHS_MID_GREY, "circle-open", "Not compared"),
}


def _layout(fig: go.Figure, title: str | None, height: int, y_title: str = "") -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16, color=theme.NHS_DARK_BLUE)) if title else None,
        height=height,
        margin=dict(l=10, r=10, t=48 if title else 16, b=10),
        font=dict(family=FONT, size=13, color=theme.TEXT),
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="closest",
        # under the plot, measured from the foot of the chart: plotly makes room for it however many lines it
        # wraps to on a phone, so it never covers the title, the axis or the mode bar's corner
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0,
                    font=dict(size=12), bgcolor="rgba(255,255,255,0.8)"),
        hoverlabel=dict(font=dict(family=FONT, size=13)),
    )
    fig.update_xaxes(showgrid=False, linecolor=theme.NHS_MID_GREY, ticks="outside", tickcolor=theme.NHS_MID_GREY)
    fig.update_yaxes(gridcolor=theme.NHS_PALE_GREY, zeroline=False, linecolor=theme.NHS_MID_GREY,
                     title=dict(text=y_title, font=dict(size=13)))
    return inert_figure(fig)  # names from data never draw a link


def _unit_axis(unit: str) -> str:
    return {"%": "%", "count": "Number"}.get(unit, unit)


def _fmt(v, unit: str) -> str:
    return format_value(None if v is None or pd.isna(v) else float(v), unit)


def empty_figure(message: str, height: int = 240) -> go.Figure:
    """A blank chart that says why it is blank (pages usually show st.info instead)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color=theme.NHS_DARK_GREY))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, None, height)


# ---------------------------------------------------------------------------------------------------------------
# SPC (XmR) chart
# ---------------------------------------------------------------------------------------------------------------
# --- Notes on the charts ------------------------------------------------------------------------------------------
NOTE_COLUMNS = ["month", "text", "rebase", "practice_code"]
NOTE_LABEL_MAX = 32


@st.cache_data(ttl=300, max_entries=256, show_spinner=False)
def chart_notes(indicator_code: str, practice_code: str | None = None) -> pd.DataFrame:
    """The notes on one series' charts (every practice's notes, plus the practice's own on a practice's chart).
    Cleared by the page that adds or removes a note."""
    from data_layer.governance import notes
    from ui import state

    return notes.notes_for(state.database(), indicator_code, practice_code)


def _notes_in_range(notes: pd.DataFrame | None, x: pd.DatetimeIndex) -> pd.DataFrame:
    if notes is None or notes.empty or not len(x):
        return pd.DataFrame(columns=NOTE_COLUMNS)
    months = pd.to_datetime(notes["month"])
    return notes[(months >= x.min()) & (months <= x.max())].assign(month=months).sort_values("month")


def _note_label(row) -> str:
    text = str(row["text"])
    short = text if len(text) <= NOTE_LABEL_MAX else text[:NOTE_LABEL_MAX - 1].rstrip() + "…"
    return ("Limits restart: " if row["rebase"] else "") + short


def _draw_notes(fig: go.Figure, notes: pd.DataFrame) -> None:
    """A vertical line at each note's month with its words above the plot (hover for the whole note); a rebase note
    is drawn solid (the limits restart there), any other note dotted. Text from people is escaped: never markup."""
    for i, row in enumerate(notes.to_dict("records")):
        x = pd.Timestamp(row["month"])
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                      line=dict(color=theme.NHS_DARK_GREY if row["rebase"] else theme.NHS_MID_GREY, width=1.5,
                                dash="solid" if row["rebase"] else "dot"))
        where = "" if not row.get("practice_code") else f" ({row['practice_code']})"
        fig.add_annotation(x=x, xref="x", yref="paper", y=1.0 if i % 2 == 0 else 0.93, yanchor="bottom",
                           xanchor="left", showarrow=False, text=html.escape(_note_label(row)),
                           hovertext=html.escape(f"{x:%B %Y}{where}: {row['text']}"
                                                 + (" (the limits restart from this month)" if row["rebase"] else "")),
                           font=dict(size=11, color=theme.TEXT), bgcolor="rgba(255,255,255,0.85)", borderpad=2)


def notes_table(notes: pd.DataFrame | None) -> pd.DataFrame:
    """The notes on a chart in words, for the page under it and the "how is this calculated" panel."""
    if notes is None or notes.empty:
        return pd.DataFrame(columns=["Month", "Note", "Practice", "Limits restart"])
    return pd.DataFrame({
        "Month": pd.to_datetime(notes["month"]).dt.strftime("%B %Y"),
        "Note": notes["text"].astype(str),
        "Practice": [c if c else "Every practice" for c in notes["practice_code"]],
        "Limits restart": ["Yes: the limits are recalculated from this month" if r else "No"
                           for r in notes["rebase"]],
    })


def spc_table(result: KPIResult, notes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exactly what :func:`spc_figure` draws, one row per month, in words (the table behind the chart), with the
    notes at their months when ``notes`` are given."""
    unit = result.indicator.unit
    s = result.spc
    if s is None or s.points.empty:
        return pd.DataFrame(columns=["Month", "Value", "Mean", "Lower process limit", "Upper process limit",
                                     "Target", "Special cause", "Rule"])
    p = s.points
    out = pd.DataFrame({
        "Month": [month_words(d) for d in pd.to_datetime(p.index)],
        "Value": p["value"].round(3).to_numpy(),
        "Mean": p["mean"].round(3).to_numpy(),
        "Lower process limit": p["lower_limit"].round(3).to_numpy(),
        "Upper process limit": p["upper_limit"].round(3).to_numpy(),
        "Target": result.target if result.target is not None else np.nan,
        "Special cause": np.where(p["special_cause"], p["point_type"], "no (common cause)"),
        "Rule": p["rules"].to_numpy(),
    })
    if notes is not None and not notes.empty:
        by_month = {}
        for row in notes.to_dict("records"):
            key = f"{pd.Timestamp(row['month']):%Y-%m}"
            by_month[key] = "; ".join(filter(None, [by_month.get(key), _note_label(row)]))
        out["Note"] = out["Month"].map(by_month).fillna("")
    if unit == "%":
        out = out.rename(columns={c: f"{c} (%)" for c in ("Value", "Mean", "Lower process limit",
                                                         "Upper process limit", "Target")})
    return out


def spc_caption(result: KPIResult, rules: bool = True) -> str:
    """One plain-words line under an SPC chart: what the latest point says, assurance, run length and trial limits
    (``rules=False`` leaves out the sentence listing the rules, for pages that state them once)."""
    s = result.spc
    if s is None:
        return "Not enough data for a control chart: at least two months are needed."
    # words only: the Making Data Count icons (ui.mdc_icons) stand beside the chart, never stray letters here
    parts = [f"{s.variation_text}."]
    if result.target is not None:
        assurance = s.assurance_text
        if s.assurance in ("pass", "fail") and s.variation != "common_cause":
            # the limits span the old and the new process: the assurance icon describes neither on its own
            assurance += (" (judged on limits that span a change: a rebase note at the change recalculates them, "
                          "to judge the new level)")
        parts.append(assurance + ".")
    n_special = int(s.points["special_cause"].sum())
    parts.append(f"{s.n_points} points; {n_special} special-cause point{'s' if n_special != 1 else ''}.")
    if rules:
        parts.append(f"Rules: a point outside the limits, a shift or trend of {s.run_length} points in a row "
                     f"(run length {s.run_length}), or 2 of 3 points near a limit.")
    if s.trial_limits:
        parts.append("Trial limits: fewer than 12 points, so treat signals with caution.")
    return " ".join(parts)


def spc_figure(result: KPIResult, title: str | None = None, height: int = 380, notes: pd.DataFrame | None = None,
               practice: str | None = None) -> go.Figure:
    """Making Data Count XmR chart of one indicator: values, mean, process limits, target and special causes, and
    the series' notes at their months. ``notes`` (month, text, rebase, practice_code): default the stored notes of
    the series — the notes on every practice, plus ``practice``'s own on a practice's chart."""
    s = result.spc
    ind = result.indicator
    unit = ind.unit
    if s is None or s.points.empty:
        fig = empty_figure("Not enough data for a control chart (at least two months are needed)", height)
        return _layout(fig, title, height)
    p = s.points.copy()
    x = pd.to_datetime(p.index)
    fig = go.Figure()

    # limits and mean per segment, so a rebased chart shows steps rather than a line joining two processes
    for seg_no, seg in p.assign(_x=x).groupby("segment", sort=True):
        first = seg_no == p["segment"].min()
        for col, name, dash, colour, width in (
            ("upper_limit", "Process limits", "dash", theme.NHS_DARK_GREY, 1.3),
            ("lower_limit", "Process limits", "dash", theme.NHS_DARK_GREY, 1.3),
            ("mean", "Mean", "solid", theme.NHS_DARK_GREY, 1.6),
        ):
            fig.add_trace(go.Scatter(
                x=seg["_x"], y=seg[col], mode="lines", name=name,
                line=dict(color=colour, dash=dash, width=width),
                legendgroup=name, showlegend=bool(first and col != "lower_limit"),
                hovertemplate=f"{name.rstrip('s') if col != 'mean' else 'Mean'}: %{{y:.2f}}<extra></extra>",
            ))
    if result.target is not None:
        fig.add_trace(go.Scatter(
            x=[x.min(), x.max()], y=[result.target, result.target], mode="lines", name="Target",
            line=dict(color=theme.NHS_RED, dash="dot", width=2),
            hovertemplate=f"Target: {_fmt(result.target, unit)}<extra></extra>",
        ))

    hover = [
        f"<b>{d:%B %Y}</b><br>{_fmt(v, unit)}" + (f"<br>{pt.capitalize()}: {rules}" if special else
                                                  "<br>Common cause variation")
        for d, v, pt, rules, special in zip(x, p["value"], p["point_type"], p["rules"], p["special_cause"])
    ]
    fig.add_trace(go.Scatter(
        x=x, y=p["value"], mode="lines+markers", name="Monthly value",
        line=dict(color=theme.NHS_MID_GREY, width=2),
        marker=dict(color=theme.NHS_MID_GREY, size=6),
        text=hover, hovertemplate="%{text}<extra></extra>",
    ))
    for point_type, (colour, symbol, words) in POINT_STYLE.items():
        mask = p["special_cause"].to_numpy() & (p["point_type"] == point_type).to_numpy()
        if not mask.any():
            continue
        fig.add_trace(go.Scatter(
            x=x[mask], y=p["value"][mask], mode="markers", name=words,
            marker=dict(color=colour, size=10, symbol=symbol, line=dict(color="white", width=1)),
            text=[h for h, k in zip(hover, mask) if k], hovertemplate="%{text}<extra></extra>",
        ))

    y_all = pd.concat([p["value"], p["upper_limit"], p["lower_limit"]]).dropna()
    if result.target is not None:
        y_all = pd.concat([y_all, pd.Series([result.target])])
    if len(y_all):
        lo, hi = float(y_all.min()), float(y_all.max())
        pad = (hi - lo) * 0.08 or 1.0
        lo, hi = lo - pad, hi + pad
        if unit == "%":
            lo, hi = max(lo, 0.0), min(hi, 100.0 + pad / 2)
        elif lo < 0 <= float(p["value"].min()):
            lo = 0.0
        fig.update_yaxes(range=[lo, hi])
    if s.trial_limits:
        fig.add_annotation(text="Trial limits (fewer than 12 points)", xref="paper", yref="paper", x=0, y=1.0,
                           xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(size=12, color=theme.TEXT), bgcolor=theme.NHS_WARM_YELLOW, borderpad=3)
    shown = _notes_in_range(chart_notes(ind.code, practice) if notes is None else notes, x)
    _draw_notes(fig, shown)
    _layout(fig, title, height, _unit_axis(unit))
    fig.update_layout(margin=dict(b=78))  # the legend's room under the chart (see _layout)
    if not shown.empty:  # room above the plot for the notes' words
        fig.update_layout(margin=dict(t=(48 if title else 16) + 24))
    fig.update_xaxes(tickformat="%B %Y")
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Funnel plot
# ---------------------------------------------------------------------------------------------------------------
def funnel_figure(points: pd.DataFrame, pooled: float, unit: str, title: str | None = None,
                  limits: pd.DataFrame | None = None, height: int = 420, multiplier: float | None = None,
                  x_title: str = "Denominator") -> go.Figure:
    """Funnel plot: each practice's value against its denominator, with 95% and 99.8% limits around the pooled value.

    ``points``: label, numerator, denominator, value (in the indicator's unit, e.g. % 0..100), position (better /
    worse / similar / within / above / below / not compared; "similar" is drawn as within). ``pooled`` is in the same
    unit as ``value``. ``limits`` (optional) is ``analytics.funnel_limits`` output (proportions 0..1) over a smooth
    range of denominators; if omitted it is computed from the pooled value. ``multiplier`` turns a proportion into
    the unit (100 for %, 10,000 for "per 10,000"; default 100 for % and 1 otherwise). An optional bool column
    ``highlight`` marks the practices chosen in the filters (drawn larger, label in bold).
    """
    fig = go.Figure()
    if points is None or points.empty or pooled is None or pd.isna(pooled):
        return _layout(empty_figure("No practices to compare for this period", height), title, height)
    scale = float(multiplier) if multiplier else (100.0 if unit == "%" else 1.0)
    points = points[pd.to_numeric(points["value"], errors="coerce").notna()]
    if points.empty:
        return _layout(empty_figure("No practices to compare for this period", height), title, height)
    den = pd.to_numeric(points["denominator"], errors="coerce")
    if limits is None:
        from data_layer.analytics import funnel_limits

        hi_n = float(den.max()) * 1.15 if den.notna().any() else 100.0
        lo_n = max(1.0, float(den.min()) * 0.6) if den.notna().any() else 1.0
        limits = funnel_limits(pooled / scale, np.unique(np.geomspace(lo_n, hi_n, 120).round()))
    if limits is not None and not limits.empty:
        for col, name, dash, width, show in (
            ("upper_99_8", "99.8% limits", "dash", 1.4, True), ("lower_99_8", "99.8% limits", "dash", 1.4, False),
            ("upper_95", "95% limits", "dot", 1.2, True), ("lower_95", "95% limits", "dot", 1.2, False),
        ):
            if col in limits:
                fig.add_trace(go.Scatter(
                    x=limits["denominator"], y=limits[col] * scale, mode="lines", name=name, legendgroup=name,
                    showlegend=show, line=dict(color=theme.NHS_DARK_GREY, dash=dash, width=width),
                    hovertemplate=f"{name}: %{{y:.1f}} at %{{x:,.0f}}<extra></extra>",
                ))
        x_range = [float(limits["denominator"].min()), float(limits["denominator"].max())]
    else:
        x_range = [0.0, float(den.max()) * 1.1 if den.notna().any() else 1.0]
    fig.add_trace(go.Scatter(
        x=x_range, y=[pooled, pooled], mode="lines", name=f"Federation {_fmt(pooled, unit)}",
        line=dict(color=theme.NHS_BLUE, width=2), hovertemplate=f"Federation: {_fmt(pooled, unit)}<extra></extra>",
    ))
    pos = points["position"].astype("str").replace({"similar": "within", "higher": "above", "lower": "below"})
    # alternate labels above and below the points, by size, so neighbours' names do not overprint
    rank = pd.to_numeric(points["denominator"], errors="coerce").rank(method="first").fillna(0).astype(int)
    label_pos = pd.Series(np.where(rank % 2 == 0, "top center", "bottom center"), index=points.index)
    for key, (colour, symbol, words) in FUNNEL_STYLE.items():
        sel = points[(pos == key).to_numpy()]
        if sel.empty:
            continue
        hover = [f"<b>{lab}</b><br>{_fmt(v, unit)} ({num:,.0f} of {d:,.0f})<br>{words}"
                 for lab, v, num, d in zip(sel["label"], sel["value"], sel["numerator"], sel["denominator"])]
        chosen = sel["highlight"].astype(bool).to_numpy() if "highlight" in sel else np.zeros(len(sel), bool)
        # practices at the very same spot share one label ("Foxglove, Millstream") instead of overprinting
        spot = list(zip(pd.to_numeric(sel["denominator"]).round(6), pd.to_numeric(sel["value"]).round(6)))
        names = [f"<b>{short_practice_name(str(lab))}</b>" if c else short_practice_name(str(lab))
                 for lab, c in zip(sel["label"], chosen)]
        shared: dict = {}
        for key, name in zip(spot, names):
            shared.setdefault(key, []).append(name)
        seen: set = set()
        texts = []
        for key in spot:
            texts.append("" if key in seen else ", ".join(shared[key]))
            seen.add(key)
        fig.add_trace(go.Scatter(
            x=sel["denominator"], y=sel["value"], mode="markers+text", name=words,
            marker=dict(color=colour, size=np.where(chosen, 16, 11), symbol=symbol,
                        line=dict(color=np.where(chosen, theme.TEXT, "white"), width=np.where(chosen, 2, 1))),
            text=texts, cliponaxis=False,
            textposition=label_pos[sel.index].tolist(),
            textfont=dict(size=11, color=theme.TEXT),
            hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        ))
    _layout(fig, title, height, _unit_axis(unit))
    fig.update_xaxes(title=dict(text=x_title, font=dict(size=13)), tickformat=",")
    vals = pd.concat([pd.to_numeric(points["value"], errors="coerce"), pd.Series([pooled])]).dropna()
    if len(vals) and limits is not None and not limits.empty:
        # show the whole funnel over the practices' range of sizes, not the near-vertical mouth at tiny denominators
        at_smallest = limits.loc[(limits["denominator"] - float(den.min())).abs().idxmin()]
        lo = min(float(vals.min()), float(at_smallest.get("lower_99_8", np.nan)) * scale)
        hi = max(float(vals.max()), float(at_smallest.get("upper_99_8", np.nan)) * scale)
        pad = (hi - lo) * 0.08 or 1.0
        fig.update_yaxes(range=[max(lo - pad, 0.0), min(hi + pad, 100.0 + pad / 2) if unit == "%" else hi + pad])
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Practice × measure matrix
# ---------------------------------------------------------------------------------------------------------------
# Pale tints so dark text keeps a contrast above 4.5:1; the cell text carries the meaning (value and ✔ ▲ ✖).
MATRIX_FILLS = {"red": "#F6D0CB", "amber": "#FFEBBA", "green": "#D3EEDB", "none": "#EDF1F2", "missing": "#FFFFFF"}
_MATRIX_ORDER = ["red", "amber", "green", "none", "missing"]


_NAME_ENDINGS = (" Medical Centre", " Health Centre", " Medical Practice", " Family Practice", " Medical Group",
                 " Surgery", " Practice", " Health Centre", " Medical Center")


def short_practice_name(name: str) -> str:
    """'Harbour View Surgery' -> 'Harbour View': column headings in the matrix (the hover keeps the full name)."""
    for ending in _NAME_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending) + 2:
            return name[: -len(ending)]
    return name


def _wrap(label: str, width: int = 12) -> str:
    words, lines, line = str(label).split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


def _short(label: str, width: int = 46) -> str:
    label = str(label)
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def _cell_lines(text: str, width: int = 8) -> str:
    """A matrix cell's words over two lines when they are longer than a cell is wide (about eight characters)."""
    if len(text) <= width + 1:
        return text
    value, bracket, rest = text.partition(" (")  # "100% (too few)": the value, then why it is not judged
    return f"{value}<br>({rest}" if bracket else _wrap(text, width)


def matrix_figure(matrix: pd.DataFrame, title: str | None = None, height: int | None = None) -> go.Figure:
    """Heatmap of measures (rows) × practices (columns), each cell labelled with its value and RAG symbol.

    ``matrix`` is ``data_layer.views.practice_matrix`` output: measure, practice, text, rag, suppressed, status,
    comparison, latest_period. Fill follows the RAG status in pale tints; the words are always in the cell and the
    hover, so colour never carries meaning alone.
    """
    if matrix is None or matrix.empty:
        return empty_figure("No practices or measures to show", height or 300)
    cols = list(dict.fromkeys(matrix["practice"]))
    rows = list(dict.fromkeys(matrix["measure"]))
    key = matrix.set_index(["measure", "practice"])
    n = len(_MATRIX_ORDER)
    z, text, hover = [], [], []
    for r in rows:
        z_row, t_row, h_row = [], [], []
        for c in cols:
            if (r, c) not in key.index:
                z_row.append(_MATRIX_ORDER.index("missing"))
                t_row.append("")
                h_row.append("No data")
                continue
            cell = key.loc[(r, c)]
            missing = bool(cell["suppressed"]) or cell["value"] is None or pd.isna(cell["value"])
            z_row.append(_MATRIX_ORDER.index("missing" if missing else str(cell["rag"])))
            t_row.append(str(cell["text"]))
            # Per cell only what differs (practice and measure are the axes' labels, the value is the cell's text):
            # the words of every cell repeated in full sent 1.9 MB to every browser for an ICB's 6,600 cells.
            bits = [str(cell["status"])]
            if not pd.isna(cell["latest_period"]):
                bits.insert(0, f"{pd.Timestamp(cell['latest_period']):%B %Y}")
            if cell.get("comparison"):
                bits.append(str(cell["comparison"]))
            h_row.append("<br>".join(bits))
        z.append(z_row)
        text.append(t_row)
        hover.append(h_row)
    scale = []
    for i, name in enumerate(_MATRIX_ORDER):
        scale += [[i / n, MATRIX_FILLS[name]], [(i + 1) / n, MATRIX_FILLS[name]]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[_wrap(short_practice_name(c), 8) for c in cols], y=[_short(r) for r in rows],
        # a longer cell ("100% (too few)", "not received") on two lines, so it never runs into the next cell
        text=[[f"<b>{_cell_lines(t)}</b>" if k == 0 and t else _cell_lines(t) for k, t in enumerate(row)]
              for row in text],
        texttemplate="%{text}", textfont=dict(size=11.5, color=theme.TEXT), customdata=hover,
        hovertemplate="<b>%{x}</b><br>%{y}<br>%{text}<br>%{customdata}<extra></extra>",
        colorscale=scale, zmin=0, zmax=n, showscale=False, xgap=3, ygap=3,
    ))
    two_lines = any("<br>" in _cell_lines(t) for row in text for t in row)
    h = height or 120 + (40 if two_lines else 30) * len(rows)
    _layout(fig, title, h)
    fig.update_layout(margin=dict(l=10, r=10, t=(80 if not title else 110), b=10), plot_bgcolor="white")
    fig.update_xaxes(side="top", tickangle=0, showline=False, ticks="", tickfont=dict(size=10.5))
    fig.update_yaxes(autorange="reversed", showgrid=False, showline=False, ticks="", tickfont=dict(size=12))
    if len(cols) > 1:  # the pooled figure first, set apart from the practices
        fig.add_shape(type="line", x0=0.5, x1=0.5, y0=-0.5, y1=len(rows) - 0.5, xref="x", yref="y",
                      line=dict(color=theme.NHS_DARK_GREY, width=2))
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Simple trend (several series)
# ---------------------------------------------------------------------------------------------------------------
def trend_figure(df: pd.DataFrame, x: str, y: str, series: str | None = None, unit: str = "%",
                 target: float | None = None, title: str | None = None, height: int = 320,
                 band: tuple[str, str] | None = None) -> go.Figure:
    """Line chart of one or more series over time, with an optional target line and interval band."""
    fig = go.Figure()
    palette = [theme.NHS_BLUE, theme.NHS_AQUA_GREEN, theme.NHS_DARK_BLUE, theme.NHS_ORANGE, theme.NHS_LIGHT_BLUE,
               theme.NHS_DARK_GREY]
    groups = [(None, df)] if series is None else list(df.groupby(series, sort=False))
    for i, (name, g) in enumerate(groups):
        colour = palette[i % len(palette)]
        if band is not None and band[0] in g and g[band[0]].notna().any():
            fig.add_trace(go.Scatter(x=list(g[x]) + list(g[x])[::-1], y=list(g[band[1]]) + list(g[band[0]])[::-1],
                                     fill="toself", fillcolor="rgba(0,94,184,0.10)", line=dict(width=0),
                                     hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=g[x], y=g[y], mode="lines+markers", name=str(name) if name is not None else y,
                                 line=dict(color=colour, width=2), marker=dict(size=5),
                                 hovertemplate=f"{name or ''} %{{x|%B %Y}}: %{{y:.1f}}<extra></extra>"))
    if target is not None and not df.empty:
        fig.add_trace(go.Scatter(x=[df[x].min(), df[x].max()], y=[target, target], mode="lines", name="Target",
                                 line=dict(color=theme.NHS_RED, dash="dot", width=2)))
    _layout(fig, title, height, _unit_axis(unit))
    fig.update_xaxes(tickformat="%B %Y")
    return fig
