"""Problems found in a file: each with the row, the column, the value and the reason in plain words.

Three severities:
* ``error``: the file is refused and nothing is written;
* ``skipped``: this row is not imported (e.g. a practice outside the federation) but the rest of the file is;
* ``note``: worth knowing, nothing lost (e.g. rows kept as benchmark values).

Every problem is counted; the first ``max_listed`` are kept with their row numbers, so a million-row file full of
mistakes cannot exhaust memory while the report still says how many there were.
"""
from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..privacy import inert_for_spreadsheet

SEVERITIES = ("error", "skipped", "note")
SEVERITY_WORDS = {"error": "Error: refuses the file", "skipped": "Skipped row", "note": "Note"}


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    value: str | None
    reason: str
    severity: str = "error"

    def line(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        shown = "" if self.value in (None, "") else f" {_short(self.value)!r}"
        prefix = ", ".join(where)
        return f"{prefix + ': ' if prefix else ''}{shown.strip() + ' ' if shown else ''}{self.reason}"


def _short(value: str, limit: int = 60) -> str:
    value = str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


class ProblemLog:
    def __init__(self, max_listed: int = 20_000, max_skipped_listed: int = 1_000):
        # Skipped rows (e.g. 6,000 practices outside the federation in a national file) are counted in full but only
        # the first thousand are listed: they are not mistakes to fix.
        self.caps = {"error": max_listed, "skipped": max_skipped_listed, "note": 1_000}
        self.listed_count: Counter[str] = Counter()
        self.listed: list[Problem] = []
        self.counts: Counter[str] = Counter()  # by severity
        self.by_reason: Counter[tuple[str, str]] = Counter()  # (severity, reason) -> rows
        # the practice codes of rows skipped as outside the federation (all of them, not only those listed), so a
        # file with none of the federation's practices can say how many it does have
        self.outside: set[str] = set()

    # -- adding ------------------------------------------------------------------------------------------------
    def add(self, severity: str, reason: str, row: int | None = None, column: str | None = None,
            value=None, count: int = 1) -> None:
        self.counts[severity] += count
        self.by_reason[(severity, reason)] += count
        if self.listed_count[severity] < self.caps[severity]:
            self.listed_count[severity] += 1
            self.listed.append(Problem(row, column, None if value is None else str(value), reason, severity))

    def error(self, reason: str, row: int | None = None, column: str | None = None, value=None) -> None:
        self.add("error", reason, row, column, value)

    def skipped(self, reason: str, row: int | None = None, column: str | None = None, value=None) -> None:
        self.add("skipped", reason, row, column, value)

    def note(self, reason: str, row: int | None = None, column: str | None = None, value=None, count: int = 1) -> None:
        self.add("note", reason, row, column, value, count=count)

    def add_rows(self, severity: str, reason: str, rows: pd.Series | np.ndarray, column: str | None = None,
                 values: pd.Series | np.ndarray | None = None, reasons: list[str] | None = None) -> None:
        """One problem per row (rows and values already filtered to the offending rows). ``reasons`` gives each row
        its own wording (e.g. naming the earlier row it repeats); ``reason`` is how they are counted."""
        rows = np.asarray(rows)
        n = len(rows)
        if n == 0:
            return
        if severity == "skipped" and values is not None and "federation" in reason:
            self.outside.update(str(v).strip().upper() for v in np.asarray(values, dtype=object)
                                if v is not None and v is not pd.NA and str(v).strip())
        self.counts[severity] += n
        self.by_reason[(severity, reason)] += n
        room = self.caps[severity] - self.listed_count[severity]
        if room <= 0:
            return
        take = min(room, n)
        self.listed_count[severity] += take
        vals = [None] * take if values is None else list(np.asarray(values, dtype=object)[:take])
        texts = reasons[:take] if reasons is not None else [reason] * take
        for r, v, why in zip(rows[:take].tolist(), vals, texts):
            self.listed.append(Problem(int(r), column, None if v is None or v is pd.NA else str(v), why, severity))

    def add_mask(self, severity: str, reason: str, chunk: pd.DataFrame, mask, column: str | None = None,
                 values: pd.Series | None = None) -> int:
        """Record every row of ``chunk`` where ``mask`` holds; returns how many."""
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if n:
            vals = None
            if values is not None:
                vals = np.asarray(values.to_numpy(dtype=object, na_value=None))[mask]
            elif column is not None and column in chunk.columns:
                vals = chunk[column].to_numpy(dtype=object, na_value=None)[mask]
            self.add_rows(severity, reason, chunk["_row"].to_numpy()[mask], _label(chunk, column), vals)
        return n

    # -- reading -----------------------------------------------------------------------------------------------
    @property
    def errors(self) -> int:
        return self.counts["error"]

    @property
    def skipped_rows(self) -> int:
        return self.counts["skipped"]

    def unlisted(self) -> int:
        return sum(self.counts.values()) - len(self.listed)

    def frame(self, severities: tuple[str, ...] = SEVERITIES) -> pd.DataFrame:
        rows = [p for p in self.listed if p.severity in severities]
        order = {s: i for i, s in enumerate(SEVERITIES)}
        rows.sort(key=lambda p: (order[p.severity], p.row if p.row is not None else -1))
        return pd.DataFrame(
            {
                "row": pd.array([p.row for p in rows], dtype="Int64"),
                # a problem of the whole file has no column or value: an empty cell, never the word "None"
                "column": [p.column or "" for p in rows],
                "value": ["" if p.value in (None, "None", "nan", "NaN", "<NA>") else p.value for p in rows],
                "problem": [p.reason for p in rows],
                "severity": [p.severity for p in rows],
            }
        )

    def summary_lines(self, severity: str, limit: int = 8) -> list[str]:
        """Per reason: how many rows, for a short summary."""
        items = [(reason, n) for (sev, reason), n in self.by_reason.items() if sev == severity]
        items.sort(key=lambda x: -x[1])
        lines = [f"{n:,} × {reason}" if n > 1 and severity != "note" else reason for reason, n in items[:limit]]
        if len(items) > limit:
            lines.append(f"… and {len(items) - limit} more kinds")
        return lines


def none_of_yours(log: ProblemLog, federation_codes) -> str | None:
    """Why a file of other practices' rows imports nothing, in words a practice manager can act on: "None of the
    6,658 practices in this file is one of your 11 (codes G82…)". None when the file had no such rows."""
    if not log.outside:
        return None
    n, codes = len(log.outside), sorted(federation_codes)
    these = f"{n:,} practices in this file is" if n != 1 else "practice in this file is"
    if not codes:
        return (f"None of the {these} in the federation yet: the federation has no practices. Add them first (the "
                "first-run steps on this page list the files that do), then import this file again.")
    prefix = os.path.commonprefix(codes)
    if len(codes) == 1:
        yours = f"your practice ({codes[0]})"
    else:
        which = (f"codes {prefix}…" if len(prefix) >= 2 else
                 "codes " + ", ".join(codes[:3]) + ("…" if len(codes) > 3 else ""))
        yours = f"one of your {len(codes)} ({which})"
    return (f"{'None of the' if n != 1 else 'The only'} {these} {'not ' if n == 1 else ''}{yours}, so nothing "
            "could be imported. Check that this is the file for your area (or your PCN's practices are set up), "
            "then import it again.")


def _label(chunk: pd.DataFrame, column: str | None) -> str | None:
    """The file's own heading for a canonical column, when the chunk carries it."""
    if column is None:
        return None
    headings = chunk.attrs.get("headings", {})
    return headings.get(column, column)


def problems_csv(frame: pd.DataFrame) -> bytes:
    """The problems as CSV for a spreadsheet: values that a spreadsheet would run as formulas are made inert."""
    out = frame.copy()
    for c in ("column", "value", "problem"):
        out[c] = out[c].map(inert_for_spreadsheet)
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8-sig")  # BOM: Excel then reads the accents correctly
