"""The federation config: aims, KPIs, the indicator catalogue, training policy and thresholds, from one TOML file.

Adding a KPI or an indicator means editing ``federation.toml``, not code. The file is validated at start; an invalid
file is refused with a message that names the key and says what is wrong.
"""
from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from .cqc import KEY_QUESTIONS, QUALITY_STATEMENTS  # KEY_QUESTIONS re-exported: exports import it from here
from .db import PROJECT_ROOT
# the groups, themes, screens and governance sections (re-exported: other modules import them from here)
from .config_sections import (MEETING_ORDINALS, WEEKDAYS, Benchmarks, Completeness, Governance,  # noqa: F401
                              Group, Screens, Strict, SubmissionDeadline, Theme, parse_meeting_rule)

__all__ = ["KEY_QUESTIONS", "QUALITY_STATEMENTS", "FederationConfig", "Indicator", "ConfigError", "load_config",
           "parse_config"]


def _derivation_names() -> tuple[str, ...]:
    """The registered derivations (data_layer/measures/derivations.py): config is validated against the registry,
    so adding a derived KPI is one registered function and one config entry."""
    from .measures.registry import names

    return names()

Direction = Literal["higher", "lower", "neutral"]


class Thresholds(Strict):
    suppression_min: int = Field(5, ge=1, description="FFT units with fewer responses than this are not shown")
    gpps_suppression_min: int = Field(10, ge=1)
    staff_suppression_min: int = Field(
        5, ge=1, description="staff survey results from fewer respondents than this are not shown")
    spc_run_length: int = Field(7, ge=6, le=8)
    rag_tolerance: float = Field(2.0, ge=0, description="default amber band, in the indicator's units")
    trial_limit_points: int = Field(12, ge=2)
    min_denominator: int = Field(
        10, ge=1, description="below this many cases a figure gets no RAG or special-cause icon: too few to judge")
    spc_window_months: int = Field(36, ge=2, le=120, description="months of history the SPC limits are set from")
    lapsing_buckets: tuple[int, ...] = Field((30, 60, 90), min_length=1,
                                            description="days ahead in which lapsing training is counted")
    name_other_practices: bool = Field(
        True, description="practice leads see other practices named in benchmarks (false: anonymised)"
    )

    @field_validator("lapsing_buckets")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:])) or v[0] < 1:
            raise ValueError("lapsing_buckets must be whole days in increasing order, e.g. [30, 60, 90]")
        return v

    @property
    def lapsing_days(self) -> int:
        """Training that expires within this many days is "lapsing" (the last of the lapsing buckets)."""
        return self.lapsing_buckets[-1]


class Published(Strict):
    """Where a catalogue entry's figures are published, so an import maps them without an indicator map: a Fingertips
    indicator ID, a QOF indicator or register (group code), or a column heading of a known wide table."""

    fingertips_id: str | None = Field(None, pattern=r"^[0-9]{1,9}$")
    qof_indicator: str | None = Field(None, min_length=2)
    wide_column: str | None = Field(None, min_length=2)
    # A vaccine of a numerator/denominator immunisations file, as "<Item> at <Age>", e.g. "MMR2 at 5 years".
    vaccine_item: str | None = Field(None, min_length=2)
    # A payment column of NHS Payments to General Practice, per registered or weighted patient.
    payments_column: str | None = Field(None, min_length=2)
    per_patient: Literal["registered", "weighted"] = "registered"

    @model_validator(mode="after")
    def _names_a_source(self):
        if not any((self.fingertips_id, self.qof_indicator, self.wide_column, self.vaccine_item,
                    self.payments_column)):
            raise ValueError("published needs at least one of fingertips_id, qof_indicator, wide_column, "
                             "vaccine_item or payments_column")
        return self

    @property
    def payments(self) -> str | None:
        """The payments source as the payments import names it: "<column> per <registered|weighted> patient"."""
        return f"{self.payments_column} per {self.per_patient} patient" if self.payments_column else None


PUBLISHED_FIELDS = ("fingertips_id", "qof_indicator", "wide_column", "vaccine_item", "payments")


class Indicator(Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    name: str
    short_name: str | None = None  # for a tile or a column heading; default the name
    description: str
    numerator: str
    denominator: str
    unit: Literal["%", "per 1,000", "per 10,000", "count", "rate", "score", "£"] = "%"
    multiplier: float = Field(100.0, gt=0, description="value = numerator / denominator × multiplier")
    direction: Direction
    key_question: Literal["Safe", "Effective", "Caring", "Responsive", "Well-led"]
    quality_statements: tuple[str, ...] = Field(min_length=1)
    source: str
    frequency: Literal["monthly", "quarterly", "annual"] = "monthly"
    derived: str | None = None
    courses: tuple[str, ...] = ()  # for training_compliance: which courses count (empty = all required courses)
    days: int | None = None  # for complaint timeliness: working days allowed
    checks: tuple[str, ...] = ()  # for premises derivations: the check types that count (every practice needs each)
    roles: tuple[str, ...] = ()  # for workforce derivations: the roles that count (empty = every role)
    # How the figure is judged (one policy for every screen, download and pack):
    judge_months: Literal[1, 3] = 1  # 3: rare events judged over 3-month periods, not single months
    min_denominator: int | None = Field(None, ge=1)  # default thresholds.min_denominator
    spc_window_months: int | None = Field(None, ge=2, le=120)  # default thresholds.spc_window_months
    suppression: Literal["fft", "gpps", "staff"] | None = None  # which small-number rule hides counts (thresholds)
    published: Published | None = None  # its published source: imports map it without an indicator map

    @field_validator("derived")
    @classmethod
    def _known_derivation(cls, v):
        known = _derivation_names()
        if v is not None and v not in known:
            raise ValueError(f"unknown derivation {v!r}; choose one of: {', '.join(known)}")
        return v

    @model_validator(mode="after")
    def _statements_belong(self):
        allowed = QUALITY_STATEMENTS[self.key_question]
        for s in self.quality_statements:
            if s not in allowed:
                raise ValueError(
                    f"quality statement {s!r} is not one of CQC's {self.key_question} statements: {'; '.join(allowed)}"
                )
        return self

    @property
    def is_proportion(self) -> bool:
        return self.unit == "%"


class KPI(Strict):
    indicator: str
    target: float | None = None
    tolerance: float | None = Field(None, ge=0)
    headline: bool = False  # shown as a headline figure at the top of the overview
    # Watched for change (Making Data Count) without a target, e.g. incidents, where a target discourages reporting:
    # the aims scorecard says "monitored, no target".
    monitored: bool = False

    @model_validator(mode="after")
    def _monitored_has_no_target(self):
        if self.monitored and self.target is not None:
            raise ValueError(f"{self.indicator}: a monitored measure has no target; give a target or monitored, "
                             "not both")
        return self


class Aim(Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    title: str
    summary: str = ""
    kpis: tuple[KPI, ...] = Field(min_length=1)


class Course(Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    name: str
    subject: str
    level: int | None = None
    renewal_months: int = Field(gt=0)
    core_skills: bool = False
    aliases: tuple[str, ...] = ()


class Requirement(Strict):
    course: str
    roles: tuple[str, ...] = Field(min_length=1)
    hours: float | None = Field(None, gt=0)
    window_months: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _hours_with_window(self):
        if (self.hours is None) != (self.window_months is None):
            raise ValueError("hours and window_months go together: an hours requirement needs its rolling window")
        return self


class TrainingPolicy(Strict):
    roles: tuple[str, ...] = Field(min_length=1)
    courses: tuple[Course, ...] = Field(min_length=1)
    requirements: tuple[Requirement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self):
        codes = [c.code for c in self.courses]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"course codes must be unique; repeated: {', '.join(sorted(dupes))}")
        for i, r in enumerate(self.requirements):
            if r.course not in codes:
                raise ValueError(f"requirements[{i}].course {r.course!r} is not a course in training.courses")
            for role in r.roles:
                if role not in self.roles:
                    raise ValueError(f"requirements[{i}].roles: {role!r} is not in training.roles")
        return self

    def course(self, code: str) -> Course:
        return next(c for c in self.courses if c.code == code)


class FederationConfig(Strict):
    name: str
    short_name: str
    mission: str = ""
    thresholds: Thresholds = Thresholds()
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    aims: tuple[Aim, ...] = Field(min_length=1)
    training: TrainingPolicy
    screens: Screens = Screens()
    groups: tuple[Group, ...] = ()
    themes: tuple[Theme, ...] = ()  # comment themes, tagged once per comment (data_layer/measures/themes.py)
    completeness: Completeness = Completeness()  # submission deadlines per dataset
    governance: Governance = Governance()  # the board's meeting dates
    benchmarks: Benchmarks = Benchmarks()  # the published areas beside England that figures are compared with

    @model_validator(mode="after")
    def _completeness_sources(self):
        known = {i.source for i in self.indicators if not i.derived}
        for name in self.completeness.sources:
            if name not in known:
                raise ValueError(f"completeness.sources: {name!r} is not the source of any imported indicator in the "
                                 "catalogue (" + "; ".join(sorted(known)) + ")")
        return self

    @field_validator("themes")
    @classmethod
    def _unique_theme_names(cls, v):
        names = [t.name.strip().lower() for t in v]
        dupes = sorted({t.name for t in v if names.count(t.name.strip().lower()) > 1})
        if dupes:
            raise ValueError(f"theme names must be unique; repeated: {', '.join(dupes)}")
        return v

    @model_validator(mode="after")
    def _cross_references(self):
        codes = [i.code for i in self.indicators]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"indicator codes must be unique; repeated: {', '.join(sorted(dupes))}")
        course_codes = {c.code for c in self.training.courses}
        published: dict[tuple[str, str], str] = {}
        for i, ind in enumerate(self.indicators):
            if ind.published and ind.derived:
                raise ValueError(f"indicators[{i}] ({ind.code}): a derived indicator is calculated by the dashboard, "
                                 "so it cannot name a published source")
            for name in PUBLISHED_FIELDS:
                value = getattr(ind.published, name, None) if ind.published else None
                if value is None:
                    continue
                key = (name, re.sub(r"[^a-z0-9]", "", value.lower().replace("&", "and")))  # as imports compare
                if key in published:
                    raise ValueError(f"indicators[{i}] ({ind.code}).published.{name} {value!r} is already the "
                                     f"published source of {published[key]}; each source maps to one indicator")
                published[key] = ind.code
        for i, ind in enumerate(self.indicators):
            for c in ind.courses:
                if c not in course_codes:
                    raise ValueError(f"indicators[{i}] ({ind.code}).courses: {c!r} is not a course in training.courses")
            for r in ind.roles:
                if r not in self.training.roles:
                    raise ValueError(f"indicators[{i}] ({ind.code}).roles: {r!r} is not in training.roles")
            if ind.derived and not ind.days:
                from .measures.registry import get

                if get(ind.derived).needs_days:
                    raise ValueError(f"indicators[{i}] ({ind.code}): derivation {ind.derived} needs `days`")
        for key, code in self.screens.codes():
            if code not in codes:
                raise ValueError(f"screens.{key}: {code!r} is not in the indicator catalogue")
        group_ids = [g.id for g in self.groups]
        if len(set(group_ids)) != len(group_ids):
            raise ValueError("group ids must be unique")
        seen: dict[str, tuple] = {}
        for aim in self.aims:
            for kpi in aim.kpis:
                if kpi.target is None:
                    continue
                key = (kpi.target, kpi.tolerance)
                if seen.setdefault(kpi.indicator, key) != key:
                    raise ValueError(f"aims ({aim.id}): {kpi.indicator} has a different target or tolerance in "
                                     "another aim; a measure has one target, so every screen agrees")
        ids = [a.id for a in self.aims]
        if len(set(ids)) != len(ids):
            raise ValueError("aim ids must be unique")
        for a_i, aim in enumerate(self.aims):
            for k_i, kpi in enumerate(aim.kpis):
                if kpi.indicator not in codes:
                    raise ValueError(
                        f"aims[{a_i}] ({aim.id}).kpis[{k_i}].indicator: {kpi.indicator!r} is not in the indicator catalogue"
                    )
        return self

    # -- lookups -------------------------------------------------------------------------------------------------
    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(f"unknown indicator {code!r}")

    def min_denominator(self, ind: Indicator) -> int:
        return ind.min_denominator or self.thresholds.min_denominator

    def spc_window(self, ind: Indicator) -> int:
        return ind.spc_window_months or self.thresholds.spc_window_months

    def suppression_min(self, ind: Indicator) -> int | None:
        """Fewer cases than this are hidden for this indicator (None: its counts are never hidden)."""
        if ind.suppression == "fft":
            return self.thresholds.suppression_min
        if ind.suppression == "gpps":
            return self.thresholds.gpps_suppression_min
        if ind.suppression == "staff":
            return self.thresholds.staff_suppression_min
        return None

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def kpi_rows(self) -> list[dict]:
        """Every (aim, KPI) pair with the indicator's attributes and the effective tolerance."""
        rows = []
        for order, aim in enumerate(self.aims, start=1):
            for kpi in aim.kpis:
                ind = self.indicator(kpi.indicator)
                rows.append(
                    {
                        "aim_order": order,
                        "aim_id": aim.id,
                        "aim": aim.title,
                        "indicator_code": ind.code,
                        "indicator": ind.name,
                        "unit": ind.unit,
                        "direction": ind.direction,
                        "key_question": ind.key_question,
                        "target": kpi.target,
                        "tolerance": kpi.tolerance if kpi.tolerance is not None else self.thresholds.rag_tolerance,
                        "headline": kpi.headline,
                    }
                )
        return rows

    def targets(self) -> dict[str, tuple[float | None, float]]:
        """The target and tolerance per indicator (the first aim that sets a target wins)."""
        out: dict[str, tuple[float | None, float]] = {}
        for row in self.kpi_rows():
            if row["indicator_code"] not in out or out[row["indicator_code"]][0] is None:
                out[row["indicator_code"]] = (row["target"], row["tolerance"])
        return out


class ConfigError(Exception):
    """The federation config could not be used; the message says which key and why."""


DEFAULT_CONFIG = PROJECT_ROOT / "federation.toml"


def config_path() -> Path:
    return Path(os.environ.get("FEDERATION_CONFIG") or DEFAULT_CONFIG)


def _format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"The federation config {path} is not valid:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


LOCAL_CONFIG_NAME = "federation.local.toml"


def local_config_path(path: Path | str | None = None) -> Path:
    """The catalogue's local extension file: ``federation.local.toml`` beside the federation config. Its
    ``[[indicators]]`` (e.g. added by ``python -m data_layer import --add-indicators``) join the catalogue at load."""
    return Path(path or config_path()).with_name(LOCAL_CONFIG_NAME)


def parse_config(text: str, path: Path | str = "<text>", local_text: str | None = None) -> FederationConfig:
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The federation config {path} is not valid TOML: {exc}") from exc
    if local_text is not None:
        local = local_config_path(path)
        try:
            extra = tomllib.loads(local_text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"The local catalogue {local} is not valid TOML: {exc}") from exc
        unknown = sorted(set(extra) - {"indicators"})
        if unknown:
            raise ConfigError(f"The local catalogue {local} may hold only [[indicators]]; it also has: "
                              + ", ".join(unknown))
        data["indicators"] = [*data.get("indicators", []), *extra.get("indicators", [])]
        path = Path(f"{path} with {local.name}")
    try:
        return FederationConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from exc


def load_config(path: Path | str | None = None) -> FederationConfig:
    path = Path(path) if path else config_path()
    local = local_config_path(path)
    return _load_cached(str(path.resolve()), path.stat().st_mtime if path.exists() else 0.0,
                        local.stat().st_mtime if local.exists() else 0.0)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: float, _local_mtime: float = 0.0) -> FederationConfig:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"The federation config {p} does not exist (set FEDERATION_CONFIG to its path).")
    local = local_config_path(p)
    return parse_config(p.read_text(encoding="utf-8"), p,
                        local.read_text(encoding="utf-8") if local.exists() else None)
