"""A real federation from published NHS data: catalogue entries that name their published source (so imports map
them without --indicator-map), and the real Medway Practices Alliance (Mpa PCN) set up on an empty database from the
shared files alone. Real files in ../shared/data/nhs (skipped when absent). Both backends."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from data_layer.config import ConfigError, load_config, parse_config
from data_layer.db import get_engine
from tests.conftest import ROOT
from tests.test_imports import imp, problems
from tests.test_imports_published import read_real, real, values

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MAPPING = "02_qof/MAPPING_NHS_GEOGRAPHIES_2223.csv"
SMOKING = "02_qof/fingertips_91547_smoking_prevalence_QOF_by_practice.csv"
IMD = "05c_screening_immunisation_indicators/fingertips_93553_IMD2019_by_practice.csv"
WIDE = "05c_screening_immunisation_indicators/indicator_QKS_2025-26_v2.csv"
MPA = ("G82139", "G82653", "G82741")


def mpa(engine, config):
    result = imp(engine, config, real(MAPPING), add_pcn=("Mpa PCN",))
    assert result.imported and result.new == 3, result.summary()


# --------------------------------------------------------------------------------------------------------------------
# The catalogue names published sources
# --------------------------------------------------------------------------------------------------------------------
def with_indicators(extra: str) -> str:
    return (ROOT / "federation.toml").read_text(encoding="utf-8").replace("\n[[aims]]", extra + "\n[[aims]]", 1)


ENTRY = '''
[[indicators]]
code = "{code}"
name = "Another"
description = "d"
numerator = "n"
denominator = "d"
direction = "lower"
key_question = "Effective"
quality_statements = ["Assessing needs"]
source = "OHID Fingertips"
{extra}
'''


def test_a_published_source_is_validated_and_maps_to_one_indicator():
    with pytest.raises(ConfigError, match=r"published.fingertips_id '91547' is already the published source of "
                                          "SMOKING_PREVALENCE"):
        parse_config(with_indicators(ENTRY.format(code="OTHER", extra='published = { fingertips_id = "91547" }')))
    with pytest.raises(ConfigError, match="published needs at least one of"):
        parse_config(with_indicators(ENTRY.format(code="OTHER", extra="published = {}")))
    with pytest.raises(ConfigError, match="published.fingertips_id"):
        parse_config(with_indicators(ENTRY.format(code="OTHER", extra='published = { fingertips_id = "9x" }')))
    with pytest.raises(ConfigError, match="cannot name a published source"):
        parse_config(with_indicators(ENTRY.format(
            code="OTHER", extra='derived = "fft_positive"\npublished = { fingertips_id = "1" }')))
    ok = parse_config(with_indicators(ENTRY.format(code="OTHER", extra='published = { fingertips_id = "12345" }')))
    assert ok.indicator("OTHER").published.fingertips_id == "12345"


def test_fingertips_files_map_by_the_catalogue_without_an_indicator_map(empty_engine, config):
    mpa(empty_engine, config)
    result = imp(empty_engine, config, real(SMOKING))
    assert result.imported, result.summary()
    got = values(empty_engine, "SMOKING_PREVALENCE")
    assert sorted(got["code"].unique()) == sorted(MPA) and len(got) == 6  # 2022/23 and 2023/24
    assert any("91547 → SMOKING_PREVALENCE" in n for n in problems(result, "note")["problem"])
    # Value only (no count, no interval): stored as published.
    assert imp(empty_engine, config, real(IMD)).imported
    file = read_real(IMD)
    imd = values(empty_engine, "DEPRIVATION_IMD2019").set_index("code")
    assert imd.loc["G82653", "value"] == float(file[file["Area Code"] == "G82653"]["Value"].iloc[0])
    assert imd.loc["G82653", "start"] == date(2019, 1, 1)
    # --indicator-map still wins over the catalogue's own source.
    again = imp(empty_engine, config, real(SMOKING), indicator_map={"91547": "SMOKING_SUPPORT"})
    assert again.imported, again.summary()
    assert len(values(empty_engine, "SMOKING_SUPPORT")) == 6
    # SOURCE= (the page's "kept as benchmark") keeps it out even though the catalogue names it.
    imd_again = imp(empty_engine, config, real(IMD), indicator_map={"93553": ""})
    assert imd_again.imported and imd_again.new == 3, imd_again.summary()  # the 3 practices' rows, as benchmarks
    notes = " ".join(problems(imd_again, "note")["problem"])
    assert "93553 → DEPRIVATION_IMD2019" not in notes and "not in the catalogue" not in notes


def test_the_wide_table_maps_screening_immunisation_and_blood_pressure_columns_by_the_catalogue(empty_engine,
                                                                                                 config):
    mpa(empty_engine, config)
    result = imp(empty_engine, config, real(WIDE), period="2024/25")
    assert result.imported, result.summary()
    file = read_real(WIDE).set_index("GP code")
    mapped = {ind.code: ind.published.wide_column for ind in config.indicators
              if ind.published and ind.published.wide_column}
    assert {"BREAST_SCREENING", "CERVICAL_SCREENING", "MMR1_AGE1", "HYP_BP", "HYP_BP_80"} <= set(mapped)
    present = [c for c in MPA if c in file.index]
    assert present  # two of the three Mpa practices are in the table
    for code, column in mapped.items():
        got = values(empty_engine, code).set_index("code")
        assert sorted(got.index) == sorted(present), code
        for practice in present:
            assert got.loc[practice, "value"] == float(file.loc[practice, column]), (code, practice)
            assert pd.isna(got.loc[practice, "numerator"])  # value only: no numerator


# --------------------------------------------------------------------------------------------------------------------
# --add-indicators: a Fingertips indicator the catalogue lacks joins it from the file
# --------------------------------------------------------------------------------------------------------------------
def cli(url: str, config_file, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "FEDERATION_CONFIG": str(config_file)}
    return subprocess.run([sys.executable, "-m", "data_layer", "import", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


@pytest.fixture
def bare_catalogue(tmp_path):
    """The shipped config without the entries that name Fingertips 91547 and 93553 as their source."""
    text = (ROOT / "federation.toml").read_text(encoding="utf-8")
    path = tmp_path / "federation.toml"
    path.write_text("\n".join(line for line in text.splitlines() if "fingertips_id" not in line), encoding="utf-8")
    return path


def test_add_indicators_appends_the_files_unlisted_indicators_to_the_local_catalogue(empty_url, bare_catalogue):
    smoking, imd = str(real(SMOKING)), str(real(IMD))
    assert cli(empty_url, bare_catalogue, str(real(MAPPING)), "--add-pcn", "Mpa PCN").returncode == 0
    plain = cli(empty_url, bare_catalogue, smoking)
    assert plain.returncode == 0, plain.stderr
    assert "indicator 91547 (Smoking prevalence in adults (15+) - current smokers (QOF)) is not in the catalogue" \
        in plain.stdout and "--add-indicators" in plain.stdout
    local = bare_catalogue.with_name("federation.local.toml")
    assert not local.exists()
    checked = cli(empty_url, bare_catalogue, smoking, "--add-indicators", "--dry-run")
    assert checked.returncode == 0 and "Would add 1 indicator" in checked.stdout and not local.exists()

    added = cli(empty_url, bare_catalogue, smoking, "--add-indicators")
    assert added.returncode == 0, added.stderr
    assert "FINGERTIPS_91547: Smoking prevalence in adults (15+) - current smokers (QOF) (Fingertips 91547; %; " \
           "better when lower)" in added.stdout
    assert "91547 → FINGERTIPS_91547: 6 values" in added.stdout
    ind = load_config(bare_catalogue).indicator("FINGERTIPS_91547")
    assert (ind.name, ind.unit, ind.multiplier, ind.direction) == (
        "Smoking prevalence in adults (15+) - current smokers (QOF)", "%", 100, "lower")
    assert ind.published.fingertips_id == "91547"
    engine = get_engine(empty_url)
    try:
        got = values(engine, "FINGERTIPS_91547")
        assert sorted(got["code"].unique()) == sorted(MPA) and len(got) == 6
        # A published value only (no count): a score, neither better nor worse.
        assert "FINGERTIPS_93553: Deprivation score (IMD 2019) (Fingertips 93553; score, published value only; " \
               "no better or worse)" in cli(empty_url, bare_catalogue, imd, "--add-indicators").stdout
        assert len(values(engine, "FINGERTIPS_93553")) == 3
    finally:
        engine.dispose()
    text = local.read_text(encoding="utf-8")
    again = cli(empty_url, bare_catalogue, smoking, "--add-indicators")  # already in the catalogue: nothing added
    assert again.returncode == 0 and "Added" not in again.stdout and local.read_text(encoding="utf-8") == text
    assert text.count("[[indicators]]") == 2


def test_add_indicators_refuses_a_file_that_is_not_fingertips_and_a_broken_local_catalogue(empty_url, tmp_path,
                                                                                           bare_catalogue):
    out = cli(empty_url, bare_catalogue, str(real(MAPPING)), "--add-indicators")
    assert out.returncode == 2 and "not one" in out.stderr and "Fingertips" in out.stderr
    local = bare_catalogue.with_name("federation.local.toml")
    local.write_text('[[indicators]]\ncode = "FFT_POSITIVE"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="federation.local.toml"):
        load_config(bare_catalogue)
    local.write_text('[thresholds]\nsuppression_min = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="may hold only"):
        load_config(bare_catalogue)


# --------------------------------------------------------------------------------------------------------------------
# The real Medway Practices Alliance on an empty database, from the shared files alone, in the CLI
# --------------------------------------------------------------------------------------------------------------------
SET_UP = (  # in the order a new federation would take them (README "A real federation from published files")
    (MAPPING, "--add-pcn", "Mpa PCN"),
    ("05b_ods_epraccur/epraccur.csv",),
    ("05a_patients_registered/gp-reg-pat-prac-all_2021-01.csv",),
    ("04_cqc_ratings/HEEC_cqc_overall_ratings_by_practice.csv",),
    (SMOKING,),
    (IMD,),
)


def test_the_real_mpa_pcn_is_set_up_from_the_shared_files_and_its_profile_shows_the_published_figures(empty_url):
    from data_layer import engine as calc
    from data_layer.measures.refresh import refresh
    from data_layer.scope import Viewer

    said = {}
    for file, *options in SET_UP:
        out = cli(empty_url, ROOT / "federation.toml", str(real(file)), *options)
        assert out.returncode == 0, (file, out.stdout, out.stderr)
        said[file] = out.stdout
    assert "3 practices of Mpa PCN added to the federation" in said[MAPPING]
    assert "91547 → SMOKING_PREVALENCE: 6 values for the federation's practices" in said[SMOKING]
    assert "93553 → DEPRIVATION_IMD2019: 3 values" in said[IMD]
    config = load_config(ROOT / "federation.toml")
    engine = get_engine(empty_url)
    try:
        refresh(engine, config)
        admin = Viewer(email="admin@test.invalid", role="admin", name="Admin")
        practices = calc.practices(engine, admin, config).set_index("code")
        assert sorted(practices.index) == sorted(MPA) and set(practices["pcn"]) == {"Mpa PCN"}
        lists = read_real("05a_patients_registered/gp-reg-pat-prac-all_2021-01.csv").set_index("CODE")
        cqc = read_real("04_cqc_ratings/HEEC_cqc_overall_ratings_by_practice.csv").set_index("Practice.Code")
        for code in MPA:
            assert practices.loc[code, "list_size"] == int(lists.loc[code, "NUMBER_OF_PATIENTS"])
            assert practices.loc[code, "cqc_overall"] == cqc.loc[code, "latest_rating"]

        file = read_real(SMOKING)
        rows = file[file["Area Code"] == "G82653"].set_index("Time period")
        one = ("G82653",)
        # As at the latest figures (2023/24): the published value; the file gives the count and denominator, and
        # leaves that year's interval blank, so it is worked out as Fingertips does (Wilson).
        latest = calc.kpi_results(engine, config, admin, calc.Filters(practice_codes=one))["SMOKING_PREVALENCE"]
        assert latest.latest_period == date(2023, 4, 1)
        assert round(latest.latest_value, 8) == float(rows.loc["2023/24", "Value"])
        assert (latest.numerator, latest.denominator) == (float(rows.loc["2023/24", "Count"]),
                                                          float(rows.loc["2023/24", "Denominator"]))
        # As at 2022/23: value and interval exactly as the file gives them (to the 8 decimals it publishes).
        then = calc.kpi_results(engine, config, admin, calc.Filters(practice_codes=one, period_end=date(2022, 4, 1)))
        r = then["SMOKING_PREVALENCE"]
        assert r.latest_period == date(2022, 4, 1)
        assert round(r.latest_value, 8) == float(rows.loc["2022/23", "Value"])
        assert round(r.lower_ci, 8) == float(rows.loc["2022/23", "Lower CI 95.0 limit"])
        assert round(r.upper_ci, 8) == float(rows.loc["2022/23", "Upper CI 95.0 limit"])
        assert calc.format_value(r.latest_value, r.indicator.unit) == "18.1%"
        for code in MPA:  # each practice's published interval, never one worked out again from its counts
            row = file[(file["Area Code"] == code) & (file["Time period"] == "2022/23")].iloc[0]
            r = calc.kpi_results(engine, config, admin, calc.Filters(practice_codes=(code,),
                                                                     period_end=date(2022, 4, 1)))["SMOKING_PREVALENCE"]
            assert (r.latest_value, r.lower_ci, r.upper_ci) == (
                float(row["Value"]), float(row["Lower CI 95.0 limit"]), float(row["Upper CI 95.0 limit"])), code
        # The profile (every KPI in the aims) carries it.
        assert "SMOKING_PREVALENCE" in calc.kpi_results(engine, config, admin, calc.Filters(practice_codes=one))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------------------------
# The Import page guides the first run on an empty database
# --------------------------------------------------------------------------------------------------------------------
def test_the_import_page_guides_the_first_run_and_adds_a_pcns_practices(empty_url, backend, monkeypatch):
    from data_layer.users import save_user
    from tests.apptest_util import app, visible_text
    from tests.test_access import AUTH

    if backend != "sqlite":
        pytest.skip("the page is exercised once, on SQLite; the importer itself is tested on both backends")
    mapping = real(MAPPING)
    engine = get_engine(empty_url)
    save_user(engine, "admin@nhs.test", "admin")
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.chdir(ROOT)
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "admin@nhs.test"})
    at.switch_page("pages/imports.py").run()
    assert not at.exception
    text = visible_text(at)
    assert "First run: set up the federation from published files" in text
    for where in ("MAPPING_NHS_GEOGRAPHIES", "epraccur", "patients-registered-at-a-gp-practice", "cqc.org.uk",
                  "fingertips.phe.org.uk", "--add-pcn"):
        assert where in text, where
    at.file_uploader(key="import_upload").set_value((mapping.name, mapping.read_bytes(), "text/csv"))
    at.run()
    at.text_input(key="import_add_pcn").set_value("Mpa PCN").run()
    assert [mt.value for mt in at.metric][1] == "3"  # would be added
    at = next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert any("3 new" in s.value for s in at.success)
    at.run()
    assert "First run" not in visible_text(at)  # the federation has its practices now
    with engine.connect() as conn:
        from sqlalchemy import select

        from data_layer import models as m

        assert sorted(conn.execute(select(m.Practice.code)).scalars()) == sorted(MPA)
    engine.dispose()
