"""Database connection and schema upgrades.

``DATABASE_URL`` selects the database; the default is an SQLite file inside the project (``data/federation.db``).

Schema upgrades are explicit: ``python -m data_layer db upgrade`` brings the schema to the newest Alembic revision
(``db current`` prints where it is). :func:`get_engine` never migrates: it refuses a database whose schema is not at
the newest revision with :class:`SchemaError`, whose message names the command to run, so two app servers and a cron
import started together never race on migrations. The one exception keeps the quick start: a brand-new database
with no tables at all may be created at the newest revision by :func:`create_if_new` (the app's first start on the
demo, and ``init``). Every upgrade holds a lock across processes (PostgreSQL: an advisory lock; SQLite: a lock file
beside the database), so concurrent upgrades run one after the other.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'federation.db'}"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_COMMAND = "python -m data_layer db upgrade"
INIT_COMMAND = "python -m data_layer init"
# An arbitrary constant: the key of the PostgreSQL advisory lock every schema upgrade takes.
_PG_LOCK_KEY = 0x6665645F6462  # "fed_db"

_engines: dict[str, Engine] = {}
_checked: set[str] = set()  # URLs whose schema this process has found at the newest revision
_lock = threading.Lock()


class SchemaError(Exception):
    """The database's schema is not the one this version of the code needs; the message says what to run."""

    def __init__(self, state: "SchemaState"):
        self.state = state
        super().__init__(state.message)


class UpgradeBusy(Exception):
    """Another process is upgrading the schema right now (only raised when asked not to wait)."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands: ``status`` is one of

    * ``current``: at the newest revision this code knows;
    * ``new``: no tables at all (a brand-new database);
    * ``behind``: an older revision (run ``db upgrade``);
    * ``ahead``: a revision this code does not know (the database was upgraded by a newer version of the code);
    * ``unversioned``: tables but no Alembic revision (not made by this dashboard's migrations).
    """

    status: str
    revision: str | None
    head: str

    @property
    def ok(self) -> bool:
        return self.status == "current"

    @property
    def message(self) -> str:
        if self.status == "current":
            return f"The database schema is at the newest revision ({self.head})."
        if self.status == "new":
            return (f"The database is empty (no tables yet). Create the schema with `{UPGRADE_COMMAND}` "
                    f"(or build the demo federation with `{INIT_COMMAND} --demo`).")
        if self.status == "behind":
            return (f"The database schema is older than this version of the dashboard needs (revision "
                    f"{self.revision}, newest {self.head}). Bring it up to date with `{UPGRADE_COMMAND}`.")
        if self.status == "ahead":
            return (f"The database schema (revision {self.revision}) is newer than this version of the dashboard "
                    f"knows (newest {self.head}): it was upgraded by a newer version. Run that version, or "
                    "restore a backup made before the upgrade.")
        return ("The database holds tables but no schema revision, so it was not created by this dashboard. Point "
                "DATABASE_URL at the dashboard's own database, or at a new, empty one and run "
                f"`{UPGRADE_COMMAND}`.")


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
    """A new engine for ``url`` (no migrations run, the schema is not checked)."""
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            with contextlib.suppress(OSError):  # an unusable path fails on connect, as a database fault
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


@functools.lru_cache(maxsize=1)
def _script_revisions() -> tuple[str, frozenset[str]]:
    """(head, every known revision) of the migration scripts shipped with this code."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return script.get_current_head(), frozenset(s.revision for s in script.walk_revisions())


def head_revision() -> str:
    return _script_revisions()[0]


def schema_state(engine: Engine) -> SchemaState:
    """Where the database's schema stands (one or two small queries). Raises the driver's error when the database
    cannot be reached."""
    from sqlalchemy.exc import DBAPIError

    head, known = _script_revisions()
    with engine.connect() as conn:
        try:  # the common case in one small query (the app checks on every run)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            conn.rollback()
            insp = inspect(conn)  # no version table (or the database went away: this raises again)
            if insp.has_table("alembic_version"):
                raise
            return SchemaState("unversioned" if insp.get_table_names() else "new", None, head)
    if revision is None:
        return SchemaState("new", None, head)  # downgraded to base: the version table is all that is left
    if revision == head:
        return SchemaState("current", revision, head)
    return SchemaState("behind" if revision in known else "ahead", revision, head)


@contextlib.contextmanager
def schema_lock(engine: Engine, wait: bool = True):
    """Held while the schema is upgraded (or a first-start demo is built), across processes and servers.

    PostgreSQL: a session advisory lock on a connection of its own. SQLite: an exclusive ``flock`` on a file beside
    the database. With ``wait=False`` raises :class:`UpgradeBusy` instead of waiting for another holder."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY}).scalar():
                raise UpgradeBusy("another process is upgrading the database schema right now")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with _lock:
            yield
        return
    import fcntl

    path = Path(database).with_name(Path(database).name + "-schema-lock")
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UpgradeBusy("another process is upgrading the database schema right now") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head", wait: bool = True) -> tuple[str | None, str | None]:
    """Bring the schema to ``revision`` under the schema lock. Returns (revision before, revision after)."""
    from alembic import command

    with schema_lock(engine, wait=wait):
        before = schema_state(engine)
        if before.status in ("ahead", "unversioned"):
            raise SchemaError(before)
        command.upgrade(alembic_config(engine), revision)
        after = schema_state(engine)
    return before.revision, after.revision


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with schema_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def create_if_new(engine: Engine) -> bool:
    """Create the schema at the newest revision, but only on a brand-new database (no tables at all). Returns True
    when it created it. Any other state is left alone (:func:`get_engine` then says what to do)."""
    if schema_state(engine).status != "new":
        return False
    from alembic import command

    with schema_lock(engine):
        if schema_state(engine).status != "new":  # another server created it while this one waited
            return False
        command.upgrade(alembic_config(engine), "head")
    return True


def shared_engine(url: str | None = None) -> Engine:
    """The process's one engine (connection pool) for ``url``, schema unchecked: for probing the schema's state.
    Everything else uses :func:`get_engine`."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for ``url``, once its schema is known to be at the newest revision (checked once per
    process). Raises :class:`SchemaError` (not remembered: the next call checks again) when it is not, and the
    driver's error when the database cannot be reached. Never migrates."""
    url = url or database_url()
    engine = shared_engine(url)
    if url in _checked:
        return engine
    state = schema_state(engine)
    if not state.ok:
        raise SchemaError(state)
    with _lock:
        _checked.add(url)
    return engine


def engine_for_new_or_current(url: str | None = None) -> Engine:
    """:func:`get_engine`, after creating the schema if the database is brand-new (no tables): for tools that fill a
    database they have just made (benchmarks). An older schema still raises :class:`SchemaError`."""
    url = url or database_url()
    create_if_new(shared_engine(url))
    return get_engine(url)


def forget_engine(url: str | None = None) -> None:
    """Drop the shared engine for ``url`` (after a database fault, or once its schema changed under it), so the next
    call connects and checks afresh."""
    url = url or database_url()
    with _lock:
        engine = _engines.pop(url, None)
        _checked.discard(url)
    if engine is not None:
        engine.dispose()


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _checked.clear()


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
