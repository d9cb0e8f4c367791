"""The import command as a cron job uses it: exit 0 with a summary, 2 refused with the problems listed and written to
--errors-csv (nothing written), 1 when something unexpected happens."""
from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import func, select

from data_layer import models as m
from data_layer.cli import UsageError
from data_layer.db import get_engine
from data_layer.imports.cli import _pairs
from tests.conftest import ROOT
from tests.test_imports import FIXTURES, snapshot


def cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "data_layer", "import", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def test_a_good_file_exits_0_with_a_summary_and_a_batch_by_the_named_user(empty_url):
    from data_layer.audit import os_account
    from data_layer.users import save_user

    save_user(get_engine(empty_url), "manager@federation.invalid", "admin", [])  # --as names an active admin
    done = cli(empty_url, str(FIXTURES / "practices.csv"), "--as", "manager@federation.invalid")
    assert done.returncode == 0, done.stderr
    assert "Imported practices.csv (Practices (our template)): 8 rows → 8 new, 0 updated, 0 unchanged" in done.stdout
    with get_engine(empty_url).connect() as conn:
        assert conn.execute(select(m.ImportBatch.imported_by).where(m.ImportBatch.kind == "practices")).scalar_one() \
            == f"manager@federation.invalid ({os_account()})"
    again = cli(empty_url, str(FIXTURES / "practices.csv"))
    assert again.returncode == 0 and "0 new, 0 updated, 8 unchanged" in again.stdout


def test_a_bad_file_exits_2_lists_the_problems_writes_the_csv_and_nothing_else(empty_url, tmp_path):
    assert cli(empty_url, str(FIXTURES / "practices.csv")).returncode == 0
    before = snapshot(get_engine(empty_url))
    errors = tmp_path / "errors.csv"
    done = cli(empty_url, str(FIXTURES / "staff_bad.csv"), "--errors-csv", str(errors))
    assert done.returncode == 2
    assert "Refused: staff_bad.csv" in done.stderr and "nothing was written" in done.stderr
    assert "row 3, column 'role': 'Doctor' is not one of the federation's roles" in done.stderr
    table = pd.read_csv(errors, dtype=str, encoding="utf-8-sig")
    assert list(table.columns) == ["row", "column", "value", "problem", "severity"]
    assert len(table) == 8 and set(table["severity"]) == {"error"}
    assert snapshot(get_engine(empty_url)) == before


def test_dry_run_checks_and_counts_without_writing(empty_url):
    assert cli(empty_url, str(FIXTURES / "practices.csv")).returncode == 0
    before = snapshot(get_engine(empty_url))
    done = cli(empty_url, str(FIXTURES / "staff.csv"), "--dry-run")
    assert done.returncode == 0 and "Importing would give 5 new, 0 updated, 0 unchanged" in done.stdout
    assert snapshot(get_engine(empty_url)) == before


def test_options_for_published_files(empty_url, tmp_path):
    assert cli(empty_url, str(FIXTURES / "practices.csv")).returncode == 0
    unnamed = tmp_path / "achievement.csv"  # no year in the name, so the period must be given
    unnamed.write_bytes((FIXTURES / "qof_achievement_2324.csv").read_bytes())
    refused = cli(empty_url, str(unnamed), "--kind", "qof_achievement")
    assert refused.returncode == 2 and "does not say which period" in refused.stderr
    done = cli(empty_url, str(unnamed), "--period", "2023/24",
               "--indicator-map", "DM006=DM_HBA1C", "--no-benchmarks")
    assert done.returncode == 0, done.stderr
    with get_engine(empty_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.IndicatorValue).where(
            m.IndicatorValue.indicator_code == "DM_HBA1C")).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(m.BenchmarkValue)).scalar_one() == 0


def test_missing_file_and_unknown_kind_exit_2(empty_url):
    assert cli(empty_url, "/no/such/file.csv").returncode == 2
    assert cli(empty_url, str(FIXTURES / "staff.csv"), "--kind", "horoscopes").returncode == 2


def test_an_unreachable_database_exits_1_in_plain_words(tmp_path):
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"  # nothing listens on port 9
    done = cli(unreachable, str(FIXTURES / "practices.csv"))
    assert done.returncode == 1 and "not reachable" in done.stderr and "Traceback" not in done.stderr


def test_practice_and_indicator_maps_from_the_command_line_or_a_csv(tmp_path):
    assert _pairs(["Earls Court Surgery=G82139,The Chelsea Practice=G82653"], "--practice-map", True) == {
        "Earls Court Surgery": "G82139", "The Chelsea Practice": "G82653"}
    # Column headings contain commas and '=': one pair per option, split at the last '='.
    heading = "Last BP reading of patients (<80 yrs, with hypertension), in the last 12 months is <= 140/90 mmHg"
    assert _pairs([f"{heading}=HYP_BP"], "--indicator-map", False) == {heading: "HYP_BP"}
    mapping = tmp_path / "names.csv"
    mapping.write_text("name,code\nEarls Court Surgery,G82139\n", encoding="utf-8")
    assert _pairs([str(mapping)], "--practice-map", True) == {"Earls Court Surgery": "G82139"}
    with pytest.raises(UsageError):
        _pairs(["Earls Court Surgery"], "--practice-map", True)
