"""The monthly digest: ``python -m data_layer digest send [--period-end YYYY-MM] [--dry-run]``.

Each active user gets one plain-text email: what needs attention in their scope as at the chosen month, and their own
overdue (and soon due) actions. Nothing is worked out here: the items are ``views.attention_items`` fed exactly as the
overview feeds it (``ui/views.py`` ``attention``), and the actions come from ``governance.actions.due_actions``.

Scope, by role:
* board members and administrators: the whole federation, every practice's items;
* a practice lead: each of their own practices on its own (``Filters(practice_codes=(code,))``);
* a viewer: the federation-level items only (measures for the federation as a whole; no practice rows, no
  training, so no person-level data and no practice named).

SMTP settings come from ``.streamlit/secrets.toml`` ``[smtp]`` (host, port, username, password, from, starttls),
each overridden by the environment (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_STARTTLS).
``DASHBOARD_URL`` (environment, or a top-level key of secrets.toml) adds a link to the dashboard. Every message
sent is recorded in the audit log ("digest_sent"); a message that fails is reported and the others still go.
"""
from __future__ import annotations

import os
import re
import smtplib
import ssl
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from .. import audit
from .. import engine as calc
from .. import models as m
from .. import training
from .. import views
from ..config import FederationConfig
from ..measures import store
from ..scope import ROLE_LABELS, Viewer
from . import actions as act

SECRETS_FILE = Path(".streamlit") / "secrets.toml"
SMTP_ENV = {"host": "SMTP_HOST", "port": "SMTP_PORT", "username": "SMTP_USER", "password": "SMTP_PASSWORD",
            "from": "SMTP_FROM", "starttls": "SMTP_STARTTLS"}
KINDS = ((views.KIND_CONCERN, "Special-cause concerns"), (views.KIND_TARGET, "Missed targets"),
         (views.KIND_TRAINING, "Training lapsed or lapsing"))
SHOWN_PER_KIND = 25  # an ICB-sized federation has hundreds of items: the rest are on the dashboard
RULE = "-" * 72


class DigestError(ValueError):
    """Bad input or settings for the digest; the message says what to fix."""


# --------------------------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True


def _secrets(path: Path | None = None) -> dict:
    path = path or SECRETS_FILE
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DigestError(f"{path} could not be read as TOML: {exc}") from None


def _flag(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise DigestError(f"{where} must be true or false (got {value!r})")


def smtp_settings(secrets_path: Path | None = None, environ=None) -> SmtpSettings:
    """The SMTP server to send through: ``[smtp]`` in secrets.toml, each key overridden by its environment variable.
    Raises DigestError naming what is missing or wrong."""
    environ = os.environ if environ is None else environ
    file_values = _secrets(secrets_path).get("smtp") or {}
    if not isinstance(file_values, dict):
        raise DigestError(f"[smtp] in {secrets_path or SECRETS_FILE} must be a table of settings")
    values = {}
    for key, env in SMTP_ENV.items():
        if environ.get(env, "") != "":
            values[key] = environ[env]
        elif file_values.get(key) not in (None, ""):
            values[key] = file_values[key]
    missing = [k for k in ("host", "from") if not values.get(k)]
    if missing:
        raise DigestError(
            "no SMTP server is set up to send the digest: missing " + " and ".join(missing) + ". Set "
            + ", ".join(SMTP_ENV[k] for k in missing) + " in the environment, or host and from under [smtp] in "
            f"{secrets_path or SECRETS_FILE} (see .streamlit/secrets.example.toml); or use --dry-run to see the "
            "messages without sending them")
    starttls = _flag(values.get("starttls", True), "SMTP_STARTTLS / [smtp] starttls")
    try:
        port = int(values.get("port") or (587 if starttls else 25))
    except (TypeError, ValueError):
        raise DigestError(f"the SMTP port must be a number (got {values.get('port')!r})") from None
    if not 0 < port < 65536:
        raise DigestError(f"the SMTP port must be between 1 and 65535 (got {port})")
    return SmtpSettings(host=str(values["host"]).strip(), port=port, sender=str(values["from"]).strip(),
                        username=str(values["username"]) if values.get("username") else None,
                        password=str(values["password"]) if values.get("password") else None, starttls=starttls)


def dashboard_url(secrets_path: Path | None = None, environ=None) -> str | None:
    environ = os.environ if environ is None else environ
    url = environ.get("DASHBOARD_URL") or _secrets(secrets_path).get("DASHBOARD_URL") or ""
    return str(url).strip() or None


# --------------------------------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------------------------------
def parse_period(text: str | None) -> date | None:
    if text is None:
        return None
    mt = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not mt or not 1 <= int(mt.group(2)) <= 12:
        raise DigestError(f"--period-end must be a month written YYYY-MM, e.g. 2026-03 (got {text!r})")
    return date(int(mt.group(1)), int(mt.group(2)), 1)


def month_words(d: date) -> str:
    return f"{pd.Timestamp(d):%B %Y}"


def check_period(engine: Engine, period_end: date | None) -> date:
    """The month the digest is as at; DigestError when the database has no figures, or none for that month yet."""
    held = store.months(engine)  # the months the measure store has judged the federation for
    if not held:
        raise DigestError("the database holds no figures yet, so there is nothing to write a digest about "
                          "(import data first)")
    first, latest = held[0], held[-1]
    if period_end is not None and pd.Timestamp(period_end) > pd.Timestamp(latest):
        raise DigestError(f"--period-end {period_end:%Y-%m}: there are no figures for {month_words(period_end)} "
                          f"yet; the latest month is {month_words(latest)} ({latest:%Y-%m})")
    if period_end is not None and pd.Timestamp(period_end) < pd.Timestamp(first):
        raise DigestError(f"--period-end {period_end:%Y-%m}: there are no figures for {month_words(period_end)}; "
                          f"the figures start in {month_words(first)} ({first:%Y-%m})")
    return calc.as_at(engine, calc.Filters(period_end=period_end))


def active_users(engine: Engine) -> list[Viewer]:
    """Every active user as the Viewer they sign in as, by email."""
    with engine.connect() as conn:
        users = conn.execute(select(m.User.id, m.User.email, m.User.role, m.User.name)
                             .where(m.User.active.is_(True)).order_by(m.User.email)).all()
        links = conn.execute(select(m.UserPractice.user_id, m.UserPractice.practice_code)).all()
    codes: dict[int, list[str]] = {}
    for uid, code in links:
        codes.setdefault(uid, []).append(code)
    return [Viewer(email=u.email, role=u.role, practice_codes=tuple(sorted(codes.get(u.id, []))), name=u.name or "")
            for u in users]


@dataclass
class Section:
    """The attention items for one area (the federation, or one practice)."""

    title: str
    items: pd.DataFrame


@dataclass
class Digest:
    viewer: Viewer
    as_at: date
    scope: str
    sections: list[Section]
    overdue: pd.DataFrame
    due_soon: pd.DataFrame
    url: str | None = None
    subject: str = ""
    body: str = ""
    item_count: int = field(default=0)


def _attention(engine: Engine, config: FederationConfig, viewer: Viewer, filters: calc.Filters, where: str,
               federation_only: bool) -> pd.DataFrame:
    """``views.attention_items`` fed as ui/views.py ``attention()`` feeds it (federation-level only for viewers)."""
    federation_results = calc.kpi_results(engine, config, viewer, filters)
    if federation_only:
        items = views.attention_items(config, federation_results, None, None, where)
        return items[items["practice_code"] == ""].reset_index(drop=True)
    practice_rows = views.practice_results(engine, config, viewer, filters)[0]
    lapsing = training.lapsing_counts(training.snapshot(engine, config, viewer, filters,
                                                        as_of=training.action_date(engine, filters)))
    return views.attention_items(config, federation_results, practice_rows, lapsing, where)


def _sections(engine: Engine, config: FederationConfig, viewer: Viewer, period_end: date | None,
              cache: dict) -> tuple[str, list[Section]]:
    if viewer.role in ("admin", "board"):
        key = ("federation",)
        if key not in cache:
            filters = calc.Filters(period_end=period_end)
            cache[key] = [Section("Federation", _attention(engine, config, viewer, filters, "Federation", False))]
        return "the whole federation, every practice", cache[key]
    if viewer.role == "practice_lead":
        names = dict(zip(*calc.practices(engine, viewer, config)[["code", "name"]].to_numpy().T))
        sections = []
        for code in viewer.practice_codes:
            key = ("practice", code)
            if key not in cache:
                name = names.get(code, code)
                filters = calc.Filters(practice_codes=(code,), period_end=period_end)
                cache[key] = Section(f"{name} ({code})", _attention(engine, config, viewer, filters, name, False))
            sections.append(cache[key])
        scope = ", ".join(s.title for s in sections) or "no practice (ask an administrator to add yours)"
        return f"your practice{'s' if len(sections) > 1 else ''}: {scope}", sections
    key = ("viewer",)
    if key not in cache:
        cache[key] = [Section("Federation", _attention(engine, config, viewer, calc.Filters(period_end=period_end),
                                                       "Federation", True))]
    return "the federation as a whole (federation-level figures only)", cache[key]


def _own_actions(engine: Engine, viewer: Viewer, today: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    due = act.due_actions(engine, viewer, today=today)
    mine = due[due["owner_email"].str.lower() == viewer.email.lower()]
    return (mine[mine["overdue"]].reset_index(drop=True), mine[~mine["overdue"]].reset_index(drop=True))


def _action_line(r: dict, today: date) -> str:
    where = []
    if r.get("practice_code"):
        where.append(f"practice {r['practice_code']}")
    if r.get("indicator_code"):
        where.append(f"measure {r['indicator_code']}")
    days = (r["due_on"] - today).days
    due = f"due {r['due_on'].day} {r['due_on']:%B %Y}"
    when = (f"{due}, {-days} day{'s' if days != -1 else ''} overdue" if days < 0
            else f"{due}, " + ("today" if days == 0 else f"in {days} day{'s' * (days != 1)}"))
    return (f"- Action {r['id']}: {r['title']} ({when}; {r['status_label'].lower()}"
            + (f"; {', '.join(where)}" if where else "") + ")")


def compose(config: FederationConfig, d: Digest, today: date) -> Digest:
    """Fill in the subject and the plain-text body of one digest."""
    month = month_words(d.as_at)
    lines = [f"Dear {d.viewer.name or d.viewer.email},", "",
             f"This is the {config.short_name} monthly digest as at {month}, for {d.scope}.", ""]
    total = 0
    for section in d.sections:
        items = section.items
        total += len(items)
        heading = f"What needs attention: {section.title} ({len(items)} item{'s' * (len(items) != 1)})"
        lines += [heading, "=" * len(heading)]
        if items.empty:
            lines += ["Nothing needs attention: no special-cause concern, no missed target and no training lapsed "
                      "or lapsing.", ""]
            continue
        for kind, label in KINDS:
            these = items[items["kind"] == kind]
            if these.empty:
                continue
            lines += ["", f"{label} ({len(these)})"]
            for r in these.head(SHOWN_PER_KIND).itertuples(index=False):
                lines.append(f"- {r.headline}")
                if r.detail:
                    lines.append(f"  {r.detail}")
            if len(these) > SHOWN_PER_KIND:
                lines.append(f"- and {len(these) - SHOWN_PER_KIND} more on the dashboard")
        lines.append("")
    n_over, n_soon = len(d.overdue), len(d.due_soon)
    if d.viewer.role != "viewer":  # viewers read actions but never own one
        heading = f"Your overdue actions ({n_over})"
        lines += [heading, "=" * len(heading)]
        lines += [_action_line(r, today) for r in d.overdue.to_dict("records")] or ["None of your actions is overdue."]
        if n_soon:
            lines += ["", f"Your actions due in the next {act.DUE_SOON_DAYS} days ({n_soon})"]
            lines += [_action_line(r, today) for r in d.due_soon.to_dict("records")]
        lines.append("")
    if d.url:
        lines += [f"Open the dashboard: {d.url}", ""]
    role = ROLE_LABELS[d.viewer.role].lower()
    lines += [RULE, f"You receive this digest as {'an' if role[0] in 'aeiou' else 'a'} {role} of the {config.name} "
              "dashboard. The figures are the dashboard's own, as at the month above; ask an administrator to "
              "stop it."]
    d.item_count = total
    d.subject = (f"{config.short_name} digest as at {month}: {total} item{'s' * (total != 1)} need"
                 f"{'s' * (total == 1)} attention" + (f", {n_over} overdue action{'s' * (n_over != 1)}"
                                                      if n_over else ""))
    d.body = "\n".join(lines) + "\n"
    return d


def build_digests(engine: Engine, config: FederationConfig, period_end: date | None = None,
                  today: date | None = None, url: str | None = None) -> list[Digest]:
    """One composed digest per active user, by email."""
    today = today or date.today()
    as_at = check_period(engine, period_end)
    cache: dict = {}
    out = []
    for viewer in active_users(engine):
        scope, sections = _sections(engine, config, viewer, period_end, cache)
        overdue, soon = _own_actions(engine, viewer, today)
        out.append(compose(config, Digest(viewer, as_at, scope, sections, overdue, soon, url), today))
    return out


def message(d: Digest, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((d.viewer.name, d.viewer.email)) if d.viewer.name else d.viewer.email
    msg["Subject"] = d.subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    msg.set_content(d.body)  # plain text only: nothing from the data is ever read as markup
    return msg


def as_text(d: Digest, sender: str) -> str:
    """A digest as printed by --dry-run."""
    return f"From: {sender}\nTo: {d.viewer.email}\nSubject: {d.subject}\n\n{d.body}"


# --------------------------------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------------------------------
class _Connection:
    """One SMTP connection, opened when first needed and again after a failure."""

    def __init__(self, settings: SmtpSettings, timeout: float = 30):
        self.settings, self.timeout, self.smtp = settings, timeout, None

    def _open(self):
        s = self.settings
        if s.port == 465:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def send(self, msg: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self._open()
        try:
            self.smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good
        except Exception:
            self.close()
            raise

    def close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.smtp = None


def _why(exc: Exception, settings: SmtpSettings) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                 for code, msg in exc.recipients.values()]
        return "the mail server refused the address (" + "; ".join(codes) + ")"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the mail server did not accept the username and password"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the mail server at {settings.host}:{settings.port} does not offer STARTTLS (set starttls = false " \
               "only for a server on this machine or a trusted network)"
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)) and not isinstance(exc, smtplib.SMTPException):
        return f"could not reach the mail server at {settings.host}:{settings.port} ({exc})"
    return f"the mail server answered: {exc}"


def send(engine: Engine, config: FederationConfig, period_end: date | None = None, dry_run: bool = False,
         out=None, err=None, today: date | None = None, settings: SmtpSettings | None = None,
         url: str | None = None) -> int:
    """Write the digests; returns the exit code (0 all sent, 1 some failed). DigestError for bad input/settings."""
    out, err = out or sys.stdout, err or sys.stderr
    if not dry_run and settings is None:
        settings = smtp_settings()
    digests = build_digests(engine, config, period_end, today=today, url=url if url is not None else dashboard_url())
    sender = settings.sender if settings else "(the SMTP sender, from [smtp] from or SMTP_FROM)"
    if dry_run:
        for d in digests:
            print(as_text(d, sender), file=out)
            print(RULE, file=out)
        print(f"Dry run: {len(digests)} message{'s' * (len(digests) != 1)} written as at "
              f"{month_words(digests[0].as_at) if digests else '–'}, none sent.", file=out)
        return 0
    if not digests:
        print("No active users, so no digest was sent.", file=out)
        return 0
    conn = _Connection(settings)
    actor = audit.os_account()
    failed = 0
    try:
        for d in digests:
            try:
                conn.send(message(d, settings.sender))
            except Exception as exc:  # noqa: BLE001 - report this one, send the others
                failed += 1
                print(f"error: the digest for {d.viewer.email} was not sent: {_why(exc, settings)}", file=err)
                continue
            codes = d.viewer.practice_codes if d.viewer.role == "practice_lead" else ()
            audit.record(engine, actor, "digest_sent", codes[0] if len(codes) == 1 else None,
                         f"monthly digest as at {month_words(d.as_at)} to {d.viewer.email} via {settings.host}: "
                         f"{d.item_count} attention items, {len(d.overdue)} overdue actions")
            print(f"Sent to {d.viewer.email}: {d.subject}", file=out)
    finally:
        conn.close()
    sent = len(digests) - failed
    print(f"{sent} of {len(digests)} digest{'s' * (len(digests) != 1)} sent as at {month_words(digests[0].as_at)}"
          + (f"; {failed} failed (see above)" if failed else "") + ".", file=out)
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------------------------------
# Command line (registered in data_layer.cli.COMMANDS)
# --------------------------------------------------------------------------------------------------------------------
def cmd_digest(args) -> int:
    from ..cli_common import UsageError
    from ..config import load_config
    from ..db import get_engine

    try:
        period_end = parse_period(args.period_end)
        if args.dry_run:  # the sender is shown when it is set up; a dry run needs no server
            try:
                settings = smtp_settings()
            except DigestError:
                settings = None
        else:
            settings = smtp_settings()
        return send(get_engine(), load_config(), period_end, dry_run=args.dry_run, settings=settings)
    except DigestError as exc:
        raise UsageError(str(exc)) from exc


def register(sub) -> None:
    p = sub.add_parser("digest", help="email each user what needs attention in their scope and their overdue actions")
    digest = p.add_subparsers(dest="action", required=True)
    s = digest.add_parser("send", help="write and send the monthly digest to every active user (audited)")
    s.add_argument("--period-end", metavar="YYYY-MM", help="the month the digest is as at (default: the newest)")
    s.add_argument("--dry-run", action="store_true", help="print the messages and send nothing")
    p.set_defaults(func=cmd_digest)
