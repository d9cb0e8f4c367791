"""What a CQC inspection evidence pack is, as data: tables, the evidence for each measure, quality statements, key
questions and the pack itself. The PDF, the workbook and the CSV files are all drawn from one ``InspectionPack``.

Words about a measure (status, variation, assurance) are looked up here from the store's judgement on the
``KPIResult`` and ``policy.status``; nothing is worked out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from .. import engine as calc
from ..analytics import ASSURANCE_SYMBOLS, VARIATION_SYMBOLS
from ..config import Indicator
from ..policy import status, words

PACK_MONTHS = 12  # the months the pack's tables list (the store's window policy judges each measure)
COMMENTS_PER_KIND = 8  # verbatim comments per kind (positive / negative) in a pack

CQC_COLUMNS = {"Overall": "cqc_overall", "Safe": "cqc_safe", "Effective": "cqc_effective", "Caring": "cqc_caring",
               "Responsive": "cqc_responsive", "Well-led": "cqc_well_led"}

# Short words for a table cell (the same as beside the icons on the screens: policy.status); the indicator pages of
# the pack give the full Making Data Count words.
VARIATION_SHORT = status.VARIATION_SHORT
ASSURANCE_SHORT = status.ASSURANCE_SHORT
FUNNEL_WORDS = {
    "better": "Better than expected: outside the 99.8% funnel limit on the better side",
    "worse": "Worse than expected: outside the 99.8% funnel limit on the worse side",
    "above": "Higher than expected: above the 99.8% funnel limit (no preferred direction)",
    "below": "Lower than expected: below the 99.8% funnel limit (no preferred direction)",
    "within": "Within the funnel: no different from the other practices beyond chance",
    "not compared": "Not compared",
}
FUNNEL_SHORT = {"better": "Better than expected", "worse": "Worse than expected", "above": "Higher than expected",
                "below": "Lower than expected", "within": "Within the funnel", "not compared": "Not compared"}


class UnknownPractice(ValueError):
    """No practice with that code."""


class NoData(ValueError):
    """Nothing to put in a pack for that practice and period."""


# ---------------------------------------------------------------------------------------------------------------
# Words for one measure, looked up from the store's judgement
# ---------------------------------------------------------------------------------------------------------------
def status_words(res: calc.KPIResult) -> str:
    """RAG with its symbol for a judged figure ("✔ On target", "▲ Near target", "✖ Off target", "– No target"), or
    why it is not judged ("Too few to judge (fewer than N cases)", "Not shown: fewer than N responses")."""
    if res.judgement == status.JUDGED:
        return status.rag_text(res.rag)
    return res.judgement_text or status.judgement_words(res.judgement)


def variation_of(res: calc.KPIResult) -> tuple[str, str, str]:
    """(code, symbol, words) of the latest point's Making Data Count variation, as the store judged it."""
    code = res.variation or "none"
    words = res.spc.variation_text if res.spc is not None else status.variation_words(code, False,
                                                                                      res.judgement_text)
    return code, VARIATION_SYMBOLS.get(code, "–"), words


def assurance_of(res: calc.KPIResult) -> tuple[str, str, str]:
    code = res.assurance or "none"
    if res.spc is not None:
        words = res.spc.assurance_text
    elif res.target is not None and res.judgement == status.JUDGED:
        words = "Not enough data to compare the process with the target"
    else:
        words = status.assurance_words(code, res.judgement_text)
    return code, ASSURANCE_SYMBOLS.get(code, "–"), words


def variation_short(code: str) -> str:
    return status.variation_short(code)


# ---------------------------------------------------------------------------------------------------------------
# The pack, as data
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Table:
    """One table of the pack: a sheet in the workbook, a CSV file in the zip, a table in the PDF.

    ``kinds`` says how each column is written: text, int, dec1, dec2, date, month, datetime, or ``unit`` (a number
    in the unit named by the row's ``Unit`` column). Columns not listed are inferred from the dtype.
    ``pdf_columns`` picks the columns the PDF shows (all when None) with relative widths in ``pdf_widths``."""

    name: str
    title: str
    frame: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    note: str = ""
    pdf_columns: tuple[str, ...] | None = None
    pdf_widths: tuple[float, ...] | None = None
    # columns whose PDF cells start with a Making Data Count icon: column -> ("variation" | "assurance", code per row)
    icons: dict[str, tuple[str, list]] = field(default_factory=dict)

    def kind(self, column: str) -> str:
        if column in self.kinds:
            return self.kinds[column]
        s = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(s):
            return "date"
        if pd.api.types.is_bool_dtype(s):
            return "text"
        if pd.api.types.is_integer_dtype(s):
            return "int"
        if pd.api.types.is_float_dtype(s):
            return "dec1"
        return "text"


@dataclass
class IndicatorEvidence:
    """One measure: its latest figure and what the store says about it, for the practice (or the federation)."""

    indicator: Indicator
    result: calc.KPIResult
    statement: str  # the quality statement it is shown under (the first it is mapped to)
    numerator: float | None
    denominator: float | None
    lower_ci: float | None
    upper_ci: float | None
    status: str  # "✖ Off target", "Too few to judge …", "Not shown: …"
    federation_value: float | None
    comparison: str  # words: compared with the federation in the same period (practice packs)
    funnel: pd.DataFrame
    pooled: float | None
    funnel_month: date | None
    funnel_position: str  # better / worse / within / above / below / not compared ('' for a federation pack)
    funnel_text: str
    chart: str  # key of its chart in InspectionPack.charts
    notes: pd.DataFrame | None = None  # the notes on this series' charts (governance.notes.notes_for), by month

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def value_text(self) -> str:
        r = self.result
        if r.suppressed:
            return r.judgement_text or status.judgement_words(status.SUPPRESSED)
        return calc.format_value(r.latest_value, self.indicator.unit)

    @property
    def interval_text(self) -> str:
        if self.lower_ci is None or self.upper_ci is None or np.isnan(self.lower_ci) or np.isnan(self.upper_ci):
            return ""
        u = self.indicator.unit
        return f"{calc.format_value(self.lower_ci, u)} to {calc.format_value(self.upper_ci, u)}"

    @property
    def period_text(self) -> str:
        """The period the latest figure covers: a month, or the three months of a rarely-counted measure."""
        r = self.result
        if r.latest_period is None:
            return "no data"
        end = pd.Timestamp(r.latest_period)
        if r.period_months > 1:
            start = end - pd.DateOffset(months=r.period_months - 1)
            return words.month_range(start, end)
        return words.month(end)


@dataclass
class Statement:
    """A CQC quality statement and the pack's evidence for it."""

    name: str
    indicators: list[IndicatorEvidence] = field(default_factory=list)
    also: list[tuple[str, str]] = field(default_factory=list)  # (measure, statement it is shown under)
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (chart key, caption)

    @property
    def empty(self) -> bool:
        return not (self.indicators or self.also or self.paragraphs or self.tables or self.charts)


@dataclass
class KeyQuestion:
    name: str
    rating: str | None
    overview: str
    summary: Table
    statements: list[Statement]
    not_covered: list[str]


@dataclass
class InspectionPack:
    federation_name: str
    practice_code: str | None  # None: the whole federation
    scope_name: str  # "Kingfisher Medical Centre (Z90001)" or the federation's name
    practice: dict  # the practice's public facts (empty for a federation pack)
    practice_codes: tuple[str, ...]
    period_start: date  # first day of the first month
    period_end: date  # first day of the last month
    period_last_day: date
    data_up_to: date  # first day of the newest month with figures in the period
    training_as_of: date | None
    generated_at: datetime
    generated_by: str
    demo: bool
    summary_text: str
    cover: Table
    ratings: Table
    key_questions: list[KeyQuestion]
    checklist: Table
    sources: Table
    methods: Table
    indicators: Table
    spc_data: Table
    funnels: Table
    fft_monthly: pd.DataFrame  # raw numbers behind the FFT chart
    training_courses: pd.DataFrame  # raw numbers behind the training chart (with the data layer's RAG)
    fft_federation: pd.DataFrame | None = None  # the federation's % positive, drawn beside a practice's
    targets: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    suppression_min: int | None = None  # config.thresholds.suppression_min: FFT months with fewer are not shown
    spc_run_length: int | None = None  # config.thresholds.spc_run_length: points in a shift or a trend
    charts: dict[str, bytes] = field(default_factory=dict)
    # False for the page's preview: the lists of complaints, events and comments (each redacted, an ICB's worth)
    # are left out, as the preview never shows them; every file is built with them
    detail: bool = True

    @property
    def is_federation(self) -> bool:
        return self.practice_code is None

    @property
    def period_words(self) -> str:
        return f"{self.period_start:%B %Y} to {self.period_end:%B %Y}"

    def evidence(self) -> list[IndicatorEvidence]:
        return [ev for kq in self.key_questions for s in kq.statements for ev in s.indicators]

    def tables(self) -> list[Table]:
        """Every table of the pack, in the pack's order (sheets of the workbook, files of the zip)."""
        out = [self.cover, *[kq.summary for kq in self.key_questions], self.ratings, self.indicators,
               self.spc_data, self.funnels]
        for kq in self.key_questions:
            for s in kq.statements:
                out.extend(s.tables)
        out += [self.checklist, self.sources, self.methods]
        return out


def day_words(d) -> str:
    return words.day(d)
