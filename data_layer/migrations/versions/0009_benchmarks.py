"""benchmarks: each area's figure beside England, region, ICB, sub-ICB and PCN, compared once in the measure store

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'measure_benchmarks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_code', sa.String(length=40), nullable=False),
        sa.Column('area_type', sa.String(length=12), nullable=False),
        sa.Column('area_code', sa.String(length=200), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('period_label', sa.String(length=40), nullable=False),
        sa.Column('level', sa.String(length=12), nullable=False),
        sa.Column('benchmark_code', sa.String(length=20), nullable=False),
        sa.Column('benchmark_name', sa.String(length=200), nullable=True),
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('source_indicator', sa.String(length=160), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('lower_ci', sa.Float(), nullable=True),
        sa.Column('upper_ci', sa.Float(), nullable=True),
        sa.Column('area_value', sa.Float(), nullable=True),
        sa.Column('area_lower_ci', sa.Float(), nullable=True),
        sa.Column('area_upper_ci', sa.Float(), nullable=True),
        sa.Column('comparison', sa.String(length=20), nullable=False),
        sa.Column('refresh_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_benchmarks')),
        sa.UniqueConstraint('indicator_code', 'area_type', 'area_code', 'period_start', 'level',
                            name='uq_measure_benchmarks_natural_key'),
    )
    op.create_index('ix_measure_benchmarks_area', 'measure_benchmarks', ['area_type', 'area_code'])


def downgrade() -> None:
    op.drop_index('ix_measure_benchmarks_area', table_name='measure_benchmarks')
    op.drop_table('measure_benchmarks')
