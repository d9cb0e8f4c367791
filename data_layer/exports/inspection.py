"""What a CQC inspection evidence pack says, as data: the same figures as the board views, arranged by CQC's five
key questions and, inside each, by the quality statements the indicator catalogue maps measures to.

Every number comes from the one engine (``engine.kpi_results`` / ``evaluate`` / ``scorecard``, ``views``,
``training``, ``feedback``, ``analytics``); nothing is recalculated here. The PDF, the workbook and the CSV files are
drawn from one ``InspectionPack``, so the three formats cannot disagree.

Packs leave the building: patients' comments, complaint summaries and significant-event learning are always
redacted (``privacy.redact``, even for administrators), person-level rows are read only for the viewer's
person-level practices, and FFT figures on fewer than 5 responses are not shown. Staff names are never in a pack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from .. import engine as calc
from .. import feedback as fb
from .. import models as m
from .. import training as tr
from .. import views
from ..analytics import (ASSURANCE_SYMBOLS, ASSURANCE_WORDS, RAG_SYMBOLS, RAG_WORDS, VARIATION_SYMBOLS,
                         VARIATION_WORDS, compliance_rate)
from ..config import KEY_QUESTIONS, QUALITY_STATEMENTS, FederationConfig, Indicator
from ..demo import is_demo
from ..privacy import people_pattern, redact
from ..scope import ROLE_LABELS, AccessDenied, Viewer

PACK_MONTHS = 12
COMMENTS_PER_KIND = 8  # verbatim comments per kind (positive / negative) in a pack

CQC_COLUMNS = {"Overall": "cqc_overall", "Safe": "cqc_safe", "Effective": "cqc_effective", "Caring": "cqc_caring",
               "Responsive": "cqc_responsive", "Well-led": "cqc_well_led"}

# Short words for a table cell; the indicator pages of the pack give the full Making Data Count words.
VARIATION_SHORT = {"common_cause": "Common cause", "improvement_high": "Improving", "improvement_low": "Improving",
                   "concern_high": "Concern", "concern_low": "Concern", "neutral_high": "Unusually high",
                   "neutral_low": "Unusually low", "no_variation": "No variation",
                   "none": "Not enough data"}
ASSURANCE_SHORT = {"pass": "Consistently passes", "fail": "Consistently fails", "hit_and_miss": "Hit and miss",
                   "no_limits": "Cannot say", "none": "No target"}
FUNNEL_WORDS = {
    "better": "Better than expected: outside the 99.8% funnel limit on the better side",
    "worse": "Worse than expected: outside the 99.8% funnel limit on the worse side",
    "above": "Higher than expected: above the 99.8% funnel limit (no preferred direction)",
    "below": "Lower than expected: below the 99.8% funnel limit (no preferred direction)",
    "within": "Within the funnel: no different from the other practices beyond chance",
    "not compared": "Not compared",
}
FUNNEL_SHORT = {"better": "Better than expected", "worse": "Worse than expected", "above": "Higher than expected",
                "below": "Lower than expected", "within": "Within the funnel", "not compared": "Not compared"}

# How each derived indicator is worked out from the raw tables (derived.py), in words for the appendix.
DERIVATION_WORDS = {
    "fft_positive": "Worked out from the practice's Friends and Family Test responses on the current six-answer "
                    "question: (Very good + Good) ÷ all responses, with Neither and Don't know kept in the "
                    "denominator. The old “likely to recommend” question is a separate series and never mixed in. "
                    "Months with fewer than {min} responses are not shown.",
    "fft_negative": "Worked out from the practice's Friends and Family Test responses on the current question: "
                    "(Poor + Very poor) ÷ all responses. Months with fewer than {min} responses are not shown.",
    "fft_responses_per_1000": "Friends and Family Test responses on the current question in the month ÷ registered "
                              "patients × 1,000.",
    "training_compliance": "Worked out from the training records at the end of each month: (member of staff × course) "
                           "pairs required for each person's role that are in date ÷ all required pairs. Hours-based "
                           "requirements count the hours completed over their rolling window.",
    "complaints_acknowledged_in_time": "Worked out from the complaints log: complaints received in the month and "
                                       "acknowledged within {days} working days ÷ complaints received (a complaint "
                                       "still inside its deadline is not yet counted).",
    "complaints_resolved_in_time": "Worked out from the complaints log: complaints received in the month with a final "
                                   "response within {days} working days ÷ complaints received (a complaint still "
                                   "inside its deadline is not yet counted).",
    "significant_events_with_learning": "Worked out from the significant event log: events in the month with their "
                                        "learning recorded ÷ events recorded.",
    "significant_events_per_10000": "Worked out from the significant event log: events recorded in the month ÷ "
                                    "registered patients × 10,000 (months without events count as zero).",
}

# What CQC asks a practice for before a visit (two weeks' notice; information within five working days), what this
# pack brings and what the practice still has to add.
CHECKLIST = (
    ("Complaints received in the last 12 months",
     "Number received, by category and outcome; times to acknowledge and to resolve against the 3 and 40 working-day "
     "standards; each complaint with its summary (identifiers removed).",
     "Responsive – Listening to and involving people",
     "Response letters, evidence of learning shared with the team, and any trends discussed at practice meetings.",
     "Covered"),
    ("Significant events and learning",
     "Significant events in the last 12 months by category, how many have their learning recorded, and the "
     "learning for each (identifiers removed).",
     "Safe – Learning culture",
     "Full significant event analyses, minutes of the meetings where they were discussed, and actions followed up.",
     "Covered"),
    ("Patient survey results and action plan",
     "Friends and Family Test each month with 95% intervals, patient survey measures (listened to, involved, phone "
     "access), and a sample of patients' comments, positive and negative.",
     "Caring – Kindness, compassion and dignity; Responsive – Equity in access",
     "The action plan agreed with the patient participation group and what has changed as a result.",
     "Partly covered"),
    ("Staff training records",
     "Compliance with the practice's required training by course and by role, safeguarding training by level and "
     "hours over the rolling 3-year window.",
     "Safe – Safe and effective staffing; Safe – Safeguarding",
     "Named training records or certificates for individual staff (on the Staff training page, not in this pack, "
     "which leaves the building).",
     "Partly covered"),
    ("Recruitment records",
     "Not in this pack.",
     "–",
     "DBS checks, references, professional registration, indemnity and immunisation status for each member of staff.",
     "Practice to add"),
    ("Staff numbers by role",
     "Staff in post on the training date, by role.",
     "Safe – Safe and effective staffing (training by role)",
     "Vacancies, sessions worked, locum use and skill mix.",
     "Partly covered"),
    ("Clinical audits",
     "Clinical outcome and prescribing measures with control charts (diabetes, hypertension, atrial fibrillation, "
     "high-risk drug monitoring, medication reviews, antibiotics).",
     "Safe – Medicines optimisation; Effective – Monitoring and improving outcomes",
     "Two-cycle clinical audit reports showing the change made and the re-audit.",
     "Partly covered"),
)


class Redactor:
    """What a pack does to free text before it leaves the building: ``privacy.redact`` (NHS numbers, phone numbers,
    email addresses, postcodes and names after titles) for everyone, admins included, with the full name of anyone
    on the practices' staff lists removed too."""

    def __init__(self, staff_names: list[str]):
        self._staff = people_pattern(staff_names)

    def __call__(self, text):
        if _blank(text):
            return None
        return redact(str(text), people=self._staff)


def _blank(text) -> bool:
    """No text. "nan" counts: a missing value that went through ``str()`` on its way here (the views redact with
    ``str(text)``, and pandas turns a NULL into NaN first)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return True
    return str(text).strip() in ("", "nan", "None", "<NA>")


def _redactor(engine: Engine, viewer: Viewer, codes: tuple[str, ...]) -> Redactor:
    """Staff names are read only to remove them, and only for practices whose people this viewer may see."""
    allowed = viewer.person_level_practices(codes)
    if not allowed:
        return Redactor([])
    with engine.connect() as conn:
        names = conn.execute(select(m.Staff.name).join(m.Practice, m.Practice.id == m.Staff.practice_id)
                             .where(m.Practice.code.in_(allowed))).scalars().all()
    return Redactor(list(names))


class UnknownPractice(ValueError):
    """No practice with that code."""


class NoData(ValueError):
    """Nothing to put in a pack for that practice and period."""


# ---------------------------------------------------------------------------------------------------------------
# The pack, as data
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Table:
    """One table of the pack: a sheet in the workbook, a CSV file in the zip, a table in the PDF.

    ``kinds`` says how each column is written: text, int, dec1, dec2, date, month, datetime, or ``unit`` (a number
    in the unit named by the row's ``Unit`` column). Columns not listed are inferred from the dtype.
    ``pdf_columns`` picks the columns the PDF shows (all when None) with relative widths in ``pdf_widths``."""

    name: str
    title: str
    frame: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    note: str = ""
    pdf_columns: tuple[str, ...] | None = None
    pdf_widths: tuple[float, ...] | None = None

    def kind(self, column: str) -> str:
        if column in self.kinds:
            return self.kinds[column]
        s = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(s):
            return "date"
        if pd.api.types.is_bool_dtype(s):
            return "text"
        if pd.api.types.is_integer_dtype(s):
            return "int"
        if pd.api.types.is_float_dtype(s):
            return "dec1"
        return "text"


@dataclass
class IndicatorEvidence:
    """One measure: its latest value and what the engine says about it, for the practice (or the federation)."""

    indicator: Indicator
    result: calc.KPIResult
    statement: str  # the quality statement it is shown under (the first it is mapped to)
    numerator: float | None
    denominator: float | None
    lower_ci: float | None
    upper_ci: float | None
    status: str  # "✖ Off target"
    federation_value: float | None
    comparison: str  # words: compared with the federation in the same month (practice packs)
    funnel: pd.DataFrame
    pooled: float | None
    funnel_month: date | None
    funnel_position: str  # better / worse / within / above / below / not compared ('' for a federation pack)
    funnel_text: str
    chart: str  # key of its chart in InspectionPack.charts

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def value_text(self) -> str:
        r = self.result
        if r.suppressed:
            return "Fewer than 5 responses: not shown"
        return calc.format_value(r.latest_value, self.indicator.unit)

    @property
    def interval_text(self) -> str:
        if self.lower_ci is None or self.upper_ci is None or np.isnan(self.lower_ci) or np.isnan(self.upper_ci):
            return ""
        u = self.indicator.unit
        return f"{calc.format_value(self.lower_ci, u)} to {calc.format_value(self.upper_ci, u)}"


@dataclass
class Statement:
    """A CQC quality statement and the pack's evidence for it."""

    name: str
    indicators: list[IndicatorEvidence] = field(default_factory=list)
    also: list[tuple[str, str]] = field(default_factory=list)  # (measure, statement it is shown under)
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (chart key, caption)

    @property
    def empty(self) -> bool:
        return not (self.indicators or self.also or self.paragraphs or self.tables or self.charts)


@dataclass
class KeyQuestion:
    name: str
    rating: str | None
    overview: str
    summary: Table
    statements: list[Statement]
    not_covered: list[str]


@dataclass
class InspectionPack:
    federation_name: str
    practice_code: str | None  # None: the whole federation
    scope_name: str  # "Kingfisher Medical Centre (Z90001)" or the federation's name
    practice: dict  # the practice's public facts (empty for a federation pack)
    practice_codes: tuple[str, ...]
    period_start: date  # first day of the first month
    period_end: date  # first day of the last month
    period_last_day: date
    data_up_to: date  # first day of the newest month with figures in the period
    training_as_of: date | None
    generated_at: datetime
    generated_by: str
    demo: bool
    summary_text: str
    cover: Table
    ratings: Table
    key_questions: list[KeyQuestion]
    checklist: Table
    sources: Table
    methods: Table
    indicators: Table
    spc_data: Table
    funnels: Table
    fft_monthly: pd.DataFrame  # raw numbers behind the FFT chart
    training_courses: pd.DataFrame  # raw numbers behind the training chart
    fft_federation: pd.DataFrame | None = None  # the federation's % positive, drawn beside a practice's
    targets: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    charts: dict[str, bytes] = field(default_factory=dict)

    @property
    def is_federation(self) -> bool:
        return self.practice_code is None

    @property
    def period_words(self) -> str:
        return f"{self.period_start:%B %Y} to {self.period_end:%B %Y}"

    def evidence(self) -> list[IndicatorEvidence]:
        return [ev for kq in self.key_questions for s in kq.statements for ev in s.indicators]

    def tables(self) -> list[Table]:
        """Every table of the pack, in the pack's order (sheets of the workbook, files of the zip)."""
        out = [self.cover, *[kq.summary for kq in self.key_questions], self.ratings, self.indicators,
               self.spc_data, self.funnels]
        for kq in self.key_questions:
            for s in kq.statements:
                out.extend(s.tables)
        out += [self.checklist, self.sources, self.methods]
        return out


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


def _day(d) -> str:
    d = pd.Timestamp(d)
    return f"{d.day} {d:%B %Y}"


def _month(d: date) -> date:
    return date(d.year, d.month, 1)


# ---------------------------------------------------------------------------------------------------------------
# Building the pack
# ---------------------------------------------------------------------------------------------------------------
def build_pack(engine: Engine, config: FederationConfig, viewer: Viewer, practice_code: str | None,
               period_end: date | None = None, now: datetime | None = None) -> InspectionPack:
    """Assemble a pack for one practice (or the federation, ``practice_code=None``) over the 12 months ending with
    ``period_end`` (default: the newest month with data). Raises UnknownPractice, AccessDenied or NoData."""
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
    compared = pd.DataFrame(columns=views.PRACTICE_RESULT_COLUMNS)
    if practice_code:
        compared, _ = views.practice_results(engine, config, viewer, filters, codes=all_codes)
        compared = compared[compared["practice_code"] == practice_code]
    compared = compared.set_index("indicator_code")

    practice = {}
    if practice_code:
        practice = plist[plist["code"] == practice_code].iloc[0].to_dict()

    snap = tr.snapshot(engine, config, viewer, filters)
    clean = _redactor(engine, viewer, codes)
    # UK time on the cover: the pack is read by people in England, whatever the server's clock is set to
    now = (now or datetime.now(ZoneInfo("Europe/London"))).replace(tzinfo=None, microsecond=0)

    pack = InspectionPack(
        federation_name=config.name, practice_code=practice_code, scope_name=who, practice=practice,
        practice_codes=codes, period_start=start, period_end=end,
        period_last_day=(pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date(), data_up_to=max(in_window),
        training_as_of=snap.as_of, generated_at=now,
        generated_by=f"{viewer.name or viewer.email} ({viewer.email}, {ROLE_LABELS[viewer.role].lower()})"
        if viewer.name else f"{viewer.email} ({ROLE_LABELS[viewer.role].lower()})",
        demo=is_demo(engine), summary_text="",
        cover=Table("cover", "Cover", pd.DataFrame()), ratings=_ratings_table(plist, practice_code),
        key_questions=[], checklist=_checklist_table(), sources=Table("sources", "", pd.DataFrame()),
        methods=Table("methods", "", pd.DataFrame()), indicators=Table("indicators", "", pd.DataFrame()),
        spc_data=Table("spc_data", "", pd.DataFrame()), funnels=Table("funnels", "", pd.DataFrame()),
        fft_monthly=pd.DataFrame(), training_courses=pd.DataFrame(), targets=config.targets(),
        fft_federation=fed_results["FFT_POSITIVE"].series[["period_start", "value"]].copy()
        if practice_code and "FFT_POSITIVE" in fed_results else None,
    )

    evidence = {code: _evidence(engine, config, viewer, pack, filters, results[code], fed_results[code],
                                compared.loc[code] if code in compared.index else None)
                for code in all_codes}
    scorecard = calc.scorecard(config, results)
    extras = _extra_evidence(engine, config, viewer, pack, filters, snap, clean)
    for kq in KEY_QUESTIONS:
        pack.key_questions.append(_key_question(config, pack, kq, evidence, scorecard, extras, fed_results))

    pack.indicators = _indicator_table(pack)
    pack.spc_data = _spc_table(pack)
    pack.funnels = _funnel_table(pack)
    pack.sources = _sources_table(engine, pack)
    pack.methods = _methods_table(engine, config, pack)
    pack.summary_text = _pack_summary(pack)
    pack.cover = _cover_table(pack, config)
    return pack


def _scope_name(plist: pd.DataFrame, practice_code: str | None, config: FederationConfig) -> str:
    if practice_code is None:
        return f"{config.name} (all {len(plist)} practices)"
    name = plist.loc[plist["code"] == practice_code, "name"]
    return f"{name.iloc[0]} ({practice_code})" if len(name) else practice_code


def _num(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def _evidence(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack, filters: calc.Filters,
              res: calc.KPIResult, fed: calc.KPIResult, row) -> IndicatorEvidence:
    ind = res.indicator
    last = res.series.iloc[-1] if not res.series.empty else None
    # the funnel compares one month, so only that month is read
    month = calc.Filters(practice_codes=filters.practice_codes, period_end=res.latest_period or filters.period_end,
                         months=1)
    funnel, pooled, when = views.indicator_funnel(engine, config, viewer, month, ind.code,
                                                  period=res.latest_period)
    position, text = "", ""
    if pack.practice_code:
        mine = funnel[funnel["practice_code"] == pack.practice_code]
        if mine.empty:
            position, text = "not compared", "Not compared: no figure for this practice in that month."
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
    lo = hi = None
    if last is not None and not res.suppressed:
        lo, hi = _num(last.get("lower_ci")), _num(last.get("upper_ci"))
    rag = res.rag
    status = ("Fewer than 5 responses: not shown" if res.suppressed else f"{RAG_SYMBOLS[rag]} {RAG_WORDS[rag]}")
    comparison = ""
    if pack.practice_code:
        comparison = str(row["comparison_text"]) if row is not None else "Not compared"
    return IndicatorEvidence(
        indicator=ind, result=res, statement=ind.quality_statements[0],
        numerator=None if last is None or res.suppressed else _num(last["numerator"]),
        denominator=None if last is None else _num(last["denominator"]),
        lower_ci=lo, upper_ci=hi, status=status,
        federation_value=fed.latest_value if pack.practice_code else None, comparison=comparison,
        funnel=funnel, pooled=pooled, funnel_month=when, funnel_position=position, funnel_text=text,
        chart=f"indicator_{ind.code}",
    )


# ---------------------------------------------------------------------------------------------------------------
# Key questions
# ---------------------------------------------------------------------------------------------------------------
def _variation(res: calc.KPIResult) -> tuple[str, str, str]:
    code = getattr(res.spc, "variation", "none")
    return code, VARIATION_SYMBOLS.get(code, "–"), getattr(res.spc, "variation_text", VARIATION_WORDS["none"])


def _assurance(res: calc.KPIResult) -> tuple[str, str, str]:
    if res.spc is None:
        return "none", "–", "Not enough data" if res.target is not None else ASSURANCE_WORDS["none"]
    return res.spc.assurance, ASSURANCE_SYMBOLS.get(res.spc.assurance, "–"), res.spc.assurance_text


def _key_question(config: FederationConfig, pack: InspectionPack, kq: str, evidence: dict[str, IndicatorEvidence],
                  scorecard: pd.DataFrame, extras: dict[tuple[str, str], Statement],
                  fed_results: dict[str, calc.KPIResult]) -> KeyQuestion:
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
    summary = _summary_table(config, pack, kq, evidence, scorecard, fed_results)
    return KeyQuestion(name=kq, rating=rating if isinstance(rating, str) and rating else None,
                       overview=_kq_words(pack, kq, [s for st in kept for s in st.indicators], rating),
                       summary=summary, statements=kept,
                       not_covered=[s.name for s in statements.values() if s.empty])


def _kq_words(pack: InspectionPack, kq: str, evs: list[IndicatorEvidence], rating) -> str:
    """The key question in a few sentences: rating, targets met, what the control charts say, funnel position."""
    parts = []
    if pack.practice_code:
        if isinstance(rating, str) and rating:
            when = pack.practice.get("cqc_rating_date")
            parts.append(f"CQC's last rating for {kq}: {rating}"
                         + (f" (published {_day(when)})." if when is not None and not pd.isna(when)
                            else "."))
        else:
            parts.append(f"No CQC rating for {kq} is held for this practice.")
    with_data = [e for e in evs if e.result.latest_value is not None]
    parts.append(f"{len(evs)} measure{'s' if len(evs) != 1 else ''} in this pack, {len(with_data)} with figures "
                 f"for the period.")
    targeted = [e for e in with_data if e.result.target is not None]
    if targeted:
        on = sum(e.result.rag == "green" for e in targeted)
        near = sum(e.result.rag == "amber" for e in targeted)
        off = [e for e in targeted if e.result.rag == "red"]
        parts.append(f"Against the federation's targets: {on} of {len(targeted)} on target"
                     + (f", {near} near target" if near else "") + (f", {len(off)} off target" if off else "") + ".")
        for e in off:
            parts.append(f"{e.indicator.name} is {calc.format_value(e.result.latest_value, e.indicator.unit)} "
                         f"against a target of {calc.format_value(e.result.target, e.indicator.unit)}.")
    improving = [e.indicator.name for e in evs if e.result.spc is not None
                 and e.result.spc.variation.startswith("improvement")]
    concern = [e.indicator.name for e in evs if e.result.spc is not None
               and e.result.spc.variation.startswith("concern")]
    if improving:
        parts.append("Improving (special cause variation in the latest month): " + "; ".join(improving) + ".")
    if concern:
        parts.append("Special-cause concern in the latest month: " + "; ".join(concern) + ".")
    if with_data and not improving and not concern:
        parts.append("No measure shows special-cause variation in the latest month.")
    if pack.practice_code:
        pos = [e.funnel_position for e in with_data]
        better, worse = pos.count("better"), pos.count("worse")
        parts.append(f"Compared with the other practices on funnel plots: {better} better than expected, "
                     f"{worse} worse than expected, {sum(p == 'within' for p in pos)} within the funnel.")
    return " ".join(parts)


def _summary_table(config: FederationConfig, pack: InspectionPack, kq: str, evidence: dict[str, IndicatorEvidence],
                   scorecard: pd.DataFrame, fed_results: dict[str, calc.KPIResult]) -> Table:
    """The key question's KPIs (the measures the aims use) with value, target, RAG and the MDC icons in words."""
    sc = scorecard[scorecard["key_question"] == kq].drop_duplicates("indicator_code")
    rows = []
    for r in sc.to_dict("records"):
        ev = evidence[r["indicator_code"]]
        res = ev.result
        v_code, v_sym, v_text = _variation(res)
        a_code, a_sym, a_text = _assurance(res)
        row = {
            "Key question": kq, "Code": r["indicator_code"], "Measure": r["indicator"],
            "Month": pd.Timestamp(res.latest_period) if res.latest_period else pd.NaT,
            "Value": np.nan if res.latest_value is None else float(res.latest_value), "Unit": r["unit"],
            "Target": np.nan if r["target"] is None else float(r["target"]),
            "Status": "Fewer than 5 responses: not shown" if r["suppressed"] else r["status"],
            "Variation": f"{v_sym} {VARIATION_SHORT.get(v_code, v_code)}",
            "Variation in words": v_text,
            "Assurance": f"{a_sym} {ASSURANCE_SHORT.get(a_code, a_code)}",
            "Assurance in words": a_text,
        }
        if pack.practice_code:
            fed = fed_results[r["indicator_code"]].latest_value
            row["Federation"] = np.nan if fed is None else float(fed)
            row["Compared with federation"] = ev.comparison
        rows.append(row)
    cols = ["Key question", "Code", "Measure", "Month", "Value", "Unit", "Target", "Status", "Variation",
            "Variation in words", "Assurance", "Assurance in words"]
    if pack.practice_code:
        cols += ["Federation", "Compared with federation"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["Month"] = pd.to_datetime(frame["Month"])
    pdf_cols = ("Measure", "Value", "Target", "Status", "Variation", "Assurance")
    widths = (46, 17, 15, 25, 28, 29)
    if pack.practice_code:
        pdf_cols += ("Federation", "Compared with federation")
        widths = (38, 15, 14, 22, 21, 24, 18, 26)
    return Table(
        name=f"summary_{kq.lower().replace('-', '_')}", title=f"Summary – {kq}", frame=frame,
        kinds={"Value": "unit", "Target": "unit", "Federation": "unit", "Month": "month"},
        note="The measures the federation's aims use for this key question. Status: the latest month against the "
             "target (✔ on target, ▲ near, ✖ off). Variation and assurance: Making Data Count icons for the latest "
             "month (∼ common cause, ⇑⇓ improving, ↑!↓! concern; P passes, F fails, ? hit and miss).",
        pdf_columns=pdf_cols, pdf_widths=widths,
    )


# ---------------------------------------------------------------------------------------------------------------
# Training, patient feedback, complaints and significant events
# ---------------------------------------------------------------------------------------------------------------
def _extra_evidence(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                    filters: calc.Filters, snap: tr.Snapshot, clean: Redactor) -> dict[tuple[str, str], Statement]:
    out: dict[tuple[str, str], Statement] = {}
    out[("Safe", "Safe and effective staffing")] = _training_staffing(config, pack, snap)
    out[("Safe", "Safeguarding")] = _training_safeguarding(config, pack, snap)
    out[("Safe", "Learning culture")] = _significant_events(engine, viewer, pack, filters, clean)
    out[("Caring", "Kindness, compassion and dignity")] = _patient_feedback(engine, config, viewer, pack, filters,
                                                                            clean)
    out[("Responsive", "Listening to and involving people")] = _complaints(engine, config, viewer, pack, filters,
                                                                           clean)
    return out


def _pct(v) -> float:
    return np.nan if v is None or pd.isna(v) else float(v)


def _training_staffing(config: FederationConfig, pack: InspectionPack, snap: tr.Snapshot) -> Statement:
    st = Statement("Safe and effective staffing")
    if snap.status.empty:
        st.paragraphs.append("No staff in post with required training on this date.")
        return st
    as_of = _day(snap.as_of)
    matrix = tr.compliance_matrix(snap)
    overall = matrix[(matrix["practice_code"] == "ALL") & (matrix["course"] == "ALL")].iloc[0]
    lapsing = tr.lapsing_counts(snap)
    total = lapsing[lapsing["practice_code"] == "ALL"].iloc[0]
    st.paragraphs.append(
        f"Training compliance on {as_of}: {overall['compliance_pct']:.1f}% ({int(overall['in_date']):,} of "
        f"{int(overall['required']):,} required staff × course pairs in date). {int(total['Lapsed'])} lapsed, "
        f"{int(total['Never completed'])} never completed, and {int(total['Lapses within 30 days'])} more lapse "
        f"within 30 days. Which courses each role needs is the federation's policy (CQC sets no mandatory list for "
        f"GP practices; Regulation 18).")
    by_course = matrix[(matrix["practice_code"] == "ALL") & (matrix["course"] != "ALL")].copy()
    by_course = by_course.sort_values("compliance_pct", kind="mergesort")
    pack.training_courses = by_course[["course", "course_name", "required", "in_date", "compliance_pct"]].copy()
    course_table = pd.DataFrame({
        "Course": by_course["course_name"].astype(str), "Required": by_course["required"].astype(int),
        "In date": by_course["in_date"].astype(int), "Lapsing in 90 days": by_course["lapsing"].astype(int),
        "Lapsed": by_course["lapsed"].astype(int), "Never completed": by_course["never_completed"].astype(int),
        "Compliance (%)": by_course["compliance_pct"].astype(float),
    })
    st.tables.append(Table(
        "training_by_course", f"Training compliance by course on {as_of}", course_table.reset_index(drop=True),
        note="Required: staff in post whose role needs the course. In date includes training that lapses within "
             "90 days. Lowest compliance first.",
        pdf_widths=(62, 18, 18, 22, 16, 22, 22)))
    st.charts.append(("training", f"Training compliance by course on {as_of} (bars), with the federation's target "
                                  "of 95% for mandatory training (line)."))
    by_role = tr.compliance_by_role(snap)
    role_table = pd.DataFrame({
        "Role": by_role["role"].astype(str), "Staff in post": by_role["staff"].astype(int),
        "Required": by_role["required"].astype(int), "In date": by_role["in_date"].astype(int),
        "Lapsed": by_role["lapsed"].astype(int), "Never completed": by_role["never_completed"].astype(int),
        "Compliance (%)": by_role["compliance_pct"].astype(float),
    })
    st.tables.append(Table(
        "training_by_role", f"Training compliance and staff in post by role on {as_of}", role_table,
        note="Staff in post: people with a role the training policy covers, on that date.",
        pdf_widths=(40, 22, 22, 22, 22, 26, 26)))
    # course × role: where compliance falls short, and for whom
    cells = compliance_rate(snap.status, by=["course_name", "role"])
    roles = [r for r in config.training.roles if r in set(cells["role"])]
    grid = cells.pivot(index="course_name", columns="role", values="compliance_pct").reindex(columns=roles)
    order = [c.name for c in config.training.courses if c.name in grid.index]
    grid = grid.reindex(order).reset_index().rename(columns={"course_name": "Course"})
    grid.columns = ["Course", *roles]
    st.tables.append(Table(
        "training_course_role", "Training compliance (%) by course and role", grid,
        kinds={r: "dec1" for r in roles},
        note="Percentage of the role's staff in post with the course in date. Blank: the role does not need the "
             "course.",
        pdf_widths=(44, *([136 / max(len(roles), 1)] * len(roles)))))
    if pack.is_federation:
        per = matrix[(matrix["course"] == "ALL") & (matrix["practice_code"] != "ALL")]
        lap = lapsing.set_index("practice_code")
        practice_table = pd.DataFrame({
            "Practice": per["practice_name"].astype(str), "Code": per["practice_code"].astype(str),
            "Required": per["required"].astype(int), "In date": per["in_date"].astype(int),
            "Lapsed": per["practice_code"].map(lap["Lapsed"]).astype(int),
            "Never completed": per["practice_code"].map(lap["Never completed"]).astype(int),
            "Lapse within 30 days": per["practice_code"].map(lap["Lapses within 30 days"]).astype(int),
            "Compliance (%)": per["compliance_pct"].astype(float),
        }).sort_values("Practice").reset_index(drop=True)
        st.tables.append(Table("training_by_practice", f"Training compliance by practice on {as_of}",
                               practice_table, pdf_widths=(48, 18, 18, 18, 16, 22, 20, 20)))
    return st


def _training_safeguarding(config: FederationConfig, pack: InspectionPack, snap: tr.Snapshot) -> Statement:
    st = Statement("Safeguarding")
    if snap.status.empty:
        return st
    courses = set()
    for code in ("SAFEGUARDING_TRAINING", "DOMESTIC_ABUSE_TRAINING"):
        if code in config.indicator_codes:
            courses |= set(config.indicator(code).courses)
    if not courses:
        return st
    status = snap.status[snap.status["course"].isin(courses)]
    if status.empty:
        return st
    rows = compliance_rate(status, by=["course_name", "role"])
    order = {c.name: i for i, c in enumerate(config.training.courses)}
    role_order = {r: i for i, r in enumerate(config.training.roles)}
    rows = rows.sort_values(["course_name", "role"], key=lambda s: s.map(order if s.name == "course_name"
                                                                         else role_order), kind="mergesort")
    as_of = _day(snap.as_of)
    table = pd.DataFrame({
        "Course": rows["course_name"].astype(str), "Role": rows["role"].astype(str),
        "Required": rows["required"].astype(int), "In date": rows["in_date"].astype(int),
        "Lapsed": rows["lapsed"].astype(int), "Never completed": rows["never_completed"].astype(int),
        "Compliance (%)": rows["compliance_pct"].astype(float),
    }).reset_index(drop=True)
    st.tables.append(Table("safeguarding_training", f"Safeguarding and domestic abuse training by role on {as_of}",
                           table, note="The level each role needs follows the intercollegiate guidance as set in the "
                                       "federation's training policy.",
                           pdf_widths=(54, 30, 17, 17, 16, 22, 24)))
    hours = tr.hours_summary(snap, config)
    hours = hours[hours["practice_code"] == "ALL"]
    if not hours.empty:
        st.tables.append(Table(
            "safeguarding_hours", "Safeguarding hours over the rolling window",
            pd.DataFrame({
                "Course": hours["course_name"].astype(str),
                "Hours required": hours["required_hours"].astype(float),
                "Window (months)": hours["window_months"].astype(int),
                "Staff who need it": hours["staff"].astype(int), "Meeting it": hours["meeting"].astype(int),
                "Meeting it (%)": hours["meeting_pct"].astype(float),
                "Median hours done": hours["median_hours"].astype(float),
                "Hours short in all": hours["shortfall_hours"].astype(float),
            }).reset_index(drop=True),
            kinds={"Hours required": "dec1", "Median hours done": "dec1", "Hours short in all": "dec1"},
            note="Hours-based requirements count every session completed inside the rolling window.",
            pdf_widths=(52, 18, 18, 20, 18, 18, 18, 18)))
    return st


def _patient_feedback(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                      filters: calc.Filters, clean: Redactor) -> Statement:
    st = Statement("Kindness, compassion and dignity")
    min_n = config.thresholds.suppression_min
    counts = fb.fft_counts(engine, config, viewer, filters)  # read once, summarised three ways
    monthly = fb.fft_by_month(engine, config, viewer, filters, "current", counts=counts)
    if monthly.empty:
        st.paragraphs.append("No Friends and Family Test responses on the current question in this period.")
        return st
    pack.fft_monthly = monthly.copy()
    responses = int(pd.to_numeric(monthly["total"], errors="coerce").sum())  # months shown only
    shown = monthly[~monthly["suppressed"].astype(bool)]
    positive = int(shown["positive"].sum()) if not shown.empty else 0
    words = [f"{responses:,} Friends and Family Test responses on the current question “Overall, how was your "
             f"experience of our service?” in the 12 months."]
    if not shown.empty:
        words.append(f"In the months shown, {positive:,} of {int(shown['total'].sum()):,} "
                     f"({positive / max(int(shown['total'].sum()), 1) * 100:.1f}%) answered Very good or Good.")
    hidden = int(monthly["suppressed"].astype(bool).sum())
    if hidden:
        words.append(f"{hidden} month{'s' if hidden != 1 else ''} with fewer than {min_n} responses "
                     f"{'are' if hidden != 1 else 'is'} not shown.")
    legacy = fb.legacy_use(engine, config, viewer, filters, counts=counts)
    if not legacy.empty:
        words.append(f"{int(legacy['responses'].sum()):,} responses on the old “how likely are you to recommend” "
                     "question are a separate series and not included in these percentages.")
    st.paragraphs.append(" ".join(words))
    table = pd.DataFrame({
        "Month": pd.to_datetime(monthly["month"]),
        "Responses": pd.to_numeric(monthly["total"], errors="coerce").astype(float),  # hidden when < 5
        "Very good": monthly["very_good"], "Good": monthly["good"], "Neither good nor poor": monthly["neither"],
        "Poor": monthly["poor"], "Very poor": monthly["very_poor"], "Don't know": monthly["dont_know"],
        "Positive (%)": monthly["pct_positive"].astype(float),
        "Positive lower 95% (%)": monthly["positive_lower"].astype(float),
        "Positive upper 95% (%)": monthly["positive_upper"].astype(float),
        "Negative (%)": monthly["pct_negative"].astype(float),
        "Negative lower 95% (%)": monthly["negative_lower"].astype(float),
        "Negative upper 95% (%)": monthly["negative_upper"].astype(float),
        "Note": monthly["note"].astype(str),
    })
    for c in ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"):
        table[c] = pd.to_numeric(table[c], errors="coerce").astype(float)
    st.charts.append(("fft", "Friends and Family Test: % positive each month, with the 95% interval (shaded) and the "
                             "federation's target; months with fewer than 5 responses are not shown."))
    st.tables.append(Table(
        "fft_monthly", "Friends and Family Test by month", table,
        kinds={c: "int" for c in ("Responses", "Very good", "Good", "Neither good nor poor", "Poor", "Very poor",
                                  "Don't know")} | {"Month": "month"},
        note="Positive = Very good + Good; negative = Poor + Very poor; both of all responses (Neither and Don't know "
             "stay in the total). Intervals: Wilson score 95%.",
        pdf_columns=("Month", "Responses", "Positive (%)", "Positive lower 95% (%)", "Positive upper 95% (%)",
                     "Negative (%)", "Note"),
        pdf_widths=(22, 22, 22, 24, 24, 22, 44)))
    if pack.is_federation:
        per, pooled = fb.fft_by_practice(engine, config, viewer, filters, months=PACK_MONTHS, counts=counts)
        if not per.empty:
            st.tables.append(Table(
                "fft_by_practice", "Friends and Family Test by practice over the 12 months", pd.DataFrame({
                    "Practice": per["practice_name"].astype(str), "Code": per["practice_code"].astype(str),
                    "Responses": pd.to_numeric(per["total"], errors="coerce").astype(float),
                    "Positive (%)": per["pct_positive"].astype(float),
                    "Lower 95% (%)": per["positive_lower"].astype(float),
                    "Upper 95% (%)": per["positive_upper"].astype(float),
                    "Compared with the federation": per["compared"].astype(str),
                    "Funnel (99.8%)": per["funnel"].astype(str), "Note": per["note"].astype(str),
                }), kinds={"Responses": "int"},
                note=f"Federation: {calc.format_value(pooled, '%')} positive. Compared: the practice's 95% interval "
                     "wholly above or below the federation's figure.",
                pdf_widths=(42, 16, 18, 16, 16, 16, 22, 18, 16)))
    st.tables.append(_comment_sample(engine, config, viewer, pack, filters, responses, clean))
    return st


def _comment_sample(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                    filters: calc.Filters, responses: int, clean: Redactor) -> Table:
    """Verbatim comments, positive and negative, spread over the months (the newest distinct comment of each month,
    newest months first), always redacted: the pack leaves the building."""
    cols = ["Date", "Practice", "Answer", "Comment"]
    title = "What patients said: a sample of comments"
    readable, why = fb.readable_practices(engine, config, viewer, filters)
    min_n = config.thresholds.suppression_min
    if responses < min_n:
        return Table("fft_comments", title, pd.DataFrame(columns=cols),
                     note=f"Fewer than {min_n} responses in the period: comments are not shown.")
    if not readable:
        return Table("fft_comments", title, pd.DataFrame(columns=cols), note=why)
    picked = []
    for label, ratings in (("Positive", (1, 2)), ("Negative", (4, 5))):
        got = fb.comments(engine, config, viewer, filters, ratings=ratings, limit=2000)
        df = got.rows.copy()
        if df.empty:
            continue
        df["text"] = [clean(" ".join(t.strip() for t in (a, b) if isinstance(t, str) and t.strip()))
                      for a, b in zip(df["comment"], df["follow_up"])]
        df = df[df["text"].str.strip() != ""].drop_duplicates("text")
        df["month"] = pd.to_datetime(df["date"]).dt.to_period("M")
        rank = df.groupby("month", sort=False).cumcount()
        df = df.assign(_rank=rank).sort_values(["_rank", "month", "date"], ascending=[True, False, False],
                                               kind="mergesort").head(COMMENTS_PER_KIND)
        df = df.sort_values("date", ascending=False, kind="mergesort")
        picked.append(pd.DataFrame({"Kind": label, "Date": pd.to_datetime(df["date"]),
                                    "Practice": df["practice_name"].astype(str), "Answer": df["answer"].astype(str),
                                    "Comment": df["text"].astype(str)}))
    frame = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame(columns=["Kind", *cols])
    widths = (18, 20, 34, 22, 86) if pack.is_federation else (18, 22, 0, 26, 114)
    pdf_cols = ("Kind", "Date", "Practice", "Answer", "Comment") if pack.is_federation else (
        "Kind", "Date", "Answer", "Comment")
    return Table(
        "fft_comments", title, frame, kinds={"Date": "date"},
        note=f"Up to {COMMENTS_PER_KIND} comments from patients who answered Very good or Good and up to "
             f"{COMMENTS_PER_KIND} from those who answered Poor or Very poor: the newest distinct comment of each "
             "month, newest months first. Names, phone numbers, email addresses, NHS numbers and postcodes are "
             "removed.",
        pdf_columns=pdf_cols, pdf_widths=tuple(w for w in widths if w))


def _outcomes(engine: Engine, codes: tuple[str, ...], start: date, end: date) -> pd.DataFrame:
    """Complaints received in the window by outcome (counts only)."""
    outcome = func.coalesce(m.Complaint.outcome, "Not yet decided")
    stmt = (select(outcome, func.count()).join(m.Practice, m.Practice.id == m.Complaint.practice_id)
            .where(m.Practice.code.in_(codes), m.Complaint.received_on >= start, m.Complaint.received_on <= end)
            .group_by(outcome))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=["Outcome", "Complaints"])
    df["Complaints"] = pd.to_numeric(df["Complaints"]).astype(int)
    return df.sort_values(["Complaints", "Outcome"], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def _complaints(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack,
                filters: calc.Filters, clean: Redactor) -> Statement:
    st = Statement("Listening to and involving people")
    summary = fb.complaints_summary(engine, config, viewer, filters)
    if summary.empty:
        return st
    ack_days = next((i.days for i in config.indicators if i.derived == "complaints_acknowledged_in_time"), 3)
    res_days = next((i.days for i in config.indicators if i.derived == "complaints_resolved_in_time"), 40)
    total = summary[summary["practice_code"] == "ALL"].iloc[0]
    received = int(total["received"])
    if received == 0:
        st.paragraphs.append("No complaints received in the 12 months.")
    else:
        def pct(num, den):
            return f"{num / den * 100:.0f}% ({int(num)} of {int(den)})" if den else "–"

        def days(v):
            return "–" if pd.isna(v) else f"{v:.0f} working day{'s' if v != 1 else ''}"

        st.paragraphs.append(
            f"{received} complaint{'s' if received != 1 else ''} received in the 12 months, {int(total['open'])} "
            f"still open. Acknowledged within {ack_days} working days: "
            f"{pct(total['ack_in_time'], total['ack_decided'])}; median {days(total['median_days_to_ack'])}. "
            f"Final response within {res_days} working days: "
            f"{pct(total['resolved_in_time'], total['resolved_decided'])}; median "
            f"{days(total['median_days_to_resolve'])}.")
    body = summary if pack.is_federation else summary[summary["practice_code"] != "ALL"]
    st.tables.append(Table(
        "complaints_summary", "Complaints: numbers and response times", pd.DataFrame({
            "Practice": body["practice_name"].astype(str), "Received": body["received"].astype(int),
            "Still open": body["open"].astype(int),
            f"Acknowledged in {ack_days} days (%)": body["ack_pct"].astype(float),
            f"Resolved in {res_days} days (%)": body["resolved_pct"].astype(float),
            "Median working days to acknowledge": body["median_days_to_ack"].astype(float),
            "Median working days to resolve": body["median_days_to_resolve"].astype(float),
        }).reset_index(drop=True),
        kinds={"Median working days to acknowledge": "dec1", "Median working days to resolve": "dec1"},
        note="In time: of complaints whose deadline has passed or that were answered (the board's COMPLAINTS_* "
             "measures, summed over the months).",
        pdf_widths=(40, 16, 16, 26, 24, 29, 29)))
    cats = fb.complaints_by_category(engine, config, viewer, filters)
    st.tables.append(Table("complaints_by_category", "Complaints by category", pd.DataFrame({
        "Category": cats["category"].astype(str), "Received": cats["received"].astype(int),
        "Still open": cats["open"].astype(int)}), pdf_widths=(100, 40, 40)))
    st.tables.append(Table("complaints_by_outcome", "Complaints by outcome",
                           _outcomes(engine, pack.practice_codes, pack.period_start, pack.period_last_day),
                           pdf_widths=(120, 60)))
    details = fb.complaint_details(engine, config, viewer, filters)
    allowed = viewer.person_level_practices(pack.practice_codes)
    frame = pd.DataFrame({
        "Reference": details["reference"].astype(str), "Practice": details["practice_name"].astype(str),
        "Received": pd.to_datetime(details["received_on"]), "Category": details["category"].astype(str),
        "Acknowledged": pd.to_datetime(details["acknowledged_on"]),
        "Working days to acknowledge": pd.to_numeric(details["days_to_ack"], errors="coerce").astype(float),
        "Resolved": pd.to_datetime(details["resolved_on"]),
        "Working days to resolve": pd.to_numeric(details["days_to_resolve"], errors="coerce").astype(float),
        "Outcome": details["outcome"].fillna("Not yet decided").astype(str),
        "Summary": [clean(s) or "" for s in details["summary"]],
    })
    note = ("Oldest first. Summaries have names, phone numbers, email addresses, NHS numbers and postcodes removed. "
            "Working days: Monday to Friday.")
    if set(allowed) != set(pack.practice_codes):
        note += " Details only for practices whose complaint details your role may see."
    frame = frame.sort_values(["Received", "Reference"], kind="mergesort").reset_index(drop=True)
    pdf_cols = ("Reference", "Received", "Category", "Working days to acknowledge", "Working days to resolve",
                "Outcome", "Summary")
    widths = (21, 19, 26, 24, 20, 22, 48)
    if pack.is_federation:
        pdf_cols = ("Reference", "Practice", "Received", "Category", "Working days to acknowledge",
                    "Working days to resolve", "Outcome")
        widths = (22, 36, 19, 28, 24, 20, 26)
    st.tables.append(Table("complaints", "Complaints received in the 12 months", frame,
                           kinds={"Working days to acknowledge": "int", "Working days to resolve": "int"},
                           note=note, pdf_columns=pdf_cols, pdf_widths=widths))
    return st


def _significant_events(engine: Engine, viewer: Viewer, pack: InspectionPack, filters: calc.Filters,
                        clean: Redactor) -> Statement:
    st = Statement("Learning culture")
    plist = calc.practices(engine, viewer)
    names = dict(zip(plist["code"], plist["display_name"]))
    per_practice, cats, details = [], [], []
    for code in pack.practice_codes:
        one = calc.Filters(practice_codes=(code,), period_end=filters.period_end, months=PACK_MONTHS)
        s = views.significant_events_summary(engine, viewer, one, code)
        per_practice.append({"Practice": names.get(code, code), "Code": code, "Events": s["count"],
                             "With learning recorded": s["with_learning"]})
        cats.append(s["by_category"])
        if viewer.may_see_people(code):
            d = views.significant_events_list(engine, viewer, one, code)
            details.append(d.assign(Practice=names.get(code, code)))
    events = sum(r["Events"] for r in per_practice)
    learned = sum(r["With learning recorded"] for r in per_practice)
    st.paragraphs.append(
        f"{events} significant event{'s' if events != 1 else ''} recorded in the 12 months; learning recorded for "
        f"{learned} ({learned / events * 100:.0f}%)." if events else
        "No significant events recorded in the 12 months. A practice that reports none may not be recognising them.")
    by_cat = (pd.concat(cats, ignore_index=True).groupby("Category", as_index=False)[
        ["Events", "With learning recorded"]].sum() if cats else pd.DataFrame(
        columns=["Category", "Events", "With learning recorded"]))
    by_cat = by_cat.sort_values(["Events", "Category"], ascending=[False, True], kind="mergesort")
    st.tables.append(Table("significant_events_by_category", "Significant events by category",
                           by_cat.astype({"Events": int, "With learning recorded": int}).reset_index(drop=True),
                           pdf_widths=(100, 40, 40)))
    if pack.is_federation:
        st.tables.append(Table("significant_events_by_practice", "Significant events by practice",
                               pd.DataFrame(per_practice).astype({"Events": int, "With learning recorded": int}),
                               pdf_widths=(80, 30, 35, 35)))
    frame = pd.concat(details, ignore_index=True) if details else pd.DataFrame(
        columns=["Reference", "Date", "Category", "Learning", "Practice"])
    frame = pd.DataFrame({
        "Reference": frame["Reference"].astype(str), "Practice": frame["Practice"].astype(str),
        "Date": pd.to_datetime(frame["Date"]), "Category": frame["Category"].astype(str),
        "Learning": ["Not yet recorded" if _blank(t) else clean(t) for t in frame["Learning"]],
    }).sort_values(["Date", "Reference"], kind="mergesort").reset_index(drop=True)
    pdf_cols = ("Reference", "Practice", "Date", "Category", "Learning") if pack.is_federation else (
        "Reference", "Date", "Category", "Learning")
    widths = (24, 34, 20, 34, 68) if pack.is_federation else (26, 22, 40, 92)
    st.tables.append(Table("significant_events", "Significant events and the learning recorded", frame,
                           note="Oldest first. Names, phone numbers, email addresses, NHS numbers and postcodes "
                                "removed from the learning.", pdf_columns=pdf_cols, pdf_widths=widths))
    return st


# ---------------------------------------------------------------------------------------------------------------
# Flat tables for the workbook and the CSV files
# ---------------------------------------------------------------------------------------------------------------
def _indicator_table(pack: InspectionPack) -> Table:
    rows = []
    for kq in pack.key_questions:
        for s in kq.statements:
            for ev in s.indicators:
                res, ind = ev.result, ev.indicator
                v_code, _, v_text = _variation(res)
                a_code, _, a_text = _assurance(res)
                row = {
                    "Key question": kq.name, "Quality statements": "; ".join(ind.quality_statements),
                    "Code": ind.code, "Measure": ind.name,
                    "Month": pd.Timestamp(res.latest_period) if res.latest_period else pd.NaT,
                    "Numerator": np.nan if ev.numerator is None else ev.numerator,
                    "Denominator": np.nan if ev.denominator is None else ev.denominator,
                    "Value": np.nan if res.latest_value is None else res.latest_value, "Unit": ind.unit,
                    "Lower 95%": np.nan if ev.lower_ci is None else ev.lower_ci,
                    "Upper 95%": np.nan if ev.upper_ci is None else ev.upper_ci,
                    "Target": np.nan if res.target is None else res.target, "Direction": ind.direction,
                    "Status": ev.status, "Variation": v_text, "Assurance": a_text,
                    "Special-cause points": int(res.spc.points["special_cause"].sum()) if res.spc is not None else 0,
                    "Funnel position": FUNNEL_SHORT.get(ev.funnel_position, ev.funnel_position),
                    "Funnel": ev.funnel_text,
                }
                if pack.practice_code:
                    row["Federation"] = np.nan if ev.federation_value is None else ev.federation_value
                    row["Compared with federation"] = ev.comparison
                rows.append(row)
    frame = pd.DataFrame(rows)
    frame["Month"] = pd.to_datetime(frame["Month"])
    return Table("indicators", "Every measure: latest month, interval, target and what the charts say", frame,
                 kinds={"Value": "unit", "Lower 95%": "unit", "Upper 95%": "unit", "Target": "unit",
                        "Federation": "unit", "Numerator": "int", "Denominator": "int", "Month": "month"})


def _spc_table(pack: InspectionPack) -> Table:
    frames = []
    for ev in pack.evidence():
        s = ev.result.spc
        if s is None or s.points.empty:
            continue
        p = s.points
        frames.append(pd.DataFrame({
            "Code": ev.code, "Measure": ev.indicator.name, "Month": pd.to_datetime(p.index),
            "Value": p["value"].astype(float).to_numpy(), "Unit": ev.indicator.unit,
            "Mean": p["mean"].astype(float).to_numpy(),
            "Lower process limit": p["lower_limit"].astype(float).to_numpy(),
            "Upper process limit": p["upper_limit"].astype(float).to_numpy(),
            "Target": np.nan if ev.result.target is None else float(ev.result.target),
            "Special cause": np.where(p["special_cause"], p["point_type"].astype(str), "no (common cause)"),
            "Rule": p["rules"].astype(str).to_numpy(),
        }))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["Code", "Measure", "Month", "Value", "Unit", "Mean", "Lower process limit", "Upper process limit",
                 "Target", "Special cause", "Rule"])
    return Table("spc_data", "Control chart data: every month of every measure", frame,
                 kinds={"Month": "month", "Value": "dec2", "Mean": "dec2", "Lower process limit": "dec2",
                        "Upper process limit": "dec2", "Target": "dec2"},
                 note="Making Data Count XmR charts: mean ± 2.66 × mean moving range.")


def _funnel_table(pack: InspectionPack) -> Table:
    frames = []
    for ev in pack.evidence():
        f = ev.funnel
        if f.empty:
            continue
        if pack.practice_code:  # a practice's pack names only that practice
            f = f[f["practice_code"] == pack.practice_code]
        frames.append(pd.DataFrame({
            "Code": ev.code, "Measure": ev.indicator.name,
            "Month": pd.Timestamp(ev.funnel_month) if ev.funnel_month else pd.NaT,
            "Practice": f["label"].astype(str).to_numpy(), "Numerator": f["numerator"].astype(float).to_numpy(),
            "Denominator": f["denominator"].astype(float).to_numpy(), "Value": f["value"].astype(float).to_numpy(),
            "Unit": ev.indicator.unit, "Federation": np.nan if ev.pooled is None else float(ev.pooled),
            "Position (99.8%)": [FUNNEL_SHORT.get(str(x), str(x)) for x in f["position"]],
            "Position (95%)": [FUNNEL_SHORT.get(str(x), str(x)) for x in f["position_95"]],
            "Note": f["note"].astype(str).to_numpy(),
        }))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["Code", "Measure", "Month", "Practice", "Numerator", "Denominator", "Value", "Unit", "Federation",
                 "Position (99.8%)", "Position (95%)", "Note"])
    frame["Month"] = pd.to_datetime(frame["Month"])
    return Table("funnels", "Funnel plot positions (latest month of each measure)", frame,
                 kinds={"Month": "month", "Numerator": "int", "Denominator": "int", "Value": "unit",
                        "Federation": "unit"},
                 note="Limits around the federation's pooled value (Σ numerators ÷ Σ denominators) at 95% and "
                      "99.8%.")


def _ratings_table(plist: pd.DataFrame, practice_code: str | None) -> Table:
    df = plist if practice_code is None else plist[plist["code"] == practice_code]
    frame = pd.DataFrame({"Practice": df["name"].astype(str), "Code": df["code"].astype(str)})
    for label, col in CQC_COLUMNS.items():
        frame[label] = df[col].fillna("Not rated").astype(str).to_numpy()
    frame["Published"] = pd.to_datetime(df["cqc_rating_date"]).to_numpy()
    frame["CQC location"] = df["cqc_location_id"].fillna("").astype(str).to_numpy()
    return Table("cqc_ratings", "CQC ratings held", frame.reset_index(drop=True), kinds={"Published": "date"},
                 pdf_columns=("Practice", "Overall", "Safe", "Effective", "Caring", "Responsive", "Well-led",
                              "Published"),
                 pdf_widths=(40, 20, 20, 20, 20, 20, 20, 20))


def _checklist_table() -> Table:
    frame = pd.DataFrame(CHECKLIST, columns=["What CQC asks for", "What this pack gives", "Where in the pack",
                                             "What the practice must add", "Status"])
    return Table("before_the_visit", "What CQC asks for before a visit", frame,
                 note="CQC gives two weeks' notice of an inspection and asks for information within five working "
                      "days.",
                 pdf_columns=("What CQC asks for", "Status", "What this pack gives", "What the practice must add"),
                 pdf_widths=(34, 22, 62, 62))


def _sources_table(engine: Engine, pack: InspectionPack) -> Table:
    """Every import batch that supplied a row in the pack: file, when imported, by whom and how many rows."""
    codes, start, end = pack.practice_codes, pack.period_start, pack.period_last_day
    datasets = (
        ("Indicator values", m.IndicatorValue, m.IndicatorValue.practice_id, m.IndicatorValue.period_start),
        ("FFT responses", m.FFTResponse, m.FFTResponse.practice_id, m.FFTResponse.response_date),
        ("FFT monthly counts", m.FFTMonthlyCount, m.FFTMonthlyCount.practice_id, m.FFTMonthlyCount.month),
        ("Complaints", m.Complaint, m.Complaint.practice_id, m.Complaint.received_on),
        ("Significant events", m.SignificantEvent, m.SignificantEvent.practice_id, m.SignificantEvent.event_date),
        ("Staff", m.Staff, m.Staff.practice_id, None),
        ("Practices", m.Practice, m.Practice.id, None),
    )
    used: dict[int, list[str]] = {}
    with engine.connect() as conn:
        pids = select(m.Practice.id).where(m.Practice.code.in_(codes))
        for label, model, pid_col, date_col in datasets:
            stmt = select(model.batch_id).distinct().where(pid_col.in_(pids), model.batch_id.is_not(None))
            if date_col is not None:
                stmt = stmt.where(date_col >= start, date_col <= end)
            for b in conn.execute(stmt).scalars():
                used.setdefault(int(b), []).append(label)
        staff_ids = select(m.Staff.id).where(m.Staff.practice_id.in_(pids))
        for b in conn.execute(select(m.TrainingCompletion.batch_id).distinct().where(
                m.TrainingCompletion.staff_id.in_(staff_ids), m.TrainingCompletion.batch_id.is_not(None))).scalars():
            used.setdefault(int(b), []).append("Training records")
        rows = conn.execute(select(m.ImportBatch.id, m.ImportBatch.kind, m.ImportBatch.file_name,
                                   m.ImportBatch.imported_at, m.ImportBatch.imported_by, m.ImportBatch.rows_new,
                                   m.ImportBatch.rows_updated, m.ImportBatch.rows_unchanged)
                            .where(m.ImportBatch.id.in_(list(used))).order_by(m.ImportBatch.imported_at)).all()
    frame = pd.DataFrame(rows, columns=["Batch", "Kind", "File", "Imported", "Imported by", "New rows",
                                        "Updated rows", "Unchanged rows"])
    for c in ("New rows", "Updated rows", "Unchanged rows"):
        frame[c] = pd.to_numeric(frame[c]).fillna(0).astype(int)
    frame.insert(5, "Rows", frame["New rows"] + frame["Updated rows"] + frame["Unchanged rows"])
    frame["Imported"] = pd.to_datetime(frame["Imported"])
    frame["Used for"] = ["; ".join(used.get(int(b), [])) for b in frame["Batch"]]
    return Table("sources", "Sources: the import batches behind this pack", frame,
                 kinds={"Imported": "datetime", "Batch": "int"},
                 note="Every file whose rows appear in this pack (for this practice and period). Rows: rows the "
                      "import read (new, updated and unchanged).",
                 pdf_columns=("Batch", "Kind", "File", "Imported", "Rows", "Used for"),
                 pdf_widths=(14, 20, 52, 30, 18, 46))


def _methods_table(engine: Engine, config: FederationConfig, pack: InspectionPack) -> Table:
    last = views.last_batches(engine, list(config.indicator_codes)).set_index("indicator_code")
    rows = []
    for ind in config.indicators:
        if ind.derived:
            how = DERIVATION_WORDS.get(ind.derived, ind.derived).format(min=config.thresholds.suppression_min,
                                                                       days=ind.days)
            if ind.courses:
                how += " Courses counted: " + ", ".join(config.training.course(c).name for c in ind.courses) + "."
        else:
            how = f"Imported from {ind.source}, with the numerator and denominator as published."
        mult = {"%": "× 100", "per 1,000": "× 1,000", "per 10,000": "× 10,000"}.get(ind.unit,
                                                                                  f"× {ind.multiplier:g}")
        how += f" Value = numerator ÷ denominator {mult}."
        b = last.loc[ind.code] if ind.code in last.index else None
        rows.append({
            "Code": ind.code, "Measure": ind.name, "Key question": ind.key_question,
            "Quality statements": "; ".join(ind.quality_statements), "What it measures": ind.description,
            "Numerator": ind.numerator, "Denominator": ind.denominator, "Unit": ind.unit,
            "Better when": {"higher": "Higher", "lower": "Lower", "neutral": "Neither"}[ind.direction],
            "How it is calculated": how, "Source": ind.source, "Frequency": ind.frequency,
            "Latest import": "" if b is None or pd.isna(b["file_name"]) else str(b["file_name"]),
            "Imported": pd.NaT if b is None else pd.Timestamp(b["imported_at"]),
        })
    frame = pd.DataFrame(rows)
    frame["Imported"] = pd.to_datetime(frame["Imported"])
    return Table("methods", "How each measure is calculated", frame, kinds={"Imported": "datetime"},
                 pdf_columns=("Measure", "Numerator", "Denominator", "How it is calculated", "Source"),
                 pdf_widths=(32, 30, 30, 62, 26))


def _pack_summary(pack: InspectionPack) -> str:
    evs = [e for e in pack.evidence() if e.result.latest_value is not None]
    targeted = [e for e in evs if e.result.target is not None]
    on = sum(e.result.rag == "green" for e in targeted)
    near = sum(e.result.rag == "amber" for e in targeted)
    off = sum(e.result.rag == "red" for e in targeted)
    improving = sum(e.result.spc is not None and e.result.spc.variation.startswith("improvement") for e in evs)
    concern = sum(e.result.spc is not None and e.result.spc.variation.startswith("concern") for e in evs)
    who = pack.practice.get("name", "") if pack.practice_code else f"the {len(pack.practice_codes)} practices together"
    text = (f"This pack brings together the evidence the federation holds for {who} over {pack.period_words}, "
            f"arranged by CQC's five key questions and the quality statements each measure evidences. "
            f"{len(evs)} measures have figures: {on} of {len(targeted)} with a target are on target, {near} near "
            f"and {off} off target. In the latest month {improving} show special-cause improvement and {concern} "
            f"special-cause concern (NHS England's Making Data Count rules).")
    return text


def _cover_table(pack: InspectionPack, config: FederationConfig) -> Table:
    p = pack.practice
    rows = [("Evidence pack", "CQC inspection evidence pack"),
            ("For", pack.practice.get("name") if pack.practice_code else config.name)]
    if pack.practice_code:
        rows += [("Practice code", pack.practice_code), ("Primary care network", p.get("pcn") or ""),
                 ("Registered patients", int(p["list_size"]) if pd.notna(p.get("list_size")) else ""),
                 ("CQC location", p.get("cqc_location_id") or ""),
                 ("CQC overall rating", p.get("cqc_overall") or "Not rated")]
    else:
        rows += [("Practices", len(pack.practice_codes))]
    rows += [("Federation", config.name), ("Period from", pack.period_start),
             ("Period to", pack.period_last_day), ("Figures up to", f"{pack.data_up_to:%B %Y}"),
             ("Training records as at", pack.training_as_of or ""),
             ("Generated", pack.generated_at), ("Generated by", pack.generated_by)]
    if pack.demo:
        rows.append(("Data", "Fictional demo federation: not real practices or patients"))
    rows.append(("Handling", "Contains patients' comments and complaint summaries with identifiers removed. "
                             "Share only with CQC and the practice team."))
    frame = pd.DataFrame(rows, columns=["Item", "Value"])
    return Table("cover", "Cover", frame, kinds={"Value": "auto"})
