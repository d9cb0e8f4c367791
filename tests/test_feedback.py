"""Patient feedback queries: FFT percentages with intervals and suppression, the old question as its own series,
comments (who may read them, redaction, search, themes) and complaints. Both backends."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, insert, select

from data_layer import engine as calc
from data_layer import feedback as fb
from data_layer import models as m
from data_layer.analytics import wilson_interval
from data_layer.measures.fft_summary import answer_counts as summary_answer_counts
from data_layer.measures.sources import fft_monthly
from data_layer.measures.fft_summary import fft_monthly_from_summary, refresh_fft_summary
from data_layer.measures.refresh import refresh as refresh_measures
from data_layer.scope import Viewer

ADMIN = Viewer("admin@test.invalid", "admin")
BOARD = Viewer("board@test.invalid", "board")
LEAD_A = Viewer("lead@test.invalid", "practice_lead", ("Z1",))
VIEWER = Viewer("viewer@test.invalid", "viewer")
WINDOW = calc.Filters(period_end=date(2026, 4, 1), months=12)

# (practice, date, scale, rating, comment)
RESPONSES = [
    # March 2026, Z1: 6 responses -> 3 positive (50%), 1 negative, "Don't know" stays in the total
    ("Z1", date(2026, 3, 2), "current", 1, "Lovely nurse, very kind."),
    ("Z1", date(2026, 3, 3), "current", 1, None),
    ("Z1", date(2026, 3, 4), "current", 2, "Seen on time."),
    ("Z1", date(2026, 3, 5), "current", 3, None),
    ("Z1", date(2026, 3, 6), "current", 4, "OWN-MARKER could not get through on the phone, ring me on 07700 900123"),
    ("Z1", date(2026, 3, 7), "current", 6, None),
    # March 2026, Z2: 3 responses -> hidden on its own; the month for both practices has 9
    ("Z2", date(2026, 3, 10), "current", 1, "OTHER-MARKER great prescription service"),
    ("Z2", date(2026, 3, 11), "current", 1, None),
    ("Z2", date(2026, 3, 12), "current", 5, "OTHER-MARKER rude receptionist"),
    # April 2026: only 2 responses in all -> not shown
    ("Z1", date(2026, 4, 2), "current", 1, "=HYPERLINK(\"http://x\") nice"),
    ("Z1", date(2026, 4, 3), "current", 2, None),
    # February 2026: Z1 still on the old "how likely to recommend" question -> its own series only
    ("Z1", date(2026, 2, 2), "legacy", 1, None),
    ("Z1", date(2026, 2, 3), "legacy", 2, None),
    ("Z1", date(2026, 2, 4), "legacy", 2, "Would recommend, the phone line was quick"),
    ("Z1", date(2026, 2, 5), "legacy", 5, None),
    ("Z1", date(2026, 2, 6), "legacy", 6, None),
]
COMPLAINTS = [  # practice, reference, received, acknowledged, resolved, category, summary
    ("Z1", "C1", date(2026, 3, 2), date(2026, 3, 5), date(2026, 3, 20), "Telephone access",
     "OWN-MARKER complaint, call 07700 900456"),  # Mon -> Thu: 3 working days, in time
    ("Z1", "C2", date(2026, 3, 2), date(2026, 3, 9), None, "Staff attitude", "OWN-MARKER second"),  # 5 days: late
    ("Z2", "C3", date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 31), "Prescriptions", "OTHER-MARKER complaint"),
]


@pytest.fixture
def small(empty_engine, config):
    with empty_engine.begin() as conn:
        ids = {}
        for code, name in (("Z1", "Alpha Surgery"), ("Z2", "Beta Surgery")):
            ids[code] = conn.execute(insert(m.Practice).values(code=code, name=name, list_size=5000, active=True,
                                                               pcn="Test PCN")).inserted_primary_key[0]
        for i, (p, d, scale, rating, comment) in enumerate(RESPONSES):
            conn.execute(insert(m.FFTResponse).values(practice_id=ids[p], response_key=f"r{i}", response_date=d,
                                                      scale=scale, rating=rating, comment=comment, mode="SMS"))
        for p, ref, rec, ack, res, cat, summary in COMPLAINTS:
            conn.execute(insert(m.Complaint).values(practice_id=ids[p], reference=ref, received_on=rec,
                                                    acknowledged_on=ack, resolved_on=res, category=cat,
                                                    summary=summary))
    refresh_measures(empty_engine, config)
    return empty_engine


def test_fft_by_month_percentages_intervals_and_suppression(small, config):
    monthly = fb.fft_by_month(small, config, BOARD, WINDOW).set_index("month")
    assert pd.Timestamp("2026-02-01") not in monthly.index  # old-question month never joins the current series
    march = monthly.loc[pd.Timestamp("2026-03-01")]
    assert march["total"] == 9 and march["positive"] == 5 and march["negative"] == 2
    assert march["pct_positive"] == pytest.approx(500 / 9)
    lo, hi = wilson_interval(5, 9)
    assert (march["positive_lower"], march["positive_upper"]) == (pytest.approx(lo * 100), pytest.approx(hi * 100))
    april = monthly.loc[pd.Timestamp("2026-04-01")]
    assert april["suppressed"] and np.isnan(april["pct_positive"]) and np.isnan(april["total"])
    assert np.isnan(april["positive_lower"])  # the interval would give the hidden value away
    assert april["note"] == "Not shown: fewer than 5 responses"


def test_second_level_suppression_within_a_month(small, config):
    pm = fb.fft_practice_months(small, config, BOARD, WINDOW)
    march = pm[pm["month"] == pd.Timestamp("2026-03-01")].set_index("practice_code")
    assert march.loc["Z2", "suppressed"] and np.isnan(march.loc["Z2", "pct_positive"])
    # Z1 has enough responses, but its counts would give away Z2's (9 in all - 6 = 3): hidden too, with its
    # percentage and interval (the interval's width gives the count back), as on every other page
    assert march.loc["Z1", "suppressed"] and np.isnan(march.loc["Z1", "total"])
    assert np.isnan(march.loc["Z1", "pct_positive"]) and np.isnan(march.loc["Z1", "positive_lower"])
    assert "cannot be worked out" in march.loc["Z1", "note"]


def test_old_question_is_its_own_series(small, config):
    old = fb.fft_by_month(small, config, BOARD, WINDOW, scale="legacy")
    assert list(old["month"]) == [pd.Timestamp("2026-02-01")]
    assert old.iloc[0]["pct_positive"] == pytest.approx(60)  # extremely likely + likely, of all 5
    used = fb.legacy_use(small, config, BOARD, WINDOW)
    assert used.iloc[0]["practice_code"] == "Z1" and used.iloc[0]["months"] == 1 and used.iloc[0]["responses"] == 5


def test_monthly_counts_agree_with_the_stored_fft_indicator(demo_engine, config):
    filters = calc.Filters(practice_codes=("Z90003",), months=24)
    monthly = fb.fft_by_month(demo_engine, config, BOARD, filters)
    stored = fb.fft_trends(demo_engine, config, BOARD, filters)["FFT_POSITIVE"].series
    merged = monthly.merge(stored, left_on="month", right_on="period_start")
    assert len(merged) == len(monthly) == 24
    assert np.allclose(merged["pct_positive"], merged["value"])


def test_comments_only_for_the_viewers_practices_and_redacted(small, config):
    board = fb.comments(small, config, BOARD, WINDOW)
    # Z2's March (3 responses) and Z1's April (2) have too few responses to show: their comments are not listed
    # either, as their answers would give the hidden figures away
    assert board.matching == 4 and len(board.rows) == 4
    text = " ".join(board.rows["comment"])
    assert "OTHER-MARKER" not in text and "HYPERLINK" not in text
    assert "07700 900123" not in text and "[phone number removed]" in text
    assert "Would recommend" in text  # old-question comments are comments too, labelled by their question
    old = board.rows[board.rows["question"] != "Current"].iloc[0]
    assert old["answer"] == "Likely"
    admin = fb.comments(small, config, ADMIN, WINDOW)
    assert "07700 900123" in " ".join(admin.rows["comment"])
    lead = fb.comments(small, config, LEAD_A, WINDOW)
    assert set(lead.rows["practice_code"]) == {"Z1"} and "OTHER-MARKER" not in " ".join(lead.rows["comment"])
    other = fb.comments(small, config, LEAD_A, calc.Filters(period_end=date(2026, 4, 1), months=12,
                                                            practice_codes=("Z2",)))
    assert other.rows.empty and "your own practice" in other.reason
    viewer = fb.comments(small, config, VIEWER, WINDOW)
    assert viewer.rows.empty and viewer.matching == 0 and "figures only" in viewer.reason


def test_comment_search_filters_and_themes(small, config):
    found = fb.comments(small, config, BOARD, WINDOW, search="PHONE")
    assert found.matching == 2  # any case, either question
    assert fb.comments(small, config, BOARD, WINDOW, search="07700").matching == 0  # redacted text is not searchable
    assert fb.comments(small, config, ADMIN, WINDOW, search="07700").matching == 1
    assert fb.comments(small, config, BOARD, WINDOW, search="100%").matching == 0  # % is not a wildcard
    assert fb.comments(small, config, BOARD, WINDOW, ratings=(4, 5)).matching == 1  # Z2's "rude" is in a hidden month
    march = fb.comments(small, config, BOARD, WINDOW, month=date(2026, 3, 1))
    assert set(pd.to_datetime(march.rows["date"]).dt.month) == {3}
    rude = fb.comments(small, config, BOARD, WINDOW, themes=("Staff attitude",))
    assert set(rude.rows["comment"]) == {"Lovely nurse, very kind."}  # Z2's "rude receptionist": hidden month
    assert "Phone" in found.rows.iloc[0]["themes"].split(", ")
    assert fb.comments(small, config, BOARD, WINDOW, practice_codes=("Z2",)).matching == 0
    capped = fb.comments(small, config, BOARD, WINDOW, limit=2)
    assert capped.matching == 4 and len(capped.rows) == 2
    everything = fb.comments(small, config, BOARD, WINDOW)
    for n in (1, 2, 3, 6):  # the newest n, whichever months they fall in
        pd.testing.assert_frame_equal(fb.comments(small, config, BOARD, WINDOW, limit=n).rows, everything.rows.head(n))
    bad = fb.comments(small, config, BOARD, WINDOW, ratings=(4, 5), limit=1)
    assert bad.matching == 1 and list(bad.rows["comment"])[0].startswith("OWN-MARKER could not get through")


def test_theme_counts_in_sql_agree_with_the_tags_shown(small, config):
    counts = fb.comment_themes(small, config, VIEWER, WINDOW).set_index("theme")  # counts: every role
    rows = fb.comments(small, config, ADMIN, WINDOW).rows
    for theme in fb.theme_names(config):
        tagged = rows["themes"].str.split(", ").apply(lambda t: theme in t)
        assert counts.loc[theme, "total"] == int(tagged.sum()), theme
    assert counts.loc["Phone", "negative"] == 1 and counts.loc["Phone", "positive"] == 1


def test_tag_themes_words(config):
    assert fb.tag_themes(config, "Waited 40 minutes on the phone") == ["Phone", "Waiting"]
    assert fb.tag_themes(config, "") == [] and fb.tag_themes(config, None) == []


def test_complaints_aggregates_for_all_details_for_own_practice(small, config):
    summary = fb.complaints_summary(small, config, VIEWER, WINDOW).set_index("practice_code")
    assert summary.loc["Z1", "received"] == 2 and summary.loc["Z1", "open"] == 1
    assert summary.loc["Z1", "ack_in_time"] == 1 and summary.loc["Z1", "ack_pct"] == 50  # same as COMPLAINTS_ACK_3D
    assert summary.loc["Z1", "median_days_to_ack"] == 4  # 3 and 5 working days
    assert summary.loc["ALL", "received"] == 3 and summary.loc["ALL", "ack_pct"] == pytest.approx(200 / 3)
    cats = fb.complaints_by_category(small, config, VIEWER, WINDOW)
    assert cats["received"].sum() == 3
    assert fb.complaint_details(small, config, VIEWER, WINDOW).empty
    lead = fb.complaint_details(small, config, LEAD_A, WINDOW)
    assert set(lead["reference"]) == {"C1", "C2"}
    c1 = lead.set_index("reference").loc["C1"]
    assert c1["days_to_ack"] == 3 and c1["ack_in_time"] == "yes" and "07700" not in c1["summary"]
    assert lead.set_index("reference").loc["C2", "ack_in_time"] == "no"
    board = fb.complaint_details(small, config, BOARD, WINDOW)
    assert set(board["reference"]) == {"C1", "C2", "C3"}


def test_response_modes_hide_small_months(small, config):
    modes = fb.response_modes(small, config, BOARD, WINDOW).set_index("month")
    assert modes.loc[pd.Timestamp("2026-03-01"), "SMS"] == 9
    assert modes.loc[pd.Timestamp("2026-02-01"), "total"] == 5  # both questions count as responses
    assert modes.loc[pd.Timestamp("2026-04-01"), "suppressed"]
    assert np.isnan(modes.loc[pd.Timestamp("2026-04-01"), "SMS"])


def test_demo_stories_are_visible(demo_engine, config):
    from data_layer.training import practice_signals

    signals = practice_signals(demo_engine, config, BOARD, calc.Filters(), "FFT_POSITIVE").set_index("practice_code")
    harbour = signals.loc["Z90003"]
    latest = calc.latest_period(demo_engine)
    months_ago = (pd.Timestamp(latest).year - harbour["concern_from"].year) * 12 + \
        pd.Timestamp(latest).month - harbour["concern_from"].month
    assert 14 <= months_ago <= 20 and not harbour["concern_now"]  # a dip about 18 months ago, since recovered
    used = fb.legacy_use(demo_engine, config, BOARD, calc.Filters()).set_index("practice_code")
    assert list(used.index) == ["Z90008"] and used.loc["Z90008", "months"] == 5


def test_practices_are_compared_with_the_whole_federation(small, config):
    everyone, pooled = fb.fft_by_practice(small, config, BOARD, WINDOW)
    assert pooled == pytest.approx(700 / 11)  # 7 positive of 11 responses, both practices, March and April
    rows = everyone.set_index("practice_code")
    assert rows.loc["Z2", "note"] == "Not shown: fewer than 5 responses" and rows.loc["Z2", "compared"] == "not compared"
    assert np.isnan(rows.loc["Z1", "total"]) and np.isnan(rows.loc["Z1", "pct_positive"])  # second level
    one, pooled_one = fb.fft_by_practice(small, config, LEAD_A, calc.Filters(period_end=date(2026, 4, 1), months=12,
                                                                            practice_codes=("Z1",)))
    assert pooled_one == pooled and list(one["practice_code"]) == ["Z1"]
    assert np.isnan(one.iloc[0]["total"])  # still hidden: the federation total would give Z2's count away


# ----------------------------------------------------------------------------------------------------------------
# The FFT summary and the stored theme tags give the same figures as counting the raw responses
# ----------------------------------------------------------------------------------------------------------------
def _old_counts(engine, config, viewer, filters) -> fb.FFTCounts:
    """The FFT counts as the feedback page made them before the summary: derived.fft_monthly over every response."""
    sc = fb.scope(engine, config, viewer, filters)
    with engine.connect() as conn:
        current, legacy = fft_monthly(conn, "current"), fft_monthly(conn, "legacy")
    return fb.FFTCounts(sc, fb._practice_month_counts(engine, sc, "current", monthly=current),
                        fb._practice_month_counts(engine, sc, "legacy", monthly=legacy),
                        fb._practice_month_counts(engine, sc, "current", every_practice=True, monthly=current))


def _sorted(df):
    return df.sort_values(["practice_id", "month"]).reset_index(drop=True)


def test_summary_gives_the_same_fft_figures_as_the_raw_responses_on_the_demo(demo_engine, config):
    with demo_engine.connect() as conn:
        for scale in ("current", "legacy"):
            old, new = fft_monthly(conn, scale), fft_monthly_from_summary(conn, scale)
            assert len(new) > 0
            pd.testing.assert_frame_equal(_sorted(new), _sorted(old))
    for filters in (calc.Filters(), calc.Filters(practice_codes=("Z90003", "Z90008"), months=24)):
        old, new = _old_counts(demo_engine, config, BOARD, filters), fb.fft_counts(demo_engine, config, BOARD, filters)
        for scale in ("current", "legacy"):
            pd.testing.assert_frame_equal(fb.fft_by_month(demo_engine, config, BOARD, filters, scale, counts=new),
                                          fb.fft_by_month(demo_engine, config, BOARD, filters, scale, counts=old))
        pd.testing.assert_frame_equal(fb.fft_practice_months(demo_engine, config, BOARD, filters, counts=new),
                                      fb.fft_practice_months(demo_engine, config, BOARD, filters, counts=old))
        (per_new, pooled_new), (per_old, pooled_old) = (
            fb.fft_by_practice(demo_engine, config, BOARD, filters, counts=c) for c in (new, old))
        pd.testing.assert_frame_equal(per_new, per_old)
        assert pooled_new == pooled_old
        pd.testing.assert_frame_equal(fb.legacy_use(demo_engine, config, BOARD, filters, counts=new),
                                      fb.legacy_use(demo_engine, config, BOARD, filters, counts=old))
    assert not fb.legacy_use(demo_engine, config, BOARD, calc.Filters()).empty  # the old question is in the demo


def test_modes_and_theme_counts_agree_with_the_raw_responses_on_the_demo(demo_engine, config):
    filters = calc.Filters(practice_codes=("Z90001", "Z90002", "Z90003"), months=12)
    sc = fb.scope(demo_engine, config, BOARD, filters)
    with demo_engine.connect() as conn:
        raw = pd.DataFrame(conn.execute(
            select(m.FFTResponse.response_date, m.FFTResponse.mode, m.FFTResponse.rating, m.FFTResponse.comment,
                   m.FFTResponse.comment_2).join(m.Practice, m.Practice.id == m.FFTResponse.practice_id)
            .where(m.Practice.code.in_(sc.codes), m.FFTResponse.response_date >= sc.start,
                   m.FFTResponse.response_date <= sc.end_date)).all(),
            columns=["date", "mode", "rating", "comment", "comment_2"])
    raw["month"] = pd.to_datetime(raw["date"]).dt.to_period("M").dt.to_timestamp()
    modes = fb.response_modes(demo_engine, config, BOARD, filters).set_index("month")
    expected = raw.groupby(["month", "mode"]).size().unstack(fill_value=0)
    assert len(modes) == len(expected) == 12
    for mode in fb.MODES:
        assert modes[mode].tolist() == expected.get(mode, pd.Series(0, index=expected.index)).tolist(), mode
    assert modes["total"].tolist() == raw.groupby("month").size().tolist()

    themes = fb.comment_themes(demo_engine, config, VIEWER, filters).set_index("theme")
    commented = raw[raw["comment"].notna() | raw["comment_2"].notna()]
    text = (commented["comment"].fillna("") + " " + commented["comment_2"].fillna("")).str.lower()
    assert list(themes.index) and set(themes.index) == set(fb.theme_names(config))
    for theme in config.themes:
        hit = text.apply(lambda s: any(w in s for w in theme.words))
        negative = hit & commented["rating"].isin([4, 5])
        assert themes.loc[theme.name, "total"] == int(hit.sum()), theme.name
        assert themes.loc[theme.name, "negative"] == int(negative.sum()), theme.name
    assert themes["total"].sum() > 0


def test_aggregated_monthly_counts_fill_only_months_without_responses(small, config):
    with small.begin() as conn:
        ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())
        # January: Z2 sent NHS England's aggregated counts only -> they are used
        conn.execute(insert(m.FFTMonthlyCount).values(
            practice_id=ids["Z2"], month=date(2026, 1, 1), scale="current", very_good=10, good=5, neither=2, poor=1,
            very_poor=1, dont_know=1, total=20, mode_sms=12, mode_online=3, mode_paper=None, mode_telephone=1,
            mode_other=0))
        # March: Z1 has individual responses, so its aggregated counts are never added to them
        conn.execute(insert(m.FFTMonthlyCount).values(
            practice_id=ids["Z1"], month=date(2026, 3, 1), scale="current", very_good=50, good=0, neither=0, poor=0,
            very_poor=0, dont_know=0, total=50, mode_sms=50))
        refresh_fft_summary(conn)
    monthly = fb.fft_by_month(small, config, BOARD, WINDOW).set_index("month")
    jan = monthly.loc[pd.Timestamp("2026-01-01")]
    assert jan["total"] == 20 and jan["positive"] == 15 and jan["pct_positive"] == pytest.approx(75)
    assert monthly.loc[pd.Timestamp("2026-03-01"), "total"] == 9  # still the 9 individual responses
    modes = fb.response_modes(small, config, BOARD, WINDOW).set_index("month")
    assert modes.loc[pd.Timestamp("2026-01-01"), ["SMS", "Online", "Paper", "Telephone", "Other"]].tolist() == [
        12, 3, 0, 1, 0]
    assert modes.loc[pd.Timestamp("2026-01-01"), "Not recorded"] == 4  # 20 in all, 16 with a mode
    assert modes.loc[pd.Timestamp("2026-03-01"), "total"] == 9
    with small.connect() as conn:
        pd.testing.assert_frame_equal(_sorted(fft_monthly_from_summary(conn)), _sorted(fft_monthly(conn)))


def test_summary_refresh_for_one_practice_leaves_the_others(small, config):
    with small.begin() as conn:
        ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())
        for i in range(3):
            conn.execute(insert(m.FFTResponse).values(practice_id=ids["Z2"], response_key=f"late{i}",
                                                      response_date=date(2026, 3, 20), scale="current", rating=1,
                                                      comment=None, mode="Online"))
        conn.execute(delete(m.FFTResponse).where(m.FFTResponse.practice_id == ids["Z1"],
                                                 m.FFTResponse.response_date == date(2026, 3, 2)))
        refresh_fft_summary(conn, practice_ids=[ids["Z2"]])
    with small.connect() as conn:
        counts = summary_answer_counts(conn, "current", tuple(ids.values()), date(2026, 3, 1), date(2026, 3, 1))
    march = counts.assign(code=counts["practice_id"].map({v: k for k, v in ids.items()})).set_index("code")
    assert march.loc["Z2", "total"] == 6  # 3 + the 3 new ones
    assert march.loc["Z1", "total"] == 6  # Z1 was not refreshed: its deleted response is still counted
    with small.connect() as conn:
        commented = conn.execute(select(func.sum(m.FFTSummary.comments)).where(
            m.FFTSummary.practice_id == ids["Z2"])).scalar_one()
    assert commented == 2  # Z2's two comments; the new responses have none


def test_complaint_over_christmas_counts_bank_holidays(small, config):
    with small.begin() as conn:
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == "Z1")).scalar_one()
        conn.execute(insert(m.Complaint).values(practice_id=pid, reference="XMAS", received_on=date(2024, 12, 2),
                                                acknowledged_on=date(2024, 12, 5), resolved_on=date(2025, 1, 28),
                                                category="Access", summary="over Christmas"))
    filters = calc.Filters(period_end=date(2024, 12, 1), months=1)
    row = fb.complaint_details(small, config, LEAD_A, filters).set_index("reference").loc["XMAS"]
    assert row["days_to_resolve"] == 38  # 41 weekdays less Christmas Day, Boxing Day and New Year's Day
    assert row["days_to_ack"] == 3 and row["ack_in_time"] == "yes"
    summary = fb.complaints_summary(small, config, VIEWER, filters).set_index("practice_code")
    assert summary.loc["Z1", "median_days_to_resolve"] == 38


def test_summary_refresh_for_one_month_leaves_the_other_months(small, config):
    with small.begin() as conn:
        ids = dict(conn.execute(select(m.Practice.code, m.Practice.id)).all())
        conn.execute(delete(m.FFTResponse).where(m.FFTResponse.practice_id == ids["Z1"]))
        refresh_fft_summary(conn, months=[date(2026, 3, 15)])  # as after an import of March only
    with small.connect() as conn:
        counts = fft_monthly_from_summary(conn)
    totals = counts.groupby(["month", "practice_id"])["total"].sum()
    assert totals.loc[pd.Timestamp("2026-03-01")].to_dict() == {ids["Z2"]: 3}  # March recounted: Z1's are gone
    assert totals.loc[pd.Timestamp("2026-04-01")].to_dict() == {ids["Z1"]: 2}  # April untouched
    assert fb.legacy_use(small, config, BOARD, WINDOW).iloc[0]["responses"] == 5  # February untouched
