"""Shared fixtures: databases on both backends.

SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it).

Databases are set up once and reused, as pypi/warehouse's suite does, so the suite stays fast:
* each worker migrates one **template** per backend once; ``fresh_databases.url()`` gives a new database copied from
  it (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) instead of running every migration again;
* ``empty_url`` / ``empty_engine`` hand each test the worker's one **scratch database**, emptied after the test
  (``TRUNCATE … RESTART IDENTITY`` on PostgreSQL, a fresh copy of the template on SQLite). Warehouse wraps each test in
  a transaction it rolls back; that cannot hold here, because the code under test commits its own transactions on
  connections it opens itself (imports take advisory locks, the concurrency tests use two connections, the browser
  tests run the app in another process), so the database is emptied instead, which isolates tests the same way;
* the demo federation is built **once per test run** (the first worker to need it builds it under a file lock, the
  others wait and share it) and must only be read; ``demo_copy(backend)`` gives a test a copy of it to change.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from data_layer.config import load_config
from data_layer.db import dispose_engines, get_engine, head_revision, make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
SHARED_NHS = ROOT.parent / "shared" / "data" / "nhs"
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
RUN_ENV = "FEDTEST_RUN"  # one id per test run, shared by the xdist workers (names the run's shared databases)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist): workers inherit the id
        os.environ.setdefault(RUN_ENV, uuid.uuid4().hex[:8])


def pytest_sessionfinish(session, exitstatus):
    """The controller drops the run's shared demo database once every worker has finished with it."""
    if hasattr(session.config, "workerinput") or not PG_URL:
        return
    run = os.environ.get(RUN_ENV, "")
    _drop_pg([f"fedtest_demo_{run}", f"fedtest_demotpl_{run}"])


def _pg_admin():
    url = make_url(PG_URL)
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT"), url


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _drop_pg(names: list[str]) -> None:
    admin, _ = _pg_admin()
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _forget_connections() -> None:
    import streamlit as st

    st.cache_resource.clear()
    dispose_engines()


class FreshDatabases:
    """New databases from a migrated template per backend (made once per worker), dropped again at the end."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.created: list[str] = []
        self.templates: dict[str, str] = {}  # backend -> SQLite file path or PostgreSQL database name

    def _new_name(self, prefix: str = "fedtest") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        admin, _ = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return name

    def _template(self, backend: str) -> str:
        if backend not in self.templates:
            if backend == "sqlite":
                path = self.tmp.mktemp("template") / "federation.db"
                url = f"sqlite:///{path}"
            else:
                path = self._new_name("fedtest_tpl")
                url = _pg_url(path)
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()  # a PostgreSQL template must have no connections when it is copied
            self.templates[backend] = str(path)
        return self.templates[backend]

    def url(self, backend: str, schema: bool = True) -> str:
        """A new database; with ``schema`` (the default) at the newest revision, as ``python -m data_layer db
        upgrade`` leaves it (the app and ``get_engine`` never migrate); without, no tables at all."""
        if backend == "sqlite":
            path = self.tmp.mktemp("db") / "federation.db"
            if schema:
                shutil.copyfile(self._template("sqlite"), path)
            return f"sqlite:///{path}"
        if not schema:
            return _pg_url(self._new_name())
        return self.copy_of("postgresql", self._template("postgresql"))

    def copy_of(self, backend: str, source: str) -> str:
        """A new database copied from ``source`` (a SQLite file others may be reading; a PostgreSQL template)."""
        if backend == "sqlite":
            path = self.tmp.mktemp("db") / "federation.db"
            src, dst = sqlite3.connect(source), sqlite3.connect(path)
            try:
                src.backup(dst)  # a consistent snapshot, WAL and all, while other workers read the source
            finally:
                src.close()
                dst.close()
            return f"sqlite:///{path}"
        name = f"fedtest_{uuid.uuid4().hex[:12]}"
        admin, _ = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        admin.dispose()
        self.created.append(name)
        return _pg_url(name)

    def drop_all(self):
        if not self.created:
            return
        dispose_engines()
        _drop_pg(self.created)


@pytest.fixture(scope="session")
def fresh_databases(tmp_path_factory):
    dbs = FreshDatabases(tmp_path_factory)
    yield dbs
    dbs.drop_all()


class ScratchDatabases:
    """The worker's one reusable empty database per backend, emptied after every test that used it."""

    def __init__(self, fresh: FreshDatabases):
        self.fresh = fresh
        self.urls: dict[str, str] = {}

    def get(self, backend: str) -> str:
        if backend not in self.urls:
            self.urls[backend] = self.fresh.url(backend)
        return self.urls[backend]

    def empty(self, backend: str) -> None:
        """Back to an empty database at the newest revision; a test that left it unusable (a schema moved away
        from the newest revision, a connection still holding a lock) gets it replaced by a new copy."""
        url = self.urls.get(backend)
        if url is None:
            return
        _forget_connections()
        if backend == "sqlite" or not self._truncate(url):
            self.urls.pop(backend)

    @staticmethod
    def _truncate(url: str) -> bool:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if version != head_revision():
                    return False
                tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                # The audit log's triggers refuse TRUNCATE to the application; the test database's owner empties
                # it with triggers off for this transaction only.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            return True
        except Exception:  # noqa: BLE001 - any failure: replace the database rather than reuse it
            return False
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def scratch_databases(fresh_databases):
    return ScratchDatabases(fresh_databases)


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "federation.toml")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def empty_url(scratch_databases, backend):
    """URL of an empty database on each backend, its schema at the newest revision and no rows (the worker's scratch
    database, emptied again after the test)."""
    yield scratch_databases.get(backend)
    scratch_databases.empty(backend)


@pytest.fixture
def empty_engine(empty_url):
    """An empty database with the schema at the newest revision."""
    return get_engine(empty_url)


@pytest.fixture
def new_url(fresh_databases, backend):
    """URL of a brand-new database on each backend: no tables at all, not even the schema."""
    return fresh_databases.url(backend, schema=False)


_demo_urls: dict[str, str] = {}


@contextlib.contextmanager
def _file_lock(path: Path):
    """Holds an exclusive lock on ``path`` (created if need be) across processes: the xdist workers."""
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _shared_demo(backend: str, fresh: FreshDatabases, config, base: Path) -> tuple[str, str]:
    """The run's demo database for ``backend`` and the source its copies are made from (the SQLite file; on PostgreSQL
    a pristine template nobody connects to, as ``CREATE DATABASE … TEMPLATE`` needs): built by the first worker that
    asks, under a lock the others wait on."""
    run = os.environ.get(RUN_ENV, "solo")
    done = base / f"demo_{backend}.url"
    with _file_lock(base / f"demo_{backend}.lock"):
        if done.exists():
            url, source = done.read_text().split("\n")
            return url, source
        from data_layer import demo

        if backend == "sqlite":
            path = base / "demo_federation.db"
            shutil.copyfile(fresh._template("sqlite"), path)
            url = f"sqlite:///{path}"
        else:
            name = f"fedtest_demo_{run}"
            admin, _ = _pg_admin()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{fresh._template("postgresql")}"'))
            admin.dispose()
            url = _pg_url(name)
        demo.build(get_engine(url), config)
        _forget_connections()
        if backend == "sqlite":
            source = str(path)
        else:
            source = f"fedtest_demotpl_{run}"
            admin, _ = _pg_admin()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{source}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{source}" TEMPLATE "{name}"'))
            admin.dispose()
        done.write_text(f"{url}\n{source}")
        return url, source


def _shared_base(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one folder for every worker


@pytest.fixture
def demo_url(fresh_databases, backend, config, tmp_path_factory):
    """URL of a database holding the demo federation (built once per run and shared; read it, never change it)."""
    if backend not in _demo_urls:
        _demo_urls[backend] = _shared_demo(backend, fresh_databases, config, _shared_base(tmp_path_factory))[0]
    return _demo_urls[backend]


@pytest.fixture(scope="session")  # session-wide, so module-scoped fixtures (a browser's server) can use it too
def demo_copy(fresh_databases, config, tmp_path_factory):
    """``demo_copy(backend)``: a new database holding the demo federation, for a test to change as it likes. A copy
    of the run's demo (a second or two) instead of building it again (most of a minute, per module and backend)."""
    def make(backend: str) -> str:
        _, source = _shared_demo(backend, fresh_databases, config, _shared_base(tmp_path_factory))
        return fresh_databases.copy_of(backend, source)
    return make


@pytest.fixture
def demo_engine(demo_url):
    return get_engine(demo_url)


@pytest.fixture
def app_env(demo_url, monkeypatch):
    """Point the Streamlit app (run in-process by AppTest) at the demo database."""
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.chdir(ROOT)
    return demo_url


@pytest.fixture(autouse=True)
def _apptest_uses_st_navigation(monkeypatch):
    """AppTest (Streamlit 1.67) resets ``PagesManager.uses_pages_directory`` before every run and, because our pages
    live in ``pages/``, re-runs take the old pages-directory path: the page script runs alone, without the
    entry point's sidebar. The real server keeps the flag False once ``st.navigation`` is called, so tests do the same."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Tests point the app at different databases; the app's caches are per process (one database in production)."""
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def _close_connections_after_each_test():
    """Each test may open pools on fresh databases; close them so PostgreSQL never runs out of connections."""
    yield
    import streamlit as st

    st.cache_resource.clear()
    dispose_engines()
