"""Database models for the practice records that evidence the aims beyond quality figures: staff survey results,
Patient Participation Group activity, premises and infection-control checks, workforce, and violence or abuse
towards staff. Imported into ``data_layer.models`` so they share one metadata."""
from __future__ import annotations

from data_layer.models import Base  # noqa: F401
