"""Turning text cells into dates, numbers and codes, a whole column at a time, recording each bad cell as a problem.

Dates: ISO (``2025-01-31``, optionally with a time) and UK day-first (``31/01/2025``, also with ``-`` or ``.``).
US month-first dates are never guessed. Two-digit years are refused rather than guessed.
"""
from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from .problems import ProblemLog

ISO = r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
UK = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
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


def _dates_of(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dates, recognised, short year, empty, far future) for distinct date texts."""
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
    plausible = recognised & (years >= 1800) & ~far_future
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if plausible.any():
        text = year[plausible] + "-" + month[plausible].astype(str) + "-" + day[plausible].astype(str)
        out[plausible] = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]").to_numpy()
    short_year = ~recognised & ~empty & s.str.match(UK_SHORT_YEAR).to_numpy()
    return out, recognised, short_year, empty, far_future


def parse_dates(chunk: pd.DataFrame, column: str, log: ProblemLog, today: date, *, required: bool = True,
                allow_future: bool = False, what: str = "date") -> pd.Series:
    """datetime64 column (NaT where blank or bad); each bad cell recorded as an error. Each distinct text is parsed
    once: a million responses carry a few thousand different dates."""
    codes, uniques = pd.factorize(chunk[column].str.strip())
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    u_dates, u_recognised, u_short, u_empty, u_far = _dates_of(distinct)
    missing = codes < 0  # cannot happen for text cells, but keep the arrays aligned if it does
    codes = np.where(missing, 0, codes) if len(distinct) else codes
    if len(distinct) == 0:
        return pd.Series(pd.NaT, index=chunk.index, dtype="datetime64[ns]")
    out = pd.Series(u_dates.to_numpy()[codes], index=chunk.index)
    recognised, short_year, empty = u_recognised[codes], u_short[codes], u_empty[codes] | missing
    far_future = u_far[codes]
    log.add_mask("error", f"is not a {what}: the year needs four digits ({DATE_HELP})", chunk, short_year, column)
    log.add_mask("error", f"is not a {what}: {DATE_HELP}", chunk, ~recognised & ~empty & ~short_year, column)
    impossible = recognised & out.isna().to_numpy() & ~far_future
    log.add_mask("error", f"is not a real {what} (there is no such day)", chunk, impossible, column)
    if required:
        log.add_mask("error", f"is empty: a {what} is needed here", chunk, empty, column)
    if not allow_future:
        future = (out > pd.Timestamp(today)).to_numpy() | far_future
        log.add_mask("error", f"is in the future (after today, {today:%d/%m/%Y}): only past {what}s can be imported",
                     chunk, future, column)
        out[future] = pd.NaT
    return out


def parse_numbers(chunk: pd.DataFrame, column: str, log: ProblemLog, *, required: bool = False, integer: bool = False,
                  minimum: float | None = 0, what: str = "number", suppressed: np.ndarray | None = None) -> pd.Series:
    """float64 column (NaN where blank or bad). Thousands separators and spaces are allowed ("1,234")."""
    raw = chunk[column].str.strip()
    empty = (raw == "").to_numpy()
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    retry = values.isna().to_numpy() & ~empty
    if retry.any():  # only the cells that need it: "1,234", "12 %", "£5"
        cleaned = raw[retry].str.replace(",", "", regex=False).str.replace("£", "", regex=False)
        cleaned = cleaned.str.replace(" ", "", regex=False).str.rstrip("%")
        values[retry] = pd.to_numeric(cleaned, errors="coerce").astype("float64").to_numpy()
    bad = values.isna().to_numpy() & ~empty
    if suppressed is not None:
        bad &= ~suppressed
    log.add_mask("error", "is not a number", chunk, bad, column)
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
