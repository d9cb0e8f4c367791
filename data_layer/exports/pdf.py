"""The pack as a PDF (fpdf2): cover, contents, summary, one chapter per key question with its quality statements,
what CQC asks for before a visit, and appendices of sources and methods.

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

from ..analytics import VARIATION_SYMBOLS
from ..engine import format_value
from ..views import special_cause_runs
from . import charts as chart_mod
from .inspection import CQC_COLUMNS, InspectionPack, KeyQuestion, Statement, Table

FONT_DIR = Path(os.environ.get("PACK_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
OPTIONAL_FONTS = {"I": "DejaVuSans-Oblique.ttf"}

BLUE = (0, 94, 184)
DARK_BLUE = (0, 48, 135)
TEXT = (33, 43, 50)
GREY = (66, 85, 99)
MID_GREY = (118, 134, 146)
PALE = (216, 223, 226)
PALER = (242, 245, 246)
YELLOW = (255, 184, 28)
WHITE = (255, 255, 255)

RATING_COLOURS = {"Outstanding": (0, 150, 57), "Good": (0, 94, 184), "Requires improvement": (237, 139, 0),
                  "Inadequate": (218, 41, 28)}
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
    d = pd.Timestamp(d)
    return f"{d.day} {d:%b %Y}"


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
        return f"{pd.Timestamp(value):%b %Y}"
    if kind == "datetime":
        t = pd.Timestamp(value)
        return f"{t.day} {t:%b %Y %H:%M}"
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

        def wrapped(texts: list[str], style: str) -> list[list[str]]:
            return [self.wrap(t, w - 2 * pad_x, style, size) for t, w in zip(texts, widths)]

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
            cells = wrapped([cell_text(values[c][i], k, units[i]) for c, k in zip(cols, kinds)], "")
            rows.append((cells, max(len(x) for x in cells) * lh + 2 * pad_y))
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

        def draw(cells: list[list[str]], height: float, style: str, fill, colour, font_size: float = size
                 ) -> None:
            y = self.get_y()
            if fill is not None:
                self.set_fill_color(*fill)
                self.rect(self.l_margin, y, self.epw, height, style="F")
            self.set_font("DejaVu", style, font_size)
            self.set_text_color(*colour)
            line_h = font_size * 0.45
            x = self.l_margin
            for lines, w, k in zip(cells, widths, kinds):
                align = "R" if k in NUMERIC_KINDS else "L"
                for j, line in enumerate(lines):
                    self.set_xy(x + pad_x, y + pad_y + j * line_h)
                    self.cell(w - 2 * pad_x, line_h, line, align=align)
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
            draw(cells, h, "", PALER if i % 2 else None, TEXT)
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


# ---------------------------------------------------------------------------------------------------------------
# Parts of the pack
# ---------------------------------------------------------------------------------------------------------------
def _cover(pdf: PackPDF, pack: InspectionPack) -> None:
    pdf.add_page()
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, pdf.w, 62, style="F")
    pdf.set_xy(15, 18)
    pdf.set_text_color(*WHITE)
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 6, pack.federation_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "B", 24)
    pdf.cell(0, 13, "CQC inspection evidence pack", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 6, "Evidence by CQC key question and quality statement", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(74)
    name = pack.practice.get("name") if pack.practice_code else f"{pack.federation_name}: all practices"
    pdf.para(name, size=20, colour=DARK_BLUE, bold=True, after=1)
    pdf.para(f"{pack.period_words} (12 months)", size=12, colour=GREY, after=6)
    rows = [(str(r["Item"]), cell_text(r["Value"], "auto")) for r in pack.cover.frame.to_dict("records")
            if r["Item"] not in ("Evidence pack", "For", "Data", "Handling")]
    pdf.labelled(rows, label_w=50, size=9.5, gap=2)
    if pack.practice_code:
        pdf.ln(4)
        pdf.para("CQC ratings held", size=9.5, colour=GREY, bold=True, after=1)
        _rating_boxes(pdf, pack)
    pdf.set_y(max(pdf.get_y() + 6, 224))
    if pack.demo:
        y = pdf.get_y()
        pdf.set_fill_color(*YELLOW)
        pdf.rect(pdf.l_margin, y, pdf.epw, 8, style="F")
        pdf.set_xy(pdf.l_margin + 3, y + 1.5)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.set_text_color(*TEXT)
        pdf.cell(0, 5, "Fictional demo data: these are not real practices, staff or patients.")
        pdf.set_y(y + 11)
    y = pdf.get_y()
    pdf.para("Handling: this pack contains patients' comments, complaint summaries and significant event learning "
             "with names, phone numbers, email addresses, NHS numbers and postcodes removed. It holds no staff "
             "names. Share it only with CQC and the practice team.", size=8.5, x=pdf.l_margin + 3,
             width=pdf.epw - 6, after=0)
    pdf.set_draw_color(*MID_GREY)
    pdf.rect(pdf.l_margin, y - 2, pdf.epw, pdf.get_y() - y + 4)
    pdf.ln(5)
    pdf.para("Every figure comes from the federation dashboard's calculation engine, the same one as the board's "
             "screens. Appendix A lists the files behind the pack and Appendix B how each measure is calculated.",
             size=7.5, colour=GREY)


def _rating_boxes(pdf: PackPDF, pack: InspectionPack) -> None:
    labels = ["Overall", "Safe", "Effective", "Caring", "Responsive", "Well-led"]
    w = pdf.epw / 6
    y = pdf.get_y()
    for i, label in enumerate(labels):
        rating = pack.practice.get(CQC_COLUMNS[label])
        rating = rating if isinstance(rating, str) and rating else "Not rated"
        x = pdf.l_margin + i * w
        pdf.set_fill_color(*RATING_COLOURS.get(rating, MID_GREY))
        pdf.rect(x + 0.5, y, w - 1, 2.2, style="F")
        pdf.set_xy(x + 0.5, y + 3)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(*GREY)
        pdf.cell(w - 1, 4, label, align="C")
        pdf.set_font("DejaVu", "B", 8.5)
        pdf.set_text_color(*TEXT)
        for j, line in enumerate(pdf.wrap(rating, w - 2, "B", 8.5)):
            pdf.set_xy(x + 0.5, y + 7.2 + j * 4)
            pdf.cell(w - 1, 4, line, align="C")
    pdf.set_y(y + 17)
    when = pack.practice.get("cqc_rating_date")
    if when is not None and not pd.isna(when):
        pdf.para(f"Published {pd.Timestamp(when).day} {pd.Timestamp(when):%B %Y}", size=7.5, colour=GREY)
    pdf.set_text_color(*TEXT)


def _contents(pdf: PackPDF, outline) -> None:
    pdf.set_xy(pdf.l_margin, pdf.t_margin)
    pdf.set_font("DejaVu", "B", 17)
    pdf.set_text_color(*DARK_BLUE)
    pdf.cell(0, 10, "Contents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    # one page: the quality statements are listed while they fit, otherwise the chapters only
    room = pdf.h - pdf.b_margin - pdf.get_y()
    statements = sum(7.0 if i.level == 0 else 4.95 for i in outline if i.level <= 1) <= room
    for item in outline:
        if item.level > (1 if statements else 0):
            continue
        size, style, indent = (10, "B", 0) if item.level == 0 else (8.5, "", 6)
        if item.level == 0:
            pdf.ln(1.4)
        pdf.set_font("DejaVu", style, size)
        colour = DARK_BLUE if item.level == 0 else TEXT
        link = pdf.add_link(page=item.page_number)
        page = str(item.page_number)
        avail = pdf.epw - indent - 14
        name = item.name
        if pdf.text_width(name, style, size) > avail:
            while pdf.text_width(name + "…", style, size) > avail and len(name) > 4:
                name = name[:-1]
            name = name.rstrip() + "…"
        h = size * 0.5
        y = pdf.get_y()
        name_w = pdf.text_width(name, style, size)
        pdf.set_text_color(*colour)
        pdf.set_xy(pdf.l_margin + indent, y)
        pdf.cell(name_w + 1, h, name, link=link)
        page_w = pdf.text_width(page, style, size)
        dots_x = pdf.l_margin + indent + name_w + 2
        dots_w = pdf.l_margin + pdf.epw - page_w - 2 - dots_x
        dot = pdf.text_width(" .", "", size)
        pdf.set_font("DejaVu", "", size)
        pdf.set_text_color(*MID_GREY)
        pdf.set_xy(dots_x, y)
        pdf.cell(dots_w, h, " ." * max(int(dots_w / dot), 0), align="R", link=link)
        pdf.set_font("DejaVu", style, size)
        pdf.set_text_color(*colour)
        pdf.set_xy(pdf.l_margin + pdf.epw - page_w - 1, y)
        pdf.cell(page_w + 1, h, page, align="R", link=link)
        pdf.set_xy(pdf.l_margin, y + h + 0.7)
    pdf.set_text_color(*TEXT)


def _how_to_read(pdf: PackPDF, pack: InspectionPack) -> None:
    pdf.heading("How to read this pack", level=1, keep=100)
    pdf.labelled([
        ("Status", "The latest month against the federation's target: ✔ on target, ▲ near target (within the "
                   "tolerance), ✖ off target, – no target set."),
        ("Variation", "NHS England's Making Data Count control chart for the 12 months: ∼ common cause (only the "
                      "usual ups and downs), ⇑ ⇓ special cause improvement, ↑! ↓! special cause concern, ↑ ↓ unusual "
                      "where neither direction is better."),
        ("Assurance", "Whether the target can be relied on: P consistently passes, F consistently fails, ? hit and "
                      "miss (the target lies between the process limits)."),
        ("Funnel plot", "Each practice's figure against its size, with 95% and 99.8% limits around the federation's "
                        "pooled figure: outside the 99.8% limit is better or worse than expected."),
        ("Compared", "The practice's 95% interval wholly above or below the federation's figure in the same month "
                     "(better or worse), otherwise similar."),
    ], label_w=24, size=8)
    key = pack.charts.get("key")
    if key:
        pdf.ln(1)
        pdf.image_png(key)


def _summary(pdf: PackPDF, pack: InspectionPack) -> None:
    pdf.chapter("1. Summary", f"{pack.scope_name} · {pack.period_words} · figures up to {pack.data_up_to:%B %Y}")
    pdf.para(pack.summary_text, size=9.5, after=3)
    pdf.heading("CQC ratings held", level=1, keep=24)
    pdf.table_of(pack.ratings, title=False, size=7.4)
    pdf.heading("Measures by key question", level=1, keep=50)
    for kq in pack.key_questions:
        rating = f" · CQC rating: {kq.rating}" if kq.rating else ""
        pdf.heading(f"{kq.name}{rating}", level=3, outline=False, keep=40)
        pdf.table_of(kq.summary, title=False, size=7.2, note=False)
    pdf.note(pack.key_questions[0].summary.note if pack.key_questions else "")
    _how_to_read(pdf, pack)


def _stat_strip(pdf: PackPDF, cells: list[tuple[str, str]]) -> None:
    """A row of small labelled figures above a chart, each as wide as its text needs."""
    need = [max(pdf.text_width(v, "B", 8.4), pdf.text_width(lab, "", 6.6)) + 4 for lab, v in cells]
    spare = max(pdf.epw - sum(need), 0) / len(cells)
    size = 8.4 if sum(need) <= pdf.epw else 7.2
    y = pdf.get_y()
    pdf.set_fill_color(*PALER)
    pdf.rect(pdf.l_margin, y, pdf.epw, 10.5, style="F")
    x = pdf.l_margin
    for (label, value), w in zip(cells, need):
        w += spare
        pdf.set_xy(x + 1.5, y + 1.2)
        pdf.set_font("DejaVu", "", 6.6)
        pdf.set_text_color(*GREY)
        pdf.cell(w - 2, 3, label)
        pdf.set_xy(x + 1.5, y + 4.6)
        pdf.set_font("DejaVu", "B", size)
        pdf.set_text_color(*TEXT)
        pdf.cell(w - 2, 4.6, value)
        x += w
    pdf.set_xy(pdf.l_margin, y + 12)


def _evidence_block(pdf: PackPDF, pack: InspectionPack, ev) -> None:
    ind, res = ev.indicator, ev.result
    chart = pack.charts.get(ev.chart)
    pdf.ensure(100 if chart else 40)
    pdf.para(ind.name, size=9.8, colour=DARK_BLUE, bold=True, after=0.3)
    pdf.para(ind.description, size=7.6, colour=GREY, after=1.2)
    month = f"{res.latest_period:%B %Y}" if res.latest_period else "no data"
    value = ev.value_text
    if ev.numerator is not None and ev.denominator is not None and ind.unit == "%" and not res.suppressed:
        value += f" ({ev.numerator:,.0f} of {ev.denominator:,.0f})"
    cells = [("Latest month", month), ("Value", value)]
    if ev.interval_text:
        cells.append(("95% interval", ev.interval_text))
    cells.append(("Target", format_value(res.target, ind.unit) if res.target is not None else "None set"))
    cells.append(("Status", ev.status))
    if pack.practice_code:
        cells.append(("Federation", format_value(ev.federation_value, ind.unit)))
    _stat_strip(pdf, cells)
    if chart:
        pdf.image_png(chart)
    s = res.spc
    lines = []
    if s is not None:
        lines.append(("Variation", f"{VARIATION_SYMBOLS.get(s.variation, '')} {s.variation_text}.".strip()))
        if res.target is not None:
            lines.append(("Assurance", f"{s.assurance_text}."))
        if int(s.points["special_cause"].sum()):
            lines.append(("Special cause", " ".join(special_cause_runs(res)["words"].tolist())))
    else:
        lines.append(("Variation", "Not enough data for a control chart."))
    if ev.funnel_text:
        lines.append(("Funnel plot", ev.funnel_text))
    if pack.practice_code and ev.comparison:
        lines.append(("Compared", f"{ev.comparison} in the same month (95% interval)."))
    pdf.labelled(lines, label_w=24, size=7.6, gap=0.5)
    pdf.ln(4)


def _statement(pdf: PackPDF, pack: InspectionPack, st: Statement) -> None:
    pdf.heading(st.name, level=2, keep=112 if st.indicators else 50)
    for p in st.paragraphs:
        pdf.para(p)
    if st.also:
        pdf.para("Also evidence for this statement: " + "; ".join(f"{name} (shown under {where})"
                                                                   for name, where in st.also) + ".",
                 size=7.8, colour=GREY)
    for ev in st.indicators:
        _evidence_block(pdf, pack, ev)
    for key, caption in st.charts:
        png = pack.charts.get(key)
        if png:
            pdf.ensure(60 if key == "fft" else 95)
            pdf.image_png(png)
            pdf.note(caption)
    for table in st.tables:
        pdf.table_of(table)


def _key_question(pdf: PackPDF, pack: InspectionPack, number: int, kq: KeyQuestion) -> None:
    sub = f"CQC rating for {kq.name}: {kq.rating}" if kq.rating else (
        "" if pack.is_federation else f"No CQC rating held for {kq.name}")
    pdf.chapter(f"{number}. {kq.name}", sub)
    pdf.para(kq.overview, size=9)
    if kq.not_covered:
        pdf.para("Quality statements with no evidence in this pack (the practice should bring its own): "
                 + "; ".join(kq.not_covered) + ".", size=7.8, colour=GREY)
    key = pack.charts.get("key")
    if key and any(st.indicators for st in kq.statements):
        pdf.para("Key to the charts in this chapter", size=7.4, colour=GREY, bold=True, after=0.5)
        pdf.image_png(key)
    for st in kq.statements:
        _statement(pdf, pack, st)


def _checklist(pdf: PackPDF, pack: InspectionPack, number: int) -> None:
    pdf.chapter(f"{number}. Before the visit: what CQC asks for",
                "CQC gives two weeks' notice of an inspection and asks for information within five working days.")
    covered = pack.checklist.frame["Status"].value_counts()
    pdf.para(f"Of the {len(pack.checklist.frame)} things CQC usually asks for, this pack covers "
             f"{int(covered.get('Covered', 0))}, partly covers {int(covered.get('Partly covered', 0))} and leaves "
             f"{int(covered.get('Practice to add', 0))} for the practice to add.", size=9)
    pdf.table_of(pack.checklist, title=False, size=7.6)


def _appendices(pdf: PackPDF, pack: InspectionPack) -> None:
    pdf.chapter("Appendix A. Sources", "The import batches whose rows appear in this pack.")
    pdf.table_of(pack.sources, title=False)
    pdf.chapter("Appendix B. How each measure is calculated")
    pdf.para("Every figure is worked out by the dashboard's one calculation engine. Where several practices or "
             "months are combined, the figure is Σ numerators ÷ Σ denominators, never an average of percentages. "
             "Control charts follow NHS England's Making Data Count (XmR chart: mean ± 2.66 × mean moving range; "
             "special cause: a point outside the limits, a run of 7 points on one side of the mean, 7 points rising "
             "or falling, or 2 of 3 points close to a limit). Funnel plots compare each practice with the pooled "
             "figure at 95% and 99.8% limits (OHID Fingertips method); intervals are Wilson score 95%.", size=8.5,
             after=3)
    pdf.table_of(pack.methods, title=False, size=7.0)


def render_pdf(pack: InspectionPack) -> bytes:
    chart_mod.render_all(pack)
    pdf = PackPDF(pack)
    _cover(pdf, pack)
    pdf.add_page()
    pdf.insert_toc_placeholder(_contents, pages=1)
    _summary(pdf, pack)
    number = 2
    for kq in pack.key_questions:
        _key_question(pdf, pack, number, kq)
        number += 1
    _checklist(pdf, pack, number)
    _appendices(pdf, pack)
    return bytes(pdf.output())
