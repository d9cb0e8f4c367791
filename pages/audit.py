"""Audit log: sign-ins, imports, exports and user changes (administrators only), searchable and downloadable."""
import re
from datetime import date, timedelta

import streamlit as st

from data_layer import audit
from data_layer.scope import ROLE_LABELS
from ui import state
from ui.guard import page_context
from ui.page_common import show_table

viewer, filters = page_context(__file__)

st.title("Audit log")
st.caption("Every sign-in, import, export and change of user or role, newest first. The log is append-only.")

# What each event is called on screen and in the download (the log stores short codes such as "user_added")
ACTION_WORDS = {"sign_in": "Signed in", "sign_in_refused": "Sign-in refused", "import": "Import",
                "import_refused": "Import refused", "export": "Export", "user_added": "User added",
                "user_changed": "User changed", "user_removed": "User removed", "demo_built": "Demo built",
                "action_added": "Action added", "action_updated": "Action updated", "note_added": "Chart note added",
                "note_removed": "Chart note removed", "digest_sent": "Digest sent"}


def action_words(code) -> str:
    return ACTION_WORDS.get(code) or str(code).replace("_", " ").capitalize()


c1, c2, c3 = st.columns([2, 1, 2])
text = c1.text_input("Search (person, practice or detail)")
action = c2.selectbox("Action", ["All", *audit.ACTIONS], format_func=lambda a: "All" if a == "All" else
                      action_words(a))
chosen = c3.date_input("Between", value=(date.today() - timedelta(days=90), date.today()), format="DD/MM/YYYY")
since = chosen[0] if len(chosen) > 0 else None
until = chosen[1] if len(chosen) > 1 else None  # while only the first date is picked, search from it onwards

events = audit.search(state.database(), viewer, text=text.strip(), action=None if action == "All" else action,
                      since=since, until=until)
# words, never raw codes or "None": an event without a practice or detail shows an empty cell; roles by their names
# (older user events say "role practice_lead")
ROLE_CODE = re.compile(r"\b(?:role |was )(" + "|".join(ROLE_LABELS) + r")\b")
events = events.assign(action=events["action"].map(action_words),
                       practice_code=events["practice_code"].fillna(""),
                       detail=events["detail"].fillna("").map(lambda d: ROLE_CODE.sub(
                           lambda mt: mt[0][:-len(mt[1])] + ROLE_LABELS[mt[1]], d)))
if events.empty:
    st.info("No events match the search.")
else:
    show_table(events, key="audit",  # the height of its rows, room for the sideways scrollbar on a phone
               column_config={"at": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm"),
                              "actor": "Who", "action": "Action", "practice_code": "Practice",
                              "detail": "Detail"})
    st.caption(f"{len(events):,} events shown.")
st.download_button("Download these events (CSV)", audit.to_csv(events), file_name="audit_log.csv", mime="text/csv",
                   icon=":material/download:", disabled=events.empty)
