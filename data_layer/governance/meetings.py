"""The board's meetings, from ``[governance]`` in federation.toml: a list of dates (``meetings``) or a day every month
(``meeting_rule = "second Thursday"``). The board pack's "due before the next meeting" and "done since the last
meeting", and the overview's actions due soon, run between the last meeting before a day and the next one after it.

On a meeting day itself the window spans both sides (done since the meeting before; due by the meeting after), since
that day's meeting is the one the pack is for. Where no meetings are set, or the list does not reach that far, a
month before (or after) the day stands in, and :attr:`Meetings.words` says so.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import pandas as pd

from ..config import FederationConfig, parse_meeting_rule
from ..policy import words

SETTING = "[governance] meetings or meeting_rule in federation.toml"


@dataclass(frozen=True)
class Meetings:
    as_at: date
    last: date  # the last meeting before ``as_at`` (or a month before, when none is known)
    next: date  # the next meeting after ``as_at`` (or a month after)
    last_known: bool  # False: ``last`` stands in for a meeting
    next_known: bool

    @property
    def configured(self) -> bool:
        return self.last_known and self.next_known

    @property
    def words(self) -> str:
        """Where the dates come from, in a sentence for the pack and the overview."""
        if self.configured:
            return (f"Board meetings: the last on {day_words(self.last)}, the next on {day_words(self.next)} "
                    "(from the federation config).")
        if not self.last_known and not self.next_known:
            return (f"No board meeting dates are set ({SETTING}), so a month either side of {day_words(self.as_at)} "
                    f"is used: since {day_words(self.last)}, and up to {day_words(self.next)}.")
        side, when = ("next", self.next) if not self.next_known else ("last", self.last)
        known = self.last if self.last_known else self.next
        return (f"The federation config lists no {side} board meeting ({SETTING}), so {day_words(when)} (a month "
                f"from {day_words(self.as_at)}) stands in for it; the {'last' if side == 'next' else 'next'} meeting "
                f"is on {day_words(known)}.")


day_words = words.day  # 10 December 2026


def _add_months(d: date, n: int) -> date:
    return (pd.Timestamp(d) + pd.DateOffset(months=n)).date()


def rule_day(rule: str, year: int, month: int) -> date:
    """The meeting day a rule gives in one month: 'second Thursday' of December 2026 -> 10 December 2026."""
    ordinal, weekday = parse_meeting_rule(rule)
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month and d.weekday() == weekday]
    return days[ordinal - 1] if ordinal > 0 else days[-1]


def _rule_meetings(rule: str, around: date) -> list[date]:
    out = []
    for n in range(-2, 3):
        first = _add_months(date(around.year, around.month, 1), n)
        out.append(rule_day(rule, first.year, first.month))
    return out


def meeting_dates(config: FederationConfig, around: date) -> list[date]:
    """The meetings the config gives near ``around`` (every listed date; a rule's days two months either side)."""
    gov = config.governance
    if gov.meeting_rule:
        return _rule_meetings(gov.meeting_rule, around)
    return list(gov.meetings)


def meetings(config: FederationConfig, as_at: date) -> Meetings:
    """The last meeting before ``as_at`` and the next after it."""
    dates = meeting_dates(config, as_at)
    before = [d for d in dates if d < as_at]
    after = [d for d in dates if d > as_at]
    return Meetings(as_at=as_at, last=before[-1] if before else _add_months(as_at, -1),
                    next=after[0] if after else _add_months(as_at, 1), last_known=bool(before),
                    next_known=bool(after))
