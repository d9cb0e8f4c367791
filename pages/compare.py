"""PCN and group comparison: the PCNs and the federation's own groups of practices side by side for one measure —
each group's stored figure (Σ numerator / Σ denominator) with its 95% interval, its control chart's latest signal
and its status in words, and where it sits on a funnel around the federation's figure."""
import pandas as pd
import streamlit as st

from data_layer import engine as calc
from data_layer.governance import compare
from ui.page_common import show_table
from ui import charts, state, views
from ui.format import format_value, month_label
from ui.guard import page_context
from ui.text import plain

viewer, filters = page_context(__file__)
cfg = state.config()


@st.cache_data(ttl=state.CACHE_TTL, max_entries=64, show_spinner=False)
def _compare(viewer, code: str, as_at):
    return compare.compare(state.database(), cfg, viewer, code, as_at)


st.title("Compare PCNs and groups")
st.caption("Each primary care network and each group of practices declared by the federation, for one measure: "
           "Σ numerators ÷ Σ denominators over the group's practices (never an average of practice percentages), "
           "from the same stored figures as every other screen. Not a league table: the funnel says which groups "
           "differ from the federation by more than chance.")

KEY_ORDER = {"Safe": 0, "Effective": 1, "Caring": 2, "Responsive": 3, "Well-led": 4}
catalogue = sorted(cfg.indicators, key=lambda i: (KEY_ORDER[i.key_question], i.name))
by_code = {i.code: i for i in catalogue}
wanted = st.query_params.get("indicator")
if wanted in by_code and st.session_state.get("_compare_from_url") != wanted:
    st.session_state["compare_indicator"] = wanted
    st.session_state["_compare_from_url"] = wanted
if st.session_state.get("compare_indicator") not in by_code:
    st.session_state["compare_indicator"] = catalogue[0].code
code = st.selectbox("Measure", list(by_code), key="compare_indicator",
                    format_func=lambda c: f"{by_code[c].key_question} · {by_code[c].name}")
if st.query_params.get("indicator") != code:
    st.query_params["indicator"] = code
    st.session_state["_compare_from_url"] = code
ind = by_code[code]
unit = ind.unit
as_at = calc.as_at(state.database(), filters)
if as_at is None:
    st.info("No figures yet for any practice, so nothing to compare: import the practices' data first.",
            icon=":material/info:")
    st.stop()
rows, fed = _compare(viewer, code, as_at)

if rows.empty:
    st.info("No groups to compare: the practices have no PCN and federation.toml declares no groups.",
            icon=":material/info:")
    st.stop()
if fed["value"] is None or pd.isna(fed["value"]):
    st.info(f"No federation figure for {ind.name.lower()} in {month_label(as_at)}: nothing to compare.",
            icon=":material/info:")
    st.stop()

period = month_label(rows["latest_period"].dropna().max()) if rows["latest_period"].notna().any() else \
    month_label(as_at)
st.markdown(f"**{plain(ind.name)}**, {period}. Federation: {format_value(fed['value'], unit)} "
            f"(95% interval {format_value(fed['lower_ci'], unit)} to {format_value(fed['upper_ci'], unit)}) · "
            f"{plain(fed['status'])} · {plain(fed['variation_text'])}")


def interval(lo, hi) -> str:
    return "–" if pd.isna(lo) or pd.isna(hi) else f"{format_value(lo, unit)} to {format_value(hi, unit)}"


table = pd.DataFrame({
    "Group": rows["label"],
    "Kind": rows["kind"],
    "Practices": rows["practices"].astype(int),
    "Numerator": rows["numerator"],
    "Denominator": rows["denominator"],
    f"Value ({unit})": [("Not shown" if s else "–") if pd.isna(v) else format_value(v, unit)
                        for v, s in zip(rows["value"], rows["suppressed"])],
    "95% interval (Wilson)": [interval(lo, hi) for lo, hi in zip(rows["lower_ci"], rows["upper_ci"])],
    "Status": rows["status"],
    "Variation (control chart)": rows["variation_text"],
    "Against the federation (funnel)": rows["position_text"],
})
show_table(table, key="compare", readable=True, cards=(table.columns[0],),  # every word in view, any width
           column_config={"Numerator": st.column_config.NumberColumn(format="%d"),
                            "Denominator": st.column_config.NumberColumn(format="%d")})
st.caption("Status: ✔ on target, ▲ near target, ✖ off target against the measure's target; “too few to judge” "
           f"where a group has fewer than {cfg.min_denominator(ind)} cases. Variation: the group's own Making Data "
           "Count chart (its latest month). Funnel: inside the 95% and 99.8% limits around the federation's figure a "
           "group differs from it by no more than chance would explain.")
st.download_button("Download the comparison (CSV)", lambda: views.csv_bytes(table),
                   file_name=f"{code.lower()}_groups_{pd.Timestamp(as_at):%Y_%m}.csv" if as_at else "groups.csv",
                   mime="text/csv", icon=":material/download:", key="dl_compare")

points = rows.assign(position=rows["position"], highlight=rows["area_code"] == (filters.group or filters.pcn or ""))
st.subheader("Against the federation: funnel plot")
st.plotly_chart(charts.funnel_figure(points, float(fed["value"]), unit, height=420, multiplier=ind.multiplier,
                                     x_title=ind.denominator), width="stretch", key="compare_funnel")
st.caption("Each group's value against its size, around the federation's figure. Choose a group in the sidebar "
           "(Group of practices) to see every screen for its practices only.")
views.page_link("pages/quality.py", viewer.role, label="This measure practice by practice",
                icon=":material/monitoring:", query_params={"indicator": code})
