"""The monthly digest (issue 14): ``python -m data_layer digest send [--period-end YYYY-MM] [--dry-run]``.

Read-only tests use the shared demo federation (dry runs write nothing); tests that send use a small demo federation
of their own and a real SMTP server (aiosmtpd) the test starts on 127.0.0.1."""
from __future__ import annotations

import socket
from datetime import date, timedelta
from email import message_from_bytes, policy

import pandas as pd
import pytest
from sqlalchemy import select, update

from data_layer import demo
from data_layer import engine as calc
from data_layer import models as m
from data_layer.cli import main
from data_layer.db import get_engine
from data_layer.governance import actions as act
from data_layer.governance import digest
from data_layer.measures import store
from data_layer.users import find_viewer

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

DEMO_EMAILS = ["admin@demo.invalid", "board@demo.invalid", "lead@demo.invalid", "viewer@demo.invalid"]
LEAD_PRACTICE = "Z90001"


# --------------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_mail_settings(monkeypatch, tmp_path):
    """No SMTP settings or dashboard link leak in from the machine; no secrets.toml in the working directory."""
    for name in (*digest.SMTP_ENV.values(), "DASHBOARD_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def split_dry_run(out: str) -> dict[str, str]:
    """The dry run's printed messages, by recipient."""
    messages = {}
    for chunk in out.split(digest.RULE + "\n"):
        lines = chunk.splitlines()
        to = next((ln[4:] for ln in lines if ln.startswith("To: ")), None)
        if to and lines[0].startswith("From: "):
            messages[to] = chunk
    return messages


def practice_names(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(m.Practice.code, m.Practice.name)).all())


def digest_audit(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(m.AuditEvent.actor, m.AuditEvent.practice_code, m.AuditEvent.detail)
                            .where(m.AuditEvent.action == "digest_sent")).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["actor", "practice_code", "detail"])


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses the addresses in ``refuse``."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.messages: list[tuple[list[str], object]] = []
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, object]:
        return {to: msg for tos, msg in self.messages for to in tos}

    def body(self, email: str) -> str:
        return self.by_recipient()[email].get_content()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Start a local SMTP server on 127.0.0.1: ``start(inbox, **smtp_kwargs)`` returns its port."""
    started = []

    def start(inbox: Inbox, **kwargs) -> int:
        port = free_port()
        controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for c in started:
        c.stop()


@pytest.fixture
def fed_url(empty_url, config, monkeypatch):
    """A small demo federation (3 practices, one demo user per role) that the test may change."""
    demo.build(get_engine(empty_url), config, n_practices=3, months=6)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    return empty_url


def raise_overdue(engine, config, owner: str, title: str, practice: str | None, days_late: int = 10) -> int:
    """An action owned by ``owner`` whose due date passed ``days_late`` days ago (raised back then)."""
    board = find_viewer(engine, "board@demo.invalid")
    raised_on = date.today() - timedelta(days=days_late + 20)
    return act.add_action(engine, board, config, title=title, owner_email=owner,
                          due_on=date.today() - timedelta(days=days_late), practice_code=practice,
                          today=raised_on)


# --------------------------------------------------------------------------------------------------------------------
# Dry run on the demo federation (writes nothing)
# --------------------------------------------------------------------------------------------------------------------
def test_dry_run_prints_one_message_per_active_user_and_sends_nothing(demo_url, demo_engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setenv("DASHBOARD_URL", "https://dashboard.example-federation.nhs.uk")
    audited = len(digest_audit(demo_engine))
    code, out, err = run(capsys, "digest", "send", "--dry-run")
    assert code == 0, err
    messages = split_dry_run(out)
    assert sorted(messages) == DEMO_EMAILS
    month = f"{pd.Timestamp(calc.latest_period(demo_engine)):%B %Y}"
    for text in messages.values():
        assert f"as at {month}" in text
        assert "Open the dashboard: https://dashboard.example-federation.nhs.uk" in text
    assert "Dry run: 4 messages" in out and "none sent" in out
    assert len(digest_audit(demo_engine)) == audited  # nothing sent, nothing audited


def test_board_digest_is_the_overview_attention_list(demo_engine, config):
    """Every item the overview lists for the federation is in the board's message, none other."""
    from data_layer import training, views

    board = find_viewer(demo_engine, "board@demo.invalid")
    filters = calc.Filters()
    items = views.attention_items(
        config, calc.kpi_results(demo_engine, config, board, filters),
        views.practice_results(demo_engine, config, board, filters)[0],
        training.lapsing_counts(training.snapshot(demo_engine, config, board, filters,
                                                  as_of=training.action_date(demo_engine, filters))), "Federation")
    assert not items.empty
    digests = {d.viewer.email: d for d in digest.build_digests(demo_engine, config)}
    body = digests["board@demo.invalid"].body
    listed = 0
    for _, these in items.groupby("kind", sort=False):  # each kind's most serious first, the rest counted
        for headline in these["headline"].head(digest.SHOWN_PER_KIND):
            assert f"- {headline}\n" in body
        listed += min(len(these), digest.SHOWN_PER_KIND)
        if len(these) > digest.SHOWN_PER_KIND:
            listed += 1
            assert f"- and {len(these) - digest.SHOWN_PER_KIND} more on the dashboard\n" in body
    assert body.count("\n- ") == listed  # no item twice, none invented (the board owns no actions here)
    assert f"{len(items)} item" in digests["board@demo.invalid"].subject


def test_practice_lead_message_names_only_their_practice(demo_engine, config):
    names = practice_names(demo_engine)
    digests = {d.viewer.email: d for d in digest.build_digests(demo_engine, config)}
    lead, board = digests["lead@demo.invalid"].body, digests["board@demo.invalid"].body
    own = names[LEAD_PRACTICE]
    others = [n for c, n in names.items() if c != LEAD_PRACTICE]
    assert own in lead and "What needs attention: " + own in lead
    assert [n for n in others if n in lead] == []
    # the board's message does name other practices: the lead's is narrowed, not empty by accident
    assert [n for n in others if n in board]
    assert digests["lead@demo.invalid"].item_count > 0


def test_viewer_message_has_no_staff_or_practice_names(demo_engine, config):
    with demo_engine.connect() as conn:
        staff = list(conn.execute(select(m.Staff.name)).scalars())
    names = list(practice_names(demo_engine).values())
    digests = {d.viewer.email: d for d in digest.build_digests(demo_engine, config)}
    viewer = digests["viewer@demo.invalid"]
    assert viewer.item_count > 0  # federation-level items are there
    assert [s for s in staff if s in viewer.body] == []
    assert [n for n in names if n in viewer.body] == []
    assert "Training lapsed or lapsing" not in viewer.body  # per-practice training counts are not for viewers
    assert [n for n in names if n in digests["board@demo.invalid"].body]


def test_period_end_chooses_the_month_and_a_bad_one_exits_2(demo_url, demo_engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    latest = pd.Timestamp(calc.latest_period(demo_engine))
    earlier = latest - pd.DateOffset(months=3)
    code, out, err = run(capsys, "digest", "send", "--dry-run", "--period-end", f"{earlier:%Y-%m}")
    assert code == 0, err
    assert f"as at {earlier:%B %Y}" in out and f"as at {latest:%B %Y}" not in out
    for bad in ("2026-13", "October", "2026/10"):
        code, out, err = run(capsys, "digest", "send", "--dry-run", "--period-end", bad)
        assert code == 2 and "--period-end must be a month written YYYY-MM" in err and "Traceback" not in err
        assert out == ""
    later = latest + pd.DateOffset(months=2)
    code, out, err = run(capsys, "digest", "send", "--dry-run", "--period-end", f"{later:%Y-%m}")
    assert code == 2 and f"no figures for {later:%B %Y}" in err and f"latest month is {latest:%B %Y}" in err
    before = pd.Timestamp(min(store.months(demo_engine))) - pd.DateOffset(months=1)
    code, out, err = run(capsys, "digest", "send", "--dry-run", "--period-end", f"{before:%Y-%m}")
    assert code == 2 and f"no figures for {before:%B %Y}" in err and "the figures start in" in err


def test_a_real_send_without_smtp_settings_exits_2(demo_url, demo_engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    audited = len(digest_audit(demo_engine))
    code, out, err = run(capsys, "digest", "send")
    assert code == 2
    assert "no SMTP server" in err and "SMTP_HOST" in err and "[smtp]" in err and "--dry-run" in err
    assert "Traceback" not in err and out == ""
    assert len(digest_audit(demo_engine)) == audited


# --------------------------------------------------------------------------------------------------------------------
# Real sends to a local SMTP server
# --------------------------------------------------------------------------------------------------------------------
def test_send_delivers_each_active_user_their_digest_and_audits_it(fed_url, config, smtp_server, monkeypatch,
                                                                   capsys):
    engine = get_engine(fed_url)
    lead_action = raise_overdue(engine, config, "lead@demo.invalid", "Recall the lapsed safeguarding staff",
                                LEAD_PRACTICE, days_late=10)
    board_action = raise_overdue(engine, config, "board@demo.invalid", "Agree the phone access plan", None, 3)
    soon = date.today() + timedelta(days=5)
    act.add_action(engine, find_viewer(engine, "board@demo.invalid"), config, title="Review the recall letters",
                   owner_email="lead@demo.invalid", due_on=soon, practice_code=LEAD_PRACTICE)
    with engine.begin() as conn:  # a user who has left: no digest
        conn.execute(update(m.User).where(m.User.email == "admin@demo.invalid").values(active=False))
    inbox = Inbox()
    port = smtp_server(inbox)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_FROM", "governance@example-federation.nhs.uk")
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    monkeypatch.setenv("DASHBOARD_URL", "https://dashboard.example-federation.nhs.uk")

    code, out, err = run(capsys, "digest", "send")
    assert code == 0, err
    received = inbox.by_recipient()
    assert sorted(received) == ["board@demo.invalid", "lead@demo.invalid", "viewer@demo.invalid"]
    month = f"{pd.Timestamp(calc.latest_period(engine)):%B %Y}"
    for email, msg in received.items():
        assert msg["From"] == "governance@example-federation.nhs.uk"
        assert f"as at {month}" in msg["Subject"]
        assert msg.get_content_type() == "text/plain"
        assert "https://dashboard.example-federation.nhs.uk" in msg.get_content()
    lead, board = inbox.body("lead@demo.invalid"), inbox.body("board@demo.invalid")
    assert f"Action {lead_action}: Recall the lapsed safeguarding staff" in lead and "10 days overdue" in lead
    assert "Your overdue actions (1)" in lead
    assert f"Review the recall letters (due {soon.day} {soon:%B %Y}, in 5 days" in lead  # due soon, listed apart
    assert lead.index("Your overdue actions") < lead.index("Recall the lapsed") < lead.index("due in the next")
    assert lead.index("due in the next") < lead.index("Review the recall letters")
    assert f"Action {board_action}: Agree the phone access plan" in board and "3 days overdue" in board
    # only their own: the board reads every action but is sent only those it owns
    assert "Recall the lapsed safeguarding staff" not in board
    assert "Agree the phone access plan" not in lead
    assert "overdue action" in received["lead@demo.invalid"]["Subject"]
    assert "Your overdue actions" not in inbox.body("viewer@demo.invalid")

    audited = digest_audit(engine)
    assert len(audited) == 3
    assert sorted(e for e in ("board@demo.invalid", "lead@demo.invalid", "viewer@demo.invalid")
                  if audited["detail"].str.contains(e, regex=False).any()) == sorted(received)
    assert audited["actor"].str.startswith("cli:").all()
    assert audited.loc[audited["detail"].str.contains("lead@demo.invalid"), "practice_code"].tolist() == [LEAD_PRACTICE]
    assert "3 of 3 digests sent" in out


def test_settings_from_secrets_file_and_one_refused_address_does_not_stop_the_others(
        fed_url, config, smtp_server, tmp_path, monkeypatch, capsys):
    engine = get_engine(fed_url)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"digest" and auth_data.password == b"s3cret"
        if ok:
            inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    inbox = Inbox(refuse={"board@demo.invalid"})
    port = smtp_server(inbox, authenticator=authenticator, auth_require_tls=False)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nusername = "digest"\npassword = "s3cret"\n'
        'from = "MPA governance <governance@example-federation.nhs.uk>"\nstarttls = false\n')

    code, out, err = run(capsys, "digest", "send")
    assert code == 1
    assert "board@demo.invalid was not sent" in err and "550" in err and "Traceback" not in err
    assert sorted(inbox.by_recipient()) == ["admin@demo.invalid", "lead@demo.invalid", "viewer@demo.invalid"]
    assert inbox.logins  # it signed in with the file's username and password
    assert "3 of 4 digests sent" in out and "1 failed" in out
    audited = digest_audit(engine)
    assert len(audited) == 3 and not audited["detail"].str.contains("board@demo.invalid").any()

    # the environment overrides the file: a port where no server listens, and every user is reported
    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    code, out, err = run(capsys, "digest", "send")
    assert code == 1 and err.count("could not reach the mail server at 127.0.0.1:") == 4
    assert "0 of 4 digests sent" in out
    assert len(digest_audit(engine)) == 3


def test_smtp_settings_environment_overrides_the_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "mail.example.nhs.uk"\nport = 587\nfrom = "a@example.nhs.uk"\n'
                       'username = "u"\npassword = "p"\n')
    s = digest.smtp_settings(secrets, environ={})
    assert (s.host, s.port, s.sender, s.username, s.password, s.starttls) == (
        "mail.example.nhs.uk", 587, "a@example.nhs.uk", "u", "p", True)
    s = digest.smtp_settings(secrets, environ={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "2525",
                                               "SMTP_STARTTLS": "no"})
    assert (s.host, s.port, s.starttls, s.sender) == ("127.0.0.1", 2525, False, "a@example.nhs.uk")
    with pytest.raises(digest.DigestError, match="missing from"):
        digest.smtp_settings(tmp_path / "none.toml", environ={"SMTP_HOST": "x"})
    with pytest.raises(digest.DigestError, match="port must be a number"):
        digest.smtp_settings(secrets, environ={"SMTP_PORT": "smtp"})
