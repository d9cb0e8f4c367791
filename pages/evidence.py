"""Evidence register: the policies, risk assessments, audits, meeting minutes and certificates a practice (or the
federation) holds for CQC's quality statements, with owners and review dates; overdue reviews flagged, documents
opened through the checked function, added and reviewed by those who may."""
import streamlit as st

from data_layer import evidence as ev
from ui import evidence as ue
from ui.guard import page_context

viewer, filters = page_context(__file__)

st.title("Evidence register")
st.caption("What CQC's inspectors ask to see, kept in one place: each document is filed under a quality statement "
           "and one of CQC's evidence categories, with an owner, its date and when it is next reviewed. Board members "
           "and administrators see and add evidence for every practice and for the federation; a practice lead for "
           "their own practice (and sees the federation-wide documents); a viewer sees how much is held and overdue. "
           "Every addition, change and opening of a file is recorded in the audit log.")
flash = st.session_state.pop(ue.FLASH, None)
if flash:
    st.success(flash, icon=":material/check_circle:")

held_for = (st.query_params.get("held_for") or "").strip().upper() or None
if held_for and not ev.may_read(viewer, held_for) and viewer.role != "viewer":
    held_for = None  # a link to another practice's register shows the viewer's own instead
codes = ue.chosen_practices(viewer, filters, held_for if viewer.role != "viewer" else None)
counts = ue.summary(viewer, codes)
ue.headline(counts)

if not ev.may_read_items(viewer):
    st.subheader("Evidence held by key question and quality statement")
    st.caption("Counts only: the documents themselves are a practice's records, opened by board members, "
               "administrators and the practice's lead.")
    ue.counts_table(counts)
    st.stop()

ue.add_form(viewer)
held = ue.items(viewer, codes)

st.subheader("Documents held")
c1, c2 = st.columns(2)
key_question = c1.selectbox("Key question", ["All key questions", *ev.KEY_QUESTIONS], key="ev_kq")
show = c2.radio("Show", ue.SHOW, horizontal=True, key="ev_show",
                index=1 if st.query_params.get("overdue") == "1" else 0)
if held_for:
    st.caption(f"Showing {ev.FEDERATION_WORDS.lower()} documents and those of practice {held_for}.")
shown = ue.register_list(held, key_question, show)
ue.open_document(viewer, shown)
ue.review_form(viewer, held)
with st.expander("Counts by quality statement (all 34)"):
    ue.counts_table(counts)
