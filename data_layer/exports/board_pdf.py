"""The board pack as a PDF: a cover, a contents page, then one chapter per section (each a PDF bookmark and a
heading), its tables laid out by ``pdf_doc.PackPDF``. The practice × measure matrix goes on landscape pages.
Every figure and every word is the pack's (``board_pack``): nothing is worked out here.
"""
from __future__ import annotations

from fpdf.enums import XPos, YPos

from .board_pack import BoardPack
from .pack_model import Table
from .pdf import _contents
from .pdf_doc import BLUE, DARK_BLUE, GREY, MID_GREY, PALE, TEXT, WHITE, YELLOW, PackPDF, cell_text

INTROS = {
    "What needs attention": "What the board should look at first, worked out from the same stored figures as the "
                            "overview: {counts}.",
    "What changed since the previous month": "What is different from {previous}: new special causes, targets "
                                             "newly met or missed, and training that lapsed.",
    "Aims scorecard": "Each aim with the measures that evidence it, for the federation as at {month}.",
    "Practices by measure": "Every aim measure for each practice as at {month}, the federation first.",
    "Actions": "Actions agreed by the board and practices: what is overdue, what is due before the next meeting "
               "and what has been done since the last.",
    "Data completeness": "Which practices have sent each dataset, against its submission deadline.",
    "Notes added this month": "Notes on the charts (what happened, and where the control limits restart).",
    "Sources": "The import batches whose rows are in the months this pack compares.",
}


EMPTY = {  # what an empty table says instead
    "attention": "Nothing needs attention: no special-cause concern, no measure off target, no training lapsing.",
    "changes": "No new special cause, no target newly met or missed and no more training lapsed than a month before.",
    "actions_overdue": "No action is overdue.",
    "actions_due_before_next": "No action is due before the next meeting.",
    "actions_done_since_last": "No action has been marked done since the last meeting.",
    "completeness_late": "Every practice has sent every dataset now due.",
    "notes": "No notes were added to the charts this month.",
}


class BoardPDF(PackPDF):
    def __init__(self, pack: BoardPack):
        super().__init__(pack)  # fonts, margins and the footer are the inspection pack's
        self.set_title(f"Board pack – {pack.federation_name} – {pack.period_words}")
        self.set_subject("The federation board's monthly pack: what needs attention, what changed, aims, "
                         "practices, actions, data completeness, notes and sources")
        self.landscape = False  # while True, every new page (a table running on) is landscape too

    def add_page(self, orientation="", *args, **kwargs):
        if not orientation and getattr(self, "landscape", False):
            orientation = "L"
        super().add_page(orientation, *args, **kwargs)

    def header(self):
        if self.page_no() == 1:
            return
        self.set_font("DejaVu", "", 7)
        self.set_text_color(*GREY)
        self.set_xy(self.l_margin, 8)
        self.cell(self.epw * 0.65, 4, f"Board pack · {self.pack.federation_name}", align="L")
        self.cell(self.epw * 0.35, 4, self.pack.period_words, align="R")
        self.set_draw_color(*PALE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 12.5, self.w - self.r_margin, 12.5)
        self.set_xy(self.l_margin, self.t_margin)
        self.set_text_color(*TEXT)


def _cover(pdf: BoardPDF, pack: BoardPack) -> None:
    pdf.add_page()
    pdf.start_section("Cover", level=0)
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, pdf.w, 62, style="F")
    pdf.set_xy(15, 18)
    pdf.set_text_color(*WHITE)
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 6, pack.federation_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "B", 24)
    pdf.cell(0, 13, "Monthly board pack", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 6, f"{pack.period_words}, compared with {pack.previous:%B %Y}", new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    pdf.set_y(74)
    pdf.para(pack.period_words, size=20, colour=DARK_BLUE, bold=True, after=4)
    rows = [(str(r["Item"]), cell_text(r["Value"], "auto")) for r in pack.cover.frame.to_dict("records")
            if r["Item"] not in ("Board pack", "Data", "Handling")]
    pdf.labelled(rows, label_w=50, size=9.5, gap=2)
    pdf.ln(4)
    pdf.para("In this pack", size=9.5, colour=GREY, bold=True, after=1)
    c = pack.counts
    pdf.labelled([("Attention", f"{sum(c.values())} items: " + _count_words(c)),
                  ("Changes", f"{len(pack.changes.frame)} since {pack.previous:%B %Y}"),
                  ("Actions", "; ".join(f"{len(t.frame)} {t.title[0].lower() + t.title[1:]}" for t in pack.actions))]
                 + ([("Data", pack.completeness_line)] if pack.completeness_line else []),
                 label_w=50, size=9, gap=1.5)
    pdf.set_y(max(pdf.get_y() + 6, 230))
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
    pdf.para(str(pack.cover.frame.set_index("Item")["Value"].get("Handling", "")), size=8.5, x=pdf.l_margin + 3,
             width=pdf.epw - 6, after=0)
    pdf.set_draw_color(*MID_GREY)
    pdf.rect(pdf.l_margin, y - 2, pdf.epw, pdf.get_y() - y + 4)
    pdf.ln(5)
    pdf.para("Every figure is the one the federation dashboard stored when the data was imported, the same as on "
             "the board's screens. Symbols always come with words: ✔ on target, ▲ near target, ✖ off target.",
             size=7.5, colour=GREY)


def _count_words(counts: dict[str, int]) -> str:
    return "; ".join(f"{n} {k.lower()}" for k, n in counts.items())


def _section(pdf: BoardPDF, pack: BoardPack, number: int, heading: str, tables: list[Table]) -> None:
    landscape = heading == "Practices by measure"
    if landscape:
        pdf.landscape = True
        pdf.add_page(orientation="L")
    pdf.chapter(f"{number}. {heading}")
    intro = INTROS.get(heading, "").format(previous=f"{pack.previous:%B %Y}", month=pack.period_words,
                                           counts=_count_words(pack.counts))
    if intro:
        pdf.para(intro, size=9, after=2.5)
    if heading == "Data completeness" and pack.completeness_line:
        pdf.para(pack.completeness_line, size=9, bold=True, after=2.5)
    if heading == "Actions" and pack.meetings is not None:
        pdf.para(pack.meetings.words, size=9, bold=not pack.meetings.configured, after=2.5)
    for table in tables:
        several = len(tables) > 1
        if several:
            pdf.heading(table.title, level=1, keep=30)
        if table.frame.empty and table.name in EMPTY:
            pdf.para(EMPTY[table.name], size=8.5, colour=GREY, after=1)
            pdf.note(table.note)
            continue
        pdf.table_of(table, title=False, size=6.6 if landscape else 7.2)
    if landscape:
        pdf.landscape = False
        pdf.add_page(orientation="P")


def render_board_pdf(pack: BoardPack) -> bytes:
    pdf = BoardPDF(pack)
    _cover(pdf, pack)
    pdf.add_page()
    pdf.insert_toc_placeholder(_contents, pages=1)
    for number, (heading, tables) in enumerate(pack.sections()[1:], start=1):
        _section(pdf, pack, number, heading, tables)
    return bytes(pdf.output())
