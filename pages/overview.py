"""Overview: the board's one screen — headline KPIs with change since last period, then the aims scorecard."""
import pandas as pd
import streamlit as st

from ui import data, state
from ui.format import describe_filters, format_value, month_label

viewer = st.session_state["viewer"]
filters = st.session_state["filters"]
cfg = state.config()
practices = state.practice_list(viewer)

st.title(f"{cfg.short_name} board overview")
st.caption(describe_filters(filters, practices))
if data.demo_database():
    st.info("Demo data: the practices, staff, patients' comments and figures shown are fictional.", icon=":material/info:")

results = data.kpi_results(viewer, filters)
card = data.scorecard(viewer, filters)

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
            delta = None if row.change is None or pd.isna(row.change) else format_value(row.change, row.unit, signed=True)
            colour = {"higher": "normal", "lower": "inverse"}.get(row.direction, "off")
            history = res.series["value"].dropna().round(1).tolist()
            st.metric(
                row.indicator,
                "Not shown" if res.suppressed else format_value(row.value, row.unit),
                delta=delta,
                delta_color=colour,
                help=f"{res.indicator.description} Target {format_value(row.target, row.unit)}. "
                     f"Change is since {month_label(res.series['period_start'].iloc[-2]) if len(res.series) > 1 else 'the previous period'}.",
                chart_data=history if len(history) > 1 else None,
                chart_type="line",
            )
            st.markdown(f"**{row.status}** (target {format_value(row.target, row.unit)}) · {month_label(row.latest_period)}")
            st.caption(f"{row.variation_text}. {row.assurance_text}.")

# --- Aims and objectives scorecard ----------------------------------------------------------------------------------
st.subheader("Aims and objectives")
st.caption("Each aim with the measures that evidence it: latest value against target, and what the trend says "
           "(Making Data Count). Symbols always come with words: ✔ on target, ▲ near target, ✖ off target.")
table = pd.DataFrame({
    "Aim": card["aim_order"].astype(str) + ". " + card["aim"],
    "Measure": card["indicator"],
    "Latest": [format_value(v, u) for v, u in zip(card["value"], card["unit"])],
    "Change": [format_value(v, u, signed=True) for v, u in zip(card["change"], card["unit"])],
    "Target": [format_value(v, u) for v, u in zip(card["target"], card["unit"])],
    "Status": card["status"],
    "Variation": card["variation_text"],
    "Assurance": card["assurance_text"],
    "Month": [month_label(d) for d in card["latest_period"]],
})
st.dataframe(table, hide_index=True, width="stretch", height=min(38 * (len(table) + 1), 900),
             column_config={"Aim": st.column_config.TextColumn(width="large")})
st.download_button("Download the scorecard (CSV)", table.to_csv(index=False).encode("utf-8"),
                   file_name="aims_scorecard.csv", mime="text/csv", icon=":material/download:")
