"""The evidence register, from upload to the inspection pack: files checked by what they hold (an HTML page renamed
.pdf is refused) and by size, kept outside the web root under their SHA-256, opened only by people who may see that
practice's records (checked for every role, in the data layer and on the page), overdue reviews in "what needs
attention", every change and opening audited, and the command line's plain refusals. Both backends."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import delete, func, select

from data_layer import demo
from data_layer import evidence as ev
from data_layer import evidence_files as files
from data_layer import models as m
from data_layer import views
from data_layer.cli import main
from data_layer.db import get_engine
from data_layer.exports import inspection
from data_layer.exports.xlsx import render_xlsx
from data_layer.models_evidence import EvidenceItem
from data_layer.scope import Viewer
from tests.apptest_util import DEMO_EMAILS, app, visible_text
from tests.conftest import ROOT

BOARD = Viewer(DEMO_EMAILS["board"], "board")
ADMIN = Viewer(DEMO_EMAILS["admin"], "admin")
LEAD = Viewer(DEMO_EMAILS["practice_lead"], "practice_lead", ("Z90001",))
VIEWER = Viewer(DEMO_EMAILS["viewer"], "viewer")
TODAY = date.today()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert('x')</script></body></html>"


@pytest.fixture
def store(tmp_path, monkeypatch):
    directory = tmp_path / "evidence-store"
    monkeypatch.setenv("EVIDENCE_DIR", str(directory))
    return directory


@pytest.fixture
def reg_url(empty_url, config, store, monkeypatch):
    """A small demo federation (Z90001-Z90003, one demo user per role, the demo's evidence) that tests may change."""
    demo.build(get_engine(empty_url), config, n_practices=3, months=6)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    return empty_url


@pytest.fixture
def reg(reg_url):
    """The small demo without its evidence: each test adds what it needs."""
    engine = get_engine(reg_url)
    with engine.begin() as conn:
        conn.execute(delete(EvidenceItem))
    return engine


def add(engine, viewer=BOARD, **kw) -> int:
    values = dict(title="Fire risk assessment", quality_statement="Safe environments", document_type="risk assessment",
                  owner_email=BOARD.email, dated=TODAY - timedelta(days=400), review_due=TODAY - timedelta(days=35),
                  practice_code="Z90002", file_bytes=PDF, file_name="fire.pdf")
    values.update(kw)
    return ev.add_evidence(engine, viewer, **values)


def audit_rows(engine, action: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(m.AuditEvent.actor, m.AuditEvent.practice_code, m.AuditEvent.detail)
                            .where(m.AuditEvent.action == action).order_by(m.AuditEvent.id)).all()


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(EvidenceItem)).scalar_one()


def _zip(names: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in names.items():
            z.writestr(n, data)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------------------------
# What may be uploaded: by content, not by name
# --------------------------------------------------------------------------------------------------------------------
def test_the_register_keeps_documents_images_and_tables_by_what_they_hold():
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    wb.add_worksheet().write(0, 0, "IPC audit score")
    wb.close()
    cases = {
        ("policy.pdf", PDF): ".pdf",
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40): ".png",
        ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 40): ".jpg",
        ("minutes.docx", _zip({"[Content_Types].xml": "x", "word/document.xml": "<w/>"})): ".docx",
        ("audit.xlsx", buf.getvalue()): ".xlsx",
        ("minutes.txt", "PPG met on 3 March: you said, we did.\n".encode()): ".txt",
        ("checks.csv", b"check,done,next due\nfire alarm,2026-01-05,2026-02-05\n"): ".csv",
    }
    for (name, data), extension in cases.items():
        assert files.check_file(data, name).extension == extension, name
    # what a file is called does not decide what it is: a real PDF named .txt is a PDF, downloaded as .pdf
    kind = files.check_file(PDF, "notes.txt")
    assert kind.mime == "application/pdf" and files.download_name("notes.txt", kind.extension) == "notes.pdf"


@pytest.mark.parametrize("name,data,words", [
    ("policy.pdf", HTML, "web page or XML markup"),
    ("diagram.pdf", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', "markup"),
    ("audit.pdf", b"MZ\x90\x00" + b"\0" * 60, "a Windows program"),
    ("run.txt", b"\x7fELF\x02\x01\x01" + b"\0" * 20, "a Linux program"),
    ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "a script"),
    ("policy.docx", _zip({"word/document.xml": "<w/>", "word/vbaProject.bin": "macro"}), "macros"),
    ("bundle.docx", _zip({"a.exe": "MZ"}), "not a Word or Excel document"),
    ("form.pdf", PDF.replace(b"/Catalog", b"/Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
     "JavaScript"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 40, "old-style Office file"),
    ("empty.pdf", b"", "the file is empty"),
])
def test_files_that_could_run_or_are_not_documents_are_refused_in_words(name, data, words):
    with pytest.raises(files.FileRefused, match=words):
        files.check_file(data, name)


def test_a_file_over_the_size_limit_is_refused_saying_how_big_it_may_be(monkeypatch):
    monkeypatch.setenv("EVIDENCE_MAX_MB", "1")
    files.check_file(PDF + b"\n" * (1024 * 1024 - len(PDF)), "ok.pdf")
    with pytest.raises(files.FileRefused, match=r"the file is 1\.5 MB; the largest the register keeps is 1\.0 MB"):
        files.check_file(PDF + b"\n" * (1024 * 1024 // 2 * 3 - len(PDF)), "big.pdf")


def test_a_refused_upload_leaves_no_row_no_file_and_no_audit_entry(reg, store):
    before = sorted(p.name for p in store.rglob("*") if p.is_file())
    held = count(reg)
    with pytest.raises(ev.EvidenceError, match="renamed.pdf was not stored: the file holds web page"):
        add(reg, file_bytes=HTML, file_name="renamed.pdf")
    assert count(reg) == held
    assert sorted(p.name for p in store.rglob("*") if p.is_file()) == before
    assert audit_rows(reg, "evidence_added") == []


# --------------------------------------------------------------------------------------------------------------------
# Where files are kept
# --------------------------------------------------------------------------------------------------------------------
def test_a_file_is_stored_outside_the_web_root_under_its_hash_never_its_name(reg, store):
    item = add(reg, file_name="../../static/evil name.pdf")
    sha = hashlib.sha256(PDF).hexdigest()
    assert (store / sha[:2] / sha).read_bytes() == PDF
    stored = [p for p in store.rglob("*") if p.is_file()]
    assert all("evil" not in p.name and p.suffix == "" for p in stored)
    assert not (ROOT / "static").exists() or not any((ROOT / "static").rglob("*evil*"))
    row = ev.get_evidence(reg, BOARD, item)
    assert row["file_name"] == "evil name.pdf" and row["file_type"] == "application/pdf"  # only the download name
    # the same file uploaded twice is kept once
    add(reg, title="Fire risk assessment (copy)", file_name="again.pdf")
    assert len([p for p in store.rglob(sha)]) == 1


def test_without_evidence_dir_files_go_beside_the_sqlite_database_not_into_the_project(monkeypatch, tmp_path):
    from sqlalchemy import create_engine

    monkeypatch.delenv("EVIDENCE_DIR", raising=False)
    engine = create_engine(f"sqlite:///{tmp_path / 'fed.db'}")
    assert files.evidence_dir(engine) == (tmp_path / "evidence").resolve()
    pg = create_engine("postgresql+psycopg://u@127.0.0.1:1/x")
    assert files.evidence_dir(pg) == ROOT / "data" / "evidence"  # data/ is never served (and never committed)


def test_a_file_changed_on_disk_is_not_handed_out(reg, store):
    item = add(reg)
    sha = hashlib.sha256(PDF).hexdigest()
    (store / sha[:2] / sha).write_bytes(HTML)
    with pytest.raises(ev.EvidenceError, match="has been changed since it was uploaded"):
        ev.open_file(reg, BOARD, item)


# --------------------------------------------------------------------------------------------------------------------
# Who may see and open what
# --------------------------------------------------------------------------------------------------------------------
def test_each_role_reads_and_opens_only_what_its_scope_allows(reg):
    own = add(reg, practice_code="Z90001", title="Legionella risk assessment", owner_email=LEAD.email)
    other = add(reg, practice_code="Z90002")
    federation = add(reg, practice_code="", title="Federation governance framework",
                     quality_statement="Governance, management and sustainability", document_type="policy",
                     review_due=TODAY + timedelta(days=300), file_bytes=b"Governance framework\n",
                     file_name="framework.txt")
    for viewer in (BOARD, ADMIN):
        assert {own, other, federation} <= set(ev.list_evidence(reg, viewer)["id"])
        assert ev.open_file(reg, viewer, other).data == PDF
    lead_sees = set(ev.list_evidence(reg, LEAD)["id"])
    assert {own, federation} <= lead_sees and other not in lead_sees
    assert set(ev.list_evidence(reg, LEAD)["practice_code"]) <= {"Z90001", ""}
    assert ev.open_file(reg, LEAD, own).data == PDF
    assert ev.open_file(reg, LEAD, federation).data == b"Governance framework\n"
    with pytest.raises(ev.EvidenceRefused, match="may not open evidence item .* of practice Z90002"):
        ev.open_file(reg, LEAD, other)
    assert ev.get_evidence(reg, LEAD, other) is None
    # a viewer: counts, never titles or files
    with pytest.raises(ev.EvidenceRefused, match="viewer"):
        ev.list_evidence(reg, VIEWER)
    for item in (own, other, federation):
        with pytest.raises(ev.EvidenceRefused):
            ev.open_file(reg, VIEWER, item)
    counts = ev.summary(reg, VIEWER)
    assert list(counts.columns) == ["key_question", "quality_statement", "held", "overdue", "due_soon"]
    assert len(counts) == 34 and counts["held"].sum() == count(reg)
    # every opening is in the audit log, refusals open nothing
    opened = audit_rows(reg, "evidence_opened")
    assert [(a, p) for a, p, _ in opened] == [(BOARD.email, "Z90002"), (ADMIN.email, "Z90002"), (LEAD.email, "Z90001"),
                                              (LEAD.email, None)]


def test_who_may_add_and_change_evidence(reg):
    with pytest.raises(ev.EvidenceRefused, match=r"only for their own practice \(Z90001\), not for practice Z90002"):
        add(reg, LEAD, practice_code="Z90002")
    with pytest.raises(ev.EvidenceRefused, match="not for the whole federation"):
        add(reg, LEAD, practice_code="", owner_email=LEAD.email)
    with pytest.raises(ev.EvidenceRefused, match="viewer and may not add"):
        add(reg, VIEWER, practice_code="Z90001")
    mine = add(reg, LEAD, practice_code="Z90001", owner_email=LEAD.email)
    theirs = add(reg, BOARD, practice_code="Z90002")
    with pytest.raises(ev.EvidenceError, match="no evidence item"):
        ev.update_evidence(reg, LEAD, theirs, review_due=TODAY + timedelta(days=365))
    changes = ev.update_evidence(reg, LEAD, mine, dated=TODAY, review_due=TODAY + timedelta(days=365))
    assert changes["review_due"][1] == (TODAY + timedelta(days=365)).isoformat()
    assert not ev.get_evidence(reg, LEAD, mine)["overdue"]
    [(actor, practice, detail)] = audit_rows(reg, "evidence_updated")
    assert actor == LEAD.email and practice == "Z90001" and "review due" in detail
    # an owner must be able to open it
    with pytest.raises(ev.EvidenceError, match="is a practice lead for Z90001 and could not open Z90002"):
        add(reg, BOARD, title="Gas safety certificate", practice_code="Z90002", owner_email=LEAD.email)
    with pytest.raises(ev.EvidenceError, match="is a viewer"):
        add(reg, BOARD, title="Gas safety certificate", owner_email=VIEWER.email)


@pytest.mark.parametrize("kw,words", [
    ({"quality_statement": "Tidy waiting rooms"}, "unknown quality statement"),
    ({"document_type": "memo"}, "unknown type 'memo'"),
    ({"evidence_category": "gossip"}, "unknown evidence category"),
    ({"dated": TODAY + timedelta(days=3)}, "is in the future"),
    ({"review_due": TODAY - timedelta(days=500)}, "is before the document's date"),
    ({"link": "https://x.invalid/a"}, "a file or a link, not both"),
    ({"file_bytes": None, "file_name": None, "link": "javascript:alert(1)"}, "is not a web address"),
    ({"file_bytes": None, "file_name": None}, "needs a file"),
    ({"practice_code": "Z99999"}, "unknown practice Z99999"),
    ({"owner_email": "nobody@demo.invalid"}, "unknown owner"),
])
def test_bad_input_is_refused_in_plain_words(reg, kw, words):
    with pytest.raises(ev.EvidenceError, match=words):
        add(reg, **kw)


# --------------------------------------------------------------------------------------------------------------------
# From upload to the pack, and into "what needs attention"
# --------------------------------------------------------------------------------------------------------------------
def test_evidence_uploaded_for_a_practice_is_listed_in_its_pack_under_its_statement(reg, config):
    before = inspection.build_pack(reg, config, LEAD, "Z90001")
    # a statement the pack had nothing for ("No evidence held"), where one is left; else one it has measures for
    uncovered = [(kq.name, s) for kq in before.key_questions for s in kq.not_covered]
    kq_name, statement = uncovered[0] if uncovered else ("Safe", "Safe environments")
    for title, due, dtype in (("Legionella risk assessment", TODAY - timedelta(days=10), "risk assessment"),
                              ("Gas safety certificate", TODAY + timedelta(days=200), "certificate")):
        add(reg, LEAD, practice_code="Z90001", owner_email=LEAD.email, title=title, review_due=due,
            document_type=dtype, quality_statement=statement)
    add(reg, BOARD, practice_code="Z90002", title="Someone else's fire risk assessment", quality_statement=statement)
    pack = inspection.build_pack(reg, config, LEAD, "Z90001")
    kq = next(k for k in pack.key_questions if k.name == kq_name)
    assert statement not in kq.not_covered
    held = next(s for s in kq.statements if s.name == statement)
    words = " ".join(held.paragraphs)
    assert "2 documents held for this statement" in words
    assert "1 overdue for review: Legionella risk assessment (review was due" in words
    table = next(t for t in held.tables if t.name.startswith("evidence_"))
    assert set(table.frame["Document"]) == {"Legionella risk assessment", "Gas safety certificate"}
    assert dict(zip(table.frame["Document"], table.frame["Status"]))["Legionella risk assessment"] == "Review overdue"
    assert "Owner" not in table.frame.columns  # a pack holds no staff names
    wb = __import__("openpyxl").load_workbook(io.BytesIO(render_xlsx(pack)))
    assert any(name.startswith("Evidence held") for name in wb.sheetnames)
    # the board's federation pack holds every practice's
    fed = inspection.build_pack(reg, config, BOARD, None)
    fed_st = next(s for k in fed.key_questions for s in k.statements if s.name == statement)
    assert "Someone else's fire risk assessment" in set(next(
        t for t in fed_st.tables if t.name.startswith("evidence_")).frame["Document"])


def test_overdue_reviews_are_attention_items_in_each_scope(reg):
    add(reg, practice_code="Z90002", title="Fire risk assessment")
    add(reg, practice_code="Z90002", title="Legionella risk assessment", review_due=TODAY - timedelta(days=90))
    add(reg, LEAD, practice_code="Z90001", owner_email=LEAD.email, title="Infection control audit",
        document_type="audit")
    add(reg, practice_code="Z90003", title="In date", review_due=TODAY + timedelta(days=90))

    def items(viewer, codes=None):
        df = views.attention_items(None, {}, None, None, "Federation",
                                   ev.overdue_by_practice(reg, viewer, practice_codes=codes))
        return df[df["kind"] == views.KIND_EVIDENCE]

    board = items(BOARD)  # most overdue first
    assert list(board["practice_code"]) == ["Z90002", "Z90001"]
    assert board["headline"].iloc[0].endswith(": 2 evidence reviews overdue")
    assert board["headline"].iloc[1].endswith(": 1 evidence review overdue")
    assert "Legionella risk assessment (due" in board["detail"].iloc[0]
    lead = items(LEAD)
    assert list(lead["practice_code"]) == ["Z90001"] and "Infection control audit" in lead["detail"].iloc[0]
    viewer = items(VIEWER)  # a count for everyone together, no titles
    assert list(viewer["headline"]) == ["All practices: 3 evidence reviews overdue"]
    assert "Infection" not in viewer["detail"].iloc[0] and "Legionella" not in viewer["detail"].iloc[0]
    assert list(items(BOARD, ("Z90003",))["headline"]) == []  # the sidebar's choice of practices


def test_the_demo_holds_evidence_with_overdue_reviews_where_its_story_says(demo_engine):
    held = ev.list_evidence(demo_engine, BOARD)
    overdue = held[held["overdue"]]
    assert len(held) > 40 and set(held["practice_code"]) >= {"", "Z90001"}
    assert set(overdue.loc[overdue["where"] == "Millstream Surgery", "title"]) == {"Fire risk assessment",
                                                                                  "Legionella risk assessment"}
    assert "Infection prevention and control audit" in set(overdue.loc[overdue["practice_code"] == "Z90001", "title"])
    assert set(held["held_as"]) == {"file", "link"}


# --------------------------------------------------------------------------------------------------------------------
# The page, for every role
# --------------------------------------------------------------------------------------------------------------------
def _page(role: str, query: dict | None = None):
    at = app(role=role, query=query)
    at.switch_page("pages/evidence.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _downloads(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_the_page_for_every_role_shows_only_what_the_role_may_see(reg):
    empty = _page("board")
    assert "The register is empty" in visible_text(empty)
    add(reg, practice_code="Z90002", title="Fire risk assessment Z90002", file_name="fire-z2.pdf")
    add(reg, LEAD, practice_code="Z90001", owner_email=LEAD.email, title="Legionella risk assessment Z90001",
        file_name="legionella.pdf")
    add(reg, practice_code="", title="Federation governance framework", document_type="policy",
        quality_statement="Governance, management and sustainability", review_due=None, file_bytes=None,
        file_name=None, link="https://sharepoint.demo.invalid/governance")
    st.cache_data.clear()  # added from outside the app (as another server would): read afresh
    for role in ("board", "admin"):
        at = _page(role)
        text = visible_text(at)
        assert "Fire risk assessment Z90002" in text and "Legionella risk assessment Z90001" in text
        assert "Federation governance framework" in text and "⚠ Review overdue" in text
        assert "Add evidence" in [e.label for e in at.expander]
        assert _downloads(at)  # the first document's file (or its link)
    lead = _page("practice_lead")
    text = visible_text(lead)
    assert "Add evidence" in [e.label for e in lead.expander]
    assert "Legionella risk assessment Z90001" in text and "Federation governance framework" in text
    assert "Fire risk assessment Z90002" not in text and "fire-z2.pdf" not in text
    lead.selectbox(key="ev_open").select_index(0).run()
    assert all("fire-z2" not in label for label in _downloads(lead))
    # a link to another practice's register shows the lead's own
    assert "Fire risk assessment Z90002" not in visible_text(_page("practice_lead", {"held_for": "Z90002"}))
    viewer = _page("viewer")
    text = visible_text(viewer)
    assert "Counts only" in text and "Documents held" in text
    for title in ("Fire risk assessment Z90002", "Legionella risk assessment Z90001", "Federation governance"):
        assert title not in text
    assert _downloads(viewer) == [] and "Add evidence" not in [e.label for e in viewer.expander]


def test_the_overview_lists_overdue_reviews_under_what_needs_attention(reg):
    add(reg, practice_code="Z90002", title="Fire risk assessment")
    def overview(role):
        at = app(role=role)
        at.switch_page("pages/overview.py").run()  # a practice lead starts on their practice's profile
        assert not at.exception, [e.message for e in at.exception]
        return visible_text(at)

    board = overview("board")
    assert "Evidence reviews overdue: 1" in board and "1 evidence review overdue" in board
    assert "Evidence reviews overdue: 0" in overview("practice_lead")
    viewer = overview("viewer")  # a count for all practices together
    assert "Evidence reviews overdue: 1" in viewer and "All practices\\: 1 evidence review overdue" in viewer
    assert "Fire risk assessment" not in viewer


def test_the_practice_profile_shows_its_evidence_to_those_who_may_read_it(reg):
    add(reg, LEAD, practice_code="Z90001", owner_email=LEAD.email, title="Legionella risk assessment Z90001")

    def profile(role):
        at = app(role=role, query={"profile": "Z90001"})
        at.switch_page("pages/practice.py").run()
        assert not at.exception, [e.message for e in at.exception]
        return visible_text(at)

    for role in ("practice_lead", "board"):
        text = profile(role)
        assert "Evidence register" in text and "Legionella risk assessment Z90001" in text
        assert "1 document held for this practice and the whole federation, 1 overdue for review" in text
    text = profile("viewer")
    assert "Evidence register" in text and "Legionella risk assessment Z90001" not in text
    assert "The documents themselves are shown to this practice's lead and the board." in text


# --------------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------------
def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_adds_lists_and_gets_evidence_and_refuses_bad_input_with_exit_2(reg, capsys, tmp_path):
    good = tmp_path / "ipc-audit.pdf"
    good.write_bytes(PDF)
    renamed = tmp_path / "policy.pdf"
    renamed.write_bytes(HTML)
    base = ["evidence", "add", "--title", "IPC audit", "--statement", "infection prevention and control", "--type",
            "audit", "--owner", LEAD.email, "--dated", (TODAY - timedelta(days=30)).isoformat(), "--review-due",
            (TODAY + timedelta(days=335)).isoformat(), "--practice", "z90001"]
    code, out, err = run(capsys, *base, "--file", str(good), "--as", LEAD.email)
    assert code == 0, err
    item = int(out.split()[1])
    assert out.startswith(f"Evidence {item} added: IPC audit (Infection prevention and control, practice Z90001)")
    code, out, err = run(capsys, "evidence", "list", "--json", "--practice", "Z90001", "--as", LEAD.email)
    assert code == 0 and item in [r["id"] for r in json.loads(out)]
    code, out, err = run(capsys, "evidence", "get", str(item), "--out", str(tmp_path), "--as", LEAD.email)
    assert code == 0 and (tmp_path / "ipc-audit.pdf").read_bytes() == PDF
    held = count(reg)
    for args, words in (
            ([*base[:3], "HTML audit", *base[4:], "--file", str(renamed)], "policy.pdf was not stored"),
            ([*base, "--file", str(good), "--as", VIEWER.email], "viewer and may not add"),
            ([*base[:-1], "Z90002", "--file", str(good), "--as", LEAD.email], "only for their own practice"),
            ([*base[:11], "31/12/2026", *base[12:], "--file", str(good)], "--dated '31/12/2026' is not a date"),
            ([*base, "--file", str(tmp_path / "missing.pdf")], "no such file"),
            (["evidence", "get", str(item), "--out", str(tmp_path), "--as", VIEWER.email], "may not open")):
        code, out, err = run(capsys, *args)
        assert code == 2 and err.startswith("error: ") and words in err and "Traceback" not in err, (args, err)
    assert count(reg) == held
