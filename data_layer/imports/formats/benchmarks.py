"""Shared by the published indicator formats: splitting rows into the federation's indicator values and benchmark
values, and collapsing rows a publication repeats exactly."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import models as m
from ..base import Context
from ..writer import Target, row_hash
from .indicator_values import INDICATOR_VALUES

BENCHMARKS = Target(m.BenchmarkValue.__table__,
                    ("source", "indicator_id", "area_code", "period_start", "period_end", "sex", "age", "category"),
                    scope="indicator_id", empty_strings=("sex", "age", "category"))
BENCHMARK_VALUES = ("indicator_name", "area_name", "area_type", "period_label", "numerator", "denominator", "value",
                    "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998")


def benchmark_frame(frame: pd.DataFrame, rows: np.ndarray, ctx: Context, key_column: str) -> pd.DataFrame:
    """Drop exact repeats (noted); refuse rows that repeat a key with different figures. ``rows``: the file's row
    number of each row of ``frame`` (for the report). Used by whole-file formats only."""
    for c in ("sex", "age", "category"):
        frame[c] = frame[c].fillna("") if c in frame else ""
    for c in BENCHMARK_VALUES:
        if c not in frame:
            frame[c] = None if c in ("indicator_name", "area_name", "area_type") else np.nan
    frame = frame[[*BENCHMARKS.keys, *BENCHMARK_VALUES]]
    keys = row_hash(frame, BENCHMARKS.keys, BENCHMARKS.table)
    values = row_hash(frame, BENCHMARK_VALUES[3:], BENCHMARKS.table)  # figures, not names
    n = len(frame)
    first = pd.Series(np.arange(n)).groupby(keys).transform("min").to_numpy() if n else np.empty(0, dtype=int)
    repeat = first != np.arange(n)
    if repeat.any():
        exact = repeat & (values == values[first])
        conflict = repeat & ~exact
        if exact.any():
            ctx.log.note(f"{int(exact.sum()):,} rows repeat another row's area, period and figures exactly (e.g. the "
                         "same area listed under two parent areas): stored once", count=int(exact.sum()))
        if conflict.any():
            shown = frame["area_code"].to_numpy()[conflict]
            ctx.log.add_rows("error", "repeats an earlier row's indicator, area and period with different figures",
                             rows[conflict], ctx.heading(key_column), shown,
                             reasons=[f"repeats row {rows[f]} (same indicator, area and period) with different "
                                      "figures" for f in first[conflict]])
        frame = frame[~repeat]
    return frame


def value_rows(ctx: Context, chunk: pd.DataFrame, out: pd.DataFrame, rows: np.ndarray, column: str) -> pd.DataFrame:
    """Indicator values for the federation: one per indicator, practice and period."""
    keys = row_hash(out, INDICATOR_VALUES.keys, INDICATOR_VALUES.table)
    repeat, first = ctx.duplicates.check("values", keys, rows)
    if repeat.any():
        ctx.log.add_rows("error", "gives a second value for the same indicator, practice and period", rows[repeat],
                         ctx.heading(column), None,
                         reasons=[f"repeats row {f}: the same indicator, practice and period (rows split by sex, age "
                                  "or category? keep only the rows to import, usually Persons, all ages)"
                                  for f in first[repeat]])
    return out[~repeat]
