"""Every format the importer reads, in the order detection tries them (templates first)."""
from __future__ import annotations

from ..base import Format
from .practice_facts import CQCApiJSON, CQCKeyQuestions, CQCOverall, Epraccur, ListSizes
from .fft_responses import FFTResponsesTemplate, PracticeFFTExport
from .fingertips import Fingertips
from .immunisations import Immunisations
from .indicator_values import IndicatorValuesTemplate
from .logs import ComplaintsTemplate, SignificantEventsTemplate
from .nhse_fft import NHSEMonthlyFFT
from .payments import Payments
from .population import PopulationByAge
from .practices import PracticesTemplate
from .qof import PracticeMapping, QOFAchievement, QOFPrevalence
from .records import PPGMeetingsTemplate, PremisesChecksTemplate, StaffSurveyTemplate
from .staff import StaffTemplate, TrainingTemplate
from .wide import WideIndicators
from .workforce import AbuseIncidentsTemplate, WorkforceTemplate

FORMAT_CLASSES: tuple[type[Format], ...] = (
    PracticesTemplate,
    StaffTemplate,
    TrainingTemplate,
    FFTResponsesTemplate,
    IndicatorValuesTemplate,
    ComplaintsTemplate,
    SignificantEventsTemplate,
    StaffSurveyTemplate,
    PPGMeetingsTemplate,
    PremisesChecksTemplate,
    WorkforceTemplate,
    AbuseIncidentsTemplate,
    PracticeFFTExport,
    NHSEMonthlyFFT,
    Fingertips,
    PracticeMapping,
    QOFPrevalence,
    QOFAchievement,
    ListSizes,
    CQCOverall,
    CQCKeyQuestions,
    CQCApiJSON,
    Epraccur,
    Payments,
    Immunisations,
    PopulationByAge,
    WideIndicators,
)
BY_KIND: dict[str, type[Format]] = {f.kind: f for f in FORMAT_CLASSES}
KINDS: tuple[str, ...] = tuple(BY_KIND)
TEMPLATE_KINDS: tuple[str, ...] = tuple(f.kind for f in FORMAT_CLASSES if f.family == "template")


def new_format(kind: str) -> Format:
    """A fresh instance: formats keep per-import state, and two imports may run at once."""
    return BY_KIND[kind]()
