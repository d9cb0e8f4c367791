"""Database models for the evidence register: documents and records held by CQC quality statement and evidence
category. Imported into ``data_layer.models`` so they share one metadata.

An item is held for one practice or (``practice_code`` '') for the whole federation: a federation-wide policy is
evidence for every practice. ``practice_code`` is '' rather than NULL because it is part of the natural key, and
NULLs never compare equal in a unique index. The file itself is not in the database: it is stored on disk under its
SHA-256 (``data_layer.evidence_files``), and ``file_name`` is only the name it is downloaded as.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data_layer.models import Base

# What the document is (the words a practice manager files it under) ...
EVIDENCE_DOCUMENT_TYPES = ("policy", "risk_assessment", "audit", "meeting_minutes", "certificate", "report", "other")
# ... and which of CQC's evidence categories it is evidence of (observation is CQC's own, made on the day).
EVIDENCE_CATEGORIES = ("peoples_experience", "staff_feedback", "partner_feedback", "processes", "outcomes")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


class EvidenceItem(Base):
    """One document or record held as evidence for a CQC quality statement, with its owner, date and review date,
    and either a stored file or a link (never both, never neither). Overdue is derived: review due before today."""

    __tablename__ = "evidence_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    practice_code: Mapped[str] = mapped_column(String(10), default="")  # '' = the whole federation
    key_question: Mapped[str] = mapped_column(String(20))
    quality_statement: Mapped[str] = mapped_column(String(200))
    document_type: Mapped[str] = mapped_column(String(30))
    evidence_category: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_email: Mapped[str] = mapped_column(String(255))  # a user's email (kept if the user is later removed)
    dated: Mapped[date] = mapped_column(Date)  # the date of the document (approved, carried out, met)
    review_due: Mapped[date | None] = mapped_column(Date)  # None: nothing to review (e.g. minutes of a meeting)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    link: Mapped[str | None] = mapped_column(String(1000))
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)  # superseded or no longer held
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("practice_code", "quality_statement", "title", "dated", name="uq_evidence_items_natural_key"),
        CheckConstraint(_in("document_type", EVIDENCE_DOCUMENT_TYPES), name="document_type_known"),
        CheckConstraint(_in("evidence_category", EVIDENCE_CATEGORIES), name="evidence_category_known"),
        CheckConstraint("(file_sha256 IS NULL AND link IS NOT NULL) OR (file_sha256 IS NOT NULL AND link IS NULL)",
                        name="file_or_link"),
        CheckConstraint("review_due IS NULL OR review_due >= dated", name="review_after_dated"),
        Index("ix_evidence_items_practice", "practice_code", "key_question"),
        Index("ix_evidence_items_review_due", "review_due"),
    )
