"""Data completeness: the latest month each practice sent of each dataset, and whether it is late against the
dataset's submission deadline (FFT: the 12th working day of the next month), on a hand-built federation where one
practice is late and one never sent anything. A missing month is never a zero. Both backends."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import insert

from data_layer import models as m
from data_layer.bulk import record_batch
from data_layer.config import Completeness, ConfigError, SubmissionDeadline, parse_config
from data_layer.governance import completeness as comp
from data_layer.policy.calendar import nth_working_day
from tests.conftest import ROOT
from tests.test_measure_store import _practices, _values

OCT, SEP, AUG = date(2025, 10, 1), date(2025, 9, 1), date(2025, 8, 1)
FFT_DUE_OCT = nth_working_day(2025, 11, 12)  # 18 November 2025
QOF = "QOF (NHS England)"


@pytest.fixture
def federation(empty_engine, config):
    """Z1 sent October's FFT (monthly counts); Z2 its September counts and answers dated in October; Z3 only
    September; Z4 nothing at all. Z1 has a QOF figure for September 2025, a training completion and a complaint."""
    qof_code = next(i.code for i in config.indicators if i.source == QOF and not i.derived)
    with empty_engine.begin() as conn:
        batch = record_batch(conn, "test", "hand-built", "-", "test")
        ids = _practices(conn, batch, {"Z1": "North", "Z2": "North", "Z3": "South", "Z4": "South"})
        for code, month in (("Z1", OCT), ("Z2", SEP), ("Z3", SEP)):
            conn.execute(insert(m.FFTMonthlyCount).values(practice_id=ids[code], month=month, scale="current",
                                                          very_good=5, good=3, neither=1, poor=0, very_poor=0,
                                                          dont_know=1, total=10, batch_id=batch))
        conn.execute(insert(m.FFTResponse).values(practice_id=ids["Z2"], response_key="r1",
                                                  response_date=date(2025, 10, 30), scale="current", rating=1,
                                                  batch_id=batch))
        _values(conn, batch, ids["Z1"], qof_code, [(SEP, 80, 100)])
        staff = conn.execute(insert(m.Staff).values(staff_code="S1", name="A Person", role="GP",
                                                    practice_id=ids["Z1"], batch_id=batch)).inserted_primary_key[0]
        conn.execute(insert(m.TrainingCompletion).values(staff_id=staff, course="FIRE", completed_on=date(2025, 10, 3),
                                                         batch_id=batch))
        conn.execute(insert(m.Complaint).values(practice_id=ids["Z1"], reference="C1", received_on=date(2025, 8, 20),
                                                category="Access", batch_id=batch))
    return empty_engine


def _row(table: pd.DataFrame, practice: str, dataset: str) -> dict:
    return table[(table["practice_code"] == practice) & (table["dataset"] == dataset)].iloc[0].to_dict()


def test_fft_is_late_the_day_after_the_twelfth_working_day_and_a_missing_month_is_never_zero(federation, config):
    assert FFT_DUE_OCT == date(2025, 11, 18)
    after = comp.completeness(federation, config, today=date(2025, 11, 19))
    z1, z2, z3, z4 = (_row(after, c, comp.FFT) for c in ("Z1", "Z2", "Z3", "Z4"))
    assert (z1["latest_month"], z1["late"], z1["status"]) == (OCT, False, "On time: October 2025 received")
    assert (z2["latest_month"], z2["late"]) == (OCT, False)  # its answers dated in October count
    assert (z3["latest_month"], z3["late"], z3["months_behind"]) == (SEP, True, 1)
    assert z3["status"] == "Late: October 2025 not received (due by 18 November 2025); latest September 2025"
    # never sent: no month, no count of months behind (not 0), and said in words
    assert z4["late"] and z4["latest_month"] is None and pd.isna(z4["months_behind"])
    assert z4["status"].startswith("Late: nothing received")
    assert comp.late_line(after, config) == "2 practices have not sent October 2025's FFT (due by 18 November 2025)."

    on_the_day = comp.completeness(federation, config, today=FFT_DUE_OCT)  # due today: October is not late yet
    z3 = _row(on_the_day, "Z3", comp.FFT)
    assert z3["expected_month"] == SEP and not z3["late"] and z3["months_behind"] == 0
    assert comp.late_line(on_the_day, config).startswith("1 practice has not sent September 2025's FFT")


def test_every_dataset_has_a_row_per_practice_with_its_own_deadline(federation, config):
    table = comp.completeness(federation, config, today=date(2025, 11, 19))
    sets = comp.datasets(config)
    assert len(table) == 4 * len(sets)
    ids = [d.id for d in sets]
    assert ids[:4] == [comp.FFT, comp.TRAINING, comp.COMPLAINTS, comp.SIGNIFICANT_EVENTS]
    assert comp.SOURCE_PREFIX + QOF in ids  # each imported indicator source, by the catalogue's source
    assert not any(d.id.startswith(comp.SOURCE_PREFIX) and d.label == "Practice FFT returns" for d in sets)  # derived

    qof = _row(table, "Z1", comp.SOURCE_PREFIX + QOF)  # QOF: the 15th working day, two months on (config)
    assert qof["latest_month"] == SEP and not qof["late"] and qof["expected_month"] == AUG
    assert _row(table, "Z2", comp.SOURCE_PREFIX + QOF)["status"].startswith("Late: nothing received")
    assert _row(table, "Z1", comp.TRAINING)["latest_month"] == OCT
    complaints = _row(table, "Z1", comp.COMPLAINTS)  # a log: three months' grace before a quiet practice is late
    assert complaints["latest_month"] == AUG and complaints["expected_month"] == AUG and not complaints["late"]
    summary = comp.summary(table).set_index("dataset")
    assert summary.loc[comp.FFT, "late"] == 2 and summary.loc[comp.FFT, "practices"] == 4


def test_the_deadline_is_configurable_per_dataset(federation, config):
    later = config.model_copy(update={"completeness": Completeness(fft=SubmissionDeadline(working_day=20))})
    table = comp.completeness(federation, later, today=date(2025, 11, 19))
    z3 = _row(table, "Z3", comp.FFT)  # October is now due on the 20th working day: September is the month due
    assert z3["expected_month"] == SEP and not z3["late"]
    assert z3["due_on"] == nth_working_day(2025, 10, 20)


def test_a_deadline_for_a_source_the_catalogue_does_not_have_is_refused():
    text = (ROOT / "federation.toml").read_text(encoding="utf-8")
    header = "[completeness.sources]\n"
    assert header in text
    with pytest.raises(ConfigError) as err:  # a deadline added to the table, wherever it sits in the file
        parse_config(text.replace(header, header + '"Not a source" = { working_day = 3 }\n'))
    assert "completeness.sources: 'Not a source' is not the source of any imported indicator" in str(err.value)
    with pytest.raises(ConfigError, match="working_day"):
        parse_config(text.replace("fft = { working_day = 12, months_after = 1 }", "fft = { working_day = 0 }"))
