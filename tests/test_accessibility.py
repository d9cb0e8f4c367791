"""Accessibility: axe-core (the npm package, injected by Playwright) finds no serious or critical WCAG 2.x A/AA
problem on any page, as any role, in Chromium; and the main flows work from the keyboard alone (Tab to the
navigation, open a page, change a filter). Skipped when Chromium is missing; axe-core comes from package.json
(`npm ci`, as .ci/run does; the test runs it itself when node_modules is missing)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e_util import CHROMIUM, IDLE, streamlit_server

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ROLES = {"admin": "Administrator", "board": "Board member", "practice_lead": "Practice lead", "viewer": "Viewer"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def axe_source() -> str:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is missing and npm is not installed: run `npm ci` (see .ci/run)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True, timeout=300)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(demo_copy):
    url = demo_copy("sqlite")
    with streamlit_server(url) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def settle(page, timeout: float = 120_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=timeout)
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def as_role(page, role: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text="View the dashboard as").locator("input").click()
    page.get_by_role("option", name=re.compile("^" + ROLES[role])).click()
    settle(page)


def open_from_nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(page)


# Streamlit draws the sidebar navigation's sections as <ul><div><header/><li/>…</div></ul>: list items inside a
# div inside the list. That markup is Streamlit's own and no page or theme can change it; a screen reader still
# announces each link. It is the only exception, and only inside that list: any other list problem still fails.
# (Without sections, `st.navigation([...])`, the markup is valid; dashboard.py keeps the sections for sighted users.)
STREAMLIT_NAV = '[data-testid="stSidebarNavItems"]'
STREAMLIT_NAV_RULES = ("list", "listitem")


def run_axe(page, source: str) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source)
    result = page.evaluate("""async ([tags, nav]) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        const inNav = (n) => { const e = document.querySelector(n.target.join(' ')); return !!(e && e.closest(nav)); };
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            all_in_nav: v.nodes.every(inNav),
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
    }""", [WCAG_TAGS, STREAMLIT_NAV])
    return [v for v in result if not (v["id"] in STREAMLIT_NAV_RULES and v.pop("all_in_nav"))]


def _describe(violations: list[dict]) -> str:
    return json.dumps(violations, indent=1)[:4000]


@pytest.mark.parametrize("role", list(ROLES))
def test_no_serious_or_critical_violations_on_any_page(server, browser, role):
    from ui.navigation import pages_for

    source = axe_source()
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server, timeout=120_000)
    settle(page)
    as_role(page, role)
    problems = {}
    for spec in pages_for(role):
        open_from_nav(page, spec.title)  # in the same session: a new URL would start a new one, as the board
        blocking = [v for v in run_axe(page, source) if v["impact"] in BLOCKING]
        if blocking:
            problems[spec.url_path] = blocking
    ctx.close()
    assert not problems, f"axe-core as {role}:\n" + "\n".join(f"{p}: {_describe(v)}" for p, v in problems.items())


# ---------------------------------------------------------------------------------------------------------------
# Keyboard only
# ---------------------------------------------------------------------------------------------------------------
FOCUSED = """() => { const e = document.activeElement; if (!e) return {};
    return {text: (e.innerText || '').trim(), label: e.getAttribute('aria-label') || '',
            nav: !!e.closest('[data-testid="stSidebarNav"]')}; }"""


def tab_to(page, wanted, limit: int = 80, key: str = "Tab") -> dict:
    """Press Tab until the focused element is the one ``wanted`` accepts; fail after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press(key)
        focus = page.evaluate(FOCUSED)
        if wanted(focus):
            return focus
    raise AssertionError(f"{limit} presses of {key} never reached the element (last: {page.evaluate(FOCUSED)})")


def test_keyboard_only_navigation_page_and_filter(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server, timeout=120_000)
    settle(page)
    page.locator("body").focus()

    # Tab reaches the sidebar navigation, then the Quality indicators link; Enter opens the page.
    tab_to(page, lambda f: f.get("nav"))
    tab_to(page, lambda f: f.get("nav") and f.get("text", "").endswith("Quality indicators"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/quality"), timeout=60_000)
    settle(page)
    assert page.get_by_role("heading", name="Quality indicators").count() == 1

    # A filter: "History shown" from 36 to 12 months, with arrow keys and Enter; the page and the URL follow.
    tab_to(page, lambda f: f.get("label") == "History shown")
    look = """() => { const e = document.querySelector('input[aria-label="History shown"]');
        const w = e.closest('[role=group]') || e; const cs = getComputedStyle(w);
        return [cs.borderColor, cs.outlineStyle, cs.outlineColor, cs.boxShadow].join(' | '); }"""
    focused = page.evaluate(look)
    page.evaluate("() => document.activeElement.blur()")  # only to see the field unfocused, for comparison
    assert page.evaluate(look) != focused, "the focused filter looks the same as an unfocused one"
    page.locator('input[aria-label="History shown"]').focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name="Last 12 months").wait_for(timeout=10_000)
    for _ in range(6):
        if page.evaluate("() => (document.querySelector('[role=option][data-focused], [role=option][aria-selected=true]')"
                         " || {}).innerText") == "Last 12 months":
            break
        page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"months=12"), timeout=60_000)
    settle(page)
    assert page.locator('input[aria-label="History shown"]').input_value() == "Last 12 months"
    assert page.get_by_text("12 months to", exact=False).count() >= 1
    ctx.close()
