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
from sqlalchemy import Engine, select

from . import models as m
from .analytics import RAG_SYMBOLS, RAG_WORDS, spc
from .config import FederationConfig, Indicator
from .db import tuples
from .measures import compute, store
from .policy import status
from .scope import Viewer


@dataclass(frozen=True)
class Filters:
    """What the viewer has chosen in the sidebar. Hashable, so it can key a cache."""

    practice_codes: tuple[str, ...] = ()  # empty: every practice
    pcn: str | None = None
    group: str | None = None  # a group of practices declared in federation.toml
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
    judgement: str = "no_data"  # policy.status: judged / too_few / suppressed / not_received / no_data
    judgement_text: str = ""
    as_at: date | None = None
    period_months: int = 1  # 3: judged over three-month periods
    numerator: float | None = None
    denominator: float | None = None
    lower_ci: float | None = None
    upper_ci: float | None = None
    comparison: str = "not compared"  # with the federation, from the intervals
    rules: str = ""  # the Making Data Count rules the latest point meets
    variation: str = "none"  # the store's Making Data Count variation of the latest point (or why not judged)
    assurance: str = "none"

    @property
    def rag_words(self) -> str:
        return RAG_WORDS[self.rag]

    @property
    def status_text(self) -> str:
        """RAG in words, or why the figure is not judged ("Too few to judge", "Not shown: …")."""
        if self.judgement == status.JUDGED:
            return status.rag_text(self.rag)
        return self.judgement_text or status.judgement_words(self.judgement)

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


def resolve_practices(engine: Engine, viewer: Viewer, filters: Filters,
                      config: FederationConfig | None = None) -> tuple[str, ...]:
    """The practice codes the filters select (all practices when none chosen): a PCN, a group from the config
    (``config``: the federation's, read from FEDERATION_CONFIG when not given), and/or chosen practices."""
    df = practices(engine, viewer)
    if filters.pcn:
        df = df[df["pcn"] == filters.pcn]
    if filters.group:
        if config is None:
            from .config import load_config

            config = load_config()
        group = next((g for g in config.groups if g.id == filters.group), None)
        df = df[df["code"].isin(group.practices if group else ())]
    if filters.practice_codes:
        df = df[df["code"].isin(filters.practice_codes)]
    return tuple(df["code"])


def latest_period(engine: Engine) -> date | None:
    """The latest month the federation holds figures for (the default "period up to")."""
    return store.latest_month(engine)


def as_at(engine: Engine, filters: Filters) -> date | None:
    """The month the figures are judged as at: the chosen period end, else the latest month with figures."""
    if filters.period_end is not None:
        return pd.Timestamp(filters.period_end).to_period("M").to_timestamp().date()
    return latest_period(engine)


def period_window(engine: Engine, filters: Filters) -> tuple[date | None, date | None]:
    end = as_at(engine, filters)
    if end is None:
        return None, None
    start = (pd.Timestamp(end) - pd.DateOffset(months=filters.months - 1)).date()
    return start, end


def available_periods(engine: Engine) -> list[date]:
    return store.months(engine)


def area(engine: Engine, viewer: Viewer, filters: Filters, config: FederationConfig) -> store.Area | None:
    """The area the filters choose (None: the filters match no practice)."""
    if filters.practice_codes or filters.pcn or filters.group:
        codes = resolve_practices(engine, viewer, filters, config)
        if not codes:
            return None
        if filters.practice_codes:
            names = dict(zip(*practices(engine, viewer, config)[["code", "display_name"]].to_numpy().T))
            return store.area_for(codes, None, None, config, names)
    return store.area_for((), filters.pcn, filters.group, config)


# --------------------------------------------------------------------------------------------------------------
# Series (read from the measure store)
# --------------------------------------------------------------------------------------------------------------
def indicator_by_practice(engine: Engine, codes: list[str] | tuple[str, ...], practice_codes: tuple[str, ...] = (),
                          start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Stored per-practice figures (hidden ones without counts): indicator_code, practice_code, period_start,
    numerator, denominator, value, lower_ci, upper_ci, suppressed, small."""
    df = store.values(engine, "practice", list(practice_codes) if practice_codes else None, list(codes), start, end)
    return df.rename(columns={"area_code": "practice_code"}).drop(columns=["area_type"])


# --------------------------------------------------------------------------------------------------------------
# Evaluation: read what the store says about each series
# --------------------------------------------------------------------------------------------------------------
def _window_series(vals: pd.DataFrame, ind: Indicator, ev, config: FederationConfig) -> pd.DataFrame:
    """The points the SPC window covers (monthly, or the measure's judging periods), as the store judged them."""
    cols = ["period_start", "numerator", "denominator", "value", "lower_ci", "upper_ci", "suppressed", "small"]
    if ev is None or vals.empty:
        return pd.DataFrame(columns=cols)
    start, end = pd.Timestamp(ev.window_start), pd.Timestamp(ev.as_at)
    v = vals[(vals["period_start"] >= start) & (vals["period_start"] <= end)].sort_values("period_start")
    if ind.judge_months == 1:
        return v[cols].reset_index(drop=True)
    return compute.block_series(v, ind, config, start, end)


def rebases(engine: Engine) -> dict:
    """Every rebase note: {(indicator_code, practice_code or None): [months]} (the store judges with the same)."""
    from .measures.refresh import _rebases

    with engine.connect() as conn:
        return _rebases(conn)


def _rebase_positions(values: pd.Series, ind: Indicator, ev, notes: dict | None) -> list[int] | None:
    if not notes or ev is None:
        return None
    months = list(notes.get((ind.code, None), []))
    if ev.area_type == "practice":
        months += notes.get((ind.code, ev.area_code), [])
    if not months:
        return None
    start = max(pd.Timestamp(mo) for mo in months)  # the latest restart the store judged from
    pos = int((values.index < start).sum())  # points (months or periods) that start before the restart
    return [pos] if 0 < pos < len(values) else None


def _result(ind: Indicator, ev, series: pd.DataFrame, target, tol, config: FederationConfig,
            notes: dict | None = None) -> KPIResult:
    res = KPIResult(indicator=ind, series=series, target=target, tolerance=tol)
    if ev is None:
        res.judgement = status.NO_DATA
        res.notes.append("No data for this period.")
        return res
    res.as_at = pd.Timestamp(ev.as_at).date()
    res.latest_period = None if pd.isna(ev.latest_period) else pd.Timestamp(ev.latest_period).date()
    res.period_months = int(ev.period_months)
    res.judgement = ev.judgement
    res.suppressed = ev.judgement == status.SUPPRESSED
    res.latest_value = None if pd.isna(ev.value) else float(ev.value)
    res.previous_value = None if pd.isna(ev.previous_value) else float(ev.previous_value)
    res.change = None if pd.isna(ev.change) else float(ev.change)
    res.numerator = None if pd.isna(ev.numerator) else float(ev.numerator)
    res.denominator = None if pd.isna(ev.denominator) else float(ev.denominator)
    res.lower_ci = None if pd.isna(ev.lower_ci) else float(ev.lower_ci)
    res.upper_ci = None if pd.isna(ev.upper_ci) else float(ev.upper_ci)
    res.rag = ev.rag
    res.variation, res.assurance = ev.variation, ev.assurance
    res.rules = ev.rules or ""
    res.comparison = ev.comparison
    res.judgement_text = status.judgement_words(ev.judgement, config.suppression_min(ind),
                                                config.min_denominator(ind))
    judged = series[~series["suppressed"].astype(bool) & ~series["small"].astype(bool)]
    values = judged.set_index("period_start")["value"].dropna()
    if len(values) >= 2:
        res.spc = spc(values, ind.direction, target, run_length=config.thresholds.spc_run_length,
                      rebase_at=_rebase_positions(values, ind, ev, notes),
                      bounds=(0.0, 100.0) if ind.is_proportion else (0.0, None))
        # The chart's points come from spc(); what the latest point means is the store's word, the same
        # everywhere (a test holds the two to each other).
        res.spc.variation, res.spc.assurance = ev.variation, ev.assurance
        res.spc.variation_text = status.variation_words(ev.variation, bool(ev.trial_limits), res.judgement_text)
        res.spc.assurance_text = status.assurance_words(ev.assurance, res.judgement_text)
    if res.judgement != status.JUDGED and res.judgement_text:
        res.notes.append(res.judgement_text + ".")
    return res


def practice_kpi_results(engine: Engine, config: FederationConfig, viewer: Viewer, filters: Filters, code: str
                         ) -> dict[str, KPIResult]:
    """One indicator for every practice the filters select, keyed by practice code: the store's judgement of each
    practice's own series, with the points for its chart (two reads, whatever the number of practices)."""
    codes = resolve_practices(engine, viewer, filters, config)
    when = as_at(engine, filters)
    if not codes or when is None:
        return {}
    ind = config.indicator(code)
    target, tol = config.targets().get(code, (None, config.thresholds.rag_tolerance))
    every = len(codes) == len(practices(engine, viewer))
    first = (pd.Timestamp(when) - pd.DateOffset(months=120)).date()
    evs = store.evaluations(engine, "practice", None if every else list(codes), when, [code])
    vals = store.values(engine, "practice", None if every else list(codes), [code], first, when)
    by_practice = dict(list(vals.groupby("area_code")))
    notes = rebases(engine)
    out = {}
    for ev in evs[evs["area_code"].isin(codes)].itertuples(index=False):
        v = by_practice.get(ev.area_code, vals.iloc[0:0])
        out[ev.area_code] = _result(ind, ev, _window_series(v, ind, ev, config), target, tol, config, notes)
    return out


def kpi_results(engine: Engine, config: FederationConfig, viewer: Viewer, filters: Filters,
                codes: list[str] | None = None) -> dict[str, KPIResult]:
    """What the store says about indicators (default: every KPI in the aims) for the area the filters choose."""
    targets = config.targets()
    codes = codes or list(dict.fromkeys(r["indicator_code"] for r in config.kpi_rows()))
    where = area(engine, viewer, filters, config)
    when = as_at(engine, filters)
    evs = pd.DataFrame(columns=store.EVALUATION_READ)
    vals = pd.DataFrame(columns=store.VALUE_READ)
    if where is not None and when is not None:
        first = (pd.Timestamp(when) - pd.DateOffset(months=120)).date()
        if where.stored:
            evs = store.evaluations(engine, where.area_type, [where.area_code], when, codes)
            vals = store.values(engine, where.area_type, [where.area_code], codes, first, when)
        else:
            vals, evs = store.adhoc(engine, config, where, codes, when)
    by_code = {r.indicator_code: r for r in evs.itertuples(index=False)}
    notes = rebases(engine) if where is not None else {}
    out = {}
    for code in codes:
        ind = config.indicator(code)
        target, tol = targets.get(code, (None, config.thresholds.rag_tolerance))
        ev = by_code.get(code)
        series = _window_series(vals[vals["indicator_code"] == code], ind, ev, config)
        out[code] = _result(ind, ev, series, target, tol, config, notes)
    return out


def scorecard(config: FederationConfig, results: dict[str, KPIResult]) -> pd.DataFrame:
    """One row per aim × KPI with value, target, RAG and icons in words: the aims and objectives scorecard."""
    rows = []
    for r in config.kpi_rows():
        res = results[r["indicator_code"]]
        spc_res = res.spc
        rag = res.rag  # the store's RAG: one target per indicator (config checks that aims agree)
        rows.append({
            **r,
            "latest_period": res.latest_period,
            "value": res.latest_value,
            "previous": res.previous_value,
            "change": res.change,
            "rag": rag,
            "status": f"{RAG_SYMBOLS[rag]} {RAG_WORDS[rag]}",
            "variation": getattr(spc_res, "variation", None),
            "variation_text": getattr(spc_res, "variation_text", res.judgement_text or "Not enough data"),
            "assurance": getattr(spc_res, "assurance", None),
            "assurance_text": getattr(spc_res, "assurance_text", res.judgement_text or "Not enough data"),
            "suppressed": res.suppressed,
            "judgement": res.judgement,
            "judgement_text": res.judgement_text,
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
    if unit == "£":  # money: "£136.54", "-£3.10"
        return f"{'-' if value < 0 else sign}£{abs(value):,.2f}"
    return f"{sign}{value:.2f} {unit}"
