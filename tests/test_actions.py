"""Actions: raised, updated and listed from the command line and the Actions page, with the role rules (board and
admins act on every practice, a practice lead on their own practice's actions, owners on their own, viewers read),
overdue worked out from the due date, a history of every change and an audit row for each. Both backends."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data_layer import demo
from data_layer import models as m
from data_layer.cli import main
from data_layer.db import get_engine
from data_layer.governance import actions as act
from data_layer.scope import Viewer
from tests.apptest_util import DEMO_EMAILS, visible_text
from tests.conftest import ROOT

BOARD = Viewer(DEMO_EMAILS["board"], "board")
ADMIN = Viewer(DEMO_EMAILS["admin"], "admin")
LEAD = Viewer(DEMO_EMAILS["practice_lead"], "practice_lead", ("Z90001",))
VIEWER = Viewer(DEMO_EMAILS["viewer"], "viewer")
TODAY = date.today()
SOON = (TODAY + timedelta(days=10)).isoformat()


@pytest.fixture
def gov_url(empty_url, config, monkeypatch):
    """A small demo federation (3 practices, Z90001-Z90003, and one demo user per role) that tests may change."""
    demo.build(get_engine(empty_url), config, n_practices=3, months=6)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    return empty_url


@pytest.fixture
def gov_engine(gov_url):
    return get_engine(gov_url)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def audit_rows(engine, action: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(m.AuditEvent.actor, m.AuditEvent.practice_code, m.AuditEvent.detail)
                            .where(m.AuditEvent.action == action).order_by(m.AuditEvent.id)).all()


# --------------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------------
def test_cli_raises_lists_and_updates_an_action_with_history_and_audit(gov_engine, capsys):
    code, out, err = run(capsys, "actions", "add", "--title", "Recall patients with HbA1c over 58", "--owner",
                         "LEAD@demo.invalid", "--due", SOON, "--practice", "z90001", "--indicator", "DM_HBA1C",
                         "--statement", "Monitoring and improving outcomes", "--as", BOARD.email)
    assert code == 0, err
    assert out.startswith("Action 1 raised: Recall patients with HbA1c over 58 (owner lead@demo.invalid, due ")

    code, out, err = run(capsys, "actions", "list", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert row["status"] == "open" and row["overdue"] is False and row["due_on"] == SOON
    assert (row["owner_email"], row["practice_code"], row["indicator_code"], row["quality_statement"]) == (
        "lead@demo.invalid", "Z90001", "DM_HBA1C", "Monitoring and improving outcomes")
    assert row["created_by"] == BOARD.email

    code, out, err = run(capsys, "actions", "update", "1", "--status", "in progress", "--comment",
                         "Recall list sent to the nurses", "--as", LEAD.email)
    assert code == 0, err
    assert out.strip() == "Action 1 updated: status Open → In progress"
    code, out, _ = run(capsys, "actions", "list", "--status", "in_progress")
    assert "In progress" in out and "Recall patients" in out
    code, out, _ = run(capsys, "actions", "list", "--status", "done")
    assert code == 0 and out.strip() == "No actions with those filters."

    hist = act.history(gov_engine, BOARD, 1)
    assert list(hist["by"]) == [BOARD.email, LEAD.email]
    assert hist["comment"].iloc[0] == "Action raised" and "owner lead@demo.invalid" in hist["what_changed"].iloc[0]
    assert hist["what_changed"].iloc[1] == "status Open → In progress"
    assert hist["comment"].iloc[1] == "Recall list sent to the nurses"
    assert hist["at"].iloc[1] >= hist["at"].iloc[0]

    [added] = audit_rows(gov_engine, "action_added")
    assert added.actor == BOARD.email and added.practice_code == "Z90001" and "Recall patients" in added.detail
    [updated] = audit_rows(gov_engine, "action_updated")
    assert updated.actor == LEAD.email and updated.practice_code == "Z90001"
    assert "status Open → In progress" in updated.detail


@pytest.mark.parametrize("args, message", [
    (["--owner", "nobody@demo.invalid"], "unknown owner nobody@demo.invalid"),
    (["--practice", "Z99999"], "unknown practice Z99999"),
    (["--indicator", "NOT_A_MEASURE"], "unknown indicator NOT_A_MEASURE"),
    (["--due", (TODAY - timedelta(days=1)).isoformat()], "is in the past"),
    (["--due", "31/01/2027"], "is not a date: write it as YYYY-MM-DD"),
    (["--statement", "Being nice"], "unknown quality statement 'Being nice'"),
    (["--as", VIEWER.email], "viewer@demo.invalid is a viewer and may read actions but not raise or change them"),
    (["--as", LEAD.email, "--practice", "Z90002"],
     "may raise actions only on their own practice (Z90001), not on practice Z90002"),
    (["--as", LEAD.email], "may raise actions only on their own practice (Z90001), not on no single practice"),
    (["--as", "stranger@demo.invalid"], "--as stranger@demo.invalid: no active user has that email"),
    (["--owner", VIEWER.email], "viewer@demo.invalid is a viewer and could not update the action"),
])
def test_cli_add_refuses_bad_input_with_exit_2_and_a_plain_message_and_writes_nothing(gov_engine, capsys, args,
                                                                                       message):
    base = {"--title": "Review the recall", "--owner": LEAD.email, "--due": SOON}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    code, out, err = run(capsys, "actions", "add", *[x for kv in base.items() for x in kv])
    assert code == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert count(gov_engine, m.Action) == 0 and count(gov_engine, m.ActionUpdate) == 0
    assert audit_rows(gov_engine, "action_added") == []


def test_cli_update_and_list_refuse_unknown_status_action_and_practice(gov_engine, capsys):
    assert run(capsys, "actions", "add", "--title", "T", "--owner", BOARD.email, "--due", SOON,
               "--practice", "Z90002")[0] == 0
    code, _, err = run(capsys, "actions", "update", "1", "--status", "finished")
    assert code == 2 and "unknown status 'finished': use one of open, in_progress, done, dropped" in err
    code, _, err = run(capsys, "actions", "list", "--status", "closed")
    assert code == 2 and "unknown status 'closed'" in err
    code, _, err = run(capsys, "actions", "list", "--practice", "Z99999")
    assert code == 2 and "unknown practice Z99999" in err
    code, _, err = run(capsys, "actions", "update", "7", "--status", "done")
    assert code == 2 and "there is no action 7" in err
    code, _, err = run(capsys, "actions", "update", "1", "--status", "open")
    assert code == 2 and "nothing to change on action 1: its status is already open" in err
    # a practice lead may not change another practice's action they do not own; a viewer changes nothing
    code, _, err = run(capsys, "actions", "update", "1", "--status", "done", "--as", LEAD.email)
    assert code == 2 and "lead@demo.invalid may not change action 1" in err
    code, _, err = run(capsys, "actions", "update", "1", "--status", "done", "--as", VIEWER.email)
    assert code == 2 and "is a viewer and may read actions but not change them" in err
    assert count(gov_engine, m.ActionUpdate) == 1  # only "raised"
    assert act.get_action(gov_engine, BOARD, 1)["status"] == "open"


def test_python_m_data_layer_runs_the_actions_command(gov_url):
    env = {**os.environ, "DATABASE_URL": gov_url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "data_layer", "actions", "add", "--title", "Check the fridge log",
                           "--owner", ADMIN.email, "--due", "2020-02-30"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 2 and "--due '2020-02-30' is not a date" in done.stderr
    done = subprocess.run([sys.executable, "-m", "data_layer", "actions", "list"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "No actions yet."


# --------------------------------------------------------------------------------------------------------------------
# Role rules and derived overdue
# --------------------------------------------------------------------------------------------------------------------
def _add(engine, config, viewer=BOARD, **kw):
    values = {"title": "An action", "owner_email": LEAD.email, "due_on": TODAY + timedelta(days=30), **kw}
    return act.add_action(engine, viewer, config, **values)


def test_who_may_raise_update_and_read(gov_engine, config):
    own = _add(gov_engine, config, LEAD, practice_code="Z90001", title="Lead's own")
    other = _add(gov_engine, config, ADMIN, practice_code="Z90002", owner_email=BOARD.email, title="Other practice")
    owned = _add(gov_engine, config, BOARD, practice_code="Z90003", owner_email=LEAD.email, title="Owned by the lead")
    federation = _add(gov_engine, config, BOARD, owner_email=BOARD.email, title="Federation-wide")

    # board and admins read everything; a lead reads their practice, what they own and what is on no practice
    assert set(act.list_actions(gov_engine, BOARD)["id"]) == {own, other, owned, federation}
    assert set(act.list_actions(gov_engine, LEAD)["id"]) == {own, owned, federation}
    assert set(act.list_actions(gov_engine, VIEWER)["id"]) == {federation}
    assert act.get_action(gov_engine, LEAD, other) is None and act.history(gov_engine, LEAD, other).empty

    # the lead updates their own practice's action and one they own on another practice, not the rest
    act.update_action(gov_engine, LEAD, own, status="done", comment="Done")
    act.update_action(gov_engine, LEAD, owned, status="in_progress")
    for refused in (other, federation):
        with pytest.raises(act.ActionRefused):
            act.update_action(gov_engine, LEAD, refused, status="done")
    with pytest.raises(act.ActionRefused, match="viewer"):
        act.update_action(gov_engine, VIEWER, federation, status="done")
    act.update_action(gov_engine, ADMIN, other, status="dropped", comment="Merged into action 4")
    act.update_action(gov_engine, BOARD, federation, comment="Discussed at the November meeting")
    statuses = dict(zip(act.list_actions(gov_engine, BOARD)["id"], act.list_actions(gov_engine, BOARD)["status"]))
    assert statuses == {own: "done", other: "dropped", owned: "in_progress", federation: "open"}
    assert act.history(gov_engine, BOARD, federation)["comment"].iloc[-1] == "Discussed at the November meeting"
    assert len(audit_rows(gov_engine, "action_updated")) == 4


def test_overdue_is_derived_from_the_due_date_and_closes_with_done_or_dropped(gov_engine, config):
    last_month = TODAY - timedelta(days=30)
    late = _add(gov_engine, config, title="Late", due_on=last_month + timedelta(days=5), today=last_month)
    soon = _add(gov_engine, config, title="Soon", due_on=TODAY + timedelta(days=3))
    later = _add(gov_engine, config, title="Later", due_on=TODAY + timedelta(days=60))
    done_late = _add(gov_engine, config, title="Done late", due_on=last_month + timedelta(days=1), today=last_month)
    act.update_action(gov_engine, BOARD, done_late, status="done")

    df = act.list_actions(gov_engine, BOARD).set_index("id")
    assert df.loc[late, "overdue"] and not df.loc[done_late, "overdue"]
    assert not df.loc[soon, "overdue"] and df.loc[soon, "due_soon"] and not df.loc[later, "due_soon"]
    assert list(act.list_actions(gov_engine, BOARD, overdue=True)["id"]) == [late]
    assert list(act.due_actions(gov_engine, BOARD)["id"]) == [late, soon]
    # a week ago the late action was not yet overdue
    assert not act.list_actions(gov_engine, BOARD, today=last_month).set_index("id").loc[late, "overdue"]
    act.update_action(gov_engine, BOARD, late, status="dropped", comment="No longer needed")
    assert act.list_actions(gov_engine, BOARD, overdue=True).empty


# --------------------------------------------------------------------------------------------------------------------
# The Actions page
# --------------------------------------------------------------------------------------------------------------------
def open_actions(role: str, query: dict | None = None) -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.session_state["demo_user"] = DEMO_EMAILS[role]
    at.switch_page("pages/actions.py").run()  # straight to the page, as a link from another page opens it
    assert not at.exception, [e.value for e in at.exception]
    return at


def as_read(markdown: str) -> str:
    """Markdown as a reader sees it: escapes and invisible word joiners (ui.text.plain) removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def test_page_raises_an_action_from_query_params_and_its_owner_updates_it(gov_engine):
    query = {"indicator": "HYP_BP", "action_practice": "Z90001", "statement": "Monitoring and improving outcomes",
             "attention": "Missed target:Z90001:HYP_BP"}
    at = open_actions("board", query)
    form = {w.label: w for w in at.selectbox}
    assert form["Measure"].value == "HYP_BP" and form["Practice"].value == "Z90001"
    assert form["CQC quality statement"].value == "Monitoring and improving outcomes"
    assert next(t for t in at.text_input if t.label.startswith("Raised from")).value == "Missed target:Z90001:HYP_BP"
    next(t for t in at.text_input if t.label == "Title").input("Blood pressure recall clinic")
    form["Owner"].set_value(LEAD.email)
    next(b for b in at.button if b.label == "Raise the action").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Action 1 raised and assigned to lead@demo.invalid" in as_read(s.value) for s in at.success)
    [a] = act.list_actions(gov_engine, BOARD).to_dict("records")
    assert (a["title"], a["owner_email"], a["practice_code"], a["indicator_code"], a["quality_statement"],
            a["attention_key"], a["created_by"]) == ("Blood pressure recall clinic", LEAD.email, "Z90001", "HYP_BP",
                                                    "Monitoring and improving outcomes", "Missed target:Z90001:HYP_BP",
                                                    BOARD.email)
    assert "Blood pressure recall clinic" in visible_text(at)

    # the owner (the practice lead) opens the page and marks it done with a comment
    at = open_actions("practice_lead")
    status = next(s for s in at.selectbox if s.label == "Status")
    status.set_value("done")
    next(t for t in at.text_area if t.label == "Comment").input("Clinic held on Tuesday; 40 patients seen")
    next(b for b in at.button if b.label == "Save the update").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Action 1 updated: status Open → Done" in as_read(s.value) for s in at.success)
    assert act.get_action(gov_engine, BOARD, 1)["status"] == "done"
    shown = visible_text(at)
    assert "Clinic held on Tuesday; 40 patients seen" in shown and "status Open → Done" in shown
    assert [r.actor for r in audit_rows(gov_engine, "action_updated")] == [LEAD.email]


def test_page_is_read_only_for_a_viewer(gov_engine, config):
    _add(gov_engine, config, BOARD, owner_email=BOARD.email, title="Federation-wide review of access")
    at = open_actions("viewer", {"indicator": "HYP_BP"})
    assert not [b for b in at.button if b.label in ("Raise the action", "Save the update")]
    shown = visible_text(at)
    assert "Federation-wide review of access" in shown and "Viewers read actions" in shown


def test_page_shows_typed_text_as_text_never_as_markdown(gov_engine, config):
    hostile = "![x](http://tracker.invalid/p.png) [Sign in again](http://phish.invalid) **urgent**"
    action = _add(gov_engine, config, BOARD, owner_email=BOARD.email, title="Access review", description=hostile)
    act.update_action(gov_engine, BOARD, action, comment=hostile)
    at = open_actions("board", {"action": str(action)})
    markdown = "\n".join(md.value for md in at.markdown)
    assert r"!\[x\](http" in markdown  # the description, escaped: it reads as typed
    assert "![x](" not in markdown and "[Sign in again](" not in markdown and "**urgent**" not in markdown
    assert hostile in visible_text(at)  # the history table holds the comment as it was typed


# --------------------------------------------------------------------------------------------------------------------
# For packs
# --------------------------------------------------------------------------------------------------------------------
def test_board_pack_sections_overdue_due_before_next_meeting_and_done_since_last(gov_engine, config):
    meeting = TODAY + timedelta(days=20)
    overdue = _add(gov_engine, config, title="Overdue at the meeting", due_on=TODAY + timedelta(days=5))
    due = _add(gov_engine, config, title="Due before the next", due_on=meeting + timedelta(days=25))
    _add(gov_engine, config, title="Due after the next", due_on=meeting + timedelta(days=45))
    done = _add(gov_engine, config, title="Done", due_on=TODAY + timedelta(days=2))
    dropped = _add(gov_engine, config, title="Dropped", due_on=TODAY + timedelta(days=2))
    act.update_action(gov_engine, BOARD, done, status="done", comment="Finished")
    act.update_action(gov_engine, BOARD, done, comment="A later comment does not move the date it was done")
    act.update_action(gov_engine, BOARD, dropped, status="dropped")

    pack = act.board_pack_actions(gov_engine, BOARD, as_at=meeting)
    assert list(pack["overdue"]["id"]) == [overdue] and pack["overdue"]["overdue"].all()
    assert list(pack["due_before_next"]["id"]) == [due]
    assert list(pack["done_since_last"]["id"]) == [done]
    hist = act.history(gov_engine, BOARD, done)
    assert pack["done_since_last"]["done_at"].iloc[0] == hist.loc[hist["what_changed"] == "status Open → Done", "at"].item()
    # done before the previous meeting: not "done since the last"
    later = act.board_pack_actions(gov_engine, BOARD, as_at=meeting + timedelta(days=60),
                                   since=meeting + timedelta(days=30))
    assert later["done_since_last"].empty


def test_inspection_pack_lists_actions_by_quality_statement_in_cqc_order(gov_engine, config):
    well_led = _add(gov_engine, config, title="Governance review",
                    quality_statement="Governance, management and sustainability")
    safe = _add(gov_engine, config, title="Fridge checks", quality_statement="medicines optimisation")
    _add(gov_engine, config, title="No statement")
    df = act.actions_by_statement(gov_engine, BOARD)
    assert list(zip(df["id"], df["key_question"], df["quality_statement"])) == [
        (safe, "Safe", "Medicines optimisation"), (well_led, "Well-led", "Governance, management and sustainability")]


PANEL_SCRIPT = """
import streamlit as st

from data_layer.engine import Filters
from ui import actions as ua


def panel():
    viewer = st.session_state["viewer"]
    ua.actions_panel(viewer, Filters(), indicator=st.session_state.get("indicator"))
    ua.raise_action_link(indicator="HYP_BP", practice="Z90002", statement="Safeguarding", label="Raise on Z90002")
    ua.raise_action_link(indicator="HYP_BP", practice="Z90001", label="Raise on Z90001")


st.navigation([st.Page(panel, title="Panel", default=True),
               st.Page("pages/actions.py", title="Actions", url_path="actions")]).run()
"""


def test_panel_shows_overdue_and_due_soon_and_the_link_only_where_the_person_may_raise(gov_engine, config, tmp_path):
    # a page of its own beside the app's pages (links resolve against the entry point's folder)
    (tmp_path / "pages").symlink_to(ROOT / "pages")
    (tmp_path / "panel.py").write_text(PANEL_SCRIPT)
    last_month = TODAY - timedelta(days=30)
    _add(gov_engine, config, title="Late recall", due_on=last_month + timedelta(days=25), today=last_month,
         indicator_code="HYP_BP", practice_code="Z90001")
    _add(gov_engine, config, title="Soon audit", due_on=TODAY + timedelta(days=3), indicator_code="DM_HBA1C")
    _add(gov_engine, config, title="Far off", due_on=TODAY + timedelta(days=90))

    def run_panel(viewer, **state):
        at = AppTest.from_file(str(tmp_path / "panel.py"), default_timeout=120)
        at.session_state["viewer"] = viewer
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    at = run_panel(BOARD)
    [table] = at.dataframe
    assert list(table.value["Title"]) == ["Late recall", "Soon audit"]
    assert list(table.value["When"]) == ["Overdue by 5 days", "Due in 3 days"]
    assert "1 overdue, 1 due soon" in at.markdown[0].value
    links = [link.proto for link in at.get("page_link")]
    assert [link.label for link in links] == ["Every action", "Raise on Z90002", "Raise on Z90001"]
    assert "action_practice=Z90002" in links[1].query_string and "statement=Safeguarding" in links[1].query_string

    at = run_panel(BOARD, indicator="DM_HBA1C")
    assert list(at.dataframe[0].value["Title"]) == ["Soon audit"]
    lead = run_panel(LEAD)  # the lead reads Z90001's action and the federation's; raises only on Z90001
    assert [link.proto.label for link in lead.get("page_link")] == ["Every action", "Raise on Z90001"]
    viewer = run_panel(VIEWER)
    assert list(viewer.dataframe[0].value["Title"]) == ["Soon audit"]
    assert [link.proto.label for link in viewer.get("page_link")] == ["Every action"]
