"""data_layer.analytics stays the stable public API of the statistics after the code moved to data_layer.statistics,
and the package keeps its files small."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

import data_layer.analytics as analytics
import data_layer.statistics as statistics

ROOT = Path(__file__).resolve().parent.parent

# data_layer.analytics.__all__ before the split, plus the constants other modules import from it
PUBLIC_BEFORE_THE_SPLIT = [
    "Direction", "wilson_interval", "compare_with_benchmark", "funnel_limits", "funnel_position", "FFT_CATEGORIES",
    "fft_percentages", "suppress_small_counts", "SpcResult", "spc", "spc_latest", "VARIATION_WORDS",
    "VARIATION_SYMBOLS", "ASSURANCE_WORDS", "ASSURANCE_SYMBOLS", "rag_status", "RAG_WORDS", "RAG_SYMBOLS",
    "TRAINING_STATUSES", "training_status", "compliance_rate", "aggregate_proportion",
    "SPC_LIMIT", "SPC_NEAR", "SPC_MR_SCREEN", "SPC_TRIAL_POINTS",
    "RULE_OUTSIDE", "RULE_TREND", "RULE_TWO_IN_THREE", "RULE_SHIFT",
]


@pytest.mark.parametrize("name", PUBLIC_BEFORE_THE_SPLIT)
def test_every_old_name_is_still_importable(name):
    assert hasattr(analytics, name), name


def test_analytics_re_exports_the_package_objects_themselves():
    # the same objects, not copies: a dictionary of words edited in the package is the one every page reads
    for name in statistics.__all__:
        assert getattr(analytics, name) is getattr(statistics, name), name
    assert set(analytics.__all__) == set(statistics.__all__)
    assert analytics.spc_latest is importlib.import_module("data_layer.statistics.spc_charts").spc_latest
    assert analytics.rag_status is importlib.import_module("data_layer.statistics.rag").rag_status


def test_rag_moved_unchanged():
    from data_layer.statistics.rag import RAG_SYMBOLS, RAG_WORDS, rag_status

    assert RAG_WORDS == {"green": "On target", "amber": "Near target", "red": "Off target", "none": "No target"}
    assert RAG_SYMBOLS == {"green": "✔", "amber": "▲", "red": "✖", "none": "–"}
    assert list(rag_status(np.array([80.0, 78.0, 70.0, np.nan]), 80, "higher", 2)) == ["green", "amber", "red", "none"]
    assert rag_status(11, 10, "lower", 1) == "amber" and rag_status(12, 10, "neutral", 1) == "none"


def test_spc_and_spc_latest_share_one_core(monkeypatch):
    # both go through spc_core.xmr (the one place limits, screening and the four rules are worked out)
    import data_layer.statistics.spc_charts as spc_module

    calls = []
    real = spc_module.xmr

    def counting(y, valid, run_length):
        calls.append(y.shape)
        return real(y, valid, run_length)

    monkeypatch.setattr(spc_module, "xmr", counting)
    analytics.spc([1, 3, 2, 4, 3], rebase_at=[3])
    analytics.spc_latest(np.array([[1.0, 3, 2], [4, 4, 4]]))
    assert calls == [(2, 3), (2, 3)]  # spc: one row per segment; spc_latest: one row per series


def test_statistics_files_stay_small():
    files = sorted((ROOT / "data_layer" / "statistics").glob("*.py")) + [ROOT / "data_layer" / "analytics.py"]
    sizes = {f.name: len(f.read_text(encoding="utf-8").splitlines()) for f in files}
    assert len(sizes) >= 8 and max(sizes.values()) <= 500, sizes
    assert sizes["analytics.py"] <= 120  # a thin re-export, no statistics of its own
