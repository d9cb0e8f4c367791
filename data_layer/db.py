"""Database connection and schema upgrades.

``DATABASE_URL`` selects the database; the default is an SQLite file inside the project (``data/federation.db``).
Both the app and the CLI call :func:`get_engine`, which brings the schema to the newest Alembic revision first, so a
fresh machine needs no separate migration step.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'federation.db'}"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the app read while an import writes.
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    """A new engine for ``url`` (no migrations run)."""
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for ``url``, with the schema brought to the newest revision (once per process)."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            upgrade(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def is_empty(engine: Engine) -> bool:
    """True when the database has no practices yet (a fresh install)."""
    from sqlalchemy import func, select

    from .models import Practice

    if "practices" not in inspect(engine).get_table_names():
        return True
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Practice)).scalar_one() == 0


def tuples(result) -> list[tuple]:
    """A query result's rows as plain tuples, for ``pd.DataFrame(tuples(conn.execute(stmt)), columns=...)``.

    SQLAlchemy 2.1's rows are not tuples, so pandas probes each one with ``hasattr(row, "dtype")``, which raises and
    catches an exception inside SQLAlchemy per row: ten times slower than building the frame from tuples (seconds
    on an ICB's 400,000 indicator values)."""
    return [tuple(r) for r in result]
