"""The monthly board pack: the command line's PDF read back (each section's heading and bookmark, the store's
figures), the workbook (a sheet per section, typed cells), "what changed" finding a special cause planted in one
month, who may have it (board and admin only), the audit trail, and the overview's buttons. Both backends.

Exports write to the audit log and one test changes a month's figures, so these run on a demo federation of this
module's own (the shared demo database is read only).
"""
from __future__ import annotations

import io
import time
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from data_layer import engine as calc
from data_layer import models as m
from data_layer.cli import main as cli_main
from data_layer.db import get_engine
from data_layer.exports.board_pack import CHANGE_NEW_SPECIAL, build_board_pack, export_board_pack, render
from data_layer.exports.pack_model import NoData
from data_layer.measures import store
from data_layer.measures.refresh import refresh as refresh_measures
from data_layer.scope import AccessDenied, Viewer

BOARD = Viewer("board@demo.invalid", "board", name="Dr Bea Board")
LEAD = Viewer("lead@demo.invalid", "practice_lead", ("Z90001",), name="Pat Lead")
VIEWER = Viewer("viewer@demo.invalid", "viewer")
SECTIONS = ("What needs attention", "What changed since the previous month", "Aims scorecard",
            "Practices by measure", "Actions", "Data completeness", "Notes added this month", "Sources")
PLANT_PRACTICE, PLANT_MEASURE = "Z90003", "HYP_BP"  # an imported (QOF) measure, so the planted figure is kept

_own: dict[str, str] = {}


@pytest.fixture
def own_url(demo_copy, backend):
    if backend not in _own:
        _own[backend] = demo_copy(backend)
    return _own[backend]


@pytest.fixture
def own(own_url):
    return get_engine(own_url)


def _exports(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(m.AuditEvent.actor, m.AuditEvent.detail).where(
            m.AuditEvent.action == "export").order_by(m.AuditEvent.id)).all()]


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _outline(data: bytes) -> list[str]:
    out = []

    def walk(items):
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                out.append(it.title)

    walk(PdfReader(io.BytesIO(data)).outline)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The command line's PDF
# ---------------------------------------------------------------------------------------------------------------
def test_cli_pdf_has_every_section_and_the_stores_figures(own, own_url, config, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", own_url)
    before = len(_exports(own))
    out = tmp_path / "board.pdf"
    started = time.perf_counter()
    assert cli_main(["export", "board-pack", "--format", "pdf", "--out", str(out), "--as", BOARD.email]) == 0
    seconds = time.perf_counter() - started
    said = capsys.readouterr().out
    with capsys.disabled():
        print(f"\nboard pack PDF for the demo federation via the command line: {seconds:.2f} s")
    assert "board pack" in said and BOARD.email in said
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    bookmarks = _outline(data)
    latest = store.latest_month(own)
    assert f"{latest:%B %Y}" in text and config.name in text and BOARD.email in text
    for i, heading in enumerate(SECTIONS, start=1):
        assert f"{i}. {heading}" in text, heading
        assert f"{i}. {heading}" in bookmarks, heading
    # the federation's stored figure for two measures, as the screens show them
    ev = store.evaluations(own, "federation", None, latest, ["FFT_POSITIVE", "HYP_BP"]).set_index("indicator_code")
    for code in ("FFT_POSITIVE", "HYP_BP"):
        shown = calc.format_value(float(ev.loc[code, "value"]), config.indicator(code).unit)
        assert shown in text, (code, shown)
    # words beside the icons
    assert "✖ Off target" in text or "✔ On target" in text
    events = _exports(own)
    assert len(events) == before + 1
    assert events[-1][0] == BOARD.email and "Board pack (PDF)" in events[-1][1]


# ---------------------------------------------------------------------------------------------------------------
# The workbook
# ---------------------------------------------------------------------------------------------------------------
def test_xlsx_has_a_sheet_per_section_with_typed_cells(own, config):
    result = export_board_pack(own, config, BOARD, "xlsx", channel="test")
    wb = openpyxl.load_workbook(io.BytesIO(result.content))
    for sheet in ("Contents", "Cover", "What needs attention", "What changed", "Aims scorecard",
                  "Practices by measure", "Actions overdue", "Actions due before next", "Actions done since last",
                  "Data completeness", "Notes this month", "Sources"):
        assert sheet in wb.sheetnames, sheet
    ws = wb["Aims scorecard"]
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]
    latest = store.latest_month(own)
    ev = store.evaluations(own, "federation", None, latest, None).set_index("indicator_code")
    fft = next(r for r in rows if r["Code"] == "FFT_POSITIVE")
    assert isinstance(fft["Latest"], float) and fft["Latest"] == pytest.approx(float(ev.loc["FFT_POSITIVE", "value"]))
    assert isinstance(fft["Target"], (int, float))
    assert hasattr(fft["Month"], "year") and fft["Month"].month == latest.month
    assert any(w in str(fft["Status"]) for w in ("On target", "Near target", "Off target"))
    changes = wb["What changed"]
    ch_head = [c.value for c in changes[1]]
    now_col = ch_head.index("Now")
    values = [r[now_col].value for r in changes.iter_rows(min_row=2)]
    assert values and all(isinstance(v, (int, float)) for v in values if v is not None)
    sheets = wb["Data completeness"]
    assert [c.value for c in sheets[1]][:3] == ["Dataset", "Month due", "Due by"]
    assert all(isinstance(r[3].value, int) for r in sheets.iter_rows(min_row=2))


# ---------------------------------------------------------------------------------------------------------------
# What changed since the previous month
# ---------------------------------------------------------------------------------------------------------------
def test_what_changed_finds_a_special_cause_planted_in_one_month(own, config):
    latest = store.latest_month(own)
    previous = (pd.Timestamp(latest) - pd.DateOffset(months=1)).date()
    ev = store.evaluations(own, "practice", [PLANT_PRACTICE], latest, [PLANT_MEASURE]).iloc[0]
    if str(ev["variation"]).startswith(("improvement", "concern")):
        pytest.skip("the planted series is already special cause")  # the demo is seeded: this does not happen
    pack = build_board_pack(own, config, BOARD)
    found = pack.changes.frame
    name = calc.practices(own, BOARD, config).set_index("code").loc[PLANT_PRACTICE, "name"]
    planted = (found["Change"] == CHANGE_NEW_SPECIAL) & (found["Where"] == name) & (found["Code"] == PLANT_MEASURE)
    assert not planted.any()

    with own.begin() as conn:  # the latest month's figure falls far below anything seen: a point outside limits
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == PLANT_PRACTICE)).scalar_one()
        where = (m.IndicatorValue.practice_id == pid, m.IndicatorValue.indicator_code == PLANT_MEASURE,
                 m.IndicatorValue.period_start == latest)
        original = conn.execute(select(m.IndicatorValue.numerator).where(*where)).scalar_one()
        conn.execute(update(m.IndicatorValue).where(*where).values(numerator=1))
    refresh_measures(own, config)
    try:
        now = store.evaluations(own, "practice", [PLANT_PRACTICE], latest, [PLANT_MEASURE]).iloc[0]
        before = store.evaluations(own, "practice", [PLANT_PRACTICE], previous, [PLANT_MEASURE]).iloc[0]
        assert now["variation"] == "concern_low" and not str(before["variation"]).startswith("concern")
        pack = build_board_pack(own, config, BOARD)
        found = pack.changes.frame
        row = found[(found["Change"] == CHANGE_NEW_SPECIAL) & (found["Where"] == name)
                    & (found["Code"] == PLANT_MEASURE)]
        assert len(row) == 1
        assert row["Now"].iloc[0] == pytest.approx(float(now["value"]))
        assert row["Before"].iloc[0] == pytest.approx(float(before["value"]))
        assert "concern" in row["What it means"].iloc[0].lower() and "Concern" in row["Now in words"].iloc[0]
    finally:
        with own.begin() as conn:  # put the demo back for the other tests
            conn.execute(update(m.IndicatorValue).where(*where).values(numerator=original))
        refresh_measures(own, config)


# ---------------------------------------------------------------------------------------------------------------
# Actions and notes
# ---------------------------------------------------------------------------------------------------------------
def test_an_action_due_before_the_next_meeting_and_a_new_note_are_in_the_pack(own, config):
    from data_layer.governance import actions, notes

    title, text = "Board pack test: recall patients with raised blood pressure", "Board pack test: new BP clinic"
    aid = actions.add_action(own, BOARD, config, title=title, owner_email=LEAD.email, practice_code="Z90001",
                             indicator_code="HYP_BP", due_on=date.today() + timedelta(days=10))
    nid = notes.add_note(own, BOARD, config, indicator_code="HYP_BP", month=store.latest_month(own), text=text)
    pack = build_board_pack(own, config, BOARD)
    due = next(t for t in pack.actions if t.name == "actions_due_before_next").frame
    assert aid in set(due["ID"]) and title in set(due["Action"])
    overdue = next(t for t in pack.actions if t.name == "actions_overdue").frame
    assert aid not in set(overdue["ID"])
    assert text in set(pack.notes.frame["Note"])
    pdf_text = _pdf_text(render(pack, "pdf"))
    assert "Board pack test: recall patients" in pdf_text and text in pdf_text
    wb = openpyxl.load_workbook(io.BytesIO(render(pack, "xlsx")))
    ws = wb["Actions due before next"]
    head = [c.value for c in ws[1]]
    row = next(dict(zip(head, [c.value for c in r])) for r in ws.iter_rows(min_row=2) if r[0].value == aid)
    assert row["Action"] == title and hasattr(row["Due"], "year")
    notes.remove_note(own, BOARD, nid, config)


# ---------------------------------------------------------------------------------------------------------------
# Who may have it, and nothing to put in it
# ---------------------------------------------------------------------------------------------------------------
def test_practice_lead_and_viewer_are_refused_and_nothing_is_audited(own, own_url, config, monkeypatch, tmp_path,
                                                                      capsys):
    before = len(_exports(own))
    for who in (LEAD, VIEWER):
        with pytest.raises(AccessDenied, match="board members and administrators"):
            export_board_pack(own, config, who, "pdf")
    monkeypatch.setenv("DATABASE_URL", own_url)
    out = tmp_path / "x.pdf"
    cases = [(["--as", LEAD.email], "refused"), (["--as", VIEWER.email], "refused"),
             (["--as", "nobody@nowhere.invalid"], "no active user"), (["--period-end", "2001-01"], "no figures"),
             (["--period-end", "March"], "YYYY-MM")]
    for extra, message in cases:
        code = cli_main(["export", "board-pack", "--format", "pdf", "--out", str(out), *extra])
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err, (extra, err)
    assert not out.exists()
    assert len(_exports(own)) == before


def test_no_figures_is_a_plain_message(empty_engine, empty_url, config, monkeypatch, tmp_path, capsys):
    with pytest.raises(NoData, match="import data first"):
        build_board_pack(empty_engine, config, BOARD)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    assert cli_main(["export", "board-pack", "--format", "xlsx", "--out", str(tmp_path / "b.xlsx")]) == 2
    assert "no figures held" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------
# The overview's buttons
# ---------------------------------------------------------------------------------------------------------------
def test_overview_offers_the_board_pack_to_the_board_only(own, own_url, config, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import ui.auth
    from tests.conftest import ROOT
    from ui import board_pack as board_pack_ui

    monkeypatch.setenv("DATABASE_URL", own_url)
    monkeypatch.chdir(ROOT)
    labels = {}
    for who in (BOARD, LEAD):
        monkeypatch.setattr(ui.auth, "current_viewer", lambda *a, _w=who, **k: _w)
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        labels[who.role] = [b.proto.label for b in at.get("download_button")]
    assert "Board pack (PDF)" in labels["board"] and "Board pack (Excel)" in labels["board"]
    assert not any("Board pack" in x for x in labels["practice_lead"])
    # what the button runs on click: builds the file and audits it as the person, from the overview
    before = len(_exports(own))
    data = board_pack_ui.builder(BOARD, store.latest_month(own), "xlsx")()
    assert data[:2] == b"PK"
    events = _exports(own)
    assert len(events) == before + 1 and events[-1][0] == BOARD.email and "from the overview" in events[-1][1]
