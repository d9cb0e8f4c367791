"""Governance in the packs and the board's calendar (both backends): the board's meeting dates from federation.toml
(validated, naming the key) set the board pack's "due before the next meeting" and "done since the last meeting"
and the overview's due-soon actions, with a plain fallback when none are set; notes on the charts are on the
inspection pack's control charts (a numbered marker and the note's words beside the chart); a rebase note restarts
the limits the PDF's chart is drawn from, its words and the workbook's chart data.

The tests write actions and notes, so they run on a demo federation of this module's own."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from data_layer import exports
from data_layer.config import ConfigError, Governance, parse_config
from data_layer.db import get_engine
from data_layer.exports import charts
from data_layer.exports.board_pack import build_board_pack, render
from data_layer.governance import actions as act
from data_layer.governance import meetings, notes
from data_layer.measures import store
from data_layer.scope import Viewer
from tests.conftest import ROOT

BOARD = Viewer("board@demo.invalid", "board", name="Dr Bea Board")
LEAD = Viewer("lead@demo.invalid", "practice_lead", ("Z90001",), name="Pat Lead")
TODAY = date.today()
_own: dict[str, str] = {}


@pytest.fixture
def own(demo_copy, backend):
    if backend not in _own:
        _own[backend] = demo_copy(backend)
    return get_engine(_own[backend])


def with_meetings(config, **governance):
    return config.model_copy(update={"governance": Governance(**governance)})


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------------------------
# The board's meetings in federation.toml
# ---------------------------------------------------------------------------------------------------------------
TOML = (ROOT / "federation.toml").read_text(encoding="utf-8")


def _with(section: str):
    # the shipped file ends with an empty [governance] section: replace it
    base = TOML[:TOML.rindex("[governance]")]
    return parse_config(base + "[governance]\n" + section, Path("federation.toml"))


def test_meeting_dates_and_rules_are_validated_with_the_key_named():
    cfg = _with('meetings = ["2027-01-14", "2026-12-10"]\n')
    assert cfg.governance.meetings == (date(2026, 12, 10), date(2027, 1, 14))  # kept in order
    assert _with('meeting_rule = "second Thursday"\n').governance.meeting_rule == "second Thursday"
    for section, key, words in (
            ('meetings = ["2026-13-10"]\n', "governance.meetings.0", "valid date"),
            ('meetings = ["2026-12-10", "2026-12-10"]\n', "governance.meetings", "listed twice: 2026-12-10"),
            ('meeting_rule = "fifth Thursday"\n', "governance.meeting_rule", "like 'second Thursday'"),
            ('meeting_rule = "second Thursday"\nmeetings = ["2026-12-10"]\n', "governance", "not both"),
            ('meetings_rule = "second Thursday"\n', "governance.meetings_rule", "Extra inputs")):
        with pytest.raises(ConfigError) as err:
            _with(section)
        assert f"  - {key}: " in str(err.value) and words in str(err.value), str(err.value)


def test_the_last_and_next_meeting_from_dates_a_rule_or_neither(config):
    listed = with_meetings(config, meetings=(date(2026, 11, 12), date(2026, 12, 10), date(2027, 1, 14)))
    m = meetings.meetings(listed, date(2026, 12, 1))
    assert (m.last, m.next, m.configured) == (date(2026, 11, 12), date(2026, 12, 10), True)
    assert m.words == "Board meetings: the last on 12 November 2026, the next on 10 December 2026 (from the " \
                      "federation config)."
    on_the_day = meetings.meetings(listed, date(2026, 12, 10))  # the pack for that day's meeting looks both ways
    assert (on_the_day.last, on_the_day.next) == (date(2026, 11, 12), date(2027, 1, 14))
    beyond = meetings.meetings(listed, date(2027, 2, 1))
    assert (beyond.last, beyond.next, beyond.next_known) == (date(2027, 1, 14), date(2027, 3, 1), False)
    assert "lists no next board meeting" in beyond.words and "1 March 2027" in beyond.words

    rule = with_meetings(config, meeting_rule="second Thursday")
    m = meetings.meetings(rule, date(2026, 12, 1))
    assert (m.last, m.next) == (date(2026, 11, 12), date(2026, 12, 10))
    assert meetings.rule_day("last Friday", 2027, 1) == date(2027, 1, 29)

    none = meetings.meetings(with_meetings(config), date(2026, 12, 1))
    assert (none.last, none.next, none.configured) == (date(2026, 11, 1), date(2027, 1, 1), False)
    assert none.words.startswith("No board meeting dates are set ([governance] meetings or meeting_rule in "
                                 "federation.toml), so a month either side of 1 December 2026 is used")


def test_the_overviews_due_soon_actions_run_to_the_next_meeting(config):
    from ui.actions import due_window

    listed = with_meetings(config, meetings=(TODAY + timedelta(days=20),))
    days, words = due_window(listed, TODAY)
    assert days == 20 and words == f"due before the next board meeting ({meetings.day_words(TODAY + timedelta(20))})"
    assert due_window(with_meetings(config), TODAY) == (act.DUE_SOON_DAYS, f"due in the next {act.DUE_SOON_DAYS} days")


def test_the_board_packs_actions_run_between_the_meetings(own, config):
    last, nxt = TODAY - timedelta(days=5), TODAY + timedelta(days=20)
    cfg = with_meetings(config, meetings=(TODAY - timedelta(days=33), last, nxt, TODAY + timedelta(days=48)))
    before = act.add_action(own, BOARD, cfg, title="Meetings test: due before the next meeting",
                            owner_email=LEAD.email, due_on=nxt - timedelta(days=1), practice_code="Z90001")
    after = act.add_action(own, BOARD, cfg, title="Meetings test: due after the next meeting",
                           owner_email=LEAD.email, due_on=nxt + timedelta(days=3), practice_code="Z90001")
    done = act.add_action(own, BOARD, cfg, title="Meetings test: done since the last meeting",
                          owner_email=LEAD.email, due_on=TODAY + timedelta(days=2), practice_code="Z90001")
    act.update_action(own, LEAD, done, status="done", comment="Finished")

    pack = build_board_pack(own, cfg, BOARD)
    tables = {t.name: t for t in pack.actions}
    due = tables["actions_due_before_next"]
    assert before in set(due.frame["ID"]) and after not in set(due.frame["ID"])
    assert due.title == f"Due before the next meeting ({meetings.day_words(nxt)})"
    assert done in set(tables["actions_done_since_last"].frame["ID"])
    assert tables["actions_done_since_last"].title == f"Done since the last meeting ({meetings.day_words(last)})"
    text = flat(pdf_text(render(pack, "pdf")))
    assert f"Board meetings: the last on {meetings.day_words(last)}, the next on {meetings.day_words(nxt)}" in text

    # a pack made after the last listed meeting: due by a month on, and it says so
    later = build_board_pack(own, cfg, BOARD, now=datetime.combine(TODAY + timedelta(days=50), datetime.min.time()))
    lt = {t.name: t for t in later.actions}
    assert "no next meeting set" in lt["actions_due_before_next"].title
    assert done not in set(lt["actions_done_since_last"].frame["ID"])  # done before the last meeting (day 48)

    # none set: a month either side, said on the cover of both formats
    plain = build_board_pack(own, with_meetings(config), BOARD)
    assert after in set({t.name: t for t in plain.actions}["actions_due_before_next"].frame["ID"])
    cover = dict(zip(plain.cover.frame["Item"], plain.cover.frame["Value"]))
    assert cover["Board meetings"].startswith("No board meeting dates are set")
    assert "No board meeting dates are set" in flat(pdf_text(render(plain, "pdf")))
    wb = openpyxl.load_workbook(io.BytesIO(render(plain, "xlsx")))
    assert any("No board meeting dates are set" in str(c.value) for row in wb["Cover"].iter_rows() for c in row)
    for aid in (before, after, done):
        act.update_action(own, BOARD, aid, status="dropped", comment="test over")


# ---------------------------------------------------------------------------------------------------------------
# Notes on the inspection pack's charts
# ---------------------------------------------------------------------------------------------------------------
CODE = "DM_HBA1C"


def _evidence(pack, code=CODE):
    return next(ev for ev in pack.evidence() if ev.code == code)


def _pdf_without_pictures(monkeypatch):
    """The PDF's words without drawing its seventy charts (the notes are words beside a chart; the charts that
    carry a note's marker are drawn and compared on their own in each test)."""
    monkeypatch.setattr(charts, "render_all", lambda pack: pack.charts)


def test_a_note_is_on_every_chart_of_its_series_in_the_inspection_pack(own, config, monkeypatch):
    _pdf_without_pictures(monkeypatch)
    month = pd.Timestamp(store.latest_month(own)) - pd.DateOffset(months=4)
    everyone = notes.add_note(own, BOARD, config, indicator_code=CODE, month=month.date(),
                              text="Pack test: new recall letters")
    one = notes.add_note(own, BOARD, config, indicator_code=CODE, practice_code="Z90003", month=month.date(),
                         text="Pack test: Harbour View's own clinic")
    try:
        fed = exports.build_pack(own, config, BOARD, None)
        shown = charts.notes_on_chart(_evidence(fed))
        assert list(shown["text"]) == ["Pack test: new recall letters"] and list(shown["number"]) == [1]
        text = flat(pdf_text(exports.render(fed, "pdf")))
        assert f"Chart notes 1. {month:%B %Y}: Pack test: new recall letters." in text

        practice = exports.build_pack(own, config, BOARD, "Z90003")
        shown = charts.notes_on_chart(_evidence(practice))
        assert set(shown["text"]) == {"Pack test: new recall letters", "Pack test: Harbour View's own clinic"}
        text = flat(pdf_text(exports.render(practice, "pdf")))
        assert "Pack test: Harbour View's own clinic" in text and "Pack test: new recall letters" in text
        other = exports.build_pack(own, config, BOARD, "Z90002")
        assert list(charts.notes_on_chart(_evidence(other))["text"]) == ["Pack test: new recall letters"]

        # the marker is drawn: the chart differs from one without the note
        ev = _evidence(fed)
        bare = charts.indicator_chart(type(ev)(**{**ev.__dict__, "notes": None}), None)
        assert charts.indicator_chart(ev, None) != bare
    finally:
        notes.remove_note(own, BOARD, everyone, config)
        notes.remove_note(own, BOARD, one, config)


def _spc_sheet(data: bytes, code: str) -> pd.DataFrame:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    sheet = next(s for s in wb.worksheets if s.title.lower().startswith("control chart"))
    rows = list(sheet.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Code")
    frame = pd.DataFrame(rows[head + 1:], columns=rows[head])
    return frame[frame["Code"] == code]


def _variation(board_pack, code=CODE) -> str:
    card = board_pack.scorecard.frame
    return card.loc[card["Code"] == code, "Variation"].iloc[0]


def test_a_rebase_note_restarts_the_limits_of_the_pdf_chart_and_its_data(own, config, monkeypatch):
    _pdf_without_pictures(monkeypatch)
    # the demo's HbA1c rose a year and a half before its last month: limits restarted there judge the new level
    month = (pd.Timestamp(store.latest_month(own)) - pd.DateOffset(months=16)).date()
    before = exports.build_pack(own, config, BOARD, None)
    ev0 = _evidence(before)
    assert ev0.result.spc.points["segment"].nunique() == 1
    judged_before = _variation(build_board_pack(own, config, BOARD))
    nid = notes.add_note(own, BOARD, config, indicator_code=CODE, month=month, text="Pack test: recall restarted",
                         rebase=True)
    try:
        # the board pack reads the store the note recalculated: its scorecard judges from the new limits
        assert _variation(build_board_pack(own, config, BOARD)) != judged_before
        after = exports.build_pack(own, config, BOARD, None)
        ev1 = _evidence(after)
        p0, p1 = ev0.result.spc.points, ev1.result.spc.points
        assert p1["segment"].nunique() == 2
        since = pd.to_datetime(p1.index) >= pd.Timestamp(month)
        assert not p1.loc[since, "mean"].equals(p0.loc[since, "mean"])  # new limits from the rebase month
        assert p1.loc[~since, "mean"].nunique() == 1 and p1.loc[since, "mean"].nunique() == 1

        text = flat(pdf_text(exports.render(after, "pdf")))
        assert f"{month:%B %Y}: Pack test: recall restarted (rebase: the limits restart from this month)." in text
        assert f"Limits Recalculated from {month:%B %Y} (rebase note), as on the screens." in text
        assert "rebase note" not in flat(pdf_text(exports.render(before, "pdf")))
        assert charts.indicator_chart(ev1, None) != charts.indicator_chart(ev0, None)

        old, new = _spc_sheet(exports.render(before, "xlsx"), CODE), _spc_sheet(exports.render(after, "xlsx"), CODE)
        months = pd.to_datetime(new["Month"]) >= pd.Timestamp(month)
        assert not new.loc[months.values, "Upper process limit"].reset_index(drop=True).equals(
            old.loc[months.values, "Upper process limit"].reset_index(drop=True))
    finally:
        notes.remove_note(own, BOARD, nid, config)


# ---------------------------------------------------------------------------------------------------------------
# The action loop in-process (AppTest): raised from an attention item, updated by its owner, in the board pack
# ---------------------------------------------------------------------------------------------------------------
def _app(role: str, page: str | None = None, query: dict | None = None):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.apptest_util import DEMO_EMAILS

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=240)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.session_state["demo_user"] = DEMO_EMAILS[role]
    (at.switch_page(page) if page else at).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_apptest_an_attention_item_raises_an_action_its_owner_updates_and_the_board_pack_lists(own, config,
                                                                                              monkeypatch):
    from urllib.parse import parse_qs

    from ui import board_pack as board_pack_ui

    monkeypatch.setenv("DATABASE_URL", own.url.render_as_string(hide_password=False))
    monkeypatch.chdir(ROOT)
    overview = _app("board")
    link = next(p.proto for p in overview.get("page_link") if p.proto.label == "Raise an action")
    query = {k: v[0] for k, v in parse_qs(link.query_string).items()}
    assert query["title"] and query["attention"] and query["indicator"] in config.indicator_codes

    raised = _app("board", "pages/actions.py", query)  # the link's one click: the form is filled in
    assert next(t for t in raised.text_input if t.label == "Title").value == query["title"]
    assert next(t for t in raised.text_input if t.label.startswith("Raised from")).value == query["attention"]
    next(s for s in raised.selectbox if s.label == "Owner").set_value(LEAD.email)
    next(b for b in raised.button if b.label == "Raise the action").click()
    raised.run()
    assert not raised.exception, [e.value for e in raised.exception]
    action = next(r for r in act.list_actions(own, BOARD).to_dict("records") if r["title"] == query["title"]
                  and r["attention_key"] == query["attention"])
    assert (action["owner_email"], action["indicator_code"], action["practice_code"]) == (
        LEAD.email, query["indicator"], query.get("action_practice"))

    owner = _app("practice_lead", "pages/actions.py", {"action": str(action["id"])})
    next(s for s in owner.selectbox if s.label == "Status").set_value("in_progress")
    next(t for t in owner.text_area if t.label == "Comment").input("Clinic booked for next week")
    next(b for b in owner.button if b.label == "Save the update").click()
    owner.run()
    assert not owner.exception, [e.value for e in owner.exception]
    assert act.get_action(own, BOARD, action["id"])["status"] == "in_progress"
    assert list(act.history(own, BOARD, action["id"])["comment"])[-1] == "Clinic booked for next week"

    data = board_pack_ui.builder(BOARD, store.latest_month(own), "xlsx")()  # what the overview's button runs
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Actions due before next"]
    head = [c.value for c in sheet[1]]
    row = next(dict(zip(head, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == action["id"])
    assert (row["Action"], row["Status"], row["Owner"]) == (query["title"], "In progress", LEAD.email)
    act.update_action(own, BOARD, action["id"], status="dropped", comment="test over")
