"""Comment search by full text (SQLite FTS5, PostgreSQL tsvector + GIN index; issue 13 item 7): words are found as
written or as the start of a word, the best matches come first, the viewer's scope and the months with too few
responses to show still hold, the index follows every change to the comments, and names after titles are redacted
in what is found, on screen and in the download. Both backends."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, insert, inspect, text, update

from data_layer import engine as calc
from data_layer import feedback as fb
from data_layer import models as m
from data_layer.comment_search import FTS_TABLE, PG_INDEX
from data_layer.measures.refresh import refresh
from data_layer.scope import Viewer

ADMIN = Viewer("admin@test.invalid", "admin")
BOARD = Viewer("board@test.invalid", "board")
LEAD = Viewer("lead@test.invalid", "practice_lead", ("Z1",))
WINDOW = calc.Filters(period_end=date(2026, 4, 1), months=12)

Z1_MARCH = [  # (day, rating, comment): ten responses, so the month is shown
    (2, 1, "Reception reception reception: the reception team were quick"),
    (3, 1, "The reception was fine but the wait for the doctor was long, nearly an hour in the waiting room"),
    (4, 1, "Mrs Jane Smith on the front desk was wonderful"),
    (5, 2, "Dr Patel explained everything about my prescription"),
    (6, 4, "Could not get through on the telephone for two days"),
    (9, 1, "Lovely nurse, very kind with my son"),
    (10, 2, None),
    (11, 1, "Café-style waiting area, très bien"),
    (12, 3, None),
    (13, 1, "Receptionist was helpful"),
]
Z2_MARCH = [(d, 1, "Beta reception was great" if d == 2 else None) for d in range(2, 12)]
Z1_APRIL = [(2, 5, "Reception lost my form in April"), (3, 1, None)]  # two responses: a month too small to show


@pytest.fixture
def comments_db(empty_engine, config):
    with empty_engine.begin() as conn:
        ids = {code: conn.execute(insert(m.Practice).values(code=code, name=name, list_size=5000, active=True,
                                                            pcn="Test PCN")).inserted_primary_key[0]
               for code, name in (("Z1", "Alpha Surgery"), ("Z2", "Beta Surgery"))}
        n = 0
        for code, month, rows in (("Z1", 3, Z1_MARCH), ("Z2", 3, Z2_MARCH), ("Z1", 4, Z1_APRIL)):
            for day, rating, comment in rows:
                n += 1
                conn.execute(insert(m.FFTResponse).values(
                    practice_id=ids[code], response_key=f"r{n}", response_date=date(2026, month, day),
                    scale="current", rating=rating, comment=comment, mode="SMS"))
    refresh(empty_engine, config)
    return empty_engine


def found(engine, config, viewer, search, **kw) -> list[str]:
    return list(fb.comments(engine, config, viewer, WINDOW, search=search, **kw).rows["comment"])


def test_the_search_reads_a_full_text_index_on_each_backend(comments_db):
    names = inspect(comments_db)
    if comments_db.dialect.name == "sqlite":
        assert FTS_TABLE in names.get_table_names()
    else:
        assert PG_INDEX in {i["name"] for i in names.get_indexes("fft_responses")}
        with comments_db.connect() as conn:
            plan = " ".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT id FROM fft_responses WHERE to_tsvector('simple'::regconfig, coalesce(comment, '') "
                "|| ' ' || coalesce(comment_2, '')) @@ to_tsquery('simple', 'reception:*')")))
        assert "comment_search" in plan or "Seq Scan" in plan  # the index is usable (tiny tables may scan)


def test_words_are_found_any_case_and_as_the_start_of_a_word(comments_db, config):
    got = found(comments_db, config, BOARD, "RECEPTION")  # Alpha's and Beta's March; April's is hidden
    assert len(got) == 4 and "Receptionist was helpful" in got and "Beta reception was great" in got
    assert sorted(found(comments_db, config, ADMIN, "recep")) == sorted(got)
    both = found(comments_db, config, ADMIN, "waiting room")  # every word, anywhere in the comment
    assert both == ["The reception was fine but the wait for the doctor was long, nearly an hour in the waiting room"]
    assert found(comments_db, config, ADMIN, "café") == ["Café-style waiting area, très bien"]
    assert found(comments_db, config, ADMIN, "telephone days") == ["Could not get through on the telephone for two "
                                                                   "days"]
    assert found(comments_db, config, ADMIN, "elephant") == []  # a word inside another word is not a match
    for odd in ('"reception" OR *', "100%", "NEAR(a b)", "-", "a:b & !c"):  # query syntax is never passed through
        fb.comments(comments_db, config, ADMIN, WINDOW, search=odd)


def test_the_best_matches_come_first(comments_db, config):
    got = found(comments_db, config, ADMIN, "reception")
    # The comment that is about the reception comes before newer ones that mention it once in passing
    assert got[0].startswith("Reception reception reception")
    assert got.index("The reception was fine but the wait for the doctor was long, nearly an hour in the waiting "
                     "room") > 0
    everything = fb.comments(comments_db, config, ADMIN, WINDOW)
    assert list(everything.rows["date"]) == sorted(everything.rows["date"], reverse=True)  # no search: newest first


def test_the_search_keeps_to_the_viewers_practices_and_shown_months(comments_db, config):
    lead = found(comments_db, config, LEAD, "reception")
    assert sorted(lead) == sorted(c for c in found(comments_db, config, BOARD, "reception") if "Beta" not in c)
    assert found(comments_db, config, LEAD, "beta") == []  # the lead reads their own practice's comments only
    # Beta Surgery's March has ten responses: the board may read it
    assert found(comments_db, config, BOARD, "beta") == ["Beta reception was great"]
    # Alpha's April has two responses: too few to show, so its comment is not found either, even by the admin
    assert found(comments_db, config, ADMIN, "april") == []
    assert fb.comments(comments_db, config, BOARD, WINDOW, search="reception").matching == 4
    assert found(comments_db, config, BOARD, "reception", practice_codes=("Z2",)) == ["Beta reception was great"]
    assert found(comments_db, config, BOARD, "reception", ratings=(1,), practice_codes=("Z1",))[0].startswith(
        "Reception reception")


def test_names_after_titles_are_redacted_in_what_the_search_finds(comments_db, config):
    board = found(comments_db, config, BOARD, "front desk")
    assert board == ["Mrs [name removed] on the front desk was wonderful"]
    assert found(comments_db, config, BOARD, "smith") == []  # a redacted name cannot be searched for
    assert found(comments_db, config, BOARD, "patel") == []
    assert found(comments_db, config, LEAD, "jane") == []
    assert found(comments_db, config, BOARD, "prescription") == ["Dr [name removed] explained everything about my "
                                                                 "prescription"]
    assert found(comments_db, config, ADMIN, "smith") == ["Mrs Jane Smith on the front desk was wonderful"]


def test_the_index_follows_every_change_to_the_comments(comments_db, config):
    with comments_db.begin() as conn:
        conn.execute(update(m.FFTResponse).where(m.FFTResponse.comment == "Receptionist was helpful")
                     .values(comment="Pharmacist was helpful", comment_2="Parking was easy"))
    assert found(comments_db, config, ADMIN, "receptionist") == []
    assert found(comments_db, config, ADMIN, "pharmacist parking") == ["Pharmacist was helpful"]
    with comments_db.begin() as conn:
        conn.execute(delete(m.FFTResponse).where(m.FFTResponse.comment == "Pharmacist was helpful"))
    assert found(comments_db, config, ADMIN, "pharmacist") == []


def test_the_feedback_page_search_shows_names_after_titles_redacted(app_env):
    from tests.apptest_util import app

    at = app(role="board")
    at.switch_page("pages/feedback.py").run()
    at.text_input(key="fb_search").set_value("listened carefully").run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "Comment" in getattr(df.value, "columns", []))
    comments = " ".join(table["Comment"])
    assert "Dr [name removed] listened carefully" in comments
    from data_layer.demo_words import DOCTOR_SURNAMES

    assert not any(f"Dr {name}" in comments for name in DOCTOR_SURNAMES)


def test_a_big_import_is_indexed_once_at_the_end_and_the_index_stays_whole(empty_engine, config, tmp_path):
    """SQLite indexes a big import's comments in one step after the rows go in (the insert trigger is set aside in
    the import's transaction): every imported comment is found, a response added later is still indexed as it is
    inserted, and FTS5's own integrity check passes. On PostgreSQL the GIN index does the same work row by row."""
    import pandas as pd

    from data_layer.imports import run_import

    with empty_engine.begin() as conn:
        conn.execute(insert(m.Practice).values(code="Z1", name="Alpha Surgery", list_size=5000, active=True,
                                               pcn="Test PCN"))
    n = 1_500
    pd.DataFrame({"practice_code": "Z1", "response_id": [f"big-{i}" for i in range(n)],
                  "response_date": [f"{1 + i % 28:02d}/03/2026" for i in range(n)], "rating": "Very good",
                  "comment": [f"Appointment {i} was prompt" if i % 3 else "" for i in range(n)],
                  "mode": "SMS"}).to_csv(tmp_path / "fft.csv", index=False)
    result = run_import(empty_engine, config, ADMIN, tmp_path / "fft.csv")
    assert result.new == n and not result.errors
    assert sorted(found(empty_engine, config, ADMIN, "prompt", limit=5_000)) == sorted(
        f"Appointment {i} was prompt" for i in range(n) if i % 3)
    assert found(empty_engine, config, ADMIN, "appointment 1499") == ["Appointment 1499 was prompt"]
    with empty_engine.begin() as conn:
        conn.execute(insert(m.FFTResponse).values(practice_id=1, response_key="later", response_date=date(2026, 3, 30),
                                                  scale="current", rating=1, comment="Physiotherapist later",
                                                  mode="SMS"))
    assert found(empty_engine, config, ADMIN, "physiotherapist") == ["Physiotherapist later"]
    if empty_engine.dialect.name == "sqlite":
        with empty_engine.begin() as conn:
            triggers = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
            assert f"{FTS_TABLE}_insert" in triggers
            conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')"))
