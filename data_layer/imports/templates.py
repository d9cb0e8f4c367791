"""Our own templates: the columns of each, with a short guide, downloadable from the Import page."""
from __future__ import annotations

import io

import pandas as pd

from .formats import BY_KIND, TEMPLATE_KINDS

GENERAL_GUIDE = (
    "Save as CSV (UTF-8 or Windows-1252) or XLSX. Keep the header row; columns may be in any order and headings are "
    "matched ignoring case, spaces and punctuation. Dates as dd/mm/yyyy or yyyy-mm-dd; dates in the future are "
    "refused. A file with any problem is refused as a whole, with every problem listed; importing the same rows "
    "again changes nothing (rows are matched on their natural key and reported as new, updated or unchanged)."
)

KEYS = {
    "practices": "practice_code",
    "staff": "staff_id",
    "training": "staff_id + course + completed_on",
    "fft_responses": "practice + response_id (or the response's content when there is no id)",
    "indicator_values": "indicator_code + practice_code + period_start",
    "complaints": "practice + reference (or practice, date, category and summary when there is no reference)",
    "significant_events": "practice + reference (or practice, date and category when there is no reference)",
    "staff_survey": "practice + survey + month + question",
    "ppg_meetings": "practice + meeting_date",
    "premises_checks": "practice + check_type + done_on",
    "workforce": "practice + month + role",
    "abuse_incidents": "practice + reference (or practice, date and category when there is no reference)",
}


def template_kinds() -> tuple[str, ...]:
    return TEMPLATE_KINDS


def template_label(kind: str) -> str:
    return BY_KIND[kind].label


def template_guide(kind: str) -> pd.DataFrame:
    """One row per column: name, whether it is needed, what to put in it, an example."""
    fmt = BY_KIND[kind]
    return pd.DataFrame(
        {
            "column": [c.name for c in fmt.columns],
            "needed": ["required column" if c.required else "optional column" for c in fmt.columns],
            "what to put in it": [c.help for c in fmt.columns],
            "example": [c.example for c in fmt.columns],
        }
    )


def template_summary(kind: str) -> str:
    fmt = BY_KIND[kind]
    return f"{fmt.description} Rows are matched on: {KEYS[kind]}."


def template_csv(kind: str, with_example: bool = False) -> bytes:
    """The template's header row (and, if asked, one example row) as CSV with a BOM so Excel opens it cleanly."""
    fmt = BY_KIND[kind]
    frame = pd.DataFrame(columns=[c.name for c in fmt.columns])
    if with_example:
        frame.loc[0] = [c.example for c in fmt.columns]
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8-sig")
