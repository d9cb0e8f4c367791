"""evidence register: documents and records by CQC quality statement and evidence category, with stored files

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DOCUMENT_TYPES = ('policy', 'risk_assessment', 'audit', 'meeting_minutes', 'certificate', 'report', 'other')
CATEGORIES = ('peoples_experience', 'staff_feedback', 'partner_feedback', 'processes', 'outcomes')


def _in(column, values):
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        'evidence_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_code', sa.String(length=10), nullable=False),
        sa.Column('key_question', sa.String(length=20), nullable=False),
        sa.Column('quality_statement', sa.String(length=200), nullable=False),
        sa.Column('document_type', sa.String(length=30), nullable=False),
        sa.Column('evidence_category', sa.String(length=30), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('owner_email', sa.String(length=255), nullable=False),
        sa.Column('dated', sa.Date(), nullable=False),
        sa.Column('review_due', sa.Date(), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=True),
        sa.Column('file_type', sa.String(length=100), nullable=True),
        sa.Column('file_size', sa.Integer(), nullable=True),
        sa.Column('link', sa.String(length=1000), nullable=True),
        sa.Column('withdrawn', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=255), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in('document_type', DOCUMENT_TYPES), name=op.f('ck_evidence_items_document_type_known')),
        sa.CheckConstraint(_in('evidence_category', CATEGORIES), name=op.f('ck_evidence_items_evidence_category_known')),
        sa.CheckConstraint('(file_sha256 IS NULL AND link IS NOT NULL) OR (file_sha256 IS NOT NULL AND link IS NULL)',
                           name=op.f('ck_evidence_items_file_or_link')),
        sa.CheckConstraint('review_due IS NULL OR review_due >= dated', name=op.f('ck_evidence_items_review_after_dated')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_items')),
        sa.UniqueConstraint('practice_code', 'quality_statement', 'title', 'dated',
                            name='uq_evidence_items_natural_key'),
    )
    op.create_index('ix_evidence_items_practice', 'evidence_items', ['practice_code', 'key_question'])
    op.create_index('ix_evidence_items_review_due', 'evidence_items', ['review_due'])


def downgrade() -> None:
    op.drop_index('ix_evidence_items_review_due', table_name='evidence_items')
    op.drop_index('ix_evidence_items_practice', table_name='evidence_items')
    op.drop_table('evidence_items')
