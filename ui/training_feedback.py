"""Cached calls and chart builders for the Staff training and Patient feedback pages.

Every cache takes the database URL, the viewer and the filters as arguments (never reads the user inside) and is
bounded by ttl and max_entries. Charts only draw what the data layer has calculated; each is shown with the table it
was drawn from, and colour is always repeated in words, numbers or symbols.

The code lives in ``ui.training_ui`` (the training page), ``ui.feedback_ui`` (the feedback page) and
``ui.page_common`` (what both share: tables and downloads, formatting, the chart style); issue 10: no file over ~500
lines. Every name is re-exported here, so ``from ui import training_feedback as tf`` keeps working.
"""
from __future__ import annotations

from data_layer.analytics import RAG_SYMBOLS, RAG_WORDS
from ui.text import inert_figure
from ui.page_common import (
    FONT,
    TTL,
    _style,
    chart_table,
    csv_bytes,
    date_text,
    month_text,
    num_text,
    pct,
    practice_series,
    practice_signals,
    table_with_download,
    wrap_name,
)
from ui.training_ui import (
    BUCKET_COLOURS,
    PALE_RAG,
    chase_list,
    chase_reason,
    compliance_by_role,
    compliance_heatmap,
    compliance_heatmap_for,
    compliance_matrix_for,
    chase_table_for,
    compliance_matrix,
    hours_bars,
    hours_by_person,
    hours_summary,
    lapsing_bars,
    lapsing_by_course,
    lapsing_counts,
    person_hours,
    practice_lines,
    practice_lines_for,
    role_bars,
    training_dates,
    training_snapshot,
    training_trends,
)
from ui.feedback_ui import (
    ANSWER_WORDS,
    MODE_COLOURS,
    MODES,
    comment_months,
    comment_themes,
    comments,
    complaint_times_figure as _complaint_times_figure,
    complaints,
    fft_by_month,
    fft_by_practice,
    fft_heatmap,
    fft_heatmap_for,
    fft_interval_figure as _fft_interval_figure,
    fft_practice_months,
    fft_trends,
    legacy_figure as _legacy_figure,
    legacy_use,
    modes_figure as _modes_figure,
    readable_practices,
    response_modes,
    theme_names,
    themes_figure as _themes_figure,
)
from ui.page_common import shared_figure  # noqa: E402

# the feedback page's figures, built once for everyone who asks for the same data
complaint_times_figure = shared_figure(_complaint_times_figure)
fft_interval_figure = shared_figure(_fft_interval_figure)
legacy_figure = shared_figure(_legacy_figure)
modes_figure = shared_figure(_modes_figure)
themes_figure = shared_figure(_themes_figure)

__all__ = [
    "RAG_SYMBOLS", "RAG_WORDS", "inert_figure", "FONT", "TTL", "_style", "chart_table", "csv_bytes", "date_text",
    "month_text", "num_text", "pct", "practice_series", "practice_signals", "table_with_download", "wrap_name",
    "BUCKET_COLOURS", "PALE_RAG", "chase_list", "chase_reason", "compliance_by_role", "compliance_heatmap", "compliance_heatmap_for", "practice_lines_for", "compliance_matrix_for", "chase_table_for",
    "compliance_matrix", "hours_bars", "hours_by_person", "hours_summary", "lapsing_bars", "lapsing_by_course",
    "lapsing_counts", "person_hours", "practice_lines", "role_bars", "training_dates", "training_snapshot",
    "training_trends", "ANSWER_WORDS", "MODE_COLOURS", "MODES", "comment_months", "comment_themes", "comments",
    "complaint_times_figure", "complaints", "fft_by_month", "fft_by_practice", "fft_heatmap", "fft_heatmap_for", "fft_interval_figure",
    "fft_practice_months", "fft_trends", "legacy_figure", "legacy_use", "modes_figure", "readable_practices",
    "response_modes", "theme_names", "themes_figure",
]
