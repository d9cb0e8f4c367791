"""The measure store's comparisons with published benchmarks: each federation area's figure beside England's, its
region's, ICB's, sub-ICB's and PCN's for the same published period, and "better / similar / worse" worked out
once from the intervals (data_layer/measures/benchmarks.py) when the data arrives. Imported into
``data_layer.models`` so they share one metadata."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data_layer.models import Base

BENCHMARK_LEVELS = ("england", "region", "icb", "sub_icb", "pcn")


class MeasureBenchmark(Base):
    """One area's figure (a practice, a PCN, a group or the federation) for one published period beside one
    benchmark area's figure (``level``: england, region, icb, sub_icb, pcn), with the comparison of the area's 95%
    interval with the benchmark's value (Fingertips' method: better / similar / worse, or higher / lower where no
    direction is preferred; "not compared" without an interval)."""

    __tablename__ = "measure_benchmarks"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    area_type: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    period_label: Mapped[str] = mapped_column(String(40))  # as published, e.g. 2022/23
    level: Mapped[str] = mapped_column(String(12))
    benchmark_code: Mapped[str] = mapped_column(String(20))
    benchmark_name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40))  # the import kind, e.g. fingertips
    source_indicator: Mapped[str] = mapped_column(String(160))  # the source's own id, e.g. 91547
    value: Mapped[float | None] = mapped_column(Float)  # the benchmark's
    lower_ci: Mapped[float | None] = mapped_column(Float)
    upper_ci: Mapped[float | None] = mapped_column(Float)
    area_value: Mapped[float | None] = mapped_column(Float)  # the area's own, for the same period
    area_lower_ci: Mapped[float | None] = mapped_column(Float)
    area_upper_ci: Mapped[float | None] = mapped_column(Float)
    comparison: Mapped[str] = mapped_column(String(20), default="not compared")
    refresh_id: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (
        UniqueConstraint("indicator_code", "area_type", "area_code", "period_start", "level",
                         name="uq_measure_benchmarks_natural_key"),
        Index("ix_measure_benchmarks_area", "area_type", "area_code"),
    )
