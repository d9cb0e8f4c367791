"""Statistics for the federation governance dashboard, one module per method.

Pure functions over numbers, numpy arrays and pandas objects: no database, no Streamlit. Every page that shows a
number with a judgement attached to it (a confidence interval, a funnel plot, an SPC icon, a RAG rating, a training
status) gets it from here, so the table and the chart can never disagree about what a number means. The stable public
import path is :mod:`data_layer.analytics`, which re-exports everything below.

* ``intervals`` - PHEindicatormethods (OHID Fingertips): Wilson intervals, benchmark comparison, funnel limits.
* ``fft`` - NHS England ``fft_pipeline``: FFT percentages and small-number suppression.
* ``spc_core`` / ``spc_charts`` - NHSRplotthedots, Making Data Count: one vectorised XmR core, ``spc`` and ``spc_latest``.
* ``rag`` - red / amber / green against a target.
* ``training`` - training status and compliance (DOMAIN.md).
* ``aggregate`` - pooled proportions over the rows that have both a numerator and a denominator.

Units: proportions are 0..1 unless a name says ``pct`` (0..100). Aggregates are always sum(numerators) /
sum(denominators), never a mean of percentages.
"""

from ._common import Direction
from .aggregate import aggregate_proportion, aggregate_rows_mask
from .fft import FFT_CATEGORIES, fft_percentages, suppress_small_counts
from .intervals import compare_with_benchmark, funnel_limits, funnel_position, wilson_interval
from .rag import RAG_SYMBOLS, RAG_WORDS, rag_status
from .spc_charts import (
    ASSURANCE_SYMBOLS,
    ASSURANCE_WORDS,
    VARIATION_SYMBOLS,
    VARIATION_WORDS,
    SpcResult,
    spc,
    spc_latest,
)
from .training import TRAINING_STATUSES, compliance_rate, training_status

__all__ = [
    "Direction",
    "wilson_interval",
    "compare_with_benchmark",
    "funnel_limits",
    "funnel_position",
    "FFT_CATEGORIES",
    "fft_percentages",
    "suppress_small_counts",
    "SpcResult",
    "spc",
    "spc_latest",
    "VARIATION_WORDS",
    "VARIATION_SYMBOLS",
    "ASSURANCE_WORDS",
    "ASSURANCE_SYMBOLS",
    "rag_status",
    "RAG_WORDS",
    "RAG_SYMBOLS",
    "TRAINING_STATUSES",
    "training_status",
    "compliance_rate",
    "aggregate_proportion",
    "aggregate_rows_mask",
]
