"""The board views' data layer (data_layer/views.py) on the demo federation and on small hand-built databases.

The demo federation has stories a board must be able to see: Millstream Surgery's training sliding in the last year,
Harbour View Surgery's patient feedback dropping about 18 months ago and recovering, diabetes HbA1c control improving
from month -16 and domestic abuse referrals rising from month -18. These tests check the views tell those stories,
and that every figure agrees with the one engine.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from data_layer.measures.refresh import refresh as refresh_measures
from data_layer import engine as calc
from data_layer import models as m
from data_layer import training, views
from data_layer.analytics import funnel_position, wilson_interval
from data_layer.bulk import record_batch
from data_layer.scope import AccessDenied, Viewer

BOARD = Viewer("board@test.invalid", "board")
LEAD = Viewer("lead@test.invalid", "practice_lead", ("Z90001",))
VIEWER = Viewer("viewer@test.invalid", "viewer")
ALL = calc.Filters()
MILLSTREAM, HARBOUR_VIEW = "Z90005", "Z90003"


@pytest.fixture
def practice_rows(demo_engine, config):
    return views.practice_results(demo_engine, config, BOARD, ALL)


def months_before_latest(engine, months: int) -> pd.Timestamp:
    return pd.Timestamp(calc.latest_period(engine)) - pd.DateOffset(months=months)


# ---------------------------------------------------------------------------------------------------------------
# Per practice, through the engine
# ---------------------------------------------------------------------------------------------------------------
def test_each_practice_figure_is_its_own_numerator_over_denominator_for_its_latest_month(demo_engine, config,
                                                                                        practice_rows):
    rows, results = practice_rows
    assert rows["practice_code"].nunique() == 11
    assert set(rows["indicator_code"]) == set(views.kpi_codes(config))
    raw = calc.indicator_by_practice(demo_engine, ["HYP_BP"], (MILLSTREAM,))
    last = raw.sort_values("period_start").iloc[-1]
    row = rows[(rows["practice_code"] == MILLSTREAM) & (rows["indicator_code"] == "HYP_BP")].iloc[0]
    assert row["value"] == pytest.approx(last["numerator"] / last["denominator"] * 100)
    lo, hi = wilson_interval(last["numerator"], last["denominator"])
    assert (row["lower_ci"], row["upper_ci"]) == pytest.approx((lo * 100, hi * 100))
    # the same number the engine gives when the filters choose that one practice
    one = calc.kpi_results(demo_engine, config, BOARD, calc.Filters(practice_codes=(MILLSTREAM,)), codes=["HYP_BP"])
    assert row["value"] == pytest.approx(one["HYP_BP"].latest_value)
    assert results[(MILLSTREAM, "HYP_BP")].rag == one["HYP_BP"].rag


def test_better_and_worse_mean_the_whole_interval_is_beyond_the_federation(practice_rows):
    rows, _ = practice_rows
    higher_better = rows[rows["direction"] == "higher"]
    better = higher_better[higher_better["comparison"] == "better"]
    worse = higher_better[higher_better["comparison"] == "worse"]
    assert len(better) and len(worse)
    assert (better["lower_ci"] > better["federation_value"]).all()
    assert (worse["upper_ci"] < worse["federation_value"]).all()
    similar = rows[rows["comparison"] == "similar"]
    assert ((similar["lower_ci"] <= similar["federation_value"]) & (similar["upper_ci"] >= similar["federation_value"])).all()
    lower_better = rows[(rows["direction"] == "lower") & (rows["comparison"] == "better")]
    assert (lower_better["upper_ci"] < lower_better["federation_value"]).all()


def test_a_filter_with_no_practices_gives_no_rows(demo_engine, config):
    rows, results = views.practice_results(demo_engine, config, BOARD, calc.Filters(pcn="No such PCN"))
    assert rows.empty and results == {}


# ---------------------------------------------------------------------------------------------------------------
# The demo stories
# ---------------------------------------------------------------------------------------------------------------
def test_millstream_training_slide_is_a_concern_and_heads_the_training_list(demo_engine, config, practice_rows):
    rows, _ = practice_rows
    mill = rows[(rows["practice_code"] == MILLSTREAM) & (rows["indicator_code"] == "TRAINING_COMPLIANCE")].iloc[0]
    assert mill["variation"] == "concern_low"
    federation = calc.kpi_results(demo_engine, config, BOARD, ALL)
    lapsing = training.lapsing_counts(training.snapshot(demo_engine, config, BOARD, ALL))
    items = views.attention_items(config, federation, rows, lapsing)
    concerns = items[items["kind"] == views.KIND_CONCERN]
    assert ((concerns["practice_code"] == MILLSTREAM) & (concerns["indicator_code"] == "TRAINING_COMPLIANCE")).any()
    lapsed = items[items["kind"] == views.KIND_TRAINING]
    assert lapsed.iloc[0]["practice_code"] == MILLSTREAM
    assert "Millstream Surgery" in lapsed.iloc[0]["headline"] and "lapsed" in lapsed.iloc[0]["headline"]


def test_harbour_view_feedback_dip_is_explained_and_it_has_recovered(demo_engine, config, practice_rows):
    rows, results = practice_rows
    res = results[(HARBOUR_VIEW, "FFT_POSITIVE")]
    runs = views.special_cause_runs(res)
    dip = runs[runs["kind"] == "Concern"]
    change = months_before_latest(demo_engine, 18)
    assert len(dip), runs
    assert any(abs((pd.Timestamp(f) - change).days) <= 62 for f in dip["from"])
    assert all("Concern (low)" in w for w in dip["words"])
    assert not res.spc.variation.startswith("concern")  # recovered: the latest month is no longer a concern


def test_hba1c_improvement_shows_as_a_run_from_month_minus_16_and_rebasing_settles_it(demo_engine, config):
    res = calc.kpi_results(demo_engine, config, BOARD, ALL, codes=["DM_HBA1C"])["DM_HBA1C"]
    runs = views.special_cause_runs(res)
    improving = runs[runs["kind"] == "Improvement"].iloc[-1]
    assert pd.Timestamp(improving["from"]) == months_before_latest(demo_engine, 15)
    assert res.spc.variation == "improvement_high"
    after = views.rebased(res, config, improving["from"])
    assert after.spc.points["segment"].nunique() == 2
    assert after.spc.variation == "common_cause"  # the new level is now the process
    assert after.latest_value == res.latest_value and after.rag == res.rag  # only the chart's limits changed
    assert views.rebased(res, config, date(1990, 1, 1)) is res  # a month outside the series changes nothing


def test_domestic_abuse_referrals_rise_from_month_minus_18(demo_engine, config):
    res = calc.kpi_results(demo_engine, config, BOARD, ALL, codes=["DA_REFERRALS"])["DA_REFERRALS"]
    runs = views.special_cause_runs(res)
    rise = runs[runs["kind"] == "Improvement"].iloc[-1]
    assert abs((pd.Timestamp(rise["from"]) - months_before_latest(demo_engine, 17)).days) <= 62
    assert pd.Timestamp(rise["to"]) == pd.Timestamp(calc.latest_period(demo_engine))


# ---------------------------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------------------------
def test_aim_summary_counts_agree_with_the_scorecard(demo_engine, config):
    results = calc.kpi_results(demo_engine, config, BOARD, ALL)
    card = calc.scorecard(config, results)
    aim = card[card["aim_id"] == "high-quality-safe-care"]
    text = views.aim_summary(config, "high-quality-safe-care", results)
    on = int((aim["rag"] == "green").sum())
    assert text.startswith(f"{on} of {aim['target'].notna().sum()} measures with a target")
    assert "Improving (special cause): Diabetes: HbA1c 58 mmol/mol or less" in text
    for r in aim[aim["rag"] == "red"].itertuples():
        assert f"{r.indicator} is " in text
    empty = calc.kpi_results(demo_engine, config, BOARD, calc.Filters(pcn="No such PCN"))
    assert views.aim_summary(config, "high-quality-safe-care", empty).startswith("No data")


def test_assurance_is_not_claimed_for_a_measure_that_is_changing(demo_engine, config):
    results = calc.kpi_results(demo_engine, config, BOARD, ALL)
    online = results["ONLINE_ACCESS"]  # climbing steadily: its limits span the climb
    assert online.spc.variation.startswith("improvement") and online.spc.assurance == "fail"
    aim = next(a.id for a in config.aims if any(k.indicator == "ONLINE_ACCESS" for k in a.kpis))
    text = views.aim_summary(config, aim, results)
    assert "Patients registered for online services" in text
    fails = next((s for s in text.split(". ") if "will not be met" in s), "")
    assert "Patients registered for online services" not in fails  # climbing: not claimed to be failing


def test_matrix_cells_carry_value_and_symbol_never_colour_alone(demo_engine, config, practice_rows):
    rows, _ = practice_rows
    federation = calc.kpi_results(demo_engine, config, BOARD, ALL)
    grid = views.practice_matrix(rows, federation, config)
    assert grid["practice"].iloc[0] == "Federation"
    assert len(grid) == len(views.kpi_codes(config)) * 12
    with_target = grid[grid["rag"] != "none"]
    assert with_target["text"].str.contains("[✔▲✖]$").all()
    fed_fft = grid[(grid["practice"] == "Federation") & (grid["indicator_code"] == "FFT_POSITIVE")].iloc[0]
    assert fed_fft["text"].startswith(calc.format_value(federation["FFT_POSITIVE"].latest_value, "%"))
    assert views.cell_text(None, "%", "none", True) == "not shown"
    assert views.cell_text(None, "%", "none", False) == "no data"
    assert views.cell_text(100.0, "%", "green", False) == "100% ✔"
    assert views.cell_text(2.345, "per 10,000", "red", False) == "2.35 ✖"


# ---------------------------------------------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------------------------------------------
def test_funnel_pools_numerators_over_denominators_and_places_practices(demo_engine, config):
    points, pooled, month = views.indicator_funnel(demo_engine, config, BOARD, ALL, "FFT_POSITIVE")
    raw = calc.indicator_by_practice(demo_engine, ["FFT_POSITIVE"], start=month, end=month)
    assert pooled == pytest.approx(raw["numerator"].sum() / raw["denominator"].sum() * 100)
    assert len(points) == 11 and month == calc.latest_period(demo_engine)
    expected = funnel_position(points["numerator"], points["denominator"], pooled / 100, 0.998)
    mapped = {"above": "better", "below": "worse", "within": "within"}
    assert list(points["position"]) == [mapped[p] for p in expected]
    chalk = points[points["label"] == "Chalk Hill Medical Practice"].iloc[0]
    assert chalk["comparison"] == "worse" and chalk["position_95"] == "worse" and chalk["position"] == "within"


def test_funnel_over_12_months_pools_each_practice_s_year(demo_engine, config):
    month_only, _, _ = views.indicator_funnel(demo_engine, config, BOARD, ALL, "SEA_LEARNING")
    points, pooled, month = views.indicator_funnel(demo_engine, config, BOARD, ALL, "SEA_LEARNING", span_months=12)
    assert len(month_only) < 11 == len(points)  # few practices have an event in one month; all do in a year
    first = (pd.Timestamp(month) - pd.DateOffset(months=11)).date()
    raw = calc.indicator_by_practice(demo_engine, ["SEA_LEARNING"], start=first, end=month)
    assert pooled == pytest.approx(raw["numerator"].sum() / raw["denominator"].sum() * 100)
    mill = raw[raw["practice_code"] == MILLSTREAM]
    row = points[points["practice_code"] == MILLSTREAM].iloc[0]
    assert (row["numerator"], row["denominator"]) == (mill["numerator"].sum(), mill["denominator"].sum())


def test_funnel_highlights_the_filtered_practice_but_compares_them_all(demo_engine, config):
    points, _, _ = views.indicator_funnel(demo_engine, config, BOARD, calc.Filters(practice_codes=(HARBOUR_VIEW,)),
                                          "DM_HBA1C")
    assert len(points) == 11
    assert points.loc[points["highlight"], "practice_code"].tolist() == [HARBOUR_VIEW]


def _small_federation(engine, config, fft_counts: dict[str, tuple[int, int]]):
    """Practices with one month (March 2026) of FFT responses: code -> (Very good answers, all answers), the rest
    "Poor"; then the measure store is refreshed as an import would."""
    with engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        for i, code in enumerate(fft_counts):
            conn.execute(insert(m.Practice).values(id=i + 1, code=code, name=f"Practice {code}", pcn="Test PCN",
                                                   list_size=5000, active=True, batch_id=batch))
        for i, (code, (good, total)) in enumerate(fft_counts.items()):
            conn.execute(insert(m.FFTResponse), [
                {"practice_id": i + 1, "response_key": f"{code}-{k}", "response_date": date(2026, 3, 10),
                 "scale": "current", "rating": 1 if k < good else 4, "batch_id": batch} for k in range(total)])
    refresh_measures(engine, config)


def test_funnel_hides_practices_with_fewer_than_5_responses_after_pooling(empty_engine, config):
    _small_federation(empty_engine, config, {"Z1": (90, 100), "Z2": (160, 200), "Z3": (3, 4)})
    points, pooled, month = views.indicator_funnel(empty_engine, config, BOARD, ALL, "FFT_POSITIVE")
    assert month == date(2026, 3, 1)
    assert pooled == pytest.approx((90 + 160 + 3) / (100 + 200 + 4) * 100)  # pooled before suppression
    small = points[points["practice_code"] == "Z3"].iloc[0]
    assert small["suppressed"] and np.isnan(small["value"]) and np.isnan(small["numerator"])
    assert small["note"] == "Not shown: fewer than 5 responses"
    assert small["comparison"] == "not compared"
    # Z3 = federation − Z1 − Z2 would give Z3 away: the next smallest practice is hidden too (second level)
    next_smallest = points[points["practice_code"] == "Z1"].iloc[0]
    assert next_smallest["suppressed"] and np.isnan(next_smallest["denominator"])
    assert next_smallest["note"].startswith("Not shown: hidden so a smaller figure cannot be worked out")
    assert not points[points["practice_code"] == "Z2"]["suppressed"].any()


def test_where_a_number_came_from(demo_engine):
    batches = views.last_batches(demo_engine, ["DM_HBA1C", "FFT_POSITIVE"]).set_index("indicator_code")
    assert batches.loc["DM_HBA1C", "kind"] == "demo"
    assert batches.loc["FFT_POSITIVE", "kind"] == "derived"
    assert batches.loc["DM_HBA1C", "last_period"] == calc.latest_period(demo_engine)
    assert batches.loc["DM_HBA1C", "rows"] == 11 * 36


# ---------------------------------------------------------------------------------------------------------------
# Complaints and significant events: aggregates for all, details only for people who may see them
# ---------------------------------------------------------------------------------------------------------------
def test_complaint_and_event_counts_cover_the_12_months_to_the_period_end(demo_engine, config):
    summary = views.practice_complaints(demo_engine, config, VIEWER, ALL, HARBOUR_VIEW)
    details = views.complaints_list(demo_engine, BOARD, ALL, HARBOUR_VIEW)
    assert summary["count"] == len(details) > 0
    assert summary["by_category"]["Complaints"].sum() == summary["count"]
    assert summary["open"] == int(details["Resolved"].isna().sum())
    assert pd.to_datetime(details["Received"]).min() >= pd.Timestamp(summary["start"])
    events = views.significant_events_summary(demo_engine, VIEWER, ALL, HARBOUR_VIEW)
    assert events["count"] == len(views.significant_events_list(demo_engine, BOARD, ALL, HARBOUR_VIEW))
    assert 0 <= events["with_learning"] <= events["count"]
    earlier = views.practice_complaints(demo_engine, config, VIEWER, calc.Filters(period_end=date(2024, 10, 1)),
                                      HARBOUR_VIEW)
    assert earlier["end"] == date(2024, 10, 31) and earlier["count"] != summary["count"]


@pytest.mark.parametrize("viewer", [VIEWER, LEAD])
def test_complaint_details_are_refused_to_people_who_may_not_see_them(demo_engine, viewer):
    with pytest.raises(AccessDenied):
        views.complaints_list(demo_engine, viewer, ALL, HARBOUR_VIEW)
    with pytest.raises(AccessDenied):
        views.significant_events_list(demo_engine, viewer, ALL, HARBOUR_VIEW)


def test_a_practice_lead_sees_their_own_complaint_details_redacted(demo_engine):
    own = views.complaints_list(demo_engine, LEAD, ALL, "Z90001")
    assert len(own)
    assert not own["Summary"].fillna("").str.contains(r"07700 ?900\d{3}|@example\.com").any()
