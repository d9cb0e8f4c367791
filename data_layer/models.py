"""Database models: what the federation stores.

Every table that holds imported facts has a natural key with a unique constraint (so a re-import updates rather than
duplicates) and a ``batch_id`` naming the import batch it came from (so every number can name its source).
The indicator catalogue, courses and training requirements are not tables: they live in the federation config.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Index,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ImportBatch(Base):
    """One file (or one demo build) loaded into the database."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_import_batches_kind_at", "kind", "imported_at"),)


class Practice(Base):
    __tablename__ = "practices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)  # ODS code, e.g. G82002
    name: Mapped[str] = mapped_column(String(200))
    pcn: Mapped[str | None] = mapped_column(String(200))
    list_size: Mapped[int | None] = mapped_column(Integer)
    contract_type: Mapped[str | None] = mapped_column(String(10))  # GMS / PMS / APMS
    cqc_location_id: Mapped[str | None] = mapped_column(String(20))
    cqc_overall: Mapped[str | None] = mapped_column(String(30))
    cqc_safe: Mapped[str | None] = mapped_column(String(30))
    cqc_effective: Mapped[str | None] = mapped_column(String(30))
    cqc_caring: Mapped[str | None] = mapped_column(String(30))
    cqc_responsive: Mapped[str | None] = mapped_column(String(30))
    cqc_well_led: Mapped[str | None] = mapped_column(String(30))
    cqc_rating_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        CheckConstraint("list_size IS NULL OR list_size >= 0", name="list_size_not_negative"),
        CheckConstraint("contract_type IS NULL OR contract_type IN ('GMS','PMS','APMS')", name="contract_type_known"),
    )


class IndicatorValue(Base):
    """One indicator for one practice over one period. Derived indicators (FFT, training, complaints) are stored here
    too, computed from the raw tables, so every view reads one table through one engine."""

    __tablename__ = "indicator_values"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    lower_ci: Mapped[float | None] = mapped_column(Float)
    upper_ci: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("indicator_code", "practice_id", "period_start", name="uq_indicator_values_natural_key"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("numerator IS NULL OR numerator >= 0", name="numerator_not_negative"),
        CheckConstraint("denominator IS NULL OR denominator >= 0", name="denominator_not_negative"),
        Index("ix_indicator_values_code_period", "indicator_code", "period_start"),
        Index("ix_indicator_values_practice", "practice_id"),
    )


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_code: Mapped[str] = mapped_column(String(40), unique=True)  # the practice's own staff id
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (Index("ix_staff_practice", "practice_id"),)


class TrainingCompletion(Base):
    __tablename__ = "training_completions"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    course: Mapped[str] = mapped_column(String(40))  # course code from the federation config
    completed_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(100))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("staff_id", "course", "completed_on", name="uq_training_completions_natural_key"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours_not_negative"),
        Index("ix_training_completions_staff", "staff_id"),
    )


class FFTResponse(Base):
    """One patient's Friends and Family Test answer. ``scale`` keeps the current six-point question ('current') apart
    from the pre-2020 'how likely to recommend' question ('legacy'): they are never mixed in one percentage."""

    __tablename__ = "fft_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    response_key: Mapped[str] = mapped_column(String(64))  # source id, or a hash of the row when the source has none
    response_date: Mapped[date] = mapped_column(Date)
    scale: Mapped[str] = mapped_column(String(10))
    rating: Mapped[int] = mapped_column(Integer)  # category id 1-6 on its scale (6 = don't know)
    comment: Mapped[str | None] = mapped_column(Text)
    comment_2: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str | None] = mapped_column(String(20))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "response_key", name="uq_fft_responses_natural_key"),
        CheckConstraint("rating BETWEEN 1 AND 6", name="rating_on_scale"),
        CheckConstraint("scale IN ('current','legacy')", name="scale_known"),
        Index("ix_fft_responses_practice_date", "practice_id", "response_date"),
    )


class FFTMonthlyCount(Base):
    """Aggregated FFT counts for a practice-month, as NHS England publishes them."""

    __tablename__ = "fft_monthly_counts"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    scale: Mapped[str] = mapped_column(String(10), default="current")
    very_good: Mapped[int] = mapped_column(Integer, default=0)
    good: Mapped[int] = mapped_column(Integer, default=0)
    neither: Mapped[int] = mapped_column(Integer, default=0)
    poor: Mapped[int] = mapped_column(Integer, default=0)
    very_poor: Mapped[int] = mapped_column(Integer, default=0)
    dont_know: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    mode_sms: Mapped[int | None] = mapped_column(Integer)
    mode_online: Mapped[int | None] = mapped_column(Integer)
    mode_paper: Mapped[int | None] = mapped_column(Integer)
    mode_telephone: Mapped[int | None] = mapped_column(Integer)
    mode_other: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "month", "scale", name="uq_fft_monthly_counts_natural_key"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )


class Complaint(Base):
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(100))
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "reference", name="uq_complaints_natural_key"),
        Index("ix_complaints_practice_received", "practice_id", "received_on"),
    )


class SignificantEvent(Base):
    __tablename__ = "significant_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(64))
    event_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(100))
    learning: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("practice_id", "reference", name="uq_significant_events_natural_key"),
        Index("ix_significant_events_practice_date", "practice_id", "event_date"),
    )


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    practices: Mapped[list["UserPractice"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    __table_args__ = (
        CheckConstraint("role IN ('admin','board','practice_lead','viewer')", name="role_known"),
    )


class UserPractice(Base):
    __tablename__ = "user_practices"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    practice_code: Mapped[str] = mapped_column(String(10), primary_key=True)


class AuditEvent(Base):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(40))
    practice_code: Mapped[str | None] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_audit_log_at", "at"),)


class AppMeta(Base):
    """Small key/value facts about this database (e.g. whether it holds the fictional demo federation)."""

    __tablename__ = "app_meta"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BenchmarkValue(Base):
    """A published figure that is not one of the federation's own indicator values: areas other than the federation's
    practices (England, regions, ICBs, PCNs, other practices) and indicators not mapped to the catalogue. Kept so
    practices can be compared with a benchmark; keyed on the source's own indicator id and area code."""

    __tablename__ = "benchmark_values"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # import kind, e.g. fingertips, qof_prevalence
    indicator_id: Mapped[str] = mapped_column(String(160))  # the source's id, e.g. Fingertips 91547 or QOF AF
    indicator_name: Mapped[str | None] = mapped_column(Text)
    area_code: Mapped[str] = mapped_column(String(20))
    area_name: Mapped[str | None] = mapped_column(String(200))
    area_type: Mapped[str | None] = mapped_column(String(80))
    period_label: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # Empty strings rather than NULL: they are part of the natural key, and NULLs never compare equal in a unique index.
    sex: Mapped[str] = mapped_column(String(40), default="")
    age: Mapped[str] = mapped_column(String(60), default="")
    category: Mapped[str] = mapped_column(String(200), default="")
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    lower_ci: Mapped[float | None] = mapped_column(Float)  # 95%
    upper_ci: Mapped[float | None] = mapped_column(Float)
    lower_ci_998: Mapped[float | None] = mapped_column(Float)
    upper_ci_998: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    __table_args__ = (
        UniqueConstraint("source", "indicator_id", "area_code", "period_start", "period_end", "sex", "age", "category",
                         name="uq_benchmark_values_natural_key"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        Index("ix_benchmark_values_indicator_period", "indicator_id", "period_start"),
        Index("ix_benchmark_values_area", "area_code"),
    )


# --------------------------------------------------------------------------------------------------------------------
# The measure store: every figure a screen, download or pack shows, worked out once when data arrives
# (data_layer.measures.refresh) and only read afterwards.
# --------------------------------------------------------------------------------------------------------------------
AREA_TYPES = ("practice", "pcn", "group", "federation")


class MeasureValue(Base):
    """One measure for one area (a practice, a PCN, a group of practices or the whole federation) in one month:
    Σnumerator / Σdenominator over rows that have both, the value, its Wilson 95% interval, and whether it is shown
    (suppressed: hidden so no patient can be identified; small: too few cases to judge)."""

    __tablename__ = "measure_values"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    area_type: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    lower_ci: Mapped[float | None] = mapped_column(Float)
    upper_ci: Mapped[float | None] = mapped_column(Float)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    suppression_reason: Mapped[str | None] = mapped_column(String(80))
    small: Mapped[bool] = mapped_column(Boolean, default=False)
    refresh_id: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (
        UniqueConstraint("indicator_code", "area_type", "area_code", "period_start",
                         name="uq_measure_values_natural_key"),
        Index("ix_measure_values_area", "area_type", "area_code"),
        Index("ix_measure_values_type_period", "area_type", "period_start"),
    )


class MeasureEvaluation(Base):
    """What a series says as at one month: the latest value in the measure's judging period, the change since the
    previous one, RAG against the target, and the Making Data Count variation and assurance over the measure's SPC
    window - or, on too few cases, that it is too few to judge."""

    __tablename__ = "measure_evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    area_type: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str] = mapped_column(String(200))
    as_at: Mapped[date] = mapped_column(Date)  # the month chosen as "period end"
    latest_period: Mapped[date | None] = mapped_column(Date)  # first month of the latest judged period
    period_months: Mapped[int] = mapped_column(Integer, default=1)  # 1 monthly, 3 a quarter
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    lower_ci: Mapped[float | None] = mapped_column(Float)
    upper_ci: Mapped[float | None] = mapped_column(Float)
    previous_value: Mapped[float | None] = mapped_column(Float)
    change: Mapped[float | None] = mapped_column(Float)
    judgement: Mapped[str] = mapped_column(String(20))  # judged / too_few / suppressed / no_data
    rag: Mapped[str] = mapped_column(String(10))
    variation: Mapped[str] = mapped_column(String(30))
    assurance: Mapped[str] = mapped_column(String(20))
    rules: Mapped[str | None] = mapped_column(Text)
    trial_limits: Mapped[bool] = mapped_column(Boolean, default=False)
    n_points: Mapped[int] = mapped_column(Integer, default=0)
    mean: Mapped[float | None] = mapped_column(Float)
    lower_limit: Mapped[float | None] = mapped_column(Float)
    upper_limit: Mapped[float | None] = mapped_column(Float)
    window_start: Mapped[date | None] = mapped_column(Date)
    comparison: Mapped[str] = mapped_column(String(20), default="not compared")  # against the federation
    refresh_id: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (
        UniqueConstraint("indicator_code", "area_type", "area_code", "as_at", name="uq_measure_evaluations_natural_key"),
        Index("ix_measure_evaluations_type_as_at", "area_type", "as_at"),
    )


class MeasureRefresh(Base):
    """One recalculation of the measure store. An import marks the store stale in its own transaction; a refresh
    that did not finish leaves ``finished_at`` empty, and the next refresh (or ``python -m data_layer refresh``)
    does the work again, so a crash never leaves figures that disagree with the raw data."""

    __tablename__ = "measure_refreshes"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(200))
    values_written: Mapped[int] = mapped_column(Integer, default=0)
    evaluations_written: Mapped[int] = mapped_column(Integer, default=0)


class FFTSummary(Base):
    """FFT answers per practice × month × scale × answer × mode: what every FFT figure and the feedback page read,
    instead of scanning every response (1.65 million at ICB scale) on each visit."""

    __tablename__ = "fft_summary"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[date] = mapped_column(Date)
    scale: Mapped[str] = mapped_column(String(10))
    rating: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20), default="")
    responses: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        UniqueConstraint("practice_id", "month", "scale", "rating", "mode", name="uq_fft_summary_natural_key"),
    )


class CommentTheme(Base):
    """A theme (declared in federation.toml) found in one FFT comment, tagged once at import."""

    __tablename__ = "comment_themes"
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(Integer)
    practice_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[date] = mapped_column(Date)
    theme: Mapped[str] = mapped_column(String(60))
    sentiment: Mapped[str] = mapped_column(String(12))
    __table_args__ = (
        UniqueConstraint("response_id", "theme", name="uq_comment_themes_natural_key"),
        Index("ix_comment_themes_practice_month", "practice_id", "month"),
    )


# --------------------------------------------------------------------------------------------------------------------
# Governance: actions a board agrees (and their history), and notes on the charts (data_layer.governance).
# --------------------------------------------------------------------------------------------------------------------
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")


class Action(Base):
    """Something a board decided to do, by whom and by when, linked to what raised it (a measure, a practice, a PCN,
    a CQC quality statement, an aim or an attention item). Overdue is derived (due before today, not done/dropped)."""

    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_email: Mapped[str] = mapped_column(String(255))  # a user's email (kept if the user is later removed)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")
    indicator_code: Mapped[str | None] = mapped_column(String(40))
    practice_code: Mapped[str | None] = mapped_column(String(10))
    pcn: Mapped[str | None] = mapped_column(String(200))
    quality_statement: Mapped[str | None] = mapped_column(String(200))
    aim_id: Mapped[str | None] = mapped_column(String(60))
    attention_key: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        CheckConstraint("status IN ('open','in_progress','done','dropped')", name="status_known"),
        Index("ix_actions_status_due", "status", "due_on"),
        Index("ix_actions_practice", "practice_code"),
        Index("ix_actions_indicator", "indicator_code"),
    )


class ActionUpdate(Base):
    """One change to an action: who, when, what changed (JSON: field -> [old, new]) and their comment."""

    __tablename__ = "action_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(255))
    changes: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_action_updates_action", "action_id", "at"),)


class ChartNote(Base):
    """A note on a measure's charts in one month ("new phone system"), for one practice or ('' ) every practice.
    A rebase note restarts the SPC limits from its month. ``practice_code`` is '' rather than NULL for a note on
    every practice: it is part of the natural key, and NULLs never compare equal in a unique index."""

    __tablename__ = "chart_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    practice_code: Mapped[str] = mapped_column(String(10), default="")
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    text: Mapped[str] = mapped_column(String(500))
    rebase: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("indicator_code", "practice_code", "month", "text", name="uq_chart_notes_natural_key"),
        Index("ix_chart_notes_indicator", "indicator_code", "practice_code"),
    )


# Tables kept in their own modules (so this file stays readable) register on the same metadata here.
from data_layer import models_benchmarks, models_evidence, models_records  # noqa: E402,F401
