"""Making Data Count icons on the screens: the SVG of ``data_layer.exports.mdc_icons`` (one design for the screens and
the packs) with the words of ``policy.status`` beside it.

``st.dataframe`` cannot draw HTML, so tables take the icon as an image column (``data_uri``) next to a words
column; elsewhere ``badge`` gives a small HTML fragment for ``st.markdown(unsafe_allow_html=True)``. Only SVG built
here from fixed shapes goes in unescaped; the words are escaped like any other text.
"""
from __future__ import annotations

import base64
import html

import streamlit as st

from data_layer.exports import mdc_icons as icons
from data_layer.policy import status

CSS = """
<style>
.mdc-badges { display: flex; flex-wrap: wrap; gap: 0.35rem 1.1rem; align-items: center; margin: 0.1rem 0 0.4rem; }
.mdc-badge { display: inline-flex; align-items: center; gap: 0.4rem; line-height: 1.25; }
.mdc-badge svg { width: 2.4rem; height: 2.4rem; flex: none; }
.mdc-badge.small svg { width: 1.9rem; height: 1.9rem; }
.mdc-label { font-size: 0.875rem; font-weight: 600; margin-bottom: 0.25rem; }
</style>
"""


# an empty picture: an image column shows "None" for an empty cell, and the words beside it already say why
BLANK = "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" width="1" '
                                                        b'height="1"/>').decode()


def data_uri(kind: str, code: str | None) -> str:
    """The icon for an image column (a blank picture for a state with no icon, never the text "None")."""
    return icons.data_uri(kind, code) or BLANK


def words(kind: str, code: str | None) -> str:
    return status.variation_short(code) if kind == "variation" else status.assurance_short(code)


def badge(kind: str, code: str | None, text: str | None = None, small: bool = False) -> str:
    """The icon and its words as one HTML fragment; ``text`` replaces the short words (it is escaped)."""
    svg = icons.svg(kind, code)
    label = html.escape(text if text is not None else words(kind, code))
    # the words beside the icon say what it means, so the drawing itself is hidden from screen readers
    drawing = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1) if svg else ""
    return f'<span class="mdc-badge{" small" if small else ""}">{drawing}<span>{label}</span></span>'


def badges(result, small: bool = False, full: bool = False) -> str:
    """Variation and (for a measure with a target) assurance badges of one measure's latest point, in a row.
    ``full`` writes the full Making Data Count words instead of the short ones. Without process limits (too few
    points, too few cases, not shown) there is one line of words saying why, never the same words twice."""
    v_code = result.variation or "none"
    a_code = result.assurance or "none"
    spc = result.spc
    if not icons.has_icon("variation", v_code):
        why = (spc.variation_text if spc is not None else
               status.variation_words(v_code, False, result.judgement_text))
        return f'<div class="mdc-badges">{badge("variation", v_code, why, small)}</div>'
    parts = [badge("variation", v_code, spc.variation_text if full and spc is not None else None, small)]
    if result.target is not None and a_code != "none":
        a_text = spc.assurance_text if full and spc is not None else words("assurance", a_code)
        parts.append(badge("assurance", a_code, a_text + why_both(result), small))
    return f'<div class="mdc-badges">{"".join(parts)}</div>'


def why_both(result) -> str:
    """Why a pass or a fail of the process stands beside a latest figure that says otherwise, in a few words: never
    "✔ On target" beside "Consistently fails" without the reason both hold."""
    a_code, rag = result.assurance or "none", getattr(result, "rag", "none")
    if a_code not in ("pass", "fail"):
        return ""
    if a_code == "fail" and rag == "green":
        return ": the latest is on target, the usual range is not"
    if a_code == "pass" and rag in ("amber", "red"):
        return ": the usual range meets the target, the latest does not"
    if (result.variation or "none") not in ("common_cause", "none", "no_variation"):
        return " (on limits that span a change)"
    return ""


def show(result, small: bool = False, full: bool = False) -> None:
    """Write the badges of one measure into the page."""
    st.markdown(CSS + badges(result, small=small, full=full), unsafe_allow_html=True)


def table_columns(results) -> dict[str, list]:
    """Icon and words columns for a table of measures (one KPIResult per row): "Variation" and "Assurance" hold
    the icons' data URIs (configure them with ``column_config()``), the "… in words" columns what they mean."""
    return {
        "Variation": [data_uri("variation", r.variation) for r in results],
        "Variation in words": [words("variation", r.variation) for r in results],
        "Assurance": [data_uri("assurance", r.assurance) if r.target is not None else BLANK for r in results],
        "Assurance in words": [words("assurance", r.assurance) + why_both(r) if r.target is not None else "No target"
                               for r in results],
    }


def column_config() -> dict:
    return {"Variation": image_column("Variation", "Making Data Count variation icon of the latest period"),
            "Variation in words": st.column_config.TextColumn("Variation in words", width="medium"),
            "Assurance": image_column("Assurance", "Making Data Count assurance icon: can the target be relied on?"),
            "Assurance in words": st.column_config.TextColumn("Assurance in words", width="medium")}


def image_column(label: str, help: str | None = None):
    """A table column holding the icons (``data_uri`` per row); the words go in the column beside it."""
    return st.column_config.ImageColumn(label, help=help, width="small")


__all__ = ["CSS", "data_uri", "words", "badge", "badges", "show", "image_column", "table_columns", "column_config"]
