"""Actions: what the board decided to do about what the dashboard showed, by whom and by when — raised in one
click from an attention item, a measure, a practice or a quality statement, updated by its owner, with a history."""
import streamlit as st

from ui import actions as ua
from ui.guard import page_context

viewer, filters = page_context(__file__)

st.title("Actions")
st.caption("Each action has an owner, a due date and a status (open, in progress, done or dropped), and links to what "
           "raised it. Board members and administrators act on every practice, a practice lead on their own "
           "practice's actions, an owner on their own actions; viewers read. Every change is kept in the action's "
           "history and the audit log.")
flash = st.session_state.pop("actions_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

ua.raise_form(viewer)
st.subheader("All actions")
ua.action_list(viewer, filters)
ua.action_detail(viewer)
