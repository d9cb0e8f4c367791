"""The first run on an empty database: which published files set up a real federation, where to get them, and the
command that imports each (the Import page shows the same steps)."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import FederationConfig


@dataclass(frozen=True)
class Step:
    what: str  # what the file brings
    file: str  # what the file is called
    publisher: str
    where: str  # the page it is downloaded from
    command: str  # the CLI line (FILE stands for the downloaded file)


def first_run_steps(config: FederationConfig) -> list[Step]:
    fingertips = sorted({i.published.fingertips_id for i in config.indicators
                         if i.published and i.published.fingertips_id})
    steps = [
        Step("The federation's practices and their PCN: choose your PCN by its name or code",
             "MAPPING_NHS_GEOGRAPHIES_yyyy.csv, in the QOF raw data files",
             "NHS England (Quality and Outcomes Framework)",
             "https://digital.nhs.uk/data-and-information/publications/statistical/"
             "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data",
             'python -m data_layer import FILE --add-pcn "YOUR PCN"'),
        Step("Practice names, addresses and whether each is open", "epraccur.csv (no header row)",
             "NHS England Organisation Data Service",
             "https://digital.nhs.uk/services/organisation-data-service/export-data-files/csv-downloads/"
             "gp-and-gp-practice-related-data",
             "python -m data_layer import FILE"),
        Step("List sizes (registered patients per practice)", "gp-reg-pat-prac-all.csv",
             "NHS England (Patients Registered at a GP Practice, monthly)",
             "https://digital.nhs.uk/data-and-information/publications/statistical/"
             "patients-registered-at-a-gp-practice",
             "python -m data_layer import FILE"),
        Step("CQC ratings (overall, and by key question where the file has them)",
             "the CQC care directory with ratings (CSV)", "Care Quality Commission",
             "https://www.cqc.org.uk/about-us/transparency/using-cqc-data", "python -m data_layer import FILE"),
        Step("Published indicators with England, regional and ICB benchmarks"
             + (f" (the catalogue maps Fingertips {', '.join(fingertips)} by itself)" if fingertips else ""),
             "an indicator export from the National General Practice Profiles (Download → Export table as CSV)",
             "OHID Fingertips", "https://fingertips.phe.org.uk/profile/general-practice",
             "python -m data_layer import FILE [--add-indicators]"),
        Step("Disease registers (QOF prevalence)", "PREVALENCE_yyyy.csv, in the QOF raw data files",
             "NHS England (Quality and Outcomes Framework)",
             "https://digital.nhs.uk/data-and-information/publications/statistical/"
             "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data",
             "python -m data_layer import FILE"),
    ]
    return steps
