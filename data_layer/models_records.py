"""Database models for the practice records that evidence the aims beyond quality figures: staff survey results,
Patient Participation Group activity, premises and infection-control checks, workforce, and violence or abuse
towards staff. Imported into ``data_layer.models`` so they share one metadata.

Like every fact table, each has a natural key with a unique constraint (a re-import updates rather than duplicates)
and the ``batch_id`` of the import that brought it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data_layer.models import Base


class StaffSurveyResult(Base):
    """One question of a staff survey or pulse at one practice: how many answered, and how many positively,
    neutrally and negatively. Few respondents are never shown (thresholds.staff_suppression_min)."""

    __tablename__ = "staff_survey_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    survey: Mapped[str] = mapped_column(String(100))  # e.g. "Quarterly staff pulse"
    period_start: Mapped[date] = mapped_column(Date)  # first day of the month the survey closed
    question: Mapped[str] = mapped_column(String(300))
    respondents: Mapped[int] = mapped_column(Integer)
    positive: Mapped[int] = mapped_column(Integer)
    neutral: Mapped[int | None] = mapped_column(Integer)
    negative: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "survey", "period_start", "question",
                         name="uq_staff_survey_results_natural_key"),
        CheckConstraint("respondents >= 0 AND positive >= 0 AND negative >= 0 AND (neutral IS NULL OR neutral >= 0)",
                        name="counts_not_negative"),
        CheckConstraint("positive + negative + COALESCE(neutral, 0) <= respondents", name="answers_within_respondents"),
        Index("ix_staff_survey_results_practice_period", "practice_id", "period_start"),
    )


class PPGMeeting(Base):
    """One Patient Participation Group meeting: members and attendance, the actions agreed and how many are done,
    and what patients said and what the practice did ("you said, we did")."""

    __tablename__ = "ppg_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    meeting_date: Mapped[date] = mapped_column(Date)
    members: Mapped[int] = mapped_column(Integer)
    attended: Mapped[int | None] = mapped_column(Integer)
    actions_agreed: Mapped[int] = mapped_column(Integer, default=0)
    actions_done: Mapped[int] = mapped_column(Integer, default=0)
    you_said: Mapped[str | None] = mapped_column(Text)
    we_did: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "meeting_date", name="uq_ppg_meetings_natural_key"),
        CheckConstraint("members >= 0 AND actions_agreed >= 0 AND actions_done >= 0", name="counts_not_negative"),
        CheckConstraint("actions_done <= actions_agreed", name="done_within_agreed"),
    )


class PremisesCheck(Base):
    """One premises or infection-control check or audit (fire, health and safety, IPC audit, legionella, equipment):
    when it was done, when the next is due, the result (and score, for scored audits) and the actions raised."""

    __tablename__ = "premises_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    check_type: Mapped[str] = mapped_column(String(100))
    done_on: Mapped[date] = mapped_column(Date)
    next_due: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    actions: Mapped[str | None] = mapped_column(Text)
    actions_completed_on: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "check_type", "done_on", name="uq_premises_checks_natural_key"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_in_range"),
        CheckConstraint("next_due IS NULL OR next_due >= done_on", name="due_after_done"),
        Index("ix_premises_checks_practice", "practice_id", "done_on"),
    )


class WorkforceMonth(Base):
    """Staff in post for one role at one practice in one month: headcount, whole-time equivalent, vacancies (WTE),
    leavers and sickness absence (whole-time-equivalent days lost)."""

    __tablename__ = "workforce_months"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    role: Mapped[str] = mapped_column(String(40))
    headcount: Mapped[int] = mapped_column(Integer)
    wte: Mapped[float] = mapped_column(Float)
    vacancies_wte: Mapped[float] = mapped_column(Float, default=0)
    leavers: Mapped[int] = mapped_column(Integer, default=0)
    sickness_days: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "month", "role", name="uq_workforce_months_natural_key"),
        CheckConstraint("headcount >= 0 AND wte >= 0 AND vacancies_wte >= 0 AND leavers >= 0 "
                        "AND (sickness_days IS NULL OR sickness_days >= 0)", name="counts_not_negative"),
        Index("ix_workforce_months_practice_month", "practice_id", "month"),
    )


class AbuseIncident(Base):
    """One incident of violence or abuse towards staff, and what was done about it (warning, police, support)."""

    __tablename__ = "abuse_incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(64))
    incident_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(100))
    reported_to_police: Mapped[bool | None] = mapped_column(Boolean)
    action_taken: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "reference", name="uq_abuse_incidents_natural_key"),
        Index("ix_abuse_incidents_practice_date", "practice_id", "incident_date"),
    )
