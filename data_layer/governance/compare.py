"""PCN and group comparison: groups of practices side by side for one measure.

Groups are the PCNs (from the practice list) and the custom groups of ``federation.toml`` (``[[groups]]``), each
stored by the measure store refresh (area types "pcn" and "group"). For each: the stored figure as at the chosen
month (Σnumerator / Σdenominator over its practices), its Wilson 95% interval, the Making Data Count variation of
its own series in words, its RAG against the measure's target, and where it sits on a funnel around the
federation's stored figure (95% and 99.8% limits, ``analytics.funnel_position`` on the stored numerators and
denominators). Nothing is recalculated from the raw tables: the figures are the store's, as on every other screen.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from .. import engine as calc
from ..analytics import funnel_position
from ..config import FederationConfig
from ..measures import compute, store
from ..policy import status
from ..scope import Viewer

COLUMNS = ["area_type", "area_code", "label", "kind", "practices", "numerator", "denominator", "value", "lower_ci",
           "upper_ci", "judgement", "status", "rag", "variation", "variation_text", "position_95", "position",
           "position_text", "latest_period", "suppressed"]
POSITION_WORDS = {"better": "Better than the federation (outside 99.8% limits)",
                  "worse": "Worse than the federation (outside 99.8% limits)",
                  "above": "Higher than the federation (outside 99.8% limits)",
                  "below": "Lower than the federation (outside 99.8% limits)",
                  "within": "Within the funnel: no more different than chance would explain",
                  "not compared": "Not compared"}


def _position_words(p998: str, p95: str) -> str:
    if p998 in ("within",) and p95 in OUTSIDE_95:
        return OUTSIDE_95[p95]
    return POSITION_WORDS.get(p998, p998)


OUTSIDE_95 = {"better": "Better than the federation at 95% (within the 99.8% limits)",
              "worse": "Worse than the federation at 95% (within the 99.8% limits)",
              "above": "Higher than the federation at 95% (within the 99.8% limits)",
              "below": "Lower than the federation at 95% (within the 99.8% limits)"}


def _by_direction(position, direction: str) -> np.ndarray:
    mapping = {"higher": {"above": "better", "below": "worse"},
               "lower": {"above": "worse", "below": "better"}}.get(direction, {})
    return np.array([mapping.get(p, p) for p in np.asarray(position, dtype=object)], dtype=object)


def groups(engine: Engine, viewer: Viewer, config: FederationConfig) -> pd.DataFrame:
    """The groups that can be compared: area_type ("pcn" / "group"), area_code, label, kind ("PCN" / "Group"),
    practices (how many of the federation's active practices are in it)."""
    plist = calc.practices(engine, viewer, config)
    rows = [("pcn", p, p, "PCN", int((plist["pcn"] == p).sum())) for p in sorted(plist["pcn"].dropna().unique())]
    known = set(plist["code"])
    rows += [("group", g.id, g.name, "Group", len([c for c in g.practices if c in known])) for g in config.groups]
    df = pd.DataFrame(rows, columns=["area_type", "area_code", "label", "kind", "practices"])
    if viewer.role in ("practice_lead", "viewer") and not config.thresholds.name_other_practices:
        # a group of one practice would name that practice's figure: only where the viewer may see it
        own = set(viewer.practice_codes)
        single = {g.id for g in config.groups if len([c for c in g.practices if c in known]) == 1
                  and not set(g.practices) & own}
        df = df[~((df["area_type"] == "group") & df["area_code"].isin(single))]
    return df.reset_index(drop=True)


def compare(engine: Engine, config: FederationConfig, viewer: Viewer, code: str, as_at: date | None = None
            ) -> tuple[pd.DataFrame, dict]:
    """Every group's stored figure for measure ``code`` as at ``as_at`` (default: the latest month), beside the
    federation's. Returns (rows, federation) where rows has ``COLUMNS`` and federation is a dict with label,
    numerator, denominator, value, lower_ci, upper_ci, status, variation_text and as_at (None values when the store
    holds nothing)."""
    ind = config.indicator(code)
    when = as_at or store.latest_month(engine)
    areas = groups(engine, viewer, config)
    fed = {"label": "Federation", "numerator": None, "denominator": None, "value": None, "lower_ci": None,
           "upper_ci": None, "status": status.judgement_words(status.NO_DATA), "variation_text": "", "as_at": when}
    if when is None or areas.empty:
        return pd.DataFrame(columns=COLUMNS), fed
    evs = pd.concat([store.evaluations(engine, t, list(areas.loc[areas["area_type"] == t, "area_code"]), when, [code])
                     for t in ("pcn", "group") if (areas["area_type"] == t).any()], ignore_index=True)
    fed_ev = store.evaluations(engine, compute.FEDERATION, [compute.FEDERATION_CODE], when, [code])
    supp, min_den = config.suppression_min(ind), config.min_denominator(ind)

    def words(ev) -> tuple[str, str]:
        judgement_text = status.judgement_words(ev["judgement"], supp, min_den)
        rag_words = status.rag_text(ev["rag"]) if ev["judgement"] == status.JUDGED else judgement_text
        variation = status.variation_words(ev["variation"], bool(ev["trial_limits"]), judgement_text)
        return rag_words, variation  # the Making Data Count words, never a stray ⇑ or ↓!

    pooled = None
    if not fed_ev.empty:
        f = fed_ev.iloc[0]
        rag_words, variation = words(f)
        fed.update(numerator=f["numerator"], denominator=f["denominator"], value=f["value"], lower_ci=f["lower_ci"],
                   upper_ci=f["upper_ci"], status=rag_words, variation_text=variation)
        if f["denominator"] and f["denominator"] > 0 and pd.notna(f["numerator"]):
            pooled = float(f["numerator"]) / float(f["denominator"])
    merged = areas.merge(evs, on=["area_type", "area_code"], how="left")
    rows = []
    for r in merged.to_dict("records"):
        has = pd.notna(r.get("judgement"))
        judgement = r["judgement"] if has else status.NO_DATA
        shown = judgement not in (status.SUPPRESSED, status.NO_DATA) and pd.notna(r.get("value"))
        if has:
            rag_words, variation = words(r)
        else:
            rag_words = variation = status.judgement_words(status.NO_DATA)
        rows.append({
            "area_type": r["area_type"], "area_code": r["area_code"], "label": r["label"], "kind": r["kind"],
            "practices": r["practices"],
            "numerator": r["numerator"] if shown else np.nan, "denominator": r["denominator"] if shown else np.nan,
            "value": r["value"] if shown else np.nan, "lower_ci": r["lower_ci"] if shown else np.nan,
            "upper_ci": r["upper_ci"] if shown else np.nan, "judgement": judgement, "status": rag_words,
            "rag": r["rag"] if has else "none", "variation": r["variation"] if has else "none",
            "variation_text": variation, "latest_period": r.get("latest_period") if has else pd.NaT,
            "suppressed": judgement == status.SUPPRESSED})
    df = pd.DataFrame(rows)
    num = pd.to_numeric(df["numerator"], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(df["denominator"], errors="coerce").to_numpy(dtype=float)
    if pooled is None:
        df["position"] = df["position_95"] = "not compared"
    else:
        df["position"] = _by_direction(funnel_position(num, den, pooled, 0.998), ind.direction)
        df["position_95"] = _by_direction(funnel_position(num, den, pooled, 0.95), ind.direction)
    # too few cases to judge: not placed on the funnel either (as no RAG or icon is drawn)
    not_judged = df["judgement"] != status.JUDGED
    df.loc[not_judged, ["position", "position_95"]] = "not compared"
    df["position_text"] = [_position_words(p, p95) for p, p95 in zip(df["position"], df["position_95"])]
    return df[COLUMNS], fed
