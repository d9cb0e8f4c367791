"""Reading the measure store: what the views, downloads and packs show, looked up rather than worked out.

An *area* is what the sidebar chose: one practice, a PCN, a group from ``federation.toml`` or the whole federation,
each stored by the refresh. Several practices chosen together (an ad-hoc group) are summed from the stored practice
figures at read time by the same ``compute`` functions, and a month in which any of them is hidden is hidden for the
group too, so nothing the store hides can be worked out from the sum.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from .. import models as m
from ..config import FederationConfig
from ..db import tuples
from . import compute

VALUE_READ = ["indicator_code", "area_type", "area_code", "period_start", "numerator", "denominator", "value",
              "lower_ci", "upper_ci", "suppressed", "suppression_reason", "small"]
EVALUATION_READ = [c for c in compute.EVALUATION_COLUMNS]
ADHOC = "adhoc"
NUMBERS = {"numerator", "denominator", "value", "lower_ci", "upper_ci", "previous_value", "change", "mean",
           "lower_limit", "upper_limit"}
FLAGS = {"suppressed", "small", "trial_limits"}


@dataclass(frozen=True)
class Area:
    area_type: str
    area_code: str
    label: str
    practice_codes: tuple[str, ...] = ()  # for an ad-hoc group: its practices

    @property
    def stored(self) -> bool:
        return self.area_code != ADHOC


FEDERATION_AREA = Area(compute.FEDERATION, compute.FEDERATION_CODE, "Federation")


def area_for(practice_codes: tuple[str, ...], pcn: str | None, group: str | None, config: FederationConfig,
             names: dict[str, str] | None = None) -> Area:
    """The stored area a choice of filters means (the practices already narrowed to the PCN by the caller)."""
    if len(practice_codes) == 1:
        code = practice_codes[0]
        return Area(compute.PRACTICE, code, (names or {}).get(code, code), practice_codes)
    if len(practice_codes) > 1:
        return Area(compute.GROUP, ADHOC, "Selected practices", tuple(sorted(practice_codes)))
    if group:
        g = next((g for g in config.groups if g.id == group), None)
        if g is not None:
            return Area(compute.GROUP, g.id, g.name, g.practices)
    if pcn:
        return Area(compute.PCN, pcn, pcn)
    return FEDERATION_AREA


def latest_month(engine: Engine) -> date | None:
    """The latest month the federation holds any figure for: the default "period up to"."""
    with engine.connect() as conn:
        v = conn.execute(select(func.max(m.MeasureEvaluation.as_at)).where(
            m.MeasureEvaluation.area_type == compute.FEDERATION)).scalar_one()
    return pd.Timestamp(v).date() if v is not None else None


def months(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.MeasureEvaluation.as_at).where(
            m.MeasureEvaluation.area_type == compute.FEDERATION).distinct().order_by(m.MeasureEvaluation.as_at))
        return [pd.Timestamp(r).date() for r in rows.scalars()]


def _frame(engine: Engine, stmt, columns: list[str], dates: tuple[str, ...]) -> pd.DataFrame:
    with engine.connect() as conn:
        df = pd.DataFrame(tuples(conn.execute(stmt)), columns=columns)
    for c in dates:
        df[c] = pd.to_datetime(df[c])
    for c in NUMBERS.intersection(df.columns):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in FLAGS.intersection(df.columns):
        df[c] = df[c].fillna(False).astype(bool)
    return df


def values(engine: Engine, area_type: str, area_codes: list[str] | None, codes: list[str] | None,
           start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Stored monthly figures of one kind of area (all of them, or ``area_codes``)."""
    t = m.MeasureValue
    stmt = select(*[getattr(t, c) for c in VALUE_READ]).where(t.area_type == area_type)
    if area_codes is not None:
        stmt = stmt.where(t.area_code.in_(list(area_codes)))
    if codes is not None:
        stmt = stmt.where(t.indicator_code.in_(list(codes)))
    if start is not None:
        stmt = stmt.where(t.period_start >= start)
    if end is not None:
        stmt = stmt.where(t.period_start <= end)
    return _frame(engine, stmt.order_by(t.indicator_code, t.area_code, t.period_start), VALUE_READ, ("period_start",))


def evaluations(engine: Engine, area_type: str, area_codes: list[str] | None, as_at: date,
                codes: list[str] | None = None) -> pd.DataFrame:
    """Stored evaluations of one kind of area as at a month."""
    t = m.MeasureEvaluation
    stmt = select(*[getattr(t, c) for c in EVALUATION_READ]).where(t.area_type == area_type, t.as_at == as_at)
    if area_codes is not None:
        stmt = stmt.where(t.area_code.in_(list(area_codes)))
    if codes is not None:
        stmt = stmt.where(t.indicator_code.in_(list(codes)))
    return _frame(engine, stmt, EVALUATION_READ, ("as_at", "latest_period", "window_start"))


def adhoc(engine: Engine, config: FederationConfig, area: Area, codes: list[str], as_at: date
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Values and evaluation for several practices chosen together, from their stored figures."""
    pv = values(engine, compute.PRACTICE, list(area.practice_codes), codes, end=as_at)
    if pv.empty:
        return pv, pd.DataFrame(columns=compute.EVALUATION_COLUMNS)
    hidden = pv.groupby(["indicator_code", "period_start"])["suppressed"].transform("any")
    ok = ~pv["suppressed"] & pv["numerator"].notna() & (pv["denominator"] > 0)
    g = (pv[ok].groupby(["indicator_code", "period_start"], as_index=False)[["numerator", "denominator"]].sum())
    g = g.assign(practice_code=ADHOC, value=np.nan, lower_ci=np.nan, upper_ci=np.nan)
    vals = compute.area_values(g, compute.Areas(pd.DataFrame(columns=["practice_code", "area_type", "area_code"]),
                                                pd.DataFrame()), config)
    vals = vals.assign(area_type=compute.GROUP, area_code=ADHOC)
    flags = pv.assign(h=hidden).groupby(["indicator_code", "period_start"], as_index=False)["h"].any()
    frame = flags[flags["h"]][["indicator_code", "period_start"]].assign(area_type=compute.GROUP, area_code=ADHOC,
                                                                         reason="hidden: one of these practices has "
                                                                                "too few responses")
    per_code = {c: f.drop(columns="indicator_code") for c, f in frame.groupby("indicator_code")}
    vals = compute.apply_flags(vals, per_code, config)
    # Months in which every figure is hidden still exist: as hidden rows, so the month reads "not shown".
    gone = frame.merge(vals[["indicator_code", "period_start"]], how="left", indicator=True)
    gone = gone[gone["_merge"] == "left_only"]
    if len(gone):
        extra = gone[["indicator_code", "period_start"]].assign(
            area_type=compute.GROUP, area_code=ADHOC, numerator=np.nan, denominator=np.nan, value=np.nan,
            lower_ci=np.nan, upper_ci=np.nan, suppressed=True, suppression_reason=gone["reason"], small=False)
        vals = pd.concat([vals, extra[compute.VALUE_COLUMNS]], ignore_index=True)
    ev = compute.evaluate(vals, config, pd.DatetimeIndex([pd.Timestamp(as_at)]))
    return vals, ev
