"""Platform: explicit schema upgrades, demo mode only over demo data, database faults shown plainly and recovered
from, and an audit log the database protects (issue 10 item 7; issue 11 findings 2, 8 database part and 12)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from data_layer import audit, demo, models as m
from data_layer.db import (SchemaError, downgrade, get_engine, head_revision, make_engine, schema_lock,
                           schema_state, upgrade)
from data_layer.imports import run_import
from data_layer.scope import Viewer
from data_layer.users import save_user
from tests.apptest_util import app, visible_text
from tests.conftest import ROOT, _pg_admin

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}
DEMO_ADMIN = Viewer("admin@demo.invalid", "admin", name="Demo admin")


def cli(*args, url: str):
    return subprocess.run([sys.executable, "-m", "data_layer", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=300)


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return schema_state(engine).revision
    finally:
        engine.dispose()


@pytest.fixture
def small_demo_url(fresh_databases, backend, config, monkeypatch):
    """A small demo federation of this test's own (the test may change it); the app points at it."""
    url = fresh_databases.url(backend)
    demo.build(get_engine(url), config, n_practices=2, months=13, seed=1)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    return url


# --- 1. explicit schema upgrades -----------------------------------------------------------------------------------
def test_nothing_migrates_on_start_and_an_older_schema_is_refused_naming_the_command(empty_url):
    downgrade(make_engine(empty_url), "0004")
    with pytest.raises(SchemaError, match="python -m data_layer db upgrade"):
        get_engine(empty_url)
    out = cli("status", url=empty_url)
    assert out.returncode == 2 and "python -m data_layer db upgrade" in out.stderr and "Traceback" not in out.stderr
    assert revision(empty_url) == "0004"  # neither the engine nor the command migrated

    current = cli("db", "current", url=empty_url)
    assert current.returncode == 0 and current.stdout.startswith("0004 (behind")
    up = cli("db", "upgrade", url=empty_url)
    assert up.returncode == 0, up.stderr
    assert f"from 0004 to {head_revision()}" in up.stdout
    assert cli("db", "current", url=empty_url).stdout.startswith(f"{head_revision()} (current")
    assert cli("status", url=empty_url).returncode == 0
    assert "nothing to do" in cli("db", "upgrade", url=empty_url).stdout


def test_a_brand_new_database_is_created_only_by_init_or_upgrade(new_url):
    with pytest.raises(SchemaError, match="empty"):
        get_engine(new_url)
    out = cli("users", "list", url=new_url)
    assert out.returncode == 2 and "db upgrade" in out.stderr
    assert revision(new_url) is None
    out = cli("init", "--empty", url=new_url)
    assert out.returncode == 0, out.stderr
    assert revision(new_url) == head_revision()


def test_upgrades_from_two_processes_take_turns(new_url):
    engine = make_engine(new_url)
    with schema_lock(engine):  # as if another server were upgrading right now
        busy = cli("db", "upgrade", "--no-wait", url=new_url)
        assert busy.returncode == 2 and "another process is upgrading" in busy.stderr
        assert revision(new_url) is None
    engine.dispose()
    # two upgrades started together (two servers' deploy hooks and a cron import): both succeed, one migrates
    procs = [subprocess.Popen([sys.executable, "-m", "data_layer", "db", "upgrade"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "DATABASE_URL": new_url}) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted("nothing to do" in o for o, _ in outs) == [False, True]
    assert revision(new_url) == head_revision()


def test_the_app_refuses_an_older_schema_with_the_command_and_opens_once_upgraded(small_demo_url):
    downgrade(make_engine(small_demo_url), "0004")
    at = app(role="board")
    assert not at.exception
    assert at.title[0].value == "The database needs upgrading"
    assert "python -m data_layer db upgrade" in visible_text(at)
    assert not at.metric and "Demo mode" not in visible_text(at)
    assert revision(small_demo_url) == "0004"
    upgrade(make_engine(small_demo_url))
    at.run()  # the same server, no restart
    assert not at.exception
    assert at.title[0].value != "The database needs upgrading" and "Demo mode" in visible_text(at)


def test_with_sign_in_the_app_never_creates_the_schema(new_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", new_url)
    monkeypatch.chdir(ROOT)
    at = app(secrets=AUTH, user={"is_logged_in": False})
    assert not at.exception
    assert at.title[0].value == "The database is empty"
    assert "python -m data_layer db upgrade" in visible_text(at)
    assert revision(new_url) is None


# --- 2. demo mode only over demo data ------------------------------------------------------------------------------
REAL_PRACTICE = b"practice_code,practice_name\nG82002,Real Street Surgery\n"
DEMO_FFT = b"Practice Code,Response Date,Rating,Comment\nZ90001,03/02/2025,Very good,Lovely\n"


def test_a_real_practice_is_refused_by_the_demo_database(small_demo_url, config):
    engine = get_engine(small_demo_url)
    result = run_import(engine, config, DEMO_ADMIN, REAL_PRACTICE, file_name="practices.csv")
    assert result.refused
    problems = result.problems().to_csv()
    assert "demo database" in problems and "G82002" in problems and "db upgrade" in problems
    with engine.connect() as conn:
        assert conn.execute(select(m.Practice).where(m.Practice.code == "G82002")).first() is None
    assert demo.is_demo(engine)
    # the demo's own (fictional) practices still import: the guard is about real data, not imports
    assert run_import(engine, config, DEMO_ADMIN, DEMO_FFT, file_name="fft.csv").new == 1


def test_a_real_practice_however_added_ends_demo_mode(small_demo_url):
    engine = get_engine(small_demo_url)
    with engine.begin() as conn:
        conn.execute(insert(m.Practice).values(code="G82002", name="Real Street Surgery", list_size=9000,
                                               contract_type="GMS", active=True))
    assert not demo.is_demo(engine)
    at = app(role="admin")  # no sign-in configured: the anonymous picker must not be offered over real data
    assert not at.exception
    assert at.title[0].value == "Sign-in is not configured"
    assert "Demo mode" not in visible_text(at) and not at.selectbox


def test_init_demo_never_deletes_rows_it_did_not_make_without_force(small_demo_url, config):
    engine = get_engine(small_demo_url)
    assert run_import(engine, config, DEMO_ADMIN, DEMO_FFT, file_name="fft.csv").new == 1

    def lovely() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(m.FFTResponse).where(
                m.FFTResponse.comment == "Lovely")).scalar_one()

    for args in (("init", "--demo"), ("demo", "--practices", "2", "--months", "3")):
        out = cli(*args, url=small_demo_url)
        assert out.returncode == 2 and "did not make" in out.stderr and "--force" in out.stderr, out.stderr
        assert lovely() == 1
    out = cli("demo", "--practices", "2", "--months", "3", "--force", url=small_demo_url)
    assert out.returncode == 0, out.stderr
    assert lovely() == 0
    # a demo nobody added to is rebuilt without --force
    assert cli("demo", "--practices", "2", "--months", "3", url=small_demo_url).returncode == 0


# --- 3. database faults --------------------------------------------------------------------------------------------
def _unreachable_url(backend: str, tmp_path: Path) -> tuple[str, list[str], callable]:
    """A URL whose database cannot be reached yet, the words that must not be shown, and how to make it exist."""
    if backend == "sqlite":
        path = tmp_path / "not-yet" / "federation.db"
        path.mkdir(parents=True)  # a directory where the file should be: SQLite cannot open it
        return f"sqlite:///{path}", [str(tmp_path), "not-yet"], lambda: path.rmdir()
    admin, pg = _pg_admin()
    admin.dispose()
    name = f"fedtest_down_{os.getpid()}_{threading.get_ident() % 10000}"
    url = pg.set(database=name).render_as_string(hide_password=False)

    def create() -> None:
        a, _ = _pg_admin()
        with a.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        a.dispose()

    return url, [name, str(pg.host), f":{pg.port or 5432}"], create


def test_an_unreachable_database_shows_a_plain_page_and_recovers_without_restart(backend, tmp_path, monkeypatch,
                                                                                   fresh_databases):
    url, secret_words, make_it_exist = _unreachable_url(backend, tmp_path)
    if backend == "postgresql":
        fresh_databases.created.append(make_url(url).database)  # dropped at the end
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "admin@demo.invalid"})
    assert not at.exception
    assert at.title[0].value == "The database is not reachable"
    shown = visible_text(at)
    assert "try again in a moment" in shown
    for word in secret_words:
        assert word not in shown, word
    assert "OperationalError" not in shown and not at.metric

    make_it_exist()  # the server is back (an empty database)
    at.run()
    assert not at.exception
    assert at.title[0].value == "The database is empty"
    engine = make_engine(url)
    upgrade(engine, "0004")
    at.run()
    assert at.title[0].value == "The database needs upgrading"
    upgrade(engine)
    engine.dispose()
    at.run()
    assert not at.exception
    assert "not yet given access" in at.title[0].value  # the app works again: the sign-in check ran


def test_a_database_emptied_under_the_app_says_so_instead_of_a_traceback(small_demo_url, backend):
    at = app(role="board")
    assert not at.exception and "Demo mode" in visible_text(at)
    if backend == "postgresql":  # dropped and created again, as after a restore gone wrong
        name = make_url(small_demo_url).database
        admin, _ = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    else:
        downgrade(make_engine(small_demo_url), "base")
    at.secrets["auth"] = AUTH["auth"]  # with sign-in configured the app must not rebuild the demo by itself
    at.run()
    assert not at.exception
    assert at.title[0].value == "The database is empty"
    assert "UndefinedTable" not in visible_text(at) and "no such table" not in visible_text(at)


# --- 4. the audit log ----------------------------------------------------------------------------------------------
def test_the_database_refuses_to_change_or_remove_audit_rows(empty_engine):
    audit.record(empty_engine, "someone@example.org", "export", None, "the original")
    with pytest.raises(DBAPIError, match="append-only"):
        with empty_engine.begin() as conn:
            conn.execute(update(m.AuditEvent).values(detail="rewritten"))
    with pytest.raises(DBAPIError, match="append-only"):
        with empty_engine.begin() as conn:
            conn.execute(m.AuditEvent.__table__.delete())
    if empty_engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with empty_engine.begin() as conn:
                conn.execute(text("TRUNCATE audit_log"))
    audit.record(empty_engine, "someone@example.org", "export", None, "a second row")  # inserts still work
    with empty_engine.connect() as conn:
        assert conn.execute(select(m.AuditEvent.detail).order_by(m.AuditEvent.id)).scalars().all() == [
            "the original", "a second row"]


def test_a_sign_in_is_recorded_once_per_login_not_per_page_load(small_demo_url):
    engine = get_engine(small_demo_url)
    save_user(engine, "once@example.org", "board", [])
    login = {"is_logged_in": True, "email": "once@example.org", "sub": "abc", "iat": 1_790_000_000, "nonce": "n1"}
    for _ in range(3):  # three page loads (new browser sessions) with the same sign-in cookie
        at = app(secrets=AUTH, user=login)
        assert not at.exception and at.session_state["viewer"].email == "once@example.org"
        at.run()  # and a rerun within one of them

    def sign_ins() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(m.AuditEvent).where(
                m.AuditEvent.action == "sign_in", m.AuditEvent.actor == "once@example.org")).scalar_one()

    assert sign_ins() == 1
    app(secrets=AUTH, user={**login, "iat": 1_790_090_000, "nonce": "n2"})  # signed out and in again next day
    assert sign_ins() == 2


def _exports(engine, actor: str) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(select(m.AuditEvent.detail).where(
            m.AuditEvent.action == "export", m.AuditEvent.actor == actor)).scalars().all()


@pytest.mark.parametrize("page, label, words", [
    ("pages/practice.py", "Download the chase list (CSV)", "training chase list"),
    ("pages/feedback.py", "Download these comments (CSV)", "patient comments"),
])
def test_downloads_of_person_level_data_are_audited_when_clicked(small_demo_url, page, label, words):
    engine = get_engine(small_demo_url)
    at = app(role="board", page=page)
    assert not at.exception, [e.message for e in at.exception]
    buttons = [b for b in at.download_button if b.label == label]
    assert buttons, [b.label for b in at.download_button]
    assert not [d for d in _exports(engine, "board@demo.invalid") if words in d]  # drawing it records nothing
    buttons[0].click().run()
    assert not at.exception
    rows = [d for d in _exports(engine, "board@demo.invalid") if words in d]
    assert len(rows) == 1 and "page download" in rows[0] and "rows" in rows[0]


def test_as_on_the_command_line_must_be_an_active_user_and_names_who_ran_it(small_demo_url, tmp_path):
    path = tmp_path / "fft.csv"
    path.write_bytes(DEMO_FFT)
    out = cli("import", str(path), "--as", "stranger@example.org", url=small_demo_url)
    assert out.returncode == 2 and "no active user" in out.stderr
    out = cli("import", str(path), "--as", "board@demo.invalid", url=small_demo_url)
    assert out.returncode == 2 and "may not do this" in out.stderr  # a board member is not an administrator
    out = cli("import", str(path), "--as", "admin@demo.invalid", url=small_demo_url)
    assert out.returncode == 0, out.stderr
    events = audit.search(get_engine(small_demo_url), DEMO_ADMIN, action="import")
    assert events["actor"].tolist() == [f"admin@demo.invalid ({audit.os_account()})"]


def test_the_quick_start_builds_the_demo_on_a_brand_new_database(new_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", new_url)
    monkeypatch.chdir(ROOT)
    at = app(role="board", timeout=600)  # `streamlit run dashboard.py` on a new machine, no sign-in configured
    assert not at.exception
    assert revision(new_url) == head_revision()
    assert "Demo mode" in visible_text(at) and at.metric
