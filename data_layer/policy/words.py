"""NHS content style for dates, periods and figures: the one place screens, downloads and packs take them from.

* Dates as "1 October 2026" (no leading zero, the month in full), months as "October 2026", never "Oct 2026",
  "01/10/2026" or "2026-10" (NHS digital service manual, "Numbers, measurements, dates and time").
* Ranges with "to": "April 2025 to March 2026", "September to November 2026", "1 to 14 October 2026".
* A percentage and its interval one way everywhere: "71.4% (68.2% to 74.3%)".
* A time as "1 October 2026, 14:05".

Plain functions of values (no database, no streamlit), so the data layer, the packs and the pages share them.
"""
from __future__ import annotations

import math

import pandas as pd

NONE = "–"


def _missing(d) -> bool:
    if d is None:
        return True
    try:
        return bool(pd.isna(d))
    except (TypeError, ValueError):
        return False


def day(d) -> str:
    """1 October 2026."""
    if _missing(d):
        return NONE
    t = pd.Timestamp(d)
    return f"{t.day} {t:%B %Y}"


def day_time(d) -> str:
    """1 October 2026, 14:05."""
    if _missing(d):
        return NONE
    t = pd.Timestamp(d)
    return f"{day(t)}, {t:%H:%M}"


def month(d) -> str:
    """October 2026."""
    return NONE if _missing(d) else f"{pd.Timestamp(d):%B %Y}"


def month_range(first, last) -> str:
    """April 2025 to March 2026; September to November 2026; October 2026 for one month."""
    if _missing(first) or _missing(last):
        return month(last if _missing(first) else first)
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    if (a.year, a.month) == (b.year, b.month):
        return month(a)
    return f"{a:%B} to {b:%B %Y}" if a.year == b.year else f"{a:%B %Y} to {b:%B %Y}"


def months_span(start, months: int = 1) -> str:
    """A period of ``months`` months from ``start``: "September 2026", "September to November 2026"."""
    if _missing(start):
        return NONE
    first = pd.Timestamp(start)
    return month_range(first, first + pd.DateOffset(months=max(months, 1) - 1))


def day_range(first, last) -> str:
    """1 to 14 October 2026; 28 September to 4 October 2026; 1 April 2025 to 31 March 2026."""
    if _missing(first) or _missing(last):
        return day(last if _missing(first) else first)
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    if a.normalize() == b.normalize():
        return day(a)
    if a.year != b.year:
        return f"{day(a)} to {day(b)}"
    if a.month != b.month:
        return f"{a.day} {a:%B} to {day(b)}"
    return f"{a.day} to {day(b)}"


def period(start, end) -> str:
    """A published period in words: whole months as a month range (a financial year 2022/23 is "April 2022 to
    March 2023"), anything else as a range of days."""
    if _missing(start) or _missing(end):
        return day(end if _missing(start) else start)
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    if a.day == 1 and (b + pd.Timedelta(days=1)).day == 1:
        return month_range(a, b)
    return day_range(a, b)


def _number(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def percent(value, decimals: int = 1) -> str:
    """71.4%."""
    v = _number(value)
    return NONE if v is None else f"{v:.{decimals}f}%"


def interval(lower, upper, unit: str = "%", decimals: int = 1) -> str:
    """68.2% to 74.3% (an interval on its own), or – when either end is missing."""
    lo, hi = _number(lower), _number(upper)
    if lo is None or hi is None:
        return NONE
    if unit == "%":
        return f"{percent(lo, decimals)} to {percent(hi, decimals)}"
    if unit == "count":
        return f"{lo:,.0f} to {hi:,.0f}"
    return f"{lo:.2f} to {hi:.2f} {unit}".rstrip()


def with_interval(value, lower, upper, unit: str = "%", decimals: int = 1) -> str:
    """71.4% (68.2% to 74.3%); the value alone when there is no interval."""
    v = _number(value)
    if v is None:
        return NONE
    shown = percent(v, decimals) if unit == "%" else (f"{v:,.0f}" if unit == "count" else f"{v:.2f} {unit}".rstrip())
    ci = interval(lower, upper, unit, decimals)
    return shown if ci == NONE else f"{shown} ({ci})"
