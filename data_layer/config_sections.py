"""The federation config's sections about groups, themes, screens and governance: groups of practices, comment
themes, the screens' fixed places, submission deadlines, benchmark areas and board meetings. Part of the config
(``data_layer/config.py`` holds the catalogue, aims, training policy and the whole file's validation and re-exports
these), kept apart so each file reads in one sitting."""
from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(Strict):
    """A named group of practices the board compares (besides the PCNs, which come from the data)."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    practices: tuple[str, ...] = Field(min_length=1)


class Theme(Strict):
    """A comment theme: a comment carries it when its text (either answer, any case) contains one of the words or
    phrases anywhere ("book" also finds "booked"; a trailing space, as in "dr ", matches only at a word's end).
    Themes are independent of sentiment: what the patient answered says positive or negative."""

    name: str = Field(min_length=1, max_length=60)
    words: tuple[str, ...] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, v):
        if not v.strip():
            raise ValueError("a theme needs a name")
        return v

    @field_validator("words")
    @classmethod
    def _no_empty_words(cls, v):
        for i, w in enumerate(v):
            if not w.strip():
                raise ValueError(f"word {i + 1} is empty: every word or phrase needs at least one letter")
        return v


class Screens(Strict):
    """Which catalogue entries fill the places the screens give them (so no page names an indicator code)."""

    training: tuple[str, ...] = ()  # training compliance measures; the first is the headline
    fft_positive: str | None = None  # a place left empty is not drawn
    fft_negative: str | None = None
    fft_responses: str | None = None  # responses per 1,000 patients
    complaints_acknowledged: str | None = None
    complaints_resolved: str | None = None

    def codes(self) -> list[tuple[str, str]]:
        named = [(k, getattr(self, k)) for k in ("fft_positive", "fft_negative", "fft_responses",
                                                  "complaints_acknowledged", "complaints_resolved")]
        return [(f"training[{i}]", c) for i, c in enumerate(self.training)] + [(k, c) for k, c in named if c]


class SubmissionDeadline(Strict):
    """When a month's data is due: the ``working_day``-th working day (England and Wales) of the month
    ``months_after`` months after it (FFT: the 12th working day of the next month)."""

    working_day: int = Field(12, ge=1, le=23)
    months_after: int = Field(1, ge=1, le=24)


class Completeness(Strict):
    """Submission deadlines per dataset, for the data completeness page (``data_layer/governance/completeness.py``).
    ``indicators``: the default for every imported indicator source; ``sources``: by the catalogue's ``source``."""

    fft: SubmissionDeadline = SubmissionDeadline()
    training: SubmissionDeadline = SubmissionDeadline()
    complaints: SubmissionDeadline = SubmissionDeadline()
    significant_events: SubmissionDeadline = SubmissionDeadline()
    indicators: SubmissionDeadline = SubmissionDeadline()
    sources: dict[str, SubmissionDeadline] = Field(default_factory=dict)


MEETING_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_meeting_rule(rule: str) -> tuple[int, int]:
    """'second Thursday' (of every month) -> (2, 3): the ordinal (-1 for 'last') and the weekday (Monday 0)."""
    words = rule.strip().lower().removesuffix(" of every month").removesuffix(" of each month").split()
    if len(words) != 2 or words[0] not in MEETING_ORDINALS or words[1] not in WEEKDAYS:
        raise ValueError(f"{rule!r} is not a monthly meeting day: write it like 'second Thursday' or 'last Monday' "
                         f"({', '.join(MEETING_ORDINALS)} and a day of the week)")
    return MEETING_ORDINALS[words[0]], WEEKDAYS.index(words[1])


class Benchmarks(Strict):
    """The published areas a federation is compared with besides England (data_layer/measures/benchmarks.py): the
    ONS codes Fingertips and NHS England publish figures under (NHS region E40…, ICB E54…, sub-ICB location E38…).
    England (E92000001) is always compared; each practice's PCN is found by its name. An area left empty is not
    shown."""

    england: str = Field("E92000001", pattern=r"^[A-Z][0-9A-Z]{2,19}$")
    region: str | None = Field(None, pattern=r"^[A-Z][0-9A-Z]{2,19}$")
    icb: str | None = Field(None, pattern=r"^[A-Z][0-9A-Z]{2,19}$")
    sub_icb: str | None = Field(None, pattern=r"^[A-Z][0-9A-Z]{2,19}$")


class Governance(Strict):
    """The board's meeting dates (``data_layer/governance/meetings.py``): the board pack's "due before the next
    meeting" and "done since the last meeting", and the overview's due-soon actions, run between them. Either
    ``meetings`` (dates) or ``meeting_rule`` (a day every month, e.g. "second Thursday"); with neither, a month
    either side of the day is used, and the pack says so."""

    meetings: tuple[date, ...] = ()
    meeting_rule: str | None = None

    @field_validator("meetings")
    @classmethod
    def _distinct_meetings(cls, v):
        repeated = sorted({d for d in v if v.count(d) > 1})
        if repeated:
            raise ValueError("a meeting date is listed twice: " + ", ".join(d.isoformat() for d in repeated))
        return tuple(sorted(v))

    @field_validator("meeting_rule")
    @classmethod
    def _rule(cls, v):
        if v is not None:
            parse_meeting_rule(v)
        return v

    @model_validator(mode="after")
    def _one_way(self):
        if self.meetings and self.meeting_rule:
            raise ValueError("give the board's meetings as dates (meetings) or as a rule (meeting_rule), not both")
        return self
