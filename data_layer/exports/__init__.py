"""Exports: CQC inspection evidence packs as PDF, Excel and CSV (zip).

``inspection.build_pack`` assembles what a pack says (``pack_model``, its parts in ``sections``), as data read from
the measure store; ``pdf``, ``xlsx`` and ``csvzip`` only lay that data out. ``export_inspection`` is what the page
and the command line call: it checks who may have the pack, builds the file and writes the export to the audit log.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from .. import audit
from ..config import FederationConfig
from ..scope import Viewer
from .inspection import build_pack
from .pack_model import InspectionPack, NoData, UnknownPractice

FORMATS: dict[str, tuple[str, str, str]] = {  # format -> (file extension, MIME type, words)
    "pdf": ("pdf", "application/pdf", "PDF"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook"),
    "csv": ("zip", "application/zip", "CSV files (zip)"),
}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    file_name: str
    mime: str
    seconds: float
    pack: InspectionPack


def file_name(pack: InspectionPack, fmt: str) -> str:
    who = pack.practice_code or "federation"
    return f"CQC_evidence_pack_{who}_{pack.period_end:%Y-%m}.{FORMATS[fmt][0]}"


def render(pack: InspectionPack, fmt: str) -> bytes:
    """The pack as a file in one format."""
    if fmt == "pdf":
        from .pdf import render_pdf

        return render_pdf(pack)
    if fmt == "xlsx":
        from .xlsx import render_xlsx

        return render_xlsx(pack)
    if fmt == "csv":
        from .csvzip import render_csv_zip

        return render_csv_zip(pack)
    raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def export_inspection(engine: Engine, config: FederationConfig, viewer: Viewer, practice_code: str | None, fmt: str,
                      period_end: date | None = None, channel: str = "", now: datetime | None = None
                      ) -> ExportFile:
    """Build a CQC evidence pack for one practice (``practice_code``) or the whole federation (None) and write the
    export to the audit log. Raises AccessDenied, UnknownPractice or NoData (nothing is audited then)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    started = time.perf_counter()
    pack = build_pack(engine, config, viewer, practice_code, period_end, now=now)
    content = render(pack, fmt)
    seconds = time.perf_counter() - started
    name = file_name(pack, fmt)
    detail = (f"CQC evidence pack ({FORMATS[fmt][2]}) for {pack.scope_name}, {pack.period_words}: {name}, "
              f"{len(content):,} bytes" + (f", from the {channel}" if channel else ""))
    audit.record(engine, viewer.email, "export", practice_code, detail)
    return ExportFile(content=content, file_name=name, mime=FORMATS[fmt][1], seconds=seconds, pack=pack)


__all__ = ["FORMATS", "ExportFile", "InspectionPack", "NoData", "UnknownPractice", "build_pack", "export_inspection",
           "file_name", "render"]
