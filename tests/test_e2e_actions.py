"""The board's action loop end to end in a real Chromium (both backends): a board member raises an action from a
"what needs attention" item on the overview in one click (the item's measure, practice and words filled in) and
gives it to a practice lead; the lead, as its owner, marks it in progress with a comment; the action is then in the
board pack the overview's buttons build, in the workbook and in the PDF, with its new status.

The test writes actions, so it runs on a demo federation of its own (the shared demo database is read only)."""
from __future__ import annotations

import io
import os
import re
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from data_layer import models as m
from data_layer.db import get_engine
from tests.e2e_util import assert_no_exception, browser, needs_chromium, streamlit_server, wait_idle

pytestmark = [pytest.mark.e2e, needs_chromium]

BOARD, LEAD = "board@demo.invalid", "lead@demo.invalid"
COMMENT = "Recall list sent to the nurses; first clinic booked"
_built: dict[str, str] = {}


@pytest.fixture
def own_demo(demo_copy, backend):
    """A demo federation this test may write to, copied once per backend."""
    if backend not in _built:
        _built[backend] = demo_copy(backend)
    return _built[backend]


@pytest.fixture
def app(own_demo):
    # E2E_PORT: a fixed port, for a machine where the ports a test may use are given out
    port = int(os.environ["E2E_PORT"]) if os.environ.get("E2E_PORT") else None
    with streamlit_server(own_demo, port=port) as base:
        yield base


def _open(page, url: str) -> None:
    page.goto(url, timeout=120_000)
    wait_idle(page, 120_000)
    assert_no_exception(page)


def _choose(page, container, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label`` inside ``container``."""
    box = container.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=False).first.click()


def _download(page, button: str) -> bytes:
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=button).first.click()
    return open(info.value.path(), "rb").read()


def test_an_action_raised_from_an_attention_item_updated_by_its_owner_is_in_the_board_pack(app, own_demo,
                                                                                           config):
    base = app
    with browser() as b:
        # --- a board member raises an action from the first attention item, in one click -----------------------
        board = b.new_page(viewport={"width": 1400, "height": 1800})
        _open(board, f"{base}/?as={BOARD}")
        board.get_by_text("What needs attention", exact=True).wait_for()
        raise_link = board.locator(".st-key-attention").get_by_role("link", name="Raise an action").first
        raise_link.wait_for()
        href = raise_link.get_attribute("href")
        wanted = {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}
        assert wanted["title"] and wanted["attention"] and wanted.get("indicator"), wanted
        raise_link.click()
        wait_idle(board, 120_000)
        assert_no_exception(board)
        assert "/actions" in board.url, board.url

        form = board.locator('[data-testid="stForm"]').filter(has_text="Raise the action")
        form.wait_for()
        title = form.get_by_role("textbox", name="Title")
        assert title.input_value() == wanted["title"]  # the link filled in what raised it
        assert form.get_by_role("textbox", name="Raised from (attention item)").input_value() == wanted["attention"]
        _choose(board, form, "Owner", LEAD)
        form.get_by_role("button", name="Raise the action").click()
        wait_idle(board, 120_000)
        assert_no_exception(board)
        flash = board.get_by_text(re.compile(r"Action \d+ raised and assigned to")).first
        flash.wait_for()
        words = flash.inner_text().replace("\u2060", "")  # the word joiner that keeps an email from linking
        found = re.search(r"Action (\d+) raised and assigned to " + re.escape(LEAD), words)
        assert found, flash.inner_text()
        action_id = int(found.group(1))

        engine = get_engine(own_demo)
        with engine.connect() as conn:
            row = conn.execute(select(m.Action).where(m.Action.id == action_id)).mappings().one()
        assert (row["title"], row["attention_key"], row["indicator_code"], row["owner_email"], row["status"]) == (
            wanted["title"], wanted["attention"], wanted["indicator"], LEAD, "open")
        assert row["practice_code"] == wanted.get("action_practice")

        # --- the owner, a practice lead, opens it and marks it in progress with a comment ----------------------
        lead = b.new_page(viewport={"width": 1400, "height": 1800})
        _open(lead, f"{base}/actions?as={LEAD}&action={action_id}")
        update = lead.locator('[data-testid="stForm"]').filter(has_text="Update this action")
        update.wait_for()
        _choose(lead, update, "Status", "In progress")
        update.get_by_role("textbox", name="Comment").fill(COMMENT)
        update.get_by_role("button", name="Save the update").click()
        wait_idle(lead, 120_000)
        assert_no_exception(lead)
        lead.get_by_text(f"Action {action_id} updated: status Open → In progress.", exact=False).first.wait_for()
        history = lead.locator('[data-testid="stDataFrame"]').last
        history.wait_for()
        with engine.connect() as conn:
            updates = conn.execute(select(m.ActionUpdate.actor, m.ActionUpdate.comment).where(
                m.ActionUpdate.action_id == action_id).order_by(m.ActionUpdate.id)).all()
            status = conn.execute(select(m.Action.status).where(m.Action.id == action_id)).scalar_one()
        assert status == "in_progress" and tuple(updates[-1]) == (LEAD, COMMENT)

        # --- the board pack from the overview's buttons lists it, with its new status --------------------------
        _open(board, f"{base}/?as={BOARD}")
        workbook = openpyxl.load_workbook(io.BytesIO(_download(board, "Board pack (Excel)")))
        sheet = workbook["Actions due before next"]
        head = [c.value for c in sheet[1]]
        rows = [dict(zip(head, [c.value for c in r])) for r in sheet.iter_rows(min_row=2)]
        mine = next(r for r in rows if r["ID"] == action_id)
        assert (mine["Action"], mine["Owner"], mine["Status"], mine["Measure"]) == (
            wanted["title"], LEAD, "In progress", config.indicator(wanted["indicator"]).name)

        pdf = _download(board, "Board pack (PDF)")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "Due before the next meeting" in text or "no next meeting set" in text
        assert wanted["title"][:40] in text.replace("\n", " ")
