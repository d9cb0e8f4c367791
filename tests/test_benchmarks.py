"""National and local benchmarks: England, the NHS region, ICB, sub-ICB and PCN beside the practice and the federation,
"better / similar / worse than England" from the intervals (Fingertips' method), worked out once by the refresh and
read by the practice profile, the quality page, the inspection pack and the board pack, with the source and period
named. A synthetic Fingertips file (runs anywhere) and the real smoking-prevalence export (skipped without
../shared). Both backends."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from sqlalchemy import insert, select

from data_layer import models as m
from data_layer.db import get_engine
from data_layer.exports import board_pack, inspection, render
from data_layer.measures import benchmarks as bench
from data_layer.measures.refresh import refresh
from data_layer.models_benchmarks import MeasureBenchmark
from tests.apptest_util import app, visible_text
from tests.conftest import ROOT
from tests.test_imports import ADMIN, FIXTURES, imp

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

HEAD = ("Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,Age,Category Type,"
        "Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,Lower CI 99.8 limit,Upper CI 99.8 limit,"
        "Count,Denominator,Value note\n")
NAME = "Smoking prevalence in adults (15+) - current smokers (QOF)"


def row(code, name, kind, value, lo, hi, count="", den="", category=""):
    cat_type = "County & UA deprivation deciles" if category else ""
    return (f"91547,{NAME},,,{code},{name},{kind},Persons,15+ yrs,{cat_type},{category},2022/23,{value},{lo},{hi},,,"
            f"{count},{den},\n")


AREAS = (row("E92000001", "England", "England", 14.71, 14.70, 14.72)
         + row("E92000001", "England", "England", 20.1, 20.0, 20.2, category="Most deprived decile")
         + row("E40000005", "South East", "NHS region", 13.56, 13.54, 13.58)
         + row("E54000032", "NHS Kent and Medway ICB", "ICBs", 15.2, 15.1, 15.3)
         + row("E38000237", "NHS Kent and Medway ICB - 91Q", "ICB sub-locations", 16.4, 16.2, 16.6)
         + row("U12550", "Mpa PCN", "PCNs", 12.9, 12.4, 13.4))
PRACTICES = (row("G82139", "Maidstone Rd", "GPs", 10.8, "", "", 800, 7400)  # interval below England: better
             + row("G82653", "Castle", "GPs", 14.8, "", "", 900, 6081)  # interval spans England: similar
             + row("G82741", "Princes Park", "GPs", 19.5, "", "", 1000, 5128))  # above England: worse


def synthetic(tmp_path, text: str, name: str = "fingertips.csv"):
    path = tmp_path / name
    path.write_text(HEAD + text, encoding="utf-8")
    return path


@pytest.fixture
def with_benchmarks(empty_engine, config, tmp_path):
    assert imp(empty_engine, config, FIXTURES / "practices.csv").imported
    result = imp(empty_engine, config, synthetic(tmp_path, AREAS + PRACTICES))
    assert result.imported, result.summary()
    return empty_engine


def stored(engine) -> pd.DataFrame:
    return pd.read_sql(select(MeasureBenchmark.__table__), engine)


def test_each_practice_is_compared_with_england_and_the_local_areas_once_when_the_data_arrives(with_benchmarks):
    got = stored(with_benchmarks)
    practice = got[got["area_type"] == "practice"].set_index(["area_code", "level"])
    assert practice.loc[("G82139", "england"), "comparison"] == "better"  # lower is better for smoking
    assert practice.loc[("G82653", "england"), "comparison"] == "similar"
    assert practice.loc[("G82741", "england"), "comparison"] == "worse"
    assert set(practice.loc["G82139"].index) == {"england", "region", "icb", "sub_icb", "pcn"}
    # England's all-persons figure, not a deprivation decile's
    assert practice.loc[("G82139", "england"), "value"] == pytest.approx(14.71)
    assert practice.loc[("G82139", "pcn"), "benchmark_name"] == "Mpa PCN"
    assert practice.loc[("G82139", "region"), "period_label"] == "2022/23"
    fed = got[got["area_type"] == "federation"].set_index("level")
    assert fed.loc["england", "comparison"] == "similar"
    assert "pcn" not in fed.index  # one practice of the fixture has no PCN: the federation is not one PCN


def test_a_file_of_england_figures_alone_updates_the_stored_comparisons(empty_engine, config, tmp_path):
    assert imp(empty_engine, config, FIXTURES / "practices.csv").imported
    assert imp(empty_engine, config, synthetic(tmp_path, PRACTICES)).imported
    assert stored(empty_engine).empty
    result = imp(empty_engine, config, synthetic(tmp_path, AREAS, "england.csv"))
    assert result.imported, result.summary()
    got = stored(empty_engine)
    assert len(got[(got["area_code"] == "G82139") & (got["level"] == "england")]) == 1
    again = imp(empty_engine, config, synthetic(tmp_path, AREAS + PRACTICES, "both.csv"))
    assert again.imported and len(stored(empty_engine)) == len(got)  # replaced, never doubled


def test_the_words_name_the_comparison_the_source_and_the_period(with_benchmarks, config):
    rows = bench.latest(with_benchmarks, "practice", ["G82139"], None, None)
    table = bench.table(rows, config, "Practice").iloc[0]
    assert table["England"] == "14.7% (14.7% to 14.7%)"
    assert table["Compared with England"] == "▲ Better than England"
    assert table["Period"] == "April 2022 to March 2023"
    assert table["Source"] == "OHID Fingertips indicator 91547"
    assert table["PCN"].startswith("12.9% (12.4% to 13.4%)")


def pack_text(pack) -> str:
    return "\n".join(t.title + "\n" + t.frame.to_csv() for t in pack.tables())


def test_the_inspection_pack_and_the_board_pack_show_england_beside_the_figures(with_benchmarks, config):
    practice = inspection.build_pack(with_benchmarks, config, ADMIN, "G82139")
    text = pack_text(practice)
    assert "Beside England and the local areas – Effective" in text
    assert "Better than England" in text and "April 2022 to March 2023" in text
    assert "OHID Fingertips indicator 91547" in text
    table = next(t for t in practice.tables() if t.name == "england_effective").frame.iloc[0]
    assert table["Federation"] == "14.5% (14.0% to 15.0%)" and table["NHS region"].startswith("13.6%")
    for fmt in ("pdf", "xlsx", "csv"):  # every format draws the table
        assert render(practice, fmt)
    federation = pack_text(inspection.build_pack(with_benchmarks, config, ADMIN, None))
    assert "Similar to England" in federation
    board = board_pack.build_board_pack(with_benchmarks, config, ADMIN)
    assert board.benchmarks is not None
    assert board.benchmarks.frame.iloc[0]["Compared with England"] == "● Similar to England"
    assert "Beside England and the local areas" in [h for h, _ in board.sections()]
    assert board_pack.render(board, "pdf")[:4] == b"%PDF"


# --------------------------------------------------------------------------------------------------------------------
# The real export: the stored comparison agrees with Fingertips' own
# --------------------------------------------------------------------------------------------------------------------
SHARED = ROOT.parent / "shared" / "data" / "nhs"


def test_the_real_smoking_export_agrees_with_fingertips_own_comparison(empty_engine, config):
    if not SHARED.exists():
        pytest.skip("../shared/data/nhs is not here")
    mapping = imp(empty_engine, config, SHARED / "02_qof/MAPPING_NHS_GEOGRAPHIES_2223.csv", add_pcn=("Mpa PCN",))
    assert mapping.imported, mapping.summary()
    path = SHARED / "02_qof/fingertips_91547_smoking_prevalence_QOF_by_practice.csv"
    assert imp(empty_engine, config, path).imported
    file = pd.read_csv(path)
    own = file[(file["Area Type"] == "GPs") & file["Lower CI 95.0 limit"].notna()
               & file["Area Code"].isin(["G82139", "G82653", "G82741"])]
    got = stored(empty_engine)
    england = got[(got["area_type"] == "practice") & (got["level"] == "england")]
    assert len(england) == len(own) > 0
    for r in own.itertuples():
        mine = england[(england["area_code"] == r[5]) & (england["period_label"] == r[12])]
        assert mine["comparison"].iloc[0] == r[22].lower(), (r[5], r[12])
    levels = set(got[got["area_code"] == "G82139"]["level"])
    assert {"england", "region"} <= levels  # the file has the South East's figure for 2022/23


# --------------------------------------------------------------------------------------------------------------------
# On screen: the practice profile and the quality page
# --------------------------------------------------------------------------------------------------------------------
@pytest.fixture
def demo_with_england(fresh_databases, backend, monkeypatch, config):
    """A demo federation of this test's own with England's figures for smoking prevalence in each period."""
    if backend != "sqlite":
        pytest.skip("the pages are exercised once, on SQLite; the store is tested on both backends above")
    url = fresh_databases.url(backend)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    app()  # the first start builds the demo federation
    engine = get_engine(url)
    with engine.begin() as conn:
        periods = conn.execute(select(m.IndicatorValue.period_start, m.IndicatorValue.period_end).where(
            m.IndicatorValue.indicator_code == "SMOKING_PREVALENCE").distinct()).all()
        assert periods
        conn.execute(insert(m.BenchmarkValue), [
            {"source": "fingertips", "indicator_id": "91547", "indicator_name": NAME, "area_code": "E92000001",
             "area_name": "England", "area_type": "England", "period_label": f"{s.year}/{(s.year + 1) % 100:02d}",
             "period_start": s, "period_end": e, "sex": "Persons", "age": "15+ yrs", "category": "",
             "value": 14.0, "lower_ci": 13.99, "upper_ci": 14.01} for s, e in periods])
    refresh(engine, config)
    return engine


def test_the_practice_profile_shows_england_beside_the_practice(demo_with_england):
    at = app(query={"profile": "Z90001"})
    at.switch_page("pages/practice.py").run()
    assert not at.exception
    text = visible_text(at)
    assert "National and local benchmarks" in text
    assert "Compared with England" in text
    assert any(w in text for w in ("Better than England", "Similar to England", "Worse than England"))
    assert "OHID Fingertips indicator 91547" in text
    beside = next(d.value for d in at.dataframe if "Compared with England" in d.value.columns
                  and "Source" in d.value.columns)
    assert beside.iloc[0]["England"] == "14.0% (14.0% to 14.0%)"
    assert re.fullmatch(r"([A-Z][a-z]+ )?([A-Z][a-z]+ \d{4} to )?[A-Z][a-z]+ \d{4}", beside.iloc[0]["Period"])
    main = next(d.value for d in at.dataframe if "Compared with federation" in d.value.columns)
    assert main.set_index("Measure").loc["Smoking prevalence (15+, QOF)", "England"] == "14.0%"


def test_the_quality_page_shows_england_beside_the_measure_and_each_practice(demo_with_england):
    at = app(query={"indicator": "SMOKING_PREVALENCE"})
    at.switch_page("pages/quality.py").run()
    assert not at.exception
    text = visible_text(at)
    assert "Beside England and the local areas" in text
    assert "OHID Fingertips indicator 91547" in text
