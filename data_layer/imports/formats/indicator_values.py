"""Our indicator values template: numerator and denominator for a catalogue indicator, a practice and a period."""
from __future__ import annotations

import pandas as pd

from ... import models as m
from ..base import Col, Context, Format, report_repeats
from ..values import lookup, norm, parse_dates, parse_numbers
from ..writer import Target, row_hash

INDICATOR_VALUES = Target(m.IndicatorValue.__table__, ("indicator_code", "practice_id", "period_start"),
                          scope="indicator_code")


def finish_values(ctx: Context, chunk: pd.DataFrame, out: pd.DataFrame, numerator_col: str | None,
                  check_proportion: bool = True) -> pd.DataFrame:
    """value = numerator / denominator × multiplier; numerator above denominator refused for percentages."""
    multipliers = {i.code: i.multiplier for i in ctx.config.indicators}
    proportions = {i.code for i in ctx.config.indicators if i.unit == "%"}
    num, den = out["numerator"], out["denominator"]
    if check_proportion and numerator_col:
        over = (out["indicator_code"].isin(proportions) & (num > den)).to_numpy()
        ctx.log.add_mask("error", "is more than the denominator: a percentage cannot be above 100%", chunk, over,
                         numerator_col)
        zero = ((den == 0) & (num > 0)).to_numpy()
        ctx.log.add_mask("error", "is above zero while the denominator is zero", chunk, zero, numerator_col)
    value = num / den.where(den > 0) * lookup(out["indicator_code"], multipliers).astype("float64")
    if "value" in out:
        out["value"] = out["value"].where(out["value"].notna(), value)
    else:
        out["value"] = value
    return out


class IndicatorValuesTemplate(Format):
    kind = "indicator_values"
    label = "Indicator values (our template)"
    family = "template"
    detect_priority = 10
    description = "Numerator and denominator of catalogue indicators per practice and period (e.g. clinical searches)."
    strict_columns = True
    columns = (
        Col("indicator_code", ("indicator code", "indicator", "code"),
            help="A code from the federation's indicator catalogue (not a derived one).", example="DM_HBA1C"),
        Col("practice_code", ("practice code", "practice", "ods code"), help="The practice's ODS code.",
            example="G82002"),
        Col("period_start", ("period start", "from", "start"), help="First day of the period.", example="01/01/2025"),
        Col("period_end", ("period end", "to", "end"), help="Last day of the period.", example="31/01/2025"),
        Col("numerator", ("num", "count"), help="How many met the indicator (a whole number).", example="412"),
        Col("denominator", ("den", "denom", "eligible", "population"),
            help="How many it applies to (a whole number).", example="598"),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        catalogue = {norm(i.code): i.code for i in ctx.config.indicators}
        derived = {i.code: i.derived for i in ctx.config.indicators if i.derived}
        code = lookup(chunk["indicator_code"], catalogue, normalise=True)
        unknown = code.isna().to_numpy()
        log.add_mask("error", "is not an indicator code in the federation's catalogue (federation.toml)", chunk,
                     unknown, "indicator_code")
        is_derived = code.isin(list(derived)).to_numpy()
        log.add_mask("error", "is calculated by the dashboard from the raw records (FFT responses, training, "
                     "complaints or significant events): import those records instead", chunk, is_derived,
                     "indicator_code")
        practice_id, known = ctx.practice_ids(chunk, "practice_code")
        start = parse_dates(chunk, "period_start", log, ctx.today, what="period start")
        end = parse_dates(chunk, "period_end", log, ctx.today, what="period end")
        log.add_mask("error", "is before the period start", chunk, (end < start).to_numpy(), "period_end")
        num = parse_numbers(chunk, "numerator", log, required=True, what="numerator")
        den = parse_numbers(chunk, "denominator", log, required=True, what="denominator")
        out = pd.DataFrame({"indicator_code": code, "practice_id": practice_id, "period_start": start,
                            "period_end": end, "numerator": num, "denominator": den})
        out = finish_values(ctx, chunk, out, "numerator")
        keyed = ~unknown & known & start.notna().to_numpy()
        repeat, first = ctx.duplicates.check("values", row_hash(out, INDICATOR_VALUES.keys, INDICATOR_VALUES.table),
                                             chunk["_row"].to_numpy(), keyed)
        report_repeats(ctx, chunk, "indicator_code", repeat, first,
                       "the same indicator, practice and period start appear twice")
        return [(INDICATOR_VALUES, out)]
