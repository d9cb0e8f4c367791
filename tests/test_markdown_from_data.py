"""Text from data never renders as markdown or HTML (issue 11 finding 6): practice and PCN names, staff names,
complaint categories, the signed-in user's name and email claim, upload file names and header cells echoed in import
errors are planted with an image, a link, HTML, bold, a colour directive and maths; every page is walked in-process
(AppTest) as the board and as a practice lead (the Import page as an administrator), and the markdown source of every
element that reads markdown (text, captions, alerts, headings, link, button, metric and widget labels and help) is
checked: no planted construct is live, and the planted text is still there, escaped, to read.

What "live" means follows Streamlit 1.67's markdown pipeline (react-markdown with GFM, directives, maths): an
unescaped ``![``/``](``, ``<img``, ``**``, ``:red[`` or ``$x$``; and, because GFM literal autolinks are found in the
text after the escapes are resolved, a contiguous ``http://evil.example``, ``www.evil.example`` or
``name@evil.example`` even when every character around it is escaped.
"""
from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, insert, select, update

from data_layer import demo, models as m
from data_layer.db import get_engine
from data_layer.measures.refresh import refresh as refresh_measures
from tests.apptest_util import app
from tests.conftest import ROOT
from ui.navigation import pages_for
from ui.text import plain

IMAGE = "![x](http://evil.example/x.png)"
LINK = "[Sign in again](http://evil.example)"
HTML = '<img src=x onerror=alert(1)><a href="http://evil.example">A</a>'
REST = "**bold** :red[x] $x$ www.evil.example"


def payload(marker: str) -> str:
    return f"{marker} {IMAGE} {LINK} {HTML} {REST}"


SHORT = f"CategoryMark {LINK} **bold** :red[x] $x$"  # complaint categories hold 100 characters
MARKERS = {"practice": "PracticeMark", "other": "OtherPracticeMark", "pcn": "PcnMark", "staff": "StaffMark",
           "category": "CategoryMark", "name_claim": "NameClaimMark"}

# --- what counts as rendered -------------------------------------------------------------------------------------
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
LIVE_SYNTAX = {  # looked for in the source with every backslash-escaped character blanked out
    "image": re.compile(r"!\[[^\]]*\]\(http[^)\s]*evil"),
    "link": re.compile(r"\[[^\]\n]*\]\(http[^)\s]*evil"),
    "html": re.compile(r"<(?:img|a|script|iframe|svg)\b", re.IGNORECASE),
    "bold": re.compile(r"\*\*bold\*\*"),
    "colour directive": re.compile(r":red\["),
    "maths": re.compile(r"\$x\$"),
}
LIVE_TEXT = {  # looked for in the text after escapes are resolved (GFM autolink literals work there)
    "autolink": re.compile(r"(?i)https?://evil\.example|www\.evil\.example"),
    "email autolink": re.compile(r"[\w.+-]@evil\.example"),
}


HTML_MARK = "\x01html\x01"  # marks an st.html body among the markdown sources
LIVE_HTML = re.compile(r"<(?:img|a|script|iframe|svg)\b[^>]*(?:evil|onerror)", re.IGNORECASE)


def live_markup(source: str) -> list[str]:
    """The planted constructs that ``source`` (a markdown string, or a marked st.html body) would render, by name."""
    if source.startswith(HTML_MARK):  # our own tables' tags are fine; a planted tag left unescaped is not
        return ["html"] if LIVE_HTML.search(source) else []
    blanked = _ESCAPED.sub("\x00", source)
    resolved = _ESCAPED.sub(r"\1", source)
    return [name for name, rx in LIVE_SYNTAX.items() if rx.search(blanked)] + \
        [name for name, rx in LIVE_TEXT.items() if rx.search(resolved)]


def test_the_checker_sees_raw_markdown_and_passes_escaped_text():
    raw = payload("X")
    assert set(live_markup(raw)) == set(LIVE_SYNTAX) | {"autolink"}
    assert live_markup(f"**{plain(raw)}** · [our link](/practice)") == []
    assert live_markup(r"\[Sign in again\]\(http\:\/\/evil\.example\)") == ["autolink"]  # escapes alone: still a link
    assert live_markup(plain("write to jo@evil.example")) == [] and live_markup("jo@evil\\.example") != []
    assert live_markup(HTML_MARK + '<td><a href="/practice?profile=Z90001">' + html.escape(raw) + "</a></td>") == []
    assert live_markup(HTML_MARK + f"<td>{raw}</td>") == ["html"]


# --- every markdown-reading string on screen ---------------------------------------------------------------------
_PLAIN_PROTOS = {"Text", "Code", "Dataframe", "Arrow", "PlotlyChart", "Json", "DataEditor"}
_FIELDS = {"body", "label", "help", "placeholder"}


def _strings(msg, kind: str) -> list[str]:
    out = []
    for field, value in msg.ListFields():
        if not isinstance(value, str) and not hasattr(value, "ListFields") and not hasattr(value, "__len__"):
            continue  # numbers and flags
        values = [value] if isinstance(value, (str, bytes)) or hasattr(value, "ListFields") else list(value)
        for v in values:
            if hasattr(v, "ListFields"):
                out.extend(_strings(v, kind))
            elif isinstance(v, str) and (field.name in _FIELDS or (field.name == "options" and kind == "Radio")):
                out.append(v)
    return out


def markdown_sources(at) -> list[str]:
    """The markdown source of every element and container label that Streamlit renders as markdown."""
    found: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        kind = type(proto).__name__
        if proto is not None and hasattr(proto, "ListFields") and kind not in _PLAIN_PROTOS:
            if kind == "Html":  # st.html is HTML, not markdown: only a tag from data would be live there
                found.append(HTML_MARK + proto.body)
            elif not (kind == "Markdown" and proto.allow_html):  # our own static CSS and banners
                found.extend(_strings(proto, kind))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return found


_PLOTLY_LINK = re.compile(r"<\s*a\b", re.IGNORECASE)


def chart_links(at) -> list[str]:
    """Link tags in any text of any chart: Plotly draws <a href> in titles, legends, ticks, hover and point labels."""
    found: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if type(proto).__name__ == "PlotlyChart":
            spec = json.loads(proto.spec)
            stack = [spec.get("data", []), spec.get("layout", {})]
            while stack:
                item = stack.pop()
                if isinstance(item, str):
                    if _PLOTLY_LINK.search(item):
                        found.append(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
                elif isinstance(item, list):
                    stack.extend(item)
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return found


def assert_nothing_rendered(at, where: str) -> str:
    assert not at.exception, (where, [e.message for e in at.exception])
    sources = markdown_sources(at)
    rendered = [(live, src) for src in sources if (live := live_markup(src))]
    assert not rendered, (where, rendered[:3])
    links = chart_links(at)
    assert not links, (where, "chart", links[:3])
    return "\n".join(sources)


# --- a demo federation with markdown in every imported text field ------------------------------------------------
@pytest.fixture
def planted(fresh_databases, backend, config, monkeypatch):
    url = fresh_databases.url(backend)
    engine = get_engine(url)
    demo.build(engine, config, n_practices=3, months=13, seed=11)
    with engine.begin() as conn:
        pcn = conn.execute(select(m.Practice.pcn).where(m.Practice.code == "Z90001")).scalar_one()
        conn.execute(update(m.Practice).where(m.Practice.pcn == pcn).values(pcn=payload(MARKERS["pcn"])))
        conn.execute(update(m.Practice).where(m.Practice.code == "Z90001").values(name=payload(MARKERS["practice"])))
        conn.execute(update(m.Practice).where(m.Practice.code == "Z90002").values(name=payload(MARKERS["other"])))
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == "Z90001")).scalar_one()
        staff = conn.execute(select(func.min(m.Staff.id)).where(m.Staff.practice_id == pid)).scalar_one()
        conn.execute(update(m.Staff).where(m.Staff.id == staff).values(name=payload(MARKERS["staff"])))
        last = conn.execute(select(func.max(m.FFTResponse.response_date))).scalar_one()
        conn.execute(insert(m.Complaint).values(practice_id=pid, reference="MD-1", received_on=last, category=SHORT,
                                                summary=payload("SummaryMark")))
        conn.execute(update(m.User).where(m.User.email.in_(["board@demo.invalid", "lead@demo.invalid"]))
                     .values(name=payload(MARKERS["name_claim"])))
    refresh_measures(engine, config)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


def _walk(role: str, query: dict | None) -> str:
    at = app(role=role, query=query)
    texts = [assert_nothing_rendered(at, (role, query, "first page"))]
    for spec in pages_for(role):
        at.switch_page(str(spec.file.relative_to(ROOT))).run()
        texts.append(assert_nothing_rendered(at, (role, query, spec.path)))
    return "\n".join(texts)


@pytest.mark.parametrize("role, query", [
    ("board", None),
    ("board", {"pcn": payload(MARKERS["pcn"])}),
    ("practice_lead", None),
    ("practice_lead", {"practice": "Z90001"}),
])
def test_no_page_renders_markdown_from_data(planted, role, query):
    seen = _walk(role, query)
    # The planted text is shown (escaped, so it reads as typed): the walk looked at the right elements.
    for field in ("practice", "name_claim") + (("pcn",) if query and "pcn" in query else ()):
        assert MARKERS[field] in seen, field
    if role == "board" and query is None:
        assert MARKERS["other"] in seen


# --- the email claim of someone not (yet) given access -------------------------------------------------------------
AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def test_the_email_claim_of_a_refused_user_is_shown_as_text(planted):
    claim = "ClaimMark![x](http://evil.example/x.png)[Sign in again](http://evil.example)**bold**@evil.example"
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": claim})
    seen = assert_nothing_rendered(at, "refused sign-in")
    assert "ClaimMark" in seen and "not yet given access" in at.title[0].value


# --- the Import page: file names and header cells echoed back ------------------------------------------------------
def _upload(at, name: str, data: bytes):
    at.file_uploader(key="import_upload").set_value((name, data, "text/csv"))
    return at.run()


def test_import_page_shows_file_names_and_header_cells_as_text(planted, backend):
    if backend != "sqlite":
        pytest.skip("the page writes: exercised once, on SQLite (the escaping does not depend on the backend)")
    at = app(role="admin")
    at.switch_page("pages/imports.py").run()
    header = payload("HeaderMark").replace(",", " ").replace('"', "")
    at = _upload(at, f"FileMark {LINK} {IMAGE} **bold** $x$.csv", f'"{header}",foo\n1,2\n'.encode())
    seen = assert_nothing_rendered(at, "unrecognised file")
    assert "HeaderMark" in seen  # the header cells are echoed in the error, as text

    good = (b"Practice Code,Response Date,Rating,Comment\n"
            b"Z90001,03/02/2025,Very good,\"Seen on time\"\n")
    at = _upload(at, f"GoodFileMark {LINK} {IMAGE} **bold** :red[x] $x$.csv", good)
    assert_nothing_rendered(at, "recognised file")
    at = next(b for b in at.button if b.label == "Import").click().run()
    seen = assert_nothing_rendered(at, "imported")
    assert any("GoodFileMark" in s.value for s in at.success)  # "Imported 1 rows from <the file name>"


def test_the_walk_fails_without_the_escaping(planted, monkeypatch):
    """The same walk with ``plain`` and ``inert_figure`` switched off finds the planted markup: it can fail."""
    import ui.charts
    import ui.text
    import ui.training_feedback

    monkeypatch.setattr(ui.text, "plain", lambda text: "" if text is None else str(text))
    for module in (ui.charts, ui.training_feedback):
        monkeypatch.setattr(module, "inert_figure", lambda fig: fig)
    at = app(role="board")
    assert not at.exception
    found = {name for src in markdown_sources(at) for name in live_markup(src)}
    assert {"image", "link", "bold", "colour directive", "maths", "autolink"} <= found
    assert chart_links(at)
