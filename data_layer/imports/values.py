"""Turning text cells into dates, numbers and codes, a whole column at a time, recording each bad cell as a problem.

Dates: ISO (``2025-01-31``, optionally with a time) and UK day-first (``31/01/2025``, also with ``-`` or ``.``).
US month-first dates are never guessed. Two-digit years are refused rather than guessed.
"""
from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from . import limits as _limits
from .problems import ProblemLog

_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"  # a real time of day: 00:00 to 23:59:59
_ANY_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
ISO = rf"^\s*(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?:[ T]{_TIME})?\s*$"
UK = rf"^\s*(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})(?:[ T]{_TIME})?\s*$"
DATE_BAD_TIME = (rf"^\s*(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{4}})[ T]{_ANY_TIME}\s*$")
UK_SHORT_YEAR = r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(?:\s.*)?$"
COMPACT = r"^\s*(\d{4})(\d{2})(\d{2})\s*$"  # ODS files: 19740401
DMY_MONTH_NAME = r"^\s*(\d{1,2})[ -]?([A-Za-z]{3,9})[ -]?(\d{4})\s*$"  # 01JAN2021, 1 Jan 2021

DATE_HELP = "write dates as dd/mm/yyyy (e.g. 31/01/2025) or yyyy-mm-dd (e.g. 2025-01-31)"
MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"], start=1)}


def norm(text: str) -> str:
    """Lower case, letters and digits only: how headers and words are compared."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower().replace("&", "and"))


def norm_series(s: pd.Series) -> pd.Series:
    """``norm`` for a column: worked out once per distinct value (a million ratings have a dozen spellings)."""
    codes, uniques = pd.factorize(s)
    normed = np.array([norm(u) for u in uniques] + [""], dtype=object)
    return pd.Series(normed[codes], index=s.index, dtype=object)


def lookup(s: pd.Series, mapping: dict, normalise: bool = False) -> pd.Series:
    """``s.map(mapping)`` done once per distinct value (``Series.map`` with a dict is slow on a million rows);
    ``normalise``: compare as ``norm`` does. Values not in the mapping are missing (None)."""
    codes, uniques = pd.factorize(s)
    keys = [norm(u) for u in uniques] if normalise else list(uniques)
    values = np.array([mapping.get(k) for k in keys] + [None], dtype=object)
    return pd.Series(values[codes], index=s.index, dtype=object)


def blank(s: pd.Series) -> np.ndarray:
    return (s.str.strip() == "").to_numpy()


def stripped(s: pd.Series) -> pd.Series:
    return s.str.strip()


def text_or_none(s: pd.Series) -> pd.Series:
    """Free text stored exactly as written; an empty cell is no text at all."""
    return s.where(s.str.strip() != "", None)


def _dates_of(s: pd.Series, earliest_year: int = 1800
              ) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dates, recognised, short year, empty, far future, too early, bad time of day) for distinct date texts."""
    empty = (s == "").to_numpy()
    iso = s.str.match(ISO).to_numpy()
    uk = s.str.match(UK).to_numpy() & ~iso
    compact = s.str.match(COMPACT).to_numpy() & ~iso & ~uk
    named = s.str.match(DMY_MONTH_NAME).to_numpy() & ~iso & ~uk & ~compact
    year = pd.Series("", index=s.index, dtype=object)
    month = year.copy()
    day = year.copy()
    for mask, pattern, order in ((iso, r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})", (0, 1, 2)),
                                 (uk, r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", (2, 1, 0)),
                                 (compact, COMPACT, (0, 1, 2))):
        if mask.any():
            parts = s[mask].str.extract(pattern)
            year[mask], month[mask], day[mask] = (parts[order[0]].to_numpy(), parts[order[1]].to_numpy(),
                                                  parts[order[2]].to_numpy())
    if named.any():
        parts = s[named].str.extract(DMY_MONTH_NAME)
        year[named] = parts[2].to_numpy()
        month[named] = parts[1].str.lower().str.slice(0, 3).map(MONTHS).fillna(0).astype(int).astype(str).to_numpy()
        day[named] = parts[0].to_numpy()
    recognised = iso | uk | compact | named
    years = pd.to_numeric(year, errors="coerce").fillna(0).to_numpy()
    far_future = recognised & (years > 2100)  # beyond what a date column can hold: plainly not yet
    too_early = recognised & (years < earliest_year)
    plausible = recognised & ~too_early & ~far_future
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if plausible.any():
        text = year[plausible] + "-" + month[plausible].astype(str) + "-" + day[plausible].astype(str)
        out[plausible] = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]").to_numpy()
    short_year = ~recognised & ~empty & s.str.match(UK_SHORT_YEAR).to_numpy()
    bad_time = ~recognised & ~empty & s.str.match(DATE_BAD_TIME).to_numpy()
    return out, recognised, short_year, empty, far_future, too_early, bad_time


def parse_dates(chunk: pd.DataFrame, column: str, log: ProblemLog, today: date, *, required: bool = True,
                allow_future: bool = False, what: str = "date",
                earliest_year: int | None = None) -> pd.Series:
    """datetime64 column (NaT where blank or bad); each bad cell recorded as an error. Each distinct text is parsed
    once: a million responses carry a few thousand different dates. Dates before ``earliest_year`` are refused
    (responses, complaints and training records do not predate 1990; 1900 is a spreadsheet's empty date)."""
    if earliest_year is None:
        earliest_year = _limits.current().earliest_event_year
    codes, uniques = pd.factorize(chunk[column].str.strip())
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    u_dates, u_recognised, u_short, u_empty, u_far, u_early, u_time = _dates_of(distinct, earliest_year)
    missing = codes < 0  # cannot happen for text cells, but keep the arrays aligned if it does
    codes = np.where(missing, 0, codes) if len(distinct) else codes
    if len(distinct) == 0:
        return pd.Series(pd.NaT, index=chunk.index, dtype="datetime64[ns]")
    out = pd.Series(u_dates.to_numpy()[codes], index=chunk.index)
    recognised, short_year, empty = u_recognised[codes], u_short[codes], u_empty[codes] | missing
    far_future = u_far[codes]
    too_early, bad_time = u_early[codes], u_time[codes]
    log.add_mask("error", f"is not a {what}: the year needs four digits ({DATE_HELP})", chunk, short_year, column)
    log.add_mask("error", f"is not a {what}: the time is not a time of day (hours 0 to 23, minutes 0 to 59)", chunk,
                 bad_time, column)
    log.add_mask("error", f"is not a {what}: {DATE_HELP}", chunk, ~recognised & ~empty & ~short_year & ~bad_time,
                 column)
    log.add_mask("error", f"is before {earliest_year}: a {what} this early is a mistake (a spreadsheet shows an empty "
                 "date as 1900)", chunk, too_early, column)
    impossible = recognised & out.isna().to_numpy() & ~far_future & ~too_early
    log.add_mask("error", f"is not a real {what} (there is no such day)", chunk, impossible, column)
    if required:
        log.add_mask("error", f"is empty: a {what} is needed here", chunk, empty, column)
    if not allow_future:
        future = (out > pd.Timestamp(today)).to_numpy() | far_future
        log.add_mask("error", f"is in the future (after today, {today:%d/%m/%Y}): only past {what}s can be imported",
                     chunk, future, column)
        out[future] = pd.NaT
    return out


THOUSANDS = r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"  # 1,234 and 1,234,567.5; never 1,5


def parse_numbers(chunk: pd.DataFrame, column: str, log: ProblemLog, *, required: bool = False, integer: bool = False,
                  minimum: float | None = 0, what: str = "number", suppressed: np.ndarray | None = None,
                  maximum: float | None = -1.0, percent_sign: bool = False) -> pd.Series:
    """float64 column (NaN where blank or bad): finite numbers no larger than ``maximum``. Thousands separators are
    allowed ("1,234"); a decimal comma ("1,5") is not guessed. A number with % or £ is refused (the column says what
    it holds), except where ``percent_sign`` allows "91%" (NHS England's percentage columns)."""
    if maximum == -1.0:  # not given: the import's largest number
        maximum = _limits.current().largest_number
    raw = chunk[column].str.strip()
    empty = (raw == "").to_numpy()
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    retry = values.isna().to_numpy() & ~empty
    symbols = np.zeros(len(raw), dtype=bool)
    if retry.any():  # only the cells that need it: "1,234", "1 234", "91%"
        part = raw[retry]
        cleaned = part.str.replace(" ", "", regex=False)
        if percent_sign:
            cleaned = cleaned.str.replace(r"%$", "", regex=True)
        grouped = cleaned.str.match(THOUSANDS).to_numpy()
        cleaned = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
        values[retry] = pd.to_numeric(cleaned, errors="coerce").astype("float64").to_numpy()
        symbols[retry] = part.str.contains(r"[%£$€]", regex=True).to_numpy() & values[retry].isna().to_numpy()
    text_nan = raw.str.lower().isin(["nan", "+nan", "-nan"]).to_numpy()
    infinite = np.isinf(values.to_numpy()) | raw.str.lower().str.lstrip("+-").isin(["inf", "infinity"]).to_numpy()
    values[infinite] = np.nan
    bad = values.isna().to_numpy() & ~empty & ~symbols & ~infinite
    if suppressed is not None:
        bad &= ~suppressed
        symbols &= ~suppressed
    log.add_mask("error", "is not a number" + (" (NaN means 'not a number')" if text_nan.any() else ""), chunk,
                 bad & text_nan, column)
    log.add_mask("error", "is not a number", chunk, bad & ~text_nan, column)
    log.add_mask("error", f"is not a number: numbers with % or £ are not accepted in column "
                 f"{chunk.attrs.get('headings', {}).get(column, column)!r}; write the number alone (e.g. 9800)",
                 chunk, symbols, column)
    log.add_mask("error", "is not a finite number: it is infinite or too large to be a figure", chunk,
                 infinite & ~empty, column)
    if maximum is not None:
        big = (values.abs() > maximum).to_numpy()
        log.add_mask("error", f"is too large: a {what} cannot be above {maximum:,.0f}", chunk, big, column)
        values[big] = np.nan
    if required:
        log.add_mask("error", f"is empty: a {what} is needed here", chunk, empty, column)
    if integer:
        frac = (values.notna() & (values % 1 != 0)).to_numpy()
        log.add_mask("error", f"is not a whole number: a {what} counts whole things", chunk, frac, column)
        values[frac] = np.nan
    if minimum is not None:
        neg = (values < minimum).to_numpy()
        reason = "is negative: it cannot be below zero" if minimum == 0 else f"is below {minimum:g}"
        log.add_mask("error", reason, chunk, neg, column)
        values[neg] = np.nan
    values[bad] = np.nan
    return values


def check_length(chunk: pd.DataFrame, column: str, values: pd.Series, log: ProblemLog, limit: int, what: str) -> None:
    long = (values.fillna("").str.len() > limit).to_numpy()
    log.add_mask("error", f"is too long: a {what} may have at most {limit} characters", chunk, long, column)


def require_text(chunk: pd.DataFrame, column: str, log: ProblemLog, what: str) -> np.ndarray:
    empty = blank(chunk[column])
    log.add_mask("error", f"is empty: a {what} is needed here", chunk, empty, column)
    return empty


PRACTICE_CODE = r"^[A-Z][A-Z0-9]\d{4}$"


def practice_codes(s: pd.Series) -> pd.Series:
    return s.str.strip().str.upper()


# ---------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------
_FY = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")  # 2022/23, 2022-23, 2022/2023
_FY_Q = re.compile(r"^(\d{4})\s*/\s*(\d{2})\s*Q([1-4])$", re.I)  # 2021/22 Q1 (financial quarters)
_YEAR = re.compile(r"^(\d{4})$")
_YEARS = re.compile(r"^(\d{4})\s*-\s*(\d{2}|\d{4})$")  # 2019 - 21 (calendar years, Fingertips)
_FY_RANGE = re.compile(r"^(\d{4})/(\d{2})\s*-\s*(\d{2,4})/(\d{2})$")  # 2020/21 - 22/23
_MONTH = re.compile(r"^([A-Za-z]{3,9})[\s-]*(\d{2}|\d{4})$")  # Apr-24, April 2024, APR-2024
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")  # 2024-04
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to)\s*(\d{4}-\d{2}-\d{2})$")


def _fy_end_year(start: int, end_text: str) -> int | None:
    end = int(end_text) if len(end_text) == 4 else (start // 100) * 100 + int(end_text)
    if len(end_text) == 2 and end < start:
        end += 100
    return end if end == start + 1 else None


def parse_period(text: str, multi_year_is_financial: bool = False) -> tuple[date, date] | None:
    """A period label as the publications write it → (first day, last day); None when it cannot be read."""
    t = str(text).strip()
    if not t:
        return None
    m = _RANGE.match(t)
    if m:
        a, b = pd.Timestamp(m.group(1)).date(), pd.Timestamp(m.group(2)).date()
        return (a, b) if b >= a else None
    m = _FY_Q.match(t)
    if m:
        start = int(m.group(1))
        if _fy_end_year(start, m.group(2)) is None:
            return None
        q = int(m.group(3))
        first = pd.Timestamp(start, 4, 1) + pd.DateOffset(months=3 * (q - 1))
        return first.date(), (first + pd.DateOffset(months=3) - pd.Timedelta(days=1)).date()
    m = _FY_RANGE.match(t)
    if m:
        start = int(m.group(1))
        end_first = int(m.group(3)) if len(m.group(3)) == 4 else (start // 100) * 100 + int(m.group(3))
        if end_first < start:
            end_first += 100
        return date(start, 4, 1), date(end_first + 1, 3, 31)
    m = _FY.match(t)
    if m and "/" in t:
        start = int(m.group(1))
        end = _fy_end_year(start, m.group(2))
        return (date(start, 4, 1), date(end, 3, 31)) if end else None
    m = _ISO_MONTH.match(t)
    if m and 1 <= int(m.group(2)) <= 12:
        first = pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)
        return first.date(), (first + pd.offsets.MonthEnd(0)).date()
    m = _YEARS.match(t)
    if m:
        start = int(m.group(1))
        end = int(m.group(2)) if len(m.group(2)) == 4 else (start // 100) * 100 + int(m.group(2))
        if end < start:
            end += 100
        if multi_year_is_financial or (end == start + 1 and len(m.group(2)) == 2 and "-" in t and " " not in t):
            # "2022-23" is how people write a financial year; Fingertips writes calendar ranges with spaces.
            return date(start, 4, 1), date(end, 3, 31)
        return date(start, 1, 1), date(end, 12, 31)
    m = _YEAR.match(t)
    if m:
        y = int(m.group(1))
        return date(y, 1, 1), date(y, 12, 31)
    m = _MONTH.match(t)
    if m:
        month = MONTHS.get(m.group(1).lower()[:3])
        if month is None:
            return None
        year = int(m.group(2))
        year = year + 2000 if year < 100 else year
        first = pd.Timestamp(year, month, 1)
        return first.date(), (first + pd.offsets.MonthEnd(0)).date()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            first = pd.to_datetime(t, format=fmt).to_period("M").to_timestamp()
            return first.date(), (first + pd.offsets.MonthEnd(0)).date()
        except (ValueError, TypeError):
            continue
    return None


def period_label(start: date, end: date) -> str:
    if start.month == 4 and start.day == 1 and end == date(start.year + 1, 3, 31):
        return f"{start.year}/{str(start.year + 1)[2:]}"
    if start.day == 1 and end == (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date():
        return pd.Timestamp(start).strftime("%b %Y")
    if (start.month, start.day) == (1, 1) and (end.month, end.day) == (12, 31):
        return str(start.year) if end.year == start.year else f"{start.year} - {end.year}"
    return f"{start.isoformat()} to {end.isoformat()}"


PERIOD_HELP = ("give the period as a financial year (2024/25), a calendar year (2024), a month (2024-04 or Apr 2024) "
               "or a range (2024-04-01..2025-03-31)")


def period_from_file_name(name: str) -> tuple[date, date] | None:
    """QOF raw files are named by year: PREVALENCE_2223.csv is 2022-23."""
    m = re.search(r"(?<!\d)(\d{2})(\d{2})(?!\d)", name)
    if m and int(m.group(2)) == (int(m.group(1)) + 1) % 100:
        start = 2000 + int(m.group(1))
        return date(start, 4, 1), date(start + 1, 3, 31)
    m = re.search(r"(20\d{2})[-_](\d{2})(?!\d)", name)
    if m and int(m.group(2)) == (int(m.group(1)) + 1) % 100:
        start = int(m.group(1))
        return date(start, 4, 1), date(start + 1, 3, 31)
    return None
