"""Who is looking: sign-in (Streamlit's OIDC, e.g. Microsoft Entra ID for NHSmail) or, on the demo database only,
a picker of demo users. Authorisation always comes from the users table (data_layer.users)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import streamlit as st

from data_layer import audit
from data_layer.scope import ROLE_LABELS, Viewer
from data_layer.users import DEMO_USERS, find_viewer
from ui.state import database
from ui.text import plain


def auth_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an [auth] section (production sign-in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _provider() -> str | None:
    """The named provider in [auth.<name>], if the secrets use one (None: the default provider keys in [auth])."""
    section = st.secrets["auth"]
    named = [k for k in section.keys() if hasattr(section[k], "keys")]
    return named[0] if named else None


def _sign_in_screen() -> None:
    st.title("Federation governance dashboard")
    st.write("Sign in with your organisation account (NHSmail) to see the federation's quality, training and "
             "patient feedback.")
    if st.button("Sign in", type="primary", icon=":material/login:"):
        provider = _provider()
        st.login(provider) if provider else st.login()


def _not_authorised_screen(email: str) -> None:
    st.title("You are signed in, but not yet given access")
    st.write(f"The account **{plain(email)}** is not on this dashboard's list of users. "
             "Please ask your federation's dashboard administrator to add you, with your role and practice.")
    st.button("Sign out", on_click=st.logout, icon=":material/logout:")


def _configure_sign_in_screen() -> None:
    st.title("Sign-in is not configured")
    st.error("This database holds a federation's real data, so the dashboard will not show it without sign-in.")
    st.markdown(
        "To turn sign-in on, copy `.streamlit/secrets.example.toml` to `.streamlit/secrets.toml`, fill in your "
        "organisation's OpenID Connect details (Microsoft Entra ID for NHSmail: client id, client secret and the "
        "tenant's `server_metadata_url`) and restart the app. Then add people with "
        "`python -m data_layer users add EMAIL --role admin|board|practice_lead|viewer`.\n\n"
        "To try the dashboard without sign-in, point it at the demo database instead "
        "(`python -m data_layer init --demo` on an empty database).")


def _screen(render) -> None:
    """Show a single screen through st.navigation (so no page of the app is registered) and stop."""
    st.navigation([st.Page(render, title="Sign in", url_path="signin", default=True)], position="hidden").run()
    st.stop()


DEMO_CHOICE = "demo_user_choice"  # the demo user chosen, kept apart from the widget's own state


def _remember_demo_choice() -> None:
    st.session_state[DEMO_CHOICE] = st.session_state.get("demo_user")
    st.query_params["as"] = st.session_state[DEMO_CHOICE]  # a shared link opens as the same demo user


def _demo_viewer() -> Viewer:
    engine = database()
    options = [email for email, *_ in DEMO_USERS]
    labels = {email: f"{ROLE_LABELS[role]} – {name.split(' (')[0]}" for email, role, _, name in DEMO_USERS}
    # The choice lives in a key of its own (and in the URL): on a server's first run Streamlit can give the picker
    # another widget id, and a choice kept only in the widget then fell back to the first option, Administrator.
    choice = st.session_state.get(DEMO_CHOICE)
    if choice not in options:
        widget, url = st.session_state.get("demo_user"), st.query_params.get("as")
        choice = widget if widget in options else url if url in options else "board@demo.invalid"
        st.session_state[DEMO_CHOICE] = choice
    st.session_state["demo_user"] = choice
    with st.sidebar:
        st.markdown('<div class="fed-banner">Demo mode: fictional data, no sign-in</div>', unsafe_allow_html=True)
        st.selectbox("View the dashboard as", options, key="demo_user", format_func=labels.get,
                     on_change=_remember_demo_choice,
                     help="Each demo user has a different role, so you can see what each role may see.")
    viewer = find_viewer(engine, st.session_state[DEMO_CHOICE])
    if viewer is None:  # demo users removed by hand: fall back to the least privileged view
        viewer = Viewer(email="viewer@demo.invalid", role="viewer", name="Demo viewer")
    return viewer


def current_viewer(demo_database: bool) -> Viewer:
    """The signed-in (or demo) viewer; draws the sign-in / refusal screen and stops when there is none."""
    if not auth_configured():
        if not demo_database:
            _screen(_configure_sign_in_screen)
        return _demo_viewer()
    if not st.user.get("is_logged_in", False):
        st.session_state.pop("viewer", None)
        _screen(_sign_in_screen)
    email = str(st.user.get("email") or "")
    viewer = find_viewer(database(), email)
    if viewer is None:
        st.session_state.pop("viewer", None)
        if st.session_state.get("_refused_audited") != email:
            audit.record(database(), email or "(no email claim)", "sign_in_refused", None, "not in the users table")
            st.session_state["_refused_audited"] = email
        _screen(lambda: _not_authorised_screen(email))
    if st.session_state.get("_sign_in_audited") != viewer.email:
        key, since = _login_key(viewer.email)
        audit.record_sign_in(database(), viewer.email, viewer.practice_codes[0] if len(viewer.practice_codes) == 1
                             else None, f"role {viewer.role}", session_key=key, since=since)
        st.session_state["_sign_in_audited"] = viewer.email
    return viewer


def _login_key(email: str) -> tuple[str, datetime | None]:
    """Which sign-in this is: a digest of the identity provider's login (its ID token's subject, issue time and
    nonce, which the sign-in cookie keeps for as long as the person stays signed in), so reloading the page or
    opening a second tab is not a new sign-in. Without those claims, the Streamlit session is the best there is."""
    claims = {k: st.user.get(k) for k in ("sub", "iat", "nonce", "auth_time")}
    if claims["iat"] is None and claims["nonce"] is None:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        claims = {"session": ctx.session_id if ctx else id(st.session_state)}
    digest = hashlib.sha256(json.dumps([email, claims], sort_keys=True, default=str).encode()).hexdigest()[:16]
    issued = claims.get("iat")
    try:
        since = datetime.fromtimestamp(float(issued), timezone.utc).replace(tzinfo=None) if issued else None
    except (TypeError, ValueError, OverflowError, OSError):
        since = None
    return digest, since


def sign_out_button() -> None:
    if auth_configured():
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
