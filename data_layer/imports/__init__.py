"""Imports: our templates and the NHS publications a federation holds, checked in full and written all-or-nothing.

    from data_layer.imports import ImportOptions, inspect_file, run_import
    result = run_import(engine, config, viewer, "PREVALENCE_2223.csv", options=ImportOptions(period="2022/23"))
    print(result.summary())

Every problem is reported at once (row, column, value, reason); a file with any error writes nothing; re-imports are
idempotent (new / updated / unchanged on natural keys); each import is recorded as a batch and in the audit log.
Every limit (file size, XLSX unpacked size and ratio, rows, columns, cell text, JSON nesting, earliest dates, largest
numbers) is in ``limits.py``; a file beyond one is refused in plain words before it is parsed or as soon as it is met.
"""
from __future__ import annotations

from .base import ImportOptions
from .limits import Limits
from .formats import BY_KIND, KINDS, TEMPLATE_KINDS
from .pipeline import ImportResult, Inspection, import_history, inspect_file, run_import
from .problems import Problem, problems_csv
from .reading import MAX_FILE_BYTES
from .templates import template_csv, template_guide, template_label, template_summary

__all__ = [
    "BY_KIND",
    "ImportOptions",
    "ImportResult",
    "Inspection",
    "KINDS",
    "Limits",
    "MAX_FILE_BYTES",
    "Problem",
    "TEMPLATE_KINDS",
    "import_history",
    "inspect_file",
    "kind_labels",
    "problems_csv",
    "run_import",
    "template_csv",
    "template_guide",
    "template_label",
    "template_summary",
]


def kind_labels() -> dict[str, str]:
    return {k: c.label for k, c in BY_KIND.items()}
