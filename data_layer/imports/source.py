"""What the importer holds of a file while it reads it (``SourceFile``) and the one error for a file that cannot be
read as a table at all (``FileRefused``, with a message in plain words). Shared by the readers (``reading``,
``encodings``, ``workbooks``, ``json_records``) and the pipeline."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .limits import DEFAULT_LIMITS, MiB, Limits


ENCODING_WORDS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252", "latin-1": "Latin-1",
                  "utf-16": "UTF-16 (Excel's Unicode text)", "ascii": "UTF-8"}
# What spreadsheets and survey systems in England write; charset-normalizer chooses among these only (left to itself
# it reads a short Windows-1252 file as Urdu or Cyrillic).


class FileRefused(Exception):
    """The file as a whole cannot be read as a table (empty, too large, not a table…): the message says why."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


@dataclass
class SourceFile:
    name: str
    size: int
    sha256: str
    container: str  # csv | xlsx | json
    encoding: str | None = None  # how the bytes below are to be decoded
    delimiter: str = ","
    sheets: list[str] = field(default_factory=list)
    data: bytes | None = None
    path: Path | None = None
    limits: Limits = DEFAULT_LIMITS
    original_encoding: str | None = None  # the file's own encoding when it was converted to UTF-8 (UTF-16)
    odd_quotes: bool = False  # an odd number of double quotes: a quoted value may never be closed

    def open_binary(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")

    @property
    def encoding_label(self) -> str:
        enc = self.original_encoding or self.encoding or ""
        return ENCODING_WORDS.get(enc, enc)


def _mb(n: int) -> str:
    return f"{n / MiB:,.0f} MB" if n >= MiB else f"{n / 1024:,.0f} KB"
