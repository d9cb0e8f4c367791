"""Comment themes: declared in federation.toml, validated, tagged once per comment into comment_themes, and what the
feedback page's theme counts and the comments browser's theme filter read. Both backends."""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from data_layer import engine as calc
from data_layer import feedback as fb
from data_layer import models as m
from data_layer.config import ConfigError, FederationConfig, parse_config
from data_layer.measures.fft_summary import refresh_fft_summary
from data_layer.measures.themes import tag_comments
from data_layer.scope import Viewer

ROOT = Path(__file__).resolve().parent.parent
BOARD = Viewer("board@test.invalid", "board")
WINDOW = calc.Filters(period_end=date(2026, 3, 1), months=3)


def _config_with(themes_toml: str) -> str:
    text = (ROOT / "federation.toml").read_text(encoding="utf-8")
    text = text[:text.index("[[themes]]")]
    return text + themes_toml


def test_the_federation_declares_its_themes_in_config(config):
    names = fb.theme_names(config)
    assert "Phone" in names and "Staff attitude" in names
    raw = tomllib.loads((ROOT / "federation.toml").read_text(encoding="utf-8"))
    assert [t["name"] for t in raw["themes"]] == names  # the page lists them in the file's order


@pytest.mark.parametrize("themes, message", [
    ('[[themes]]\nname = "Phone"\nwords = ["phone"]\n[[themes]]\nname = "phone"\nwords = ["call"]\n',
     "theme names must be unique; repeated: Phone, phone"),
    ('[[themes]]\nname = "Phone"\nwords = []\n', "themes.0.words"),
    ('[[themes]]\nname = "Phone"\nwords = ["phone", "  "]\n', "word 2 is empty"),
    ('[[themes]]\nname = " "\nwords = ["phone"]\n', "a theme needs a name"),
    ('[[themes]]\nname = "Phone"\n', "themes.0.words: Field required"),
    ('[[themes]]\nname = "Phone"\nwords = ["phone"]\nsentiment = "negative"\n', "themes.0.sentiment"),
])
def test_bad_themes_are_refused_with_the_key_and_the_reason(themes, message):
    with pytest.raises(ConfigError) as err:
        parse_config(_config_with(themes), "federation.toml")
    assert message in str(err.value)


def _config(config: FederationConfig, themes: list[dict]) -> FederationConfig:
    return config.model_copy(update={"themes": tuple(FederationConfig.model_validate(
        {**config.model_dump(), "themes": themes}).themes)})


COMMENTS = [  # practice, date, rating, comment, follow-up
    ("Z1", date(2026, 1, 5), 1, "Booked online in minutes", None),  # Access (booked), Waiting (minutes)
    ("Z1", date(2026, 2, 5), 5, "The PHONE line cut me off", "rude too"),  # Phone, Staff attitude: negative
    ("Z1", date(2026, 3, 5), 3, None, "nothing to say"),  # a comment with no theme
    ("Z1", date(2026, 3, 6), 6, "phone was fine", None),  # don't know
    ("Z2", date(2026, 3, 7), 2, "Lovely nurse", None),  # Clinical care
    ("Z2", date(2026, 3, 8), 4, None, None),  # no comment at all: never tagged
]


@pytest.fixture
def tagged(empty_engine, config):
    with empty_engine.begin() as conn:
        ids = {}
        for code in ("Z1", "Z2"):
            ids[code] = conn.execute(insert(m.Practice).values(code=code, name=f"{code} Surgery", list_size=5000,
                                                               active=True, pcn="Test PCN")).inserted_primary_key[0]
        for i, (p, d, rating, c1, c2) in enumerate(COMMENTS):
            conn.execute(insert(m.FFTResponse).values(practice_id=ids[p], response_key=f"c{i}", response_date=d,
                                                      scale="current", rating=rating, comment=c1, comment_2=c2,
                                                      mode="SMS"))
        refresh_fft_summary(conn)
        tag_comments(conn, config)
    return empty_engine, ids


def _tags(engine) -> set[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.FFTResponse.response_key, m.CommentTheme.theme, m.CommentTheme.sentiment,
                                   m.CommentTheme.month)
                            .join(m.FFTResponse, m.FFTResponse.id == m.CommentTheme.response_id)).all()
    return {(k, t, s, str(mo)[:10]) for k, t, s, mo in rows}


def test_each_comment_is_tagged_once_with_the_answer_as_sentiment(tagged, config):
    engine, _ = tagged
    assert _tags(engine) == {
        ("c0", "Access and appointments", "positive", "2026-01-01"), ("c0", "Waiting", "positive", "2026-01-01"),
        ("c1", "Phone", "negative", "2026-02-01"), ("c1", "Staff attitude", "negative", "2026-02-01"),
        ("c3", "Phone", "don't know", "2026-03-01"), ("c4", "Clinical care", "positive", "2026-03-01"),
    }
    with engine.begin() as conn:
        assert tag_comments(conn, config) == 6  # again: replaced, never doubled
    assert len(_tags(engine)) == 6


def test_retagging_some_practices_with_new_words_leaves_the_others(tagged, config):
    engine, ids = tagged
    changed = _config(config, [{"name": "Phone", "words": ["phone", "nothing to say"]}])
    with engine.begin() as conn:
        tag_comments(conn, changed, practice_ids=[ids["Z1"]])
    tags = _tags(engine)
    assert {k for k, t, _, _ in tags if t == "Phone"} == {"c1", "c2", "c3"}  # the follow-up answer counts too
    assert ("c4", "Clinical care", "positive", "2026-03-01") in tags  # Z2 was not retagged
    assert not any(k == "c0" for k, *_ in tags)  # Z1's old themes are gone with the old word list


def test_theme_counts_and_the_browser_filter_read_the_stored_tags(tagged, config):
    engine, ids = tagged
    counts = fb.comment_themes(engine, config, BOARD, WINDOW).set_index("theme")
    assert counts.loc["Phone", "negative"] == 1 and counts.loc["Phone", "total"] == 2  # don't know counts in total
    assert counts.loc["Environment", "total"] == 0  # every declared theme is listed
    phone = fb.comments(engine, config, BOARD, WINDOW, themes=("Phone",))
    assert phone.matching == 2 and set(phone.rows["comment"]) == {"The PHONE line cut me off", "phone was fine"}
    assert phone.rows.set_index("comment").loc["The PHONE line cut me off", "themes"] == "Staff attitude, Phone"
    # The stored tags decide, not the text: drop Z1's tags and its phone comments are no longer found by theme.
    with engine.begin() as conn:
        conn.execute(delete(m.CommentTheme).where(m.CommentTheme.practice_id == ids["Z1"]))
    assert fb.comments(engine, config, BOARD, WINDOW, themes=("Phone",)).matching == 0
    assert fb.comment_themes(engine, config, BOARD, WINDOW).set_index("theme").loc["Phone", "total"] == 0
    assert fb.comments(engine, config, BOARD, WINDOW, search="phone").matching == 2  # search still reads the text


def test_retagging_one_month_leaves_the_other_months(tagged, config):
    engine, ids = tagged
    changed = _config(config, [{"name": "Phone", "words": ["phone", "booked"]}])
    with engine.begin() as conn:
        assert tag_comments(conn, changed, months=[date(2026, 1, 20)]) == 1  # any day in January
    tags = _tags(engine)
    assert ("c0", "Phone", "positive", "2026-01-01") in tags and not any(
        k == "c0" and t != "Phone" for k, t, *_ in tags)  # January retagged with the new words only
    assert ("c1", "Staff attitude", "negative", "2026-02-01") in tags  # February kept its tags
