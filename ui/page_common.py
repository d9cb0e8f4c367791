"""What the Staff training and Patient feedback pages share: one measure's figures practice by practice (cached),
tables with their CSV downloads, value formatting, and the chart style (every chart made inert: names from data
never draw a link).

Split out of ``ui.training_feedback`` (which re-exports every name here).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_layer import training as tr
from data_layer.db import database_url
from data_layer.engine import Filters
from data_layer.policy import words
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


ROW = 35          # a table row's height in Streamlit's interactive table, in pixels
WRAPPED_ROW = 66  # above 64 px Streamlit wraps long text in a cell instead of cutting it off
TALLEST = 720     # a longer table scrolls inside this height (its header stays in view)
CARDS_SHOWN = 50  # on a phone, the first rows as cards; the download has every row


def row_height(wrap: bool | int) -> int:
    """A row's height: one line, or ``wrap`` lines (``True``: three) of text that wraps."""
    if not wrap:
        return ROW
    return WRAPPED_ROW if wrap is True else max(WRAPPED_ROW, 20 * int(wrap) + 6)


def table_height(rows: int, wrap: bool | int = False) -> int:
    """The height that shows every row (header included) up to ``TALLEST``: no blank band, no hidden last row."""
    return min(row_height(wrap) * rows + ROW + 3, TALLEST)


def show_table(table: pd.DataFrame, key: str, column_config: dict | None = None, wrap: bool | int = False,
               cards: tuple[str, ...] | None = None, height: int | None = None, group: str | None = None,
               readable: bool = False) -> None:
    """A table sized to its rows: ``wrap`` lets long text (an aim, a comment) run onto three lines (or ``wrap``
    lines) instead of being cut off. ``cards`` names the columns that head each row when it is shown as a card on a phone (every other
    column below them as "name: value"); without it a phone gets the same table, scrolling sideways. ``group`` (a
    column such as "Aim") shows the table as one to read, each group's name once above its rows, words wrapping
    to fit any width, with the sortable table folded away under it; ``readable`` does the same without groups, for
    a table whose headings and words are too long for one line (an HTML table wraps them, a sortable one cannot)."""
    config = {**_text_widths(table, wrap), **(column_config or {})}
    if wrap:  # every column in the width of a laptop, the long words running onto two or three lines
        for c, w in fit_widths(table, _image_columns(config), lines=3 if wrap is True else int(wrap)).items():
            config[c] = {**config[c], "width": w} if isinstance(config.get(c), dict) else \
                st.column_config.Column(config.get(c) if isinstance(config.get(c), str) else None, width=w)
    natural = sum(fit_widths(table, _image_columns(config), budget=10**6).values())
    # a table that may scroll sideways (in a half-width column, on a phone) keeps room for its scrollbar under the
    # last row
    bar = SCROLLBAR_PX if natural > HALF_PX else 0
    kwargs = dict(hide_index=True, width="stretch", column_config=config,
                  height=height if height is not None else table_height(len(table), wrap) + bar)
    if wrap:
        kwargs["row_height"] = row_height(wrap)
    if group or readable:  # a table to read: in HTML, rows under their group's name; the grid below to sort
        with st.container(key=f"wide_{key}"):
            st.html(grouped_html(table, group, _image_columns(config)))
        with st.container(key=f"narrow_{key}"):
            heading = (group,) if group else ()
            st.html(cards_html(table, (*heading, *(cards or (table.columns[1 if group else 0],))),
                               skip=_image_columns(config)))
        with st.expander("The same as a table you can sort and search"):
            st.dataframe(table, **kwargs)
        return
    if not cards:
        st.dataframe(table, **kwargs)
        return
    with st.container(key=f"wide_{key}"):
        st.dataframe(table, **kwargs)
    with st.container(key=f"narrow_{key}"):
        st.html(cards_html(table, cards, skip=_image_columns(config)))


def _text_widths(table: pd.DataFrame, wrap: bool) -> dict:
    """Wide enough for the words: a column of long text gets a "large" width (wrapped when ``wrap``), a column of
    short words a width of its own instead of the narrow default that cuts them off."""
    lengths = {}
    for c in table.columns:
        if table[c].dtype == object or pd.api.types.is_string_dtype(table[c]):
            lengths[c] = max([len(str(c))] + [len(v) for v in table[c].head(200)
                                               if isinstance(v, str) and not v.startswith("data:")])
    widest = max(lengths, key=lengths.get, default=None)
    out = {}
    for c, longest in lengths.items():  # one "large" column at most, so the table still fits a laptop's width
        if longest > 40 and c == widest:
            out[c] = st.column_config.TextColumn(width="large")
        elif longest > 16:
            out[c] = st.column_config.TextColumn(width="medium")
    return out


CHAR_PX, PAD_PX, ICON_PX = 7.3, 22, 64  # Streamlit's table font, a cell's padding, an icon column
SCROLLBAR_PX, HALF_PX = 12, 430  # a sideways scrollbar's height; a half-width column's width on a laptop
LAPTOP_PX = 900  # the main column's width on a 1,400 px screen with the sidebar open, less its borders


def fit_widths(table: pd.DataFrame, images: set[str] = frozenset(), budget: int = LAPTOP_PX,
               lines: int = 3) -> dict[str, int]:
    """Pixel widths that fit ``budget``: each column as wide as its longest text (or its heading), and when they do
    not all fit, every column narrowed in proportion — never below its longest word, nor below what shows its
    longest text in ``lines`` lines."""
    def px(chars: int) -> int:
        return int(chars * CHAR_PX + PAD_PX)

    natural, least = {}, {}
    for c in table.columns:
        if c in images:
            natural[c] = least[c] = ICON_PX
            continue
        texts = [str(c)] + [str(v) for v in table[c].head(300) if v is not None and str(v) != "nan"]
        natural[c] = min(px(max(len(t) for t in texts)), 480)
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        least[c] = max(px(longest_word), px(len(str(c).split()[0]) if str(c).split() else 1), natural[c] // lines)
    widths = dict(natural)
    for _ in range(6):  # every column narrowed in proportion, none below its least
        total = sum(widths.values())
        if total <= budget:
            break
        widths = {c: max(least[c], int(w * budget / total)) for c, w in widths.items()}
    return widths


def _image_columns(config: dict) -> set[str]:
    return {c for c, v in config.items() if isinstance(v, dict) and v.get("type_config", {}).get("type") == "image"}


def cards_html(table: pd.DataFrame, heading: tuple[str, ...], skip: set[str] = frozenset()) -> str:
    """Each row as a card (for phones): the last ``heading`` column in bold, then every other column as a short
    "name value" pair. With two or more heading columns the first ones group the cards (an aim's name once above its
    measures). Text from data is escaped, never markup; picture columns (icons beside their words) are left out."""
    import html

    groups, title_col = heading[:-1], heading[-1]
    out, last_group = [], None
    for row in table.head(CARDS_SHOWN).to_dict("records"):
        group = " · ".join(str(row[c]) for c in groups if str(row.get(c, "")).strip())
        if groups and group != last_group:
            out.append(f'<p class="fed-card-group">{html.escape(group)}</p>')
            last_group = group
        items = "".join(f"<span><b>{html.escape(str(c).removesuffix(' in words'))}</b> "
                        f"{html.escape(_card_value(v))}</span>"
                        for c, v in row.items() if c not in heading and c not in skip and _card_value(v))
        out.append(f'<div class="fed-card"><p class="fed-card-title">{html.escape(str(row[title_col]))}</p>'
                   f'<p class="fed-card-items">{items}</p></div>')
    more = (f'<p class="fed-muted">The first {CARDS_SHOWN} of {len(table):,}; the download has all of them.</p>'
            if len(table) > CARDS_SHOWN else "")
    return f'<div class="fed-cards">{"".join(out)}{more}</div>'


def grouped_html(table: pd.DataFrame, group: str | None, images: set[str] = frozenset()) -> str:
    """The table in HTML, one heading row per value of ``group`` above its rows. A picture column ("Variation") and
    its words ("Variation in words") share one cell, the icon beside the words. Text from data is escaped."""
    import html

    worded = {c: f"{c} in words" for c in images if f"{c} in words" in table.columns}
    shown = [c for c in table.columns if c != group and c not in worded.values()]
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in shown)
    body, last = [], None
    for row in table.to_dict("records"):
        if group and row[group] != last:
            body.append(f'<tr class="fed-group"><th scope="rowgroup" colspan="{len(shown)}">'
                        f'{html.escape(str(row[group]))}</th></tr>')
            last = row[group]
        cells = []
        for c in shown:
            if c in images:
                src = str(row[c])
                icon = f'<img src="{html.escape(src, quote=True)}" alt="" width="28" height="28"> ' \
                    if src.startswith("data:image/") else ""
                words = html.escape(_card_value(row.get(worded.get(c))) or "")
                cells.append(f'<td><span class="fed-icon">{icon}<span>{words}</span></span></td>')
            else:
                text = _card_value(row[c]) or "–"
                short = ' class="fed-nowrap"' if len(text) <= 11 else ""  # "✔ On target", "Nov 2026"
                cells.append(f"<td{short}>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    dense = " fed-dense" if len(shown) > 8 else ""  # many columns: a smaller type, so they all fit a laptop
    tall = " fed-tall" if len(table) > 24 else ""  # a long table scrolls in its own box, its headings in view
    # a box that scrolls must take the keyboard's focus (WCAG: keyboard users scroll it with the arrow keys)
    label = html.escape(f"Table of {', '.join(str(c) for c in shown[:3])}", quote=True)
    return (f'<div class="fed-scroll{tall}" role="region" tabindex="0" aria-label="{label}">'
            f'<table class="fed-read{dense}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _card_value(v) -> str:
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    if isinstance(v, str) and (v.startswith("data:") or v.strip() in ("", "–")):
        return ""  # a picture (its words are in another column) or nothing to say
    if isinstance(v, float) and v.is_integer():
        return f"{v:,.0f}"
    if isinstance(v, (pd.Timestamp, date)):
        return words.day(v)  # "1 July 2028": months in full, as everywhere
    return str(v)


def table_with_download(table: pd.DataFrame, file_name: str, label: str, key: str, height: int | None = None,
                        column_config: dict | None = None, audited: str | None = None, wrap: bool | int = False,
                        cards: tuple[str, ...] | None = None, readable: bool = False) -> None:
    """Show a table (plain text cells; a long one by its first rows; sized as :func:`show_table`) and offer the
    whole table as a CSV download, built when clicked. ``audited`` names person-level data ("training chase
    list"): the download is then recorded in the audit log when clicked."""
    show_table(_shown(table), key=f"table_{key}", column_config=column_config, wrap=wrap, cards=cards,
               height=height, readable=readable)
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
        show_table(_shown(table), key=f"table_{key}", column_config=column_config, height=height)
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
def shared_figure(builder):
    """``builder`` with its figures kept for everyone whose page asks for the same one: keyed by the arguments (the
    figures of the data, which decide the picture), held as objects (cache_resource) because a plotly figure is
    slow to build and slower to unpickle. A figure is never changed after it is built, so sharing it is safe; a
    builder that changes another builder's figure (``legacy_figure``) calls the unshared one."""
    return st.cache_resource(ttl=TTL, max_entries=256, show_spinner=False)(builder)


def _style(fig: go.Figure, title: str | None, height: int, y_title: str = "", x_title: str = "") -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16, color=theme.NHS_DARK_BLUE)) if title else None,
        height=height, margin=dict(l=10, r=10, t=56 if title else 16, b=10),
        font=dict(family=FONT, size=13, color=theme.TEXT), plot_bgcolor="white", paper_bgcolor="white",
        # under the plot, measured from the foot of the chart: plotly makes room for it however many lines it
        # wraps to on a phone, so it never covers the title or the axis
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0,
                    font=dict(size=12)),
        hoverlabel=dict(font=dict(family=FONT, size=13)),
    )
    fig.update_xaxes(showgrid=False, linecolor=theme.NHS_MID_GREY, title=dict(text=x_title, font=dict(size=13)))
    fig.update_yaxes(gridcolor=theme.NHS_PALE_GREY, zeroline=False, linecolor=theme.NHS_MID_GREY,
                     title=dict(text=y_title, font=dict(size=13)))
    return inert_figure(fig)  # names from data never draw a link
