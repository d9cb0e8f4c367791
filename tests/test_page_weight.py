"""What a page sends to the browser at an ICB's size: the matrix in readable groups of practices, and hover text that
says each cell's own figures without repeating the practice, the month and the words in all 12,000 cells."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from data_layer.views import MATRIX_COLUMNS
from ui import charts, views

PRACTICES = [f"Z9{i:04d}" for i in range(1, 201)]
MEASURES = [f"Measure number {i} with a long name" for i in range(33)]


def _grid() -> pd.DataFrame:
    rows = []
    for col, code in enumerate(["", *PRACTICES]):
        for r, measure in enumerate(MEASURES):
            rows.append({"indicator_code": f"M{r}", "measure": measure, "unit": "%", "practice_code": code,
                         "practice": "Federation" if not code else f"{code} Surgery of the Long Name",
                         "value": 70.0 + (col + r) % 20, "rag": ["green", "amber", "red"][(col + r) % 3],
                         "suppressed": False, "target": 80.0, "latest_period": pd.Timestamp("2026-10-01"),
                         "comparison": "" if not code else "Similar to the federation", "judgement": "judged",
                         "text": f"{70 + (col + r) % 20:.1f}% ✔", "status": "✔ On target (target 80.0%)",
                         "status_words": "✔ On target", "target_text": "target 80.0%"})
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def test_an_icbs_practices_are_shown_in_readable_groups_each_well_under_a_megabyte():
    grid = _grid()
    pages = views.matrix_pages(grid)
    assert pages[0] == "Practices 1 to 25 of 200" and pages[-1] == "Practices 176 to 200 of 200" and len(pages) == 8
    first, last = views.matrix_page(grid, 0), views.matrix_page(grid, 7)
    assert first["practice"].nunique() == 26 and "Federation" in set(first["practice"])  # the pooled column stays
    assert set(last["practice_code"]) - {""} == set(PRACTICES[175:])
    fig = charts.matrix_figure(first)
    assert len(fig.to_json()) < 250_000
    # the hover still names the practice, the measure and the month, from the axes and the template
    heat = fig.data[0]
    assert "%{x}" in heat.hovertemplate and "%{y}" in heat.hovertemplate
    assert all("Surgery" not in cell for row in heat.customdata for cell in row)
    assert any("October 2026" in cell for row in heat.customdata for cell in row)


def test_a_few_practices_are_one_group_without_a_chooser():
    grid = _grid()
    few = grid[grid["practice_code"].isin(["", *PRACTICES[:11]])]
    assert views.matrix_pages(few) == ["Practices 1 to 11 of 11"]


def test_the_feedback_heatmap_sends_numbers_per_cell_and_its_words_once():
    from ui import feedback_ui

    months = pd.date_range("2021-12-01", periods=60, freq="MS")
    pm = pd.DataFrame([{"practice_code": c, "practice_name": f"{c} Surgery", "month": m, "total": 300,
                        "pct_positive": 90.0 + (i % 7) / 3, "positive_lower": 86.123, "positive_upper": 93.456,
                        "pct_negative": 4.0, "suppressed": False, "note": ""}
                       for i, (c, m) in enumerate((c, m) for c in PRACTICES for m in months)])
    legacy = pd.DataFrame(columns=["practice_code", "first_month", "last_month"])
    fig = feedback_ui.fft_heatmap(pm, legacy, {c: f"{c} Surgery" for c in PRACTICES}, 90.0)
    heat = fig.data[0]
    assert "% positive (95% CI" in heat.hovertemplate and "responses" in heat.hovertemplate
    assert np.asarray(heat.customdata).shape[-1] == 3  # lower, upper, responses: numbers, not words
    assert len(fig.to_json()) < 700_000  # 12,000 cells (was 2 MB with the words in every cell)


def test_two_hundred_practice_lines_stay_small_and_still_say_whose_line_it_is():
    from ui import training_ui

    months = pd.date_range("2021-12-01", periods=60, freq="MS")
    series = pd.DataFrame([{"practice_code": c, "period_start": m, "value": 80 + i % 17 + 0.123456}
                           for i, (c, m) in enumerate((c, m) for c in PRACTICES for m in months)])
    fig = training_ui.practice_lines(series, {c: f"{c} Surgery" for c in PRACTICES}, {"Z90001"}, None, "%")
    assert len(fig.to_json()) < 300_000
    grey = next(t for t in fig.data if t.name == "Z90002 Surgery")
    assert grey.hovertemplate.startswith("Z90002 Surgery") and list(grey.y[:1]) == [89.1]  # 89.123456 to the one decimal shown


def test_the_training_matrix_of_two_hundred_practices_sends_each_cells_figures_once():
    from ui import training_ui

    courses = [f"C{i}" for i in range(22)]
    rows = [{"practice_code": c, "practice_name": f"{c} Surgery", "course": k, "course_name": f"Course {k}",
             "rag": ["green", "amber", "red"][i % 3], "compliance_pct": 66.666, "in_date": 2, "required": 3,
             "lapsed": 1, "never_completed": 0}
            for i, (c, k) in enumerate((c, k) for c in [*PRACTICES, "ALL"] for k in [*courses, "ALL"])]
    fig = training_ui.compliance_heatmap(pd.DataFrame(rows), 95.0, 5.0)
    heat = fig.data[0]
    # the share, symbol and counts are the cell's own text; the hover adds only what the cell does not say
    assert heat.text[0][0].endswith("% ✔<br>2/3") and "In date: %{text}" in heat.hovertemplate
    assert np.asarray(heat.customdata).shape[-1] == 2 and "lapsed" in heat.hovertemplate
    assert len(fig.to_json()) < 220_000  # 4,600 cells (was 290 kB with the words and figures again in every cell)


def test_the_table_behind_the_matrix_shows_the_heatmaps_practices_and_its_csv_has_them_all():
    grid = _grid()
    shown, whole = views.matrix_wide(views.matrix_page(grid, 1)), views.matrix_wide(grid)
    assert list(shown.columns[:2]) == ["Measure", "Federation"] and len(shown.columns) == 1 + 1 + 25
    assert "Z90026 Surgery of the Long Name" in shown.columns and "Z90001 Surgery of the Long Name" not in shown.columns
    assert len(whole.columns) == 1 + 1 + 200 and len(whole) == len(shown) == len(MEASURES)
    assert shown.loc[0, "Federation"] == whole.loc[0, "Federation"] == "70.0% ✔"
