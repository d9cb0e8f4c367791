"""The first start (issue 15, item 12): on a brand-new database the demo is built behind a first-start screen with a
progress bar, with no page of the app registered meanwhile, and the app then opens by itself."""
from __future__ import annotations

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def test_a_first_start_builds_the_demo_behind_its_own_screen_then_opens_the_app(new_url, monkeypatch):
    from data_layer import demo
    import ui.state

    monkeypatch.setenv("DATABASE_URL", new_url)
    monkeypatch.chdir(ROOT)
    real_build = demo.build
    seen: dict = {"messages": [], "pages": None}

    def small_build(engine, config, progress=None, **kwargs):
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        # while the demo is built, the only page the app has registered is the first-start screen
        ctx = get_script_run_ctx()
        seen["pages"] = [p["page_name"] for p in ctx.pages_manager.get_pages().values()]

        def say(message: str) -> None:
            seen["messages"].append(message)
            progress(message)

        return real_build(engine, config, n_practices=3, months=13, seed=7, progress=say)

    monkeypatch.setattr(demo, "build", small_build)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600).run()
    assert not at.exception, [e.value for e in at.exception]
    assert seen["pages"] == ["Setting up the dashboard"], seen["pages"]
    assert len(seen["messages"]) >= 4  # each step of the build moves the bar and says what it is doing
    shares = [next((f for prefix, f in ui.state.FIRST_RUN_STEPS if m.startswith(prefix)), None)
              for m in seen["messages"]]
    known = [s for s in shares if s is not None]
    assert known == sorted(known) and len(known) >= 3
    # then the app itself: the board overview of the demo just built
    assert at.title and at.title[0].value.endswith("board overview"), [t.value for t in at.title]
    assert at.metric
