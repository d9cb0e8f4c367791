"""Childhood immunisations in the long layout: one row per practice, year, age and vaccine, with numerator and
denominator (UKHSA COVER GP-level figures as local public health teams republish them, e.g. West Sussex's
GP_immunisations.csv: Year, ODS_Code, Age, Item, Term, Numerator, Denominator, Proportion…).

A vaccine is named "<Item> at <Age>" ("MMR2 at 5 years"): a catalogue entry with
``published = { vaccine_item = "MMR2 at 5 years" }`` takes the federation's practices' rows as its values
(numerator ÷ denominator); every other row is kept as a benchmark value."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import Col, Context, Format, report_repeats
from ..values import lookup, parse_numbers, stripped
from ..writer import row_hash
from .benchmarks import BENCHMARKS, benchmark_frame, value_rows
from .fingertips import periods
from .indicator_values import INDICATOR_VALUES, finish_values


def vaccine_id(item: str, age: str) -> str:
    return f"{' '.join(item.split())} at {' '.join(age.split())}"


def _whole(values: pd.Series) -> pd.Series:
    """Counts published as 88.0000000000001 (a spreadsheet's arithmetic) are the whole numbers they mean."""
    near = (values - values.round()).abs() < 1e-6
    return values.where(~near, values.round())


class Immunisations(Format):
    kind = "immunisations"
    label = "Childhood immunisations per practice and vaccine (numerator and denominator)"
    description = ("One row per practice, year, age and vaccine (UKHSA COVER GP data as republished locally): a "
                   "vaccine the catalogue names becomes its indicator's values for the federation's practices; "
                   "other practices and vaccines are kept as benchmarks.")
    whole_file = True
    uses_indicator_map = True
    published_field = "vaccine_item"
    item_columns = ("item", "age", "term")
    columns = (
        Col("year", ("time period", "period", "financial year")),
        Col("practice_code", ("ods_code", "ods code", "practice code", "gp code")),
        Col("age", ("age group", "cohort")),
        Col("item", ("vaccine",)),
        Col("term", ("vaccine name", "description"), required=False),
        Col("numerator", ()),
        Col("denominator", ()),
        Col("proportion", ("coverage",), required=False),
        Col("practice_name", ("ods_name", "ods name", "practice name"), required=False),
        Col("pcn_code", ("pcn_code", "pcn code"), required=False),
        Col("pcn_name", ("pcn_name", "pcn name"), required=False),
    )

    def item_table(self, counts: pd.DataFrame) -> pd.DataFrame:
        """For mapping in the page: the file's vaccines ("MMR2 at 5 years"), their description and rows."""
        if counts.empty:
            return pd.DataFrame(columns=["source", "name", "rows"])
        counts = counts.assign(source=[vaccine_id(i, a) for i, a in zip(counts["item"], counts["age"])])
        name = counts["term"] if "term" in counts else counts["source"]
        return (counts.assign(name=name).groupby("source", as_index=False)
                .agg(name=("name", "first"), rows=("rows", "sum")))

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        codes = stripped(chunk["practice_code"]).str.upper()
        item, age = stripped(chunk["item"]), stripped(chunk["age"])
        ids = pd.Series([vaccine_id(i, a) for i, a in zip(item, age)], index=chunk.index, dtype=object)
        terms = stripped(chunk["term"]) if "term" in chunk else ids
        start, end, bad_period = periods(ctx, chunk, "year")
        num = _whole(parse_numbers(chunk, "numerator", log, what="numerator"))
        den = _whole(parse_numbers(chunk, "denominator", log, what="denominator"))
        none = (num.isna() & den.isna()).to_numpy()
        log.add_mask("skipped", "has no numerator or denominator in the file (nothing published)", chunk, none,
                     "numerator")
        nobody = (num.isna() & (den == 0)).to_numpy()
        log.add_mask("skipped", "has no eligible children (denominator 0) and no numerator", chunk, nobody,
                     "denominator")
        none = none | nobody
        half = (num.isna() ^ den.isna()).to_numpy() & ~nobody
        log.add_mask("error", "has a numerator or a denominator but not both", chunk, half, "numerator")
        over = (num > den).to_numpy()
        log.add_mask("error", "is more than the denominator: coverage cannot be above 100%", chunk, over, "numerator")
        # Some publications list a practice twice (once under each PCN it moved between): the same figures are
        # stored once; different figures for one practice, year and vaccine are refused.
        keys = row_hash(pd.DataFrame({"c": codes, "y": stripped(chunk["year"]), "v": ids}), ["c", "y", "v"],
                        kind="str")
        figures = row_hash(pd.DataFrame({"n": num.fillna(-1).astype(str), "d": den.fillna(-1).astype(str)}),
                           ["n", "d"], kind="str")
        seen = pd.DataFrame({"k": keys, "f": figures})
        exact = seen.duplicated().to_numpy()
        if exact.any():
            log.note(f"{int(exact.sum()):,} rows repeat another row's practice, year, vaccine and figures exactly: "
                     "stored once", count=int(exact.sum()))
        valid = ~exact & ~none & ~bad_period
        repeat, first = ctx.duplicates.check("immunisations", keys, chunk["_row"].to_numpy(), valid=valid)
        report_repeats(ctx, chunk, "item", repeat, first,
                       "the same practice, year and vaccine with different figures")
        usable = valid & ~half & ~over & ~repeat
        available = dict(zip(ids, terms))
        mapping = ctx.resolve_indicator_map(available, what="a vaccine in this file", published=self.published_field)
        code = lookup(ids, mapping)
        practice_id = lookup(codes, ctx.code_to_id).astype("Int64")
        in_fed = practice_id.notna().to_numpy()
        as_value = usable & in_fed & code.notna().to_numpy()
        rows = chunk["_row"].to_numpy()
        writes = []
        if as_value.any():
            out = pd.DataFrame({"indicator_code": code, "practice_id": practice_id, "period_start": start,
                                "period_end": end, "numerator": num, "denominator": den})[as_value]
            out = finish_values(ctx, chunk[as_value], out, None)
            out = value_rows(ctx, chunk[as_value], out, rows[as_value], "practice_code")
            ctx.practices_seen.update(codes[as_value].unique().tolist())
            ctx.stats["rows_for_federation"] += len(out)
            for sid, c in mapping.items():
                n = int((as_value & (ids == sid).to_numpy()).sum())
                log.note(f"vaccine {sid} → {c}: {n:,} values for the federation's practices", count=1)
            writes.append((INDICATOR_VALUES, out))
        unlisted = sorted({s for s in ids[usable & in_fed & code.isna().to_numpy()]})
        if unlisted:
            log.note(f"{len(unlisted)} vaccines for the federation's practices are not in the catalogue "
                     f"({', '.join(unlisted[:4])}{', …' if len(unlisted) > 4 else ''}): kept as benchmark values. "
                     "Map one to a catalogue code, or name it in a catalogue entry (published = { vaccine_item = "
                     "\"…\" }), to import it as the practices' values.", count=1)
        rest = usable & ~as_value
        if rest.any() and ctx.options.keep_benchmarks:
            names = stripped(chunk["practice_name"]) if "practice_name" in chunk else None
            bench = pd.DataFrame({
                "source": self.kind, "indicator_id": ids, "indicator_name": terms.where(terms != "", None),
                "area_code": codes, "area_name": names, "area_type": "GP", "period_label": stripped(chunk["year"]),
                "period_start": start, "period_end": end, "numerator": num, "denominator": den,
                "value": num / den.where(den > 0) * 100})[rest]
            bench = benchmark_frame(bench, rows[rest], ctx, "practice_code")
            ctx.stats["benchmark_rows"] += len(bench)
            log.note(f"{len(bench):,} rows for other practices and vaccines kept as benchmark values",
                     count=int(rest.sum()))
            writes.append((BENCHMARKS, bench))
        elif rest.any():
            log.add_mask("skipped", "not a catalogue vaccine for a federation practice (benchmarks not kept)", chunk,
                         rest, "practice_code")
        return writes
