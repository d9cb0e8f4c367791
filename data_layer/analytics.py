"""Statistics for the federation governance dashboard: the stable public API.

The code lives in the :mod:`data_layer.statistics` package, one module per method (intervals, FFT, SPC, RAG,
training, aggregation); this module re-exports it so that ``from data_layer.analytics import ...`` keeps working for
the pages, the exports and any outside check. Add new statistics to the package and re-export them here.

The methods follow the public reference implementations named in ``/work/shared/DOMAIN.md``:

* **Proportions, benchmarks and funnels** - PHEindicatormethods (OHID Fingertips): Wilson score intervals, the
  "entirely above / below the benchmark" comparison, and funnel limits for proportions.
* **Statistical process control** - NHSRplotthedots, i.e. NHS England's "Making Data Count" XmR chart. Where the
  package and DOMAIN.md / current Making Data Count guidance differ, the difference is stated in :func:`spc`.
* **FFT suppression** - NHS England ``fft_pipeline`` (``src/fft/suppression.py``).

Units: proportions are 0..1 unless a name says ``pct`` (0..100). Aggregates are always sum(numerators) /
sum(denominators) over the rows that have both, never a mean of percentages.
"""

from __future__ import annotations

from .statistics import (
    ASSURANCE_SYMBOLS,
    ASSURANCE_WORDS,
    FFT_CATEGORIES,
    RAG_SYMBOLS,
    RAG_WORDS,
    TRAINING_STATUSES,
    VARIATION_SYMBOLS,
    VARIATION_WORDS,
    Direction,
    SpcResult,
    aggregate_proportion,
    aggregate_rows_mask,
    compare_with_benchmark,
    compliance_rate,
    fft_percentages,
    funnel_limits,
    funnel_position,
    rag_status,
    spc,
    spc_latest,
    suppress_small_counts,
    training_status,
    wilson_interval,
)
from .statistics.spc_core import (  # noqa: F401  (constants some callers read)
    RULE_OUTSIDE,
    RULE_SHIFT,
    RULE_TREND,
    RULE_TWO_IN_THREE,
    SPC_LIMIT,
    SPC_MR_SCREEN,
    SPC_NEAR,
    SPC_TRIAL_POINTS,
)

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
