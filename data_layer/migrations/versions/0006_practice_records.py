"""practice records: staff survey, patient participation group, premises and infection-control checks, workforce, violence and abuse towards staff

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _practice_and_batch(table: str) -> list:
    return [
        sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f(f'fk_{table}_practice_id_practices'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f(f'fk_{table}_batch_id_import_batches')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    ]


def upgrade() -> None:
    op.create_table(
        'staff_survey_results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('survey', sa.String(length=100), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('question', sa.String(length=300), nullable=False),
        sa.Column('respondents', sa.Integer(), nullable=False),
        sa.Column('positive', sa.Integer(), nullable=False),
        sa.Column('neutral', sa.Integer(), nullable=True),
        sa.Column('negative', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('respondents >= 0 AND positive >= 0 AND negative >= 0 AND (neutral IS NULL OR neutral >= 0)',
                           name=op.f('ck_staff_survey_results_counts_not_negative')),
        sa.CheckConstraint('positive + negative + COALESCE(neutral, 0) <= respondents',
                           name=op.f('ck_staff_survey_results_answers_within_respondents')),
        *_practice_and_batch('staff_survey_results'),
        sa.UniqueConstraint('practice_id', 'survey', 'period_start', 'question',
                            name='uq_staff_survey_results_natural_key'),
    )
    op.create_index('ix_staff_survey_results_practice_period', 'staff_survey_results', ['practice_id', 'period_start'])
    op.create_table(
        'ppg_meetings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('meeting_date', sa.Date(), nullable=False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.Column('attended', sa.Integer(), nullable=True),
        sa.Column('actions_agreed', sa.Integer(), nullable=False),
        sa.Column('actions_done', sa.Integer(), nullable=False),
        sa.Column('you_said', sa.Text(), nullable=True),
        sa.Column('we_did', sa.Text(), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('members >= 0 AND actions_agreed >= 0 AND actions_done >= 0',
                           name=op.f('ck_ppg_meetings_counts_not_negative')),
        sa.CheckConstraint('actions_done <= actions_agreed', name=op.f('ck_ppg_meetings_done_within_agreed')),
        *_practice_and_batch('ppg_meetings'),
        sa.UniqueConstraint('practice_id', 'meeting_date', name='uq_ppg_meetings_natural_key'),
    )
    op.create_table(
        'premises_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('check_type', sa.String(length=100), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=False),
        sa.Column('next_due', sa.Date(), nullable=True),
        sa.Column('result', sa.String(length=40), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('actions', sa.Text(), nullable=True),
        sa.Column('actions_completed_on', sa.Date(), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 100)',
                           name=op.f('ck_premises_checks_score_in_range')),
        sa.CheckConstraint('next_due IS NULL OR next_due >= done_on', name=op.f('ck_premises_checks_due_after_done')),
        *_practice_and_batch('premises_checks'),
        sa.UniqueConstraint('practice_id', 'check_type', 'done_on', name='uq_premises_checks_natural_key'),
    )
    op.create_index('ix_premises_checks_practice', 'premises_checks', ['practice_id', 'done_on'])
    op.create_table(
        'workforce_months',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('headcount', sa.Integer(), nullable=False),
        sa.Column('wte', sa.Float(), nullable=False),
        sa.Column('vacancies_wte', sa.Float(), nullable=False),
        sa.Column('leavers', sa.Integer(), nullable=False),
        sa.Column('sickness_days', sa.Float(), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('headcount >= 0 AND wte >= 0 AND vacancies_wte >= 0 AND leavers >= 0 '
                           'AND (sickness_days IS NULL OR sickness_days >= 0)',
                           name=op.f('ck_workforce_months_counts_not_negative')),
        *_practice_and_batch('workforce_months'),
        sa.UniqueConstraint('practice_id', 'month', 'role', name='uq_workforce_months_natural_key'),
    )
    op.create_index('ix_workforce_months_practice_month', 'workforce_months', ['practice_id', 'month'])
    op.create_table(
        'abuse_incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.Column('incident_date', sa.Date(), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=False),
        sa.Column('reported_to_police', sa.Boolean(), nullable=True),
        sa.Column('action_taken', sa.Text(), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        *_practice_and_batch('abuse_incidents'),
        sa.UniqueConstraint('practice_id', 'reference', name='uq_abuse_incidents_natural_key'),
    )
    op.create_index('ix_abuse_incidents_practice_date', 'abuse_incidents', ['practice_id', 'incident_date'])


def downgrade() -> None:
    op.drop_index('ix_abuse_incidents_practice_date', table_name='abuse_incidents')
    op.drop_table('abuse_incidents')
    op.drop_index('ix_workforce_months_practice_month', table_name='workforce_months')
    op.drop_table('workforce_months')
    op.drop_index('ix_premises_checks_practice', table_name='premises_checks')
    op.drop_table('premises_checks')
    op.drop_table('ppg_meetings')
    op.drop_index('ix_staff_survey_results_practice_period', table_name='staff_survey_results')
    op.drop_table('staff_survey_results')
