"""Foundation: migrations on both backends, constraints, config validation, demo determinism, CLI, overview page."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from data_layer import demo, models as m
from data_layer.config import ConfigError, load_config, parse_config
from data_layer.db import downgrade, make_engine, upgrade
from data_layer.status import database_status
from tests.conftest import ROOT

TABLES = {"practices", "indicator_values", "staff", "training_completions", "fft_responses", "fft_monthly_counts",
          "complaints", "significant_events", "import_batches", "users", "user_practices", "audit_log", "app_meta"}


# --- migrations ----------------------------------------------------------------------------------------------------
def test_migrations_create_and_remove_every_table(new_url):
    engine = make_engine(new_url)
    upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)  # and back up again, as a deploy after a rollback would
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


# --- constraints ---------------------------------------------------------------------------------------------------
def _practice(conn, code="Z1", **kw):
    values = {"code": code, "name": "Test Surgery", "list_size": 1000, "contract_type": "GMS", "active": True, **kw}
    return conn.execute(insert(m.Practice).values(**values)).inserted_primary_key[0]


def test_practice_code_is_unique(empty_engine):
    with empty_engine.begin() as conn:
        _practice(conn)
    with pytest.raises(IntegrityError):
        with empty_engine.begin() as conn:
            _practice(conn)


def test_unknown_contract_type_and_negative_list_size_refused(empty_engine):
    with pytest.raises(IntegrityError):
        with empty_engine.begin() as conn:
            _practice(conn, contract_type="XYZ")
    with pytest.raises(IntegrityError):
        with empty_engine.begin() as conn:
            _practice(conn, code="Z2", list_size=-1)


def test_indicator_value_natural_key_and_checks(empty_engine):
    with empty_engine.begin() as conn:
        pid = _practice(conn)
        row = dict(indicator_code="DM_HBA1C", practice_id=pid, period_start=date(2026, 1, 1),
                   period_end=date(2026, 1, 31), numerator=5, denominator=10, value=50)
        conn.execute(insert(m.IndicatorValue).values(**row))
    with pytest.raises(IntegrityError):  # same indicator, practice and period twice
        with empty_engine.begin() as conn:
            conn.execute(insert(m.IndicatorValue).values(**row))
    with pytest.raises(IntegrityError):  # period ends before it starts
        with empty_engine.begin() as conn:
            conn.execute(insert(m.IndicatorValue).values(**{**row, "period_start": date(2026, 2, 1),
                                                             "period_end": date(2026, 1, 1)}))
    with pytest.raises(IntegrityError):  # negative counts
        with empty_engine.begin() as conn:
            conn.execute(insert(m.IndicatorValue).values(**{**row, "period_start": date(2026, 3, 1),
                                                             "period_end": date(2026, 3, 31), "numerator": -1}))


def test_fft_rating_must_be_on_the_scale_and_scale_known(empty_engine):
    with empty_engine.begin() as conn:
        pid = _practice(conn)
    base = dict(practice_id=pid, response_key="r1", response_date=date(2026, 1, 5), scale="current", rating=1)
    for bad in ({"rating": 7}, {"rating": 0}, {"scale": "mixed"}):
        with pytest.raises(IntegrityError):
            with empty_engine.begin() as conn:
                conn.execute(insert(m.FFTResponse).values(**{**base, **bad}))


def test_foreign_keys_enforced(empty_engine):
    with pytest.raises(IntegrityError):
        with empty_engine.begin() as conn:
            conn.execute(insert(m.Staff).values(staff_code="S1", name="X", role="GP", practice_id=999))


# --- config --------------------------------------------------------------------------------------------------------
def test_shipped_config_has_the_twelve_aims_and_all_key_questions(config):
    assert len(config.aims) == 12
    assert config.aims[0].title.startswith("To build a sustainable Federation")
    assert config.aims[9].title == "Have a zero tolerance of all forms of abuse."
    assert {i.key_question for i in config.indicators} == {"Safe", "Effective", "Caring", "Responsive", "Well-led"}
    assert len(config.indicators) >= 25
    assert config.thresholds.suppression_min == 5 and config.thresholds.spc_run_length == 7
    core = [c for c in config.training.courses if c.core_skills]
    assert len({c.subject for c in core}) == 11  # the Core Skills Training Framework's 11 subjects
    sg3 = [r for r in config.training.requirements if r.course == "SG_CHILDREN_L3"][0]
    assert (sg3.hours, sg3.window_months) == (8, 36)


def _shipped_text() -> str:
    return (ROOT / "federation.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "change, expected",
    [
        (('direction = "higher"', 'direction = "upwards"', 1), "indicators.0.direction"),
        (('key_question = "Safe"', 'key_question = "Safer"', 1), "indicators.0.key_question"),
        (('{ indicator = "STAFF_APPRAISAL"', '{ indicator = "NO_SUCH_KPI"', 1), "NO_SUCH_KPI"),
        (('spc_run_length = 7', 'spc_run_length = 3', 1), "thresholds.spc_run_length"),
        (('quality_statements = ["Safe and effective staffing"]', 'quality_statements = ["Being nice"]', 1),
         "Being nice"),
        (('hours = 8, window_months = 36', 'hours = 8', 1), "window_months"),
        (('name = "Medway Practices Alliance"', 'nme = "Medway Practices Alliance"', 1), "nme"),
    ],
)
def test_invalid_config_is_refused_naming_the_key(change, expected):
    old, new, count = change
    text = _shipped_text()
    assert old in text
    with pytest.raises(ConfigError) as exc:
        parse_config(text.replace(old, new, count), "federation.toml")
    assert expected in str(exc.value)


def test_config_that_is_not_toml_is_refused_clearly():
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("name = [unclosed", "bad.toml")


def test_missing_config_file_says_where_to_point(tmp_path):
    with pytest.raises(ConfigError, match="FEDERATION_CONFIG"):
        load_config(tmp_path / "nope.toml")


# --- demo federation -----------------------------------------------------------------------------------------------
def test_demo_is_realistic(demo_engine):
    status = database_status(demo_engine)["datasets"]
    assert status["practices"]["rows"] == 11
    assert 180 <= status["staff"]["rows"] <= 230
    assert 20_000 <= status["fft_responses"]["rows"] <= 60_000
    assert status["indicator_values"]["indicators"] >= 25
    with demo_engine.connect() as conn:
        total_list = conn.execute(select(func.sum(m.Practice.list_size))).scalar_one()
        pcns = conn.execute(select(func.count(func.distinct(m.Practice.pcn)))).scalar_one()
        contracts = set(conn.execute(select(m.Practice.contract_type)).scalars())
        months = conn.execute(select(func.count(func.distinct(m.IndicatorValue.period_start)))).scalar_one()
        roles = set(conn.execute(select(m.Staff.role)).scalars())
        codes = conn.execute(select(m.Practice.code)).scalars().all()
    assert 66_000 <= total_list <= 70_000
    assert pcns == 3 and contracts == {"GMS", "PMS", "APMS"} and months == 36
    assert {"GP", "Nurse", "HCA", "Pharmacist", "Receptionist", "Administrator", "Practice manager"} <= roles
    assert all(c.startswith("Z9") for c in codes)  # fictional codes, never a real practice's


def _practice_series(engine, code, indicator):
    from data_layer.engine import indicator_by_practice

    df = indicator_by_practice(engine, [indicator], (code,))
    return (df.sort_values("period_start").set_index("period_start")["numerator"]
            / df.sort_values("period_start").set_index("period_start")["denominator"] * 100)


def test_demo_stories_are_there(demo_engine):
    fft = _practice_series(demo_engine, "Z90003", "FFT_POSITIVE")  # Harbour View: drop after the change, recovery
    assert fft.iloc[-18:-15].mean() < fft.iloc[:12].mean() - 7
    assert fft.iloc[-6:].mean() > fft.iloc[-18:-15].mean() + 7
    training = _practice_series(demo_engine, "Z90005", "TRAINING_COMPLIANCE")  # Millstream slides
    assert training.iloc[-1] < training.iloc[-13] - 5
    from data_layer.measures import store

    hba1c = store.values(demo_engine, "federation", None, ["DM_HBA1C"])  # the federation's stored series
    v = (hba1c["numerator"] / hba1c["denominator"] * 100).to_numpy()
    assert v[-12:].mean() > v[:12].mean() + 3  # sustained improvement


def test_demo_has_lapsed_and_lapsing_training(demo_engine, config):
    from data_layer.analytics import training_status
    from data_layer.measures.sources import _staff_and_completions, requirements_frame, staff_in_post

    staff, completions = _staff_and_completions(demo_engine.connect())
    as_of = pd.Timestamp(demo.default_end_month()) + pd.offsets.MonthEnd(0)
    status = training_status(staff_in_post(staff, as_of).assign(practice_code=lambda d: d["practice_id"]),
                             completions, requirements_frame(config), as_of.date())
    counts = status["status"].value_counts()
    assert counts.get("lapsed", 0) > 10 and counts.get("lapsing", 0) > 10 and counts.get("in date", 0) > 1000


def test_demo_is_deterministic(config):
    a = demo.generate(config, seed=7, end_month=date(2026, 6, 1))
    b = demo.generate(config, seed=7, end_month=date(2026, 6, 1))
    c = demo.generate(config, seed=8, end_month=date(2026, 6, 1))
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])
    assert not a["fft"]["rating"].equals(c["fft"]["rating"])


def test_demo_scales_for_benchmarks(config):
    data = demo.generate(config, n_practices=30, months=14, seed=3, end_month=date(2026, 6, 1))
    assert len(data["practices"]) == 30 and data["practices"]["code"].is_unique
    assert data["indicators"]["period_start"].nunique() == 14


# --- CLI -----------------------------------------------------------------------------------------------------------
def _cli(*args, url):
    return subprocess.run([sys.executable, "-m", "data_layer", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**__import__("os").environ, "DATABASE_URL": url}, timeout=300)


def test_cli_init_demo_then_status_json_counts(demo_url, demo_engine):
    out = _cli("status", "--json", url=demo_url)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["datasets"]["practices"]["rows"] == 11
    assert status["last_import"]["demo"]["by"] == "demo builder"
    assert status["datasets"]["indicator_values"]["from"] < status["datasets"]["indicator_values"]["to"]


def test_cli_refuses_to_replace_real_data_and_bad_input_exits_2(empty_url, empty_engine):
    with empty_engine.begin() as conn:
        _practice(conn, code="G82002")
    out = _cli("init", "--demo", url=empty_url)
    assert out.returncode == 2 and "already holds" in out.stderr
    out = _cli("demo", "--practices", "0", url=empty_url)
    assert out.returncode == 2 and "--practices" in out.stderr
    out = _cli("nonsense", url=empty_url)
    assert out.returncode == 2


def test_cli_init_empty_creates_schema(new_url):
    assert not inspect(make_engine(new_url)).get_table_names()
    out = _cli("init", "--empty", url=new_url)
    assert out.returncode == 0, out.stderr
    assert TABLES <= set(inspect(make_engine(new_url)).get_table_names())


def test_same_counts_on_sqlite_and_postgresql(fresh_databases, config):
    import os

    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL not available")
    counts = {}
    for backend in ("sqlite", "postgresql"):
        url = fresh_databases.url(backend)
        assert _cli("init", "--demo", url=url).returncode == 0
        status = json.loads(_cli("status", "--json", url=url).stdout)
        counts[backend] = {k: v["rows"] for k, v in status["datasets"].items()}
    assert counts["sqlite"] == counts["postgresql"]
    assert counts["sqlite"]["fft_responses"] > 20_000
