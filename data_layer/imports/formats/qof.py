"""NHS Digital QOF raw files: the practice → PCN → sub-ICB → ICB mapping, disease-register prevalence, and
achievement in the long layout (PRACTICE_CODE, INDICATOR_CODE, MEASURE, VALUE). The Appointments in General Practice
mapping file (GP_CODE, PCN_NAME…) is read as a practice mapping too."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import models as m
from ..base import Col, Context, Format, file_period, report_repeats
from ..values import lookup, norm_series, parse_numbers, period_label, stripped
from ..writer import Target, row_hash
from .benchmarks import BENCHMARKS, benchmark_frame, value_rows
from .choosing import choice_words, chosen_rows
from .indicator_values import INDICATOR_VALUES, finish_values
from .practices import MAX_LIST_SIZE, PRACTICES

PRACTICE_UPDATES = Target(m.Practice.__table__, ("code",), insert=False)


class PracticeMapping(Format):
    kind = "pcn_mapping"
    feeds = ("practices",)  # PCN membership decides every PCN figure
    label = "Practice to PCN mapping (QOF or GP appointments mapping file)"
    description = ("NHS Digital's MAPPING_NHS_GEOGRAPHIES file or NHS England's appointments Mapping.csv: sets each "
                   "federation practice's primary care network; can add the practices of a PCN to the federation.")
    whole_file = True
    columns = (
        Col("practice_code", ("practice code", "gp code", "gp_code")),
        Col("practice_name", ("practice name", "gp name"), required=False),
        Col("pcn_name", ("pcn name",)),
        Col("pcn_code", ("pcn ods code", "pcn code"), required=False),
        Col("sub_icb_code", ("sub icb ods code", "sub icb location code", "sub icb code"), required=False),
        Col("sub_icb_ons_code", ("sub icb ons code",), required=False),
        Col("sub_icb_name", ("sub icb name", "sub icb location name"), required=False),
        Col("icb_code", ("icb ods code", "icb code"), required=False),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        codes = stripped(chunk["practice_code"]).str.upper()
        pcn = stripped(chunk["pcn_name"])
        names = stripped(chunk["practice_name"]) if "practice_name" in chunk else codes
        pcn_code = stripped(chunk["pcn_code"]).str.upper() if "pcn_code" in chunk else pd.Series("", chunk.index)
        in_fed = codes.isin(list(ctx.code_to_id)).to_numpy().copy()
        sub_icb = {c: stripped(chunk[c]) for c in ("sub_icb_code", "sub_icb_ons_code", "sub_icb_name") if c in chunk}
        add = ~in_fed & chosen_rows(ctx, chunk, codes, {"name": pcn, "code": pcn_code}, sub_icb)
        # National files list a few practices twice (e.g. once per clinical system): harmless unless the PCNs differ,
        # and only the federation's practices matter.
        ours = in_fed | add
        same = pd.DataFrame({"c": codes, "p": norm_series(pcn)}).duplicated().to_numpy()
        repeat, first = ctx.duplicates.check("mapping", row_hash(pd.DataFrame({"c": codes}), ["c"], kind="str"),
                                             chunk["_row"].to_numpy(), valid=ours & ~same)
        report_repeats(ctx, chunk, "practice_code", repeat, first, "the same practice is given two different PCNs")
        in_fed &= ~same
        add &= ~same
        log.add_mask("skipped", "practice outside the federation: row not imported", chunk, ~in_fed & ~add,
                     "practice_code")
        writes = []
        update = pd.DataFrame({"code": codes, "pcn": pcn.where(pcn != "", None)})[in_fed]
        writes.append((PRACTICE_UPDATES, update))
        if add.any():
            new = pd.DataFrame({"code": codes, "name": names, "pcn": pcn, "active": True})[add]
            log.note(f"{int(add.sum())} practice{'s' * (int(add.sum()) != 1)} of {choice_words(ctx)} added to the federation",
                     count=int(add.sum()))
            writes.append((PRACTICES, new))
        ctx.practices_seen.update(codes[in_fed | add].tolist())
        ctx.stats["rows_for_federation"] += int((in_fed | add).sum())
        return writes


class _QOFIndicators(Format):
    """Shared: split QOF rows into mapped indicator values (federation practices) and benchmark values."""

    whole_file = True
    uses_indicator_map = True
    published_field = "qof_indicator"
    needs_period = True

    def split(self, ctx: Context, chunk: pd.DataFrame, frame: pd.DataFrame, group: pd.Series, names: dict[str, str],
              rows: np.ndarray, period: tuple, multiplier_default: float = 100.0):
        """``frame``: practice_code, numerator, denominator (one row per practice × group)."""
        log = ctx.log
        mapping = ctx.resolve_indicator_map(names, published=self.published_field)
        practice_id = lookup(frame["practice_code"], ctx.code_to_id).astype("Int64")
        in_fed = practice_id.notna().to_numpy()
        code = lookup(group, mapping)
        as_value = in_fed & code.notna().to_numpy()
        start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
        writes = []
        if as_value.any():
            out = pd.DataFrame({"indicator_code": code, "practice_id": practice_id, "period_start": start,
                                "period_end": end, "numerator": frame["numerator"],
                                "denominator": frame["denominator"]})[as_value]
            out = finish_values(ctx, chunk, out, None)
            out = value_rows(ctx, chunk, out, rows[as_value], "practice_code")
            ctx.stats["rows_for_federation"] += len(out)
            ctx.practices_seen.update(frame["practice_code"][as_value].unique().tolist())
            writes.append((INDICATOR_VALUES, out))
        rest = ~as_value
        if in_fed.any() and (rest & in_fed).any():
            log.note(f"{int((rest & in_fed).sum()):,} values for the federation's practices are for indicators not "
                     "mapped to the catalogue: kept as benchmark values", count=int((rest & in_fed).sum()))
        if not ctx.options.keep_benchmarks:
            log.add_rows("skipped", "not a mapped indicator for a federation practice (benchmarks not kept)",
                         rows[rest])
            return writes
        if rest.any():
            log.note(f"{int((rest & ~in_fed).sum()):,} values for practices outside the federation kept as benchmark "
                     "values", count=int((rest & ~in_fed).sum()))
            den = frame["denominator"]
            bench = pd.DataFrame({
                "source": self.kind, "indicator_id": group, "indicator_name": lookup(group, names),
                "area_code": frame["practice_code"], "area_name": None, "area_type": "GP",
                "period_label": period_label(*period), "period_start": start, "period_end": end,
                "numerator": frame["numerator"], "denominator": den,
                "value": frame["numerator"] / den.where(den > 0) * multiplier_default,
            })[rest]
            bench = benchmark_frame(bench, rows[rest], ctx, "practice_code")
            ctx.stats["benchmark_rows"] += len(bench)
            writes.append((BENCHMARKS, bench))
        return writes


class QOFPrevalence(_QOFIndicators):
    kind = "qof_prevalence"
    label = "QOF prevalence (NHS Digital raw file)"
    description = ("Disease registers and list sizes per practice (PREVALENCE_yyyy.csv): register ÷ list size for a "
                   "mapped catalogue indicator; unmapped registers are kept as benchmarks.")
    item_columns = ("group_code",)
    columns = (
        Col("practice_code", ("practice code",)),
        Col("group_code", ("group code", "indicator group code")),
        Col("register", ()),
        Col("patient_list_type", ("patient list type",), required=False),
        Col("practice_list_size", ("practice list size", "list size")),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        period = file_period(ctx)
        codes = stripped(chunk["practice_code"]).str.upper()
        group = stripped(chunk["group_code"]).str.upper()
        reg = parse_numbers(chunk, "register", log, required=True, what="register count")
        size = parse_numbers(chunk, "practice_list_size", log, required=True, what="list size", maximum=MAX_LIST_SIZE)
        # A quirk of one practice's published figures must not refuse the national file: skip the row, say why.
        over = (reg > size).to_numpy()
        log.add_mask("skipped", "register is more than the list size in the published file: not stored", chunk, over,
                     "register")
        reg[over] = np.nan
        repeat, first = ctx.duplicates.check("prevalence", row_hash(pd.DataFrame({"p": codes, "g": group}), ["p", "g"],
                                                                    kind="str"), chunk["_row"].to_numpy())
        report_repeats(ctx, chunk, "group_code", repeat, first, "the same practice and register appear twice")
        if period is None:
            return []
        list_type = stripped(chunk["patient_list_type"]) if "patient_list_type" in chunk else pd.Series("", chunk.index)
        names = {}
        for g, t in zip(group, list_type):
            names.setdefault(g, f"QOF register: {g}" + (f" (list: {t})" if t else ""))
        keep = ~over
        frame = pd.DataFrame({"practice_code": codes, "numerator": reg, "denominator": size})[keep]
        return self.split(ctx, chunk[keep].reset_index(drop=True), frame.reset_index(drop=True),
                          group[keep].reset_index(drop=True), names, chunk["_row"].to_numpy()[keep], period)


MEASURES = {"numerator": "numerator", "denominator": "denominator", "pcas": "pcas", "achievedpoints": "points",
            "register": "register"}


class QOFAchievement(_QOFIndicators):
    kind = "qof_achievement"
    label = "QOF achievement (NHS Digital raw file, long layout)"
    description = ("QOF achievement per practice and indicator (PRACTICE_CODE, INDICATOR_CODE, MEASURE, VALUE): "
                   "numerator ÷ denominator for a mapped catalogue indicator; unmapped indicators kept as benchmarks.")
    item_columns = ("indicator_code",)
    columns = (
        Col("practice_code", ("practice code",)),
        Col("indicator_code", ("indicator code",)),
        Col("measure", ()),
        Col("value", ()),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        period = file_period(ctx)
        codes = stripped(chunk["practice_code"]).str.upper()
        ind = stripped(chunk["indicator_code"]).str.upper()
        measure = norm_series(chunk["measure"])
        value = parse_numbers(chunk, "value", log, required=True, what="value")
        repeat, first = ctx.duplicates.check(
            "achievement", row_hash(pd.DataFrame({"p": codes, "i": ind, "m": measure}), ["p", "i", "m"], kind="str"),
            chunk["_row"].to_numpy())
        report_repeats(ctx, chunk, "measure", repeat, first, "the same practice, indicator and measure appear twice")
        if period is None:
            return []
        keep = measure.isin(["numerator", "denominator"]).to_numpy()
        long = pd.DataFrame({"practice_code": codes, "indicator": ind, "measure": measure, "value": value,
                             "_row": chunk["_row"]})[keep]
        wide = long.pivot_table(index=["practice_code", "indicator"], columns="measure", values="value",
                                aggfunc="first")
        rows = long.groupby(["practice_code", "indicator"])["_row"].min()
        wide = wide.reindex(columns=["numerator", "denominator"]).join(rows).reset_index()
        incomplete = wide["numerator"].isna() | wide["denominator"].isna()
        if incomplete.any():
            log.add_rows("skipped", "has no NUMERATOR and DENOMINATOR pair for this practice and indicator",
                         wide.loc[incomplete, "_row"].to_numpy(), ctx.heading("indicator_code"),
                         wide.loc[incomplete, "indicator"].to_numpy())
            wide = wide[~incomplete]
        over = (wide["numerator"] > wide["denominator"]).to_numpy()
        log.add_rows("error", "NUMERATOR is more than DENOMINATOR", wide.loc[over, "_row"].to_numpy(),
                     ctx.heading("value"), wide.loc[over, "numerator"].to_numpy())
        names = {i: f"QOF indicator {i}" for i in wide["indicator"].unique()}
        frame = wide[["practice_code", "numerator", "denominator"]].reset_index(drop=True)
        return self.split(ctx, wide.rename(columns={"indicator": "indicator_code"}).reset_index(drop=True), frame,
                          wide["indicator"].reset_index(drop=True), names, wide["_row"].to_numpy(), period)
