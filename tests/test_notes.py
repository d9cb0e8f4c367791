"""Notes on the charts: added and listed from the command line, read per series (a practice's charts show the notes
on every practice plus its own), rebase months for the measure store, which a rebase note refreshes; role rules
and an audit row for every change. Both backends."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import delete

from data_layer import models as m
from data_layer.governance import notes
from data_layer.measures.refresh import STALE_KEY, stale_reason
from tests.test_actions import BOARD, LEAD, VIEWER, audit_rows, count, gov_engine, gov_url, run  # noqa: F401


def _clear_stale(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(m.AppMeta).where(m.AppMeta.key == STALE_KEY))


def _last_refresh(engine) -> str | None:
    from sqlalchemy import select

    with engine.connect() as conn:
        return conn.execute(select(m.MeasureRefresh.reason).order_by(m.MeasureRefresh.id.desc()).limit(1)).scalar()


def test_cli_adds_and_lists_notes_with_an_audit_row(gov_engine, capsys):
    code, out, err = run(capsys, "notes", "add", "--indicator", "fft_positive", "--month", "2025-10", "--text",
                         "New phone system", "--as", BOARD.email)
    assert code == 0, err
    assert out.strip() == "Note 1 added to FFT_POSITIVE 2025-10 (every practice)"
    code, out, err = run(capsys, "notes", "add", "--indicator", "FFT_POSITIVE", "--practice", "Z90001", "--month",
                         "2025-11", "--text", "Recall project started", "--rebase", "--as", LEAD.email)
    assert code == 0, err
    assert out.strip() == ("Note 2 added to FFT_POSITIVE 2025-11 at Z90001: the SPC limits restart from this month")

    code, out, _ = run(capsys, "notes", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["id"], r["practice_code"], r["month"], r["text"], r["rebase"], r["created_by"]) for r in rows] == [
        (1, None, "2025-10-01", "New phone system", False, BOARD.email),
        (2, "Z90001", "2025-11-01", "Recall project started", True, LEAD.email)]
    code, out, _ = run(capsys, "notes", "list")
    assert "Recall project started" in out and "rebase" in out and "(all)" in out

    added = audit_rows(gov_engine, "note_added")
    assert [(a.actor, a.practice_code) for a in added] == [(BOARD.email, None), (LEAD.email, "Z90001")]
    assert "FFT_POSITIVE 2025-11 (rebase): Recall project started" in added[1].detail


@pytest.mark.parametrize("args, message", [
    (["--indicator", "NOT_A_MEASURE"], "unknown indicator 'NOT_A_MEASURE'"),
    (["--practice", "Z99999"], "unknown practice Z99999"),
    (["--month", "2025-13"], "the month '2025-13' is not a month: write it as YYYY-MM"),
    (["--month", "October 2025"], "is not a month"),
    (["--text", "   "], "a note needs its text"),
    (["--as", VIEWER.email], "is a viewer and may read notes but not add or remove them"),
    (["--as", LEAD.email, "--practice", "Z90002"], "may add notes only to their own practice's charts (Z90001)"),
    (["--as", LEAD.email], "not to every practice's charts"),
    (["--as", "stranger@demo.invalid"], "no active user has that email"),
])
def test_cli_refuses_bad_notes_with_exit_2_and_writes_nothing(gov_engine, capsys, args, message):
    base = {"--indicator": "HYP_BP", "--month": "2025-10", "--text": "Practice nurse left"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    code, _, err = run(capsys, "notes", "add", *[x for kv in base.items() for x in kv])
    assert code == 2 and err.startswith("error: ") and message in err and "Traceback" not in err
    assert count(gov_engine, m.ChartNote) == 0 and audit_rows(gov_engine, "note_added") == []


def test_the_same_note_twice_is_refused(gov_engine, capsys):
    args = ("notes", "add", "--indicator", "HYP_BP", "--month", "2025-10", "--text", "Practice nurse left")
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 2 and "that note is already on HYP_BP for 2025-10 (note 1)" in err
    assert count(gov_engine, m.ChartNote) == 1


def test_each_series_shows_the_notes_on_every_practice_and_its_own(gov_engine, config):
    add = lambda month, text, practice=None, rebase=False, code="HYP_BP": notes.add_note(  # noqa: E731
        gov_engine, BOARD, config, indicator_code=code, month=month, text=text, practice_code=practice, rebase=rebase)
    everyone = add("2025-03", "New phone system")
    own = add("2025-05", "Nurse practitioner joined", "Z90001")
    add("2025-04", "Merger talks", "Z90002")
    add("2025-01", "Not this measure", code="DM_HBA1C")

    assert list(notes.notes_for(gov_engine, "HYP_BP")["id"]) == [everyone]
    z1 = notes.notes_for(gov_engine, "HYP_BP", "Z90001")
    assert list(z1["id"]) == [everyone, own] and list(z1["practice_code"]) == [None, "Z90001"]
    assert list(z1["month"]) == [date(2025, 3, 1), date(2025, 5, 1)]
    assert notes.rebase_months(gov_engine, "HYP_BP", "Z90001") == []

    add("2025-08", "New recall system: limits restart", rebase=True)
    add("2025-06", "Z90001 changed its clinical system", "Z90001", rebase=True)
    add(date(2025, 8, 17), "Same month, another rebase", "Z90001", rebase=True)  # any day: its month
    assert notes.rebase_months(gov_engine, "HYP_BP") == [date(2025, 8, 1)]
    assert notes.rebase_months(gov_engine, "HYP_BP", "Z90001") == [date(2025, 6, 1), date(2025, 8, 1)]
    assert notes.rebase_months(gov_engine, "HYP_BP", "Z90002") == [date(2025, 8, 1)]
    assert notes.all_rebase_months(gov_engine) == {("HYP_BP", None): [date(2025, 8, 1)],
                                                   ("HYP_BP", "Z90001"): [date(2025, 6, 1), date(2025, 8, 1)]}


def test_adding_or_removing_a_rebase_note_refreshes_the_measure_store(gov_engine, config, capsys):
    _clear_stale(gov_engine)
    plain = notes.add_note(gov_engine, BOARD, config, indicator_code="HYP_BP", month="2025-10", text="Just a note")
    assert stale_reason(gov_engine) is None  # a plain note changes no figure
    notes.remove_note(gov_engine, BOARD, plain)
    assert stale_reason(gov_engine) is None

    code, out, err = run(capsys, "notes", "add", "--indicator", "HYP_BP", "--month", "2025-10", "--text", "Rebase",
                       "--rebase", "--as", BOARD.email)
    assert code == 0, err
    rebase = int(out.split()[1])  # "Note N added to ..."
    # the note refreshes the store itself once it is saved: nothing is left stale, and the refresh says why it ran
    assert stale_reason(gov_engine) is None and _last_refresh(gov_engine) == "rebase note added on HYP_BP 2025-10"
    code, out, err = run(capsys, "notes", "remove", str(rebase), "--as", BOARD.email)
    assert code == 0 and out.strip() == f"Note {rebase} removed", err
    assert stale_reason(gov_engine) is None and _last_refresh(gov_engine) == "rebase note removed from HYP_BP 2025-10"
    plain_refreshes = _last_refresh(gov_engine)
    notes.add_note(gov_engine, BOARD, config, indicator_code="DM_HBA1C", month="2025-09", text="Rebase, refreshed later",
                   rebase=True, refresh=False)
    assert stale_reason(gov_engine) == "rebase note added on DM_HBA1C 2025-09"  # marked, for the caller's refresh
    assert _last_refresh(gov_engine) == plain_refreshes
    assert notes.rebase_months(gov_engine, "HYP_BP") == []
    removed = audit_rows(gov_engine, "note_removed")
    assert [(r.actor, r.detail) for r in removed] == [
        (BOARD.email, f"note {plain} on HYP_BP 2025-10: Just a note"),
        (BOARD.email, f"note {rebase} on HYP_BP 2025-10 (rebase): Rebase")]


def test_removing_is_refused_for_roles_that_may_not_and_for_unknown_notes(gov_engine, config, capsys):
    note = notes.add_note(gov_engine, BOARD, config, indicator_code="HYP_BP", month="2025-10", text="Federation note")
    code, _, err = run(capsys, "notes", "remove", str(note), "--as", LEAD.email)
    assert code == 2 and "practice lead and may add notes only to their own practice's charts" in err
    code, _, err = run(capsys, "notes", "remove", "99")
    assert code == 2 and "there is no note 99" in err
    assert count(gov_engine, m.ChartNote) == 1 and audit_rows(gov_engine, "note_removed") == []
