"""Data completeness: for each practice × dataset, the latest month received and whether it is late.

Datasets: the Friends and Family Test, training records, the complaints log, the significant event log, and each
imported indicator source (the catalogue's ``source`` of the indicators that are not derived, e.g. "QOF (NHS
England)"), whatever the file kind it came in as. A month's data is due on the n-th working day of a later month
(``[completeness]`` in federation.toml; FFT: the 12th working day of the next month). A practice is **late** when
its latest month received is older than the latest month now due; one that never sent the dataset is late too and
reads "nothing received" — a missing month is never shown as zero.

The latest month received is the month of the newest record: an FFT answer or monthly count, a training
completion, a complaint received, a significant event, an indicator value's period. Event logs have rows only when
something happened, so the config gives them longer before a quiet practice counts as late.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, select

from .. import models as m
from ..config import FederationConfig, SubmissionDeadline
from ..db import tuples
from ..policy.calendar import nth_working_day

FFT, TRAINING, COMPLAINTS, SIGNIFICANT_EVENTS = "fft", "training", "complaints", "significant_events"
SOURCE_PREFIX = "source:"
COLUMNS = ["practice_code", "practice_name", "pcn", "dataset", "dataset_label", "latest_month", "expected_month",
           "due_on", "late", "months_behind", "status"]
STEP = {"monthly": 1, "quarterly": 3, "annual": 12}


@dataclass(frozen=True)
class Dataset:
    id: str  # fft, training, complaints, significant_events, or "source:<catalogue source>"
    label: str  # how a reader names it ("the FFT", in a sentence: short_label)
    short_label: str
    deadline: SubmissionDeadline
    frequency: str = "monthly"  # monthly, quarterly (months ending March, June, September, December), annual (March)
    indicator_codes: tuple[str, ...] = ()


def datasets(config: FederationConfig) -> list[Dataset]:
    """Every dataset completeness is judged for, in the order the page shows them."""
    c = config.completeness
    out = [Dataset(FFT, "Friends and Family Test", "FFT", c.fft),
           Dataset(TRAINING, "Staff training records", "training records", c.training),
           Dataset(COMPLAINTS, "Complaints log", "complaints log", c.complaints),
           Dataset(SIGNIFICANT_EVENTS, "Significant event log", "significant event log", c.significant_events)]
    sources: dict[str, list] = {}
    for ind in config.indicators:
        if not ind.derived:
            sources.setdefault(ind.source, []).append(ind)
    for source, inds in sources.items():
        freqs = [i.frequency for i in inds]
        frequency = max(set(freqs), key=lambda f: (freqs.count(f), -STEP[f]))  # the most common; monthly on a tie
        out.append(Dataset(SOURCE_PREFIX + source, source, source, c.sources.get(source, c.indicators), frequency,
                           tuple(i.code for i in inds)))
    return out


def _month(d) -> date:
    d = pd.Timestamp(d)
    return date(d.year, d.month, 1)


def _add_months(d: date, n: int) -> date:
    total = d.year * 12 + d.month - 1 + n
    return date(total // 12, total % 12 + 1, 1)


def due_on(dataset: Dataset, month: date) -> date:
    """The day ``month``'s data is due (the n-th working day of the month ``months_after`` later)."""
    due = _add_months(_month(month), dataset.deadline.months_after)
    return nth_working_day(due.year, due.month, dataset.deadline.working_day)


def _period_end(month: date, frequency: str) -> bool:
    return frequency == "monthly" or (frequency == "quarterly" and month.month % 3 == 0) or \
        (frequency == "annual" and month.month == 3)


def expected_month(dataset: Dataset, today: date) -> date:
    """The latest month whose data is due by ``today`` (due on a day before today: on its due day it is not late)."""
    month = _add_months(_month(today), -1)
    while not (_period_end(month, dataset.frequency) and due_on(dataset, month) < today):
        month = _add_months(month, -1)
    return month


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def received(engine: Engine, config: FederationConfig) -> pd.DataFrame:
    """The latest month each practice sent of each dataset: practice_code, dataset, latest_month (a practice that
    never sent one has no row)."""
    P = m.Practice
    queries = {
        FFT: [select(P.code, func.max(m.FFTResponse.response_date)).join(P, P.id == m.FFTResponse.practice_id)
              .group_by(P.code),
              select(P.code, func.max(m.FFTMonthlyCount.month)).join(P, P.id == m.FFTMonthlyCount.practice_id)
              .group_by(P.code)],
        TRAINING: [select(P.code, func.max(m.TrainingCompletion.completed_on))
                   .join(m.Staff, m.Staff.id == m.TrainingCompletion.staff_id).join(P, P.id == m.Staff.practice_id)
                   .group_by(P.code)],
        COMPLAINTS: [select(P.code, func.max(m.Complaint.received_on)).join(P, P.id == m.Complaint.practice_id)
                     .group_by(P.code)],
        SIGNIFICANT_EVENTS: [select(P.code, func.max(m.SignificantEvent.event_date))
                             .join(P, P.id == m.SignificantEvent.practice_id).group_by(P.code)],
    }
    rows: list[tuple] = []
    with engine.connect() as conn:
        for dataset, stmts in queries.items():
            for stmt in stmts:
                rows += [(code, dataset, d) for code, d in tuples(conn.execute(stmt)) if d is not None]
        sources = [d for d in datasets(config) if d.id.startswith(SOURCE_PREFIX)]
        if sources:
            code_source = {c: d.id for d in sources for c in d.indicator_codes}
            IV = m.IndicatorValue
            stmt = (select(P.code, IV.indicator_code, func.max(IV.period_end)).join(P, P.id == IV.practice_id)
                    .where(IV.indicator_code.in_(list(code_source))).group_by(P.code, IV.indicator_code))
            rows += [(code, code_source[ind], d) for code, ind, d in tuples(conn.execute(stmt)) if d is not None]
    df = pd.DataFrame(rows, columns=["practice_code", "dataset", "latest"])
    if df.empty:
        return pd.DataFrame(columns=["practice_code", "dataset", "latest_month"])
    df["latest_month"] = [_month(d) for d in df["latest"]]
    return df.groupby(["practice_code", "dataset"], as_index=False)["latest_month"].max()


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _status(latest: date | None, expected: date, due: date, late: bool) -> str:
    if latest is None:
        return f"Late: nothing received (due: {expected:%B %Y}, by {_day(due)})"
    if late:
        return f"Late: {expected:%B %Y} not received (due by {_day(due)}); latest {latest:%B %Y}"
    return f"On time: {latest:%B %Y} received"


def completeness(engine: Engine, config: FederationConfig, today: date | None = None,
                 practice_codes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per active practice × dataset (see ``COLUMNS``): latest_month (None when nothing was ever received,
    never a zero), the month now due and its due day, late, months_behind (None when nothing was received) and the
    status in words. ``practice_codes``: only these practices."""
    today = today or date.today()
    with engine.connect() as conn:
        plist = pd.DataFrame(tuples(conn.execute(select(m.Practice.code, m.Practice.name, m.Practice.pcn)
                                                 .where(m.Practice.active.is_(True)).order_by(m.Practice.name))),
                             columns=["practice_code", "practice_name", "pcn"])
    if practice_codes is not None:
        plist = plist[plist["practice_code"].isin(practice_codes)]
    got = received(engine, config)
    latest = {(r.practice_code, r.dataset): r.latest_month for r in got.itertuples(index=False)}
    rows = []
    for ds in datasets(config):
        expected = expected_month(ds, today)
        due = due_on(ds, expected)
        for p in plist.itertuples(index=False):
            last = latest.get((p.practice_code, ds.id))
            late = last is None or last < expected
            behind = None if last is None else max(_months_between(last, expected), 0)
            rows.append((p.practice_code, p.practice_name, p.pcn, ds.id, ds.label, last, expected, due, late,
                         behind, _status(last, expected, due, late)))
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["late"] = df["late"].astype(bool)
    df["months_behind"] = pd.array(df["months_behind"], dtype="Int64")  # missing stays missing, never 0
    return df


def late_line(table: pd.DataFrame, config: FederationConfig, dataset: str = FFT) -> str | None:
    """One line for the board: "3 practices have not sent October 2026's FFT (due by 17 November 2026)." — None
    when every practice has sent it."""
    rows = table[(table["dataset"] == dataset) & table["late"]]
    if rows.empty:
        return None
    ds = next(d for d in datasets(config) if d.id == dataset)
    n, expected, due = len(rows), rows["expected_month"].iloc[0], rows["due_on"].iloc[0]
    return (f"{n} practice{'s have' if n != 1 else ' has'} not sent {expected:%B %Y}'s {ds.short_label} "
            f"(due by {_day(due)}).")


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: how many practices are late, of how many, and the month due."""
    if table.empty:
        return pd.DataFrame(columns=["dataset", "dataset_label", "expected_month", "due_on", "late", "practices"])
    return (table.groupby(["dataset", "dataset_label", "expected_month", "due_on"], sort=False, as_index=False)
            .agg(late=("late", "sum"), practices=("practice_code", "count")))
