"""Static charts for the PDF pack (matplotlib, Agg): the same charts as the screens, drawn from the numbers the pack
already holds. Nothing is calculated here except where to draw the funnel's limit lines (``analytics.funnel_limits``).

Each chart is rendered once per pack into ``pack.charts`` (PNG bytes). Figures are built with ``matplotlib.figure``
directly, not pyplot, so two packs built at once on different threads of the app do not share state. Colours follow
Making Data Count, and every coloured point also differs in marker shape and is named in the legend, so colour never
carries meaning alone.
"""
from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from PIL import Image  # noqa: E402

from ..analytics import RAG_SYMBOLS, RAG_WORDS, funnel_limits  # noqa: E402
from ..engine import format_value  # noqa: E402
from ..policy import status  # noqa: E402
from ..palette import (NEUTRAL_PURPLE, NHS_BLUE, NHS_DARK_BLUE, NHS_DARK_GREY, NHS_MID_GREY,  # noqa: E402
                       NHS_ORANGE, NHS_PALE_GREY, NHS_RED, RAG_COLOURS, TEXT)

DPI = 150
WIDTH_IN = 180 / 25.4  # the PDF's text width

POINT_STYLE = {  # point type -> colour, marker, legend words (as ui/charts.py)
    "improvement": (NHS_BLUE, "o", "Improvement (special cause)"),
    "concern": (NHS_ORANGE, "D", "Concern (special cause)"),
    "neutral special cause": (NEUTRAL_PURPLE, "s", "Unusual (special cause)"),
}
FUNNEL_STYLE = {  # funnel position -> colour, marker, legend words
    "better": (NHS_BLUE, "^", "Better than expected"),
    "worse": (NHS_ORANGE, "v", "Worse than expected"),
    "above": (NEUTRAL_PURPLE, "^", "Higher than expected"),
    "below": (NEUTRAL_PURPLE, "v", "Lower than expected"),
    "within": (NHS_DARK_GREY, "o", "Within the funnel"),
    "not compared": (NHS_MID_GREY, "o", "Not compared"),
}

matplotlib.rcParams.update({
    "font.family": "DejaVu Sans", "font.size": 7, "axes.titlesize": 7.5, "axes.titleweight": "bold",
    "axes.titlecolor": NHS_DARK_BLUE, "axes.edgecolor": NHS_MID_GREY, "axes.labelcolor": TEXT,
    "xtick.color": TEXT, "ytick.color": TEXT, "axes.spines.top": False, "axes.spines.right": False,
    "legend.frameon": False, "legend.fontsize": 6.3, "axes.titlelocation": "left", "axes.titley": 1.0,
    "axes.titlepad": 4.0,
})  # a fixed title position (axes.titley) spares matplotlib measuring the whole axes on every draw


def _png(fig: Figure) -> bytes:
    """Draw once (fixed layout, no tight bounding box) and keep a 64-colour palette PNG: a third of the size of a
    full-colour one, quicker to write and quicker for the PDF to embed, and indistinguishable for flat charts."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _unit_label(unit: str) -> str:
    return {"%": "%", "count": "Number"}.get(unit, unit)


# ---------------------------------------------------------------------------------------------------------------
# One measure: control chart and funnel plot side by side
# ---------------------------------------------------------------------------------------------------------------
def _spc_axes(ax, ev) -> None:
    res = ev.result
    s = res.spc
    unit = ev.indicator.unit
    if s is None or s.points.empty:
        why = ("Not enough data for a control chart\n(at least two periods are needed)"
               if res.judgement == status.JUDGED else f"No control chart:\n{res.judgement_text or 'not judged'}")
        ax.text(0.5, 0.5, why, ha="center", va="center", color=NHS_DARK_GREY, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("Control chart (XmR)")
        return
    p = s.points
    x = pd.to_datetime(p.index)
    for _, seg in p.assign(_x=x).groupby("segment", sort=True):
        ax.plot(seg["_x"], seg["upper_limit"], color=NHS_DARK_GREY, lw=0.9, ls=(0, (4, 2)))
        ax.plot(seg["_x"], seg["lower_limit"], color=NHS_DARK_GREY, lw=0.9, ls=(0, (4, 2)))
        ax.plot(seg["_x"], seg["mean"], color=NHS_DARK_GREY, lw=1.1)
    if res.target is not None:
        ax.axhline(res.target, color=NHS_RED, lw=1.2, ls=(0, (1.5, 1.5)))
    ax.plot(x, p["value"], color=NHS_MID_GREY, lw=1.4, marker="o", ms=3, zorder=3)
    for point_type, (colour, marker, _) in POINT_STYLE.items():
        mask = (p["special_cause"].to_numpy() & (p["point_type"] == point_type).to_numpy())
        if mask.any():
            ax.scatter(x[mask], p["value"][mask], color=colour, marker=marker, s=26, zorder=4, edgecolors="white",
                       linewidths=0.6)
    vals = pd.concat([p["value"], p["upper_limit"], p["lower_limit"]]).dropna()
    if res.target is not None:
        vals = pd.concat([vals, pd.Series([res.target])])
    lo, hi = float(vals.min()), float(vals.max())
    pad = (hi - lo) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad
    if unit == "%":
        lo, hi = max(lo, 0.0), min(hi, 100.0 + pad / 2)
    elif lo < 0 <= float(p["value"].min()):
        lo = 0.0
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
    # months are written in full (NHS style), so at most four or five labels fit under a chart in the pack
    step = 12 if len(p) > 36 else 6 if len(p) > 12 else 3 if len(p) > 4 else 1  # the store's window: up to years
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%B\n%Y"))
    ax.set_ylabel(_unit_label(unit))
    ax.grid(axis="y", color=NHS_PALE_GREY, lw=0.6)
    ax.set_axisbelow(True)
    _draw_notes(ax, notes_on_chart(ev))
    title = "Control chart (XmR), " + (f"{res.period_months}-month periods" if res.period_months > 1 else "monthly")
    if s.trial_limits:
        title += " – trial limits (fewer than 12 points)"
    ax.set_title(title)


def notes_on_chart(ev) -> pd.DataFrame:
    """The notes whose month the control chart shows, oldest first, numbered from 1 as the chart marks them (the
    words under the chart in the PDF use the same numbers): month, text, rebase, practice_code, number."""
    notes = getattr(ev, "notes", None)
    s = ev.result.spc
    if notes is None or notes.empty or s is None or s.points.empty:
        return pd.DataFrame(columns=["month", "text", "rebase", "practice_code", "number"])
    x = pd.to_datetime(s.points.index)
    months = pd.to_datetime(notes["month"])
    shown = notes[(months >= x.min()) & (months <= x.max())].assign(month=months).sort_values("month", kind="mergesort")
    return shown[["month", "text", "rebase", "practice_code"]].assign(number=range(1, len(shown) + 1)).reset_index(
        drop=True)


def note_lines(ev) -> list[tuple[str, str]]:
    """The words beside the chart for its notes, numbered as the chart marks them, and where its limits restart."""
    notes = notes_on_chart(ev)
    if notes.empty:
        return []
    words = " ".join(f"{r['number']}. {r['month']:%B %Y}" + (f" ({r['practice_code']})" if r["practice_code"] else "")
                     + f": {str(r['text']).rstrip('.')}" + (" (rebase: the limits restart from this month)"
                                                            if r["rebase"] else "") + "."
                     for r in notes.to_dict("records"))
    out = [("Chart notes", words)]
    rebases = notes.loc[notes["rebase"], "month"]
    if len(rebases):
        out.append(("Limits", "Recalculated from " + ", then ".join(f"{m:%B %Y}" for m in rebases)
                    + " (rebase note), as on the screens."))
    return out


def _draw_notes(ax, notes: pd.DataFrame) -> None:
    """A line at each note's month with its number in a box at the top (solid for a rebase note: the limits restart
    there; dotted for any other note); the note's words are printed under the chart, by number."""
    for r in notes.to_dict("records"):
        x = pd.Timestamp(r["month"])
        ax.axvline(x, color=NHS_DARK_GREY if r["rebase"] else NHS_MID_GREY, lw=1.0 if r["rebase"] else 0.9,
                   ls="-" if r["rebase"] else (0, (1, 1.5)), zorder=2)
        ax.annotate(str(r["number"]), (x, 0.985), xycoords=("data", "axes fraction"), ha="center", va="top",
                    fontsize=5.8, fontweight="bold", color=TEXT, zorder=6,
                    bbox=dict(boxstyle="round,pad=0.18", fc="white", ec=NHS_DARK_GREY, lw=0.6))


def _funnel_axes(ax, ev, practice_code: str | None, short_names: bool) -> None:
    f = ev.funnel
    unit = ev.indicator.unit
    ax.set_title(f"Funnel plot, {ev.funnel_month:%B %Y}" if ev.funnel_month else "Funnel plot")
    pts = f[pd.to_numeric(f["value"], errors="coerce").notna()] if not f.empty else f
    if pts.empty or ev.pooled is None or pd.isna(ev.pooled):
        ax.text(0.5, 0.5, "No practices to compare\nfor this month", ha="center", va="center",
                color=NHS_DARK_GREY, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    scale = float(ev.indicator.multiplier)
    den = pd.to_numeric(pts["denominator"], errors="coerce")
    n = np.unique(np.geomspace(max(1.0, float(den.min()) * 0.6), float(den.max()) * 1.15, 90).round())
    lim = funnel_limits(float(ev.pooled) / scale, n)
    ax.plot(lim["denominator"], lim["upper_99_8"] * scale, color=NHS_DARK_GREY, lw=0.9, ls=(0, (4, 2)))
    ax.plot(lim["denominator"], lim["lower_99_8"] * scale, color=NHS_DARK_GREY, lw=0.9, ls=(0, (4, 2)))
    ax.plot(lim["denominator"], lim["upper_95"] * scale, color=NHS_DARK_GREY, lw=0.8, ls=(0, (1, 1.5)))
    ax.plot(lim["denominator"], lim["lower_95"] * scale, color=NHS_DARK_GREY, lw=0.8, ls=(0, (1, 1.5)))
    ax.axhline(float(ev.pooled), color=NHS_BLUE, lw=1.1)
    pos = pts["position"].astype(str)
    mine = (pts["practice_code"] == practice_code).to_numpy() if practice_code else np.zeros(len(pts), bool)
    for key, (colour, marker, _) in FUNNEL_STYLE.items():
        sel = (pos == key).to_numpy() & ~mine
        if sel.any():
            faded = practice_code is not None
            ax.scatter(den[sel], pts["value"][sel], color=NHS_MID_GREY if faded else colour,
                       marker="o" if faded else marker, s=12 if faded else 22, alpha=0.7 if faded else 1,
                       zorder=3, edgecolors="white", linewidths=0.5)
            if not faded and key in ("better", "worse", "above", "below"):
                for xx, yy, lab in zip(den[sel], pts["value"][sel], pts["label"][sel]):
                    ax.annotate(_short(str(lab)) if short_names else str(lab), (xx, yy), fontsize=5.8,
                                xytext=(3, 3), textcoords="offset points", color=TEXT)
    if mine.any():
        r = pts[mine].iloc[0]
        colour, marker, _ = FUNNEL_STYLE.get(str(r["position"]), FUNNEL_STYLE["within"])
        ax.scatter([float(r["denominator"])], [float(r["value"])], color=colour, marker=marker, s=60, zorder=5,
                   edgecolors=TEXT, linewidths=1.0)
        mine_xy = (float(r["denominator"]), float(r["value"]))
    at_small = lim.iloc[(lim["denominator"] - float(den.min())).abs().argmin()]
    vals = pd.concat([pd.to_numeric(pts["value"]), pd.Series([float(ev.pooled), at_small["lower_99_8"] * scale,
                                                              at_small["upper_99_8"] * scale])]).dropna()
    lo, hi = float(vals.min()), float(vals.max())
    pad = (hi - lo) * 0.1 or 1.0
    ax.set_ylim(max(lo - pad, 0.0), min(hi + pad, 100.0 + pad / 2) if unit == "%" else hi + pad)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
    if mine.any():  # label placed away from the edges once the axes' limits are known
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        right = mine_xy[0] > (x0 + x1) / 2
        high = mine_xy[1] > y0 + (y1 - y0) * 0.75
        ax.annotate("This practice", mine_xy, fontsize=6.3, fontweight="bold", color=TEXT,
                    xytext=(-7 if right else 7, -9 if high else 5), textcoords="offset points",
                    ha="right" if right else "left",
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.85))
    ax.set_xlabel("Denominator", labelpad=1)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, integer=True))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(axis="y", color=NHS_PALE_GREY, lw=0.6)
    ax.set_axisbelow(True)


def _short(name: str) -> str:
    for ending in (" Medical Centre", " Health Centre", " Medical Practice", " Family Practice", " Medical Group",
                   " Surgery", " Practice"):
        if name.endswith(ending):
            return name[: -len(ending)]
    return name


class IndicatorCanvas:
    """One figure for all the measures of a pack: its two axes, and their ticks, which matplotlib is slow to build,
    are made once; for each measure only the drawn data is replaced. About twice as fast as a figure per measure."""

    def __init__(self):
        self.fig = Figure(dpi=DPI, figsize=(WIDTH_IN, 1.95))
        self.spc = self.fig.add_axes((0.065, 0.2, 0.53, 0.69))
        self.funnel = self.fig.add_axes((0.675, 0.2, 0.31, 0.69))

    @staticmethod
    def _reset(ax) -> None:
        for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches]:
            artist.remove()
        ax.relim()
        ax.set_autoscale_on(True)
        ax.set_title("")
        ax.set_xlabel("")
        ax.set_ylabel("")

    def draw(self, ev, practice_code: str | None) -> bytes:
        """Control chart (left) and funnel plot (right) of one measure. The key is drawn once per pack
        (:func:`key_chart`), and the words under each chart in the PDF say what it shows."""
        self._reset(self.spc)
        self._reset(self.funnel)
        _spc_axes(self.spc, ev)
        _funnel_axes(self.funnel, ev, practice_code, short_names=True)
        return _png(self.fig)


def indicator_chart(ev, practice_code: str | None) -> bytes:
    return IndicatorCanvas().draw(ev, practice_code)


def key_chart(practice_pack: bool) -> bytes:
    """The key to every measure's charts: lines, special-cause markers and funnel positions."""
    handles = [Line2D([], [], color=NHS_MID_GREY, marker="o", ms=3, lw=1.4, label="Monthly value"),
               Line2D([], [], color=NHS_DARK_GREY, lw=1.1, label="Mean"),
               Line2D([], [], color=NHS_DARK_GREY, lw=0.9, ls=(0, (4, 2)), label="Process limits / 99.8% limits"),
               Line2D([], [], color=NHS_DARK_GREY, lw=0.8, ls=(0, (1, 1.5)), label="95% limits (funnel)"),
               Line2D([], [], color=NHS_RED, lw=1.2, ls=(0, (1.5, 1.5)), label="Target"),
               Line2D([], [], color=NHS_BLUE, lw=1.1, label="Federation (funnel)"),
               Line2D([], [], color=NHS_MID_GREY, lw=0.9, ls=(0, (1, 1.5)), label="Note (numbered, words below)"),
               Line2D([], [], color=NHS_DARK_GREY, lw=1.0, label="Rebase note: limits restart")]
    for colour, marker, words in POINT_STYLE.values():
        handles.append(Line2D([], [], color=colour, marker=marker, ls="", ms=4.5, label=words))
    if practice_pack:
        for key in ("better", "within", "worse"):
            colour, marker, words = FUNNEL_STYLE[key]
            handles.append(Line2D([], [], color=colour, marker=marker, ls="", ms=5.5, markeredgecolor=TEXT,
                                  label=f"This practice: {words.lower()}"))
        handles.append(Line2D([], [], color=NHS_MID_GREY, marker="o", ls="", ms=3.5, alpha=0.7,
                              label="Other practices"))
    else:
        for key in ("better", "within", "worse", "above", "below"):
            colour, marker, words = FUNNEL_STYLE[key]
            handles.append(Line2D([], [], color=colour, marker=marker, ls="", ms=4.5, label=f"Practice: "
                                                                                             f"{words.lower()}"))
    fig = Figure(dpi=DPI, figsize=(WIDTH_IN, 0.72))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.0, 0.5), ncol=4, columnspacing=1.0,
               handlelength=2.0, fontsize=6.2)
    return _png(fig)


# ---------------------------------------------------------------------------------------------------------------
# Friends and Family Test, and training by course
# ---------------------------------------------------------------------------------------------------------------
def fft_chart(monthly: pd.DataFrame, target: float | None, federation: pd.DataFrame | None,
              suppression_min: int | None = None) -> bytes:
    fig = Figure(dpi=DPI, figsize=(WIDTH_IN, 2.2))
    ax = fig.add_axes((0.065, 0.24, 0.92, 0.68))
    x = pd.to_datetime(monthly["month"])
    y = monthly["pct_positive"].astype(float)
    ax.fill_between(x, monthly["positive_lower"].astype(float), monthly["positive_upper"].astype(float),
                    color=NHS_BLUE, alpha=0.15, lw=0)
    ax.plot(x, y, color=NHS_BLUE, marker="o", ms=3.5, lw=1.5)
    handles = [Line2D([], [], color=NHS_BLUE, marker="o", ms=3.5, lw=1.5, label="% positive"),
               matplotlib.patches.Patch(color=NHS_BLUE, alpha=0.15, label="95% interval")]
    if federation is not None and not federation.empty:
        ax.plot(pd.to_datetime(federation["period_start"]), federation["value"].astype(float), color=NHS_DARK_GREY,
                lw=1.1, ls=(0, (3, 1.5)))
        handles.append(Line2D([], [], color=NHS_DARK_GREY, lw=1.1, ls=(0, (3, 1.5)), label="Federation"))
    if target is not None:
        ax.axhline(target, color=NHS_RED, lw=1.2, ls=(0, (1.5, 1.5)))
        handles.append(Line2D([], [], color=NHS_RED, lw=1.2, ls=(0, (1.5, 1.5)),
                              label=f"Target {format_value(target, '%')}"))
    hidden = monthly["suppressed"].astype(bool).to_numpy()
    for xx in x[hidden]:
        ax.annotate("not shown" + (f"\n(<{suppression_min})" if suppression_min else ""), (xx, 0.02),
                    xycoords=("data", "axes fraction"), ha="center", fontsize=5.5,
                    color=NHS_DARK_GREY)
    vals = pd.concat([monthly["positive_lower"], monthly["positive_upper"]]).astype(float).dropna()
    lo = min(float(vals.min()) if len(vals) else 0.0, target if target is not None else 100.0)
    ax.set_ylim(max(0.0, lo - 5), 100.0)
    ax.set_ylabel("% positive")
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%B\n%Y"))
    ax.grid(axis="y", color=NHS_PALE_GREY, lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title("Friends and Family Test: % positive (Very good + Good) each month")
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.055, 0.0), ncol=4, borderaxespad=0.2)
    return _png(fig)


RAG_MARKS = {**RAG_SYMBOLS, "none": ""}  # the symbol beside each bar: colour never carries meaning alone


def training_chart(courses: pd.DataFrame, target: float | None) -> bytes:
    """Compliance by course: each bar coloured by the data layer's RAG against the training target (on, near or off
    target, as on the training page), its symbol and figures written beside it."""
    n = len(courses)
    height = 0.9 + 0.16 * n
    fig = Figure(dpi=DPI, figsize=(WIDTH_IN, height))
    ax = fig.add_axes((0.34, 0.5 / height, 0.6, 1 - 0.8 / height))
    df = courses.sort_values("compliance_pct", ascending=True, kind="mergesort")
    y = np.arange(len(df))[::-1]
    rags = df["rag"].astype(str).tolist() if "rag" in df.columns else ["none"] * len(df)
    ax.barh(y, df["compliance_pct"].astype(float), color=[RAG_COLOURS.get(r, NHS_MID_GREY) for r in rags],
            height=0.7)
    for yy, v, num, den, r in zip(y, df["compliance_pct"], df["in_date"], df["required"], rags):
        mark = RAG_MARKS.get(r, "")
        ax.text(min(float(v), 100) + 1, yy, f"{format_value(float(v), '%')} ({int(num)}/{int(den)})"
                + (f" {mark}" if mark else ""), va="center", fontsize=6, color=TEXT)
    ax.set_yticks(y)
    ax.set_yticklabels(df["course_name"].astype(str), fontsize=6.5)
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("% of required staff in date")
    shown = [r for r in ("green", "amber", "red") if r in rags] or ["none"]
    handles = [matplotlib.patches.Patch(color=RAG_COLOURS[r], label=(f"{RAG_MARKS[r]} " if RAG_MARKS[r] else "")
                                        + RAG_WORDS[r]) for r in shown]
    if target is not None:
        ax.axvline(target, color=NHS_RED, lw=1.1, ls=(0, (1.5, 1.5)))
        handles.append(Line2D([], [], color=NHS_RED, lw=1.1, ls=(0, (1.5, 1.5)),
                              label=f"Target {format_value(target, '%')}"))
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4)
    return _png(fig)


_ONE_AT_A_TIME = threading.Lock()  # matplotlib is not thread-safe; two people downloading at once take turns


def render_all(pack) -> dict[str, bytes]:
    """Every chart of the pack, each rendered once (the PDF calls this; results are kept on the pack)."""
    with _ONE_AT_A_TIME:
        return _render_all(pack)


def _render_all(pack) -> dict[str, bytes]:
    if pack.charts:
        return pack.charts
    charts: dict[str, bytes] = {}
    targets = pack.targets
    charts["key"] = key_chart(pack.practice_code is not None)
    canvas = IndicatorCanvas()
    for ev in pack.evidence():
        charts[ev.chart] = canvas.draw(ev, pack.practice_code)
    if not pack.fft_monthly.empty:
        target = targets.get("FFT_POSITIVE", (None, 0))[0]
        charts["fft"] = fft_chart(pack.fft_monthly, target, pack.fft_federation, pack.suppression_min)
    if not pack.training_courses.empty:
        charts["training"] = training_chart(pack.training_courses, targets.get("TRAINING_COMPLIANCE", (None, 0))[0])
    pack.charts = charts
    return charts
