"""audit protection: the database refuses UPDATE and DELETE on audit_log

Revision ID: 0005
Revises: 0004

The application only ever inserts audit rows; these triggers make the database refuse to change or remove one, so
nobody with ordinary database access (a script, a console, a compromised app account) can rewrite the trail without
first dropping the trigger, which itself needs the owner's rights (on PostgreSQL, run the app as a role that does
not own the tables). No model change: triggers are not part of the SQLAlchemy metadata.

Note for later migrations on SQLite: batch mode (``op.batch_alter_table('audit_log')``) re-creates the table and so
drops these triggers; a migration that alters audit_log must create them again (``create_triggers()`` below).
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MESSAGE = "audit_log is append-only: rows may be added, never changed or removed"

SQLITE = [
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
        END
        $$""",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    # TRUNCATE fires no row trigger: refuse it with a statement trigger.
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)


def upgrade() -> None:
    create_triggers()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update" + ("" if dialect == "sqlite" else " ON audit_log"))
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete" + ("" if dialect == "sqlite" else " ON audit_log"))
    if dialect != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
