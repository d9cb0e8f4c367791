"""The Making Data Count icons: one SVG per state in NHS England's design, always with the words of policy.status
beside them, on the screens and in the PDF pack."""
from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import pytest

from data_layer import palette
from data_layer.exports import mdc_icons as icons
from data_layer.policy import status

SVG = "{http://www.w3.org/2000/svg}"


def _parts(svg: str):
    root = ET.fromstring(svg)
    ring = root.find(f"{SVG}circle")
    letters = [t.text for t in root.iter(f"{SVG}text")]
    dots = [c.get("fill") for c in root.iter(f"{SVG}circle")][1:]
    return root, ring, letters, dots


@pytest.mark.parametrize("code, colour, letter", [
    ("common_cause", palette.NHS_MID_GREY, None),
    ("improvement_high", palette.NHS_BLUE, "H"), ("improvement_low", palette.NHS_BLUE, "L"),
    ("concern_high", palette.NHS_ORANGE, "H"), ("concern_low", palette.NHS_ORANGE, "L"),
    ("neutral_high", palette.NEUTRAL_PURPLE, "H"), ("neutral_low", palette.NEUTRAL_PURPLE, "L"),
])
def test_each_variation_icon_is_a_ringed_run_of_points_in_its_colour_with_h_or_l(code, colour, letter):
    root, ring, letters, dots = _parts(icons.svg("variation", code))
    assert root.get("viewBox") == "0 0 40 40" and ring.get("stroke") == colour and ring.get("fill") == "#FFFFFF"
    assert letters == ([letter] if letter else [])
    assert len(dots) == 7
    if letter:  # the signal: the last three points in the icon's colour, the rest grey
        assert dots[-3:] == [colour] * 3 and set(dots[:-3]) == {palette.NHS_MID_GREY}
    else:
        assert set(dots) == {palette.NHS_MID_GREY}


@pytest.mark.parametrize("code, colour, letter", [
    ("pass", palette.NHS_BLUE, "P"), ("fail", palette.NHS_ORANGE, "F"), ("hit_and_miss", palette.NHS_MID_GREY, "?"),
])
def test_each_assurance_icon_is_its_letter_over_the_target_line(code, colour, letter):
    root, ring, letters, _ = _parts(icons.svg("assurance", code))
    assert ring.get("stroke") == colour and letters == [letter]
    assert root.find(f"{SVG}line").get("stroke-dasharray")  # the target


@pytest.mark.parametrize("kind, code", [("variation", "none"), ("variation", "no_variation"),
                                        ("variation", status.TOO_FEW), ("variation", None),
                                        ("assurance", "none"), ("assurance", "no_limits")])
def test_a_state_without_an_icon_draws_nothing_and_its_words_say_why(kind, code):
    assert icons.svg(kind, code) == "" and icons.data_uri(kind, code) is None
    words = status.variation_short(code) if kind == "variation" else status.assurance_short(code)
    assert words and words != "None"


def test_the_words_beside_the_icons_come_from_policy_status():
    from ui import mdc_icons

    for code in icons.VARIATION:
        assert mdc_icons.words("variation", code) == status.VARIATION_SHORT[code]
        html = mdc_icons.badge("variation", code)
        assert "<svg" in html and 'aria-hidden="true"' in html and status.VARIATION_SHORT[code] in html
    for code in icons.ASSURANCE:
        assert status.ASSURANCE_SHORT[code] in mdc_icons.badge("assurance", code)
    assert status.variation_short("concern_low") == "Concerning (low)"
    assert status.assurance_short("hit_and_miss") == "Hit and miss"


def test_the_badge_escapes_its_words_and_an_image_cell_is_never_none():
    from ui import mdc_icons

    assert "&lt;b&gt;" in mdc_icons.badge("variation", "common_cause", "<b>")
    blank = mdc_icons.data_uri("variation", status.TOO_FEW)
    assert blank.startswith("data:image/svg+xml;base64,") and "circle" not in base64.b64decode(
        blank.split(",", 1)[1]).decode()
    uri = mdc_icons.data_uri("assurance", "fail")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == icons.svg("assurance", "fail")


def test_no_stray_letters_or_arrows_in_the_words():
    for words in (*status.VARIATION_SHORT.values(), *status.ASSURANCE_SHORT.values()):
        assert not re.search(r"[⇑⇓↑↓∼]|^[PF?] ", words)


def test_the_icon_is_drawn_into_a_pdf_as_vector_shapes():
    pypdf = pytest.importorskip("pypdf")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    assert icons.draw_pdf(pdf, "assurance", "fail", 10, 10, 8)
    assert not icons.draw_pdf(pdf, "variation", "none", 20, 10, 8)
    page = pypdf.PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0]
    assert "F" in page.extract_text()
    ops = page.get_contents().get_data().decode("latin-1")
    r, g, b = (round(c / 255, 4) for c in palette.rgb(palette.NHS_ORANGE))
    assert f"{r:g} {g:g} {b:g} RG" in ops or f"{r} {g} {b} RG" in ops  # the orange ring


def test_the_pack_pdf_draws_the_icons_in_its_tables_and_evidence_with_their_words():
    pypdf = pytest.importorskip("pypdf")
    from datetime import datetime
    from types import SimpleNamespace

    import pandas as pd

    from data_layer.exports.pack_model import Table
    from data_layer.exports.pdf_doc import FontsMissing, PackPDF

    pack = SimpleNamespace(scope_name="Test Surgery", period_words="2026", generated_by="test", demo=True,
                           federation_name="Test federation", generated_at=datetime(2026, 12, 1, 9, 0))
    try:
        pdf = PackPDF(pack)
    except FontsMissing:
        pytest.skip("DejaVu fonts not installed")
    pdf.add_page()
    frame = pd.DataFrame({"Measure": ["A", "B", "C"],
                          "Variation": [status.variation_short(c) for c in ("concern_low", "common_cause", "none")],
                          "Assurance": [status.assurance_short(c) for c in ("fail", "pass", "none")]})
    pdf.table_of(Table("t", "Icons", frame, icons={"Variation": ("variation", ["concern_low", "common_cause", "none"]),
                                                   "Assurance": ("assurance", ["fail", "pass", "none"])}))
    pdf.iconed([("Variation", "variation", "improvement_high", "Special cause variation – improvement."),
                ("Assurance", "assurance", "hit_and_miss", "Hit and miss: the target lies between the limits.")])
    page = pypdf.PdfReader(io.BytesIO(bytes(pdf.output()))).pages[1 if len(pdf.pages) > 1 else 0]
    text = re.sub(r"\s+", " ", page.extract_text())
    for words in ("Concerning (low)", "Consistently fails", "Common cause", "Consistently passes", "Not enough data",
                  "Special cause variation – improvement.", "Hit and miss: the target"):
        assert words in text, words
    ops = page.get_contents().get_data().decode("latin-1")
    for colour in (palette.NHS_ORANGE, palette.NHS_BLUE, palette.NHS_MID_GREY):  # the rings, drawn as vectors
        r, g, b = (c / 255 for c in palette.rgb(colour))
        assert re.search(rf"{r:.3f}\d* {g:.3f}\d* {b:.3f}\d* RG", ops) or re.search(
            rf"{round(r, 4):g} {round(g, 4):g} {round(b, 4):g} RG", ops), colour
    assert not re.search(r"[⇑⇓∼]|↑!|↓!", text)


def test_a_pass_or_fail_beside_a_latest_figure_that_says_otherwise_says_why_both_hold():
    from types import SimpleNamespace

    from ui import mdc_icons

    def res(variation, assurance, rag):
        return SimpleNamespace(spc=None, variation=variation, assurance=assurance, target=60.0, rag=rag,
                               judgement_text="")

    on_target_but_fails = mdc_icons.badges(res("common_cause", "fail", "green"))
    assert "Consistently fails: the latest is on target, the usual range is not" in on_target_but_fails
    assert "the latest does not" in mdc_icons.badges(res("common_cause", "pass", "red"))
    assert "(on limits that span a change)" in mdc_icons.badges(res("improvement_high", "fail", "red"))
    assert mdc_icons.badges(res("common_cause", "fail", "red")).count("Consistently fails<") == 1  # agrees: no note
