"""The board views — overview, aims, quality indicators and practice profile — run in-process with AppTest as each
role, on the demo federation (and on a database with practices but no figures, for the empty states)."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
import streamlit as st
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from data_layer import engine as calc
from data_layer import models as m
from data_layer.db import get_engine
from data_layer.scope import Viewer
from tests.apptest_util import run_on_page, visible_text
from tests.conftest import ROOT

BOARD = Viewer("board@demo.invalid", "board", name="Test board member")
LEAD = Viewer("lead@demo.invalid", "practice_lead", ("Z90001",), name="Test practice lead")
VIEWER = Viewer("viewer@demo.invalid", "viewer", name="Test viewer")
ROLES = {"board": BOARD, "practice_lead": LEAD, "viewer": VIEWER}
PAGES = ("pages/overview.py", "pages/aims.py", "pages/quality.py", "pages/practice.py")


def sign_in_as(monkeypatch, viewer: Viewer) -> None:
    """The one place these tests decide who is signed in (ui.auth owns sign-in; if its entry point changes, change
    only this function)."""
    import ui.auth

    monkeypatch.setattr(ui.auth, "current_viewer", lambda *args, **kwargs: viewer)


def open_page(monkeypatch, viewer: Viewer, page: str, query: dict | None = None) -> AppTest:
    sign_in_as(monkeypatch, viewer)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    run_on_page(at, page)
    assert not at.exception, [e.value for e in at.exception]
    return at


everything_shown = visible_text  # all a page sent to the browser: tables, text and chart specs


def markdown(at: AppTest) -> list[str]:
    """Markdown as a reader sees it (escapes removed)."""
    return [re.sub(r"\\(.)", r"\1", md.value) for md in at.markdown]


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def links(at: AppTest) -> list:
    return [e.proto for e in at.get("page_link")]


def table_with(at: AppTest, *columns: str):
    return next(d.value for d in at.dataframe if all(c in d.value.columns for c in columns))


# ----------------------------------------------------------------------------------------------------------------
# Every page as every role
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(ROLES))
def test_overview_as_each_role(app_env, monkeypatch, role, config):
    at = open_page(monkeypatch, ROLES[role], "pages/overview.py")
    assert at.subheader[0].value == "What needs attention"
    # a practice lead's profile page is their landing page, so its links have the empty path of the home page
    profile = "" if role == "practice_lead" else "practice"
    attention = [p for p in links(at) if p.page in (profile, "quality") and p.query_string]
    assert any("Millstream Surgery" in p.label and "lapsed" in p.label for p in attention)
    assert any(p.label.startswith("✖") and p.query_string.startswith("indicator=") for p in attention)
    assert charts(at) == 1  # the practice × measure matrix
    matrix = table_with(at, "Measure", "Federation", "Millstream Surgery")
    from data_layer.views import kpi_codes

    assert len(matrix) == len(kpi_codes(config)) and matrix.shape[1] == 13  # every measure of the aims, each practice
    assert matrix["Millstream Surgery"].str.contains(r"\d").all()
    drill = {p.query_string for p in links(at) if p.label.endswith(("Surgery", "Centre", "Practice", "Group"))}
    assert {f"profile=Z900{i:02d}" for i in range(1, 12)} <= drill
    assert table_with(at, "Aim", "Measure", "Status")["Aim"].nunique() == 12  # the scorecard stays


@pytest.mark.parametrize("role", list(ROLES))
def test_aims_as_each_role(app_env, monkeypatch, role, config):
    at = open_page(monkeypatch, ROLES[role], "pages/aims.py")
    assert at.title[0].value == "Aims and objectives"
    # the page answers in one screen: the table of every aim, then the first aim's charts only
    assert charts(at) == len(config.aims[0].kpis) and len(at.dataframe[0].value) == 12
    at.selectbox(key="aims_show").set_value("all").run()  # every aim, for printing
    assert charts(at) == sum(len(a.kpis) for a in config.aims)  # one per aim × measure
    plain = [t for t in markdown(at) if t.startswith("**In plain words.**")]
    assert len(plain) == 12
    assert any("Improving (special cause): Diabetes" in p for p in plain)
    assert [e.label for e in at.expander].count("Data behind these charts") == 12
    at.selectbox(key="aims_show").set_value("zero-tolerance-of-abuse").run()
    assert charts(at) == 5
    assert any("Domestic abuse referrals" in p and "Improving" in p for p in
               (t for t in markdown(at) if t.startswith("**In plain words.**")))


@pytest.mark.parametrize("role", list(ROLES))
def test_quality_as_each_role(app_env, monkeypatch, role):
    at = open_page(monkeypatch, ROLES[role], "pages/quality.py", {"indicator": "DM_HBA1C"})
    assert at.selectbox(key="quality_indicator").value == "DM_HBA1C"
    assert charts(at) == 2  # control chart and funnel
    shown = everything_shown(at)
    assert "Improvement (high)" in shown  # the special causes, in words
    assert "run length 7" in shown
    practices = table_with(at, "Practice", "95% interval", "Compared with the federation")
    assert len(practices) == 11
    assert set(practices["Compared with the federation"].str[2:]) <= {
        "Better than the federation", "Similar to the federation", "Worse than the federation"}
    how = table_with(at, "Detail")
    facts = dict(zip(how[""], how["Detail"]))
    assert facts["Numerator"].startswith("Patients with diabetes") and facts["CQC key question"] == "Effective"
    assert "demo federation" in facts["Last import that fed it"]
    assert "Monitoring and improving outcomes" in facts["CQC quality statements"]


@pytest.mark.parametrize("role", list(ROLES))
def test_practice_profile_as_each_role(app_env, monkeypatch, role, config):
    at = open_page(monkeypatch, ROLES[role], "pages/practice.py")
    expected = "Z90001" if role == "practice_lead" else "Z90007"  # own practice for a lead; else the first by name
    assert at.selectbox(key="profile_practice").value == expected
    measures = table_with(at, "Measure", "Practice", "Federation", "Compared with federation")
    from data_layer.views import kpi_codes

    assert len(measures) == len(kpi_codes(config))  # every measure of the aims, once
    assert charts(at) == 2  # a measure over time, and patient feedback
    labels = [x.label for x in at.metric]
    assert {"Compliance", "Lapsed", "Received", "Recorded"} <= set(labels)
    person_level = any(e.label.startswith("Who to chase") for e in at.expander)
    assert person_level == (role != "viewer")


# ----------------------------------------------------------------------------------------------------------------
# What a board member does
# ----------------------------------------------------------------------------------------------------------------
def test_matrix_drill_down_opens_that_practice(app_env, monkeypatch):
    at = open_page(monkeypatch, BOARD, "pages/overview.py")
    link = next(p for p in links(at) if p.label == "Millstream Surgery")
    assert link.page == "practice" and link.query_string == "profile=Z90005"
    at.query_params["profile"] = "Z90005"
    at.switch_page("pages/practice.py").run()
    assert not at.exception
    assert at.selectbox(key="profile_practice").value == "Z90005"
    assert "## Millstream Surgery" in markdown(at)
    # it opens on its first special-cause concern (short-staffed Millstream: its vacancies), its lapsed training
    # among the concerns listed first
    measure = at.selectbox(key="profile_measure")
    concerns = next(t for t in markdown(at) if t.startswith("Latest month a special-cause concern"))
    assert measure.value == "VACANCY_RATE" and "Vacancy rate" in concerns
    assert "Mandatory training compliance" in concerns and \
        measure.options.index("Mandatory training compliance") < concerns.count(";") + 1
    assert at.query_params["profile"] == "Z90005"


def test_practice_filter_changes_the_quality_chart_and_highlights_the_practice(app_env, monkeypatch):
    at = open_page(monkeypatch, BOARD, "pages/quality.py", {"indicator": "FFT_POSITIVE"})
    federation = at.get("plotly_chart")[0].proto.spec
    at.sidebar.multiselect(key="f_practices").set_value(["Z90003"]).run()
    assert not at.exception
    assert at.query_params["indicator"] == "FFT_POSITIVE" and at.query_params["practice"] == "Z90003"
    assert "Harbour View Surgery" in at.caption[0].value
    assert at.get("plotly_chart")[0].proto.spec != federation
    assert "Concern (low)" in everything_shown(at)  # Harbour View's dip after its phone system changed
    funnel = json.loads(at.get("plotly_chart")[1].proto.spec)
    labels = " | ".join(t for trace in funnel["data"] for t in (trace.get("text") or []) if isinstance(t, str))
    assert "<b>Harbour View</b>" in labels and "Millstream" in labels  # the chosen one in bold, the rest too
    assert "<b>Millstream</b>" not in labels


def test_every_indicator_in_the_catalogue_draws_on_the_quality_page(app_env, monkeypatch, config):
    at = open_page(monkeypatch, BOARD, "pages/quality.py")
    for ind in config.indicators:
        at.selectbox(key="quality_indicator").set_value(ind.code).run()
        assert not at.exception, (ind.code, [e.value for e in at.exception])
        assert charts(at) == 2, ind.code
        assert at.query_params["indicator"] == ind.code
        assert len(table_with(at, "Practice", "95% interval")) == 11, ind.code


# ----------------------------------------------------------------------------------------------------------------
# Privacy: a practice lead never receives another practice's people
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def marked_demo(demo_copy, backend, monkeypatch):
    """A fresh demo federation with a marker member of staff (never trained) and a marker complaint at Kingfisher
    (Z90001, the lead's own) and at Harbour View (Z90003, not theirs)."""
    url = demo_copy(backend)
    engine = get_engine(url)
    received = calc.latest_period(engine).replace(day=5)  # inside the 12 months the profile shows
    with engine.begin() as conn:
        ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())
        for code in ("Z90001", "Z90003"):
            conn.execute(insert(m.Staff).values(staff_code=f"MARK-{code}", name=f"Zebedee Marker{code}",
                                                role="Receptionist", practice_id=ids[code],
                                                start_date=date(2020, 1, 1)))
            conn.execute(insert(m.Complaint).values(practice_id=ids[code], reference=f"MARKREF-{code}",
                                                    received_on=received, category="Clinical care",
                                                    summary=f"Marker complaint text {code}"))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


def test_a_practice_lead_sees_their_own_people_and_nobody_elses(marked_demo, monkeypatch):
    at = open_page(monkeypatch, LEAD, "pages/practice.py")
    own = everything_shown(at)
    assert "Zebedee MarkerZ90001" in own and "MARKREF-Z90001" in own  # the test can see a name when it is there
    assert "MarkerZ90003" not in own and "MARKREF-Z90003" not in own
    for query in ({"profile": "Z90003"}, {}):
        for page in PAGES:
            at = open_page(monkeypatch, LEAD, page, query)
            shown = everything_shown(at)
            assert "MarkerZ90003" not in shown and "MARKREF-Z90003" not in shown, page
            assert "Marker complaint text Z90003" not in shown, page
    at = open_page(monkeypatch, LEAD, "pages/practice.py", {"profile": "Z90003"})
    assert at.selectbox(key="profile_practice").value == "Z90003"  # benchmarks of other practices are allowed
    assert not any(e.label.startswith("Who to chase") for e in at.expander)
    assert any("shown only to this practice's lead" in c.value for c in at.caption)


# ----------------------------------------------------------------------------------------------------------------
# Empty states
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def practices_only(empty_url, monkeypatch):
    """Two practices and nothing else: what a federation sees after importing only its practice list."""
    engine = get_engine(empty_url)
    with engine.begin() as conn:
        for i, code in enumerate(("Z10001", "Z10002"), start=1):
            conn.execute(insert(m.Practice).values(code=code, name=f"Empty Practice {i}", pcn="Quiet PCN",
                                                   list_size=4000, active=True))
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    return empty_url


@pytest.mark.parametrize("page", PAGES)
def test_pages_say_why_there_is_nothing_to_show(practices_only, monkeypatch, page):
    at = open_page(monkeypatch, BOARD, page)
    messages = " ".join(x.value for x in [*at.info, *at.warning])
    assert "no data" in messages.lower() or "no practice figures" in messages.lower() or \
        "no figures" in messages.lower() or "nothing to" in messages.lower(), messages
