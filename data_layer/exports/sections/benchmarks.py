"""National and local benchmarks in the packs: each key question's measures beside England, the NHS region, ICB,
sub-ICB location and PCN (the inspection pack), and the federation's (the board pack), with better / similar / worse
than England, the period and the source. Read from the measure store (``measures.benchmarks``), never worked out."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ... import engine as calc
from ...config import QUALITY_STATEMENTS, FederationConfig
from ...measures import benchmarks as bench
from ...scope import Viewer
from ..pack_model import InspectionPack, Statement, Table

# PDF column widths (relative): the measure's name and the source need room, each figure with its interval less
WIDTHS = {"Measure": 22, "Source": 16, "Period": 14, "Compared with England": 15}


def _widths(frame) -> tuple[float, ...]:
    return tuple(WIDTHS.get(c, 16) for c in frame.columns)


def extras(engine: Engine, config: FederationConfig, viewer: Viewer, pack: InspectionPack, filters: calc.Filters
           ) -> dict[tuple[str, str], Statement]:
    """Each key question's measures beside England, the NHS region, ICB, sub-ICB and PCN for the same published
    period, with better / similar / worse than England (stored by the refresh), the period and the source: one
    table per key question, under the quality statement of its first measure that has a benchmark."""
    mine, fed = bench.beside(engine, config, viewer, filters)
    if mine.empty:
        return {}
    label = "Practice" if pack.practice_code else "Federation"
    out: dict[tuple[str, str], Statement] = {}
    for kq in QUALITY_STATEMENTS:
        codes = [i.code for i in config.indicators if i.key_question == kq and i.code in set(mine["indicator_code"])]
        if not codes:
            continue
        frame = bench.table(mine, config, label, codes, federation=fed if pack.practice_code else None)
        statement = config.indicator(codes[0]).quality_statements[0]
        out[(kq, statement)] = Statement(statement, tables=[Table(
            name=f"england_{kq.lower().replace('-', '_')}", title=f"Beside England and the local areas – {kq}",
            frame=frame, kinds={c: "text" for c in frame.columns}, pdf_widths=_widths(frame),
            note=f"The {label.lower()}'s published figures beside England's, the NHS region's, the ICB's, the "
                 "sub-ICB location's and the PCN's for the same period (95% intervals). Better, similar or worse "
                 "than England: Fingertips' method, the whole interval above or below England's value.")])
    return out


def board_table(engine: Engine, config: FederationConfig, viewer: Viewer, end: date) -> Table | None:
    """The federation's published figures beside England, the NHS region, ICB, sub-ICB and PCN for the same period,
    better / similar / worse than England as the refresh stored it, with the period and the source."""
    fed, _ = bench.beside(engine, config, viewer, calc.Filters(period_end=end, months=1))
    if fed.empty:
        return None
    frame = bench.table(fed, config, "Federation")
    return Table("benchmarks", "The federation beside England and the local areas", frame,
                 kinds={c: "text" for c in frame.columns}, pdf_widths=_widths(frame),
                 note="Published figures (95% intervals) for the latest period each is published for. Better, "
                      "similar or worse than England: the federation's whole interval above or below England's value "
                      "(Fingertips' method); not compared where the figures have no interval.")
