"""Plain-words formatting shared by pages: values with units, filters described in a sentence. Dates, months,
ranges and intervals come from data_layer/policy/words.py (NHS content style), the one module packs use too."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from data_layer.engine import Filters, format_value
from data_layer.policy import words
from data_layer.policy.words import day as day_label, day_time as day_time_label  # noqa: F401  (pages use them)

__all__ = ["format_value", "describe_filters", "month_label", "metric_delta", "day_label", "day_time_label",
           "interval_label", "period_label", "dates_in_words", "each_in_words"]


def month_label(d) -> str:
    return words.month(d)


def each_in_words(values: pd.Series, words_of=month_label) -> pd.Series:
    """``values.map(words_of)``, each distinct value written once (12,000 practice-months hold 60 months)."""
    codes, uniques = pd.factorize(values)
    written = [words_of(u) for u in uniques] + [words_of(None)]
    return pd.Series([written[c] for c in codes], index=values.index, dtype=object)


def interval_label(lower, upper, unit: str = "%") -> str:
    """A 95% interval in words, one way everywhere: "68.2% to 74.3%"."""
    return words.interval(lower, upper, unit)


def dates_in_words(df: pd.DataFrame) -> pd.DataFrame:
    """A table to show with its date columns written as "1 October 2026" (NHS style) rather than 2026-10-01."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_datetime64_any_dtype(col) or (col.dtype == object and len(col.dropna()) and all(
                isinstance(v, (date, datetime, pd.Timestamp)) for v in col.dropna())):
            out[c] = col.map(words.day).replace(words.NONE, "")
    return out


def describe_filters(filters: Filters, practices: pd.DataFrame) -> str:
    names = dict(zip(practices["code"], practices["display_name"]))
    if filters.practice_codes:
        who = ", ".join(names.get(c, c) for c in filters.practice_codes)
    elif filters.pcn:
        who = filters.pcn
    else:
        who = f"all {len(practices)} practices"
    return f"{who} · {filters.months} months to {month_label(filters.period_end)}"


def metric_delta(change, unit: str, direction: str = "neutral") -> dict:
    """``st.metric`` arguments for a change since the period before: the signed figure, coloured by whether higher
    is better, and no arrow or colour for a change that shows as nothing (never a green up-arrow for "0.0 pts")."""
    if change is None or pd.isna(change):
        return {"delta": None}
    text = format_value(change, unit, signed=True)
    if not any(ch in "123456789" for ch in text):  # rounds to 0 at the precision shown
        return {"delta": f"No change ({text.lstrip('+')})", "delta_color": "off", "delta_arrow": "off"}
    return {"delta": text, "delta_color": {"higher": "normal", "lower": "inverse"}.get(direction, "off")}


def period_label(start, months: int = 1) -> str:
    """A judging period in words: "September 2026", or "September to November 2026" for three months."""
    return words.months_span(start, months)
