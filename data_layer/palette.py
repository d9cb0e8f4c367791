"""The one NHS palette: identity colours, RAG and Making Data Count colours, for the screens (``ui.theme``,
``ui.charts``) and the packs (``exports.charts``, ``exports.pdf``, ``exports.xlsx``). Plain constants: importable
without streamlit or matplotlib. Colour is always paired with words or a symbol, never meaning on its own.
"""
from __future__ import annotations

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_BRIGHT_BLUE = "#0072CE"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_AQUA_GREEN = "#00A499"
NHS_GREEN = "#009639"
NHS_WARM_YELLOW = "#FFB81C"
NHS_ORANGE = "#ED8B00"
NHS_RED = "#DA291C"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NEUTRAL_PURPLE = "#490092"
TEXT = "#212B32"
WHITE = "#FFFFFF"
# Table rules and zebra rows in the packs
RULE_GREY = "#D8DFE2"
ZEBRA_GREY = "#F2F5F6"

RAG_COLOURS = {"green": NHS_GREEN, "amber": NHS_WARM_YELLOW, "red": NHS_RED, "none": NHS_MID_GREY}
# Making Data Count: blue improvement, orange concern, grey common cause, purple where neither direction is better.
MDC_COLOURS = {"improvement": NHS_BLUE, "concern": NHS_ORANGE, "common cause": NHS_MID_GREY,
               "neutral special cause": NEUTRAL_PURPLE}
# CQC ratings
RATING_COLOURS = {"Outstanding": NHS_GREEN, "Good": NHS_BLUE, "Requires improvement": NHS_ORANGE,
                  "Inadequate": NHS_RED}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """'#005EB8' -> (0, 94, 184), for libraries that take colours as numbers (the PDF)."""
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
