"""The app shell and the overview page, run in-process with Streamlit's AppTest on the demo database."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def run_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def test_overview_shows_headline_kpis_and_the_aims_scorecard(app_env):
    at = run_app()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Friends and Family Test: positive" in labels and "Mandatory training compliance" in labels
    values = [m.value for m in at.metric]
    assert all(v.endswith("%") for v in values), values  # real figures, not placeholders
    card = next(d.value for d in at.dataframe if {"Aim", "Measure", "Status"} <= set(d.value.columns))
    assert card["Aim"].nunique() == 12
    judged = card[~card["Status"].str.startswith(("Too few to judge", "Not shown", "Not received"))]
    assert set(judged["Status"].str[2:]) <= {"On target", "Near target", "Off target", "No target"}
    assert any("Demo data" in i.value for i in at.info)


def test_filters_are_read_from_and_written_to_the_url(app_env):
    at = run_app({"practice": "Z90003", "months": "12"})
    assert not at.exception
    assert at.multiselect(key="f_practices").value == ["Z90003"]
    assert at.selectbox(key="f_months").value == 12
    assert "Harbour View Surgery" in at.caption[0].value
    at.selectbox(key="f_pcn").set_value("Estuary PCN").run()
    assert at.query_params["pcn"] == "Estuary PCN"
    assert "practice" not in at.query_params  # Harbour View is not in Estuary PCN, so the practice filter clears


def test_a_practice_filter_changes_the_figures(app_env):
    federation = {m.label: m.value for m in run_app().metric}
    one = {m.label: m.value for m in run_app({"practice": "Z90005"}).metric}
    assert federation["Mandatory training compliance"] != one["Mandatory training compliance"]
