"""Import data (administrators only): upload a file, see what it is and what would change, fix any problems, then
import it in one go. Templates with guides, and the history of every import."""
import streamlit as st

from data_layer.imports import ImportOptions, TEMPLATE_KINDS, template_csv, template_guide, template_label, \
    template_summary
from ui import imports as ui
from ui.guard import page_context
from ui.text import plain

viewer, filters = page_context(__file__)
if not viewer.may_import:
    st.error("Only administrators may import data.")
    st.stop()

st.title("Import data")
st.caption("Our templates and the NHS publications a federation holds: Fingertips exports, QOF raw files, patients "
           "registered (totals, and by single year of age), CQC ratings, ODS epraccur, NHS England's monthly FFT "
           "file and practices' own FFT exports, NHS Payments to General Practice and childhood immunisations by "
           "vaccine. A file with any problem is refused as a whole; importing the same data again changes nothing.")

tab_import, tab_templates, tab_history = st.tabs(["Import a file", "Templates", "History"])

# --- Import a file ---------------------------------------------------------------------------------------------------
with tab_import:
    if not ui.practice_choices(viewer):  # an empty database: the first run, guided
        st.subheader("First run: set up the federation from published files")
        st.write("The database has no practices yet. Download these files (free, published by the NHS and CQC) and "
                 "import them here in this order: the first chooses the federation's practices, and each of the "
                 "others brings what it holds for those practices.")
        st.markdown("\n".join(f"{n}. **{s.what}**: {s.file}, from {s.publisher} ([where to get it]({s.where}))."
                               for n, s in enumerate(ui.first_run_steps(), start=1)))
        st.caption("The same from the command line: " + "; then ".join(
            f"`{s.command}`" for s in ui.first_run_steps()[:2]) + "; then each of the others with "
            "`python -m data_layer import FILE`.")
    upload = st.file_uploader("Choose a file (CSV, XLSX or JSON)", type=["csv", "xlsx", "json", "txt"],
                              key="import_upload")
    if upload is None:
        st.info("Choose a file to see what it is, a preview and a check of every row before anything is imported.",
                icon=":material/upload_file:")
    else:
        c1, c2 = st.columns([2, 1])
        kind = c1.selectbox("Kind of file", ui.kind_options(), format_func=ui.kind_label, key="import_kind",
                            help="Detected from the header row; choose one by hand if the detection is wrong.")
        options = ImportOptions(kind=None if kind == ui.AUTO else kind)
        seen = ui.inspect(upload, options)
        sheet = None
        if len(seen.sheets) > 1:
            sheet = c2.selectbox("Sheet", seen.sheets, index=seen.sheets.index(seen.sheet) if seen.sheet else 0,
                                 key="import_sheet")
            if sheet != seen.sheet:
                options.sheet = sheet
                seen = ui.inspect(upload, options)
        options.sheet = seen.sheet

        st.subheader("What the file is")
        if seen.problem:
            st.error(plain(seen.problem), icon=":material/error:")
        else:
            st.success(f"**{seen.label}**: {seen.description}", icon=":material/check_circle:")
        # the upload's own size (a file refused before it is read still has one: never "0 bytes" for 3 KB)
        facts = [ui.size_words(upload.size or seen.size), seen.encoding or seen.container.upper()]
        if seen.sheet:
            facts.append(f"sheet “{seen.sheet}”")
        if seen.header_row:
            facts.append(f"header in row {seen.header_row}")
        st.caption(" · ".join(plain(f) for f in facts))
        if not seen.preview.empty:
            st.dataframe(seen.preview, hide_index=True, width="stretch", height=min(38 * (len(seen.preview) + 1), 420))
            st.caption(f"The first {len(seen.preview)} rows, exactly as written in the file.")

        if seen.kind and (seen.uses_practice_map or seen.uses_indicator_map or seen.needs_period):
            st.subheader("What the file does not say")
        if seen.kind in ("pcn_mapping", "epraccur"):  # the practices a published list can add to the federation
            st.subheader("Add practices to the federation")
            st.caption("Choose the practices by their PCN, their sub-ICB or their codes (any or all); leave these "
                       "empty to update the practices already in the federation only.")
            a1, a2, a3 = st.columns(3)
            if seen.kind == "pcn_mapping":
                pcn = a1.text_input("PCN (name or code)", key="import_add_pcn", placeholder="e.g. Mpa PCN or U12550")
                options.add_pcn = (pcn.strip(),) if pcn.strip() else ()
            sub_icb = a2.text_input("Sub-ICB (code or name)", key="import_add_sub_icb", placeholder="e.g. 91Q",
                                    help="Every open GP practice the sub-ICB commissions.")
            options.add_sub_icb = (sub_icb.strip(),) if sub_icb.strip() else ()
            listed = a3.text_input("Practice codes", key="import_add_practices", placeholder="e.g. G82139, G82653",
                                   help="ODS codes, separated by commas or spaces.")
            options.add_practices = tuple(c for c in listed.replace(",", " ").split() if c)
        if seen.kind and seen.uses_practice_map and seen.items is not None:
            choices = ui.practice_choices(viewer)
            st.write("The file names practices rather than giving their codes. Choose the federation practice for "
                     "each name; responses for names left as “Not imported” are skipped (and reported).")
            edited = st.data_editor(
                ui.practice_mapping_table(seen.items, choices), hide_index=True, width="stretch",
                key=f"practice_map_{upload.name}_{upload.size}", disabled=["Name in the file", "Responses"],
                column_config={"Practice": st.column_config.SelectboxColumn(
                    options=[ui.NOT_IMPORTED, *choices], required=True, width="large")})
            options.practice_map = ui.practice_map(edited, choices)
        if seen.kind and seen.uses_indicator_map and seen.items is not None:
            choices = ui.catalogue_choices()
            st.write("Choose the catalogue indicator each of the file's indicators measures. Rows for the "
                     "federation's practices then become that indicator's values; everything else (other areas, "
                     "unmapped indicators) is kept as benchmark values.")
            edited = st.data_editor(
                ui.indicator_mapping_table(seen.items, seen.kind), hide_index=True, width="stretch",
                key=f"indicator_map_{upload.name}_{upload.size}_{seen.kind}", disabled=["In the file", "Name", "Rows"],
                column_config={"Catalogue indicator": st.column_config.SelectboxColumn(
                    options=[ui.BENCHMARK, *choices], required=True, width="large")})
            options.indicator_map = ui.indicator_map(edited, choices)
            options.keep_benchmarks = st.checkbox("Keep the other rows as benchmark values", value=True,
                                                  key="import_benchmarks")
        if seen.kind and seen.needs_period:
            period = st.text_input("Period the figures cover", key="import_period", placeholder="e.g. 2024/25",
                                   help="A financial year (2024/25), a calendar year (2024), a month (2024-04) or a "
                                        "range (2024-04-01..2025-03-31). QOF files named by year need none.")
            options.period = period.strip() or None

        if seen.kind or seen.problem:
            st.subheader("Check")
            bar, update = ui.progress_bar("Checking every row…")
            checked = ui.check(upload, options, viewer, progress=update)
            bar.empty()
            m1, m2, m3, m4, m5 = st.columns(5)
            m1.metric("Rows in the file", f"{checked.rows:,}")
            m2.metric("Would be added", f"{checked.new:,}")
            m3.metric("Would be updated", f"{checked.updated:,}")
            m4.metric("Unchanged", f"{checked.unchanged:,}")
            m5.metric("Rows skipped", f"{checked.skipped:,}")
            for line in checked.changes_lines():
                st.caption(plain(line))
            errors = checked.problems(("error",))
            if checked.refused:
                st.error(f"The file has {checked.errors:,} problem{'s' if checked.errors != 1 else ''}. Nothing can be "
                         "imported until they are fixed: correct the file (or the choices above) and check again.",
                         icon=":material/error:")
                st.dataframe(ui.problems_shown(errors), hide_index=True, width="stretch",
                             column_config={"row": "Row", "column": "Column", "value": "Value", "problem": "Problem"})
                if checked.errors > len(errors):
                    st.caption(f"The first {len(errors):,} of {checked.errors:,} problems are listed.")
                st.download_button("Download the problems (CSV)", checked.problems_csv(),
                                   file_name=f"problems_{upload.name.rsplit('.', 1)[0]}.csv", mime="text/csv",
                                   icon=":material/download:")
            else:
                to_import = max(checked.rows - checked.skipped, 0)
                st.success(f"No problems in {checked.rows:,} rows" + (
                    f": {to_import:,} to import, {checked.skipped:,} skipped (not imported; listed below)."
                    if checked.skipped else "."), icon=":material/check_circle:")
            skipped = checked.problems(("skipped",))
            if checked.skipped:
                with st.expander(f"{checked.skipped:,} rows will be skipped, and why"):
                    for line in checked.log.summary_lines("skipped"):
                        st.text(line)
                    st.dataframe(ui.problems_shown(skipped), hide_index=True, width="stretch",
                                 column_config={"row": "Row", "column": "Column", "value": "Value",
                                                "problem": "Why it is skipped"})
                    st.download_button("Download the skipped rows (CSV)", checked.problems_csv(("skipped",)),
                                       file_name=f"skipped_{upload.name.rsplit('.', 1)[0]}.csv", mime="text/csv")
            for note in checked.log.summary_lines("note", 8):
                st.caption(f"Note: {plain(note)}")
            if seen.kind == "fingertips" and not checked.refused:
                additions = ui.unlisted_indicators(upload, options)
                if additions:
                    st.write(f"**{len(additions)} of the file's indicators are not in the catalogue**, so their rows "
                             "are kept as benchmark values only. Add them to the catalogue (name, unit and which way "
                             "is better, from the file) to import the practices' rows as their values:")
                    st.markdown("\n".join(
                        f"- {plain(a.name)} (Fingertips {a.fingertips_id}; {a.unit}"
                        f"{', published value only' if a.value_only else ''}; "
                        f"{'better when ' + a.direction if a.direction != 'neutral' else 'no better or worse'}) "
                        f"as `{a.code}`" for a in additions))
                    if st.button(f"Add {len(additions)} indicator{'s' * (len(additions) != 1)} to the catalogue",
                                 key="import_add_indicators", icon=":material/playlist_add:",
                                 help="Writes them to federation.local.toml beside the federation config; check "
                                      "their key question and add them to an aim to see them on the scorecard."):
                        where = ui.add_to_catalogue(additions, viewer, upload.name)
                        st.session_state["import_catalogue_added"] = (
                            f"Added {len(additions)} indicator{'s' * (len(additions) != 1)} to the catalogue "
                            f"({where}). The check below now maps them; import to store their values.")
                        st.rerun()
            if st.session_state.get("import_catalogue_added"):
                st.success(plain(st.session_state.pop("import_catalogue_added")), icon=":material/playlist_add_check:")

            st.subheader("Import")
            clicked = st.button("Import", type="primary", disabled=checked.refused, icon=":material/upload:",
                                help="Writes every row in one go; if anything goes wrong nothing is written.")
            if clicked:
                bar, update = ui.progress_bar("Importing…")
                result = ui.run(upload, options, viewer, progress=update)
                bar.empty()
                if result.imported:
                    taken = (f"{max(result.rows - result.skipped, 0):,} of its {result.rows:,} rows"
                             if result.skipped else f"{result.rows:,} rows")
                    st.success(f"Imported {taken} from {plain(result.file_name)}: {result.counts_text()} "
                               f"(batch {result.batch_id})" + (f"; {result.skipped:,} rows skipped, not imported."
                                                               if result.skipped else "."),
                               icon=":material/task_alt:")
                    if result.derived_values is not None:
                        st.caption(f"Derived indicators recalculated ({result.derived_values:,} values).")
                else:
                    st.error("The import was refused and nothing was written: " + plain(result.summary()))

# --- Templates ------------------------------------------------------------------------------------------------------
with tab_templates:
    st.write("Save as CSV (UTF-8 or Windows-1252) or XLSX; keep the header row. Columns may be in any order and "
             "headings are matched ignoring case, spaces and punctuation. Dates as dd/mm/yyyy or yyyy-mm-dd; dates "
             "in the future are refused.")
    for kind in TEMPLATE_KINDS:
        with st.expander(template_label(kind)):
            st.write(template_summary(kind))
            st.dataframe(template_guide(kind), hide_index=True, width="stretch")
            d1, d2 = st.columns(2)
            d1.download_button("Download the template (CSV)", template_csv(kind), file_name=f"{kind}_template.csv",
                               mime="text/csv", key=f"tpl_{kind}", icon=":material/download:")
            d2.download_button("With an example row", template_csv(kind, with_example=True),
                               file_name=f"{kind}_example.csv", mime="text/csv", key=f"tpl_ex_{kind}")

# --- History --------------------------------------------------------------------------------------------------------
with tab_history:
    batches = ui.history(viewer)
    if batches.empty:
        st.info("Nothing has been imported yet.")
    else:
        st.dataframe(
            batches[["imported_at", "format", "file_name", "imported_by", "rows_new", "rows_updated",
                     "rows_unchanged", "batch"]],
            hide_index=True, width="stretch",
            column_config={"imported_at": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm",
                                                                          width="medium"),
                           "format": st.column_config.TextColumn("Kind of file", width="medium"),
                           "file_name": st.column_config.TextColumn("File", width="medium"),
                           "imported_by": st.column_config.TextColumn("By", width="medium"),
                           "rows_new": st.column_config.NumberColumn("New", width="small"),
                           "rows_updated": st.column_config.NumberColumn("Updated", width="small"),
                           "rows_unchanged": st.column_config.NumberColumn("Unchanged", width="small"),
                           "batch": st.column_config.NumberColumn("Batch", width="small")})
