"""Fast bulk writes shared by the demo builder and the importers.

PostgreSQL gets COPY (about a million rows a second); SQLite gets one executemany inside the caller's transaction.
``to_sql(method="multi")`` is 5–80× slower, so it is not used.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, insert

from .models import ImportBatch


def _python_value(v):
    """psycopg and sqlite3 need plain Python values (real dates, not strings or numpy scalars)."""
    if v is None:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is pd.NA:
        return None
    return v


def frame_records(df: pd.DataFrame, columns: Sequence[str]) -> list[tuple]:
    cols = []
    for c in columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            cols.append([None if pd.isna(x) else x.date() for x in s])
        else:
            cols.append([_python_value(x) for x in s.astype(object)])
    return list(zip(*cols)) if cols else []


def insert_frame(conn: Connection, table: Table, df: pd.DataFrame, chunk_rows: int = 200_000) -> int:
    """Insert every row of ``df`` (columns named as the table's) into ``table`` inside ``conn``'s transaction."""
    if df.empty:
        return 0
    columns = [c for c in df.columns if c in table.c]
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection  # psycopg 3 connection, same transaction
        col_sql = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur:
            with cur.copy(f'COPY "{table.name}" ({col_sql}) FROM STDIN') as copy:
                for start in range(0, len(df), chunk_rows):
                    for record in frame_records(df.iloc[start : start + chunk_rows], columns):
                        copy.write_row(record)
    else:
        stmt = insert(table)
        for start in range(0, len(df), chunk_rows):
            part = df.iloc[start : start + chunk_rows]
            records = frame_records(part, columns)
            conn.execute(stmt, [dict(zip(columns, r)) for r in records])
    return len(df)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_batch(
    conn: Connection,
    kind: str,
    file_name: str,
    sha256: str,
    imported_by: str,
    rows_new: int = 0,
    rows_updated: int = 0,
    rows_unchanged: int = 0,
) -> int:
    """Write an import batch row and return its id (call inside the import's transaction)."""
    result = conn.execute(
        insert(ImportBatch).values(
            kind=kind,
            file_name=file_name,
            sha256=sha256,
            imported_by=imported_by,
            rows_new=rows_new,
            rows_updated=rows_updated,
            rows_unchanged=rows_unchanged,
            imported_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
    )
    return result.inserted_primary_key[0]
