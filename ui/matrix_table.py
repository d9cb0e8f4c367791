"""The practice × measure matrix as an HTML table, for phones: the heatmap's cells cannot shrink below their words,
so on a narrow screen the measures stay in a first column that does not move while the practices scroll sideways.

It shows what ``charts.matrix_figure`` shows (value and status symbol in each cell, the same pale RAG fills), from the
same ``data_layer.views.practice_matrix`` rows; every name and word from data is escaped, never markup.
"""
from __future__ import annotations

import html

import pandas as pd

from ui.charts import MATRIX_FILLS, short_practice_name


def _cell(cell) -> str:
    missing = bool(cell["suppressed"]) or cell["value"] is None or pd.isna(cell["value"])
    fill = MATRIX_FILLS["missing" if missing else str(cell["rag"])] if str(cell["rag"]) in MATRIX_FILLS or missing \
        else MATRIX_FILLS["none"]
    month = cell.get("latest_period")
    title = " · ".join(filter(None, [str(cell["status"]),
                                     f"{pd.Timestamp(month):%B %Y}" if month is not None and not pd.isna(month) else "",
                                     str(cell.get("comparison") or "")]))
    return (f'<td style="background:{fill}" title="{html.escape(title, quote=True)}">'
            f'{html.escape(str(cell["text"]))}</td>')


def matrix_html(matrix: pd.DataFrame) -> str:
    """One row per measure, one column per practice (the pooled figure first), in a box that scrolls sideways."""
    cols = list(dict.fromkeys(matrix["practice"]))
    rows = list(dict.fromkeys(matrix["measure"]))
    # each cell's fields as a plain dict (a pandas lookup per cell was a third of the overview's warm run)
    key = {(c["measure"], c["practice"]): c for c in
           matrix.drop_duplicates(["measure", "practice"]).to_dict("records")}
    head = "".join(f'<th scope="col" title="{html.escape(c, quote=True)}">{html.escape(short_practice_name(c))}</th>'
                   for c in cols)
    body = []
    for r in rows:
        cells = "".join(_cell(key[(r, c)]) if (r, c) in key else '<td>–</td>' for c in cols)
        body.append(f'<tr><th scope="row">{html.escape(str(r))}</th>{cells}</tr>')
    return ('<div class="fed-scroll" role="region" aria-label="Practices at a glance" tabindex="0">'
            f'<table class="fed-table"><thead><tr><th scope="col">Measure</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def grid_html(frame: pd.DataFrame, row: str, column: str, text: str, label: str) -> str:
    """Any long grid (courses × practices on the training page) for a phone the same way: ``row`` values down the
    first column that stays, ``column`` values across, each cell the ``text`` column's words."""
    cols = list(dict.fromkeys(frame[column]))
    cells = {(r, c): t for r, c, t in zip(frame[row], frame[column], frame[text])}
    head = "".join(f'<th scope="col" title="{html.escape(str(c), quote=True)}">'
                   f'{html.escape(short_practice_name(str(c)))}</th>' for c in cols)
    body = "".join(
        f'<tr><th scope="row">{html.escape(str(r))}</th>'
        + "".join(f"<td>{html.escape(str(cells.get((r, c), '')))}</td>" for c in cols) + "</tr>"
        for r in dict.fromkeys(frame[row]))
    return (f'<div class="fed-scroll" role="region" aria-label="{html.escape(label, quote=True)}" tabindex="0">'
            f'<table class="fed-table"><thead><tr><th scope="col"></th>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')
