"""A wide table of indicators: one row per practice, one column per indicator (like the Kent and Medway
indicator_QKS table). Columns mapped to catalogue codes become indicator values; the other columns are kept as
benchmark values. The file does not say which period the figures cover, so the user gives it."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from ..base import Col, Context, Format, Match, file_period
from ..values import lookup, norm, parse_numbers, period_label, stripped
from .benchmarks import BENCHMARKS, benchmark_frame, value_rows
from .indicator_values import INDICATOR_VALUES

CODE_HEADINGS = ("gpcode", "practicecode", "code", "odscode", "orgcode", "praccode", "gppracticecode")
IDENTITY = {"icbname", "icbcode", "icb", "gpname", "practicename", "name", "pcnname", "pcncode", "pcn", "ccgname",
            "ccgcode", "ccg", "subicbname", "subicbcode", "subicb", "region", "regionname", "regioncode", "postcode",
            "address", "practice", "gppractice"}


def indicator_id(heading: str) -> str:
    """The benchmark key for a column: its heading, shortened with a hash when too long for the key."""
    text = " ".join(str(heading).split())
    if len(text) <= 160:
        return text
    return text[:147] + "…" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


class WideIndicators(Format):
    kind = "wide_indicators"
    label = "Wide table of indicators per practice (one column per indicator)"
    description = ("One row per practice with a column per indicator: map columns to catalogue codes; other columns "
                   "are kept as benchmark values. Give the period the figures cover.")
    whole_file = True
    uses_indicator_map = True
    published_field = "wide_column"
    needs_period = True
    detect_priority = 90  # only when nothing more specific matches
    columns = (Col("practice_code", CODE_HEADINGS),)

    def match(self, header: list[str]) -> Match:
        normed = [norm(h) for h in header]
        # The most specific heading wins ("Practice Code" over a sub-ICB's "Code" further left).
        code_pos = next((normed.index(c) for c in CODE_HEADINGS if c in normed), None)
        if code_pos is None:
            return Match({}, {}, ["practice_code"], [], 0)
        positions = {"practice_code": code_pos}
        headings = {"practice_code": header[code_pos]}
        self_columns = []
        for i, (h, n) in enumerate(zip(header, normed)):
            if i == code_pos or n in IDENTITY or not n:
                continue
            if not any(ch.isalpha() for ch in h):
                continue  # columns named 0, 1, 2… are not indicators (e.g. patients by single year of age)
            key = f"ind_{i}"
            positions[key] = i
            headings[key] = h
            self_columns.append(key)
        return Match(positions, headings, [], [], len(self_columns))

    def recognises(self, match: Match, header: list[str]) -> bool:
        return "practice_code" in match.positions and match.score >= 2

    def items(self, headings: dict[str, str]) -> pd.DataFrame:
        cols = [h for k, h in headings.items() if k.startswith("ind_")]
        return pd.DataFrame({"source": cols, "name": cols})

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        period = file_period(ctx, from_name=False)
        columns = {k: h for k, h in ctx.headings.items() if k.startswith("ind_")}
        mapping = ctx.resolve_indicator_map({h: h for h in columns.values()}, what="a column",
                                            published=self.published_field)
        codes = stripped(chunk["practice_code"]).str.upper()
        practice_id = lookup(codes, ctx.code_to_id).astype("Int64")
        in_fed = practice_id.notna().to_numpy()
        if period is None:
            return []
        start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
        rows = chunk["_row"].to_numpy()
        value_frames, bench_frames = [], []
        for key, heading in columns.items():
            value = parse_numbers(chunk, key, log, minimum=None, what="number")
            has = value.notna().to_numpy()
            code = mapping.get(heading)
            use_value = has & in_fed & (code is not None)
            if use_value.any():
                value_frames.append((pd.DataFrame({
                    "indicator_code": code, "practice_id": practice_id, "period_start": start, "period_end": end,
                    "numerator": np.nan, "denominator": np.nan, "value": value})[use_value], rows[use_value]))
            rest = has & ~use_value
            if rest.any() and ctx.options.keep_benchmarks:
                bench_frames.append((pd.DataFrame({
                    "source": self.kind, "indicator_id": indicator_id(heading), "indicator_name": heading,
                    "area_code": codes, "area_name": None, "area_type": "GP", "period_label": period_label(*period),
                    "period_start": start, "period_end": end, "value": value})[rest], rows[rest]))
        writes = []
        if value_frames:
            out = pd.concat([f for f, _ in value_frames], ignore_index=True)
            out_rows = np.concatenate([r for _, r in value_frames])
            out = value_rows(ctx, chunk, out, out_rows, "practice_code")
            ctx.stats["rows_for_federation"] += len(out)
            ctx.practices_seen.update(codes[in_fed].tolist())
            log.note(f"{len(out):,} values for {len(mapping)} mapped indicators. The file gives values only (no "
                     "numerators or denominators), so they are stored as published; federation totals need both.",
                     count=1)
            writes.append((INDICATOR_VALUES, out))
        if bench_frames:
            bench = pd.concat([f for f, _ in bench_frames], ignore_index=True)
            b_rows = np.concatenate([r for _, r in bench_frames])
            bench = benchmark_frame(bench, b_rows, ctx, "practice_code")
            ctx.stats["benchmark_rows"] += len(bench)
            n_out = int((~in_fed).sum())
            log.note(f"{len(bench):,} values kept as benchmark values ({len(columns) - len(mapping)} unmapped columns"
                     + (f"; {n_out} practices outside the federation" if n_out else "") + ")", count=1)
            writes.append((BENCHMARKS, bench))
        elif not ctx.options.keep_benchmarks:
            log.add_mask("skipped", "practice outside the federation: row not imported", chunk, ~in_fed,
                         "practice_code")
        return writes
