"""Plain-words formatting shared by pages: values with units, filters described in a sentence."""
from __future__ import annotations

import pandas as pd

from data_layer.engine import Filters, format_value

__all__ = ["format_value", "describe_filters", "month_label"]


def month_label(d) -> str:
    return "–" if d is None or pd.isna(d) else pd.Timestamp(d).strftime("%B %Y")


def describe_filters(filters: Filters, practices: pd.DataFrame) -> str:
    names = dict(zip(practices["code"], practices["display_name"]))
    if filters.practice_codes:
        who = ", ".join(names.get(c, c) for c in filters.practice_codes)
    elif filters.pcn:
        who = filters.pcn
    else:
        who = f"all {len(practices)} practices"
    return f"{who} · {filters.months} months to {month_label(filters.period_end)}"


def period_label(start, months: int = 1) -> str:
    """A judging period in words: "September 2026", or "September to November 2026" for three months."""
    if start is None or pd.isna(start):
        return "–"
    first = pd.Timestamp(start)
    if months <= 1:
        return f"{first:%B %Y}"
    last = first + pd.DateOffset(months=months - 1)
    return f"{first:%B} to {last:%B %Y}" if first.year == last.year else f"{first:%B %Y} to {last:%B %Y}"
