"""A CQC inspection evidence pack, assembled: the same figures as the board views, arranged by CQC's five key
questions and, inside each, by the quality statements the indicator catalogue maps measures to.

Every figure is read, not worked out: each measure's latest value, interval, RAG and Making Data Count words come
from the measure store (``engine.kpi_results``, the store's window policy) and ``policy.status``; training,
feedback, complaints and significant events from their modules. The pack's 12 months are only which rows its tables
list. What a pack is lives in ``pack_model``; its parts in ``sections``; the PDF, workbook and CSV files are drawn
from one ``InspectionPack``, so the three formats cannot disagree.

Packs leave the building: patients' comments, complaint summaries and significant-event learning are always
redacted (``redact.Redactor`` over ``privacy.redact``, even for administrators), person-level rows are read only for
the viewer's person-level practices, and FFT figures on too few responses (``thresholds.suppression_min``) are not
shown. Staff names are never in a pack.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, select

from .. import engine as calc
from .. import models as m
from .. import training as tr
from ..config import KEY_QUESTIONS, FederationConfig
from ..demo import is_demo
from ..scope import ROLE_LABELS, AccessDenied, Viewer
from .pack_model import PACK_MONTHS, InspectionPack, NoData, Table, UnknownPractice
from .redact import Redactor, redactor_for  # noqa: F401  (Redactor: part of this module's public names)
from .sections import appendix, complaints, feedback, measures, records, training
from .sections import evidence as evidence_register

# ---------------------------------------------------------------------------------------------------------------
# Scope and period
# ---------------------------------------------------------------------------------------------------------------
def allowed_practices(engine: Engine, viewer: Viewer) -> tuple[str, ...]:
    """The practices whose pack this viewer may export (the federation pack: admins and board members only)."""
    if viewer.role == "viewer":
        return ()
    codes = tuple(calc.practices(engine, viewer)["code"])
    if viewer.role == "practice_lead":
        return tuple(c for c in codes if c in viewer.practice_codes)
    return codes


def may_export_federation(viewer: Viewer) -> bool:
    return viewer.role in ("admin", "board")


def check_access(engine: Engine, viewer: Viewer, practice_code: str | None) -> None:
    if viewer.role == "viewer":
        raise AccessDenied(f"{viewer.email} has the viewer role, which sees figures on screen only: inspection packs "
                           "are for administrators, board members and practice leads")
    if practice_code is None:
        if not may_export_federation(viewer):
            raise AccessDenied(f"{viewer.email} may export only their own practice's pack "
                               f"({', '.join(viewer.practice_codes) or 'none'}), not the federation's")
        return
    if practice_code not in allowed_practices(engine, viewer):
        raise AccessDenied(f"{viewer.email} may not export the pack of practice {practice_code}: a practice lead "
                           f"exports only their own practice ({', '.join(viewer.practice_codes) or 'none'})")


def months_with_data(engine: Engine, practice_code: str | None = None) -> list[date]:
    """The months holding any figures, for one practice or the whole federation (the periods a pack can end in)."""
    stmt = select(m.IndicatorValue.period_start).distinct().order_by(m.IndicatorValue.period_start)
    if practice_code:
        stmt = stmt.join(m.Practice, m.Practice.id == m.IndicatorValue.practice_id).where(
            m.Practice.code == practice_code)
    with engine.connect() as conn:
        return [pd.Timestamp(d).date() for d in conn.execute(stmt).scalars()]


def _month(d: date) -> date:
    return date(d.year, d.month, 1)


# ---------------------------------------------------------------------------------------------------------------
# Building the pack
# ---------------------------------------------------------------------------------------------------------------
def build_pack(engine: Engine, config: FederationConfig, viewer: Viewer, practice_code: str | None,
               period_end: date | None = None, now: datetime | None = None, detail: bool = True) -> InspectionPack:
    """Assemble a pack for one practice (or the federation, ``practice_code=None``) over the 12 months ending with
    ``period_end`` (default: the newest month with data). Raises UnknownPractice, AccessDenied or NoData.
    ``detail=False``: without the lists of complaints, significant events and comments (a preview on screen)."""
    plist = calc.practices(engine, viewer, config)
    if practice_code is not None:
        practice_code = practice_code.strip().upper()
        if practice_code not in set(plist["code"]):
            raise UnknownPractice(f"no active practice with code {practice_code}")
    check_access(engine, viewer, practice_code)

    months = months_with_data(engine, practice_code)
    who = _scope_name(plist, practice_code, config)
    if not months:
        raise NoData(f"no figures held for {who}: import data first")
    end = _month(period_end) if period_end else months[-1]
    if end not in months:
        raise NoData(f"no figures for {who} in {end:%B %Y}: data runs from {months[0]:%B %Y} to {months[-1]:%B %Y}")
    start = (pd.Timestamp(end) - pd.DateOffset(months=PACK_MONTHS - 1)).date()
    in_window = [d for d in months if start <= d <= end]

    codes = (practice_code,) if practice_code else tuple(plist["code"])
    filters = calc.Filters(practice_codes=(practice_code,) if practice_code else (), period_end=end,
                           months=PACK_MONTHS)
    everyone = calc.Filters(period_end=end, months=PACK_MONTHS)
    all_codes = list(config.indicator_codes)

    results = calc.kpi_results(engine, config, viewer, filters, codes=all_codes)
    fed_results = results if practice_code is None else calc.kpi_results(engine, config, viewer, everyone,
                                                                         codes=all_codes)
    practice = {}
    if practice_code:
        practice = plist[plist["code"] == practice_code].iloc[0].to_dict()

    snap = tr.snapshot(engine, config, viewer, filters)
    clean = redactor_for(engine, viewer, codes)
    # UK time on the cover: the pack is read by people in England, whatever the server's clock is set to
    now = (now or datetime.now(ZoneInfo("Europe/London"))).replace(tzinfo=None, microsecond=0)

    fft = fed_results.get("FFT_POSITIVE")
    pack = InspectionPack(
        federation_name=config.name, practice_code=practice_code, scope_name=who, practice=practice,
        practice_codes=codes, period_start=start, period_end=end,
        period_last_day=(pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date(), data_up_to=max(in_window),
        training_as_of=snap.as_of, generated_at=now,
        generated_by=f"{viewer.name or viewer.email} ({viewer.email}, {ROLE_LABELS[viewer.role].lower()})"
        if viewer.name else f"{viewer.email} ({ROLE_LABELS[viewer.role].lower()})",
        demo=is_demo(engine), summary_text="",
        cover=Table("cover", "Cover", pd.DataFrame()), ratings=appendix.ratings_table(plist, practice_code),
        key_questions=[], checklist=appendix.checklist_table(config), sources=Table("sources", "", pd.DataFrame()),
        methods=Table("methods", "", pd.DataFrame()), indicators=Table("indicators", "", pd.DataFrame()),
        spc_data=Table("spc_data", "", pd.DataFrame()), funnels=Table("funnels", "", pd.DataFrame()),
        fft_monthly=pd.DataFrame(), training_courses=pd.DataFrame(), targets=config.targets(),
        suppression_min=config.thresholds.suppression_min, spc_run_length=config.thresholds.spc_run_length,
        fft_federation=_in_period(fft.series, start, end)[["period_start", "value"]].copy()
        if practice_code and fft is not None else None, detail=detail,
    )

    funnels = measures.funnels(engine, config, viewer, pack, filters, {code: results[code] for code in all_codes})
    evidence = {code: measures.evidence(engine, config, viewer, pack, filters, results[code], fed_results[code],
                                        funnels.get(code)) for code in all_codes}
    extras = {
        ("Safe", "Safe and effective staffing"): training.staffing(config, pack, snap),
        ("Safe", "Safeguarding"): training.safeguarding(config, pack, snap),
        ("Safe", "Learning culture"): complaints.significant_events(engine, viewer, pack, filters, clean),
        ("Caring", "Kindness, compassion and dignity"): feedback.patient_feedback(
            engine, config, viewer, pack, filters, clean, results.get("FFT_POSITIVE")),
        ("Responsive", "Listening to and involving people"): complaints.complaints(engine, config, viewer, pack,
                                                                                   filters, clean),
    }
    for key, extra in measures.benchmark_extras(engine, config, viewer, pack, filters).items():
        if key in extras:  # the statement already holds other evidence: add the table to it
            extras[key].tables.extend(extra.tables)
        else:
            extras[key] = extra
    for key, extra in records.extras(engine, config, viewer, pack).items():  # PPG, premises checks
        if key in extras:
            extras[key].tables.extend(extra.tables)
            extras[key].paragraphs.extend(extra.paragraphs)
        else:
            extras[key] = extra
    evidence_register.merge(extras, evidence_register.statements(engine, viewer, pack))
    for kq in KEY_QUESTIONS:
        pack.key_questions.append(measures.key_question(config, pack, kq, evidence, extras, fed_results))

    pack.indicators = appendix.indicator_table(pack)
    pack.spc_data = appendix.spc_table(pack)
    pack.funnels = appendix.funnel_table(pack)
    pack.sources = appendix.sources_table(engine, pack)
    pack.methods = appendix.methods_table(engine, config, pack)
    pack.summary_text = appendix.pack_summary(pack)
    pack.cover = appendix.cover_table(pack, config)
    return pack


def _in_period(series: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    when = pd.to_datetime(series["period_start"])
    return series[(when >= pd.Timestamp(start)) & (when <= pd.Timestamp(end))]


def _scope_name(plist: pd.DataFrame, practice_code: str | None, config: FederationConfig) -> str:
    if practice_code is None:
        return f"{config.name} (all {len(plist)} practices)"
    name = plist.loc[plist["code"] == practice_code, "name"]
    return f"{name.iloc[0]} ({practice_code})" if len(name) else practice_code


__all__ = ["KEY_QUESTIONS", "PACK_MONTHS", "InspectionPack", "NoData", "Redactor", "Table", "UnknownPractice",
           "allowed_practices", "build_pack", "check_access", "may_export_federation", "months_with_data"]
