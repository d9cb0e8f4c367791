"""NHS Payments to General Practice (NHS England, annual): one row per practice with its registered and weighted
patients and every payment it received in the financial year (75 columns in 2022-23).

Catalogue entries name a payment column and which patients it is shared over, e.g.
``published = { payments_column = "Total NHS Payments to General Practice", per_patient = "weighted" }``: the
practice's value is that payment (numerator) over its registered or weighted patients (denominator), so a PCN's or
the federation's figure is Σ payments ÷ Σ patients, as NHS England works out "average payments per weighted patient".
The same figures for every other practice in England are kept as benchmark values; payment columns no catalogue
entry names are not stored (the file is the place to read them)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import Col, Context, Format, Match, file_period
from ..values import lookup, norm, parse_numbers, period_label, stripped
from .benchmarks import BENCHMARKS, benchmark_frame, value_rows
from .indicator_values import INDICATOR_VALUES, finish_values

PER = ("registered", "weighted")
# Columns that describe the practice rather than pay it (compared as ``norm`` does).
DESCRIPTIVE = {norm(h) for h in (
    "NHS England (Region) code", "NHS England (Region) Name", "CCG Code", "CCG Name", "Sub ICB NAME", "Sub ICB Code",
    "Code", "PCN Code", "PCN Name", "Practice Name", "Practice Address", "Practice Postcode", "Practice Open Date",
    "Practice Close Date", "Contract Type", "Dispensing Practice", "Practice type", "Practice Rurality",
    "Atypical characteristics", "ICB Code", "ICB Name")}


def source_id(column: str, per: str) -> str:
    """How the import names a payment shared over patients (what ``Published.payments`` gives)."""
    return f"{' '.join(column.split())} per {per} patient"


class Payments(Format):
    kind = "nhs_payments"
    label = "NHS Payments to General Practice (annual, per practice)"
    description = ("NHS England's yearly payments file: registered and weighted patients and every payment per "
                   "practice. Payments the catalogue names become £ per registered or weighted patient for the "
                   "federation's practices; the same figures for every other practice are kept as benchmarks.")
    whole_file = True
    uses_indicator_map = True
    published_field = "payments"
    needs_period = True  # the financial year is in the file's name (nhs-payments-gp-2022-23.csv) or given
    columns = (
        Col("practice_code", ("practice code",)),
        Col("practice_name", ("practice name",), required=False),
        Col("registered", ("number of registered patients (last known figure)", "number of registered patients")),
        Col("weighted", ("number of weighted patients (last known figure)", "number of weighted patients")),
        Col("total", ("total nhs payments to general practice",)),
    )

    def match(self, header: list[str]) -> Match:
        found = super().match(header)
        positions, headings = dict(found.positions), dict(found.headings)
        used = set(positions.values())
        for i, h in enumerate(header):
            n = norm(h)
            if i in used or not n or n in DESCRIPTIVE or n.startswith("averagepayments"):
                continue  # the file's own averages are what the catalogue entries work out, Σ over Σ
            positions[f"pay_{i}"] = i
            headings[f"pay_{i}"] = h
        return Match(positions, headings, found.missing, [], found.score)

    def sources(self, headings: dict[str, str]) -> dict[str, tuple[str, str]]:
        """source id -> (column key, registered | weighted), for every payment column."""
        out = {}
        for key in ("total", *[k for k in headings if k.startswith("pay_")]):
            if key in headings:
                for per in PER:
                    out[source_id(headings[key], per)] = (key, per)
        return out

    def items(self, headings: dict[str, str]) -> pd.DataFrame:
        ids = list(self.sources(headings))
        return pd.DataFrame({"source": ids, "name": ids})

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        period = file_period(ctx)
        sources = self.sources(ctx.headings)
        mapping = ctx.resolve_indicator_map({s: s for s in sources}, what="a payment in this file",
                                            published=self.published_field)
        codes = stripped(chunk["practice_code"]).str.upper()
        practice_id = lookup(codes, ctx.code_to_id).astype("Int64")
        in_fed = practice_id.notna().to_numpy()
        patients = {"registered": parse_numbers(chunk, "registered", log, required=True, what="number of patients"),
                    "weighted": parse_numbers(chunk, "weighted", log, required=True, what="number of patients")}
        for per in sorted({sources[s][1] for s in mapping}):
            log.add_mask("skipped", f"has no {per} patients in the file (a closed practice?): no payment per "
                         "patient", chunk, in_fed & (patients[per] == 0).to_numpy(), per)
        if not mapping:
            log.error("no catalogue indicator names a payment of this file (published = { payments_column = … } in "
                      "federation.toml), and none was mapped: nothing to import", column="indicator map")
        if period is None or not mapping:
            return []
        start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
        rows = chunk["_row"].to_numpy()
        parsed: dict[str, pd.Series] = {}
        values, bench = [], []
        for sid, code in mapping.items():
            key, per = sources[sid]
            if key not in parsed:  # payments can be negative (recovered overpayments)
                parsed[key] = parse_numbers(chunk, key, log, required=True, minimum=None, what="payment")
            num, den = parsed[key], patients[per]
            usable = (num.notna() & den.notna() & (den > 0)).to_numpy()
            frame = pd.DataFrame({"indicator_code": code, "practice_id": practice_id, "period_start": start,
                                  "period_end": end, "numerator": num, "denominator": den})
            ours = usable & in_fed
            if ours.any():
                values.append((frame[ours], rows[ours]))
                log.note(f"{sid} → {code}: {int(ours.sum()):,} values for the federation's practices", count=1)
            rest = usable & ~in_fed
            if rest.any() and ctx.options.keep_benchmarks:
                multiplier = ctx.config.indicator(code).multiplier
                bench.append((pd.DataFrame({
                    "source": self.kind, "indicator_id": sid, "indicator_name": sid, "area_code": codes,
                    "area_name": stripped(chunk["practice_name"]) if "practice_name" in chunk else None,
                    "area_type": "GP", "period_label": period_label(*period), "period_start": start,
                    "period_end": end, "numerator": num, "denominator": den,
                    "value": num / den.where(den > 0) * multiplier})[rest], rows[rest]))
        writes = []
        if values:
            out = pd.concat([f for f, _ in values], ignore_index=True)
            out_rows = np.concatenate([r for _, r in values])
            out = finish_values(ctx, chunk, out, None)
            out = value_rows(ctx, chunk, out, out_rows, "practice_code")
            ctx.stats["rows_for_federation"] += len(out)
            ctx.practices_seen.update(codes[in_fed].tolist())
            writes.append((INDICATOR_VALUES, out))
        if bench:
            frame = pd.concat([f for f, _ in bench], ignore_index=True)
            frame = benchmark_frame(frame, np.concatenate([r for _, r in bench]), ctx, "practice_code")
            ctx.stats["benchmark_rows"] += len(frame)
            log.note(f"{len(frame):,} payments per patient of {int((~in_fed).sum()):,} practices outside the "
                     "federation kept as benchmark values", count=1)
            writes.append((BENCHMARKS, frame))
        unnamed = len({k for k, _ in sources.values()} - {sources[s][0] for s in mapping})
        if unnamed:
            log.note(f"{unnamed} payment columns that no catalogue indicator names are not stored", count=1)
        return writes
