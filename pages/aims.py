"""Aims and objectives: one section per aim of the federation — what it says in plain words, then each of its
measures over time against its target, as a Making Data Count control chart."""
import pandas as pd
import streamlit as st

from data_layer.policy import status
from data_layer.views import aim_summary
from ui import charts, data, mdc_icons, state, views
from ui.guard import page_context
from ui.page_common import show_table
from ui.text import plain
from ui.format import describe_filters, format_value, month_label

viewer, filters = page_context(__file__)
cfg = state.config()
practices = state.practice_list(viewer)
where = views.overall_label(filters)

st.title("Aims and objectives")
st.caption(plain(describe_filters(filters, practices)))
if cfg.mission:
    st.markdown(f"*{views.md(cfg.mission)}*")

results = data.kpi_results(viewer, filters)
if all(r.latest_value is None and not r.suppressed for r in results.values()):
    st.info("No data for the chosen practices and period: clear the practice filter or pick another period.",
            icon=":material/info:")
    st.stop()

# --- All aims at a glance ------------------------------------------------------------------------------------------
glance = []
for i, aim in enumerate(cfg.aims, start=1):
    res = [results[k.indicator] for k in aim.kpis]
    tally = status.tally_counts(r.rag for r in res)
    glance.append({
        "Aim": f"{i}. {aim.title}",
        "Measures": len(res),
        "✔ On target": tally["on"],
        "▲ Near": tally["near"],
        "✖ Off": tally["off"],
        "Monitored, no target": sum(k.monitored for k in aim.kpis),
        "Too few to judge": sum(r.judgement == status.TOO_FEW for r in res),
        "Improving": sum(r.variation.startswith("improvement") for r in res),
        "Concern": sum(r.variation.startswith("concern") for r in res),
    })
glance = pd.DataFrame(glance)
st.subheader("At a glance")
st.caption("How many of each aim's measures meet their targets, and how many show special-cause improvement or "
           "concern in the latest month (Making Data Count).")
# in HTML so the aims and the headings wrap to any width (cards on a phone); the sortable table folded under it
show_table(glance, key="glance", readable=True, cards=("Aim",))
st.download_button("Download (CSV)", lambda: views.csv_bytes(glance), file_name="aims_at_a_glance.csv", mime="text/csv",
                   icon=":material/download:", key="dl_glance")

st.caption(f"Each chart is a Making Data Count control chart of the {where.lower() if where == 'Federation' else plain(where)} "
           "figure: dashed lines are the process limits, the dotted red line the target. A special cause is a point "
           f"outside the limits, a shift or trend of {cfg.thresholds.spc_run_length} points in a row, or 2 of 3 points "
           "near a limit: blue circles improvement, orange diamonds concern.")
titles = {aim.id: f"{i}. {aim.title}" for i, aim in enumerate(cfg.aims, start=1)}
# One aim at a time (the page answers in one screen); every aim on one page is there for printing.
show = st.selectbox("Show the charts of", [*titles, "all"], key="aims_show",
                    format_func=lambda a: "Every aim (long)" if a == "all" else titles[a])

# --- One section per aim --------------------------------------------------------------------------------------------
for i, aim in enumerate(cfg.aims, start=1):
    if show not in ("all", aim.id):
        continue
    st.divider()
    st.markdown(f"### {i}. {views.md(aim.title)}")
    if aim.summary:
        st.caption(aim.summary)
    with st.container(border=True):
        st.markdown(f"**In plain words.** {views.md(aim_summary(cfg, aim.id, results))}")
    behind = []
    cols = st.columns(2)
    for j, kpi in enumerate(aim.kpis):
        res = results[kpi.indicator]
        ind = res.indicator
        with cols[j % 2]:
            st.plotly_chart(views.spc_chart(viewer, filters, ind.code, ind.name, 300), width="stretch",
                            key=f"aim_{aim.id}_{ind.code}")
            value = res.judgement_text if res.suppressed else format_value(res.latest_value, ind.unit)
            target = (f"target {format_value(res.target, ind.unit)}" if res.target is not None
                      else "monitored, no target" if kpi.monitored else "no target")
            st.markdown(f"**{value}** in {month_label(res.latest_period)} · {target} · **{res.status_text}**")
            mdc_icons.show(res, small=True)
            st.caption(charts.spc_caption(res, rules=False))
        table = charts.spc_table(res)
        table.insert(0, "Measure", ind.name)
        behind.append(table)
    views.data_behind(pd.concat(behind, ignore_index=True) if behind else pd.DataFrame(),
                      f"aim_{i}_{aim.id}.csv", f"aim_{aim.id}", label="Data behind these charts")
