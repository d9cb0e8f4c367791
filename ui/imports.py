"""Helpers for the Import page: the file's first look and its check are kept in the session (keyed by the upload and
the options), so a rerun never re-reads a large file; choices for the mapping tables; a progress bar callback."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer import imports
from data_layer.imports import ImportOptions
from data_layer.scope import Viewer
from ui.state import config, database, practice_list

AUTO = "Detect automatically"
BENCHMARK = "Keep as benchmark"
NOT_IMPORTED = "Not imported"


def kind_options() -> list[str]:
    return [AUTO, *imports.KINDS]


def kind_label(kind: str) -> str:
    return AUTO if kind == AUTO else imports.kind_labels()[kind]


def options_key(file_id: str, options: ImportOptions) -> str:
    return f"{file_id}|{options!r}"


def inspect(upload, options: ImportOptions) -> imports.Inspection:
    key = options_key(upload.file_id, ImportOptions(kind=options.kind, sheet=options.sheet))
    cache = st.session_state.setdefault("_import_inspections", {})
    if key not in cache:
        cache.clear()  # one file at a time: do not keep old uploads in memory
        cache[key] = imports.inspect_file(upload.getvalue(), upload.name, options)
    return cache[key]


def check(upload, options: ImportOptions, viewer: Viewer, progress=None) -> imports.ImportResult:
    """The dry run: every problem, and what would be new, updated or unchanged."""
    key = options_key(upload.file_id, options)
    cache = st.session_state.setdefault("_import_checks", {})
    if key not in cache:
        cache.clear()
        cache[key] = imports.run_import(database(), config(), viewer, upload.getvalue(), upload.name, options,
                                        dry_run=True, progress=progress)
    return cache[key]


def run(upload, options: ImportOptions, viewer: Viewer, progress=None) -> imports.ImportResult:
    result = imports.run_import(database(), config(), viewer, upload.getvalue(), upload.name, options,
                                progress=progress)
    st.session_state.pop("_import_checks", None)
    if result.imported:
        st.cache_data.clear()  # every page's figures may have changed
        forget_charts()
    return result


def forget_charts() -> None:
    """The charts kept per scope (cache_resource, which st.cache_data.clear() leaves alone) are drawn again from the
    new figures, not shown as they were for up to the cache's ttl."""
    from ui import feedback_ui, training_ui, views

    for cached in (views.spc_chart, views.matrix_chart, feedback_ui.fft_heatmap_for,
                   training_ui.compliance_heatmap_for, training_ui.practice_lines_for):
        cached.clear()


def size_words(size: int | None) -> str:
    """A file's size as people say it: "512 bytes", "3.1 KB", "48 KB", "2.4 MB"."""
    size = int(size or 0)
    if size < 1024:
        return f"{size:,} byte{'s' if size != 1 else ''}"
    if size < 2**20:
        kb = size / 1024
        return f"{kb:.1f} KB" if kb < 10 else f"{kb:,.0f} KB"
    return f"{size / 2**20:,.1f} MB"


def problems_shown(frame):
    """A problems table for the screen: no severity column, "–" for a problem of the whole file (no row), and
    empty cells (never "None") where there is no column or value."""
    out = frame.drop(columns="severity")
    return out.assign(row=out["row"].astype("string").fillna("–"), column=out["column"].fillna(""),
                      value=out["value"].fillna(""))


def progress_bar(label: str):
    """A progress bar and a callback for the data layer's progress reports."""
    bar = st.progress(0.0, text=label)

    def update(fraction: float, text: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=text)

    return bar, update


def practice_choices(viewer: Viewer) -> dict[str, str]:
    plist = practice_list(viewer)
    return {f"{n} ({c})": c for c, n in zip(plist["code"], plist["name"])}


def catalogue_choices() -> dict[str, str]:
    """Catalogue indicators that can be imported (derived ones are calculated, never imported)."""
    return {f"{i.code} – {i.name}": i.code for i in config().indicators if not i.derived}


def practice_mapping_table(items: pd.DataFrame, choices: dict[str, str]) -> pd.DataFrame:
    """Names found in the file, with a practice pre-chosen where the name matches one of ours."""
    by_name = {imports_norm(label.rsplit(" (", 1)[0]): label for label in choices}
    return pd.DataFrame({
        "Name in the file": items["source"],
        "Responses": items["rows"],
        "Practice": [by_name.get(imports_norm(n), NOT_IMPORTED) for n in items["source"]],
    })


def indicator_mapping_table(items: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """The file's indicators, with the catalogue entry pre-chosen where one names it as its published source."""
    field = getattr(imports.BY_KIND.get(kind), "published_field", None) if kind else None
    published = {imports_norm(getattr(i.published, field)): f"{i.code} – {i.name}" for i in config().indicators
                 if field and i.published and getattr(i.published, field, None) and not i.derived}
    return pd.DataFrame({
        "In the file": items["source"],
        "Name": items["name"],
        "Rows": items["rows"] if "rows" in items else None,
        "Catalogue indicator": [published.get(imports_norm(s), BENCHMARK) for s in items["source"]],
    })


def first_run_steps():
    """Which published files set up a real federation on an empty database, and where to get them."""
    from data_layer.imports.first_run import first_run_steps as steps

    return steps(config())


def imports_norm(text: str) -> str:
    from data_layer.imports.values import norm

    return norm(text)


def practice_map(edited: pd.DataFrame, choices: dict[str, str]) -> dict[str, str]:
    return {name: choices[label] for name, label in zip(edited["Name in the file"], edited["Practice"])
            if label in choices}


def indicator_map(edited: pd.DataFrame, choices: dict[str, str]) -> dict[str, str]:
    """The choices; a row left as a benchmark maps to "" so a catalogue entry naming it as its source does not take
    it either."""
    return {source: choices.get(label, "") for source, label in zip(edited["In the file"],
                                                                   edited["Catalogue indicator"])}


def history(viewer: Viewer) -> pd.DataFrame:
    return imports.import_history(database(), viewer)


def unlisted_indicators(upload, options: ImportOptions) -> list:
    """The uploaded Fingertips file's indicators the catalogue does not list (name, unit and polarity from the file),
    worked out once per upload and catalogue."""
    from dataclasses import replace

    from data_layer.imports.catalogue import unlisted

    cfg = config()
    # Rows the mapping table leaves as benchmarks map to "": only a real choice takes an indicator out of the list.
    chosen = {k: v for k, v in options.indicator_map.items() if v}
    key = f"{upload.file_id}|{options.kind}|{options.sheet}|{sorted(chosen.items())}|{id(cfg)}"
    cache = st.session_state.setdefault("_import_unlisted", {})
    if key not in cache:
        cache.clear()
        cache[key] = unlisted(upload.getvalue(), cfg, replace(options, indicator_map=chosen), upload.name) or []
    return cache[key]


def add_to_catalogue(additions: list, viewer: Viewer, file_name: str) -> str:
    """Append the indicators to the catalogue's local file (validated with the whole config first), record it in the
    audit log, and forget this upload's checks so the next one maps them. Returns where they were written."""
    from data_layer import audit
    from data_layer.config import config_path
    from data_layer.imports.catalogue import with_additions, write_local

    _, text = with_additions(config_path(), additions)  # refuses (ConfigError) rather than write a broken catalogue
    where = write_local(config_path(), text)
    audit.record(database(), viewer.email, "catalogue_added",
                 detail=f"{len(additions)} indicators from {file_name} added to {where.name}: "
                        + ", ".join(f"{a.code} ({a.name})" for a in additions)[:3500])
    for key in ("_import_checks", "_import_unlisted", "_import_inspections"):
        st.session_state.pop(key, None)
    st.cache_data.clear()
    return str(where)
