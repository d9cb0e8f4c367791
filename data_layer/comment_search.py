"""Full-text search of patients' comments: SQLite FTS5 and PostgreSQL full-text search, instead of a substring scan
of every comment in the selection.

The index is made by migration 0008 (``data_layer/migrations/versions/0008_comment_search.py``) and kept in step with
``fft_responses`` by the database itself: on SQLite an FTS5 table over the two comment columns, filled by triggers on
every insert, update and delete; on PostgreSQL a GIN index on the comments' ``tsvector``. Both read words the same
way (letters and digits, any case, accents kept, no stemming or stop words), and each word of a search matches a word
that starts with it ("recep" finds "reception"), so the two backends find the same comments. Results are ranked by
relevance (SQLite's bm25, PostgreSQL's ts_rank), newest first among equals.

Neither index is in the SQLAlchemy models (an FTS5 table and an expression index cannot be declared there):
``include_name`` keeps them out of the comparison of the models with the database.
"""
from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator

from sqlalchemy import Float, Integer, func, literal_column, text
from sqlalchemy.sql import ColumnElement, Subquery

FTS_TABLE = "fft_comment_search"  # SQLite: the FTS5 table (its shadow tables start with the same name)
SQLITE_INSERT_TRIGGER = f"{FTS_TABLE}_insert"  # indexes each new response as it is inserted (migration 0008)
PG_INDEX = "ix_fft_responses_comment_search"
PG_CONFIG = "simple"  # no stemming and no stop words: as SQLite's unicode61 tokenizer reads words
# The indexed text: both answers, as one document. PostgreSQL uses the index only for this exact expression.
PG_DOCUMENT = ("to_tsvector('simple'::regconfig, coalesce(fft_responses.comment, '') || ' ' || "
               "coalesce(fft_responses.comment_2, ''))")
_WORD = re.compile(r"[^\W_]+")


def search_words(search: str | None) -> list[str]:
    """The words of a search, as the indexes read words: letters and digits, lower case."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(search or "")))


def words_in(text: str | None, words: list[str]) -> bool:
    """Whether every search word starts a word of ``text`` (the same test as the index's, for redacted text)."""
    have = _WORD.findall((text or "").lower())
    return all(any(h.startswith(w) for h in have) for w in words)


def sqlite_matches(words: list[str]) -> Subquery:
    """SQLite: (id, rank) of the responses whose comments hold every word; lower rank is a better match."""
    query = " ".join(f'"{w}"*' for w in words)  # each word a prefix; words are letters and digits only
    stmt = text(f"SELECT rowid AS id, bm25({FTS_TABLE}) AS rank FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q")
    return stmt.bindparams(q=query).columns(id=Integer, rank=Float).subquery("comment_matches")


def postgresql_condition(words: list[str]) -> tuple[ColumnElement, ColumnElement]:
    """PostgreSQL: (the condition, the rank) for responses whose comments hold every word; higher rank is better."""
    query = " & ".join(f"{w}:*" for w in words)
    document = literal_column(PG_DOCUMENT)

    def tsquery():
        return func.to_tsquery(literal_column(f"'{PG_CONFIG}'::regconfig"), query)

    return document.op("@@")(tsquery()), func.ts_rank(document, tsquery())


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's comparison of the models with the database: leave out the search indexes (not in the models)."""
    if type_ == "table" and name and str(name).startswith(FTS_TABLE):
        return False
    if type_ == "index" and name == PG_INDEX:
        return False
    return True


@contextlib.contextmanager
def sqlite_indexed_after(raw: sqlite3.Connection, table_name: str) -> Iterator[None]:
    """Inserts of many responses into SQLite's ``fft_responses`` indexed once at the end instead of row by row.

    The insert trigger indexes one row at a time (2.2 CPU-s for 200,000 responses here); one ``INSERT … SELECT`` of
    the new rows afterwards costs a tenth of that. Inside the caller's transaction the trigger is dropped, the rows go
    in, the new rows (ids above the largest before: SQLite gives a new row the largest id plus one) are indexed as
    the trigger would have, and the trigger is created again from its own stored text: all in the one transaction,
    so no other connection ever sees the table without its trigger, and a failure rolls all of it back. Any other
    table, or a connection with no transaction open (DDL would commit on its own), is left to the trigger."""
    trigger = None
    if table_name == "fft_responses" and raw.in_transaction:
        found = raw.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                            (SQLITE_INSERT_TRIGGER,)).fetchone()
        trigger = found[0] if found else None
    if trigger is None:
        yield
        return
    before = raw.execute("SELECT coalesce(max(id), 0) FROM fft_responses").fetchone()[0]
    raw.execute(f'DROP TRIGGER "{SQLITE_INSERT_TRIGGER}"')
    try:
        yield
        raw.execute(f"INSERT INTO {FTS_TABLE}(rowid, comment, comment_2) "
                    "SELECT id, comment, comment_2 FROM fft_responses WHERE id > ?", (before,))
    finally:
        with contextlib.suppress(sqlite3.Error):  # a transaction SQLite already rolled back has the trigger again
            raw.execute(trigger)
