"""Cached calls into the data layer for the board views (overview, aims, quality, practice profile).

As in ui/data.py: every cache takes the viewer and the filters as arguments (never reads the user inside) and is
bounded by ttl and max_entries. Also the small presentation helpers those pages share: the "data behind this chart"
expander with its CSV download, and links that carry the chosen filters.
"""
from __future__ import annotations

from collections.abc import Callable

import re
from datetime import date

import pandas as pd
import streamlit as st

from data_layer import engine as calc
from data_layer import training as training_data
from data_layer import views as v
from data_layer.scope import Viewer
from ui.data import SCOPE_KEY
from ui.data import TTL, kpi_results
from ui.state import config, database

__all__ = ["kpi_results", "indicator_results", "practice_results", "matrix", "attention", "training_lapsing",
           "overall_label", "funnel", "benchmarks", "last_batches", "practice_complaints", "significant_events_summary", "complaints_list",
           "significant_events_list", "practice_training", "data_behind", "md", "csv_bytes"]


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def indicator_results(viewer: Viewer, filters: calc.Filters, codes: tuple[str, ...]) -> dict[str, calc.KPIResult]:
    """Any indicators of the catalogue (not only the aims' KPIs), evaluated over the filters."""
    return calc.kpi_results(database(), config(), viewer, filters, codes=list(codes))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner="Working out every practice's measures…")
def practice_results(viewer: Viewer, filters: calc.Filters) -> tuple[pd.DataFrame, dict]:
    return v.practice_results(database(), config(), viewer, filters)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def matrix(viewer: Viewer, filters: calc.Filters) -> pd.DataFrame:
    rows, _ = practice_results(viewer, filters)
    # one practice chosen: its column is the chosen figure already, so no second identical column
    overall = {} if len(filters.practice_codes) == 1 else kpi_results(viewer, filters)
    return v.practice_matrix(rows, overall, config(), overall_label(filters))


def overall_label(filters: calc.Filters) -> str:
    """What the pooled figure of the chosen practices is called on screen."""
    if filters.practice_codes:
        return "Selected practices"
    return filters.pcn or "Federation"


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def training_snapshot(viewer: Viewer, filters: calc.Filters):
    """Everyone's training as at the date lapsing is counted for (``training.action_date``: today for the latest
    month, else that month's end), the same date the training page and the inspection pack count it at."""
    return training_data.snapshot(database(), config(), viewer, filters,
                                  as_of=training_data.action_date(database(), filters))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def training_lapsing(viewer: Viewer, filters: calc.Filters) -> pd.DataFrame:
    return training_data.lapsing_counts(training_snapshot(viewer, filters))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def attention(viewer: Viewer, filters: calc.Filters, where: str) -> pd.DataFrame:
    rows, _ = practice_results(viewer, filters)
    return v.attention_items(config(), kpi_results(viewer, filters), rows, training_lapsing(viewer, filters), where,
                             evidence_overdue(viewer, filters))


def evidence_overdue(viewer: Viewer, filters: calc.Filters) -> pd.DataFrame:
    """Overdue reviews in the evidence register for the chosen practices (and the federation-wide items)."""
    from data_layer import evidence

    chosen = filters.practice_codes or filters.pcn or filters.group
    codes = calc.resolve_practices(database(), viewer, filters, config()) if chosen else None
    if chosen and not codes:
        return pd.DataFrame(columns=evidence.OVERDUE_COLUMNS)
    return evidence.overdue_by_practice(database(), viewer, practice_codes=codes)


# Figures: building a plotly figure validates every property (50-150 ms each), and a page of control charts has
# dozens. cache_resource keeps the figure object itself (cache_data would pickle it, and unpickling validates again);
# figures are never changed after they are built, so sharing them between sessions is safe.
@st.cache_resource(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=512, show_spinner=False)
def spc_chart(viewer: Viewer, filters: calc.Filters, code: str, title: str | None = None, height: int = 380,
              rebase_from: date | None = None):
    from ui import charts

    res = indicator_results(viewer, filters, (code,))[code]
    if rebase_from is not None:
        res = v.rebased(res, config(), rebase_from)
    return charts.spc_figure(res, title=title, height=height)


MATRIX_PAGE = 25  # practices side by side in the matrix: more are unreadable at 1400 px (and a megabyte to send)


def matrix_pages(grid: pd.DataFrame) -> list[str]:
    """The matrix's pages of practices, in words ("Practices 1 to 25 of 200"); one page when they fit."""
    n = grid.loc[grid["practice_code"] != "", "practice_code"].nunique()
    return [f"Practices {i + 1} to {min(i + MATRIX_PAGE, n)} of {n}" for i in range(0, max(n, 1), MATRIX_PAGE)]


def matrix_page(grid: pd.DataFrame, page: int) -> pd.DataFrame:
    """The pooled column and the ``page``-th (from 0) group of :data:`MATRIX_PAGE` practices, in the grid's order."""
    codes = list(dict.fromkeys(grid.loc[grid["practice_code"] != "", "practice_code"]))
    chosen = set(codes[page * MATRIX_PAGE:(page + 1) * MATRIX_PAGE])
    return grid[(grid["practice_code"] == "") | grid["practice_code"].isin(chosen)]


@st.cache_resource(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def matrix_chart(viewer: Viewer, filters: calc.Filters, page: int = 0):
    from ui import charts

    return charts.matrix_figure(matrix_page(matrix(viewer, filters), page))


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def funnel(viewer: Viewer, filters: calc.Filters, code: str, span_months: int = 1
           ) -> tuple[pd.DataFrame, float | None, date | None]:
    return v.indicator_funnel(database(), config(), viewer, filters, code, span_months=span_months)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def benchmarks(viewer: Viewer, filters: calc.Filters, codes: tuple[str, ...] | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """England, region, ICB, sub-ICB and PCN beside the chosen area and the federation (stored comparisons)."""
    from data_layer.measures import benchmarks as bench

    return bench.beside(database(), config(), viewer, filters, list(codes) if codes else None)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def england_by_practice(viewer: Viewer, filters: calc.Filters, code: str) -> pd.DataFrame:
    """Each practice's stored comparison with England on one measure (latest published period up to the month)."""
    from data_layer.measures import benchmarks as bench

    return bench.england_by_practice(database(), config(), viewer, filters, code)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=8, show_spinner=False)
def last_batches() -> pd.DataFrame:
    return v.last_batches(database())


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def practice_complaints(viewer: Viewer, filters: calc.Filters, practice_code: str) -> dict:
    return v.practice_complaints(database(), config(), viewer, filters, practice_code)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=64, show_spinner=False)
def significant_events_summary(viewer: Viewer, filters: calc.Filters, practice_code: str) -> dict:
    return v.significant_events_summary(database(), viewer, filters, practice_code)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def complaints_list(viewer: Viewer, filters: calc.Filters, practice_code: str) -> pd.DataFrame:
    return v.complaints_list(database(), viewer, filters, practice_code)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def significant_events_list(viewer: Viewer, filters: calc.Filters, practice_code: str) -> pd.DataFrame:
    return v.significant_events_list(database(), viewer, filters, practice_code)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def practice_training(viewer: Viewer, filters: calc.Filters, practice_code: str) -> dict:
    """One practice's training: compliance by course, what to act on, and (person-level viewers only) the names."""
    one = calc.Filters(practice_codes=(practice_code,), period_end=filters.period_end, months=filters.months)
    snap = training_data.snapshot(database(), config(), viewer, one)  # month end: as the stored compliance
    act = training_data.snapshot(database(), config(), viewer, one, as_of=training_data.action_date(database(), one))
    return {
        "as_of": snap.as_of,
        "lapsing_as_of": act.as_of,
        "by_course": training_data.compliance_matrix(snap),
        "lapsing": training_data.lapsing_counts(act),
        "chase": training_data.chase_list(act, viewer),
    }


# ---------------------------------------------------------------------------------------------------------------
# Presentation helpers
# ---------------------------------------------------------------------------------------------------------------
from data_layer.policy.status import VARIATION_SHORT  # noqa: E402  (the words beside the icons: one source)


WRAP_LINKS_CSS = """
<style>
.st-key-attention [data-testid="stPageLink-NavLink"] { height: auto; padding-top: 0.25rem; padding-bottom: 0.1rem; }
.st-key-attention [data-testid="stPageLink-NavLink"] span,
.st-key-attention [data-testid="stPageLink-NavLink"] p { white-space: normal; overflow: visible; text-overflow: clip;
  font-weight: 600; line-height: 1.35; }
</style>
"""


def page_link(path: str, role: str, **kwargs) -> None:
    """st.page_link, only when that page exists in this build and the role may open it (pages are added by
    different issues; a link to a missing page would stop the whole page)."""
    from ui.navigation import pages_for

    if any(spec.path == path for spec in pages_for(role)):
        st.page_link(path, **kwargs)


def variation_label(result: calc.KPIResult) -> str:
    """The few words of the latest point's Making Data Count variation (the icon is ``ui.mdc_icons``'; the full words
    go in help)."""
    from data_layer.policy import status

    return status.variation_short(getattr(result.spc, "variation", "none"))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$])")  # what could make a link, markup, maths or HTML


def md(text) -> str:
    """Escape text from the database (practice or measure names) before it goes into st.markdown."""
    from ui.text import plain

    return plain(text)


def csv_bytes(df: pd.DataFrame) -> bytes:
    from data_layer.privacy import inert_for_spreadsheet

    safe = df.copy()
    for c in safe.columns:
        if safe[c].dtype == object or str(safe[c].dtype).startswith("str"):
            safe[c] = safe[c].map(inert_for_spreadsheet)
    # UTF-8 with a byte-order mark, so Excel reads ✔ ▲ – and accented names correctly
    return safe.to_csv(index=False).encode("utf-8-sig")


def data_behind(df: pd.DataFrame, file_name: str, key: str, label: str = "Data behind this chart",
                column_config: dict | None = None, expanded: bool = False,
                download: Callable[[], pd.DataFrame] | None = None, note: str = "") -> None:
    """The table behind a chart, and a CSV download of exactly that table (or of what ``download`` gives when the
    button is pressed: the whole of what a chart shows part of at a time, ``note`` saying so)."""
    with st.expander(label, expanded=expanded, icon=":material/table:"):
        if note:
            st.caption(note)
        if df.empty:
            st.caption("No rows for the chosen practices and period.")
        else:
            st.dataframe(df, hide_index=True, width="stretch", column_config=column_config,
                         height=min(36 * (len(df) + 1) + 2, 520))
        # built when clicked, not on every run of the page (a callable: Streamlit runs it on the click)
        st.download_button("Download as CSV", lambda: csv_bytes(df if download is None else download()),
                           file_name=file_name, mime="text/csv",
                           icon=":material/download:", key=f"dl_{key}")


def matrix_wide(grid: pd.DataFrame) -> pd.DataFrame:
    """The practice × measure grid as a table: a row per measure, a column per practice (the pooled one first),
    each cell the words the heatmap's cell shows."""
    wide = grid.pivot_table(index="measure", columns="practice", values="text", aggfunc="first", sort=False)
    wide = wide.reindex(index=list(dict.fromkeys(grid["measure"])), columns=list(dict.fromkeys(grid["practice"])))
    return wide.reset_index().rename(columns={"measure": "Measure"})
