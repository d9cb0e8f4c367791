"""The measure store: every figure worked out once when data arrives, judged honestly, and read everywhere.

Each test names the defect it holds (issue 10's list of what users saw).
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from data_layer import engine as calc
from data_layer import models as m
from data_layer.analytics import spc
from data_layer.bulk import record_batch
from data_layer.measures import compute, store
from data_layer.measures.refresh import mark_stale, refresh, stale_reason
from data_layer.scope import Viewer

BOARD = Viewer("board@test.invalid", "board")


# ---------------------------------------------------------------------------------------------------------------
# The table's icon is the chart's icon
# ---------------------------------------------------------------------------------------------------------------
def test_every_stored_icon_is_what_the_chart_of_the_same_series_says(demo_engine, config):
    """The stored variation of every federation and practice series equals spc() run on the points its chart
    draws: the icon in a table can never disagree with the chart (PowerBI-SPC issues 359, 382, 463)."""
    when = calc.latest_period(demo_engine)
    checked = 0
    for area_type in ("federation", "practice"):
        ev = store.evaluations(demo_engine, area_type, None, when)
        vals = store.values(demo_engine, area_type, None, None)
        groups = dict(list(vals.groupby(["indicator_code", "area_code"])))
        for row in ev[ev["judgement"] == "judged"].itertuples(index=False):
            ind = config.indicator(row.indicator_code)
            series = calc._window_series(groups[(row.indicator_code, row.area_code)], ind, row, config)
            judged = series[~series["suppressed"].astype(bool) & ~series["small"].astype(bool)]
            points = judged.set_index("period_start")["value"].dropna()
            if len(points) < 2:
                assert row.variation == "none"
                continue
            target = config.targets().get(ind.code, (None,))[0]
            chart = spc(points, ind.direction, target, run_length=config.thresholds.spc_run_length)
            assert chart.variation == row.variation, (row.indicator_code, row.area_code)
            assert (chart.assurance if target is not None else "none") == row.assurance
            checked += 1
    assert checked > 300


def test_a_rebuilt_store_holds_the_same_figures(demo_engine, config, empty_engine):
    """Refreshing twice gives identical figures (the store is a function of the raw data)."""
    ev = store.evaluations(demo_engine, "federation", None, calc.latest_period(demo_engine))
    assert set(ev["indicator_code"]) == set(config.indicator_codes)  # every catalogue measure has a judgement
    assert len(ev) == len(config.indicator_codes)
    assert set(calc.kpi_results(demo_engine, config, BOARD, calc.Filters())) <= set(ev["indicator_code"])
    assert set(ev["judgement"]) <= {"judged", "too_few", "not_received", "no_data", "suppressed"}


# ---------------------------------------------------------------------------------------------------------------
# Small federations built by hand
# ---------------------------------------------------------------------------------------------------------------
def _practices(conn, batch, codes_pcns: dict[str, str]) -> dict[str, int]:
    ids = {}
    for code, pcn in codes_pcns.items():
        ids[code] = conn.execute(insert(m.Practice).values(code=code, name=f"Practice {code}", pcn=pcn,
                                                           list_size=5000, active=True, batch_id=batch)
                                 ).inserted_primary_key[0]
    return ids


def _values(conn, batch, pid: int, code: str, rows):
    for month, num, den in rows:
        conn.execute(insert(m.IndicatorValue).values(
            indicator_code=code, practice_id=pid, period_start=month,
            period_end=(pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date(), numerator=num, denominator=den,
            value=None if num is None or den is None else num / den * 100, batch_id=batch))


MONTHS = [d.date() for d in pd.date_range("2025-01-01", periods=15, freq="MS")]


def test_a_count_without_a_denominator_does_not_lift_the_federation_figure(empty_engine, config):
    """One practice with a count and no denominator lifted cervical screening from 75.4% to 94.9%."""
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P", "Z2": "P", "Z3": "P"})
        _values(conn, batch, ids["Z1"], "CERVICAL_SCREENING", [(d, 754, 1000) for d in MONTHS])
        _values(conn, batch, ids["Z2"], "CERVICAL_SCREENING", [(d, 754, 1000) for d in MONTHS])
        _values(conn, batch, ids["Z3"], "CERVICAL_SCREENING", [(d, 5000, None) for d in MONTHS])
    refresh(empty_engine, config)
    res = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(), codes=["CERVICAL_SCREENING"])
    assert res["CERVICAL_SCREENING"].latest_value == pytest.approx(75.4)
    assert res["CERVICAL_SCREENING"].denominator == 2000


def test_a_published_interval_is_shown_as_the_file_gives_it_and_the_pcns_is_worked_out(empty_engine, config):
    """A Fingertips row gives its count, denominator, value and interval: the practice shows that interval (its
    publisher's method), not one worked out again; the PCN the federation adds up has Wilson's on the summed counts."""
    from data_layer.analytics import wilson_interval

    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P", "Z2": "P"})
        for month in MONTHS:
            conn.execute(insert(m.IndicatorValue).values(
                indicator_code="CERVICAL_SCREENING", practice_id=ids["Z1"], period_start=month,
                period_end=(pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date(), numerator=303, denominator=2803,
                value=10.809847, lower_ci=9.713529, upper_ci=12.013436, batch_id=batch))
        _values(conn, batch, ids["Z2"], "CERVICAL_SCREENING", [(d, 300, 2800) for d in MONTHS])
    refresh(empty_engine, config)
    one = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(practice_codes=("Z1",)),
                           codes=["CERVICAL_SCREENING"])["CERVICAL_SCREENING"]
    assert (one.latest_value, one.lower_ci, one.upper_ci) == (10.809847, 9.713529, 12.013436)
    both = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(), codes=["CERVICAL_SCREENING"])
    lo, hi = wilson_interval(np.array([603.0]), np.array([5603.0]))
    assert both["CERVICAL_SCREENING"].lower_ci == pytest.approx(float(lo[0]) * 100)
    assert both["CERVICAL_SCREENING"].upper_ci == pytest.approx(float(hi[0]) * 100)


def test_a_flat_series_has_no_limits_and_is_not_hit_and_miss(empty_engine, config):
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P"})
        _values(conn, batch, ids["Z1"], "CERVICAL_SCREENING", [(d, 800, 1000) for d in MONTHS])
    refresh(empty_engine, config)
    res = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(), codes=["CERVICAL_SCREENING"])
    r = res["CERVICAL_SCREENING"]
    assert r.variation == "no_variation" and r.assurance != "hit_and_miss"
    assert "hit and miss" not in r.spc.assurance_text.lower() and "no variation" in r.spc.variation_text.lower()


def test_percentage_limits_stay_within_0_and_100(empty_engine, config):
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P"})
        noisy = [(d, 1000 if i % 2 else 600, 1000) for i, d in enumerate(MONTHS)]
        _values(conn, batch, ids["Z1"], "CERVICAL_SCREENING", noisy)
    refresh(empty_engine, config)
    ev = store.evaluations(empty_engine, "federation", None, MONTHS[-1], ["CERVICAL_SCREENING"]).iloc[0]
    assert ev["upper_limit"] == 100.0 and ev["lower_limit"] >= 0
    r = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(), codes=["CERVICAL_SCREENING"])
    assert (r["CERVICAL_SCREENING"].spc.points["upper_limit"] <= 100).all()


def _complaints(conn, batch, pid: int, n_per_month: int, months):
    k = 0
    for month in months:
        for _ in range(n_per_month):
            k += 1
            received = pd.Timestamp(month) + pd.Timedelta(days=2)
            conn.execute(insert(m.Complaint).values(
                practice_id=pid, reference=f"C{pid}-{k}", received_on=received.date(), category="Access",
                acknowledged_on=(received + pd.Timedelta(days=10)).date(), resolved_on=None, batch_id=batch))


def test_one_complaint_a_month_is_too_few_to_judge_and_never_red(empty_engine, config):
    """Complaints acknowledged in 3 days rested on a median of 1 complaint a month: 0 of 1 was "red"."""
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P", "Z2": "P"})
        _complaints(conn, batch, ids["Z1"], 1, MONTHS)  # every one acknowledged late
        _complaints(conn, batch, ids["Z2"], 6, MONTHS)
    refresh(empty_engine, config)
    one = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(practice_codes=("Z1",)),
                           codes=["COMPLAINTS_ACK_3D"])["COMPLAINTS_ACK_3D"]
    assert one.period_months == 3  # rare events are judged over three months, as the config says
    assert one.judgement == "too_few" and one.rag == "none" and one.variation == "too_few"
    assert one.judgement_text.startswith("Too few to judge")
    busy = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(practice_codes=("Z2",)),
                            codes=["COMPLAINTS_ACK_3D"])["COMPLAINTS_ACK_3D"]
    assert busy.judgement == "judged" and busy.rag == "red" and busy.denominator == 18


# ---------------------------------------------------------------------------------------------------------------
# Suppression: no hidden figure can be worked out from what is shown
# ---------------------------------------------------------------------------------------------------------------
FFT_SIZES = {  # practice -> (PCN, responses in the month)
    "Z1": ("North", 3), "Z2": ("North", 40), "Z3": ("North", 55),
    "Z4": ("South", 2), "Z5": ("South", 4), "Z6": ("South", 80),
    "Z7": ("East", 60), "Z8": ("East", 70), "Z9": ("West", 1),
}


@pytest.fixture
def small_fft(empty_engine, config):
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {c: p for c, (p, _) in FFT_SIZES.items()})
        rows = []
        for code, (_, n) in FFT_SIZES.items():
            rows += [{"practice_id": ids[code], "response_key": f"{code}-{k}", "response_date": date(2026, 3, 9),
                      "scale": "current", "rating": 1 + k % 5, "batch_id": batch} for k in range(n)]
        conn.execute(insert(m.FFTResponse), rows)
    refresh(empty_engine, config)
    return empty_engine


def test_no_hidden_fft_count_can_be_worked_out_by_subtraction(small_fft, config):
    """The funnel table once showed 381 − 370 − 8 = 3: for every parent (federation, PCN) and every FFT measure, the
    parent's shown count minus the counts shown for its children never isolates one hidden child."""
    vals = store.values(small_fft, "practice", None, None)
    pcn_vals = store.values(small_fft, "pcn", None, None)
    fed = store.values(small_fft, "federation", None, None)
    pcn_of = {c: p for c, (p, _) in FFT_SIZES.items()}
    for code in [i.code for i in config.indicators if i.suppression == "fft"]:
        v = vals[vals["indicator_code"] == code].assign(pcn=lambda d: d["area_code"].map(pcn_of))
        for parent, kids in [(fed, v.assign(parent="ALL")), (pcn_vals, v.assign(parent=v["pcn"])),
                             (fed, pcn_vals.assign(parent="ALL"))]:
            for name, g in kids.groupby("parent"):
                shown_parent = parent[(parent["indicator_code"] == code) & (parent["area_code"] == name)]
                if shown_parent.empty or shown_parent["suppressed"].iloc[0]:
                    continue
                hidden = g[g["indicator_code"] == code]["suppressed"].sum()
                assert hidden != 1, (code, name)  # one hidden child = parent − the others
    # the primary rule: 1-4 responses hidden everywhere, with counts and value
    fft = [i.code for i in config.indicators if i.suppression == "fft"]
    small = vals[vals["area_code"].isin(["Z1", "Z4", "Z5", "Z9"]) & vals["indicator_code"].isin(fft)]
    assert small["suppressed"].all() and small["numerator"].isna().all() and small["denominator"].isna().all()
    assert small["value"].isna().all() and small["lower_ci"].isna().all()
    # the West PCN is one practice with one response: the PCN is hidden, and so is one other PCN
    pcn_fft = pcn_vals[pcn_vals["indicator_code"].isin(fft)]
    assert pcn_fft[pcn_fft["area_code"] == "West"]["suppressed"].all()
    assert pcn_fft[pcn_fft["area_code"] != "West"].groupby("indicator_code")["suppressed"].sum().min() >= 1


def test_responses_per_1000_is_hidden_with_the_other_fft_figures(small_fft, config):
    """"FFT responses per 1,000" showed 3.0 of 1,000 for a practice whose FFT counts were hidden."""
    rate = store.values(small_fft, "practice", ["Z1"], ["FFT_RESPONSE_RATE"])
    assert rate["suppressed"].all() and rate["value"].isna().all() and rate["numerator"].isna().all()
    one = calc.kpi_results(small_fft, config, BOARD, calc.Filters(practice_codes=("Z1",)),
                           codes=["FFT_RESPONSE_RATE", "FFT_POSITIVE"])
    assert all(r.suppressed and r.latest_value is None and r.denominator is None for r in one.values())


def test_several_practices_together_hide_a_month_any_of_them_hides(small_fft, config):
    two = calc.kpi_results(small_fft, config, BOARD, calc.Filters(practice_codes=("Z1", "Z2")),
                           codes=["FFT_POSITIVE"])["FFT_POSITIVE"]
    assert two.suppressed and two.latest_value is None and two.denominator is None
    fine = calc.kpi_results(small_fft, config, BOARD, calc.Filters(practice_codes=("Z7", "Z8")),
                            codes=["FFT_POSITIVE"])["FFT_POSITIVE"]
    assert not fine.suppressed and fine.denominator == 130


# ---------------------------------------------------------------------------------------------------------------
# The refresh: one transaction, resumable
# ---------------------------------------------------------------------------------------------------------------
def test_a_refresh_that_dies_leaves_the_old_figures_and_is_finished_by_the_next(empty_engine, config, monkeypatch):
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P"})
        _values(conn, batch, ids["Z1"], "CERVICAL_SCREENING", [(d, 700, 1000) for d in MONTHS])
    refresh(empty_engine, config)
    with empty_engine.begin() as conn:
        _values(conn, None, ids["Z1"], "HYP_BP", [(d, 600, 1000) for d in MONTHS])
        mark_stale(conn, "import of hyp.csv")

    def crash(*_a, **_k):
        raise KeyboardInterrupt("killed during the recalculation")

    monkeypatch.setattr(compute, "evaluate", crash)
    with pytest.raises(KeyboardInterrupt):
        refresh(empty_engine, config, reason="import of hyp.csv")
    assert stale_reason(empty_engine) == "import of hyp.csv"
    old = store.evaluations(empty_engine, "federation", None, MONTHS[-1])
    assert "CERVICAL_SCREENING" in set(old["indicator_code"])  # the previous figures are still readable
    assert "HYP_BP" not in set(old["indicator_code"])
    monkeypatch.undo()
    from data_layer.cli import main

    monkeypatch.setenv("DATABASE_URL", empty_engine.url.render_as_string(hide_password=False))
    assert main(["refresh"]) == 0
    assert stale_reason(empty_engine) is None
    new = store.evaluations(empty_engine, "federation", None, MONTHS[-1])
    assert {"CERVICAL_SCREENING", "HYP_BP"} <= set(new["indicator_code"])
    with empty_engine.connect() as conn:
        finished = conn.execute(select(func.count()).select_from(m.MeasureRefresh).where(
            m.MeasureRefresh.finished_at.is_not(None))).scalar_one()
    assert finished == 2


# ---------------------------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------------------------
def test_the_models_and_the_migrations_describe_the_same_schema(empty_engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from data_layer.comment_search import include_name

    with empty_engine.connect() as conn:
        # The comment search indexes (FTS5 table, expression index) are made by migration 0008, not the models.
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                       "include_name": include_name}),
                                m.Base.metadata)
    assert diff == []


def test_the_area_a_choice_of_filters_means(config):
    assert store.area_for((), None, None, config).area_type == "federation"
    assert store.area_for((), "North PCN", None, config) == store.Area("pcn", "North PCN", "North PCN")
    assert store.area_for(("Z1",), None, None, config, {"Z1": "One"}).label == "One"
    assert not store.area_for(("Z1", "Z2"), None, None, config).stored
    assert np.isfinite(compute.FREQUENCY_MONTHS["annual"])


# ---------------------------------------------------------------------------------------------------------------
# One date for "lapsing", one cache for one scope
# ---------------------------------------------------------------------------------------------------------------
def test_lapsing_is_counted_on_one_date_on_the_overview_profile_and_training_page(app_env, config):
    """"Lapsing" was counted at the month end on the overview and practice profile but today on the training page."""
    from data_layer import training as tr
    from ui import training_feedback as tf
    from ui import views as uv

    for filters in (calc.Filters(), calc.Filters(period_end=date(2026, 5, 1))):
        overview = uv.training_lapsing(BOARD, filters).set_index("practice_code")
        _, act_on = tf.training_dates(filters)  # what the training page counts lapsing on
        page = tr.lapsing_counts(tf.training_snapshot(BOARD, filters, act_on)).set_index("practice_code")
        profile = uv.practice_training(BOARD, filters, "Z90003")
        assert profile["lapsing_as_of"] == act_on
        cols = ["Lapsed", "Never completed", "Lapses within 30 days", "Lapses in 31–60 days", "Lapses in 61–90 days"]
        assert overview[cols].equals(page[cols])
        mine = profile["lapsing"].set_index("practice_code").loc["Z90003", cols]
        assert mine.equals(page.loc["Z90003", cols])


def test_a_second_board_member_gets_the_first_ones_cached_work(app_env, config, monkeypatch):
    from ui import views as uv

    calls = []
    real = calc.kpi_results
    monkeypatch.setattr(calc, "kpi_results", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    first = uv.kpi_results(Viewer("first@test.invalid", "board"), calc.Filters())
    second = uv.kpi_results(Viewer("second@test.invalid", "board", name="Second"), calc.Filters())
    assert len(calls) == 1 and first.keys() == second.keys()
    uv.kpi_results(Viewer("lead@test.invalid", "practice_lead", ("Z90001",)), calc.Filters())
    assert len(calls) == 2  # another role is another answer


def test_a_rebase_note_restarts_the_limits_in_the_store_and_on_the_chart(empty_engine, config):
    """A known change (a new recall system) restarts the SPC limits from its month, for every view and pack."""
    from data_layer.governance import notes

    months = [d.date() for d in pd.date_range("2024-01-01", periods=24, freq="MS")]
    level = [600 + (i % 3) * 5 if i < 12 else 800 + (i % 3) * 5 for i in range(24)]  # a step up in month 13
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P"})
        _values(conn, batch, ids["Z1"], "CERVICAL_SCREENING", [(d, n, 1000) for d, n in zip(months, level)])
    refresh(empty_engine, config)
    before = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(), codes=["CERVICAL_SCREENING"])
    assert before["CERVICAL_SCREENING"].variation.startswith("improvement")  # the step is a shift before rebasing
    admin = Viewer("admin@test.invalid", "admin")
    notes.add_note(empty_engine, admin, config, indicator_code="CERVICAL_SCREENING", month="2025-01",
                   text="Recall system started", rebase=True, refresh=False)
    assert stale_reason(empty_engine)  # the note says the figures must be worked out again
    refresh(empty_engine, config, reason="rebase")
    for filters in (calc.Filters(), calc.Filters(practice_codes=("Z1",))):
        after = calc.kpi_results(empty_engine, config, BOARD, filters, codes=["CERVICAL_SCREENING"])
        r = after["CERVICAL_SCREENING"]
        assert r.variation == "common_cause"
        points = r.spc.points
        assert points["segment"].nunique() == 2  # the chart draws the old and the new limits
        ev = store.evaluations(empty_engine, "federation" if not filters.practice_codes else "practice", None,
                               months[-1], ["CERVICAL_SCREENING"]).iloc[0]
        assert points["mean"].iloc[-1] == pytest.approx(ev["mean"])  # the chart's new mean is the stored one


# ---------------------------------------------------------------------------------------------------------------
# The same number on the screen as in the store, for every measure of every practice
# ---------------------------------------------------------------------------------------------------------------
def test_every_practice_profile_shows_the_stored_figure_of_every_measure(app_env, monkeypatch, config):
    """Every measure × practice on the demo: the practice profile's table shows the store's value and status, and
    the overview's practice × measure matrix cell the same value (one property test, not a sample)."""
    from data_layer.engine import format_value
    from tests.test_pages_board import open_page

    when = calc.latest_period(get_engine_for(app_env))
    engine = get_engine_for(app_env)
    stored = store.evaluations(engine, "practice", None, when).set_index(["area_code", "indicator_code"])
    codes = list(dict.fromkeys(r["indicator_code"] for r in config.kpi_rows()))
    names = {r["indicator_code"]: r["indicator"] for r in config.kpi_rows()}
    at = open_page(monkeypatch, BOARD, "pages/overview.py")
    practices = sorted(stored.index.get_level_values(0).unique())
    checked = 0
    for code in practices:
        at.query_params["profile"] = code
        at.switch_page("pages/practice.py").run()
        assert not at.exception
        table = next(d.value for d in at.dataframe if {"Measure", "Practice", "Status"} <= set(d.value.columns))
        shown = table.drop_duplicates("Measure").set_index("Measure")
        for ind_code in codes:
            ind = config.indicator(ind_code)
            ev = stored.loc[(code, ind_code)] if (code, ind_code) in stored.index else None
            row = shown.loc[names[ind_code]]
            expected = "Not shown" if ev is not None and ev["judgement"] == "suppressed" else format_value(
                None if ev is None or pd.isna(ev["value"]) else float(ev["value"]), ind.unit)
            assert row["Practice"] == expected, (code, ind_code)
            checked += 1
    assert checked == len(practices) * len(codes)


def get_engine_for(url):
    from data_layer.db import get_engine

    return get_engine(url)


# ---------------------------------------------------------------------------------------------------------------
# An import refreshes what it changed, and only that
# ---------------------------------------------------------------------------------------------------------------
def test_an_fft_import_re_judges_the_fft_measures_and_leaves_the_others(empty_engine, config):
    from tests.test_imports import FIXTURES, federation, imp

    federation(empty_engine, config)
    with empty_engine.begin() as conn:
        pid = conn.execute(select(m.Practice.id).where(m.Practice.code == "G82139")).scalar_one()
        _values(conn, None, pid, "CERVICAL_SCREENING", [(d, 700, 1000) for d in MONTHS])
    refresh(empty_engine, config)
    with empty_engine.connect() as conn:
        first = conn.execute(select(func.max(m.MeasureRefresh.id))).scalar_one()
    result = imp(empty_engine, config, FIXTURES / "fft_responses.csv")
    assert result.imported and stale_reason(empty_engine) is None
    jan = store.values(empty_engine, "practice", ["G82139"], ["FFT_POSITIVE"], date(2025, 1, 1), date(2025, 1, 1))
    assert (jan["numerator"].iloc[0], jan["denominator"].iloc[0]) == (3.0, 5.0)
    with empty_engine.connect() as conn:
        kept = conn.execute(select(func.min(m.MeasureValue.refresh_id)).where(
            m.MeasureValue.indicator_code == "CERVICAL_SCREENING")).scalar_one()
        fft = conn.execute(select(func.min(m.MeasureValue.refresh_id)).where(
            m.MeasureValue.indicator_code == "FFT_POSITIVE")).scalar_one()
    assert kept == first and fft > first  # the FFT measures were worked out again, the others kept


def test_a_gp_patient_survey_item_on_3_respondents_is_not_shown(empty_engine, config):
    """thresholds.gpps_suppression_min was never read: GP Patient Survey items on 3 respondents showed as 100%."""
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "P", "Z2": "P", "Z3": "P"})
        _values(conn, batch, ids["Z1"], "GPPS_PHONE", [(MONTHS[-1], 3, 3)])
        _values(conn, batch, ids["Z2"], "GPPS_PHONE", [(MONTHS[-1], 40, 60)])
        _values(conn, batch, ids["Z3"], "GPPS_PHONE", [(MONTHS[-1], 50, 80)])
    refresh(empty_engine, config)
    assert config.thresholds.gpps_suppression_min == 10
    tiny = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(practice_codes=("Z1",)), codes=["GPPS_PHONE"])
    assert tiny["GPPS_PHONE"].suppressed and tiny["GPPS_PHONE"].latest_value is None
    assert "fewer than 10" in tiny["GPPS_PHONE"].judgement_text
    # the next smallest practice is hidden too, so the federation figure does not give Z1 away
    z2 = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(practice_codes=("Z2",)), codes=["GPPS_PHONE"])
    assert z2["GPPS_PHONE"].suppressed
    fed = calc.kpi_results(empty_engine, config, BOARD, calc.Filters(), codes=["GPPS_PHONE"])["GPPS_PHONE"]
    assert fed.denominator == 143 and not fed.suppressed


def test_a_group_chosen_in_the_sidebar_narrows_every_practice_view(demo_engine, config):
    from data_layer import views

    group = config.groups[0]
    filters = calc.Filters(group=group.id)
    rows, _ = views.practice_results(demo_engine, config, BOARD, filters)
    assert set(rows["practice_code"]) == set(group.practices)
    fed = calc.kpi_results(demo_engine, config, BOARD, filters, codes=["HYP_BP"])["HYP_BP"]
    stored = store.evaluations(demo_engine, "group", [group.id], calc.latest_period(demo_engine), ["HYP_BP"])
    assert fed.latest_value == pytest.approx(float(stored["value"].iloc[0]))
