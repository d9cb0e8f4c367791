"""Published files the importer knows but does not read (yet): recognised by their header row and refused in one line
that says what the file is, instead of being read by the catch-all wide table and giving thousands of problems."""
from __future__ import annotations

from dataclasses import dataclass

from ..values import norm


@dataclass(frozen=True)
class KnownFile:
    what: str
    why: str
    headings: tuple[str, ...]  # all of these (compared as ``norm`` does) are in the header row

    def matches(self, normed: set[str]) -> bool:
        return all(norm(h) in normed for h in self.headings)


KNOWN_FILES: tuple[KnownFile, ...] = (
    KnownFile(
        "NHS England's NHS Payments to General Practice (one row per practice: registered and weighted patients, "
        "and every payment the practice received in the year)",
        "the importer does not read payments yet, and the file is not a table of indicators",
        ("Practice Code", "Number of Registered Patients (Last Known Figure)", "Total NHS Payments to General Practice"),
    ),
    KnownFile(
        "a childhood immunisations file (one row per practice, age and vaccine, with numerator and denominator)",
        "the importer does not read vaccine-by-vaccine files yet; import the figures through the indicator values "
        "template (one row per practice, indicator and period, with numerator and denominator)",
        ("ODS_Code", "Item", "Numerator", "Denominator", "Age"),
    ),
)


AGE_COLUMNS = tuple(str(a) for a in range(0, 91))


def _ages(header: list[str]) -> bool:
    """Registered patients by single year of age: a practice code, then columns 0, 1, 2 … 90 (or more)."""
    normed = [norm(h) for h in header]
    return any(n in ("gpcode", "practicecode", "odscode", "code") for n in normed) and set(AGE_COLUMNS) <= set(normed)


def known_file(header: list[str]) -> str:
    """The one-line refusal for a known file this header row belongs to, or ''."""
    normed = {norm(h) for h in header}
    for known in KNOWN_FILES:
        if known.matches(normed):
            return f"This is {known.what}: {known.why}, so it is not imported."
    if _ages(header):
        return ("This is a population by single year of age (registered patients per practice, one column per year "
                "of age 0, 1, 2 …): the importer does not read populations by age yet (list sizes come from NHS "
                "England's 'Patients registered at a GP practice' file), so it is not imported.")
    return ""
