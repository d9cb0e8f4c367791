"""The derived indicators, one registered function each: raw tables in, practice-month numerators and denominators out.

Each function takes the refresh's :class:`Context` (the connection, config, months and lazily read raw tables, so
one pass over the FFT responses serves every FFT measure) and the indicator, and returns
``practice_id, period_start, numerator, denominator``. The refresh stores the result in ``indicator_values`` and
then in the measure store; nothing else calculates these figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from . import sources as raw
from ..config import FederationConfig, Indicator
from .registry import derivation


@dataclass
class Context:
    conn: Connection
    config: FederationConfig
    months: pd.DatetimeIndex
    sizes: pd.Series
    as_of: pd.Timestamp
    _cache: dict = field(default_factory=dict)

    def fft_counts(self) -> pd.DataFrame:
        """FFT answers per practice-month on the current question, from ``fft_summary`` (refreshed first)."""
        if "fft" not in self._cache:
            from .fft_summary import fft_monthly_from_summary

            self._cache["fft"] = fft_monthly_from_summary(self.conn)
        return self._cache["fft"]

    def staff_and_completions(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if "staff" not in self._cache:
            self._cache["staff"] = raw._staff_and_completions(self.conn)
        return self._cache["staff"]


def _fft_frame(counts: pd.DataFrame, num: pd.Series, den: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"practice_id": counts["practice_id"], "period_start": counts["month"],
                         "numerator": num.astype(float), "denominator": den.astype(float)})


@derivation("fft_positive", reads="fft", method=(
    "Worked out from the practice's Friends and Family Test responses on the current six-answer question: (Very good "
    "+ Good) ÷ all responses, with Neither and Don't know kept in the denominator. The old “likely to recommend” "
    "question is a separate series and never mixed in. Months with fewer than {min} responses are not shown."))
def fft_positive(ctx: Context, ind: Indicator) -> pd.DataFrame:
    c = ctx.fft_counts()
    return c if c.empty else _fft_frame(c, c["very_good"] + c["good"], c["total"])


@derivation("fft_negative", reads="fft", method=(
    "Worked out from the practice's Friends and Family Test responses on the current question: (Poor + Very poor) ÷ "
    "all responses. Months with fewer than {min} responses are not shown."))
def fft_negative(ctx: Context, ind: Indicator) -> pd.DataFrame:
    c = ctx.fft_counts()
    return c if c.empty else _fft_frame(c, c["poor"] + c["very_poor"], c["total"])


@derivation("fft_responses_per_1000", reads="fft", method=(
    "Friends and Family Test responses on the current question in the month ÷ registered patients × 1,000. Months "
    "with fewer than {min} responses are not shown."))
def fft_responses_per_1000(ctx: Context, ind: Indicator) -> pd.DataFrame:
    c = ctx.fft_counts()
    return c if c.empty else _fft_frame(c, c["total"], c["practice_id"].map(ctx.sizes))


@derivation("training_compliance", reads="training", method=(
    "Worked out from the training records at the end of each month: (member of staff × course) pairs required for "
    "each person's role that are in date ÷ all required pairs. Hours-based requirements count the hours completed "
    "over their rolling window."))
def training_compliance(ctx: Context, ind: Indicator) -> pd.DataFrame:
    staff, completions = ctx.staff_and_completions()
    return raw._training(staff, completions, ctx.config, ind, ctx.months)


@derivation("complaints_acknowledged_in_time", reads="complaints", needs_days=True, method=(
    "Worked out from the complaints log: complaints received and acknowledged within {days} working days (weekends "
    "and bank holidays of England and Wales excluded) ÷ complaints received (a complaint still inside its deadline "
    "is not yet counted)."))
def complaints_acknowledged(ctx: Context, ind: Indicator) -> pd.DataFrame:
    return raw._complaints(ctx.conn, ind, ctx.as_of)


@derivation("complaints_resolved_in_time", reads="complaints", needs_days=True, method=(
    "Worked out from the complaints log: complaints received with a final response within {days} working days "
    "(weekends and bank holidays of England and Wales excluded) ÷ complaints received (a complaint still inside its "
    "deadline is not yet counted)."))
def complaints_resolved(ctx: Context, ind: Indicator) -> pd.DataFrame:
    return raw._complaints(ctx.conn, ind, ctx.as_of)


@derivation("significant_events_with_learning", reads="significant_events", method=(
    "Worked out from the significant event log: events with their learning recorded ÷ events recorded."))
def significant_events_with_learning(ctx: Context, ind: Indicator) -> pd.DataFrame:
    return raw._significant_events(ctx.conn, ind, ctx.sizes, ctx.months)


@derivation("significant_events_per_10000", reads="significant_events", method=(
    "Worked out from the significant event log: events recorded ÷ registered patients × 10,000 (months without "
    "events count as zero)."))
def significant_events_per_10000(ctx: Context, ind: Indicator) -> pd.DataFrame:
    return raw._significant_events(ctx.conn, ind, ctx.sizes, ctx.months)


__all__ = ["Context", "np"]
