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


def known_file(header: list[str]) -> str:
    """The one-line refusal for a known file this header row belongs to, or ''."""
    normed = {norm(h) for h in header}
    for known in KNOWN_FILES:
        if known.matches(normed):
            return f"This is {known.what}: {known.why}, so it is not imported."
    return ""
