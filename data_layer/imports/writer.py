"""Writing checked rows: matched on their natural key, counted as new, updated or unchanged, written in the import's
one transaction.

Existing rows are compared by 64-bit hashes of their key and of their values, loaded lazily per practice (or
indicator), so re-importing a million rows needs a few tens of megabytes rather than a copy of the table.
New rows go in with COPY on PostgreSQL and one ``executemany`` of plain tuples on SQLite (the generic
``bulk.insert_frame`` converts value by value and is several times slower at a million rows).
"""
from __future__ import annotations

import contextlib
import csv
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, DateTime, Float, Integer, Table, bindparam, select, update

from ..bulk import frame_records
from ..comment_search import sqlite_indexed_after

NULL_STR = "\x00null"
NULL_NUM = -1.2345e300


@dataclass(frozen=True)
class Target:
    """Where rows go: the table, its natural key, and how to load existing rows for comparison."""

    table: Table
    keys: tuple[str, ...]
    scope: str | None = None  # load existing rows for the scope values a chunk mentions (None: the whole table)
    insert: bool = True  # False: update existing rows only (published files never create practices)
    empty_strings: tuple[str, ...] = ()  # NOT NULL text columns where an empty string is a value

    @property
    def name(self) -> str:
        return self.table.name


def column_kind(table: Table, name: str) -> str:
    t = table.c[name].type
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, DateTime):
        return "datetime"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Integer):
        return "int"
    if isinstance(t, Float):
        return "float"
    return "str"


def _column_hash(s: pd.Series, kind: str) -> np.ndarray:
    """64-bit hash per value, the same whether the value came from the file or from the database. Only compared
    within one process (Python's string hash is salted per process), never stored."""
    if kind in ("date", "datetime"):
        d = pd.to_datetime(s, errors="coerce")
        days = d.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype("int64")
        return days.view("uint64")
    if kind in ("int", "bool", "float"):
        x = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        x = np.round(x, 9) + 0.0  # + 0.0 turns -0.0 into 0.0
        return np.where(np.isnan(x), NULL_NUM, x).view("uint64")
    values = s.to_numpy(dtype=object, na_value=NULL_STR).tolist() if s.dtype != object else \
        s.where(s.notna(), NULL_STR).tolist()
    return np.fromiter(map(hash, values), dtype="int64", count=len(values)).view("uint64")


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits so combined column hashes do not collide by accident."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def row_hash(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], table: Table | None = None,
             kind: str | None = None) -> np.ndarray:
    """One 64-bit hash per row over ``columns``, typed by the table's columns (or all as ``kind``)."""
    h = np.full(len(frame), 0x9E3779B97F4A7C15, dtype="uint64")
    with np.errstate(over="ignore"):
        for c in columns:
            h = _mix(h ^ _column_hash(frame[c], kind or column_kind(table, c)))
    return h


class ExistingRows:
    """id and value hash of the rows already in the table, by key hash."""

    def __init__(self, target: Target, value_cols: list[str]):
        self.target = target
        self.value_cols = value_cols
        self.loaded: set | None = None  # scope values loaded so far (None: nothing yet)
        self.key_hash = np.empty(0, dtype="uint64")
        self.ids = np.empty(0, dtype="int64")
        self.value_hash = np.empty(0, dtype="uint64")
        self._sorted = True

    def ensure(self, conn: Connection, scope_values) -> None:
        t = self.target.table
        cols = [t.c.id, *[t.c[k] for k in self.target.keys], *[t.c[v] for v in self.value_cols]]
        names = ["id", *self.target.keys, *self.value_cols]
        if self.target.scope is None:
            if self.loaded is not None:
                return
            self.loaded = set()
            self._load(conn, [select(*cols)], names)
            return
        if self.loaded is None:
            self.loaded = set()
        wanted = [v for v in pd.unique(np.asarray(scope_values, dtype=object)) if v not in self.loaded and
                  not pd.isna(v)]
        if not wanted:
            return
        self.loaded.update(wanted)
        stmts = [select(*cols).where(t.c[self.target.scope].in_([_plain(v) for v in wanted[i : i + 500]]))
                 for i in range(0, len(wanted), 500)]
        self._load(conn, stmts, names)

    def _load(self, conn: Connection, stmts, names) -> None:
        keys, ids, values = [self.key_hash], [self.ids], [self.value_hash]
        for stmt in stmts:
            # Straight from the driver: SQLAlchemy's per-value type processing (dates on SQLite) would cost more
            # than everything else here; the hashes read dates as ISO text and as date objects alike.
            compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            params = compiled.construct_params()
            args = tuple(params[k] for k in compiled.positiontup) if compiled.positional else params
            raw = conn.connection.driver_connection  # same transaction; plain tuples
            # PostgreSQL: a server-side cursor, so a million existing rows stream rather than land in memory at once.
            cursor = raw.cursor(name="import_existing_rows") if conn.dialect.name == "postgresql" else raw.cursor()
            cursor.execute(str(compiled), args)
            while True:
                rows = cursor.fetchmany(200_000)
                if not rows:
                    cursor.close()
                    break
                df = pd.DataFrame(rows, columns=names)
                keys.append(row_hash(df, self.target.keys, self.target.table))
                values.append(row_hash(df, self.value_cols, self.target.table))
                ids.append(df["id"].to_numpy(dtype="int64"))
        self.key_hash = np.concatenate(keys)
        self.ids = np.concatenate(ids)
        self.value_hash = np.concatenate(values)
        order = np.argsort(self.key_hash, kind="stable")
        self.key_hash, self.ids, self.value_hash = self.key_hash[order], self.ids[order], self.value_hash[order]

    def lookup(self, key_hash: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found, ids, value hashes) for each key hash."""
        if len(self.key_hash) == 0:
            n = len(key_hash)
            return np.zeros(n, dtype=bool), np.zeros(n, dtype="int64"), np.zeros(n, dtype="uint64")
        pos = np.searchsorted(self.key_hash, key_hash)
        pos_c = np.minimum(pos, len(self.key_hash) - 1)
        found = self.key_hash[pos_c] == key_hash
        return found, self.ids[pos_c], self.value_hash[pos_c]


def _plain(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, pd.Timestamp):
        return v.date()
    return v


class Writer:
    """Applies checked frames to their tables inside one connection's transaction, counting what happened."""

    def __init__(self, conn: Connection, dry_run: bool = False):
        self.conn = conn
        self.dry_run = dry_run
        self.existing: dict[str, ExistingRows] = {}
        self.counts: dict[str, Counter] = {}
        self.rows: dict[str, list[int]] = {"new": [], "updated": []}  # the file's row numbers, first ones only

    def changed_rows(self, limit: int = 1_000) -> dict[str, list[int]]:
        return {k: sorted(v)[:limit] for k, v in self.rows.items()}

    def _note_rows(self, what: str, rows, mask: np.ndarray, limit: int = 1_000) -> None:
        if rows is None or len(self.rows[what]) >= limit or not mask.any():
            return
        picked = np.asarray(rows)[mask]
        picked = picked[~pd.isna(picked)][: limit - len(self.rows[what])]
        self.rows[what].extend(int(r) for r in picked)

    def totals(self) -> Counter:
        total: Counter = Counter()
        for c in self.counts.values():
            total.update(c)
        return total

    def apply(self, target: Target, frame: pd.DataFrame, batch_id: int | None, rows=None) -> Counter:
        """``rows``: the file's row number of each row of ``frame`` (for the report), when known."""
        table = target.table
        counts = self.counts.setdefault(target.name, Counter(new=0, updated=0, unchanged=0))
        if frame.empty:
            return counts
        value_cols = [c for c in frame.columns if c in table.c and c not in target.keys and c not in ("id", "batch_id")]
        existing = self.existing.get(target.name)
        if existing is None or existing.value_cols != value_cols:
            existing = self.existing[target.name] = ExistingRows(target, value_cols)
        existing.ensure(self.conn, frame[target.scope] if target.scope else None)
        if len(existing.key_hash) == 0:  # nothing there yet (a first import): every row is new, no hashing needed
            found = np.zeros(len(frame), dtype=bool)
            changed = found
            ids = np.zeros(len(frame), dtype="int64")
        else:
            key_hash = row_hash(frame, target.keys, table)
            found, ids, old_values = existing.lookup(key_hash)
            changed = np.zeros(len(frame), dtype=bool)
            if found.any():
                changed[found] = old_values[found] != row_hash(frame[found], value_cols, table)
        new = ~found
        if not target.insert and new.any():
            raise RuntimeError(f"{int(new.sum())} rows for {table.name} have no existing row to update")
        counts["new"] += int(new.sum())
        counts["updated"] += int(changed.sum())
        self._note_rows("new", rows, new)
        self._note_rows("updated", rows, changed)
        counts["unchanged"] += int((found & ~changed).sum())
        if self.dry_run:
            return counts
        if new.any():
            rows = frame.loc[new, [*target.keys, *value_cols]]
            if batch_id is not None and "batch_id" in table.c:
                rows = rows.assign(batch_id=batch_id)
            insert_rows(self.conn, target, rows.sort_values(list(target.keys), kind="stable"))
        if changed.any():
            rows = frame.loc[changed, value_cols].assign(_id=ids[changed])
            if batch_id is not None and "batch_id" in table.c:
                rows = rows.assign(batch_id=batch_id)
            update_rows(self.conn, table, rows)
        return counts


def _pylist(s: pd.Series, kind: str) -> list:
    if kind in ("date", "datetime"):
        d = pd.to_datetime(s, errors="coerce")
        fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S.%f"
        return d.dt.strftime(fmt).astype(object).where(d.notna(), None).tolist()
    if kind in ("int", "bool"):
        x = pd.to_numeric(s, errors="coerce")
        missing = x.isna()
        ints = x.fillna(0).astype("int64").tolist()  # plain Python ints (sqlite3 cannot bind numpy scalars)
        if not missing.any():
            return ints
        return [None if m else v for v, m in zip(ints, missing.tolist())]
    if kind == "float":
        x = pd.to_numeric(s, errors="coerce").astype("float64")
        return x.astype(object).where(x.notna(), None).tolist()
    if s.dtype == object:
        return s.where(s.notna(), None).tolist()
    return s.to_numpy(dtype=object, na_value=None).tolist()


def insert_rows(conn: Connection, target: Target, frame: pd.DataFrame, chunk_rows: int = 100_000) -> None:
    table = target.table
    columns = [c for c in frame.columns if c in table.c]
    kinds = {c: column_kind(table, c) for c in columns}
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection  # psycopg 3 connection, same transaction
        col_sql = ", ".join(f'"{c}"' for c in columns)
        force = [c for c in target.empty_strings if c in columns]
        options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(force)})" if force else "")
        out = frame[columns].copy()
        for c, k in kinds.items():
            if k in ("int", "bool"):
                out[c] = pd.array(pd.to_numeric(out[c], errors="coerce"), dtype="Int64")
        with raw.cursor() as cur:
            with cur.copy(f'COPY "{table.name}" ({col_sql}) FROM STDIN WITH ({options})') as copy:
                for start in range(0, len(out), chunk_rows):
                    part = out.iloc[start : start + chunk_rows]
                    copy.write(part.to_csv(index=False, header=False, date_format="%Y-%m-%d",
                                           quoting=csv.QUOTE_MINIMAL, lineterminator="\n"))
        return
    raw = conn.connection.driver_connection  # sqlite3 connection, same transaction
    sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
    with sqlite_indexed_after(raw, table.name) if len(frame) >= 1_000 else contextlib.nullcontext():
        for start in range(0, len(frame), chunk_rows):
            part = frame.iloc[start : start + chunk_rows]
            rows = list(zip(*[_pylist(part[c], kinds[c]) for c in columns]))
            raw.executemany(sql, rows)


def update_rows(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    cols = [c for c in frame.columns if c != "_id"]
    stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in cols})
    records = frame_records(frame, ["_id", *cols])
    names = ["_id", *cols]
    for start in range(0, len(records), 50_000):
        conn.execute(stmt, [dict(zip(names, r)) for r in records[start : start + 50_000]])
