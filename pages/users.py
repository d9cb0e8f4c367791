"""Users: who may sign in, with which role and practices (administrators only). Every change is audited."""
import streamlit as st

from data_layer.scope import ROLE_LABELS, ROLES
from data_layer.users import UserError, list_users, remove_user, save_user
from ui import state
from ui.guard import page_context
from ui.page_common import show_table
from ui.text import plain

viewer, filters = page_context(__file__)
engine = state.database()
practices = state.practice_list(viewer)
names = dict(zip(practices["code"], practices["name"]))

st.title("Users")
st.caption("People sign in with their organisation account; this list says what each may see. "
           "Board members see every practice; practice leads see person-level data (staff names, training records, "
           "patients' comments, complaint details) only for their own practices; viewers see aggregates only.")

flash = st.session_state.pop("users_flash", None)
if flash:
    st.success(plain(flash), icon=":material/check_circle:")

users = list_users(engine)
if users.empty:
    st.info("No users yet: add the first one below.")
else:
    shown = users.assign(role=users["role"].map(ROLE_LABELS))
    show_table(shown, key="users",  # the height of its rows, room for the sideways scrollbar on a phone
               column_config={"email": "Email", "name": "Name", "role": "Role", "active": "Active",
                              "practices": "Practices"})

st.subheader("Add a user or change one")
with st.form("save_user", clear_on_submit=False):
    email = st.text_input("Email (their NHSmail or organisation sign-in)")
    name = st.text_input("Name (optional)")
    # no role chosen for you: the first in the list is Administrator, the riskiest default there is
    role = st.selectbox("Role", ROLES, index=None, placeholder="Choose a role", format_func=ROLE_LABELS.get)
    chosen = st.multiselect("Practices (for a practice lead)", list(names), format_func=lambda c: f"{names[c]} ({c})")
    if st.form_submit_button("Save user", type="primary"):
        try:
            if role is None:
                raise UserError("choose a role")
            outcome = save_user(engine, email, role, chosen, name=name or None, actor=viewer.email)
            st.session_state["users_flash"] = f"{email.strip().lower()} {outcome} as {ROLE_LABELS[role]}."
            st.rerun()
        except UserError as exc:
            st.error(f"Not saved: {plain(exc)}.")


def _forget_removal() -> None:
    st.session_state.pop("remove_pending", None)


# The dialog stays open across reruns until it is answered or closed (the user it asks about is kept in the session)
@st.dialog("Remove this user's access?", on_dismiss=_forget_removal)
def confirm_remove(email: str, role_label: str) -> None:
    st.markdown(f"**{plain(email)}** ({role_label}) will no longer be able to sign in. Their past actions stay in "
                "the audit log; you can add them again later.")
    c1, c2 = st.columns(2)
    if c1.button("Remove access", type="primary", key="remove_confirmed", width="stretch"):
        remove_user(engine, email, actor=viewer.email)
        st.session_state["users_flash"] = f"{email} removed."
        st.session_state.pop("remove_who", None)  # they are no longer in the list
        _forget_removal()
        st.rerun()
    if c2.button("Cancel", key="remove_cancelled", width="stretch"):
        _forget_removal()
        st.rerun()


others = users[users["email"] != viewer.email] if not users.empty else users
if not users.empty:
    st.subheader("Remove a user")
    if others.empty:
        st.caption("You are the only user. You cannot remove your own access; ask another administrator.")
    else:
        roles_of = dict(zip(others["email"], others["role"]))
        # nobody chosen for you, and never yourself: you cannot remove your own access
        who = st.selectbox("User", others["email"].tolist(), index=None, placeholder="Choose a user",
                           key="remove_who")
        if st.button("Remove user…", disabled=who is None, key="remove_user"):
            st.session_state["remove_pending"] = who
        pending = st.session_state.get("remove_pending")
        if pending in roles_of:
            confirm_remove(pending, ROLE_LABELS.get(roles_of[pending], roles_of[pending]))
