"""Data completeness: for every practice and dataset, the latest month received and whether it is late against the
dataset's submission deadline (federation.toml, [completeness]). A month not received reads "not received" —
never a zero."""
from datetime import date

import pandas as pd
import streamlit as st

from data_layer.governance import completeness
from ui.charts import short_practice_name
from ui.page_common import show_table
from ui import state, views
from ui.format import month_label
from ui.guard import page_context
from ui.text import plain

viewer, filters = page_context(__file__)
cfg = state.config()


@st.cache_data(ttl=state.CACHE_TTL, max_entries=8, show_spinner="Checking what every practice has sent…")
def _table(today: date) -> pd.DataFrame:
    return completeness.completeness(state.database(), cfg, today=today)


today = date.today()
st.title("Data completeness")
st.caption(f"As at {today.day} {today:%B %Y}. For each practice and dataset: the latest month received, and "
           "whether the latest month now due has arrived. A month's data is due on a working day of a later month "
           "(the Friends and Family Test: the 12th working day of the next month); deadlines are set per dataset "
           "in federation.toml. Months not received are shown as not received, never as zero.")
table = _table(today)
if table.empty:
    st.info("No practices yet: import the practice list first.", icon=":material/info:")
    st.stop()

line = completeness.late_line(table, cfg)
if line:
    st.warning(line, icon=":material/schedule:")

# --- Per dataset ------------------------------------------------------------------------------------------------
st.subheader("Each dataset")
summary = completeness.summary(table)
st.dataframe(pd.DataFrame({
    "Dataset": summary["dataset_label"],
    "Month now due": [month_label(d) for d in summary["expected_month"]],
    "Due by": [f"{d.day} {d:%B %Y}" for d in summary["due_on"]],
    "Practices late": [f"{int(n)} of {int(p)}" for n, p in zip(summary["late"], summary["practices"])],
}), hide_index=True, width="stretch", height=35 * (len(summary) + 1) + 3)

# --- Late practices -----------------------------------------------------------------------------------------------
st.subheader("Late")
late = table[table["late"]]
if late.empty:
    st.success("Every practice has sent every dataset that is due.", icon=":material/check_circle:")
else:
    show_table(pd.DataFrame({
        "Practice": late["practice_name"] + " (" + late["practice_code"] + ")",
        "Dataset": late["dataset_label"],
        "Latest month received": [month_label(d) if d is not None and not pd.isna(d) else "Nothing received"
                                  for d in late["latest_month"]],
        "Months behind": [str(int(n)) if not pd.isna(n) else "Not received" for n in late["months_behind"]],
        "Status": late["status"],
    }), key="late", wrap=True, cards=("Practice",))

# --- Every practice × dataset ---------------------------------------------------------------------------------------
st.subheader("Every practice")
labels = dict(zip(summary["dataset"], summary["dataset_label"]))
wide = table.assign(cell=[("✖ " if late_ else "✔ ") + (month_label(d) if d is not None and not pd.isna(d)
                                                        else "Nothing received")
                          for d, late_ in zip(table["latest_month"], table["late"])])
grid = wide.pivot_table(index=["practice_name", "practice_code"], columns="dataset", values="cell",
                        aggfunc="first", sort=False)
grid = grid.reindex(columns=list(labels)).rename(columns=labels).reset_index().rename(
    columns={"practice_name": "Practice", "practice_code": "Code"})
st.caption("Each cell: the latest month received; ✖ late, ✔ on time.")
if len(grid) <= len(labels):
    # a few practices: one row per dataset and one column per practice (the datasets outnumber the practices)
    by_dataset = grid.drop(columns="Code").set_index("Practice").T.rename_axis("Dataset").reset_index()
    shorts = [short_practice_name(str(c)) for c in grid["Practice"]]
    # a short name two practices share (an ICB has several "Park" surgeries) keeps its code, so no two columns clash
    by_dataset.columns = ["Dataset", *(s if shorts.count(s) == 1 else f"{s} ({code})"
                                       for s, code in zip(shorts, grid["Code"]))]
    cards = ("Dataset",)
else:  # an ICB's practices: one row each, the datasets across
    by_dataset, cards = grid, ("Practice", "Code")
show_table(by_dataset, key="completeness_grid", readable=True, cards=cards)
st.download_button("Download data completeness (CSV)", lambda: views.csv_bytes(table.drop(columns=["dataset"]).assign(
    latest_month=[month_label(d) if d is not None and not pd.isna(d) else "Nothing received"
                  for d in table["latest_month"]])), file_name=f"data_completeness_{today:%Y_%m_%d}.csv",
                   mime="text/csv", icon=":material/download:", key="dl_completeness")
st.caption(plain("Datasets: " + "; ".join(labels.values()) + "."))
