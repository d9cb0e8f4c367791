"""OHID Fingertips exports: one layout for every indicator (Indicator ID, Area Code, Area Type, Time period, Value,
confidence intervals, Count, Denominator…). Rows for the federation's practices become indicator values when the
indicator is mapped to a catalogue code; every other row (England, regions, ICBs, other practices, unmapped
indicators) is kept as a benchmark value."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import Col, Context, Format
from ..values import lookup, norm_series, parse_numbers, parse_period, stripped
from .benchmarks import BENCHMARKS, benchmark_frame, value_rows
from .indicator_values import INDICATOR_VALUES

GP_AREA_TYPES = {"gp", "gps", "gppractice", "gppractices", "generalpractice", "generalpractices"}


def periods(ctx: Context, chunk: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Period labels → first and last day, parsed once per distinct label."""
    labels = stripped(chunk[column])
    parsed = {label: parse_period(label) for label in labels.unique()}
    start = pd.to_datetime(lookup(labels, {k: v[0] for k, v in parsed.items() if v}))
    end = pd.to_datetime(lookup(labels, {k: v[1] for k, v in parsed.items() if v}))
    bad = start.isna().to_numpy()
    ctx.log.add_mask("error", "is not a period the importer can read (e.g. 2023/24, 2023, 2021/22 Q1, Jan 2024, "
                     "2019 - 21)", chunk, bad, column)
    future = (start > pd.Timestamp(ctx.today)).to_numpy()
    ctx.log.add_mask("error", "is a period in the future", chunk, future, column)
    return start, end, bad | future


class Fingertips(Format):
    kind = "fingertips"
    label = "OHID Fingertips indicator export"
    description = ("Any Fingertips indicator (e.g. 91547 smoking prevalence): practice rows become indicator values "
                   "for a mapped catalogue indicator; other areas are kept as benchmarks.")
    whole_file = True
    uses_indicator_map = True
    published_field = "fingertips_id"
    item_columns = ("indicator_id", "indicator_name")
    columns = (
        Col("indicator_id", ("indicator id",)),
        Col("indicator_name", ("indicator name",), required=False),
        Col("area_code", ("area code",)),
        Col("area_name", ("area name",), required=False),
        Col("area_type", ("area type",)),
        Col("sex", (), required=False),
        Col("age", (), required=False),
        Col("category_type", ("category type",), required=False),
        Col("category", (), required=False),
        Col("time_period", ("time period",)),
        Col("value", ()),
        Col("lower_ci", ("lower ci 95.0 limit", "lower ci 95 limit", "lower 95 ci limit"), required=False),
        Col("upper_ci", ("upper ci 95.0 limit", "upper ci 95 limit", "upper 95 ci limit"), required=False),
        Col("lower_ci_998", ("lower ci 99.8 limit", "lower 99.8 ci limit"), required=False),
        Col("upper_ci_998", ("upper ci 99.8 limit", "upper 99.8 ci limit"), required=False),
        Col("count", (), required=False),
        Col("denominator", (), required=False),
        Col("value_note", ("value note",), required=False),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        ids = stripped(chunk["indicator_id"])
        names = stripped(chunk["indicator_name"]) if "indicator_name" in chunk else pd.Series("", index=chunk.index)
        # Some exports leave the id empty on later rows but keep the name: read the id from the name.
        named = pd.DataFrame({"id": ids, "name": names})
        by_name = named[(named["id"] != "") & (named["name"] != "")].drop_duplicates("name").set_index("name")["id"]
        missing = (ids == "").to_numpy()
        if missing.any():
            filled = lookup(names[missing], by_name.to_dict())
            ids = ids.copy()
            ids[missing] = filled.fillna("").to_numpy()
            n_filled = int(filled.notna().sum())
            if n_filled:
                log.note(f"{n_filled:,} rows have no Indicator ID; their Indicator Name matches an indicator with an "
                         "ID in the file, so that ID is used", count=n_filled)
            still = (ids == "").to_numpy()
            log.add_mask("error", "is empty, and the indicator name does not match any row that has an ID", chunk,
                         still, "indicator_id")
        start, end, bad_period = periods(ctx, chunk, "time_period")
        value = parse_numbers(chunk, "value", log, minimum=None, what="value")
        num = parse_numbers(chunk, "count", log, what="count") if "count" in chunk else pd.Series(np.nan, chunk.index)
        den = parse_numbers(chunk, "denominator", log, what="denominator") if "denominator" in chunk else \
            pd.Series(np.nan, chunk.index)
        cis = {c: parse_numbers(chunk, c, log, minimum=None, what="confidence limit") if c in chunk else
               pd.Series(np.nan, chunk.index) for c in ("lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998")}
        no_value = (value.isna() & num.isna()).to_numpy() & ~bad_period
        if no_value.any():
            notes = stripped(chunk["value_note"]) if "value_note" in chunk else pd.Series("", index=chunk.index)
            log.add_mask("skipped", "has no value in the file (nothing to store)", chunk, no_value, "value",
                         values=notes.where(notes != "", None))
        area_type = norm_series(chunk["area_type"])
        is_gp = area_type.isin(list(GP_AREA_TYPES)).to_numpy()
        codes = stripped(chunk["area_code"]).str.upper()
        practice_id = lookup(codes, ctx.code_to_id).astype("Int64")
        in_fed = is_gp & practice_id.notna().to_numpy()
        available = dict(zip(ids, names))
        mapping = ctx.resolve_indicator_map({k: v for k, v in available.items() if k}, published=self.published_field)
        mapped_code = lookup(ids, mapping)
        named = ctx.published_map(available, self.published_field)  # in the catalogue, kept out by the user's map
        for sid in sorted(k for k in available if k and k not in mapping and k not in named):
            log.note(f"indicator {sid} ({available[sid] or 'no name'}) is not in the catalogue: its rows are kept as "
                     "benchmark values. Add it to the catalogue (the Import page's button, or --add-indicators on the "
                     "command line), or map it to a catalogue code.", count=1, value=sid)
        usable = ~no_value & ~bad_period & (ids != "").to_numpy()
        as_value = usable & in_fed & mapped_code.notna().to_numpy()
        rows = chunk["_row"].to_numpy()
        writes = []
        if as_value.any():
            out = pd.DataFrame({
                "indicator_code": mapped_code, "practice_id": practice_id, "period_start": start, "period_end": end,
                "numerator": num, "denominator": den, "value": value,
                "lower_ci": cis["lower_ci"], "upper_ci": cis["upper_ci"],
            })[as_value]
            out = value_rows(ctx, chunk[as_value], out, rows[as_value], "area_code")
            ctx.practices_seen.update(codes[as_value].unique().tolist())
            ctx.stats["rows_for_federation"] += len(out)
            for sid, code in mapping.items():
                n = int((as_value & (ids == sid).to_numpy()).sum())
                log.note(f"indicator {sid} → {code}: {n:,} values for the federation's practices", count=1)
            writes.append((INDICATOR_VALUES, out))
        rest = usable & ~as_value
        fed_unmapped = rest & in_fed
        if fed_unmapped.any():
            unmapped_ids = sorted(set(ids[fed_unmapped]))
            log.note(f"{int(fed_unmapped.sum()):,} rows for the federation's practices are for indicators not mapped "
                     f"to the catalogue ({', '.join(unmapped_ids[:5])}): kept as benchmark values. Map an indicator "
                     "to a catalogue code to import it as the practices' values.", count=int(fed_unmapped.sum()))
        if not ctx.options.keep_benchmarks:
            log.add_mask("skipped", "not one of the federation's practices (benchmarks not kept)", chunk, rest,
                         "area_code")
            return writes
        if rest.any():
            others = rest & ~in_fed
            types = pd.Series(chunk["area_type"].to_numpy()[others]).value_counts()
            log.note(f"{int(others.sum()):,} rows about other areas kept as benchmark values ("
                     + ", ".join(f"{t or 'no area type'}: {n:,}" for t, n in types.head(6).items())
                     + (", …" if len(types) > 6 else "") + ")", count=int(others.sum()))
            cat_type = stripped(chunk["category_type"]) if "category_type" in chunk else pd.Series("", chunk.index)
            cat = stripped(chunk["category"]) if "category" in chunk else pd.Series("", chunk.index)
            category = (cat_type + ": " + cat).where(cat != "", "")
            bench = pd.DataFrame({
                "source": self.kind, "indicator_id": ids, "indicator_name": names.where(names != "", None),
                "area_code": codes, "area_name": stripped(chunk["area_name"]) if "area_name" in chunk else None,
                "area_type": stripped(chunk["area_type"]),
                "period_label": stripped(chunk["time_period"]), "period_start": start, "period_end": end,
                "sex": stripped(chunk["sex"]) if "sex" in chunk else "",
                "age": stripped(chunk["age"]) if "age" in chunk else "",
                "category": category, "numerator": num, "denominator": den, "value": value, **cis,
            })[rest]
            bench = benchmark_frame(bench, rows[rest], ctx, "area_code")
            ctx.stats["benchmark_rows"] += len(bench)
            writes.append((BENCHMARKS, bench))
        return writes
