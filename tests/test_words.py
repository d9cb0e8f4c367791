"""Words a board member reads never contradict themselves (issue 15, item 13): one test per phrase that did."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import insert
from streamlit.testing.v1 import AppTest

from data_layer import models as m
from data_layer.db import get_engine
from data_layer.demo import DEMO_FLAG
from data_layer.funnels import special_cause_runs
from data_layer.policy import status
from data_layer.scope import Viewer
from data_layer.statistics import spc
from tests.apptest_util import visible_text
from tests.conftest import ROOT

ADMIN = Viewer("admin@demo.invalid", "admin", name="Test administrator")
BOARD = Viewer("board@demo.invalid", "board", name="Test board member")


def _open(monkeypatch, viewer: Viewer, page: str) -> AppTest:
    import ui.auth

    monkeypatch.setattr(ui.auth, "current_viewer", lambda *args, **kwargs: viewer)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _runs(values: list[float]) -> list[str]:
    idx = pd.date_range("2024-01-01", periods=len(values), freq="MS")
    res = SimpleNamespace(spc=spc(pd.Series(values, index=idx), "higher", None), indicator=SimpleNamespace(unit="%"))
    return special_cause_runs(res)["words"].tolist()


def test_a_one_point_special_cause_is_at_a_figure_never_from_it_to_itself():
    words = _runs([71.0, 70.6, 71.2, 70.8, 71.1, 70.9, 71.0, 70.7, 71.3, 70.9, 71.0, 70.8, 71.1, 90.0, 71.0])
    assert any("1 point at 90.0%" in w for w in words), words
    assert not any(re.search(r"from (\S+) to \1", w) for w in words)


def test_a_run_of_equal_figures_says_all_at_and_a_spread_says_from_to():
    steady = [70.0, 71.0] * 6 + [75.0] * 7
    assert any("7 points, all at 75.0%" in w for w in _runs(steady))
    rising = [70.0, 71.0] * 6 + [74.0, 75.0, 74.5, 75.5, 74.8, 75.2, 76.0]
    assert any("7 points from 74.0% to 76.0%" in w for w in _runs(rising))


def test_a_measure_without_limits_says_why_once_not_twice():
    from ui import mdc_icons

    res = SimpleNamespace(spc=None, variation=status.TOO_FEW, assurance="none", target=80.0,
                          judgement_text="Too few to judge (fewer than 10 cases)")
    html = mdc_icons.badges(res)
    assert html.count("Too few to judge") == 1 and "<svg" not in html
    assert "Not enough data. Not enough data" not in html
    none_yet = SimpleNamespace(spc=None, variation="none", assurance="none", target=80.0, judgement_text="")
    assert mdc_icons.badges(none_yet).count("Not enough data") == 1


@pytest.mark.parametrize("change, unit, direction, delta, colour, arrow", [
    (0.04, "%", "higher", "No change (0.0 pts)", "off", "off"),
    (-0.02, "%", "lower", "No change (0.0 pts)", "off", "off"),
    (0.2, "%", "higher", "+0.2 pts", "normal", None),
    (0.2, "%", "lower", "+0.2 pts", "inverse", None),
    (-1.0, "count", "neutral", "-1", "off", None),
    (None, "%", "higher", None, None, None),
])
def test_a_change_that_shows_as_nothing_has_no_arrow_and_no_colour(change, unit, direction, delta, colour, arrow):
    from ui.format import metric_delta

    got = metric_delta(change, unit, direction)
    assert got.get("delta") == delta and got.get("delta_color") == colour and got.get("delta_arrow") == arrow


@pytest.mark.parametrize("value, rag, shown", [(94.96, "amber", "95.0%"), (94.4, "amber", "94.4%"),
                                                (99.6, "red", "99.6%"), (95.2, "green", "95%"), (88.0, "none", "88%")])
def test_a_training_cell_never_rounds_to_its_target_beside_near_or_off_target(value, rag, shown):
    from ui.training_ui import cell_pct

    assert cell_pct(value, rag) == shown
    # and the RAG itself is judged at the precision a figure is shown at: 94.96% is 95.0%, on target
    assert status.rag_one(94.96, 95.0, "higher", 2.0) == "green"


def test_the_training_page_writes_each_date_one_way_and_says_why_two_dates_differ(app_env, monkeypatch):
    at = _open(monkeypatch, BOARD, "pages/training.py")
    shown = visible_text(at)
    assert "measured on" not in shown
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    short = re.findall(r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b", shown)
    assert not short, short  # never "1 Dec 2026" beside "30 November 2026"
    caption = next(c.value for c in at.caption if "compliance as at" in c.value)
    dates = re.findall(rf"\d{{1,2}} (?:{months}) \d{{4}}", caption)
    assert dates and (len(dates) == 1 or "month's end" in caption and "today" in caption), caption


def test_the_audit_log_shows_words_never_none_or_snake_case(app_env, monkeypatch):
    at = _open(monkeypatch, ADMIN, "pages/audit.py")
    events = at.dataframe[0].value
    assert len(events) and "User added" in set(events["action"])
    for col in ("action", "practice_code", "detail"):
        cells = events[col].astype(str)
        assert not cells.isin(["None", "nan", "NaT"]).any(), col
    assert not events["action"].str.contains("_").any()
    assert not events["detail"].str.contains(r"\b(?:practice_lead|role admin|role board)\b").any()
    assert events["detail"].str.contains("Practice lead").any()
    assert at.selectbox[0].label == "Action" and "user_added" not in [at.selectbox[0].format_func(o) for o in
                                                                       at.selectbox[0].options]


@pytest.fixture
def users_env(empty_url, monkeypatch):
    """A small demo-mode database of our own (the Users page changes it): one practice and three users."""
    from data_layer.users import save_user

    engine = get_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(insert(m.Practice).values(code="Z90001", name="Test Surgery", pcn="Test PCN"))
        conn.execute(insert(m.AppMeta).values(key=DEMO_FLAG, value="test"))
    save_user(engine, ADMIN.email, "admin", [], actor="test")
    save_user(engine, "other.admin@demo.invalid", "admin", [], actor="test")
    save_user(engine, "lead@demo.invalid", "practice_lead", ["Z90001"], actor="test")
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    return engine


def test_the_users_page_chooses_no_role_and_nobody_for_you_and_asks_before_removing(users_env, monkeypatch):
    from data_layer.users import list_users

    at = _open(monkeypatch, ADMIN, "pages/users.py")
    role = next(s for s in at.selectbox if s.label == "Role")
    assert role.value is None  # never Administrator by default
    who = at.selectbox(key="remove_who")
    assert who.value is None and ADMIN.email not in who.options  # never yourself, never the first in the list
    assert at.button(key="remove_user").disabled

    # saving without a role says so and saves nothing
    at.text_input[0].input("new.person@nhs.net")
    at.button[0].click().run()
    assert any("choose a role" in e.value for e in at.error)
    assert "new.person@nhs.net" not in set(list_users(users_env)["email"])

    # removing asks first, in a dialog; cancelling removes nobody
    at.selectbox(key="remove_who").set_value("other.admin@demo.invalid").run()
    at.button(key="remove_user").click().run()
    assert not at.exception
    assert "other.admin@demo.invalid" in set(list_users(users_env)["email"])
    assert any("will no longer be able to sign in" in md.value for md in at.markdown)
    at.button(key="remove_confirmed").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "other.admin@demo.invalid" not in set(list_users(users_env)["email"])
    assert any("removed" in s.value for s in at.success)
