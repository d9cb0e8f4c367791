"""benchmark values: published figures for areas outside the federation and indicators outside the catalogue

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('benchmark_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('indicator_id', sa.String(length=160), nullable=False),
    sa.Column('indicator_name', sa.Text(), nullable=True),
    sa.Column('area_code', sa.String(length=20), nullable=False),
    sa.Column('area_name', sa.String(length=200), nullable=True),
    sa.Column('area_type', sa.String(length=80), nullable=True),
    sa.Column('period_label', sa.String(length=40), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=40), nullable=False),
    sa.Column('age', sa.String(length=60), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('numerator', sa.Float(), nullable=True),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('lower_ci', sa.Float(), nullable=True),
    sa.Column('upper_ci', sa.Float(), nullable=True),
    sa.Column('lower_ci_998', sa.Float(), nullable=True),
    sa.Column('upper_ci_998', sa.Float(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_benchmark_values_period_ordered')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_benchmark_values_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benchmark_values')),
    sa.UniqueConstraint('source', 'indicator_id', 'area_code', 'period_start', 'period_end', 'sex', 'age', 'category',
                        name='uq_benchmark_values_natural_key')
    )
    with op.batch_alter_table('benchmark_values', schema=None) as batch_op:
        batch_op.create_index('ix_benchmark_values_indicator_period', ['indicator_id', 'period_start'], unique=False)
        batch_op.create_index('ix_benchmark_values_area', ['area_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('benchmark_values', schema=None) as batch_op:
        batch_op.drop_index('ix_benchmark_values_area')
        batch_op.drop_index('ix_benchmark_values_indicator_period')
    op.drop_table('benchmark_values')
