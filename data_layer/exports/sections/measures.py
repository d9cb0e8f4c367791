"""The measures of a pack: each measure's evidence (the store's latest figure and judgement for the practice or the
federation, the federation's figure beside it, the funnel plot of its latest period) and the key questions built
from them, with their summary tables and overviews in words."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from ... import engine as calc
from ... import views
from ...config import QUALITY_STATEMENTS, FederationConfig
from ...governance import notes as gov_notes
from ...policy import status
from ...scope import Viewer
from ..pack_model import (CQC_COLUMNS, FUNNEL_SHORT, FUNNEL_WORDS, IndicatorEvidence, InspectionPack,
                          KeyQuestion, Statement, Table, assurance_of, day_words, status_words, variation_of)


def funnels(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack, filters: calc.Filters,
            results: dict[str, calc.KPIResult]) -> dict[str, tuple]:
    """Each measure's funnel over its latest judging period (one month, or three for rare events), read together.
    A federation's preview says nothing of funnels: none are read for it."""
    if not (pack.detail or pack.practice_code):
        return {}
    month = calc.Filters(practice_codes=filters.practice_codes, period_end=filters.period_end, months=1)
    return views.indicator_funnels(engine, config, viewer, month,
                                   {code: (r.latest_period, r.period_months) for code, r in results.items()})


def evidence(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack, filters: calc.Filters,
             res: calc.KPIResult, fed: calc.KPIResult, funnel_of: tuple | None = None) -> IndicatorEvidence:
    ind = res.indicator
    funnel, pooled, when = funnel_of or (pd.DataFrame(columns=views.FUNNEL_COLUMNS), None, None)
    position, text = "", ""
    if pack.practice_code:
        mine = funnel[funnel["practice_code"] == pack.practice_code]
        if mine.empty:
            position, text = "not compared", "Not compared: no figure for this practice in that period."
        else:
            r = mine.iloc[0]
            position = str(r["position"])
            if position == "not compared":
                text = f"Not compared: {r['note'] or 'no figure'}."
            else:
                text = FUNNEL_WORDS.get(position, position) + "."
                p95 = str(r["position_95"])
                if position == "within" and p95 != "within":
                    text = (f"Within the 99.8% funnel limits, but outside the 95% limit on the "
                            f"{'better' if p95 == 'better' else 'worse' if p95 == 'worse' else p95} side.")
            if when is not None and len(funnel) > 1:
                text += (f" Compared with {len(funnel)} practices in {when:%B %Y} (federation "
                         f"{calc.format_value(pooled, ind.unit)}).")
    elif not funnel.empty:
        counts = funnel["position"].astype("str").value_counts()
        parts = [f"{int(counts[k])} {FUNNEL_SHORT[k].lower()}" for k in ("better", "within", "worse", "above",
                                                                          "below", "not compared") if k in counts]
        text = (f"{len(funnel)} practices in {when:%B %Y} on the funnel plot (99.8% limits around the federation's "
                f"{calc.format_value(pooled, ind.unit)}): " + ", ".join(parts) + ".")
    comparison = ""
    if pack.practice_code:
        comparison = views.COMPARISON_WORDS.get(res.comparison, "Not compared")
    shown = not res.suppressed
    return IndicatorEvidence(
        indicator=ind, result=res, statement=ind.quality_statements[0],
        numerator=res.numerator if shown else None, denominator=res.denominator if shown else None,
        lower_ci=res.lower_ci if shown else None, upper_ci=res.upper_ci if shown else None,
        status=status_words(res),
        federation_value=fed.latest_value if pack.practice_code else None, comparison=comparison,
        funnel=funnel, pooled=pooled, funnel_month=when, funnel_position=position, funnel_text=text,
        chart=f"indicator_{ind.code}", notes=gov_notes.notes_for(engine, ind.code, pack.practice_code),
    )


def key_question(config: FederationConfig, pack: InspectionPack, kq: str, evidence: dict[str, IndicatorEvidence],
                 extras: dict[tuple[str, str], Statement], fed_results: dict[str, calc.KPIResult]) -> KeyQuestion:
    statements = {name: Statement(name) for name in QUALITY_STATEMENTS[kq]}
    for ind in config.indicators:
        if ind.key_question != kq:  # quality statements belong to one key question (validated in config)
            continue
        statements[ind.quality_statements[0]].indicators.append(evidence[ind.code])
        for s in ind.quality_statements[1:]:
            statements[s].also.append((ind.name, ind.quality_statements[0]))
    for (k, s), extra in extras.items():
        if k == kq:
            st = statements[s]
            st.paragraphs.extend(extra.paragraphs)
            st.tables.extend(extra.tables)
            st.charts.extend(extra.charts)
    kept = [s for s in statements.values() if not s.empty]
    rating = pack.practice.get(CQC_COLUMNS[kq]) if pack.practice_code else None
    summary = summary_table(config, pack, kq, evidence, fed_results)
    return KeyQuestion(name=kq, rating=rating if isinstance(rating, str) and rating else None,
                       overview=kq_words(pack, kq, [s for st in kept for s in st.indicators], rating),
                       summary=summary, statements=kept,
                       not_covered=[s.name for s in statements.values() if s.empty])


def kq_words(pack: InspectionPack, kq: str, evs: list[IndicatorEvidence], rating) -> str:
    """The key question in a few sentences: rating, targets met, what the control charts say, funnel position."""
    parts = []
    if pack.practice_code:
        if isinstance(rating, str) and rating:
            when = pack.practice.get("cqc_rating_date")
            parts.append(f"CQC's last rating for {kq}: {rating}"
                         + (f" (published {day_words(when)})." if when is not None and not pd.isna(when)
                            else "."))
        else:
            parts.append(f"No CQC rating for {kq} is held for this practice.")
    with_data = [e for e in evs if e.result.latest_value is not None]
    parts.append(f"{len(evs)} measure{'s' if len(evs) != 1 else ''} in this pack, {len(with_data)} with figures "
                 f"for the period.")
    targeted = [e for e in with_data if e.result.target is not None]
    if targeted:
        parts.append("Against the federation's targets: " + status.tally([e.result.rag for e in targeted]))
        too_few = [e.indicator.name for e in targeted if e.result.judgement == status.TOO_FEW]
        if too_few:
            parts.append("Too few cases to judge: " + "; ".join(too_few) + ".")
        for e in targeted:
            if e.result.rag == "red":
                parts.append(f"{e.indicator.name} is {calc.format_value(e.result.latest_value, e.indicator.unit)} "
                             f"against a target of {calc.format_value(e.result.target, e.indicator.unit)}.")
    improving = [e.indicator.name for e in evs if e.result.variation.startswith("improvement")]
    concern = [e.indicator.name for e in evs if e.result.variation.startswith("concern")]
    if improving:
        parts.append("Improving (special cause variation in the latest period): " + "; ".join(improving) + ".")
    if concern:
        parts.append("Special-cause concern in the latest period: " + "; ".join(concern) + ".")
    if with_data and not improving and not concern:
        parts.append("No measure shows special-cause variation in the latest period.")
    if pack.practice_code:
        pos = [e.funnel_position for e in with_data]
        better, worse = pos.count("better"), pos.count("worse")
        parts.append(f"Compared with the other practices on funnel plots: {better} better than expected, "
                     f"{worse} worse than expected, {sum(p == 'within' for p in pos)} within the funnel.")
    return " ".join(parts)


def summary_table(config: FederationConfig, pack: InspectionPack, kq: str, evidence: dict[str, IndicatorEvidence],
                  fed_results: dict[str, calc.KPIResult]) -> Table:
    """The key question's KPIs (the measures the aims use) with value, target, status and the MDC icons in words."""
    codes = list(dict.fromkeys(r["indicator_code"] for r in config.kpi_rows()
                               if config.indicator(r["indicator_code"]).key_question == kq))
    rows, v_codes, a_codes = [], [], []
    for code in codes:
        ev = evidence[code]
        res, ind = ev.result, ev.indicator
        v_code, v_sym, v_text = variation_of(res)
        a_code, a_sym, a_text = assurance_of(res)
        row = {
            "Key question": kq, "Code": code, "Measure": ind.name,
            "Month": pd.Timestamp(res.latest_period) if res.latest_period else pd.NaT,
            "Value": np.nan if res.latest_value is None else float(res.latest_value), "Unit": ind.unit,
            "Target": np.nan if res.target is None else float(res.target),
            "Status": ev.status,
            "Variation": status.variation_short(v_code),  # the PDF draws the icon beside these words
            "Variation in words": v_text,
            "Assurance": status.assurance_short(a_code),
            "Assurance in words": a_text,
        }
        if pack.practice_code:
            fed = fed_results[code].latest_value
            row["Federation"] = np.nan if fed is None else float(fed)
            row["Compared with federation"] = ev.comparison
        rows.append(row)
        v_codes.append(v_code)
        a_codes.append(a_code if res.target is not None else "none")
    cols = ["Key question", "Code", "Measure", "Month", "Value", "Unit", "Target", "Status", "Variation",
            "Variation in words", "Assurance", "Assurance in words"]
    if pack.practice_code:
        cols += ["Federation", "Compared with federation"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["Month"] = pd.to_datetime(frame["Month"])
    pdf_cols = ("Measure", "Value", "Target", "Status", "Variation", "Assurance")
    widths = (42, 15, 14, 24, 32, 33)  # room for the icons beside their words
    if pack.practice_code:
        pdf_cols += ("Federation", "Compared with federation")
        widths = (34, 13, 13, 21, 28, 29, 15, 25)
    return Table(
        name=f"summary_{kq.lower().replace('-', '_')}", title=f"Summary – {kq}", frame=frame,
        kinds={"Value": "unit", "Target": "unit", "Federation": "unit", "Month": "month"},
        note="The measures the federation's aims use for this key question. Status: the latest period against the "
             "target (✔ on target, ▲ near, ✖ off, – no target), or why it is not judged (too few to judge, not "
             "shown). Variation and assurance: the Making Data Count icons of the latest period with their words "
             "(the key is under How to read this pack).",
        pdf_columns=pdf_cols, pdf_widths=widths,
        icons={"Variation": ("variation", v_codes), "Assurance": ("assurance", a_codes)},
    )



def benchmark_extras(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                     filters: calc.Filters) -> dict[tuple[str, str], Statement]:
    """The key questions' benchmark tables (``sections.benchmarks.extras``)."""
    from .benchmarks import extras

    return extras(engine, config, viewer, pack, filters)
