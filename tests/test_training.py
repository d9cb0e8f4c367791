"""Staff training queries: hand-worked compliance, lapsing buckets, hours over the rolling window, who may see
names, and agreement with the stored indicator the board sees. Both backends."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import insert

from data_layer import engine as calc
from data_layer import models as m
from data_layer import training as tr
from data_layer.config import parse_config
from data_layer.scope import Viewer

AS_OF = date(2026, 6, 30)
BOARD = Viewer("board@test.invalid", "board")
LEAD_A = Viewer("lead@test.invalid", "practice_lead", ("Z1",))
VIEWER = Viewer("viewer@test.invalid", "viewer")

# A two-course policy small enough to work out by hand: fire safety renewed every 12 months by everyone, and
# safeguarding children level 3 for GPs as 8 hours over a rolling 36 months.
SMALL_CONFIG = parse_config("""
name = "Test Federation"
short_name = "TF"
[thresholds]
lapsing_buckets = [30, 60, 90]
[[indicators]]
code = "TRAINING_COMPLIANCE"
name = "Mandatory training compliance"
description = "d"
numerator = "n"
denominator = "d"
direction = "higher"
key_question = "Safe"
quality_statements = ["Safe and effective staffing"]
source = "s"
derived = "training_compliance"
[[aims]]
id = "staff"
title = "Trained staff"
kpis = [{ indicator = "TRAINING_COMPLIANCE", target = 95, tolerance = 5 }]
[training]
roles = ["GP", "Receptionist"]
courses = [
  { code = "FIRE", name = "Fire safety", subject = "Fire safety", renewal_months = 12 },
  { code = "SG_CHILDREN_L3", name = "Safeguarding children – level 3", subject = "Safeguarding children", level = 3, renewal_months = 36 },
]
requirements = [
  { course = "FIRE", roles = ["GP", "Receptionist"] },
  { course = "SG_CHILDREN_L3", roles = ["GP"], hours = 8, window_months = 36 },
]
""")


@pytest.fixture
def small(empty_engine):
    """Practice Z1 (Ada, GP; Bob, receptionist; Cy, left in January) and Z2 (Dee, GP; Eve, receptionist)."""
    staff = [  # code, name, role, practice, start, end
        ("S1", "Ada Marker-One", "GP", "Z1", date(2015, 1, 1), None),
        ("S2", "Bob Marker-One", "Receptionist", "Z1", date(2020, 1, 1), None),
        ("S3", "Cy Leaver", "Receptionist", "Z1", date(2019, 1, 1), date(2026, 1, 1)),
        ("S4", "Dee Marker-Two", "GP", "Z2", date(2018, 1, 1), None),
        ("S5", "Eve Marker-Two", "Receptionist", "Z2", None, None),
    ]
    completions = [  # staff, course, date, hours
        ("S1", "FIRE", date(2024, 8, 1), None),  # older completion: only the latest counts
        ("S1", "FIRE", date(2025, 8, 15), None),  # expires 15 Aug 2026: 46 days left -> lapses in 31-60 days
        ("S1", "SG_CHILDREN_L3", date(2023, 1, 10), 4.0),  # out of the window by 30 Jun 2026
        ("S1", "SG_CHILDREN_L3", date(2024, 3, 1), 3.0),
        ("S1", "SG_CHILDREN_L3", date(2025, 5, 1), 3.0),  # 6 of 8 hours in the window -> lapsed
        ("S2", "FIRE", date(2025, 7, 20), None),  # expires 20 Jul 2026: 20 days left -> within 30 days
        ("S3", "FIRE", date(2020, 1, 1), None),  # left: not counted at all
        ("S4", "FIRE", date(2025, 1, 5), None),  # expired 5 Jan 2026 -> lapsed
        ("S4", "SG_CHILDREN_L3", date(2024, 1, 1), 4.0),
        ("S4", "SG_CHILDREN_L3", date(2025, 1, 1), 4.0),  # 8 of 8 hours: met until 1 Jan 2027
        ("S4", "FIRE", date(2026, 8, 1), None),  # after the date measured: ignored
    ]
    with empty_engine.begin() as conn:
        ids = {}
        for code, name in (("Z1", "Alpha Surgery"), ("Z2", "Beta Surgery")):
            ids[code] = conn.execute(insert(m.Practice).values(code=code, name=name, list_size=5000,
                                                               active=True)).inserted_primary_key[0]
        sid = {}
        for code, name, role, practice, start, end in staff:
            sid[code] = conn.execute(insert(m.Staff).values(staff_code=code, name=name, role=role,
                                                            practice_id=ids[practice], start_date=start,
                                                            end_date=end)).inserted_primary_key[0]
        for s, course, done, hours in completions:
            conn.execute(insert(m.TrainingCompletion).values(staff_id=sid[s], course=course, completed_on=done,
                                                             hours=hours))
    return empty_engine


def _cell(matrix: pd.DataFrame, practice: str, course: str) -> pd.Series:
    return matrix[(matrix["practice_code"] == practice) & (matrix["course"] == course)].iloc[0]


def test_compliance_matrix_worked_by_hand(small):
    snap = tr.snapshot(small, SMALL_CONFIG, BOARD, calc.Filters(), as_of=AS_OF)
    assert len(snap.status) == 6  # Ada 2, Bob 1, Dee 2, Eve 1; Cy has left
    mx = tr.compliance_matrix(snap)
    fire_a = _cell(mx, "Z1", "FIRE")
    assert (fire_a["required"], fire_a["in_date"], fire_a["lapsing"]) == (2, 2, 2)  # both lapse within 90 days
    assert _cell(mx, "Z1", "SG_CHILDREN_L3")["compliance_pct"] == 0
    fire_b = _cell(mx, "Z2", "FIRE")
    assert (fire_b["in_date"], fire_b["lapsed"], fire_b["never_completed"]) == (0, 1, 1)
    assert _cell(mx, "Z2", "SG_CHILDREN_L3")["compliance_pct"] == 100
    assert _cell(mx, "Z1", "ALL")["compliance_pct"] == pytest.approx(200 / 3)
    assert _cell(mx, "ALL", "FIRE")["compliance_pct"] == 50  # 2 of 4, not the mean of 100% and 0%
    assert _cell(mx, "ALL", "ALL")["compliance_pct"] == 50  # 3 of 6
    roles = tr.compliance_by_role(snap).set_index("role")
    assert roles.loc["GP", "required"] == 4 and roles.loc["GP", "compliance_pct"] == 50
    assert roles.loc["Receptionist", "staff"] == 2 and roles.loc["All roles", "staff"] == 4


def test_lapsing_buckets_and_the_named_chase_list(small):
    snap = tr.snapshot(small, SMALL_CONFIG, BOARD, calc.Filters(), as_of=AS_OF)
    counts = tr.lapsing_counts(snap).set_index("practice_code")
    assert counts.loc["Z1", "Lapsed"] == 1 and counts.loc["Z1", "Lapses within 30 days"] == 1
    assert counts.loc["Z1", "Lapses in 31–60 days"] == 1 and counts.loc["Z1", "Total to act on"] == 3
    assert counts.loc["Z2", "Lapsed"] == 1 and counts.loc["Z2", "Never completed"] == 1
    assert counts.loc["ALL", "Total to act on"] == 5
    chase = tr.chase_list(snap, BOARD)
    # most overdue first: Dee's fire safety expired 5 Jan; Ada's hours last met on 10 Jan (2023 session + 36 months)
    assert list(zip(chase["name"], chase["course"], chase["bucket"])) == [
        ("Dee Marker-Two", "FIRE", "Lapsed"),
        ("Ada Marker-One", "SG_CHILDREN_L3", "Lapsed"),
        ("Eve Marker-Two", "FIRE", "Never completed"),
        ("Bob Marker-One", "FIRE", "Lapses within 30 days"),
        ("Ada Marker-One", "FIRE", "Lapses in 31–60 days"),
    ]
    bob = chase[chase["name"] == "Bob Marker-One"].iloc[0]
    assert bob["days_left"] == 20 and bob["expires_on"] == pd.Timestamp("2026-07-20")


def test_safeguarding_hours_over_the_rolling_window(small):
    snap = tr.snapshot(small, SMALL_CONFIG, BOARD, calc.Filters(), as_of=AS_OF)
    hours = tr.hours_summary(snap, SMALL_CONFIG).set_index("practice_code")
    assert hours.loc["Z1", "hours_done"] == 6 and hours.loc["Z1", "shortfall_hours"] == 2  # 2023 session expired
    assert hours.loc["Z2", "meeting"] == 1 and hours.loc["Z2", "hours_done"] == 8
    assert hours.loc["ALL", "meeting_pct"] == 50 and hours.loc["ALL", "window_months"] == 36
    people = tr.hours_by_person(snap, BOARD)
    assert people.iloc[0]["name"] == "Ada Marker-One" and people.iloc[0]["shortfall_hours"] == 2
    dee = people[people["name"] == "Dee Marker-Two"].iloc[0]
    assert dee["expires_on"] == pd.Timestamp("2027-01-01")  # the oldest session still needed + 36 months


def test_names_only_for_the_viewers_own_practice(small):
    lead = tr.snapshot(small, SMALL_CONFIG, LEAD_A, calc.Filters(), as_of=AS_OF)
    assert set(lead.status.loc[lead.status["practice_code"] == "Z2", "name"]) == {""}  # never read
    assert set(tr.chase_list(lead, LEAD_A)["name"]) == {"Ada Marker-One", "Bob Marker-One"}
    assert tr.lapsing_counts(lead).set_index("practice_code").loc["Z2", "Total to act on"] == 2  # counts still
    assert set(tr.hours_by_person(lead, LEAD_A)["practice_code"]) == {"Z1"}
    # a practice lead looking at another practice only: counts, no names
    other = tr.snapshot(small, SMALL_CONFIG, LEAD_A, calc.Filters(practice_codes=("Z2",)), as_of=AS_OF)
    assert other.person_level == () and tr.chase_list(other, LEAD_A).empty
    view = tr.snapshot(small, SMALL_CONFIG, VIEWER, calc.Filters(), as_of=AS_OF)
    assert set(view.status["name"]) == {""} and tr.chase_list(view, VIEWER).empty
    assert tr.hours_by_person(view, VIEWER).empty
    assert tr.compliance_matrix(view).equals(tr.compliance_matrix(tr.snapshot(
        small, SMALL_CONFIG, BOARD, calc.Filters(), as_of=AS_OF)))  # the figures are the same for everyone


def test_practice_filter_and_empty_states(small):
    snap = tr.snapshot(small, SMALL_CONFIG, BOARD, calc.Filters(practice_codes=("Z2",)), as_of=AS_OF)
    assert set(snap.status["practice_code"]) == {"Z2"}
    assert list(tr.lapsing_counts(snap)["practice_code"]) == ["Z2", "ALL"]
    nobody = tr.snapshot(small, SMALL_CONFIG, BOARD, calc.Filters(pcn="No such PCN"), as_of=AS_OF)
    assert nobody.status.empty and nobody.practices.empty
    assert tr.compliance_matrix(nobody).empty and tr.chase_list(nobody, BOARD).empty
    before = tr.snapshot(small, SMALL_CONFIG, BOARD, calc.Filters(), as_of=date(2010, 1, 1))
    assert len(before.status) == 1  # only Eve (no start date) counts in 2010, never completed
    assert tr.compliance_by_role(before).set_index("role").loc["All roles", "compliance_pct"] == 0


def test_snapshot_date_is_the_chosen_month_end_never_the_future(demo_engine):
    assert tr.snapshot_date(demo_engine, calc.Filters(period_end=date(2025, 2, 1)), today=date(2026, 1, 1)) == \
        date(2025, 2, 28)
    assert tr.snapshot_date(demo_engine, calc.Filters(period_end=date(2025, 2, 1)), today=date(2025, 2, 10)) == \
        date(2025, 2, 10)
    latest = calc.latest_period(demo_engine)
    assert tr.action_date(demo_engine, calc.Filters(), today=date(2099, 1, 1)) == date(2099, 1, 1)
    earlier = (pd.Timestamp(latest) - pd.DateOffset(months=6)).date()
    assert tr.action_date(demo_engine, calc.Filters(period_end=earlier), today=date(2099, 1, 1)) == \
        (pd.Timestamp(earlier) + pd.offsets.MonthEnd(0)).date()


def test_matrix_agrees_with_the_boards_stored_indicator(demo_engine, config):
    """The training page's overall figure and the overview's headline are the same number for the same month."""
    for filters in (calc.Filters(), calc.Filters(practice_codes=("Z90005",)), calc.Filters(pcn="Estuary PCN")):
        snap = tr.snapshot(demo_engine, config, BOARD, filters)
        overall = _cell(tr.compliance_matrix(snap), "ALL", "ALL")["compliance_pct"]
        stored = tr.compliance_trends(demo_engine, config, BOARD, filters)["TRAINING_COMPLIANCE"]
        assert stored.latest_value == pytest.approx(overall)
        assert snap.as_of == (pd.Timestamp(stored.latest_period) + pd.offsets.MonthEnd(0)).date()


def test_millstreams_slide_is_visible_in_words(demo_engine, config):
    signals = tr.practice_signals(demo_engine, config, BOARD, calc.Filters(), "TRAINING_COMPLIANCE")
    mill = signals.set_index("practice_code").loc["Z90005"]
    assert mill["practice_name"] == "Millstream Surgery"
    assert mill["concern_now"] and mill["change"] < -5
    assert "continuing in the latest month" in mill["summary"]
    others = signals[signals["practice_code"] != "Z90005"]
    assert (others["change"].astype(float) > -5).all()  # the slide is Millstream's alone
