"""Database models for the evidence register: documents and records held by CQC quality statement and evidence
category. Imported into ``data_layer.models`` so they share one metadata."""
from __future__ import annotations

from data_layer.models import Base  # noqa: F401
