"""What every feedback view shares: the practices and months it covers (``Scope``), the answer words of both FFT
questions, and the practice-months the measure store hides (no count or comment of them is ever shown).

Split out of ``feedback`` (which re-exports every name here) so ``comments`` and ``complaints`` can use it too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from . import engine as calc
from . import models as m
from .config import FederationConfig
from .measures import store
from .scope import Viewer

SCALES = ("current", "legacy")
ANSWER_WORDS = {
    "current": {1: "Very good", 2: "Good", 3: "Neither good nor poor", 4: "Poor", 5: "Very poor", 6: "Don't know"},
    "legacy": {1: "Extremely likely", 2: "Likely", 3: "Neither likely nor unlikely", 4: "Unlikely",
               5: "Extremely unlikely", 6: "Don't know"},
}
SCALE_WORDS = {"current": "Current question (how was your experience)",
               "legacy": "Old question (how likely to recommend)"}
MODES = ("SMS", "Online", "Paper", "Telephone", "Other")


@dataclass(frozen=True)
class Scope:
    """The practices and months a feedback view covers."""

    codes: tuple[str, ...]
    start: date | None
    end: date | None  # first day of the last month shown
    names: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.codes or self.end is None

    @property
    def end_date(self) -> date | None:
        """The last day covered (end of the last month)."""
        return None if self.end is None else (pd.Timestamp(self.end) + pd.offsets.MonthEnd(0)).date()


def scope(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters) -> Scope:
    plist = calc.practices(engine, viewer, config)
    codes = calc.resolve_practices(engine, viewer, filters)
    if (filters.practice_codes or filters.pcn or filters.group) and not codes:
        codes = ()
    start, end = calc.period_window(engine, filters)
    return Scope(codes=tuple(codes), start=start, end=end, names=dict(zip(plist["code"], plist["display_name"])))


def _practice_ids(conn, codes: tuple[str, ...]) -> dict[int, str]:
    return dict(conn.execute(select(m.Practice.id, m.Practice.code).where(m.Practice.code.in_(codes))).all())


def _month_bounds(sc: Scope) -> tuple[date, date]:
    """The window as first days of months (the summary's ``month``)."""
    return pd.Timestamp(sc.start).replace(day=1).date(), pd.Timestamp(sc.end).replace(day=1).date()


def _fft_code(config: FederationConfig) -> str | None:
    """The stored FFT measure whose suppression every FFT count follows (one rule for every page and pack)."""
    code = config.screens.fft_positive
    return code or next((i.code for i in config.indicators if i.suppression == "fft"), None)


def _hidden_practice_months(engine: Engine, config: FederationConfig, codes, start, end) -> dict:
    code = _fft_code(config)
    if code is None or not codes:
        return {}
    v = store.values(engine, "practice", list(codes), [code], start, end)
    v = v[v["suppressed"]]
    return {(c, pd.Timestamp(mo)): r or "too few responses" for c, mo, r in
            zip(v["area_code"], v["period_start"], v["suppression_reason"])}


def small_months(engine: Engine, config: FederationConfig, codes, start, end) -> list[tuple[str, date]]:
    """Practice-months with too few FFT responses to show (the primary rule): no comment of them is shown."""
    hidden = _hidden_practice_months(engine, config, codes, start, end)
    return [(c, mo.date()) for (c, mo), r in hidden.items() if r.startswith("fewer than")]
