"""measure store: figures worked out once per import, FFT summaries and comment themes

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'measure_values',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_code', sa.String(length=40), nullable=False),
        sa.Column('area_type', sa.String(length=12), nullable=False),
        sa.Column('area_code', sa.String(length=200), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('numerator', sa.Float(), nullable=True),
        sa.Column('denominator', sa.Float(), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('lower_ci', sa.Float(), nullable=True),
        sa.Column('upper_ci', sa.Float(), nullable=True),
        sa.Column('suppressed', sa.Boolean(), nullable=False),
        sa.Column('suppression_reason', sa.String(length=80), nullable=True),
        sa.Column('small', sa.Boolean(), nullable=False),
        sa.Column('refresh_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_values')),
        sa.UniqueConstraint('indicator_code', 'area_type', 'area_code', 'period_start',
                            name='uq_measure_values_natural_key'),
    )
    op.create_index('ix_measure_values_area', 'measure_values', ['area_type', 'area_code'])
    op.create_index('ix_measure_values_type_period', 'measure_values', ['area_type', 'period_start'])
    op.create_table(
        'measure_evaluations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_code', sa.String(length=40), nullable=False),
        sa.Column('area_type', sa.String(length=12), nullable=False),
        sa.Column('area_code', sa.String(length=200), nullable=False),
        sa.Column('as_at', sa.Date(), nullable=False),
        sa.Column('latest_period', sa.Date(), nullable=True),
        sa.Column('period_months', sa.Integer(), nullable=False),
        sa.Column('numerator', sa.Float(), nullable=True),
        sa.Column('denominator', sa.Float(), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('lower_ci', sa.Float(), nullable=True),
        sa.Column('upper_ci', sa.Float(), nullable=True),
        sa.Column('previous_value', sa.Float(), nullable=True),
        sa.Column('change', sa.Float(), nullable=True),
        sa.Column('judgement', sa.String(length=20), nullable=False),
        sa.Column('rag', sa.String(length=10), nullable=False),
        sa.Column('variation', sa.String(length=30), nullable=False),
        sa.Column('assurance', sa.String(length=20), nullable=False),
        sa.Column('rules', sa.Text(), nullable=True),
        sa.Column('trial_limits', sa.Boolean(), nullable=False),
        sa.Column('n_points', sa.Integer(), nullable=False),
        sa.Column('mean', sa.Float(), nullable=True),
        sa.Column('lower_limit', sa.Float(), nullable=True),
        sa.Column('upper_limit', sa.Float(), nullable=True),
        sa.Column('window_start', sa.Date(), nullable=True),
        sa.Column('comparison', sa.String(length=20), nullable=False),
        sa.Column('refresh_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_evaluations')),
        sa.UniqueConstraint('indicator_code', 'area_type', 'area_code', 'as_at',
                            name='uq_measure_evaluations_natural_key'),
    )
    op.create_index('ix_measure_evaluations_type_as_at', 'measure_evaluations', ['area_type', 'as_at'])
    op.create_table(
        'measure_refreshes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('values_written', sa.Integer(), nullable=False),
        sa.Column('evaluations_written', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_refreshes')),
    )
    op.create_table(
        'fft_summary',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('scale', sa.String(length=10), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('responses', sa.Integer(), nullable=False),
        sa.Column('comments', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fft_summary')),
        sa.UniqueConstraint('practice_id', 'month', 'scale', 'rating', 'mode', name='uq_fft_summary_natural_key'),
    )
    op.create_table(
        'comment_themes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('theme', sa.String(length=60), nullable=False),
        sa.Column('sentiment', sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_themes')),
        sa.UniqueConstraint('response_id', 'theme', name='uq_comment_themes_natural_key'),
    )
    op.create_index('ix_comment_themes_practice_month', 'comment_themes', ['practice_id', 'month'])


def downgrade() -> None:
    op.drop_index('ix_comment_themes_practice_month', table_name='comment_themes')
    op.drop_table('comment_themes')
    op.drop_table('fft_summary')
    op.drop_table('measure_refreshes')
    op.drop_index('ix_measure_evaluations_type_as_at', table_name='measure_evaluations')
    op.drop_table('measure_evaluations')
    op.drop_index('ix_measure_values_type_period', table_name='measure_values')
    op.drop_index('ix_measure_values_area', table_name='measure_values')
    op.drop_table('measure_values')
