"""Shared helpers of the statistics package: one way to read numbers, confidence levels and directions.

Values arrive as numpy arrays, pandas nullable integers (``pd.NA``), pandas 3 string columns from importers, or plain
Python numbers; every statistic treats "missing" the same way (NaN) because it reads them through :func:`_to_float`.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

Direction = Literal["higher", "lower", "neutral"]


def _to_float(x: Any) -> np.ndarray:
    """Return ``x`` as a float ndarray (0-d for scalars); anything non-numeric or missing becomes NaN.

    Needed because values arrive as numpy arrays, pandas nullable integers (``pd.NA``), pandas 3 string columns from
    importers, or plain Python numbers, and every function here should treat "missing" the same way: NaN.
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        return x.astype(float)
    if isinstance(x, (pd.Series, pd.Index)) or isinstance(x, pd.api.extensions.ExtensionArray):
        return pd.to_numeric(pd.Series(x), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.ndim(x) == 0:
        if x is None:
            return np.asarray(np.nan)
        try:
            if pd.isna(x):
                return np.asarray(np.nan)
            return np.asarray(float(x))
        except (TypeError, ValueError):
            return np.asarray(np.nan)
    arr = np.asarray(x, dtype=object)
    flat = pd.to_numeric(pd.Series(arr.ravel()), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return flat.reshape(arr.shape)


def _is_scalar(*xs: Any) -> bool:
    return all(np.ndim(x) == 0 for x in xs)


def _confidence(confidence: float) -> float:
    """Normalise a confidence level given as 0.95 or as 95 (PHEindicatormethods accepts both)."""
    c = float(confidence)
    if c >= 1.0:
        c = c / 100.0
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be in (0, 1) or (1, 100), got {confidence!r}")
    return c


def _z(confidence: float) -> float:
    """Two-sided normal quantile, PHE's ``zscore()``: qnorm(c + (1 - c) / 2). 95% -> 1.959964, 99.8% -> 3.090232."""
    c = _confidence(confidence)
    return NormalDist().inv_cdf(c + (1.0 - c) / 2.0)


def _confidence_suffix(confidence: float) -> str:
    """Column suffix for a confidence level: 0.95 -> '95', 0.998 -> '99_8'."""
    pct = round(_confidence(confidence) * 100.0, 6)
    return f"{pct:g}".replace(".", "_")


_DIRECTION_ALIASES = {
    "higher": "higher",
    "increase": "higher",
    "up": "higher",
    "higher is better": "higher",
    "lower": "lower",
    "decrease": "lower",
    "down": "lower",
    "lower is better": "lower",
    "neutral": "neutral",
    "none": "neutral",
    "": "neutral",
}


def _direction(direction: Any) -> str:
    """Accept our own words and NHSRplotthedots' ('increase' / 'decrease' / 'neutral'); None means neutral."""
    if direction is None or (not isinstance(direction, str) and pd.isna(direction)):
        return "neutral"
    key = str(direction).strip().lower()
    if key not in _DIRECTION_ALIASES:
        raise ValueError(f"direction must be 'higher', 'lower' or 'neutral', got {direction!r}")
    return _DIRECTION_ALIASES[key]
