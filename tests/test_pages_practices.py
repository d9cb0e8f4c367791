"""The Staff training and Patient feedback pages, run in-process with AppTest as each role.

The privacy test plants unique marker names, comments and complaints in a fresh copy of the demo federation and reads
every element a page draws (tables, text, charts) to prove a practice lead never receives another practice's people.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from data_layer import demo
from data_layer import models as m
from data_layer.db import get_engine
from data_layer.scope import Viewer
from tests.apptest_util import run_on_page, visible_text
from tests.conftest import ROOT

BOARD = Viewer("board@demo.invalid", "board", name="Test board member")
LEAD = Viewer("lead@demo.invalid", "practice_lead", ("Z90001",), name="Test practice lead")
VIEWER = Viewer("viewer@demo.invalid", "viewer", name="Test viewer")
ROLES = {"board": BOARD, "practice_lead": LEAD, "viewer": VIEWER}
PAGES = ("pages/training.py", "pages/feedback.py")


def sign_in_as(monkeypatch, viewer: Viewer) -> None:
    """The one place these tests decide who is signed in. Sign-in lives in ui.auth; if its entry point changes,
    change only this function."""
    import ui.auth

    monkeypatch.setattr(ui.auth, "current_viewer", lambda *args, **kwargs: viewer)


def open_page(monkeypatch, viewer: Viewer, page: str, query: dict | None = None) -> AppTest:
    sign_in_as(monkeypatch, viewer)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    run_on_page(at, page)
    assert not at.exception, [e.value for e in at.exception]
    return at


everything_shown = visible_text  # all a page sent to the browser: tables, text and chart specs


def plotly_count(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


# ----------------------------------------------------------------------------------------------------------------
# Every role, demo data
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(ROLES))
def test_training_page_as_each_role(app_env, monkeypatch, role):
    at = open_page(monkeypatch, ROLES[role], "pages/training.py")
    assert at.title[0].value == "Staff training"
    labels = [x.label for x in at.metric]
    assert "All required training" in labels and "Due in 30 days" in labels
    assert plotly_count(at) >= 7  # matrix, roles, 3 control charts, practices, lapsing, hours
    assert len(at.download_button) >= plotly_count(at)  # every chart has its table to download
    matrix = next(d.value for d in at.dataframe if "Course" in d.value.columns and "Compliance %" in d.value.columns
                  and "Practice" in d.value.columns)
    assert matrix["Practice"].nunique() == 12  # 11 practices and all together
    infos = " ".join(i.value for i in at.info)
    chase = [d.value for d in at.dataframe if "Name" in d.value.columns and "What to do" in d.value.columns]
    if role == "board":
        assert chase and chase[0]["Practice"].nunique() == 11
    elif role == "practice_lead":
        assert chase and set(chase[0]["Practice"]) == {"Kingfisher Medical Centre"}
    else:
        assert not chase and "counts only" in infos
        assert not [d for d in at.dataframe if "Name" in d.value.columns]


@pytest.mark.parametrize("role", list(ROLES))
def test_feedback_page_as_each_role(app_env, monkeypatch, role):
    at = open_page(monkeypatch, ROLES[role], "pages/feedback.py")
    assert at.title[0].value == "Patient feedback"
    assert plotly_count(at) >= 9
    assert len(at.download_button) >= plotly_count(at)
    shown = everything_shown(at)
    assert "Orchard Family Practice" in shown and "old question" in shown  # the old scale, named and kept apart
    assert "Harbour View Surgery" in shown and "special-cause fall" in shown  # the dip and recovery, in words
    comments = [d.value for d in at.dataframe if "Comment" in d.value.columns]
    details = [d.value for d in at.dataframe if "Reference" in d.value.columns]
    infos = " ".join(i.value for i in at.info)
    if role == "board":
        assert comments and comments[0]["Practice"].nunique() > 1 and details
    elif role == "practice_lead":
        assert set(comments[0]["Practice"]) == {"Kingfisher Medical Centre"}
        assert set(details[0]["Practice"]) == {"Kingfisher Medical Centre"}
    else:
        assert not comments and not details
        assert "figures only" in infos and "complaint figures only" in infos


def test_practice_filter_narrows_both_pages(app_env, monkeypatch):
    at = open_page(monkeypatch, BOARD, "pages/training.py")
    everyone = next(x.value for x in at.metric if x.label == "All required training")
    at.sidebar.multiselect(key="f_practices").set_value(["Z90005"]).run()
    assert not at.exception
    matrix = next(d.value for d in at.dataframe if "Compliance %" in d.value.columns and "Course" in d.value.columns)
    assert set(matrix["Practice"]) == {"Millstream Surgery", "All selected practices"}
    assert next(x.value for x in at.metric if x.label == "All required training") != everyone
    assert any("Millstream Surgery" in md.value and "down" in md.value for md in at.markdown)

    at = open_page(monkeypatch, BOARD, "pages/feedback.py", {"practice": "Z90003"})
    by_month = next(d.value for d in at.dataframe if "Practice" in d.value.columns and "Month" in d.value.columns)
    assert set(by_month["Practice"]) == {"Harbour View Surgery"}


def test_empty_states_say_why(app_env, monkeypatch):
    at = open_page(monkeypatch, BOARD, "pages/feedback.py")
    at.text_input(key="fb_search").set_value("no patient wrote this xyzzy").run()
    assert any("No comments match" in i.value for i in at.info)
    at = open_page(monkeypatch, LEAD, "pages/feedback.py", {"practice": "Z90002"})
    infos = " ".join(i.value for i in at.info)
    assert "your own practice" in infos and not [d for d in at.dataframe if "Comment" in d.value.columns]
    at = open_page(monkeypatch, LEAD, "pages/training.py", {"practice": "Z90002"})
    assert any("your own practice" in i.value for i in at.info)


# ----------------------------------------------------------------------------------------------------------------
# Privacy: planted markers in a fresh database
# ----------------------------------------------------------------------------------------------------------------
_marked: dict[str, str] = {}


@pytest.fixture
def marked_url(demo_copy, backend, config, monkeypatch):
    """A fresh demo federation with unique people, comments and complaints planted in Z90001 (the lead's own
    practice) and Z90002 (someone else's)."""
    if backend not in _marked:
        url = demo_copy(backend)
        engine = get_engine(url)
        last = demo.default_end_month()
        day = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
        with engine.begin() as conn:
            ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())
            for code, person, comment, ref in (("Z90001", "Ottoline Ownmarker", "OWNMARKER-4410 lovely staff",
                                                "OWNREF-1"),
                                               ("Z90002", "Zebedee Othermarker", "OTHERMARKER-7731 awful parking",
                                                "OTHERREF-1")):
                sid = conn.execute(insert(m.Staff).values(staff_code=f"MARK-{code}", name=person, role="GP",
                                                          practice_id=ids[code], start_date=date(2010, 1, 1))
                                   ).inserted_primary_key[0]
                conn.execute(insert(m.TrainingCompletion).values(staff_id=sid, course="FIRE",
                                                                  completed_on=date(2020, 1, 1)))
                conn.execute(insert(m.FFTResponse).values(practice_id=ids[code], response_key=f"mark-{code}",
                                                          response_date=day, scale="current", rating=4,
                                                          comment=comment, mode="SMS"))
                conn.execute(insert(m.Complaint).values(practice_id=ids[code], reference=ref, received_on=day,
                                                        category="Staff attitude", summary=f"{ref} summary"))
        _marked[backend] = url
    monkeypatch.setenv("DATABASE_URL", _marked[backend])
    monkeypatch.chdir(ROOT)
    return _marked[backend]


OWN = ("Ottoline Ownmarker", "OWNMARKER-4410", "OWNREF-1")
OTHER = ("Zebedee Othermarker", "OTHERMARKER-7731", "OTHERREF-1")


@pytest.mark.parametrize("page", PAGES)
def test_practice_lead_sees_no_other_practices_people(marked_url, monkeypatch, page):
    wanted = {"pages/training.py": OWN[:1], "pages/feedback.py": OWN[1:]}[page]
    lead = everything_shown(open_page(monkeypatch, LEAD, page))
    assert all(w in lead for w in wanted)  # the lead's own practice: shown, so the test below can fail
    assert not any(o in lead for o in OTHER)
    board = everything_shown(open_page(monkeypatch, BOARD, page))
    other_wanted = {"pages/training.py": OTHER[:1], "pages/feedback.py": OTHER[1:]}[page]
    assert all(w in board for w in wanted + other_wanted)
    viewer = everything_shown(open_page(monkeypatch, VIEWER, page))
    assert not any(x in viewer for x in OWN + OTHER)
