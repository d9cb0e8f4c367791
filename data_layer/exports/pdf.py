"""The pack as a PDF: cover, contents, summary, one chapter per key question with its quality statements, what
CQC asks for before a visit, and appendices of sources and methods. The document itself (fonts, wrapped text,
tables) is ``pdf_doc.PackPDF``; the words about each measure are the pack's (``pack_model``), read from the store.
"""
from __future__ import annotations

import pandas as pd
from fpdf.enums import XPos, YPos

from ..engine import format_value
from ..views import special_cause_runs
from . import charts as chart_mod
from .pack_model import (CQC_COLUMNS, PACK_MONTHS, InspectionPack, KeyQuestion, Statement, assurance_of,
                         variation_of)
from .pdf_doc import (BLUE, DARK_BLUE, GREY, MID_GREY, PALER, RATING_COLOURS, TEXT, WHITE, YELLOW,
                      FontsMissing, PackPDF, cell_text)  # noqa: F401  (FontsMissing: raised by render_pdf)


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
    pdf.para(f"{pack.period_words} ({PACK_MONTHS} months)", size=12, colour=GREY, after=6)
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
    pdf.para("Every figure is the one the federation dashboard stored when the data was imported, the same as on the "
             "board's screens. Appendix A lists the files behind the pack and Appendix B how each measure is "
             "calculated.",
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
        ("Status", "The latest period against the federation's target: ✔ on target, ▲ near target (within the "
                   "tolerance), ✖ off target, – no target set. Too few to judge: fewer cases than the measure "
                   "needs, so no status or icon. Not shown: too few responses to show without risk of "
                   f"identifying someone (fewer than {pack.suppression_min})."),
        ("Variation", "NHS England's Making Data Count control chart over each measure's window (the same as on "
                      "the screens), shown by its icon with the words beside it: grey, common cause (only the usual "
                      "ups and downs); blue, special cause improvement; orange, special cause concern; purple, "
                      "unusual where neither direction is better; H or L says whether the figures are high or low."),
        ("Assurance", "Whether the target can be relied on: blue P consistently passes, orange F consistently fails, "
                      "grey ? hit and miss (the target lies between the process limits)."),
        ("Funnel plot", "Each practice's figure against its size, with 95% and 99.8% limits around the federation's "
                        "pooled figure: outside the 99.8% limit is better or worse than expected."),
        ("Compared", "The practice's 95% interval wholly above or below the federation's figure in the same month "
                     "(better or worse), otherwise similar."),
    ], label_w=24, size=8)
    _icon_key(pdf)
    key = pack.charts.get("key")
    if key:
        pdf.ln(1)
        pdf.image_png(key)


def _icon_key(pdf: PackPDF) -> None:
    """Every Making Data Count icon the pack uses, with its words (the same drawings as the screens)."""
    from ..policy import status
    from . import mdc_icons

    pdf.ln(1)
    rows = [("Variation" if i == 0 else "", "variation", code, status.variation_short(code))
            for i, code in enumerate(mdc_icons.VARIATION)]
    rows += [("Assurance" if i == 0 else "", "assurance", code, status.assurance_short(code))
             for i, code in enumerate(mdc_icons.ASSURANCE)]
    pdf.iconed(rows, label_w=24, size=7.6, gap=0.4)


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
    month = ev.period_text
    value = ev.value_text
    if ev.numerator is not None and ev.denominator is not None and ind.unit == "%" and not res.suppressed:
        value += f" ({ev.numerator:,.0f} of {ev.denominator:,.0f})"
    cells = [("Latest period" if res.period_months > 1 else "Latest month", month), ("Value", value)]
    if ev.interval_text:
        cells.append(("95% interval", ev.interval_text))
    cells.append(("Target", format_value(res.target, ind.unit) if res.target is not None else "None set"))
    cells.append(("Status", ev.status))
    if pack.practice_code:
        cells.append(("Federation", format_value(ev.federation_value, ind.unit)))
    _stat_strip(pdf, cells)
    if chart:
        pdf.image_png(chart)
    v_code, _, v_text = variation_of(res)
    a_code, _, a_text = assurance_of(res)
    # the Making Data Count icons, drawn, with their words beside them (never a stray letter or arrow)
    marks = [("Variation", "variation", v_code, f"{v_text}.")]
    if res.target is not None:
        marks.append(("Assurance", "assurance", a_code, f"{a_text}."))
    pdf.iconed(marks, label_w=24, size=7.6)
    lines = []
    runs = special_cause_runs(res)
    if len(runs):
        lines.append(("Special cause", " ".join(runs["words"].tolist())))
    if ev.funnel_text:
        lines.append(("Funnel plot", ev.funnel_text))
    if pack.practice_code and ev.comparison:
        lines.append(("Compared", f"{ev.comparison} in the same period (95% interval)."))
    lines += chart_mod.note_lines(ev)
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
    run = pack.spc_run_length or "several"
    pdf.para("Every figure is worked out once, when its data is imported, and stored: the screens and this pack "
             "read the same stored figures. Where several practices or months are combined, the figure is "
             "Σ numerators ÷ Σ denominators over the rows that have both, never an average of percentages. Control "
             "charts follow NHS England's Making Data Count (XmR chart: mean ± 2.66 × mean moving range; special "
             f"cause: a point outside the limits, a run of {run} points on one side of the mean, {run} points rising "
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
