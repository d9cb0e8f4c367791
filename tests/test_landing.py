"""Who lands where (issue 15, item 8): a practice lead opens on their own practice's profile, beside the federation,
titled for them; the board on the board overview."""
from __future__ import annotations

from ui.navigation import landing_page
from tests.apptest_util import app


def test_each_role_has_a_landing_page():
    assert landing_page("practice_lead") == "practice"
    assert {landing_page(r) for r in ("admin", "board", "viewer")} == {"overview"}


def test_a_practice_lead_lands_on_their_own_practice_beside_the_federation(app_env):
    at = app(role="practice_lead")
    assert not at.exception, [e.value for e in at.exception]
    lead = at.session_state["viewer"]
    assert lead.role == "practice_lead" and lead.practice_codes
    title = at.title[0].value
    assert title == "Your practice's profile"
    assert any(md.value.startswith("## Kingfisher Medical Centre") for md in at.markdown)  # named under it
    assert at.selectbox(key="profile_practice").value == lead.practice_codes[0]
    measures = next(df.value for df in at.dataframe if "Federation" in df.value.columns)
    assert measures["Practice"].notna().all() and measures["Federation"].notna().any()

    at.switch_page("pages/overview.py").run()  # the overview, titled for them, with the way back to their practice
    assert at.title[0].value.endswith("federation overview")
    assert any(p.label.startswith("Your practice: ") for p in at.get("page_link"))


def test_the_board_lands_on_the_board_overview(app_env):
    at = app(role="board")
    assert not at.exception
    assert at.title[0].value.endswith("board overview")
    assert not any(p.label.startswith("Your practice") for p in at.get("page_link"))
