"""Registered patients by single year of age: one row per practice, one column per year of age (GP code, 0, 1, 2 …
95), as derived from NHS England's "Patients registered at a GP practice" single-age files (one file per sex, e.g.
f_pop_QKS_2026-27.csv and m_pop_QKS_2026-27.csv).

Each practice's count at each age is kept with the practice's total (so the share of the list at that age is the
value), for every practice in the file, in the published values table (``benchmark_values``: source
"population_by_age", sex and age as their own key columns). The sex comes from a Sex column, else from the file's
name (f_ / female, m_ / male); the period from --period or the year in the name. List sizes still come from the
"Patients registered" totals file."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..base import Col, Context, Format, Match, file_period
from ..values import norm, parse_numbers, period_label, stripped
from .benchmarks import BENCHMARKS, benchmark_frame
from .practices import MAX_LIST_SIZE

CODE_HEADINGS = ("gpcode", "practicecode", "odscode", "code", "orgcode")
AGES_NEEDED = {str(a) for a in range(0, 91)}  # single years 0 to 90 at least (the oldest column may be "95+")
INDICATOR = "registered_patients_by_age"


def sex_of(file_name: str) -> str | None:
    name = file_name.rsplit("/", 1)[-1].lower()
    if re.search(r"(^|[^a-z])(f|female|females|women)([^a-z]|$)", name):
        return "Female"
    if re.search(r"(^|[^a-z])(m|male|males|men)([^a-z]|$)", name):
        return "Male"
    if re.search(r"(^|[^a-z])(persons|all)([^a-z]|$)", name):
        return "Persons"
    return None


def _age(heading: str) -> str | None:
    """'0'…'95', '95+' or '90 and over' → the age as the file writes it (None: not an age column)."""
    text = " ".join(str(heading).split()).lower()
    m = re.fullmatch(r"(\d{1,3})(\+| and over| plus)?", text)
    return (m.group(1) + ("+" if m.group(2) else "")) if m else None


class PopulationByAge(Format):
    kind = "population_by_age"
    label = "Registered patients by single year of age (one column per age)"
    description = ("Registered patients per practice at each year of age (GP code, 0, 1, 2 … 95), one file per sex: "
                   "kept per practice, sex and age with the practice's total.")
    whole_file = True
    feeds = ()  # no figure of the measure store reads it yet
    needs_period = True
    columns = (Col("practice_code", ("gp code", "practice code", "ods code", "code", "org code")),
               Col("sex", (), required=False))

    def match(self, header: list[str]) -> Match:
        normed = [norm(h) for h in header]
        code = next((normed.index(c) for c in CODE_HEADINGS if c in normed), None)
        ages = {i: _age(h) for i, h in enumerate(header) if _age(h) is not None}
        if code is None or not AGES_NEEDED <= {a.rstrip("+") for a in ages.values()}:
            return Match({}, {}, ["practice_code", "ages"], [], 0)
        positions = {"practice_code": code, **{f"age_{a}": i for i, a in ages.items()}}
        headings = {"practice_code": header[code], **{f"age_{a}": header[i] for i, a in ages.items()}}
        if "sex" in normed:
            positions["sex"] = normed.index("sex")
            headings["sex"] = header[positions["sex"]]
        return Match(positions, headings, [], [], len(positions))

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        period = file_period(ctx)
        if "sex" in chunk:
            sex = stripped(chunk["sex"]).str.title()
        else:
            named = sex_of(ctx.file_name)
            if named is None:
                log.error("the file does not say which sex it counts: add a Sex column, or name the file f_… or "
                          "m_… (female or male)", column="sex")
                return []
            sex = pd.Series(named, index=chunk.index)
            log.note(f"the file counts {named.lower()} patients (from its name)", count=1)
        codes = stripped(chunk["practice_code"]).str.upper()
        ages = {k[4:]: k for k in ctx.headings if k.startswith("age_")}
        counts = {a: parse_numbers(chunk, k, log, what="number of patients", maximum=MAX_LIST_SIZE)
                  for a, k in ages.items()}
        if period is None:
            return []
        empty = sum(int(n.isna().sum()) for n in counts.values())
        if empty:
            log.note(f"{empty:,} empty cells (no patients published at that age) are not stored", count=1)
        total = sum(n.fillna(0) for n in counts.values())
        start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
        rows = chunk["_row"].to_numpy()
        frames = [pd.DataFrame({
            "source": self.kind, "indicator_id": INDICATOR, "indicator_name": "Registered patients by age",
            "area_code": codes, "area_name": None, "area_type": "GP", "period_label": period_label(*period),
            "period_start": start, "period_end": end, "sex": sex, "age": age, "numerator": n, "denominator": total,
            "value": n / total.where(total > 0) * 100}) for age, n in counts.items()]
        frame = pd.concat(frames, ignore_index=True)
        frame_rows = np.tile(rows, len(frames))
        keep = frame["numerator"].notna().to_numpy()
        frame = benchmark_frame(frame[keep].reset_index(drop=True), frame_rows[keep], ctx, "practice_code")
        ours = codes.isin(list(ctx.code_to_id))
        ctx.practices_seen.update(codes[ours].tolist())
        ctx.stats["rows_for_federation"] += int(ours.sum())
        log.note(f"{len(chunk):,} practices ({int(ours.sum())} of the federation's) × {len(ages)} ages kept per "
                 "practice, sex and age; the screens do not show populations by age yet", count=1)
        return [(BENCHMARKS, frame)]
