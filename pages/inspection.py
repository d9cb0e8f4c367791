"""Inspection pack: the evidence CQC asks for before a visit, for one practice or the whole federation over 12 months,
organised by the five key questions. Preview the summary here, then download the pack as a PDF report, an Excel
workbook or CSV files; each file is built when its button is clicked and the export is written to the audit log.
A practice lead gets their own practice only; the viewer role does not have this page."""
import pandas as pd
import streamlit as st

from ui.guard import page_context

viewer, filters = page_context(__file__)

from data_layer.exports import FORMATS, NoData, file_name  # noqa: E402
from data_layer.scope import AccessDenied  # noqa: E402
from ui import data as shared  # noqa: E402
from ui import inspection as ins  # noqa: E402
from ui import state, views  # noqa: E402
from ui.format import format_value, month_label  # noqa: E402
from ui.page_common import show_table  # noqa: E402
from ui.text import plain  # noqa: E402

practices = state.practice_list(viewer)
names = dict(zip(practices["code"], practices["name"]))

st.title("CQC inspection pack")
st.caption("Before a visit CQC gives two weeks' notice and asks for information within five working days. This pack "
           "gathers the evidence the federation already holds, by key question and quality statement, with the same "
           "figures as the board's screens.")

# --- Which practice and which 12 months ---------------------------------------------------------------------------
choices = ins.pack_choices(viewer)
if not choices:
    st.info("There is no practice whose pack you may export.", icon=":material/info:")
    st.stop()
if st.session_state.get("insp_practice") not in choices:
    chosen_in_filter = [c for c in filters.practice_codes if c in choices]
    own = [c for c in viewer.practice_codes if c in choices]
    st.session_state["insp_practice"] = (chosen_in_filter or own or choices)[0]
left, right = st.columns([3, 2])
code = left.selectbox(
    "Practice", choices, key="insp_practice",
    format_func=lambda c: f"Whole federation (all {len(practices)} practices)" if c == ins.FEDERATION
    else f"{names.get(c, c)} ({c})",
    help="A practice lead can export their own practice's pack only.")
months = ins.pack_months(ins.current_url(), code)
if not months:
    st.warning("No figures are held for this practice yet, so there is no pack to build.", icon=":material/warning:")
    st.stop()
if st.session_state.get("insp_end") not in months:
    st.session_state["insp_end"] = filters.period_end if filters.period_end in months else months[0]
end = right.selectbox("12 months up to", months, key="insp_end", format_func=month_label)

try:
    with st.spinner("Gathering the evidence…"):
        pack = ins.preview(ins.current_url(), viewer, code, end)
except NoData as exc:
    st.warning(f"Nothing to put in a pack: {plain(exc)}.", icon=":material/warning:")
    st.stop()
except AccessDenied as exc:
    st.error(f"Not available to you: {plain(exc)}.")
    st.stop()

# --- What the pack says -------------------------------------------------------------------------------------------
st.subheader(plain(pack.scope_name))
st.caption(f"{pack.period_words} · figures up to {month_label(pack.data_up_to)}"
           + (f" · training records as at {pack.training_as_of.day} {pack.training_as_of:%B %Y}"
              if pack.training_as_of else ""))
if shared.demo_database():
    st.info("Demo data: the practices, staff, patients and figures are fictional.", icon=":material/info:")
st.markdown(views.md(pack.summary_text))

evidence = [e for e in pack.evidence() if e.result.latest_value is not None]
targeted = [e for e in evidence if e.result.target is not None]
c1, c2, c3, c4 = st.columns(4)
c1.metric("✔ On target", f"{sum(e.result.rag == 'green' for e in targeted)} of {len(targeted)}", border=True)
c2.metric("▲ Near target", sum(e.result.rag == "amber" for e in targeted), border=True)
c3.metric("✖ Off target", sum(e.result.rag == "red" for e in targeted), border=True)
c4.metric("Special-cause concerns", sum(e.result.spc is not None and e.result.spc.variation.startswith("concern")
                                        for e in evidence), border=True,
          help="Measures whose latest month is a Making Data Count special-cause concern.")

# --- Download -----------------------------------------------------------------------------------------------------
with st.container(border=True):
    st.markdown("**Download the pack**")
    for col, (fmt, label, icon) in zip(st.columns(3), ins.FORMAT_BUTTONS):
        col.download_button(label, data=ins.builder(viewer, code, end, fmt), file_name=file_name(pack, fmt),
                            mime=FORMATS[fmt][1], icon=icon, key=f"insp_download_{fmt}", on_click="ignore",
                            type="primary" if fmt == "pdf" else "secondary", width="stretch")
    st.caption("Each file is built when you click its button (the PDF, with every chart, takes a few seconds) and "
               "the export is recorded in the audit log. Patients' comments, complaint summaries and significant "
               "event learning have names, phone numbers, email addresses, NHS numbers and postcodes removed in "
               "every file, and months with too few Friends and Family Test responses to show safely are not shown. The pack "
               "holds no staff names.")

# --- Preview ------------------------------------------------------------------------------------------------------
st.subheader("Preview")
by_question, ratings, before_visit, sources = st.tabs(["By key question", "CQC ratings", "Before the visit",
                                                       "Sources"])
with by_question:
    for kq in pack.key_questions:
        heading = f"{kq.name}" + (f" · CQC rating: {kq.rating}" if kq.rating else "")
        with st.expander(heading, expanded=kq.name == "Safe"):
            st.markdown(views.md(kq.overview))
            s = kq.summary.frame
            table = pd.DataFrame({
                "Measure": s["Measure"],
                "Value": [format_value(None if pd.isna(v) else float(v), u) for v, u in zip(s["Value"], s["Unit"])],
                "Target": [format_value(None if pd.isna(v) else float(v), u) for v, u in zip(s["Target"], s["Unit"])],
                "Status": s["Status"], "Variation": s["Variation"], "Assurance": s["Assurance"],
            })
            if "Federation" in s:
                table["Federation"] = [format_value(None if pd.isna(v) else float(v), u)
                                       for v, u in zip(s["Federation"], s["Unit"])]
                table["Compared with federation"] = s["Compared with federation"]
            show_table(table, key=f"insp_{kq.name}", wrap=True, cards=("Measure",))  # every column in view
            covered = [st_.name for st_ in kq.statements]
            st.caption("Quality statements with evidence in the pack: " + "; ".join(covered) + "."
                       + (" No evidence held for: " + "; ".join(kq.not_covered) + "." if kq.not_covered else ""))
with ratings:
    st.dataframe(pack.ratings.frame, hide_index=True, width="stretch",
                 column_config={"Published": st.column_config.DateColumn(format="D MMMM YYYY")})
with before_visit:
    st.caption(pack.checklist.note)
    st.dataframe(pack.checklist.frame, hide_index=True, width="stretch")
with sources:
    st.caption(pack.sources.note)
    st.dataframe(pack.sources.frame, hide_index=True, width="stretch",
                 column_config={"Imported": st.column_config.DatetimeColumn(format="D MMMM YYYY, HH:mm")})
