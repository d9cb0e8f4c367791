"""Overview: the board's one screen — what needs attention, headline KPIs with change since last period, the aims
scorecard, and every practice against every measure (drilling into the practice profile)."""
import pandas as pd
import streamlit as st

from data_layer.governance import completeness
from ui import board_pack as board_pack_ui
from ui import data, matrix_table, mdc_icons, state, views
from ui.actions import actions_panel, raise_action_link
from ui.format import describe_filters, format_value, metric_delta, month_label

from ui.guard import page_context
from ui.page_common import show_table
from ui.text import plain

viewer, filters = page_context(__file__)
cfg = state.config()
practices = state.practice_list(viewer)
where = views.overall_label(filters)

# titled for who is looking: the board's overview, or the federation's for a practice lead or a viewer
st.title(f"{cfg.short_name} {'board' if viewer.role in ('admin', 'board') else 'federation'} overview")
if viewer.role == "practice_lead" and viewer.practice_codes:
    own = practices[practices["code"].isin(viewer.practice_codes)]
    for p in own.itertuples(index=False):
        st.page_link("pages/practice.py", label=f"Your practice: {plain(p.display_name)}",
                     icon=":material/local_hospital:", query_params={"profile": p.code})
st.caption(plain(describe_filters(filters, practices)))
if data.demo_database():
    st.info("Demo data: the practices, staff, patients' comments and figures shown are fictional.", icon=":material/info:")

results = data.kpi_results(viewer, filters)
card = data.scorecard(viewer, filters)

# --- The monthly board pack (board members and administrators) -----------------------------------------------------
pack_month = next((r.as_at for r in results.values() if r.as_at), None)
if board_pack_ui.may_download(viewer) and pack_month is not None:
    with st.container(border=True, key="board_pack"):
        st.markdown(f"**Monthly board pack for {month_label(pack_month)}** (every practice, compared with the "
                    "month before; built when you click, and recorded in the audit log)")
        for col, (fmt, label, icon) in zip(st.columns(len(board_pack_ui.BUTTONS)), board_pack_ui.BUTTONS):
            with col:
                st.download_button(label, board_pack_ui.builder(viewer, pack_month, fmt),
                                   file_name=board_pack_ui.file_name(pack_month, fmt), mime=board_pack_ui.mime(fmt),
                                   icon=icon, key=f"board_pack_{fmt}", on_click="ignore", width="stretch")

# --- What needs attention --------------------------------------------------------------------------------------------
st.subheader("What needs attention")
soon = cfg.thresholds.lapsing_buckets[0]
st.caption("Worked out from the same figures as the rest of the dashboard: measures whose latest period is a "
           "special-cause concern (Making Data Count), measures off target, required training that has lapsed or "
           f"lapses within {soon} days, and documents in the evidence register overdue for review. A figure on too few cases (fewer than {cfg.thresholds.min_denominator}) is "
           "never called a concern or off target: it says “too few to judge”. Select an item to open the measure or "
           "the practice.")
items = views.attention(viewer, filters, where)
KINDS = (
    ("Special-cause concern", "Special-cause concerns", ":material/warning:",
     "No measure's latest month is a special-cause concern."),
    ("Missed target", "Missed targets", ":material/flag:", "Every measure with a target is on or near target."),
    ("Training lapsed or lapsing", "Training lapsed or lapsing", ":material/school:",
     f"No required training has lapsed or lapses within {cfg.thresholds.lapsing_buckets[0]} days."),
    ("Evidence review overdue", "Evidence reviews overdue", ":material/folder_open:",
     "No policy, risk assessment or other document in the evidence register is overdue for review."),
)
SHOWN = 5


anonymised = viewer.role in ("practice_lead", "viewer") and not cfg.thresholds.name_other_practices


def attention_link(item) -> None:
    if item.kind == "Evidence review overdue":  # to the register, filtered to that practice's overdue reviews
        views.page_link("pages/evidence.py", viewer.role, label=plain(item.headline),
                        query_params={"overdue": "1", **({"held_for": item.practice_code} if item.practice_code
                                                         else {})})
        st.caption(plain(item.detail))
        return
    # where other practices are anonymised, a link must not carry their code: send those to the measure instead
    if item.practice_code and not (anonymised and item.practice_code not in viewer.practice_codes):
        st.page_link("pages/practice.py", label=plain(item.headline), query_params={"profile": item.practice_code})
    else:
        st.page_link("pages/quality.py", label=plain(item.headline), query_params={"indicator": item.indicator_code})
    st.caption(plain(item.detail))
    # shown only to people who may raise an action on that practice (never a viewer)
    raise_action_link(indicator=item.indicator_code or None, practice=item.practice_code or None,
                      attention=f"{item.kind}: {item.headline}"[:200], title=str(item.headline)[:200])


@st.cache_data(ttl=state.CACHE_TTL, max_entries=4, show_spinner=False)
def late_data_line(today) -> str | None:
    return completeness.late_line(completeness.completeness(state.database(), cfg, today=today), cfg)


if items.empty and card["value"].isna().all():
    st.info("Nothing to show: there is no data for the chosen practices and period.", icon=":material/info:")
else:
    st.markdown(views.WRAP_LINKS_CSS, unsafe_allow_html=True)  # static CSS: let long link labels wrap
    columns = st.container(key="attention").columns(len(KINDS))
    for col, (kind, heading, icon, none_text) in zip(columns, KINDS):
        these = items[items["kind"] == kind]
        with col, st.container(border=True):
            st.markdown(f"**{heading}: {len(these)}**")
            if these.empty:
                st.caption(none_text)
            for item in these.head(SHOWN).itertuples(index=False):
                attention_link(item)
            if len(these) > SHOWN:
                # the rest as one table (an ICB has hundreds of items: one link each would be slow to send and read)
                with st.expander(f"{len(these) - SHOWN} more"):
                    st.dataframe(these.iloc[SHOWN:][["where", "headline", "detail"]].rename(columns={
                        "where": "Where", "headline": "What", "detail": "Detail"}), hide_index=True,
                        width="stretch", height=min(36 * (len(these) - SHOWN + 1) + 2, 420))
                    st.caption("Choose the practice in the sidebar, or open the measure, to see one of these.")
    attention_csv = items[["kind", "where", "headline", "detail"]].rename(columns=str.capitalize)
    st.download_button("Download the attention list (CSV)", lambda: views.csv_bytes(attention_csv),
                       file_name="what_needs_attention.csv", mime="text/csv", icon=":material/download:",
                       key="dl_attention")

# --- Actions and data completeness ----------------------------------------------------------------------------------
st.subheader("Actions")
actions_panel(viewer, filters)  # with its link to every action
if viewer.role in ("admin", "board"):
    from datetime import date

    late_line = late_data_line(date.today())
    if late_line:
        st.warning(late_line, icon=":material/schedule:")
        views.page_link("pages/completeness.py", viewer.role, label="Data completeness: who has sent what",
                        icon=":material/checklist:")

# --- Headline KPIs ------------------------------------------------------------------------------------------------
st.subheader("Headline measures")
headlines = card[card["headline"]].drop_duplicates("indicator_code")
if headlines["value"].isna().all():
    st.warning("No data for the chosen practices and period. Widen the period or clear the practice filter.")
cols = st.columns(3)
for i, row in enumerate(headlines.itertuples(index=False)):
    res = results[row.indicator_code]
    with cols[i % 3]:
        with st.container(border=True):
            history = res.series["value"].dropna().round(1).tolist()
            st.metric(
                row.indicator,
                "Not shown" if res.suppressed else format_value(row.value, row.unit),
                **metric_delta(row.change, row.unit, row.direction),
                help=f"{res.indicator.description} Target {format_value(row.target, row.unit)}. "
                     f"Change is since {month_label(res.series['period_start'].iloc[-2]) if len(res.series) > 1 else 'the previous period'}.",
                chart_data=history if len(history) > 1 else None,
                chart_type="line",
            )
            st.markdown(f"**{row.status}** (target {format_value(row.target, row.unit)}) · {month_label(row.latest_period)}")
            mdc_icons.show(res, small=True)  # Making Data Count icons with their words

# --- Aims and objectives scorecard ----------------------------------------------------------------------------------
st.subheader("Aims and objectives")
st.caption("Each aim with the measures that evidence it: latest value against target, and what the trend says "
           "(Making Data Count icons, each with its words). Symbols always come with words: ✔ on target, ▲ near "
           "target, ✖ off target.")
table = pd.DataFrame({
    "Aim": card["aim_order"].astype(str) + ". " + card["aim"],
    "Measure": card["indicator"],
    "Latest": [format_value(v, u) for v, u in zip(card["value"], card["unit"])],
    "Change": [format_value(v, u, signed=True) for v, u in zip(card["change"], card["unit"])],
    "Target": [format_value(v, u) for v, u in zip(card["target"], card["unit"])],
    "Status": card["status"],
    **mdc_icons.table_columns([results[c] for c in card["indicator_code"]]),
    "Month": [month_label(d) for d in card["latest_period"]],
})
# each aim's words once above its measures, wrapping to fit a laptop or a phone (cards there)
show_table(table, key="scorecard", group="Aim", cards=("Measure",),
           column_config={"Aim": st.column_config.TextColumn(width="large"), **mdc_icons.column_config()})
# the download has the words, not the pictures
scorecard_csv = table.drop(columns=["Variation", "Assurance"]).rename(
    columns={"Variation in words": "Variation", "Assurance in words": "Assurance"})
st.download_button("Download the scorecard (CSV)", lambda: views.csv_bytes(scorecard_csv),
                   file_name="aims_scorecard.csv", mime="text/csv", icon=":material/download:")
views.page_link("pages/aims.py", viewer.role, label="Each aim's measures over time, in words", icon=":material/flag:")

# --- Practice × measure matrix ------------------------------------------------------------------------------------
st.subheader("Practices at a glance")
as_at = month_label(next((r.as_at for r in results.values() if r.as_at), None))
st.caption(f"Every measure for each practice as at {as_at} (the latest period of each measure up to then; "
           "“not received” where a practice has not sent it), with the "
           f"{where.lower() if where == 'Federation' else plain(where)} figure first. Each cell gives the value and its status: ✔ on target, ▲ near target, ✖ off target, "
           "no symbol where there is no target; “not shown” where too few patients responded to show it safely. Hover over a cell "
           "for the month and how the practice compares with the federation. Compare practices with care: the "
           "Quality indicators page shows which differences are more than chance.")
grid = views.matrix(viewer, filters)
if grid.empty or grid["practice_code"].eq("").all():
    st.info("No practice figures for the chosen filters: clear the practice or PCN filter, or pick another period.",
            icon=":material/info:")
else:
    pages = views.matrix_pages(grid)
    page = 0
    if len(pages) > 1:  # an ICB's practices, a readable group at a time (the download below has them all)
        page = pages.index(st.selectbox("Show", pages, key="matrix_page"))
    with st.container(key="wide_matrix"):  # a laptop: the heatmap
        st.plotly_chart(views.matrix_chart(viewer, filters, page), width="stretch", key="matrix",
                        config={"displayModeBar": False})
    with st.container(key="narrow_matrix"):  # a phone: a table whose measure column stays while practices scroll
        st.html(matrix_table.matrix_html(views.matrix_page(grid, page)))
    # the table shows the practices the heatmap shows; the CSV (built when pressed) has every practice
    views.data_behind(views.matrix_wide(views.matrix_page(grid, page)), "practices_by_measure.csv", "matrix",
                      download=(lambda: views.matrix_wide(grid)) if len(pages) > 1 else None,
                      note=f"{pages[page]} here, as in the heatmap; the CSV has all of them." if len(pages) > 1
                      else "")

    st.markdown("**Open a practice profile**")
    linkable = practices[practices["code"].isin(grid["practice_code"])]
    if anonymised:
        linkable = linkable[linkable["code"].isin(viewer.practice_codes)]
    link_cols = st.columns(4)
    for i, p in enumerate(linkable.itertuples(index=False)):
        with link_cols[i % 4]:
            st.page_link("pages/practice.py", label=plain(p.display_name), icon=":material/local_hospital:",
                         query_params={"profile": p.code})
