"""The board pack's download buttons on the overview: builders the buttons run on click (as ``ui.inspection``
does). The file is never cached: each click builds the pack afresh (its cover says when, and by whom) and writes
the export to the audit log."""
from __future__ import annotations

from datetime import date
from typing import Callable

from data_layer.exports import board_pack
from data_layer.scope import Viewer
from ui.state import config, database

BUTTONS = (  # format, label, icon
    ("pdf", "Board pack (PDF)", ":material/picture_as_pdf:"),
    ("xlsx", "Board pack (Excel)", ":material/table_view:"),
)


def may_download(viewer: Viewer) -> bool:
    return board_pack.may_export(viewer)


def file_name(period_end: date, fmt: str) -> str:
    return f"Board_pack_{period_end:%Y-%m}.{board_pack.FORMATS[fmt][0]}"


def mime(fmt: str) -> str:
    return board_pack.FORMATS[fmt][1]


def builder(viewer: Viewer, period_end: date | None, fmt: str) -> Callable[[], bytes]:
    """What a download button runs when clicked (on its own thread, so nothing here touches Streamlit)."""
    engine, cfg = database(), config()

    def build() -> bytes:
        return board_pack.export_board_pack(engine, cfg, viewer, fmt, period_end, channel="overview").content

    return build
