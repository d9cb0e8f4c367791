r"""Text from data shown as text: ``plain(text)`` for every Streamlit call that reads markdown.

``st.markdown``, ``st.caption``, ``st.info``/``warning``/``error``/``success``, ``st.write`` of a string, titles and
headers, ``st.page_link`` labels, ``st.metric`` labels and help, button, expander and tab labels all read markdown
(Streamlit 1.67: GitHub-flavoured markdown with literal autolinks, ``:color[...]`` directives, ``$...$`` LaTeX,
emoji and ``:material/...:`` shortcodes). A practice name, a file name, a header cell or a sign-in claim passed
through them as it is could load an image (``![x](http://…)``), plant a link (``[Sign in again](http://…)``, a bare
``http://…`` or ``www.…``), colour or embolden text or render maths. Raw HTML is never rendered by these calls
(``unsafe_allow_html`` is only used for our own static CSS), but ``<img …>`` is still escaped so it reads as typed.

How: each character that could start markup is backslash-escaped (CommonMark: a backslash before ASCII punctuation
always gives that character literally): ``\ ` * [ ] < > $ ~ | & : { } #`` everywhere, ``_`` unless it is inside a word
(``fft_feb.csv`` cannot make emphasis), and a leading ``-``, ``+``, ``=`` or ``1.``/``1)`` (a list, a heading rule).
``( ) ! .`` need nothing elsewhere: a link or an image needs an unescaped ``[``. That is not enough on its own:
Streamlit's markdown pipeline also rewrites *text* after parsing, when the escapes are already gone — GFM literal
autolinks (``http://``, ``www.``, ``name@host.tld``), ``:streamlit:`` and emoji shortcodes, and typographic arrows
(`` -> `` becomes →, `` -- `` becomes —). Those sequences get an invisible WORD JOINER (U+2060) inside them, which
shows nothing and breaks no line, so the text still reads exactly as written. Line breaks become spaces (a name or a
message is one line; a newline could otherwise start a list or a heading).

Use it on the data only, not on our own markdown around it: ``st.markdown(f"**{plain(name)}**")``. Apply it once
(escaped text escaped again shows its backslashes). Tables (``st.dataframe``), ``st.text`` and ``st.code`` show text
as text already and need nothing.
"""
from __future__ import annotations

import re

import pandas as pd

__all__ = ["plain", "plain_join", "WORD_JOINER"]

WORD_JOINER = "\u2060"

# Inline markup anywhere: emphasis, code, links and images, HTML and entities, headings, tables, strikethrough,
# directives and their attributes, maths; "_" only at a word's edge; block markers at the start of the text.
_ESCAPE = re.compile(r"[\\`*\[\]<>$~|&:{}#]|(?<![^\W_])_|_(?![^\W_])|^(?:\s*)(?:[-+=]|\d+(?=[.)]))")
# Sequences Streamlit rewrites after parsing (on text, where escapes no longer count): break each with a word joiner.
_AFTER_PARSE = (
    (re.compile(r":(?=\S)"), ":" + WORD_JOINER),  # http://, mailto:, :smile:, :streamlit:, :material/…:
    (re.compile(r"@(?=\S)"), "@" + WORD_JOINER),  # name@host.tld (GFM email autolink)
    (re.compile(r"(?i)\b(www)(?=\.)"), r"\1" + WORD_JOINER),  # www.example.org (GFM www autolink)
    (re.compile(r"(?:(?<=\s)|^)(<->|->|<-|--|>=|<=|~=)(?=\s|$)"), None),  # -> → and friends
)
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


def _break_arrow(match: re.Match) -> str:
    token = match.group(1)
    return token[0] + WORD_JOINER + token[1:]


def _escape(match: re.Match) -> str:
    found = match.group(0)
    if found[-1].isdigit():  # "1. " or "1) " at the start: escape the "." or ")" that follows
        return found + "\\"
    return found[:-1] + "\\" + found[-1]


def plain(text) -> str:
    """``text`` as literal text for any Streamlit element that reads markdown. None and NaN give ""."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    text = _NEWLINES.sub(" ", str(text))
    for pattern, replacement in _AFTER_PARSE:
        text = pattern.sub(replacement if replacement is not None else _break_arrow, text)
    return _ESCAPE.sub(_escape, text)


def plain_join(parts, sep: str = ", ") -> str:
    """Items from data joined with our own separator (left as it is), each shown as literal text."""
    return sep.join(plain(p) for p in parts)


# --- Plotly ------------------------------------------------------------------------------------------------------
# Plotly draws a few HTML-like tags in every text it shows (titles, legend names, tick labels, hover and point
# labels): <b>, <i>, <br>, <sup>, <sub>, <span style> and <a href>, a link. Our charts use <b> and <br> for layout and
# never a link, so any <a …> (from a practice or staff name) is written out as text instead.
_PLOTLY_LINK = re.compile(r"<(/?\s*a\b[^>]*)>", re.IGNORECASE)


def _inert(value):
    if isinstance(value, str):
        return _PLOTLY_LINK.sub(r"&lt;\1&gt;", value) if "<" in value else value
    if isinstance(value, dict):
        return {k: _inert(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_inert(v) for v in value]
    return value


def inert_figure(fig):
    """``fig`` with every link tag in its texts written out as text (see above); returns the same figure."""
    for trace in fig.data:
        for attr in ("name", "text", "hovertext", "hovertemplate", "customdata", "x", "y", "labels", "legendgrouptitle"):
            try:
                value = trace[attr]
            except (KeyError, ValueError, AttributeError):
                continue
            if value is None:
                continue
            if hasattr(value, "tolist"):
                if getattr(value, "dtype", None) is None or value.dtype.kind not in "OUS":
                    continue
                value = value.tolist()
            if hasattr(value, "to_plotly_json"):
                value = value.to_plotly_json()
            cleaned = _inert(value)
            if cleaned != value:
                trace[attr] = cleaned
    layout = fig.layout.to_plotly_json()
    cleaned = _inert(layout)
    if cleaned != layout:
        fig.update_layout(cleaned)
    return fig
