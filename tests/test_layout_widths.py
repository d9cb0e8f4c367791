"""Every page as every role, in Chromium on a laptop (1400 px) and a phone (390 px): no table cut off sideways, no
chart text drawn over other chart text, no request to a host other than the app's, no browser console error.

One demo server and one browser for the module; each page is opened by its URL (``?as=`` picks the demo user).
Screenshots of each page at both widths go to the folder ``LAYOUT_SHOTS`` names, when it is set, to be looked at.
``LAYOUT_BASE_URL`` points the test at an app that is already running instead of starting one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e_util import CHROMIUM, needs_chromium, streamlit_server, wait_idle

pytestmark = [pytest.mark.e2e, needs_chromium]

ROLES = {"admin": "admin@demo.invalid", "board": "board@demo.invalid", "practice_lead": "lead@demo.invalid",
         "viewer": "viewer@demo.invalid"}
WIDTHS = (1400, 390)
# Screenshots of every page at both widths, to be looked at, when LAYOUT_SHOTS names a folder (a 16,000-pixel
# picture per page is a second or two each: left out of the everyday run)
SHOTS = Path(os.environ["LAYOUT_SHOTS"]) if os.environ.get("LAYOUT_SHOTS") else None

# Streamlit's own first request when a page is opened by its URL: it looks for the server under the page's path
# before the app's root (streamlit/streamlit#7074), two 404s on the app's own host that no app can prevent.
STREAMLIT_PROBES = ("/_stcore/health", "/_stcore/host-config")


@pytest.fixture(scope="module")
def server(demo_copy):
    if os.environ.get("LAYOUT_BASE_URL"):
        yield os.environ["LAYOUT_BASE_URL"].rstrip("/")
        return
    url = demo_copy("sqlite")  # the layout is the same on both backends: one server, on SQLite
    with streamlit_server(url) as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright hides scrollbars in headless Chromium; a person's browser shows them, and whether a table
        # that scrolls sideways shows its scrollbar is what is checked here
        b = p.chromium.launch(executable_path=CHROMIUM, ignore_default_args=["--hide-scrollbars"],
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield b
        b.close()


# Measured in the page: returns a list of problems in words.
CHECKS = r"""() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const visible = (e) => { const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none' && cs.opacity !== '0'; };
  // a table is named by the heading or caption above it (its own cells are drawn on a canvas)
  const label = (e) => {
    let box = e.closest('[data-testid="stElementContainer"]') || e;
    for (let k = 0; box && k < 12; k++, box = box.previousElementSibling || box.parentElement.closest('[data-testid="stVerticalBlock"], [data-testid="stExpander"]')) {
      const t = box.querySelector && box.querySelector('h1, h2, h3, h4, summary, [data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] strong');
      if (t && t.innerText.trim()) return t.innerText.trim().split('\n')[0].slice(0, 70);
    }
    return 'a table';
  };
  // the page itself never scrolls sideways
  const main = document.querySelector('[data-testid="stMain"]');
  if (document.documentElement.scrollWidth > vw + 1 || (main && main.scrollWidth > main.clientWidth + 1))
    problems.push(`the page is wider than the screen (${Math.max(document.documentElement.scrollWidth, main ? main.scrollWidth : 0)} px > ${vw} px)`);
  // tables: an interactive table (glide grid) or an HTML table that scrolls sideways must show its scrollbar
  const scrollers = [];
  document.querySelectorAll('[data-testid="stDataFrame"]').forEach(d => {
    const s = d.querySelector('.dvn-scroller'); if (s && visible(d)) scrollers.push([d, s, 'table']); });
  document.querySelectorAll('[data-testid="stTable"], .fed-scroll').forEach(d => {
    if (visible(d)) scrollers.push([d, d.matches('.fed-scroll') ? d : (d.querySelector('div') || d), 'table']); });
  for (const [box, s, kind] of scrollers) {
    const r = box.getBoundingClientRect();
    if (r.right > vw + 1) problems.push(`${kind} "${label(box)}" runs off the screen (right edge ${Math.round(r.right)} > ${vw})`);
    const cs = getComputedStyle(s);
    const cut = s.scrollWidth > s.clientWidth + 1;
    const canScroll = ['auto', 'scroll'].includes(cs.overflowX);
    const bar = s.offsetHeight - s.clientHeight - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
    // on a laptop a table across the page has every column in view; in a half-width column beside its chart
    // or on a phone, a wide table may scroll sideways, its scrollbar drawn
    if (cut && vw >= 1000 && r.width >= 600)
      problems.push(`${kind} "${label(box)}" is wider than its place on a laptop (${s.scrollWidth} px in ${s.clientWidth} px)`);
    else if (cut && (!canScroll || bar < 4))
      problems.push(`${kind} "${label(box)}" is cut sideways (${s.scrollWidth} px in ${s.clientWidth} px, no scrollbar)`);
  }
  // charts: nothing wider than its box; legend, title, mode bar and axis titles never on top of one another
  document.querySelectorAll('[data-testid="stPlotlyChart"]').forEach(c => {
    if (!visible(c)) return;
    const name = (c.querySelector('.gtitle') || {}).textContent || 'a chart';
    const svg = c.querySelector('svg.main-svg');
    if (svg && svg.getBoundingClientRect().right > c.getBoundingClientRect().right + 2)
      problems.push(`chart "${name}" is wider than its place`);
    const boxes = [];
    const add = (sel, what) => c.querySelectorAll(sel).forEach(e => { if (visible(e)) boxes.push([what, e.getBoundingClientRect()]); });
    add('.modebar-container .modebar', 'mode bar');
    add('.legend .bg', 'legend');
    add('.gtitle', 'title');
    add('.g-xtitle text, .g-ytitle text', 'axis title');
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      const dx = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const dy = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (dx > 2 && dy > 2 && a !== b) problems.push(`chart "${name}": the ${a} is drawn over the ${b}`);
    }
  });
  return problems;
}"""


def _settle(page) -> None:
    wait_idle(page, 120_000)
    page.wait_for_timeout(400)
    wait_idle(page, 120_000)


def _tall_screenshot(page, width: int, path: Path | None) -> None:
    """The whole page in the window (and, with a ``path``, in one picture): Streamlit scrolls inside its main block,
    so the window is made as tall, and every chart and table has drawn when the checks run."""
    height = 0
    for _ in range(5):
        h = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        if h <= height:
            break
        height = h
        page.set_viewport_size({"width": width, "height": min(height, 16_000)})
        page.wait_for_timeout(500)
    if path is not None:
        page.screenshot(path=str(path))  # the checks run on the page as photographed


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_draws_cleanly_and_stays_on_the_app_host(server, chromium, role, width):
    from ui import navigation
    from ui.navigation import pages_for

    landing = getattr(navigation, "landing_page", lambda _role: "overview")(role)  # the page a role opens on

    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
    host = urlsplit(server).netloc
    context = chromium.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 600,
                                   has_touch=width < 600, device_scale_factor=1)
    page = context.new_page()
    seen: dict[str, list[str]] = {}
    current = {"path": ""}

    def note(problem: str) -> None:
        seen.setdefault(current["path"] or "/", []).append(problem)

    def on_request(request) -> None:
        if urlsplit(request.url).scheme in ("http", "https", "ws", "wss") and urlsplit(request.url).netloc != host:
            note(f"request to another host: {request.url}")

    def probe(url: str) -> bool:
        path = urlsplit(url).path
        return current["path"] != "" and any(path == f"/{current['path']}{p}" for p in STREAMLIT_PROBES)

    def on_response(response) -> None:
        if response.status >= 400 and not probe(response.url):
            note(f"HTTP {response.status} for {response.url}")

    def on_console(message) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and probe(message.location.get("url", "")):
            return
        note(f"console error: {message.text[:300]}")

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: note(f"script error: {str(error)[:300]}"))
    for spec in pages_for(role):
        path = "" if spec.url_path == landing else spec.url_path  # the page a role opens on lives at /
        current["path"] = path
        page.goto(f"{server}/{path}?as={ROLES[role]}", timeout=120_000)
        _settle(page)
        exceptions = page.locator('[data-testid="stException"]')
        if exceptions.count():
            note("exception: " + exceptions.first.inner_text()[:300])
        # the whole page in the window, so every chart and table has drawn, then checked and photographed
        _tall_screenshot(page, width, SHOTS / f"{spec.url_path}_{role}_{width}.png" if SHOTS else None)
        for problem in page.evaluate(CHECKS):
            note(problem)
        page.set_viewport_size({"width": width, "height": 900})
    context.close()
    assert not seen, f"as {role} at {width} px:\n" + json.dumps(seen, indent=1)
