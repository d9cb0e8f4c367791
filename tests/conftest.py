"""Shared fixtures: databases on both backends.

SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). Each test that writes gets a fresh, empty
database; the demo federation is built once per backend per session and must only be read.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data_layer.config import load_config
from data_layer.db import dispose_engines, get_engine, make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
SHARED_NHS = ROOT.parent / "shared" / "data" / "nhs"
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_admin():
    url = make_url(PG_URL)
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT"), url


class FreshDatabases:
    """Creates empty databases and drops them again at the end."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.created: list[str] = []

    def url(self, backend: str, schema: bool = True) -> str:
        """A new database; with ``schema`` (the default) upgraded explicitly to the newest revision, as
        ``python -m data_layer db upgrade`` would (the app and ``get_engine`` never migrate)."""
        if backend == "sqlite":
            url = f"sqlite:///{self.tmp.mktemp('db') / 'federation.db'}"
        else:
            admin, pg = _pg_admin()
            name = f"fedtest_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            self.created.append(name)
            url = pg.set(database=name).render_as_string(hide_password=False)
        if schema:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        return url

    def drop_all(self):
        if not self.created:
            return
        dispose_engines()
        admin, _ = _pg_admin()
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def fresh_databases(tmp_path_factory):
    dbs = FreshDatabases(tmp_path_factory)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "federation.toml")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def empty_url(fresh_databases, backend):
    """URL of a new database on each backend, its schema at the newest revision and no rows."""
    return fresh_databases.url(backend)


@pytest.fixture
def empty_engine(empty_url):
    """A new database with the schema at the newest revision."""
    return get_engine(empty_url)


@pytest.fixture
def new_url(fresh_databases, backend):
    """URL of a brand-new database on each backend: no tables at all, not even the schema."""
    return fresh_databases.url(backend, schema=False)


_demo_urls: dict[str, str] = {}


@pytest.fixture
def demo_url(fresh_databases, backend, config):
    """URL of a database holding the demo federation (built once per backend; read it, never change it)."""
    if backend not in _demo_urls:
        from data_layer import demo

        url = fresh_databases.url(backend)
        demo.build(get_engine(url), config)
        _demo_urls[backend] = url
    return _demo_urls[backend]


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
