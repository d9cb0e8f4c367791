"""comment search: full-text index of patient comments (SQLite FTS5, PostgreSQL tsvector)

Revision ID: 0008
Revises: 0007

The comments browser's search reads these instead of scanning every comment (``data_layer/comment_search.py``).

- SQLite: an FTS5 table over ``fft_responses.comment`` and ``comment_2`` (external content: the text stays in
  ``fft_responses``, the FTS table holds only the index), kept in step by triggers on insert, update and delete, so
  every writer (imports, the demo builder, a console) keeps it right without knowing about it; filled once here.
- PostgreSQL: a GIN index on the comments' tsvector (an expression index: no column to keep in step).

Neither is in the SQLAlchemy metadata; ``comment_search.include_name`` leaves them out of the models-vs-migrations
comparison. Note for later migrations on SQLite: batch mode on ``fft_responses`` re-creates the table and drops these
triggers; such a migration must call ``create_sqlite()`` again (and rebuild the index).
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

FTS = "fft_comment_search"
SQLITE = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(comment, comment_2, content='fft_responses', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON fft_responses BEGIN
        INSERT INTO {FTS}(rowid, comment, comment_2) VALUES (new.id, new.comment, new.comment_2);
        END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON fft_responses BEGIN
        INSERT INTO {FTS}({FTS}, rowid, comment, comment_2) VALUES ('delete', old.id, old.comment, old.comment_2);
        END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF comment, comment_2 ON fft_responses BEGIN
        INSERT INTO {FTS}({FTS}, rowid, comment, comment_2) VALUES ('delete', old.id, old.comment, old.comment_2);
        INSERT INTO {FTS}(rowid, comment, comment_2) VALUES (new.id, new.comment, new.comment_2);
        END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",  # the comments already there
]
POSTGRESQL = [
    """CREATE INDEX ix_fft_responses_comment_search ON fft_responses USING gin
        (to_tsvector('simple'::regconfig, coalesce(comment, '') || ' ' || coalesce(comment_2, '')))""",
]


def create_sqlite() -> None:
    for statement in SQLITE:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite()
    else:
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    else:
        op.execute("DROP INDEX IF EXISTS ix_fft_responses_comment_search")
