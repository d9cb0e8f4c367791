"""Actions on screen: the Actions page's parts, a one-click "Raise an action" link for any item that can raise one,
and a panel of overdue and due-soon actions for the overview, the practice profile and each measure.

Text people typed (titles, descriptions, comments, emails) is shown as plain text: in tables, or escaped through
``ui.text.plain`` — never as Markdown.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from data_layer.config import QUALITY_STATEMENTS, FederationConfig
from data_layer.engine import Filters
from data_layer.governance import actions as act
from data_layer.governance import meetings
from data_layer.policy import words
from data_layer.scope import Viewer
from data_layer.users import list_users
from ui import state, views
from ui.text import plain

PAGE = "pages/actions.py"
# Query parameters that fill in the "Raise an action" form. The practice and PCN use their own names: ?practice= and
# ?pcn= are the sidebar filters, which the entry point rewrites before the page runs.
PREFILL = {"indicator": "indicator_code", "action_practice": "practice_code", "statement": "quality_statement",
           "attention": "attention_key", "action_pcn": "pcn", "aim": "aim_id", "title": "title"}
DEFAULT_DUE_DAYS = 28
NONE = "—"


def _plain(text) -> None:
    """Show text a person typed, as plain text."""
    st.markdown(plain(str(text)))


# --------------------------------------------------------------------------------------------------------------------
# Links and panels other pages place
# --------------------------------------------------------------------------------------------------------------------
def raise_action_link(indicator: str | None = None, practice: str | None = None, statement: str | None = None,
                      attention: str | None = None, pcn: str | None = None, aim: str | None = None,
                      title: str | None = None, label: str = "Raise an action") -> None:
    """A link to the Actions page with the new action's links filled in. Shown only to people who may raise an
    action there (a practice lead: on their own practice; viewers never)."""
    viewer: Viewer | None = st.session_state.get("viewer")
    if viewer is None or not act.may_raise(viewer, practice):
        return
    values = {"indicator": indicator, "action_practice": practice, "statement": statement, "attention": attention,
              "action_pcn": pcn, "aim": aim, "title": title}
    views.page_link(PAGE, viewer.role, label=label, icon=":material/add_task:",
                    query_params={k: str(v) for k, v in values.items() if v},
                    help="Open the Actions page with a new action linked to this item")


def _practice_names(viewer: Viewer) -> dict[str, str]:
    plist = state.practice_list(viewer)
    return dict(zip(plist["code"], plist["display_name"]))


def _indicator_names(cfg: FederationConfig) -> dict[str, str]:
    return {i.code: i.name for i in cfg.indicators}


def _when(row, today: date) -> str:
    if row["status"] in act.CLOSED:
        return row["status_label"]
    days = (row["due_on"] - today).days
    if days < 0:
        return f"Overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "Due today"
    return f"Due in {days} day{'s' if days != 1 else ''}"


def display_table(df: pd.DataFrame, cfg: FederationConfig, names: dict[str, str], today: date | None = None
                  ) -> pd.DataFrame:
    """Actions as a reader sees them: words, not codes."""
    today = today or date.today()
    inds = _indicator_names(cfg)
    if df.empty:
        return pd.DataFrame(columns=["ID", "Title", "Status", "When", "Due", "Owner", "Practice", "Measure",
                                     "Quality statement"])
    return pd.DataFrame({
        "ID": df["id"].astype(int),
        "Title": df["title"],
        "Status": df["status_label"],
        "When": [_when(r, today) for r in df.to_dict("records")],
        "Due": df["due_on"],
        "Owner": df["owner_email"],
        "Practice": [names.get(c, c) if c else NONE for c in df["practice_code"]],
        "Measure": [inds.get(c, c) if c else NONE for c in df["indicator_code"]],
        "Quality statement": [s or NONE for s in df["quality_statement"]],
    })


def _codes_in_scope(viewer: Viewer, filters: Filters) -> tuple[str, ...] | None:
    if filters.practice_codes:
        return tuple(filters.practice_codes)
    if filters.pcn:
        plist = state.practice_list(viewer)
        return tuple(plist.loc[plist["pcn"] == filters.pcn, "code"])
    return None


def due_window(cfg: FederationConfig, today: date, soon_days: int | None = None) -> tuple[int, str]:
    """How many days ahead "due soon" reaches, and its words: up to the next board meeting when the federation config
    sets meetings ([governance] in federation.toml), else ``act.DUE_SOON_DAYS`` days."""
    if soon_days is None:
        meet = meetings.meetings(cfg, today)
        if meet.next_known:
            return (meet.next - today).days, f"due before the next board meeting ({meetings.day_words(meet.next)})"
        soon_days = act.DUE_SOON_DAYS
    return soon_days, f"due in the next {soon_days} days"


def actions_panel(viewer: Viewer, filters: Filters, indicator: str | None = None, practice: str | None = None,
                  soon_days: int | None = None) -> pd.DataFrame:
    """Open actions that are overdue or due soon (before the next board meeting, or within ``soon_days`` days) for
    the chosen practices, or for one measure or one practice, overdue first, with a link to every action. Returns
    the rows shown."""
    cfg = state.config()
    soon_days, soon_words = due_window(cfg, date.today(), soon_days)
    due = act.due_actions(state.database(), viewer, practice_codes=None if practice else _codes_in_scope(viewer, filters),
                          indicator_code=indicator, practice_code=practice, soon_days=soon_days)
    overdue = int(due["overdue"].sum())
    st.markdown(f"**Actions overdue or {soon_words}** · {overdue} overdue, "
                f"{len(due) - overdue} due soon")
    if due.empty:
        st.caption("No open action is overdue or due soon" + (" on this measure" if indicator else "")
                   + (" for this practice" if practice else "") + ".")
    else:
        table = display_table(due, cfg, _practice_names(viewer))
        st.dataframe(table.drop(columns=["Status"]), hide_index=True, width="stretch",
                     height=min(36 * (len(table) + 1) + 2, 300))
    query = {k: v for k, v in {"indicator": indicator, "action_practice": practice}.items() if v}
    views.page_link(PAGE, viewer.role, label="Every action", icon=":material/task_alt:", query_params=query or None)
    return due


# --------------------------------------------------------------------------------------------------------------------
# The Actions page
# --------------------------------------------------------------------------------------------------------------------
def _prefill() -> dict[str, str]:
    return {field: st.query_params.get(param) for param, field in PREFILL.items() if st.query_params.get(param)}


def _index(options: list, value) -> int:
    return options.index(value) if value in options else 0


def raise_form(viewer: Viewer) -> None:
    """The form that raises an action, its links filled in from the page's query parameters."""
    cfg = state.config()
    engine = state.database()
    prefill = _prefill()
    if viewer.role == "viewer":
        st.caption("Viewers read actions; a board member, administrator or practice lead raises and updates them.")
        return
    names = _practice_names(viewer)
    if viewer.role == "practice_lead":
        practice_options = [c for c in viewer.practice_codes if c in names] or list(viewer.practice_codes)
    else:
        practice_options = [None, *names]
    wanted_practice = (prefill.get("practice_code") or "").upper() or None
    with st.expander("Raise an action", expanded=bool(prefill), icon=":material/add_task:"):
        if wanted_practice and wanted_practice not in practice_options:
            st.warning(f"You may raise actions only on your own practice ({plain(', '.join(viewer.practice_codes))}); "
                       f"this one was for {plain(names.get(wanted_practice, wanted_practice))}.",
                       icon=":material/block:")
        owners = act.owner_candidates(engine)
        users = list_users(engine)
        owner_names = dict(zip(users["email"], users["name"]))
        owner_options = list(owners["email"])
        if not owner_options:
            st.info("No user can own an action yet: add board members or practice leads on the Users page.")
            return
        inds = _indicator_names(cfg)
        indicator_options = [None, *inds]
        statements = [None, *act.ALL_STATEMENTS]
        plist = state.practice_list(viewer)
        pcns = [None, *sorted(plist["pcn"].dropna().unique())]
        aims = {a.id: a.title for a in cfg.aims}
        key = "raise_" + str(abs(hash(tuple(sorted(prefill.items())))))
        with st.form(key, clear_on_submit=False, enter_to_submit=False):
            title = st.text_input("Title", value=prefill.get("title", ""), max_chars=act.TITLE_MAX,
                                  placeholder="What will be done, in a few words")
            description = st.text_area("Description (optional)", placeholder="Why, and what done looks like")
            c1, c2 = st.columns(2)
            owner = c1.selectbox("Owner", owner_options, index=_index(owner_options, viewer.email),
                                 format_func=lambda e: f"{owner_names.get(e) or e} ({e})")
            due = c2.date_input("Due", value=date.today() + timedelta(days=DEFAULT_DUE_DAYS), min_value=date.today(),
                                format="YYYY-MM-DD")
            practice = c1.selectbox("Practice", practice_options, index=_index(practice_options, wanted_practice),
                                    format_func=lambda c: "No single practice" if c is None else
                                    f"{names.get(c, c)} ({c})")
            indicator = c2.selectbox("Measure", indicator_options,
                                     index=_index(indicator_options, (prefill.get("indicator_code") or "").upper()),
                                     format_func=lambda c: NONE if c is None else inds[c])
            wanted_statement = next((s for s in act.ALL_STATEMENTS
                                     if s.lower() == (prefill.get("quality_statement") or "").lower()), None)
            statement = c1.selectbox("CQC quality statement", statements, index=_index(statements, wanted_statement),
                                     format_func=lambda s: NONE if s is None else
                                     f"{s} ({next(k for k, v in QUALITY_STATEMENTS.items() if s in v)})")
            pcn = c2.selectbox("PCN", pcns, index=_index(pcns, prefill.get("pcn")),
                               format_func=lambda p: NONE if p is None else p)
            aim_options = [None, *aims]
            aim = c1.selectbox("Aim", aim_options, index=_index(aim_options, prefill.get("aim_id")),
                               format_func=lambda a: NONE if a is None else aims[a])
            attention = c2.text_input("Raised from (attention item)", value=prefill.get("attention_key", ""),
                                      help="Filled in when the action is raised from a 'what needs attention' item")
            submitted = st.form_submit_button("Raise the action", type="primary", icon=":material/add_task:")
        if submitted:
            try:
                action_id = act.add_action(engine, viewer, cfg, title=title, owner_email=owner, due_on=due,
                                           description=description, practice_code=practice, indicator_code=indicator,
                                           quality_statement=statement, pcn=pcn, aim_id=aim, attention_key=attention)
            except act.ActionError as exc:
                st.error(f"The action was not raised: {plain(exc)}.", icon=":material/error:")
                return
            st.session_state["actions_flash"] = f"Action {action_id} raised and assigned to {plain(owner)}."
            st.session_state["actions_pick"] = action_id
            for param in PREFILL:
                if param in st.query_params:
                    del st.query_params[param]
            st.rerun()


def action_list(viewer: Viewer, filters: Filters) -> pd.DataFrame:
    """Filters (status, practice, overdue) and the table of actions; returns the actions shown."""
    cfg = state.config()
    names = _practice_names(viewer)
    c1, c2, c3 = st.columns([2, 2, 1])
    statuses = c1.multiselect("Status", list(act.STATUSES), default=["open", "in_progress"],
                              format_func=act.STATUS_LABELS.get, key="actions_status")
    everyone = act.list_actions(state.database(), viewer)
    practice_options = [None, *sorted({c for c in everyone["practice_code"] if c})]
    wanted = (st.query_params.get("action_practice") or "").upper() or None
    if "actions_practice" not in st.session_state and wanted in practice_options:
        st.session_state["actions_practice"] = wanted
    practice = c2.selectbox("Actions on practice", practice_options, key="actions_practice",
                            format_func=lambda c: "All practices" if c is None else f"{names.get(c, c)} ({c})")
    c3.write("")
    overdue_only = c3.checkbox("Overdue only", key="actions_overdue")
    df = act.list_actions(state.database(), viewer, status=statuses or None, practice_code=practice,
                          practice_codes=None if practice else _codes_in_scope(viewer, filters),
                          overdue=True if overdue_only else None)
    n_overdue = int(df["overdue"].sum())
    st.caption(f"{len(df)} action{'s' if len(df) != 1 else ''} shown, {n_overdue} overdue. Overdue means due before "
               "today and neither done nor dropped."
               + (" The sidebar's practice filter applies: actions on those practices and on no single practice."
                  if _codes_in_scope(viewer, filters) and not practice else ""))
    table = display_table(df, cfg, names)
    if df.empty:
        st.info("No actions match these filters." if len(everyone) else "No actions yet.", icon=":material/info:")
    else:
        st.dataframe(table, hide_index=True, width="stretch", height=min(36 * (len(table) + 1) + 2, 520),
                     column_config={"Title": st.column_config.TextColumn(width="large"),
                                    "Due": st.column_config.DateColumn(format="YYYY-MM-DD")})
        st.download_button("Download (CSV)", views.csv_bytes(table), file_name="actions.csv", mime="text/csv",
                           icon=":material/download:", key="dl_actions")
    return df


def action_detail(viewer: Viewer) -> None:
    """One action: what it links to, its history, and (for its owner, the board and admins) an update form."""
    cfg = state.config()
    engine = state.database()
    everyone = act.list_actions(engine, viewer)
    if everyone.empty:
        return
    titles = dict(zip(everyone["id"].astype(int), everyone["title"]))
    ids = list(titles)
    wanted = st.query_params.get("action")
    if st.session_state.get("actions_pick") not in ids:
        st.session_state["actions_pick"] = int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else ids[0]
    st.subheader("An action in detail")
    pick = st.selectbox("Action", ids, key="actions_pick", format_func=lambda i: f"{i}: {titles[i]}")
    a = act.get_action(engine, viewer, pick)
    if a is None:
        return
    names = _practice_names(viewer)
    inds = _indicator_names(cfg)
    aims = {x.id: x.title for x in cfg.aims}
    with st.container(border=True):
        _plain(a["title"])
        st.markdown(f"**{a['status_label']}** · {plain(_when(a, date.today()))} · due {words.day(a['due_on'])} · "
                    f"owner {plain(a['owner_email'])} · raised by {plain(a['created_by'])} on "
                    f"{words.day(a['created_at'])}")
        if a["description"]:
            _plain(a["description"])
        links = [(label, value) for label, value in (
            ("Measure", inds.get(a["indicator_code"], a["indicator_code"]) if a["indicator_code"] else None),
            ("Practice", f"{names.get(a['practice_code'], a['practice_code'])} ({a['practice_code']})"
             if a["practice_code"] else None),
            ("PCN", a["pcn"]), ("CQC quality statement", a["quality_statement"]),
            ("Aim", aims.get(a["aim_id"], a["aim_id"]) if a["aim_id"] else None),
            ("Raised from", a["attention_key"])) if value]
        if links:
            st.dataframe(pd.DataFrame(links, columns=["Linked to", ""]), hide_index=True)
        if a["indicator_code"]:
            views.page_link("pages/quality.py", viewer.role, label="Open the measure", icon=":material/monitoring:",
                            query_params={"indicator": a["indicator_code"]})
        if a["practice_code"] and a["practice_code"] in names:
            views.page_link("pages/practice.py", viewer.role, label="Open the practice profile",
                            icon=":material/local_hospital:", query_params={"profile": a["practice_code"]})
    if act.may_update(viewer, a):
        with st.form(f"update_{pick}", clear_on_submit=True, enter_to_submit=False):
            st.markdown("**Update this action**")
            status = st.selectbox("Status", list(act.STATUSES), index=list(act.STATUSES).index(a["status"]),
                                  format_func=act.STATUS_LABELS.get)
            comment = st.text_area("Comment", placeholder="What was done, or why the status changed")
            saved = st.form_submit_button("Save the update", icon=":material/save:")
        if saved:
            try:
                changes = act.update_action(engine, viewer, pick, status=status, comment=comment)
            except act.ActionError as exc:
                st.error(f"Not saved: {plain(exc)}.", icon=":material/error:")
            else:
                st.session_state["actions_flash"] = (f"Action {pick} updated: "
                                                     + plain(act.describe_changes(changes) or "comment added") + ".")
                st.rerun()
    elif viewer.role != "viewer":
        st.caption("Only the action's owner, a board member, an administrator or a lead of its practice may update it.")
    st.markdown("**History**")
    hist = act.history(engine, viewer, pick)
    st.dataframe(hist.rename(columns={"at": "When (UTC)", "by": "By", "what_changed": "What changed",
                                      "comment": "Comment"}), hide_index=True, width="stretch",
                 column_config={"When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
