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


# Payments to General Practice and the long immunisations files are read now (formats/payments.py,
# formats/immunisations.py); a file listed here is one the importer recognises and refuses in one line.
KNOWN_FILES: tuple[KnownFile, ...] = ()


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


DOCUMENTS = {".md": "a text document (Markdown)", ".markdown": "a text document (Markdown)",
             ".html": "a web page", ".htm": "a web page", ".pdf": "a PDF document", ".docx": "a Word document",
             ".doc": "a Word document", ".pptx": "a PowerPoint presentation", ".zip": "a zip archive"}


def known_document(file_name: str) -> str:
    """The one-line refusal for a file that is a document rather than a table (by its name), or ''. A README or
    PROVENANCE.md beside a publication names its columns, and would otherwise be read as a table of them."""
    name = (file_name or "").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    what = DOCUMENTS.get(suffix)
    if not what:
        return ""
    extra = " (unzip it and import the files inside)" if suffix == ".zip" else \
        " (import the CSV, XLSX or JSON file it describes)"
    return f"{name} is {what}, not a table of data, so it is not imported{extra}."
