"""Red / amber / green against a target, with a tolerance and a preferred direction.

The one place the RAG rule lives; the status module other views use is built on :func:`rag_status`.
"""

from __future__ import annotations

import numpy as np

from ._common import Direction, _direction, _is_scalar, _to_float

__all__ = ["RAG_WORDS", "RAG_SYMBOLS", "rag_status"]

RAG_WORDS = {"green": "On target", "amber": "Near target", "red": "Off target", "none": "No target"}
RAG_SYMBOLS = {"green": "✔", "amber": "▲", "red": "✖", "none": "–"}


def _rag_one(value: float, target: float, direction: str, tolerance: float) -> str:
    if direction == "neutral" or not np.isfinite(value) or not np.isfinite(target):
        return "none"
    tol = abs(tolerance) if np.isfinite(tolerance) else 0.0
    gap = value - target if direction == "higher" else target - value  # >= 0 means the target is met
    if gap >= 0:
        return "green"
    if gap >= -tol:
        return "amber"
    return "red"


def rag_status(value, target, direction: Direction, tolerance: float):
    """Red / amber / green against a target, for a single headline number.

    ``"green"`` meets the target (>= for higher-is-better, <= for lower-is-better), ``"amber"`` misses it by no more
    than ``tolerance`` (in the indicator's own units, e.g. 2 percentage points), ``"red"`` otherwise; ``"none"`` when
    value or target is missing or the direction is neutral (a target without a preferred direction cannot be missed).
    Always show :data:`RAG_WORDS` or :data:`RAG_SYMBOLS` with the colour (WCAG: colour never carries meaning alone).
    RAG is a snapshot; use :func:`spc` to say whether a change is real. Scalars in -> str; arrays in -> ndarray.
    """
    direction = _direction(direction)
    if _is_scalar(value, target, tolerance):
        return _rag_one(float(_to_float(value)), float(_to_float(target)), direction, float(_to_float(tolerance)))
    v, t, tol = np.broadcast_arrays(_to_float(value), _to_float(target), _to_float(tolerance))
    out = np.empty(v.shape, dtype=object)
    for i in np.ndindex(v.shape):
        out[i] = _rag_one(float(v[i]), float(t[i]), direction, float(tol[i]))
    return out
