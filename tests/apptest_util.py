"""Run the app in-process as a given person, and read everything it put on screen."""
from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

DEMO_EMAILS = {"admin": "admin@demo.invalid", "board": "board@demo.invalid", "practice_lead": "lead@demo.invalid",
               "viewer": "viewer@demo.invalid"}


def app(query: dict | None = None, role: str = "board", secrets: dict | None = None, user: dict | None = None,
        timeout: float = 120) -> AppTest:
    """The app after its first run, as the demo user of ``role`` (demo mode) or as ``user`` with ``secrets``."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
    if secrets:
        for k, v in secrets.items():
            at.secrets[k] = v
    if user is not None:
        at.user = user
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.session_state["demo_user"] = DEMO_EMAILS[role]
    return at.run()


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
