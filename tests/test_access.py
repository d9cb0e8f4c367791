"""Sign-in, roles, practice-level access and the audit trail (AppTest; the browser flow is in test_e2e_signin)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from data_layer import audit, demo, models as m
from data_layer.db import get_engine
from data_layer.measures.refresh import refresh as refresh_measures
from data_layer.scope import AccessDenied, Viewer
from data_layer.users import UserError, find_viewer, list_users, remove_user, save_user
from tests.apptest_util import app, visible_text
from tests.conftest import ROOT
from ui.navigation import PAGES, pages_for

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


# --- scope ---------------------------------------------------------------------------------------------------------
def test_viewer_scope_for_each_role():
    codes = ["Z90001", "Z90002"]
    assert Viewer("a@x", "admin").person_level_practices(codes) == tuple(codes)
    assert Viewer("b@x", "board").person_level_practices(codes) == tuple(codes)
    lead = Viewer("l@x", "practice_lead", ("Z90002",))
    assert lead.person_level_practices(codes) == ("Z90002",)
    assert Viewer("v@x", "viewer").person_level_practices(codes) == ()
    with pytest.raises(AccessDenied):
        lead.require_people(["Z90001"])
    assert not lead.may_import and Viewer("a@x", "admin").may_import


def test_pages_registered_per_role():
    admin = {p.url_path for p in pages_for("admin")}
    assert {"import", "users", "audit"} <= admin or not all(p.file.exists() for p in PAGES if p.url_path in
                                                            ("import", "users", "audit"))
    for role in ("board", "practice_lead", "viewer"):
        assert not {"users", "audit", "import"} & {p.url_path for p in pages_for(role)}
    assert "inspection" not in {p.url_path for p in pages_for("viewer")}


# --- users and audit -----------------------------------------------------------------------------------------------
def test_users_add_change_remove_are_audited(demo_url):
    engine = get_engine(demo_url)
    assert save_user(engine, " New.Lead@Example.ORG ", "practice_lead", ["z90002"], actor="admin@demo.invalid") == "added"
    assert find_viewer(engine, "new.lead@example.org") == Viewer("new.lead@example.org", "practice_lead", ("Z90002",))
    assert save_user(engine, "new.lead@example.org", "board", [], actor="admin@demo.invalid") == "changed"
    assert find_viewer(engine, "NEW.LEAD@example.org").role == "board"
    remove_user(engine, "new.lead@example.org", actor="admin@demo.invalid")
    assert find_viewer(engine, "new.lead@example.org") is None
    events = audit.search(engine, Viewer("admin@demo.invalid", "admin"), text="new.lead@example.org")
    assert {"user_added", "user_changed", "user_removed"} <= set(events["action"])
    assert (events["actor"] == "admin@demo.invalid").all()


@pytest.mark.parametrize("email, role, practices, message", [
    ("not-an-email", "board", [], "not an email"),
    ("a@b.org", "superuser", [], "role must be one of"),
    ("a@b.org", "practice_lead", [], "needs at least one practice"),
    ("a@b.org", "practice_lead", ["Q99999"], "unknown practice"),
])
def test_bad_user_input_is_refused_clearly(demo_url, email, role, practices, message):
    with pytest.raises(UserError, match=message):
        save_user(get_engine(demo_url), email, role, practices)


def test_users_cli(demo_url):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "data_layer", "users", *args], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "DATABASE_URL": demo_url}, timeout=120)

    out = cli("add", "cli.user@example.org", "--role", "practice_lead", "--practice", "Z90003", "--as", "ops@x.org")
    assert out.returncode == 2 and "no active user" in out.stderr  # --as is self-declared: only a known user
    out = cli("add", "cli.user@example.org", "--role", "practice_lead", "--practice", "Z90003",
              "--as", "admin@demo.invalid")
    assert out.returncode == 0 and "added" in out.stdout
    events = audit.search(get_engine(demo_url), Viewer("a@x", "admin"), text="cli.user@example.org",
                          action="user_added")
    assert events["actor"].iloc[0] == f"admin@demo.invalid ({audit.os_account()})"  # and who really ran it
    listed = cli("list", "--json")
    assert "cli.user@example.org" in listed.stdout and "Z90003" in listed.stdout
    assert cli("add", "cli.user@example.org", "--role", "practice_lead").returncode == 2
    assert cli("remove", "cli.user@example.org").returncode == 0
    assert cli("remove", "cli.user@example.org").returncode == 2


def test_only_admins_read_the_audit_log(demo_engine):
    with pytest.raises(AccessDenied):
        audit.search(demo_engine, Viewer("b@x", "board"))


def test_audit_csv_is_inert_in_spreadsheets():
    import pandas as pd

    csv = audit.to_csv(pd.DataFrame([{"at": "2026-01-01", "actor": "=cmd()", "action": "export",
                                      "practice_code": None, "detail": "+SUM(A1)"}])).decode()
    assert "'=cmd()" in csv and "'+SUM(A1)" in csv


# --- the app as each role ------------------------------------------------------------------------------------------
def test_demo_mode_banner_and_user_picker(app_env):
    at = app(role="board")
    assert not at.exception
    assert "Demo mode" in visible_text(at)
    for role, email in (("practice_lead", "lead@demo.invalid"), ("viewer", "viewer@demo.invalid")):
        at.selectbox(key="demo_user").set_value(email).run()
        assert at.session_state["viewer"].role == role
        assert at.query_params["as"] == email  # a link copied now opens as the same demo user


def test_a_demo_link_opens_as_its_demo_user(app_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params["as"] = "lead@demo.invalid"
    at.run()
    assert not at.exception and at.session_state["viewer"].role == "practice_lead"
    at.switch_page("pages/quality.py").run()  # the choice survives every later run, whatever the widget holds
    assert at.session_state["viewer"].role == "practice_lead"


def test_real_database_without_sign_in_is_refused(fresh_databases, backend, config, monkeypatch):
    url = fresh_databases.url(backend)
    engine = get_engine(url)
    demo.build(engine, config, n_practices=2, months=3, seed=1)
    with engine.begin() as conn:  # no longer the demo database
        conn.execute(m.AppMeta.__table__.delete())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = app()
    assert not at.exception
    assert at.title[0].value == "Sign-in is not configured"
    assert not at.metric and "Headline" not in visible_text(at)


def test_signed_in_user_gets_their_role_and_unknown_email_is_refused(app_env):
    lead = app(secrets=AUTH, user={"is_logged_in": True, "email": "lead@demo.invalid"})
    assert not lead.exception
    assert lead.session_state["viewer"].role == "practice_lead"
    stranger = app(secrets=AUTH, user={"is_logged_in": True, "email": "nobody@example.org"})
    assert not stranger.exception
    assert "not yet given access" in stranger.title[0].value
    assert not stranger.metric
    signed_out = app(secrets=AUTH, user={"is_logged_in": False})
    assert [b.label for b in signed_out.button] == ["Sign in"] and not signed_out.metric
    with get_engine(app_env).connect() as conn:
        actions = dict(conn.execute(select(m.AuditEvent.actor, m.AuditEvent.action).where(
            m.AuditEvent.actor.in_(["lead@demo.invalid", "nobody@example.org"]))).all())
    assert actions == {"lead@demo.invalid": "sign_in", "nobody@example.org": "sign_in_refused"}


# --- a practice lead's session never holds another practice's people ---------------------------------------------
MARK_STAFF = "Zebedee Quarrington"
MARK_COMMENT = "Quokka-marker comment from the other practice"
OWN_COMMENT = "Wombat-marker comment from my own practice"


@pytest.fixture
def planted_url(fresh_databases, backend, config, monkeypatch):
    """A demo federation with unique marker names in Z90002 (not the demo lead's) and Z90001 (the lead's)."""
    url = fresh_databases.url(backend)
    engine = get_engine(url)
    demo.build(engine, config, n_practices=4, months=13, seed=5)
    with engine.begin() as conn:
        ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())
        staff_id = conn.execute(insert(m.Staff).values(staff_code="MARK1", name=MARK_STAFF, role="Nurse",
                                                       practice_id=ids["Z90002"], start_date=date(2020, 1, 1))
                                ).inserted_primary_key[0]
        conn.execute(insert(m.TrainingCompletion).values(staff_id=staff_id, course="FIRE",
                                                         completed_on=date(2020, 2, 1)))
        last = conn.execute(select(func.max(m.FFTResponse.response_date))).scalar_one()
        for code, key, text in (("Z90002", "mark-1", MARK_COMMENT), ("Z90001", "mark-2", OWN_COMMENT)):
            conn.execute(insert(m.FFTResponse).values(practice_id=ids[code], response_key=key, response_date=last,
                                                      scale="current", rating=5, comment=text, mode="SMS"))
        conn.execute(insert(m.Complaint).values(practice_id=ids["Z90002"], reference="MARK-C", received_on=last,
                                                category="Staff attitude", summary=MARK_COMMENT))
    refresh_measures(engine, config)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


def _walk(role: str, query: dict | None = None) -> str:
    at = app(role=role, query=query)
    texts = [visible_text(at)]
    for spec in pages_for(role):
        at.switch_page(str(spec.file.relative_to(ROOT))).run()
        assert not at.exception, (spec.path, [e.message for e in at.exception])
        texts.append(visible_text(at))
    return "\n".join(texts)


def test_practice_lead_never_sees_another_practices_people(planted_url):
    for query in (None, {"practice": "Z90002"}):
        seen = _walk("practice_lead", query)
        assert MARK_STAFF not in seen
        assert MARK_COMMENT not in seen
    viewer_seen = _walk("viewer")
    assert MARK_STAFF not in viewer_seen and MARK_COMMENT not in viewer_seen and OWN_COMMENT not in viewer_seen


def test_board_sees_the_planted_people_so_the_walk_can_fail(planted_url):
    seen = _walk("board")
    assert MARK_STAFF in seen
    assert MARK_COMMENT in seen


# --- privacy of free text ------------------------------------------------------------------------------------------
HOSTILE = ["<script>alert('x')</script> terrible", "[click here](javascript:alert(1)) rude staff",
           "![x](http://tracker.invalid/p.png) long wait"]
PHONE_COMMENT = "Ring me back on 07700 900461 please, or email jo.bloggs@example.com"


@pytest.fixture
def hostile_url(fresh_databases, backend, config, monkeypatch):
    url = fresh_databases.url(backend)
    engine = get_engine(url)
    demo.build(engine, config, n_practices=2, months=13, seed=9)
    with engine.begin() as conn:
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == "Z90001")).scalar_one()
        last = conn.execute(select(func.max(m.FFTResponse.response_date))).scalar_one()
        for i, text in enumerate([*HOSTILE, PHONE_COMMENT]):
            conn.execute(insert(m.FFTResponse).values(practice_id=pid, response_key=f"hostile-{i}", response_date=last,
                                                      scale="current", rating=5, comment=text, mode="Online"))
    refresh_measures(engine, config)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


def _markup_texts(at) -> str:
    """Text passed to elements that interpret markdown or HTML (as opposed to tables, which show text as text)."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader"):
        out.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(out)


def test_comments_are_plain_text_and_identifiers_redacted(hostile_url):
    at = app(role="board")
    at.switch_page("pages/feedback.py").run()
    assert not at.exception
    markup = _markup_texts(at)
    for text in HOSTILE:
        assert text not in markup
    tables = "\n".join(df.value.to_csv() for df in at.dataframe)
    assert HOSTILE[0] in tables  # shown, as text, in the comments table
    assert "07700 900461" not in visible_text(at) and "jo.bloggs@example.com" not in visible_text(at)
    assert "[phone number removed]" in tables and "[email removed]" in tables

    admin = app(role="admin")
    admin.switch_page("pages/feedback.py").run()
    assert "07700 900461" in "\n".join(df.value.to_csv() for df in admin.dataframe)  # admins keep the original
