"""Our practices template: the federation's member practices (creates new practices, updates existing ones)."""
from __future__ import annotations

import pandas as pd

from ... import models as m
from ..base import Col, Context, Format, report_repeats
from ..values import PRACTICE_CODE, blank, check_length, parse_numbers, practice_codes, stripped
from ..writer import Target, row_hash

PRACTICES = Target(m.Practice.__table__, ("code",))
CONTRACTS = {"GMS": "GMS", "PMS": "PMS", "APMS": "APMS"}
MAX_LIST_SIZE = 1_000_000  # the largest practices in England list a few hundred thousand patients


class PracticesTemplate(Format):
    kind = "practices"
    label = "Practices (our template)"
    family = "template"
    detect_priority = 10
    description = "The federation's member practices: code, name, primary care network, list size and contract."
    strict_columns = True
    feeds = ("practices",)  # list sizes are the denominators of the per-patient indicators
    columns = (
        Col("practice_code", ("practice code", "code", "ods code", "org code"),
            help="The practice's ODS code: a letter, then a letter or digit, then four digits.", example="G82002"),
        Col("practice_name", ("practice name", "name"), help="The practice's name as patients know it.",
            example="St James' Surgery"),
        Col("pcn", ("pcn name", "primary care network"), required=False,
            help="Primary care network (optional).", example="Mpa PCN"),
        Col("list_size", ("list size", "registered patients", "patients"), required=False,
            help="Registered patients, a whole number (optional).", example="9800"),
        Col("contract_type", ("contract", "contract type"), required=False,
            help="GMS, PMS or APMS (optional).", example="GMS"),
        Col("cqc_location_id", ("cqc location id", "location id"), required=False,
            help="CQC location ID, e.g. 1-123456789 (optional; lets CQC API ratings be matched).",
            example="1-545611283"),
    )

    def process(self, chunk: pd.DataFrame, ctx: Context):
        log = ctx.log
        codes = practice_codes(chunk["practice_code"])
        empty_code = (codes == "").to_numpy()
        log.add_mask("error", "is empty: a practice code is needed here", chunk, empty_code, "practice_code")
        bad = ~empty_code & ~codes.str.match(PRACTICE_CODE).to_numpy()
        log.add_mask("error", "is not a practice code: practice (ODS) codes are a letter, then a letter or digit, then "
                     "four digits, e.g. G82002", chunk, bad, "practice_code")
        names = stripped(chunk["practice_name"])
        log.add_mask("error", "is empty: a practice name is needed here", chunk, blank(names), "practice_name")
        check_length(chunk, "practice_name", names, log, 200, "practice name")
        out = pd.DataFrame({"code": codes, "name": names})
        if "pcn" in chunk:
            pcn = stripped(chunk["pcn"])
            check_length(chunk, "pcn", pcn, log, 200, "PCN name")
            out["pcn"] = pcn.where(pcn != "", None)
        if "list_size" in chunk:
            out["list_size"] = parse_numbers(chunk, "list_size", log, integer=True, what="list size",
                                             maximum=MAX_LIST_SIZE)
        if "contract_type" in chunk:
            contract = stripped(chunk["contract_type"]).str.upper()
            unknown = ((contract != "") & ~contract.isin(list(CONTRACTS))).to_numpy()
            log.add_mask("error", "is not a contract type: use GMS, PMS or APMS (or leave it empty)", chunk, unknown,
                         "contract_type")
            out["contract_type"] = contract.where(contract != "", None)
        if "cqc_location_id" in chunk:
            loc = stripped(chunk["cqc_location_id"])
            check_length(chunk, "cqc_location_id", loc, log, 20, "CQC location ID")
            out["cqc_location_id"] = loc.where(loc != "", None)
        repeat, first = ctx.duplicates.check("practices", row_hash(out, ["code"], PRACTICES.table),
                                             chunk["_row"].to_numpy(), valid=~empty_code)
        report_repeats(ctx, chunk, "practice_code", repeat, first, "each practice may appear only once", codes)
        out["active"] = True
        return [(PRACTICES, out)]
