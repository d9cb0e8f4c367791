"""Is the database fit to show? Checked by the entry point on every run, before anything reads data.

* The database cannot be reached (server down, wrong address, database dropped): a plain "not reachable, try again"
  screen. The details (which name the host, port and database) go to the server's log only.
* The schema is not at the newest revision: a plain screen naming the command to run (``db upgrade``). The app never
  migrates, except that a brand-new database with no tables at all is created at the newest revision on the first
  start without sign-in (the quick start that builds the demo federation).
* A fault in the middle of a page (the database went away, or was re-created empty, while the page ran): the same
  screens, never a traceback; the shared engine is dropped so the next run connects afresh (no restart needed).
"""
from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from data_layer.db import (INIT_COMMAND, UPGRADE_COMMAND, SchemaError, SchemaState, create_if_new, database_url,
                           forget_engine, schema_state, shared_engine)

log = logging.getLogger("federation.database")

UNREACHABLE_TITLE = "The database is not reachable"
UNREACHABLE_TEXT = ("The database is not reachable — try again in a moment. If this goes on, tell your dashboard "
                    "administrator (the details are in the server's log).")


def _screen(title: str, render) -> None:
    """One plain screen instead of the app (through st.navigation, so no page of the app is registered), then stop."""
    def page() -> None:
        st.title(title)
        render()

    st.navigation([st.Page(page, title=title, url_path="unavailable", default=True)], position="hidden").run()
    st.stop()


def unreachable_screen() -> None:
    def render() -> None:
        st.error(UNREACHABLE_TEXT, icon=":material/cloud_off:")
        st.button("Try again", type="primary", icon=":material/refresh:")

    _screen(UNREACHABLE_TITLE, render)


def schema_screen(state: SchemaState) -> None:
    titles = {"new": "The database is empty", "behind": "The database needs upgrading",
              "ahead": "The database is newer than this dashboard", "unversioned": "This is not the dashboard's database"}

    def render() -> None:
        if state.status == "new":
            st.warning("The database has no tables yet, so there is nothing to show.", icon=":material/database:")
            st.markdown(f"An administrator creates the schema with `{UPGRADE_COMMAND}` on the server (or builds the "
                        f"fictional demo federation with `{INIT_COMMAND} --demo`), then imports the federation's "
                        "data. This page opens the dashboard as soon as that is done.")
        elif state.status == "behind":
            st.warning("This version of the dashboard needs a newer database schema than the database has.",
                       icon=":material/upgrade:")
            st.markdown(f"An administrator upgrades it with `{UPGRADE_COMMAND}` on the server (once, for all app "
                        f"servers; back the database up first). Schema revision {state.revision}, this version needs "
                        f"{state.head}.")
        else:
            st.warning(state.message, icon=":material/error:")
        st.button("Try again", type="primary", icon=":material/refresh:")

    _screen(titles.get(state.status, "The database is not ready"), render)


def _fault(exc: BaseException, where: str) -> None:
    log.error("database fault %s", where, exc_info=exc)
    forget_engine(database_url())


def check_database(first_start: bool) -> None:
    """Run before anything reads data: stops with a plain screen unless the database is reachable and at the newest
    schema revision. ``first_start`` (no sign-in configured: the demo quick start) creates the schema on a brand-new
    database."""
    try:
        engine = shared_engine(database_url())
        state = schema_state(engine)
        if state.status == "new" and first_start:
            create_if_new(engine)
            state = schema_state(engine)
    except DBAPIError as exc:
        _fault(exc, "while checking the schema")
        unreachable_screen()
        return
    if not state.ok:
        log.warning("database schema not usable: %s", state.message)
        forget_engine(database_url())  # when it is upgraded, the next run checks afresh
        schema_screen(state)


def is_database_fault(exc: BaseException) -> bool:
    return isinstance(exc, (DBAPIError, SchemaError))


def on_fault(exc: BaseException, navigation_drawn: bool) -> None:
    """A database error escaped from the app while it ran: log it, find out why and show the plain screen. Re-raises
    errors that are not the database's fault (a bug, to be seen as one)."""
    if isinstance(exc, SchemaError):
        state = exc.state
    else:
        _fault(exc, "while drawing a page")
        try:
            state = schema_state(shared_engine(database_url()))
        except DBAPIError as again:
            log.error("database still not reachable", exc_info=again)
            state = None
        if state is not None and state.ok and not isinstance(exc, (OperationalError, InterfaceError)):
            raise exc  # the database is there and up to date: a genuine error in a query
    if navigation_drawn:  # a page had started: say it in place, under whatever it drew
        if state is None or state.ok:
            st.error(UNREACHABLE_TEXT, icon=":material/cloud_off:")
        else:
            st.error(state.message, icon=":material/database:")
        st.stop()
    if state is None or state.ok:
        unreachable_screen()
    schema_screen(state)
