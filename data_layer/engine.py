"""The one calculation engine: every figure on a page, in a chart, in a table or in a PDF comes from here.

Queries aggregate in SQL (Σnumerator, Σdenominator per period) and the analytics turn series into KPI statuses
(latest value, change, RAG against target, Making Data Count variation and assurance). Every public function takes
the viewer, so access rules are applied here rather than remembered by each page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from . import models as m
from .analytics import RAG_SYMBOLS, RAG_WORDS, rag_status, spc, wilson_interval
from .config import FederationConfig, Indicator
from .db import tuples
from .scope import Viewer

FFT_PERCENT_DERIVATIONS = ("fft_positive", "fft_negative")


@dataclass(frozen=True)
class Filters:
    """What the viewer has chosen in the sidebar. Hashable, so it can key a cache."""

    practice_codes: tuple[str, ...] = ()  # empty: every practice
    pcn: str | None = None
    period_end: date | None = None  # latest month shown; None: the latest month with data
    months: int = 36  # how many months of history to show


@dataclass
class KPIResult:
    """One indicator evaluated over a series: what every view says about it."""

    indicator: Indicator
    series: pd.DataFrame  # period_start, numerator, denominator, value, lower_ci, upper_ci, suppressed
    target: float | None
    tolerance: float
    latest_period: date | None = None
    latest_value: float | None = None
    previous_value: float | None = None
    change: float | None = None
    rag: str = "none"
    suppressed: bool = False
    spc: object | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rag_words(self) -> str:
        return RAG_WORDS[self.rag]

    @property
    def rag_symbol(self) -> str:
        return RAG_SYMBOLS[self.rag]


# --------------------------------------------------------------------------------------------------------------
# Practices
# --------------------------------------------------------------------------------------------------------------
PRACTICE_COLUMNS = ["code", "name", "pcn", "list_size", "contract_type", "cqc_location_id", "cqc_overall", "cqc_safe",
                    "cqc_effective", "cqc_caring", "cqc_responsive", "cqc_well_led", "cqc_rating_date"]


def practices(engine: Engine, viewer: Viewer, config: FederationConfig | None = None) -> pd.DataFrame:
    """Active practices with their public facts. A practice lead may see other practices anonymised (config)."""
    stmt = select(*[getattr(m.Practice, c) for c in PRACTICE_COLUMNS]).where(m.Practice.active.is_(True)).order_by(
        m.Practice.name)
    with engine.connect() as conn:
        df = pd.DataFrame(tuples(conn.execute(stmt)), columns=PRACTICE_COLUMNS)
    df["display_name"] = df["name"]
    if config is not None and viewer.role in ("practice_lead", "viewer") and not config.thresholds.name_other_practices:
        others = ~df["code"].isin(viewer.practice_codes)
        labels = [f"Practice {chr(65 + i % 26)}{'' if i < 26 else i // 26}" for i in range(int(others.sum()))]
        df.loc[others, "display_name"] = labels
    return df


def resolve_practices(engine: Engine, viewer: Viewer, filters: Filters) -> tuple[str, ...]:
    """The practice codes the filters select (all practices when none chosen)."""
    df = practices(engine, viewer)
    if filters.pcn:
        df = df[df["pcn"] == filters.pcn]
    if filters.practice_codes:
        df = df[df["code"].isin(filters.practice_codes)]
    return tuple(df["code"])


def latest_period(engine: Engine) -> date | None:
    with engine.connect() as conn:
        value = conn.execute(select(func.max(m.IndicatorValue.period_start))).scalar_one()
    return pd.Timestamp(value).date() if value is not None else None


def period_window(engine: Engine, filters: Filters) -> tuple[date | None, date | None]:
    end = filters.period_end or latest_period(engine)
    if end is None:
        return None, None
    start = (pd.Timestamp(end) - pd.DateOffset(months=filters.months - 1)).date()
    return start, end


def available_periods(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.IndicatorValue.period_start).distinct().order_by(
            m.IndicatorValue.period_start)).scalars().all()
    return [pd.Timestamp(r).date() for r in rows]


# --------------------------------------------------------------------------------------------------------------
# Series (aggregated in SQL)
# --------------------------------------------------------------------------------------------------------------
def _practice_filter(stmt, practice_codes):
    if practice_codes:
        stmt = stmt.join(m.Practice, m.Practice.id == m.IndicatorValue.practice_id).where(
            m.Practice.code.in_(practice_codes))
    return stmt


def indicator_series(engine: Engine, codes: list[str] | tuple[str, ...], practice_codes: tuple[str, ...] = (),
                     start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Σnumerator and Σdenominator per indicator per period over the chosen practices (never a mean of rates)."""
    stmt = select(
        m.IndicatorValue.indicator_code,
        m.IndicatorValue.period_start,
        func.sum(m.IndicatorValue.numerator).label("numerator"),
        func.sum(m.IndicatorValue.denominator).label("denominator"),
        func.count().label("practices"),
    ).where(m.IndicatorValue.indicator_code.in_(list(codes)))
    stmt = _practice_filter(stmt, practice_codes)
    if start:
        stmt = stmt.where(m.IndicatorValue.period_start >= start)
    if end:
        stmt = stmt.where(m.IndicatorValue.period_start <= end)
    stmt = stmt.group_by(m.IndicatorValue.indicator_code, m.IndicatorValue.period_start).order_by(
        m.IndicatorValue.indicator_code, m.IndicatorValue.period_start)
    return _read_values(engine, stmt, ["indicator_code", "period_start", "numerator", "denominator", "practices"])


def indicator_by_practice(engine: Engine, codes: list[str] | tuple[str, ...], practice_codes: tuple[str, ...] = (),
                          start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Per-practice values: indicator_code, practice_code, period_start, numerator, denominator."""
    stmt = (
        select(m.IndicatorValue.indicator_code, m.Practice.code, m.IndicatorValue.period_start,
               m.IndicatorValue.numerator, m.IndicatorValue.denominator)
        .join(m.Practice, m.Practice.id == m.IndicatorValue.practice_id)
        .where(m.IndicatorValue.indicator_code.in_(list(codes)))
    )
    if practice_codes:
        stmt = stmt.where(m.Practice.code.in_(practice_codes))
    if start:
        stmt = stmt.where(m.IndicatorValue.period_start >= start)
    if end:
        stmt = stmt.where(m.IndicatorValue.period_start <= end)
    return _read_values(engine, stmt, ["indicator_code", "practice_code", "period_start", "numerator", "denominator"])


def _read_values(engine: Engine, stmt, columns: list[str]) -> pd.DataFrame:
    """Run an indicator-values query: periods as timestamps, numerator and denominator as floats."""
    with engine.connect() as conn:
        df = pd.DataFrame(tuples(conn.execute(stmt)), columns=columns)
    df["period_start"] = pd.to_datetime(df["period_start"])
    for c in ("numerator", "denominator"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def add_values(df: pd.DataFrame, indicator: Indicator, suppression_min: int) -> pd.DataFrame:
    """value = Σnum/Σden × multiplier, Wilson 95% interval for percentages, and FFT small-number suppression."""
    out = df.copy()
    den = out["denominator"].where(out["denominator"] > 0)
    out["value"] = out["numerator"] / den * indicator.multiplier
    if indicator.is_proportion:
        lo, hi = wilson_interval(out["numerator"].to_numpy(), out["denominator"].to_numpy())
        out["lower_ci"] = np.asarray(lo, dtype=float) * 100
        out["upper_ci"] = np.asarray(hi, dtype=float) * 100
    else:
        out["lower_ci"] = np.nan
        out["upper_ci"] = np.nan
    suppressed = np.zeros(len(out), dtype=bool)
    if indicator.derived in FFT_PERCENT_DERIVATIONS:
        suppressed = (out["denominator"] > 0) & (out["denominator"] < suppression_min)
        out.loc[suppressed, ["value", "lower_ci", "upper_ci", "numerator"]] = np.nan
    out["suppressed"] = suppressed
    return out


# --------------------------------------------------------------------------------------------------------------
# Evaluation: the one function that says what a series means
# --------------------------------------------------------------------------------------------------------------
def evaluate(series: pd.DataFrame, indicator: Indicator, target: float | None, tolerance: float,
             config: FederationConfig) -> KPIResult:
    """Latest value, change since the previous period, RAG against target and the SPC icons for one series."""
    th = config.thresholds
    s = add_values(series.sort_values("period_start"), indicator, th.suppression_min)
    result = KPIResult(indicator=indicator, series=s, target=target, tolerance=tolerance)
    if s.empty:
        result.notes.append("No data for this period.")
        return result
    last = s.iloc[-1]
    result.latest_period = pd.Timestamp(last["period_start"]).date()
    result.suppressed = bool(last["suppressed"])
    result.latest_value = None if pd.isna(last["value"]) else float(last["value"])
    if len(s) > 1 and not pd.isna(s.iloc[-2]["value"]):
        result.previous_value = float(s.iloc[-2]["value"])
    if result.latest_value is not None and result.previous_value is not None:
        result.change = result.latest_value - result.previous_value
    result.rag = rag_status(result.latest_value, target, indicator.direction, tolerance) if target is not None else "none"
    values = s.set_index("period_start")["value"].dropna()
    if len(values) >= 2:
        result.spc = spc(values, indicator.direction, target, run_length=th.spc_run_length)
    if result.suppressed:
        result.notes.append(f"Fewer than {th.suppression_min} responses: not shown.")
    return result


def kpi_results(engine: Engine, config: FederationConfig, viewer: Viewer, filters: Filters,
                codes: list[str] | None = None) -> dict[str, KPIResult]:
    """Evaluate indicators (default: every KPI in the aims) over the filtered practices and period."""
    targets = config.targets()
    codes = codes or list(dict.fromkeys(r["indicator_code"] for r in config.kpi_rows()))
    practice_codes = resolve_practices(engine, viewer, filters)
    start, end = period_window(engine, filters)
    if (filters.practice_codes or filters.pcn) and not practice_codes:
        series = pd.DataFrame(columns=["indicator_code", "period_start", "numerator", "denominator", "practices"])
    else:
        series = indicator_series(engine, codes, practice_codes, start, end)
    out = {}
    for code in codes:
        ind = config.indicator(code)
        target, tol = targets.get(code, (None, config.thresholds.rag_tolerance))
        out[code] = evaluate(series[series["indicator_code"] == code], ind, target, tol, config)
    return out


def scorecard(config: FederationConfig, results: dict[str, KPIResult]) -> pd.DataFrame:
    """One row per aim × KPI with value, target, RAG and icons in words: the aims and objectives scorecard."""
    rows = []
    for r in config.kpi_rows():
        res = results[r["indicator_code"]]
        spc_res = res.spc
        rag = rag_status(res.latest_value, r["target"], r["direction"], r["tolerance"]) if r["target"] is not None \
            else "none"
        rows.append({
            **r,
            "latest_period": res.latest_period,
            "value": res.latest_value,
            "previous": res.previous_value,
            "change": res.change,
            "rag": rag,
            "status": f"{RAG_SYMBOLS[rag]} {RAG_WORDS[rag]}",
            "variation": getattr(spc_res, "variation", None),
            "variation_text": getattr(spc_res, "variation_text", "Not enough data"),
            "assurance": getattr(spc_res, "assurance", None),
            "assurance_text": getattr(spc_res, "assurance_text", "Not enough data"),
            "suppressed": res.suppressed,
        })
    return pd.DataFrame(rows)


def format_value(value: float | None, unit: str, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if signed and abs(value) < (0.05 if unit in ("%", "count") else 0.005):
        value = 0.0  # never print "-0.0"
    sign = "+" if signed and value > 0 else ""
    if unit == "%":
        return f"{sign}{value:.1f}%" if not signed else f"{sign}{value:.1f} pts"
    if unit == "count":
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.2f} {unit}"
