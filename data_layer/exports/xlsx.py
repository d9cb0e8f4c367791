"""The pack as an Excel workbook (xlsxwriter): a contents sheet, then one sheet per table of the pack.

Each sheet has its heading row frozen and filters on, column widths set to their contents, numbers written as
numbers (with a number format, never as text) and dates as dates. Text is only ever written with ``write_string``,
which never makes a formula, and text a spreadsheet could take for a formula (starting with = + - @) also gets
Excel's quote prefix, so it stays text even when someone edits the cell: a patient's comment can never run.
"""
from __future__ import annotations

import io
import math
import re
from datetime import date, datetime

import numpy as np
import pandas as pd
import xlsxwriter

from .. import palette
from .pack_model import InspectionPack, Table

SHEET_NAMES = {
    "cover": "Cover", "summary_safe": "Summary – Safe", "summary_effective": "Summary – Effective",
    "summary_caring": "Summary – Caring", "summary_responsive": "Summary – Responsive",
    "summary_well_led": "Summary – Well-led", "cqc_ratings": "CQC ratings", "indicators": "Measures",
    "spc_data": "Control chart data", "funnels": "Funnel positions",
    "significant_events_by_category": "Sig events by category", "significant_events_by_practice":
        "Sig events by practice", "significant_events": "Significant events",
    "safeguarding_training": "Safeguarding training", "safeguarding_hours": "Safeguarding hours",
    "training_by_course": "Training by course", "training_by_role": "Training by role",
    "training_course_role": "Training course and role", "training_by_practice": "Training by practice",
    "fft_monthly": "FFT by month", "fft_by_practice": "FFT by practice", "fft_comments": "Patient comments",
    "complaints_summary": "Complaints summary", "complaints_by_category": "Complaints by category",
    "complaints_by_outcome": "Complaints by outcome", "complaints": "Complaints",
    "before_the_visit": "Before the visit", "sources": "Sources", "methods": "How calculated",
    "ppg_you_said_we_did": "PPG you said, we did", "premises_checks": "Premises checks",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
UNIT_FORMATS = {"%": "0.0", "per 1,000": "0.00", "per 10,000": "0.00", "count": "#,##0", "rate": "0.00"}
KIND_FORMATS = {"int": "#,##0", "dec1": "#,##0.0", "dec2": "#,##0.00", "date": "d mmm yyyy", "month": "mmm yyyy",
                "datetime": "d mmm yyyy hh:mm"}
LONG_TEXT = 60  # characters: wider columns wrap


def sheet_names(pack: InspectionPack) -> dict[str, str]:
    """Table name -> sheet name (at most 31 characters, unique, no characters Excel refuses)."""
    out, used = {}, {"contents"}
    for t in pack.tables():
        base = _BAD_SHEET_CHARS.sub(" ", SHEET_NAMES.get(t.name, t.title))[:31].strip()
        name, n = base, 2
        while name.lower() in used:
            name = f"{base[:28]} {n}"
            n += 1
        used.add(name.lower())
        out[t.name] = name
    return out


def _missing(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._formats: dict[tuple, object] = {}
        self.header = wb.add_format({"bold": True, "font_color": palette.WHITE, "bg_color": palette.NHS_BLUE,
                                     "text_wrap": True, "valign": "top", "border": 1,
                                     "border_color": palette.RULE_GREY})

    def fmt(self, num_format: str | None = None, wrap: bool = False, quote: bool = False):
        key = (num_format, wrap, quote)
        if key not in self._formats:
            props = {"valign": "top"}
            if num_format:
                props["num_format"] = num_format
            if wrap:
                props["text_wrap"] = True
            if quote:
                props["quote_prefix"] = True
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def text(self, ws, r: int, c: int, value, wrap: bool) -> int:
        s = str(value)
        ws.write_string(r, c, s, self.fmt(wrap=wrap, quote=s.startswith(_FORMULA_START)))
        return len(s)

    def value(self, ws, r: int, c: int, value, kind: str, unit: str | None, wrap: bool) -> int:
        """Write one cell as its type; returns the width it needs (characters)."""
        if _missing(value):
            return 0
        if kind == "auto":
            if isinstance(value, datetime):
                ws.write_datetime(r, c, value, self.fmt(KIND_FORMATS["datetime"]))
                return 17
            if isinstance(value, date):
                ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), self.fmt(KIND_FORMATS["date"]))
                return 12
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                ws.write_number(r, c, float(value), self.fmt("#,##0" if float(value).is_integer() else "#,##0.0"))
                return 10
            return self.text(ws, r, c, value, wrap)
        if kind in ("date", "month", "datetime"):
            ts = pd.Timestamp(value)
            ws.write_datetime(r, c, ts.to_pydatetime().replace(tzinfo=None), self.fmt(KIND_FORMATS[kind]))
            return {"date": 12, "month": 9, "datetime": 17}[kind]
        if kind in ("int", "dec1", "dec2", "unit"):
            x = float(value)
            if not math.isfinite(x):
                return 0
            num = UNIT_FORMATS.get(unit or "%", "0.00") if kind == "unit" else KIND_FORMATS[kind]
            ws.write_number(r, c, x, self.fmt(num))
            return len(f"{x:,.2f}")
        return self.text(ws, r, c, value, wrap)


def _write_table(w: _Writer, ws, table: Table) -> None:
    frame = table.frame
    cols = list(frame.columns)
    kinds = [table.kind(c) for c in cols]
    units = frame["Unit"].astype(str).tolist() if "Unit" in frame.columns else [None] * len(frame)
    longest = []
    for c, k in zip(cols, kinds):
        if k in ("text", "auto") and len(frame):
            lens = frame[c].map(lambda v: 0 if _missing(v) else len(str(v)))
            longest.append(int(lens.max()))
        else:
            longest.append(0)
    wraps = [n > LONG_TEXT for n in longest]
    widths = [len(str(c)) for c in cols]
    for j, c in enumerate(cols):
        ws.write_string(0, j, str(c), w.header)
    values = {c: frame[c].tolist() for c in cols}
    for i in range(len(frame)):
        for j, (c, k) in enumerate(zip(cols, kinds)):
            need = w.value(ws, i + 1, j, values[c][i], k, units[i], wraps[j])
            widths[j] = max(widths[j], need)
    for j, width in enumerate(widths):
        ws.set_column(j, j, min(max(width, 6) + 2, LONG_TEXT + 2))
    ws.set_row(0, 30 if any(len(str(c)) > 14 for c in cols) else None)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), max(len(cols) - 1, 0))
    if table.note:
        ws.write_comment(0, 0, table.note, {"x_scale": 3, "y_scale": 2})


def render_xlsx(pack: InspectionPack) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    wb.set_properties({"title": f"CQC inspection evidence pack – {pack.scope_name} – {pack.period_words}",
                       "author": pack.generated_by, "company": pack.federation_name,
                       "comments": "Generated by the federation governance dashboard"})
    w = _Writer(wb)
    names = sheet_names(pack)
    tables = pack.tables()

    contents = wb.add_worksheet("Contents")
    title = wb.add_format({"bold": True, "font_size": 14, "font_color": palette.NHS_DARK_BLUE})
    contents.write_string(0, 0, "CQC inspection evidence pack", title)
    contents.write_string(1, 0, f"{pack.scope_name} · {pack.period_words}")
    if pack.demo:
        contents.write_string(2, 0, "Fictional demo data: not real practices, staff or patients.",
                              wb.add_format({"bold": True, "bg_color": palette.NHS_WARM_YELLOW}))
    start = 4
    for j, head in enumerate(("Sheet", "What it holds", "Rows", "Notes")):
        contents.write_string(start, j, head, w.header)
    link = wb.add_format({"font_color": palette.NHS_BLUE, "underline": 1, "valign": "top"})
    for i, t in enumerate(tables, start=start + 1):
        contents.write_url(i, 0, f"internal:'{names[t.name]}'!A1", link, string=names[t.name])
        w.text(contents, i, 1, t.title, wrap=True)
        contents.write_number(i, 2, len(t.frame), w.fmt("#,##0"))
        if t.note:
            w.text(contents, i, 3, t.note, wrap=True)
    contents.set_column(0, 0, 26)
    contents.set_column(1, 1, 60)
    contents.set_column(2, 2, 8)
    contents.set_column(3, 3, 90)
    contents.freeze_panes(start + 1, 0)
    contents.autofilter(start, 0, start + len(tables), 3)

    for t in tables:
        _write_table(w, wb.add_worksheet(names[t.name]), t)
    wb.close()
    return buf.getvalue()
