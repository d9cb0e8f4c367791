"""Every limit the importer applies, in one place. A file beyond any of them is refused with a plain message before it
is parsed (sizes, the XLSX zip directory) or as soon as the limit is reached while reading (rows, columns, cell text),
so a hostile or damaged file can cost neither unbounded memory nor minutes of work.

Change a limit for one import with ``ImportOptions(limits=Limits(max_rows=...))``; the CLI's ``--max-mb`` sets
``file_bytes``.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # The file as uploaded.
    file_bytes: int = 512 * MiB
    json_bytes: int = 64 * MiB  # a JSON file is parsed whole, so it gets a smaller ceiling
    utf16_bytes: int = 256 * MiB  # UTF-16 ("Unicode text") is converted to UTF-8 in memory
    # XLSX is a zip: what its directory declares, checked before anything is unpacked. Python's zipfile never
    # unpacks more than a member's declared size, so these hold even for a forged directory.
    xlsx_uncompressed_bytes: int = 2048 * MiB  # all members together
    xlsx_shared_strings_bytes: int = 256 * MiB  # openpyxl holds every shared string in memory
    xlsx_max_ratio: int = 200  # uncompressed : compressed, per member ...
    xlsx_ratio_from_bytes: int = 16 * MiB  # ... for members larger than this (small members compress very well)
    xlsx_members: int = 10_000
    # Any table.
    cell_chars: int = 32_767  # Excel's own limit for one cell
    max_rows: int = 10_000_000
    max_columns: int = 2_000
    # JSON.
    json_depth: int = 20  # the CQC API's records are 4 levels deep
    # Values.
    earliest_year: int = 1948  # no practice, person or document in the NHS predates it (1900 is Excel's day zero)
    earliest_event_year: int = 1990  # responses, complaints, events, training, periods of indicator values
    largest_number: float = 1e12  # a count, list size or payment beyond this is a mistake, not a figure


DEFAULT_LIMITS = Limits()

# The limits of the import running in this thread (set by the pipeline), for checks deep in value parsing.
CURRENT: ContextVar[Limits] = ContextVar("import_limits", default=DEFAULT_LIMITS)


def current() -> Limits:
    return CURRENT.get()
