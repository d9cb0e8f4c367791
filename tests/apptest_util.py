"""Run the app in-process as a given person, and read everything it put on screen."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui.navigation import PAGES

# Pages whose URL is their file's name: AppTest can open them on its first run, as a link or a typed URL does,
# without drawing the overview first (a second of CPU per test). Others are reached from the overview.
_OPEN_DIRECTLY = {spec.path for spec in PAGES if Path(spec.path).stem == spec.url_path}


def run_on_page(at: AppTest, page: str | None) -> AppTest:
    """Run ``at`` showing ``page`` ("pages/x.py"; None: the default page)."""
    if page is None:
        return at.run()
    if page in _OPEN_DIRECTLY:
        return at.switch_page(page).run()
    at.run()
    return at.switch_page(page).run()

DEMO_EMAILS = {"admin": "admin@demo.invalid", "board": "board@demo.invalid", "practice_lead": "lead@demo.invalid",
               "viewer": "viewer@demo.invalid"}


def app(query: dict | None = None, role: str = "board", secrets: dict | None = None, user: dict | None = None,
        timeout: float = 120, page: str | None = None) -> AppTest:
    """The app after its first run, as the demo user of ``role`` (demo mode) or as ``user`` with ``secrets``,
    showing ``page`` (default: the page the app opens on)."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
    if secrets:
        for k, v in secrets.items():
            at.secrets[k] = v
    if user is not None:
        at.user = user
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.session_state["demo_user"] = DEMO_EMAILS[role]
    return run_on_page(at, page)


def visible_text(at: AppTest) -> str:
    """Everything the run put on screen, including tables and chart data, as one string to search."""
    parts: list[str] = []

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict) and children:
            for child in children.values():
                walk(child)
            return
        value = getattr(node, "value", None)
        if isinstance(value, pd.DataFrame):
            parts.append(value.to_csv())
        elif hasattr(value, "data") and isinstance(getattr(value, "data"), pd.DataFrame):  # a Styler
            parts.append(value.data.to_csv())
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for attr in ("label", "body", "help"):
            v = getattr(node, attr, None)
            if isinstance(v, str):
                parts.append(v)
        if isinstance(value, str):
            parts.append(value)

    walk(at._tree)
    return "\n".join(parts)
