"""The evidence register on screen: counts by key question and quality statement, the documents held (overdue
reviews first), opening a stored file (through ``data_layer.evidence.open_file``, which checks the scope and audits
the opening), adding a document and recording a review.

Titles, descriptions and links people typed are shown as plain text (in tables or through ``ui.text.plain``).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from data_layer import engine as calc
from data_layer import evidence as ev
from data_layer.cqc import KEY_QUESTIONS, QUALITY_STATEMENTS
from data_layer.db import database_url
from data_layer.evidence_files import ALLOWED_WORDS, max_bytes
from data_layer.governance.actions import owner_candidates
from data_layer.policy import words
from data_layer.scope import Viewer
from ui import state
from ui.data import SCOPE_KEY, TTL
from ui.page_common import show_table
from ui.text import plain

UPLOAD_TYPES = ["pdf", "docx", "xlsx", "png", "jpg", "jpeg", "txt", "csv"]
STATUS_SHOWN = {"Review overdue": "⚠ Review overdue", "Review due soon": "◔ Review due soon", "In date": "✔ In date",
                "No review date": "– No review date", "Withdrawn": "Withdrawn"}
SHOW = ("Everything held", "Overdue for review", "Due for review within 30 days")
FLASH = "evidence_flash"


# --------------------------------------------------------------------------------------------------------------------
# Cached reads (keyed by the database, the scope and the practices chosen; never by a person)
# --------------------------------------------------------------------------------------------------------------------
@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def _items(url: str, viewer: Viewer, codes: tuple[str, ...] | None, today: date) -> pd.DataFrame:
    return ev.list_evidence(state.database(), viewer, practice_codes=codes, today=today)


@st.cache_data(hash_funcs=SCOPE_KEY, ttl=TTL, max_entries=32, show_spinner=False)
def _summary(url: str, viewer: Viewer, codes: tuple[str, ...] | None, today: date) -> pd.DataFrame:
    return ev.summary(state.database(), viewer, practice_codes=codes, today=today)


def changed() -> None:
    """After an addition or a review: the register and the overview's attention list read afresh."""
    from ui import views

    _items.clear()
    _summary.clear()
    views.attention.clear()


def chosen_practices(viewer: Viewer, filters: calc.Filters, held_for: str | None) -> tuple[str, ...] | None:
    """The practices the sidebar (or ?held_for=) chooses; None for every practice."""
    if held_for:
        return (held_for,)
    codes = None
    if filters.practice_codes or filters.pcn or filters.group:
        codes = tuple(calc.resolve_practices(state.database(), viewer, filters, state.config())) or ("-",)
    if viewer.role == "practice_lead":  # the counts beside the list are of what the list holds: their own
        codes = tuple(c for c in (codes or viewer.practice_codes) if c in viewer.practice_codes) or ("-",)
    return codes


def items(viewer: Viewer, codes) -> pd.DataFrame:
    return _items(database_url(), viewer, codes, date.today())


def summary(viewer: Viewer, codes) -> pd.DataFrame:
    return _summary(database_url(), viewer, codes, date.today())


# --------------------------------------------------------------------------------------------------------------------
# Counts (every role) and the list (everyone but viewers)
# --------------------------------------------------------------------------------------------------------------------
def headline(counts: pd.DataFrame) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Documents held", f"{int(counts['held'].sum()):,}")
    c2.metric("Overdue for review", f"{int(counts['overdue'].sum()):,}")
    c3.metric("Review due within 30 days", f"{int(counts['due_soon'].sum()):,}")
    c4.metric("Quality statements with evidence", f"{int((counts['held'] > 0).sum())} of {len(counts)}")


def counts_table(counts: pd.DataFrame) -> None:
    """Held / overdue per key question and statement: all a viewer sees of the register."""
    show_table(counts.rename(columns={"key_question": "Key question", "quality_statement": "Quality statement",
                                      "held": "Held", "overdue": "Overdue for review",
                                      "due_soon": "Due within 30 days"}),
               key="evidence_counts", wrap=True, cards=("Quality statement",))


def _table(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Document": rows["title"], "Held for": rows["where"], "Status": rows["review_status"].map(STATUS_SHOWN),
        "Review due": pd.to_datetime(rows["review_due"]), "Dated": pd.to_datetime(rows["dated"]),
        "Type": rows["type_label"], "CQC evidence category": rows["category_label"], "Owner": rows["owner_email"],
        "Held as": [f"File: {n}" if h == "file" else f"Link: {link}"
                    for h, n, link in zip(rows["held_as"], rows["file_name"], rows["link"])],
    })


DATE_COLUMNS = {"Dated": st.column_config.DateColumn(format="D MMMM YYYY"),
                "Review due": st.column_config.DateColumn(format="D MMMM YYYY"),
                "Document": st.column_config.TextColumn(width="large")}


def register_list(held: pd.DataFrame, key_question: str, show: str) -> pd.DataFrame:
    """The documents by key question and quality statement, overdue first within each. Returns what is shown."""
    shown = held
    if key_question != "All key questions":
        shown = shown[shown["key_question"] == key_question]
    if show == SHOW[1]:
        shown = shown[shown["overdue"]]
    elif show == SHOW[2]:
        shown = shown[shown["due_soon"]]
    if shown.empty:
        st.info("No documents held for this choice." if not held.empty else
                "The register is empty: no policies, risk assessments, audits or other evidence have been added for "
                "these practices yet. Add the first one above.", icon=":material/info:")
        return shown
    for kq in KEY_QUESTIONS:
        these = shown[shown["key_question"] == kq]
        if these.empty:
            continue
        overdue = int(these["overdue"].sum())
        with st.expander(f"{kq}: {len(these)} document{'s' if len(these) != 1 else ''}"
                         + (f" · ⚠ {overdue} overdue for review" if overdue else ""),
                         expanded=bool(overdue) or key_question == kq or len(shown) <= 30):
            for statement in QUALITY_STATEMENTS[kq]:
                rows = these[these["quality_statement"] == statement]
                if rows.empty:
                    continue
                late = int(rows["overdue"].sum())
                st.markdown(f"**{statement}** · {len(rows)} held" + (f" · ⚠ {late} overdue" if late else ""))
                show_table(_table(rows), key=f"evidence_{kq}_{statement}", column_config=DATE_COLUMNS, readable=True,
                           cards=("Document",))  # words wrap: every column in view inside the expander
    return shown


def _label(row) -> str:
    return f"{row['title']} · {row['where']} · dated {words.day(row['dated'])}"


def open_document(viewer: Viewer, shown: pd.DataFrame) -> None:
    """Download a stored file, or follow a link. The file is read when the button is pressed, through the checked
    function (which records the opening in the audit log)."""
    if shown.empty:
        return
    st.subheader("Open a document")
    options = shown.to_dict("records")
    pick = st.selectbox("Document", range(len(options)), format_func=lambda i: _label(options[i]), key="ev_open")
    row = options[pick]
    if row["held_as"] == "link":
        st.link_button("Open the link", row["link"], icon=":material/open_in_new:")
        st.caption("Held as a link: " + plain(row["link"]))
        return
    engine, item_id = state.database(), int(row["id"])

    def read() -> bytes:  # runs on its own thread when pressed: nothing here touches Streamlit
        return ev.open_file(engine, viewer, item_id).data

    st.download_button(f"Download {row['file_name']}", read, file_name=row["file_name"], mime=row["file_type"],
                       icon=":material/download:", on_click="ignore", key=f"ev_dl_{item_id}")
    st.caption("Opening a document is recorded in the audit log.")


# --------------------------------------------------------------------------------------------------------------------
# Adding and reviewing
# --------------------------------------------------------------------------------------------------------------------
STATEMENT_CHOICES = [f"{kq} · {s}" for kq, group in QUALITY_STATEMENTS.items() for s in group]


def _owners(viewer: Viewer) -> list[str]:
    owners = owner_candidates(state.database())
    emails = list(owners["email"])
    if viewer.email in emails:  # the person adding is the likeliest owner
        emails.remove(viewer.email)
        emails.insert(0, viewer.email)
    return emails


def add_form(viewer: Viewer) -> None:
    plist = state.practice_list(viewer)
    places = ev.editable_practices(viewer, plist["code"])
    if not places:
        return
    names = dict(zip(plist["code"], plist["display_name"]))
    # a refused upload keeps what was typed; a new form (a new key) after one that was taken
    form_key = f"ev_add_{st.session_state.get('ev_forms', 0)}"
    with st.expander("Add evidence", icon=":material/upload_file:"), st.form(form_key):
        c1, c2 = st.columns(2)
        place = c1.selectbox("Held for", places, format_func=lambda c: names.get(c, ev.FEDERATION_WORDS) if c
                             else "The whole federation (evidence for every practice)")
        statement = c2.selectbox("CQC quality statement", STATEMENT_CHOICES)
        title = st.text_input("Title", max_chars=ev.TITLE_MAX, placeholder="e.g. Fire risk assessment 2026")
        c3, c4 = st.columns(2)
        dtype = c3.selectbox("Type", list(ev.DOCUMENT_TYPES), format_func=ev.DOCUMENT_TYPES.get)
        category = c4.selectbox("CQC evidence category", ["", *ev.CATEGORIES],
                                format_func=lambda c: ev.CATEGORIES.get(c, "Usual for the type (processes for "
                                                                           "policies, risk assessments and audits)"))
        c5, c6, c7 = st.columns(3)
        owner = c5.selectbox("Owner", _owners(viewer))
        dated = c6.date_input("Dated", value=date.today(), max_value=date.today(), format="DD/MM/YYYY")
        review_due = c7.date_input("Review due (leave empty if none)", value=None, format="DD/MM/YYYY")
        upload = st.file_uploader(f"File ({ALLOWED_WORDS}; up to {max_bytes() // (1024 * 1024)} MB)",
                                  type=UPLOAD_TYPES)
        link = st.text_input("…or a link instead of a file", placeholder="https://")
        description = st.text_area("Notes (optional)", height=68)
        if st.form_submit_button("Add to the register", icon=":material/add:"):
            try:
                item_id = ev.add_evidence(
                    state.database(), viewer, title=title, quality_statement=statement.split(" · ", 1)[1],
                    document_type=dtype, evidence_category=category or None, owner_email=owner, dated=dated,
                    review_due=review_due, practice_code=place, description=description,
                    file_bytes=upload.getvalue() if upload is not None else None,
                    file_name=upload.name if upload is not None else None, link=link or None)
            except ev.EvidenceError as exc:
                st.error(plain(str(exc)), icon=":material/error:")
            else:
                changed()
                st.session_state[FLASH] = f"Added to the register: {title.strip()} (item {item_id})."
                st.session_state["ev_forms"] = st.session_state.get("ev_forms", 0) + 1
                st.rerun()


def review_form(viewer: Viewer, held: pd.DataFrame) -> None:
    """Record a review (new date and next review), a new version, a new owner, or withdraw a document."""
    mine = held[[ev.may_edit(viewer, c) for c in held["practice_code"]]] if not held.empty else held
    if mine.empty:
        return
    options = mine.sort_values(["overdue", "review_due"], ascending=[False, True]).to_dict("records")
    with st.expander("Record a review or a new version", icon=":material/event_repeat:"):
        pick = st.selectbox("Document", range(len(options)), key="ev_review_pick",
                            format_func=lambda i: ("⚠ " if options[i]["overdue"] else "") + _label(options[i]))
        row = options[pick]
        with st.form(f"ev_review_{st.session_state.get('ev_forms', 0)}"):
            c1, c2 = st.columns(2)
            dated = c1.date_input("Reviewed on (the document's new date)", value=date.today(), max_value=date.today(),
                                  format="DD/MM/YYYY")
            review_due = c2.date_input("Next review due", value=None, format="DD/MM/YYYY")
            upload = st.file_uploader("New version of the file (optional)", type=UPLOAD_TYPES)
            withdraw = st.checkbox("Withdraw it (no longer held, or replaced by another item)")
            if st.form_submit_button("Save", icon=":material/save:"):
                try:
                    if not withdraw and review_due is None and row["review_due"] is not None \
                            and not pd.isna(row["review_due"]):
                        raise ev.EvidenceError("give the date the next review is due")
                    if withdraw:
                        ev.update_evidence(state.database(), viewer, int(row["id"]), withdrawn=True)
                        done = f"Withdrawn: {row['title']}."
                    else:
                        ev.update_evidence(state.database(), viewer, int(row["id"]), dated=dated,
                                           review_due=review_due,
                                           file_bytes=upload.getvalue() if upload is not None else None,
                                           file_name=upload.name if upload is not None else None)
                        done = f"Review recorded: {row['title']}" + (
                            f", next due {words.day(review_due)}." if review_due else ".")
                except ev.EvidenceError as exc:
                    st.error(plain(str(exc)), icon=":material/error:")
                else:
                    changed()
                    st.session_state[FLASH] = done
                    st.session_state["ev_forms"] = st.session_state.get("ev_forms", 0) + 1
                    st.rerun()


# --------------------------------------------------------------------------------------------------------------------
# On the practice profile
# --------------------------------------------------------------------------------------------------------------------
def profile_section(viewer: Viewer, code: str) -> None:
    """The practice's documents (and the federation-wide ones) by key question and statement, overdue first; counts
    only for those who may not read the practice's records."""
    from ui import views

    counts = summary(viewer, (code,))
    by_kq = counts.groupby("key_question", sort=False)[["held", "overdue"]].sum()
    n = int(counts["held"].sum())
    st.caption(f"{n} document{'s' if n != 1 else ''} held for this practice and the whole federation, "
               f"{int(counts['overdue'].sum())} overdue for review: "
               + "; ".join(f"{kq} {int(r.held)}" + (f" (⚠ {int(r.overdue)} overdue)" if r.overdue else "")
                           for kq, r in by_kq.iterrows()) + ".")
    if not ev.may_read(viewer, code):
        st.caption("The documents themselves are shown to this practice's lead and the board.")
        return
    held = items(viewer, (code,))
    if held.empty:
        st.info("No policies, risk assessments, audits or other evidence held for this practice yet.",
                icon=":material/info:")
    else:
        table = _table(held)
        table.insert(0, "Quality statement", held["quality_statement"].values)
        table.insert(0, "Key question", held["key_question"].values)
        table = table.iloc[held.sort_values(["overdue"], ascending=False, kind="mergesort").index]
        show_table(table[["Key question", "Quality statement", "Document", "Status", "Review due", "Held for"]],
                   key=f"evidence_held_{code}", column_config=DATE_COLUMNS, readable=True, cards=("Document",))
    views.page_link("pages/evidence.py", viewer.role, label="Open, add or review documents in the evidence register",
                    icon=":material/folder_open:", query_params={"held_for": code})
