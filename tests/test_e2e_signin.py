"""Sign-in end to end in Chromium against a local OpenID Connect provider (oidc-provider-mock on 127.0.0.1):
sign in, see the pages for that role, sign out; an unknown email sees the 'ask your administrator' screen."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from data_layer import models as m
from data_layer.db import get_engine
from tests.e2e_util import assert_no_exception, browser, needs_chromium, streamlit_server, wait_idle

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def oidc_app(demo_url, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("the sign-in flow does not depend on the database backend")
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        issuer = f"http://localhost:{server.server_port}"
        secrets = tmp_path / "secrets.toml"

        from tests.e2e_util import free_port

        port = free_port()
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "test-cookie-secret-0123456789abcdef"\n'
            'client_id = "federation-dashboard"\n'
            'client_secret = "not-so-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
            encoding="utf-8")
        with streamlit_server(demo_url, ("--secrets.files", str(secrets)), port=port) as base:
            yield base


def _sign_in(page, base, email):
    page.goto(base + "/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*|.*authorize.*"), timeout=30_000)
    page.fill('input[name="sub"]', email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/.*"), timeout=30_000)
    wait_idle(page)


def test_sign_in_see_role_pages_and_sign_out(oidc_app, demo_url):
    base = oidc_app
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base + "/")
        wait_idle(page)
        assert page.get_by_role("button", name="Sign in").is_visible()
        assert page.locator("text=Headline measures").count() == 0  # nothing shown before sign-in

        _sign_in(page, base, "lead@demo.invalid")
        # a practice lead lands on their own practice's profile (issue 15), the federation beside it
        page.wait_for_selector("text=Your practice's profile", timeout=60_000)
        assert_no_exception(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert "Practice lead" in sidebar.inner_text()
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Overview" in nav and "Users" not in nav and "Audit log" not in nav and "Import data" not in nav

        page.goto(base + "/users")  # not registered for a practice lead: falls back, never shows the page
        wait_idle(page)
        assert page.get_by_role("dialog").filter(has_text="Page not found").is_visible()
        assert page.locator("h1:has-text('Users')").count() == 0
        page.keyboard.press("Escape")

        page.get_by_role("button", name="Sign out").click()
        # Streamlit signs out of the app and asks the provider to end its session too (the provider confirms).
        page.wait_for_url(re.compile(r".*end_session.*"), timeout=30_000)
        page.get_by_role("button", name="End session").click()
        page.goto(base + "/")
        page.wait_for_selector("button:has-text('Sign in')", timeout=30_000)
        assert page.locator("text=Headline measures").count() == 0

    with get_engine(demo_url).connect() as conn:
        actions = conn.execute(select(m.AuditEvent.action).where(m.AuditEvent.actor == "lead@demo.invalid")).scalars()
        assert "sign_in" in list(actions)


def test_unknown_email_is_asked_to_contact_the_administrator(oidc_app, demo_url):
    base = oidc_app
    with browser() as b:
        page = b.new_page()
        _sign_in(page, base, "stranger@example.org")
        page.wait_for_selector("text=not yet given access", timeout=60_000)
        assert page.locator("text=Headline measures").count() == 0
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    with get_engine(demo_url).connect() as conn:
        refused = conn.execute(select(m.AuditEvent.detail).where(m.AuditEvent.action == "sign_in_refused",
                                                                 m.AuditEvent.actor == "stranger@example.org")).all()
    assert refused
