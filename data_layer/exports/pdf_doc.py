"""The PDF document the pack is written into (fpdf2): fonts, page header and footer, wrapped text, headings and
tables. What goes on the pages is in ``pdf``.

Text uses DejaVu Sans (Debian package fonts-dejavu-core), which has every character the pack needs: curly quotes,
£, en dashes, accented names, ✔ ▲ ✖ and the Making Data Count symbols. Tables break between rows, never inside
one, and repeat their heading row on every page; a short table starts on a new page rather than split.

Lines are wrapped here, from the font's character widths, and written with single-line cells: fpdf2's own
``multi_cell`` measures a line again for every character it adds, which made a 40-page pack take seconds of line
breaking alone. User text (comments, complaint summaries) is always written as plain text, never as markup.
"""
from __future__ import annotations

import io
import os
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .. import palette
from . import mdc_icons
from ..engine import format_value
from .pack_model import InspectionPack, Table

FONT_DIR = Path(os.environ.get("PACK_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
OPTIONAL_FONTS = {"I": "DejaVuSans-Oblique.ttf"}

BLUE = palette.rgb(palette.NHS_BLUE)
DARK_BLUE = palette.rgb(palette.NHS_DARK_BLUE)
TEXT = palette.rgb(palette.TEXT)
GREY = palette.rgb(palette.NHS_DARK_GREY)
MID_GREY = palette.rgb(palette.NHS_MID_GREY)
PALE = palette.rgb(palette.RULE_GREY)
PALER = palette.rgb(palette.ZEBRA_GREY)
YELLOW = palette.rgb(palette.NHS_WARM_YELLOW)
WHITE = palette.rgb(palette.WHITE)

RATING_COLOURS = {rating: palette.rgb(colour) for rating, colour in palette.RATING_COLOURS.items()}
NUMERIC_KINDS = ("unit", "int", "dec1", "dec2")
PT = 0.3528  # mm per point


class FontsMissing(RuntimeError):
    """The PDF's fonts are not installed."""


def _font_paths() -> dict[str, Path]:
    paths = {style: FONT_DIR / name for style, name in FONTS.items()}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise FontsMissing("The PDF pack needs the DejaVu Sans fonts, which are not installed: " + ", ".join(missing)
                           + ". Install them with `apt-get install fonts-dejavu-core` (Debian/Ubuntu), or set "
                             "PACK_FONT_DIR to a folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf.")
    for style, name in OPTIONAL_FONTS.items():
        if (FONT_DIR / name).exists():
            paths[style] = FONT_DIR / name
    return paths


# ---------------------------------------------------------------------------------------------------------------
# Cell text
# ---------------------------------------------------------------------------------------------------------------
def _day(d) -> str:
    from ..policy import words

    return words.day(d)


def cell_text(value, kind: str, unit: str | None = None) -> str:
    """What a table cell says in the PDF (the workbook keeps the raw number or date)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "" if kind == "text" else "–"
    if kind == "unit":
        return format_value(float(value), unit or "%")
    if kind == "int":
        return f"{float(value):,.0f}"
    if kind == "dec1":
        return f"{float(value):,.1f}"
    if kind == "dec2":
        return f"{float(value):,.2f}"
    if kind == "date":
        return _day(value)
    if kind == "month":
        return f"{pd.Timestamp(value):%B %Y}"
    if kind == "datetime":
        t = pd.Timestamp(value)
        return f"{t.day} {t:%B %Y, %H:%M}"
    if kind == "auto":
        if isinstance(value, datetime):
            return f"{value.day} {value:%B %Y, %H:%M}"
        if isinstance(value, date):
            return f"{value.day} {value:%B %Y}"
        if isinstance(value, (int, np.integer)):
            return f"{int(value):,}"
        if isinstance(value, (float, np.floating)):
            return f"{float(value):,.1f}"
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------------------------
class PackPDF(FPDF):
    def __init__(self, pack: InspectionPack):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.pack = pack
        self.set_margins(15, 16, 15)
        self.set_auto_page_break(True, margin=16)
        fonts = _font_paths()
        for style, path in fonts.items():
            self.add_font("DejaVu", style, str(path))
        self.has_italic = "I" in fonts
        self.set_font("DejaVu", "", 9)
        self.set_text_color(*TEXT)
        self.set_title(f"CQC inspection evidence pack – {pack.scope_name} – {pack.period_words}")
        self.set_author(pack.generated_by)
        self.set_subject("Evidence for a Care Quality Commission inspection, by key question and quality statement")
        self.set_creator("Federation governance dashboard")
        self.set_lang("en-GB")

    # --- header and footer on every page but the cover ------------------------------------------------------------
    def header(self):
        if self.page_no() == 1:
            return
        self.set_font("DejaVu", "", 7)
        self.set_text_color(*GREY)
        self.set_xy(self.l_margin, 8)
        self.cell(self.epw * 0.65, 4, f"CQC evidence pack · {self.pack.scope_name}", align="L")
        self.cell(self.epw * 0.35, 4, self.pack.period_words, align="R")
        self.set_draw_color(*PALE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 12.5, self.w - self.r_margin, 12.5)
        self.set_xy(self.l_margin, self.t_margin)
        self.set_text_color(*TEXT)

    def footer(self):
        if self.page_no() == 1:
            return
        self.set_y(-11)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(*GREY)
        when = self.pack.generated_at
        left = f"{self.pack.federation_name} · generated {when.day} {when:%B %Y} at {when:%H:%M}"
        if self.pack.demo:
            left += " · fictional demo data"
        self.cell(self.epw * 0.75, 4, left, align="L")
        self.cell(self.epw * 0.25, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*TEXT)

    # --- measuring and wrapping text ------------------------------------------------------------------------------
    def _cw(self, style: str):
        return self.fonts["dejavu" + style].cw

    def text_width(self, text: str, style: str = "", size: float = 9) -> float:
        cw = self._cw(style)
        return sum(cw[ord(c)] for c in text) * size / 1000 * PT

    def wrap(self, text: str, width: float, style: str = "", size: float = 9) -> list[str]:
        """Lines of ``text`` no wider than ``width`` mm, broken at spaces (a word wider than the line is split)."""
        cw = self._cw(style)
        scale = size / 1000 * PT
        space = cw[32] * scale
        lines: list[str] = []
        for para in str(text).split("\n"):
            line, line_w, started = "", 0.0, False
            for word in para.split(" "):
                w = sum(cw[ord(c)] for c in word) * scale
                if started and line_w + space + w <= width:
                    line, line_w = f"{line} {word}", line_w + space + w
                    continue
                if started:
                    lines.append(line)
                if w <= width:
                    line, line_w, started = word, w, True
                    continue
                part, part_w = "", 0.0  # a word longer than the line: split it
                for c in word:
                    cwid = cw[ord(c)] * scale
                    if part and part_w + cwid > width:
                        lines.append(part)
                        part, part_w = "", 0.0
                    part, part_w = part + c, part_w + cwid
                line, line_w, started = part, part_w, True
            lines.append(line)
        return lines

    def write_lines(self, lines: list[str], x: float, width: float, line_h: float, align: str = "L") -> None:
        for line in lines:
            if self.get_y() + line_h > self.h - self.b_margin:
                self.add_page()
            self.set_x(x)
            self.cell(width, line_h, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # --- building blocks ------------------------------------------------------------------------------------------
    def space_left(self) -> float:
        return self.h - self.b_margin - self.get_y()

    def ensure(self, height: float) -> None:
        if self.space_left() < height:
            self.add_page()

    def at_page_top(self) -> bool:
        return self.get_y() <= self.t_margin + 0.5

    def chapter(self, title: str, subtitle: str = "") -> None:
        if not self.at_page_top():
            self.add_page()
        self.start_section(title, level=0)
        self.set_font("DejaVu", "B", 17)
        self.set_text_color(*DARK_BLUE)
        self.cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.para(subtitle, size=10, colour=GREY, after=0)
        self.set_text_color(*TEXT)
        self.ln(2.5)

    def heading(self, text: str, level: int = 1, outline: bool = True, keep: float = 30) -> None:
        """level 1: a heading inside a chapter; 2: a quality statement; 3: a table's title. Levels 1 and 2 are
        entries under their chapter in the contents."""
        self.ensure(keep)
        if not self.at_page_top():
            self.ln({1: 2.5, 2: 1.5}.get(level, 1))
        if outline:
            self.start_section(text, level=1)
        size = {1: 13, 2: 11}.get(level, 9.2)
        self.set_font("DejaVu", "B", size)
        self.set_text_color(*(DARK_BLUE if level in (1, 2) else BLUE))
        self.write_lines(self.wrap(text, self.epw, "B", size), self.l_margin, self.epw, size * 0.5)
        if level in (1, 2):
            self.set_draw_color(*(BLUE if level == 1 else PALE))
            self.set_line_width(0.5 if level == 1 else 0.3)
            y = self.get_y() + 0.4
            self.line(self.l_margin, y, self.l_margin + (30 if level == 1 else self.epw), y)
            self.set_line_width(0.2)
            self.ln(2.2)
        else:
            self.ln(0.6)
        self.set_text_color(*TEXT)

    def para(self, text: str, size: float = 9, colour=TEXT, bold: bool = False, italic: bool = False,
             after: float = 1.8, x: float | None = None, width: float | None = None) -> None:
        style = "B" if bold else ("I" if italic and self.has_italic else "")
        x = self.l_margin if x is None else x
        width = self.epw - (x - self.l_margin) if width is None else width
        self.set_font("DejaVu", style, size)
        self.set_text_color(*colour)
        self.write_lines(self.wrap(text, width, style, size), x, width, size * 0.47)
        self.set_text_color(*TEXT)
        self.ln(after)

    def note(self, text: str) -> None:
        if text:
            self.para(text, size=7.2, colour=GREY, italic=True, after=2.6)

    def iconed(self, rows: list[tuple[str, str, str | None, str]], label_w: float = 24, size: float = 7.6,
               gap: float = 0.8) -> None:
        """Label – Making Data Count icon – words, one row each (kind "variation" or "assurance" and its code; a
        state without an icon has its words alone, beside the label)."""
        lh = size * 0.47
        icon = lh * 2.2
        for label, kind, code, text in rows:
            room = self.epw - label_w - icon - 1.5
            lines = self.wrap(text, room, "", size)
            height = max(icon, lh * len(lines))
            self.ensure(height + gap)
            y = self.get_y()
            self.set_font("DejaVu", "B", size)
            self.set_text_color(*GREY)
            self.set_xy(self.l_margin, y + (icon - lh) / 2)
            self.cell(label_w, lh, label)
            drawn = mdc_icons.draw_pdf(self, kind, code, self.l_margin + label_w, y, icon)
            x = self.l_margin + label_w + (icon + 1.5 if drawn else 0)
            self.set_font("DejaVu", "", size)
            self.set_text_color(*TEXT)
            top = y + max((icon - lh * len(lines)) / 2, 0)
            self.set_xy(x, top)
            self.write_lines(lines, x, self.epw - (x - self.l_margin), lh)
            self.set_xy(self.l_margin, y + height + gap)

    def labelled(self, rows: list[tuple[str, str]], label_w: float = 26, size: float = 7.8,
                 label_size: float | None = None, gap: float = 0.6) -> None:
        """Label – text pairs, the text wrapped beside its label."""
        label_size = label_size or size
        for label, text in rows:
            lines = self.wrap(text, self.epw - label_w, "", size)
            lh = size * 0.47
            self.ensure(lh * min(len(lines), 3))
            y = self.get_y()
            self.set_font("DejaVu", "B", label_size)
            self.set_text_color(*GREY)
            self.set_xy(self.l_margin, y)
            self.cell(label_w, lh, label)
            self.set_font("DejaVu", "", size)
            self.set_text_color(*TEXT)
            self.set_xy(self.l_margin + label_w, y)
            self.write_lines(lines, self.l_margin + label_w, self.epw - label_w, lh)
            self.ln(gap)

    # --- tables ---------------------------------------------------------------------------------------------------
    def table_of(self, table: Table, title: bool = True, size: float = 7.6, note: bool = True) -> None:
        """A pack table: heading row repeated on every page, rows never split, numbers right-aligned, zebra rows."""
        cols = list(table.pdf_columns or table.frame.columns)
        frame = table.frame
        if frame.empty:
            if title:
                self.heading(table.title, level=3, outline=False, keep=14)
            self.para("Nothing to show for this period.", size=8, colour=GREY)
            if note:
                self.note(table.note)
            return
        kinds = [table.kind(c) for c in cols]
        rel = list(table.pdf_widths or [1] * len(cols))
        widths = [w / sum(rel) * self.epw for w in rel]
        pad_x, pad_y, lh = 1.1, 0.9, size * 0.45
        units = frame["Unit"].astype(str).tolist() if "Unit" in frame.columns else [None] * len(frame)
        values = {c: frame[c].tolist() for c in cols}

        # a Making Data Count icon at the start of its cell, the words beside it (exports.mdc_icons)
        icon_w = lh * 1.7
        icon_codes = [table.icons.get(c) for c in cols]

        def wrapped(texts: list[str], style: str, row: int | None = None) -> list[list[str]]:
            return [self.wrap(t, w - 2 * pad_x - (icon_w + 0.8 if row is not None and icon and
                                                    mdc_icons.has_icon(icon[0], icon[1][row]) else 0), style, size)
                    for t, w, icon in zip(texts, widths, icon_codes)]

        # a heading row never breaks inside a word: its type shrinks until each column's longest word fits
        head_size = size
        while head_size > 5.8 and any(
                max(self.text_width(word, "B", head_size) for word in str(c).split()) > w - 2 * pad_x
                for c, w in zip(cols, widths)):
            head_size -= 0.2
        head = [self.wrap(str(c), w - 2 * pad_x, "B", head_size) for c, w in zip(cols, widths)]
        head_h = max(len(x) for x in head) * head_size * 0.45 + 2 * pad_y
        rows = []
        for i in range(len(frame)):
            cells = wrapped([cell_text(values[c][i], k, units[i]) for c, k in zip(cols, kinds)], "", i)
            tall = icon_w if any(icon_codes) else 0
            rows.append((cells, max(max(len(x) for x in cells) * lh, tall) + 2 * pad_y))
        title_h = 7 if title else 0
        total = title_h + head_h + sum(h for _, h in rows)
        page_h = self.h - self.t_margin - self.b_margin
        first = title_h + head_h + sum(h for _, h in rows[:3])
        if total <= page_h * 0.45 and total > self.space_left():
            self.add_page()  # a short table is kept on one page
        else:
            self.ensure(first)
        if title:
            self.heading(table.title, level=3, outline=False, keep=0)

        def draw(cells: list[list[str]], height: float, style: str, fill, colour, font_size: float = size,
                 row: int | None = None) -> None:
            y = self.get_y()
            if fill is not None:
                self.set_fill_color(*fill)
                self.rect(self.l_margin, y, self.epw, height, style="F")
            self.set_font("DejaVu", style, font_size)
            self.set_text_color(*colour)
            line_h = font_size * 0.45
            x = self.l_margin
            for lines, w, k, icon in zip(cells, widths, kinds, icon_codes):
                align = "R" if k in NUMERIC_KINDS else "L"
                shift = 0.0
                if row is not None and icon and mdc_icons.draw_pdf(self, icon[0], icon[1][row], x + pad_x,
                                                                   y + pad_y, icon_w):
                    shift = icon_w + 0.8
                    self.set_font("DejaVu", style, font_size)  # the drawing leaves its own colours and font
                    self.set_text_color(*colour)
                for j, line in enumerate(lines):
                    self.set_xy(x + pad_x + shift, y + pad_y + j * line_h)
                    self.cell(w - 2 * pad_x - shift, line_h, line, align=align)
                x += w
            self.set_draw_color(*PALE)
            self.line(self.l_margin, y + height, self.l_margin + self.epw, y + height)
            self.set_xy(self.l_margin, y + height)

        draw(head, head_h, "B", BLUE, WHITE, head_size)
        bottom = self.h - self.b_margin
        for i, (cells, h) in enumerate(rows):
            if self.get_y() + h > bottom:
                self.add_page()
                draw(head, head_h, "B", BLUE, WHITE, head_size)
            draw(cells, h, "", PALER if i % 2 else None, TEXT, row=i)
        self.set_text_color(*TEXT)
        self.ln(1.5)
        if note:
            self.note(table.note)

    def image_png(self, png: bytes, width: float | None = None) -> None:
        width = width or self.epw
        w_px, h_px = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # PNG IHDR
        self.ensure(width * h_px / max(w_px, 1) + 1)
        self.image(io.BytesIO(png), x=self.l_margin, w=width)
        self.ln(1)
