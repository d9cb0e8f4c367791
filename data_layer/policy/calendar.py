"""Working days: weekdays that are not bank holidays in England and Wales.

England and Wales share one list of bank holidays (Scotland and Northern Ireland have their own); the list comes from
the maintained ``holidays`` package (country GB, subdivision ENG), substitute days included ("Boxing Day (observed)"),
as are one-off days such as the 2022 state funeral.

Convention of :func:`working_days_between` (the NHS complaints regulations' "within three working days after the
day on which it receives the complaint"): the day received is not counted; a complaint received on a weekend or bank
holiday counts as received on the next working day; the day answered is counted when it is a working day. So a
complaint received on Monday 2 December 2024 and answered on Tuesday 28 January 2025 took 38 working days (41
weekdays less Christmas Day, Boxing Day and New Year's Day); received on a Saturday and answered the next Thursday
is 3 working days (Monday is the day it counts as received).
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

COUNTRY, SUBDIVISION = "GB", "ENG"  # England; Wales (WLS) has the same bank holidays


@lru_cache(maxsize=16)
def _calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    days = holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=range(first_year, last_year + 1))
    return np.busdaycalendar(weekmask="1111100", holidays=sorted(days))


def bank_holidays(year: int) -> list[date]:
    """The bank holidays of England and Wales in ``year`` (weekend-falling days replaced by their substitutes)."""
    return sorted(d for d in holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=year)
                  if d.weekday() < 5)


def _days(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values) if np.ndim(values) else pd.Series([values])).to_numpy().astype(
        "datetime64[D]")


def _calendar_for(*arrays: np.ndarray) -> np.busdaycalendar:
    ok = np.concatenate([a[~np.isnat(a)] for a in arrays])
    if not len(ok):
        return _calendar(2000, 2000)
    years = ok.astype("datetime64[Y]").astype(int) + 1970
    return _calendar(int(years.min()) - 1, int(years.max()) + 1)


def working_days_between(start, end):
    """Working days from ``start`` (received) to ``end`` (answered), by the convention in the module docstring.

    Scalars give an ``int`` (``None`` if either date is missing); Series, arrays or lists give a float array with NaN
    where either date is missing. An answer dated before the day received gives a negative count."""
    scalar = np.ndim(start) == 0 and np.ndim(end) == 0
    s, e = _days(start), _days(end)
    if len(s) == 1 and len(e) > 1:
        s = np.repeat(s, len(e))
    if len(e) == 1 and len(s) > 1:
        e = np.repeat(e, len(s))
    out = np.full(len(s), np.nan)
    ok = ~np.isnat(s) & ~np.isnat(e)
    if ok.any():
        a, b = s[ok], e[ok]
        cal = _calendar_for(a, b)
        lo, hi, sign = np.minimum(a, b), np.maximum(a, b), np.where(b < a, -1.0, 1.0)
        received = np.busday_offset(lo, 0, roll="forward", busdaycal=cal)  # counts from the next working day
        n = np.busday_count(received + np.timedelta64(1, "D"), hi + np.timedelta64(1, "D"), busdaycal=cal)
        out[ok] = sign * np.maximum(n, 0)
    if scalar:
        return None if np.isnan(out[0]) else int(out[0])
    return out


def is_working_day(day) -> bool:
    d = _days(day)
    return bool(np.is_busday(d, busdaycal=_calendar_for(d))[0])


def nth_working_day(year: int, month: int, n: int) -> date:
    """The ``n``-th working day of a month (n ≥ 1): e.g. the FFT submission deadline for a month's data is the 12th
    working day of the next month."""
    if n < 1:
        raise ValueError("n counts from 1 (the first working day of the month)")
    first = np.datetime64(date(year, month, 1), "D")
    cal = _calendar(year - 1, year + 1)
    day = np.busday_offset(first, n - 1, roll="forward", busdaycal=cal)
    return pd.Timestamp(day).date()


def add_working_days(start, n: int) -> date:
    """The day ``n`` working days after ``start`` by the same convention (received on a non-working day counts as
    received on the next working day): ``working_days_between(start, add_working_days(start, n)) == n``."""
    d = _days(start)
    cal = _calendar_for(d, d + np.timedelta64(2 * n + 30, "D"))
    return pd.Timestamp(np.busday_offset(d[0], n, roll="forward", busdaycal=cal)).date()
