"""The registry of derivations: name -> function and the method in words.

A derived indicator in ``federation.toml`` names its calculation (``derived = "fft_positive"``); config is validated
against this registry, the refresh calls the function, and the inspection pack's appendix prints the method text.
Adding a derived KPI is one decorated function in ``derivations.py`` and one config entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd


@dataclass(frozen=True)
class Derivation:
    name: str
    method: str  # how it is worked out, in words; may use {min} (suppression) and {days} (deadline)
    reads: str  # the raw data it is computed from: fft, training, complaints, significant_events
    function: Callable[..., pd.DataFrame]
    needs_days: bool = False


_REGISTRY: dict[str, Derivation] = {}


def derivation(name: str, method: str, reads: str, needs_days: bool = False):
    """Register ``function(ctx, indicator) -> DataFrame[practice_id, period_start, numerator, denominator]``."""

    def register(function):
        if name in _REGISTRY:
            raise ValueError(f"derivation {name!r} is registered twice")
        _REGISTRY[name] = Derivation(name, method, reads, function, needs_days)
        return function

    return register


def _load() -> None:
    from . import derivations, derivations_records  # noqa: F401  (registers every derivation on import)


def names() -> tuple[str, ...]:
    _load()
    return tuple(_REGISTRY)


def get(name: str) -> Derivation:
    _load()
    return _REGISTRY[name]


def method_text(name: str, suppression_min: int, days: int | None) -> str:
    return get(name).method.format(min=suppression_min, days=days if days is not None else "")
