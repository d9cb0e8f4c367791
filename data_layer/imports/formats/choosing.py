"""Choosing the federation's practices from a published list of practices (the QOF or appointments mapping file,
ODS epraccur): by PCN (name or code), by sub-ICB (code or name) or by a list of practice codes. A choice that matches
nothing in the file is an error that says so; the rows chosen are the practices to add."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import Context
from ..values import norm, norm_series


def wanted(ctx: Context) -> bool:
    o = ctx.options
    return bool(o.add_pcn or o.add_sub_icb or o.add_practices)


def chosen_rows(ctx: Context, chunk: pd.DataFrame, codes: pd.Series, pcn: dict[str, pd.Series] | None,
                sub_icb: dict[str, pd.Series]) -> np.ndarray:
    """Rows of practices the options choose (``pcn`` / ``sub_icb``: the file's columns naming them, e.g. name and
    code; ``pcn`` None when the file has no PCN). Errors for choices the file does not hold."""
    o, log = ctx.options, ctx.log
    rows = np.zeros(len(chunk), dtype=bool)
    for option, choices, columns, what in (("add PCN", o.add_pcn, pcn, "PCN"),
                                            ("add sub-ICB", o.add_sub_icb, sub_icb, "sub-ICB")):
        if not choices:
            continue
        if columns is None:
            log.error(f"this file does not say which {what} each practice belongs to: choose the practices by "
                      "sub-ICB or by their codes, or use the practice to PCN mapping file",
                      column=option, value=", ".join(choices))
            continue
        normed = [norm_series(s) for s in columns.values()]
        for choice in choices:
            hit = np.zeros(len(chunk), dtype=bool)
            for s in normed:
                hit |= (s == norm(choice)).to_numpy()
            if not hit.any():
                log.error(f"no practice in the file belongs to the {what} {choice!r}", column=option, value=choice)
            rows |= hit
    if o.add_practices:
        listed = {c.strip().upper() for c in o.add_practices if c.strip()}
        found = set(codes[codes.isin(listed)])
        for code in sorted(listed - found):
            log.error(f"the practice {code} is not in the file", column="add practices", value=code)
        rows |= codes.isin(listed).to_numpy()
    return rows


def choice_words(ctx: Context) -> str:
    """The choice in words, for the report: "Mpa PCN", "sub-ICB 91Q", "G82001, G82002"."""
    o = ctx.options
    parts = [*o.add_pcn, *(f"sub-ICB {s}" for s in o.add_sub_icb)]
    if o.add_practices:
        parts.append(", ".join(c.strip().upper() for c in o.add_practices))
    return "; ".join(parts)
