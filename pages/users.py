"""Users: who may sign in, with which role and practices (administrators only). Every change is audited."""
import streamlit as st

from data_layer.scope import ROLE_LABELS, ROLES
from data_layer.users import UserError, list_users, remove_user, save_user
from ui import state
from ui.guard import page_context
from ui.text import plain

viewer, filters = page_context(__file__)
engine = state.database()
practices = state.practice_list(viewer)
names = dict(zip(practices["code"], practices["name"]))

st.title("Users")
st.caption("People sign in with their organisation account; this list says what each may see. "
           "Board members see every practice; practice leads see person-level data (staff names, training records, "
           "patients' comments, complaint details) only for their own practices; viewers see aggregates only.")

users = list_users(engine)
if users.empty:
    st.info("No users yet: add the first one below.")
else:
    shown = users.assign(role=users["role"].map(ROLE_LABELS))
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"email": "Email", "name": "Name", "role": "Role", "active": "Active",
                                "practices": "Practices"})

st.subheader("Add a user or change one")
with st.form("save_user", clear_on_submit=False):
    email = st.text_input("Email (their NHSmail or organisation sign-in)")
    name = st.text_input("Name (optional)")
    role = st.selectbox("Role", ROLES, format_func=ROLE_LABELS.get)
    chosen = st.multiselect("Practices (for a practice lead)", list(names), format_func=lambda c: f"{names[c]} ({c})")
    if st.form_submit_button("Save user", type="primary"):
        try:
            outcome = save_user(engine, email, role, chosen, name=name or None, actor=viewer.email)
            st.success(f"{plain(email.strip().lower())} {outcome} as {ROLE_LABELS[role]}.")
            st.rerun()
        except UserError as exc:
            st.error(f"Not saved: {plain(exc)}.")

if not users.empty:
    st.subheader("Remove a user")
    with st.form("remove_user"):
        who = st.selectbox("User", users["email"].tolist())
        sure = st.checkbox("Yes, remove this user's access")
        if st.form_submit_button("Remove user"):
            if who == viewer.email:
                st.error("You cannot remove your own access; ask another administrator.")
            elif not sure:
                st.warning("Tick the box to confirm.")
            else:
                remove_user(engine, who, actor=viewer.email)
                st.success(f"{plain(who)} removed.")
                st.rerun()
