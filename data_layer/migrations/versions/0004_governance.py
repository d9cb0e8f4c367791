"""governance: actions and their history, notes on the charts

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('owner_email', sa.String(length=255), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('indicator_code', sa.String(length=40), nullable=True),
        sa.Column('practice_code', sa.String(length=10), nullable=True),
        sa.Column('pcn', sa.String(length=200), nullable=True),
        sa.Column('quality_statement', sa.String(length=200), nullable=True),
        sa.Column('aim_id', sa.String(length=60), nullable=True),
        sa.Column('attention_key', sa.String(length=200), nullable=True),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open','in_progress','done','dropped')", name=op.f('ck_actions_status_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
    )
    op.create_index('ix_actions_status_due', 'actions', ['status', 'due_on'])
    op.create_index('ix_actions_practice', 'actions', ['practice_code'])
    op.create_index('ix_actions_indicator', 'actions', ['indicator_code'])
    op.create_table(
        'action_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('changes', sa.Text(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_updates_action_id_actions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_updates')),
    )
    op.create_index('ix_action_updates_action', 'action_updates', ['action_id', 'at'])
    op.create_table(
        'chart_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_code', sa.String(length=40), nullable=False),
        sa.Column('practice_code', sa.String(length=10), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('rebase', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chart_notes')),
        sa.UniqueConstraint('indicator_code', 'practice_code', 'month', 'text', name='uq_chart_notes_natural_key'),
    )
    op.create_index('ix_chart_notes_indicator', 'chart_notes', ['indicator_code', 'practice_code'])


def downgrade() -> None:
    op.drop_index('ix_chart_notes_indicator', table_name='chart_notes')
    op.drop_table('chart_notes')
    op.drop_index('ix_action_updates_action', table_name='action_updates')
    op.drop_table('action_updates')
    op.drop_index('ix_actions_indicator', table_name='actions')
    op.drop_index('ix_actions_practice', table_name='actions')
    op.drop_index('ix_actions_status_due', table_name='actions')
    op.drop_table('actions')
