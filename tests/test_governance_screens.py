"""Governance on the screens, run in-process with AppTest on a demo federation of its own (both backends): actions
on the overview, the practice profile and the quality page, with a raise link that carries the item; notes on the
control charts and a rebase note from the quality page that recalculates the limits everywhere; data completeness
with a late practice (the admin page and the board's one line); PCNs and groups side by side, and the sidebar's
group filter."""
from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import delete, select

from data_layer import engine as calc
from data_layer import models as m
from data_layer.db import get_engine
from data_layer.governance import actions as act
from data_layer.governance import completeness, notes
from data_layer.scope import Viewer
from tests.conftest import ROOT
from tests.test_pages_board import BOARD, LEAD, VIEWER, everything_shown, open_page, practices_only  # noqa: F401

ADMIN = Viewer("admin@demo.invalid", "admin", name="Test administrator")
LATE = "Z90011"  # Foxglove Health Centre: has sent no FFT for its last three months
TODAY = date.today()
_built: dict[str, str] = {}


@pytest.fixture
def gov_demo(demo_copy, backend, config, monkeypatch):
    """A demo federation these tests may write to (built once per backend), in which one practice is late with
    its FFT; the app points at it."""
    if backend not in _built:
        url = demo_copy(backend)
        engine = get_engine(url)
        last = calc.latest_period(engine)
        cut = date(last.year, last.month, 1) - timedelta(days=62)
        with engine.begin() as conn:
            pid = conn.execute(select(m.Practice.id).where(m.Practice.code == LATE)).scalar_one()
            conn.execute(delete(m.FFTResponse).where(m.FFTResponse.practice_id == pid,
                                                     m.FFTResponse.response_date >= cut))
            conn.execute(delete(m.FFTMonthlyCount).where(m.FFTMonthlyCount.practice_id == pid,
                                                         m.FFTMonthlyCount.month >= cut))
        _built[backend] = url
    monkeypatch.setenv("DATABASE_URL", _built[backend])
    monkeypatch.chdir(ROOT)
    return get_engine(_built[backend])


def links(at) -> list:
    return [link.proto for link in at.get("page_link")]


def raise_links(at) -> list[dict]:
    return [{k: v[0] for k, v in parse_qs(p.query_string).items()} | {"label": p.label}
            for p in links(at) if p.label.startswith("Raise")]


# --------------------------------------------------------------------------------------------------------------------
# Actions on the screens
# --------------------------------------------------------------------------------------------------------------------
def test_overview_shows_actions_due_and_a_raise_link_on_every_attention_item(gov_demo, config, monkeypatch):
    act.add_action(gov_demo, BOARD, config, title="Chase the recall list", owner_email=LEAD.email,
                   due_on=TODAY + timedelta(days=3), indicator_code="HYP_BP", practice_code="Z90001")
    at = open_page(monkeypatch, BOARD, "pages/overview.py")
    due = [d.value for d in at.dataframe if "Title" in d.value.columns]
    assert due and "Chase the recall list" in list(due[0]["Title"])
    assert list(due[0]["When"]) == ["Due in 3 days"]
    raised = raise_links(at)
    assert raised, "every attention item has a raise-action link for the board"
    concern = next(r for r in raised if "action_practice" in r)  # a practice's item carries its practice
    assert concern["indicator"] in config.indicator_codes and concern["attention"].split(": ")[0] in (
        "Special-cause concern", "Missed target", "Training lapsed or lapsing")
    assert concern["title"] and all(r["label"] == "Raise an action" for r in raised)

    viewer = open_page(monkeypatch, VIEWER, "pages/overview.py")
    assert raise_links(viewer) == []  # viewers read; they never raise
    lead = open_page(monkeypatch, LEAD, "pages/overview.py")
    assert {r.get("action_practice") for r in raise_links(lead)} <= {"Z90001"}  # their own practice's items only


def test_practice_profile_and_quality_page_show_their_actions_and_raise_links(gov_demo, config, monkeypatch):
    act.add_action(gov_demo, BOARD, config, title="Review diabetes recall at Oakwood", owner_email=LEAD.email,
                   due_on=TODAY + timedelta(days=5), indicator_code="DM_HBA1C", practice_code="Z90002")
    act.add_action(gov_demo, BOARD, config, title="Federation audit of HbA1c", owner_email=LEAD.email,
                   due_on=TODAY + timedelta(days=6), indicator_code="DM_HBA1C")
    act.add_action(gov_demo, BOARD, config, title="Phone lines at Oakwood", owner_email=LEAD.email,
                   due_on=TODAY + timedelta(days=6), indicator_code="FFT_POSITIVE", practice_code="Z90002")

    at = open_page(monkeypatch, BOARD, "pages/practice.py", {"profile": "Z90002"})
    titles = [t for d in at.dataframe if "Title" in d.value.columns for t in d.value["Title"]]
    assert "Review diabetes recall at Oakwood" in titles and "Phone lines at Oakwood" in titles
    assert "Federation audit of HbA1c" not in titles  # the profile lists this practice's actions only
    assert any(r.get("action_practice") == "Z90002" and "indicator" not in r for r in raise_links(at))

    q = open_page(monkeypatch, BOARD, "pages/quality.py", {"indicator": "DM_HBA1C"})
    titles = [t for d in q.dataframe if "Title" in d.value.columns for t in d.value["Title"]]
    assert "Review diabetes recall at Oakwood" in titles and "Federation audit of HbA1c" in titles
    assert "Phone lines at Oakwood" not in titles  # the measure's actions only
    assert any(r.get("indicator") == "DM_HBA1C" for r in raise_links(q))
    assert raise_links(open_page(monkeypatch, VIEWER, "pages/quality.py", {"indicator": "DM_HBA1C"})) == []


# --------------------------------------------------------------------------------------------------------------------
# Notes on the charts
# --------------------------------------------------------------------------------------------------------------------
def _variation_badges(at) -> str:
    """The words of the Making Data Count badges beside the figures (variation and assurance)."""
    return " ".join(md.value for md in at.markdown if "mdc-badges" in md.value)


def _spc_spec(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_a_note_shows_on_the_chart_and_a_rebase_note_from_the_page_recalculates_the_limits(gov_demo, config,
                                                                                          monkeypatch):
    notes.add_note(gov_demo, BOARD, config, indicator_code="DM_HBA1C", month="2025-03",
                   text="New <b>recall</b> letters")
    at = open_page(monkeypatch, BOARD, "pages/quality.py", {"indicator": "DM_HBA1C"})
    texts = [a.get("text", "") for a in _spc_spec(at)["layout"].get("annotations", [])]
    assert "New &lt;b&gt;recall&lt;/b&gt; letters" in texts  # at its month, as text (never markup)
    assert "Improvement (high)" in everything_shown(at)  # one set of limits: the rise is a special cause
    assert "ommon cause" not in _variation_badges(at)  # the variation badge
    assert "quality_rebase" not in [s.key for s in at.selectbox]  # no per-visit recalculation any more

    at.selectbox(key="note_month").set_value(date(2025, 7, 1))
    at.text_input(key="note_text").input("Diabetes recall started")
    at.checkbox(key="note_rebase").check()
    at.button[[b.label for b in at.button].index("Add the note")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Note added at July 2025" in s.value and "measure store was recalculated" in s.value
               for s in at.success)
    assert "ommon cause" in _variation_badges(at)  # judged from the new limits: the new level is the usual
    assert any("Limits recalculated from July 2025 (rebase note)" in c.value for c in at.caption)
    texts = [a.get("text", "") for a in _spc_spec(at)["layout"].get("annotations", [])]
    assert "Limits restart: Diabetes recall started" in texts

    # every view reads the same stored limits: the profile of a practice and the scorecard's figures
    res = calc.kpi_results(gov_demo, config, BOARD, calc.Filters(), codes=["DM_HBA1C"])["DM_HBA1C"]
    assert res.spc.points["segment"].nunique() == 2 and res.variation == "common_cause"
    profile = open_page(monkeypatch, BOARD, "pages/practice.py", {"profile": "Z90003"})
    profile.selectbox(key="profile_measure").set_value("DM_HBA1C").run()
    texts = [a.get("text", "") for a in _spc_spec(profile)["layout"].get("annotations", [])]
    assert "Limits restart: Diabetes recall started" in texts

    # removing the rebase note restores one set of limits, straight away
    note_id = int(notes.list_notes(gov_demo, "DM_HBA1C").query("rebase")["id"].iloc[0])
    notes.remove_note(gov_demo, BOARD, note_id, config)
    res = calc.kpi_results(gov_demo, config, BOARD, calc.Filters(), codes=["DM_HBA1C"])["DM_HBA1C"]
    assert res.spc.points["segment"].nunique() == 1


def test_only_people_who_may_note_see_the_note_form(gov_demo, monkeypatch):
    viewer = open_page(monkeypatch, VIEWER, "pages/quality.py", {"indicator": "HYP_BP"})
    assert "note_text" not in [t.key for t in viewer.text_input]
    lead = open_page(monkeypatch, LEAD, "pages/quality.py", {"indicator": "HYP_BP"})
    assert "note_text" not in [t.key for t in lead.text_input]  # not on every practice's chart
    lead = open_page(monkeypatch, LEAD, "pages/quality.py", {"indicator": "HYP_BP", "practice": "Z90001"})
    assert "note_text" in [t.key for t in lead.text_input]  # on their own practice's


# --------------------------------------------------------------------------------------------------------------------
# Data completeness
# --------------------------------------------------------------------------------------------------------------------
def test_completeness_page_and_the_boards_line_name_the_late_practice(gov_demo, config, monkeypatch):
    table = completeness.completeness(gov_demo, config)
    late_fft = table[(table["dataset"] == completeness.FFT) & table["late"]]
    assert list(late_fft["practice_code"]) == [LATE]
    line = completeness.late_line(table, config)
    assert line.startswith("1 practice has not sent ") and "FFT (due by" in line

    at = open_page(monkeypatch, ADMIN, "pages/completeness.py")
    assert any(w.value == line for w in at.warning)
    late = next(d.value for d in at.dataframe if "Months behind" in d.value.columns)
    fft = late[late["Dataset"] == "Friends and Family Test"]
    assert list(fft["Practice"]) == [f"Foxglove Health Centre ({LATE})"]
    assert fft["Months behind"].iloc[0] not in ("0", "", None)
    grid = next(d.value for d in at.dataframe if "Foxglove" in d.value.columns)  # few practices: one column each
    assert grid.set_index("Dataset").loc["Friends and Family Test", "Foxglove"].startswith("✖ ")
    assert grid.set_index("Dataset").loc["Friends and Family Test", "Millstream"].startswith("✔ ")

    board = open_page(monkeypatch, BOARD, "pages/overview.py")
    assert any(w.value == line for w in board.warning)
    lead = open_page(monkeypatch, LEAD, "pages/overview.py")
    assert not any(w.value == line for w in lead.warning)  # the one line is the board's
    assert "completeness" not in [p.page for p in links(lead)]


# --------------------------------------------------------------------------------------------------------------------
# PCN and group comparison
# --------------------------------------------------------------------------------------------------------------------
def test_compare_page_sets_the_pcns_and_groups_side_by_side(gov_demo, config, monkeypatch):
    at = open_page(monkeypatch, BOARD, "pages/compare.py", {"indicator": "HYP_BP"})
    table = next(d.value for d in at.dataframe if "Group" in d.value.columns)
    assert list(table["Group"]) == ["Chalk Downs PCN", "Estuary PCN", "Riverside PCN", "Training practices"]
    assert list(table["Kind"]) == ["PCN", "PCN", "PCN", "Group"]
    for col in ("95% interval (Wilson)", "Status", "Variation (control chart)", "Against the federation (funnel)"):
        assert table[col].str.len().gt(2).all(), col
    assert len(at.get("plotly_chart")) == 1  # the funnel

    at.selectbox(key="compare_indicator").set_value("COMPLAINTS_ACK_3D").run()
    assert not at.exception and at.query_params["indicator"] == "COMPLAINTS_ACK_3D"


def test_the_sidebar_group_filter_is_kept_in_the_url_and_changes_the_figures(gov_demo, config, monkeypatch):
    group = config.groups[0]
    at = open_page(monkeypatch, BOARD, "pages/quality.py", {"indicator": "HYP_BP"})
    before = at.metric[0].value
    at.selectbox(key="f_group").set_value(group.id).run()
    assert not at.exception and at.query_params["group"] == group.id
    stored = calc.kpi_results(gov_demo, config, BOARD, calc.Filters(group=group.id), codes=["HYP_BP"])["HYP_BP"]
    assert at.metric[0].value == f"{stored.latest_value:.1f}%" != before

    linked = open_page(monkeypatch, BOARD, "pages/overview.py", {"group": group.id})  # a copied link opens it
    assert linked.selectbox(key="f_group").value == group.id


# --------------------------------------------------------------------------------------------------------------------
# Empty states: a federation that has imported only its practice list
# --------------------------------------------------------------------------------------------------------------------
def test_compare_and_completeness_say_why_there_is_nothing_to_show(practices_only, monkeypatch):
    at = open_page(monkeypatch, BOARD, "pages/compare.py")
    assert any("nothing to compare" in i.value for i in at.info), [i.value for i in at.info]
    at = open_page(monkeypatch, ADMIN, "pages/completeness.py")
    assert any(w.value.startswith("2 practices have not sent ") for w in at.warning)
    late = next(d.value for d in at.dataframe if "Months behind" in d.value.columns)
    assert set(late["Latest month received"]) == {"Nothing received"}  # never a zero
    assert set(late["Months behind"]) == {"Not received"}
