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
    payments = [i.short_name or i.name for i in config.indicators if i.published and i.published.payments_column]
    vaccines = [i.published.vaccine_item for i in config.indicators if i.published and i.published.vaccine_item]
    steps = [
        Step("The federation's practices and their PCN: choose them by your PCN (name or code), by sub-ICB, or "
             "by a list of practice codes",
             "MAPPING_NHS_GEOGRAPHIES_yyyy.csv, in the QOF raw data files (or the appointments Mapping.csv)",
             "NHS England (Quality and Outcomes Framework)",
             "https://digital.nhs.uk/data-and-information/publications/statistical/"
             "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data",
             'python -m data_layer import FILE --add-pcn "YOUR PCN" (or --add-sub-icb 91Q, or '
             '--add-practices G82139,G82653)'),
        Step("Practice names, addresses and whether each is open (it can also choose the practices, by sub-ICB or "
             "codes)", "epraccur.csv (no header row)",
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
        Step("What the NHS pays each practice: registered and weighted patients, total and QOF payments"
             + (f" (the catalogue takes {', '.join(payments)})" if payments else ""),
             "the practice-level CSV of NHS Payments to General Practice (one file per financial year)",
             "NHS England (NHS Payments to General Practice, yearly)",
             "https://digital.nhs.uk/data-and-information/publications/statistical/"
             "nhs-payments-to-general-practice",
             "python -m data_layer import FILE"),
        Step("Childhood immunisations by vaccine (numerator and denominator per practice)"
             + (f" (the catalogue takes {', '.join(vaccines[:4])}{', …' if len(vaccines) > 4 else ''})"
                if vaccines else ""),
             "UKHSA's COVER GP-level annual data (the long layout: one row per practice, year, age and vaccine)",
             "UK Health Security Agency (COVER programme), or your local public health team",
             "https://www.gov.uk/government/collections/vaccine-uptake",
             "python -m data_layer import FILE"),
        Step("Screening, immunisation and blood pressure indicators in one table per practice",
             "the National General Practice Profiles' indicators, one column each (a wide table)",
             "OHID Fingertips", "https://fingertips.phe.org.uk/profile/general-practice/data",
             "python -m data_layer import FILE --period 2024/25"),
    ]
    return steps
