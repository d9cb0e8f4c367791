"""The Making Data Count icons, drawn once as SVG for the screens (``ui.mdc_icons``) and the PDF packs.

They follow NHS England's published set: a white circle with a coloured ring; for **variation** a small run of points
inside it, grey for common cause, the last points blue for special-cause improvement, orange for concern (purple
where no direction is better), with an H or L saying whether they are high or low; for **assurance** a letter over
the target line: blue P (consistently passes), orange F (consistently fails), grey ? (hit and miss). A state with no
icon (not enough data, too few to judge, no target) draws nothing: the words say why.

Colour never carries the meaning alone: an icon is always shown with the words of ``policy.status`` beside it.
The SVG is built only from the fixed shapes below, never from data text, so it is safe to put into a page as HTML.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache

from .. import palette

BLUE, ORANGE, GREY, PURPLE = (palette.MDC_COLOURS["improvement"], palette.MDC_COLOURS["concern"],
                              palette.MDC_COLOURS["common cause"], palette.MDC_COLOURS["neutral special cause"])

# code -> (ring and highlight colour, letter, where the last points go: "up", "down" or "" for common cause)
VARIATION = {
    "common_cause": (GREY, "", ""),
    "improvement_high": (BLUE, "H", "up"),
    "improvement_low": (BLUE, "L", "down"),
    "concern_high": (ORANGE, "H", "up"),
    "concern_low": (ORANGE, "L", "down"),
    "neutral_high": (PURPLE, "H", "up"),
    "neutral_low": (PURPLE, "L", "down"),
}
ASSURANCE = {"pass": (BLUE, "P"), "fail": (ORANGE, "F"), "hit_and_miss": (GREY, "?")}

_X = (9, 13, 17, 21, 25, 29, 33)
_Y = {"": (24, 28, 23, 27, 24, 28, 25), "up": (28, 27, 29, 27, 23, 21.5, 20),
      "down": (21, 23, 21, 22, 25.5, 27, 28)}
_RING = '<circle cx="20" cy="20" r="17.5" fill="#FFFFFF" stroke="{c}" stroke-width="3"/>'
_LETTER = ('<text x="20" y="{y}" text-anchor="middle" font-family="Arial, Helvetica, sans-serif" '
           'font-weight="bold" font-size="{size}" fill="{c}">{t}</text>')


def has_icon(kind: str, code: str | None) -> bool:
    return (code or "none") in (VARIATION if kind == "variation" else ASSURANCE)


@lru_cache(maxsize=None)
def svg(kind: str, code: str | None) -> str:
    """The icon of a variation or assurance code as a standalone SVG document (40 x 40), or "" for a state with
    no icon."""
    code = code or "none"
    if kind == "variation" and code in VARIATION:
        colour, letter, way = VARIATION[code]
        ys = _Y[way]
        # NHS England's icons mark the points of the signal: the last three, in the ring's colour
        marked = 3 if way else 0
        body = [_RING.format(c=colour),
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.2"/>'.format(
                    " ".join(f"{x},{y}" for x, y in zip(_X, ys)), GREY)]
        for i, (x, y) in enumerate(zip(_X, ys)):
            fill = colour if i >= len(_X) - marked else GREY
            body.append(f'<circle cx="{x}" cy="{y}" r="2" fill="{fill}"/>')
        if letter:
            body.append(_LETTER.format(y=15.5, size=9, c=colour, t=letter))
    elif kind == "assurance" and code in ASSURANCE:
        colour, letter = ASSURANCE[code]
        body = [_RING.format(c=colour),
                _LETTER.format(y=23, size=15, c=colour, t=letter),
                # the target line the process is judged against
                f'<line x1="8.5" y1="28.5" x2="31.5" y2="28.5" stroke="{colour}" stroke-width="2" '
                'stroke-dasharray="3 1.6"/>']
    else:
        return ""
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">'
            + "".join(body) + "</svg>")


def data_uri(kind: str, code: str | None) -> str | None:
    """The icon as a data: URI (for an image column of a table), or None for a state with no icon."""
    text = svg(kind, code)
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode() if text else None


def draw_pdf(pdf, kind: str, code: str | None, x: float, y: float, size: float) -> bool:
    """Draw the icon into an fpdf2 document at (x, y), ``size`` mm square, as vector shapes; False when the state
    has no icon (nothing drawn)."""
    text = svg(kind, code)
    if not text:
        return False
    pdf.image(io.BytesIO(text.encode()), x=x, y=y, w=size, h=size)
    return True


__all__ = ["VARIATION", "ASSURANCE", "has_icon", "svg", "data_uri", "draw_pdf"]
