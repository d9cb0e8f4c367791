"""Text files as Excel and survey systems write them: the encoding (a byte-order mark decides, else charset-normalizer
among the encodings spreadsheets in England write, confirmed by decoding the whole file), UTF-16 ("Unicode text")
converted to UTF-8 once, zero bytes found, and the delimiter (comma, semicolon, tab or bar) from the first lines."""
from __future__ import annotations

import codecs
import csv
import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from .source import ENCODING_WORDS, FileRefused, SourceFile


CANDIDATE_ENCODINGS = ["utf_8", "cp1252", "latin_1", "utf_16"]


DETECT_SAMPLE = 256 * 1024


CSV_SAVE_HINT = "open it in Excel and save it as 'CSV UTF-8 (Comma delimited)'"


@dataclass
class _Scan:
    sha256: str
    nul_at: int | None  # offset of the first zero byte
    quotes: int
    lines_before_nul: int


def _scan(fh: BinaryIO) -> _Scan:
    """One pass over the bytes: the hash, the first zero byte and the number of double quotes."""
    h = hashlib.sha256()
    offset = 0
    nul_at = None
    quotes = 0
    lines = 0
    for block in iter(lambda: fh.read(1 << 20), b""):
        h.update(block)
        if nul_at is None:
            i = block.find(b"\x00")
            if i >= 0:
                nul_at = offset + i
                lines += block.count(b"\n", 0, i)
            else:
                lines += block.count(b"\n")
        quotes += block.count(b'"')
        offset += len(block)
    return _Scan(h.hexdigest(), nul_at, quotes, lines)


def _line_of(fh: BinaryIO, offset: int) -> int:
    fh.seek(0)
    return fh.read(offset).count(b"\n") + 1


def _check_decodes(fh: BinaryIO, encoding: str) -> int | None:
    """None when the whole file decodes; else the offset of the first byte that does not."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    try:
        for block in iter(lambda: fh.read(1 << 20), b""):
            decoder.decode(block)
            offset += len(block)
        decoder.decode(b"", final=True)
        return None
    except UnicodeDecodeError as exc:
        return offset + max(0, exc.start)


def _best_encoding(sample: bytes, exclude: tuple[str, ...] = ()) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=[e for e in CANDIDATE_ENCODINGS if e not in exclude]).best()
    if best is None:
        return None
    return {"utf_8": "utf-8", "ascii": "utf-8", "cp1252": "cp1252", "latin_1": "latin-1",
            "utf_16": "utf-16"}.get(best.encoding, best.encoding)


def _detect_encoding(fh: BinaryIO) -> str:
    """The file's encoding: a byte-order mark decides; otherwise charset-normalizer on the first 256 KB, confirmed
    by decoding the whole file (and asked again about the part that does not decode)."""
    fh.seek(0)
    start = fh.read(4)
    if start.startswith(codecs.BOM_UTF8):
        bad = _check_decodes(fh, "utf-8-sig")
        if bad is not None:
            raise FileRefused(f"The file starts with the mark of a UTF-8 file (a byte-order mark) but line "
                              f"{_line_of(fh, bad)} has characters that are not UTF-8 (it mixes two encodings): "
                              f"{CSV_SAVE_HINT}.", row=_line_of(fh, bad))
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not start.startswith(codecs.BOM_UTF32_LE):
        return "utf-16"
    fh.seek(0)
    sample = fh.read(DETECT_SAMPLE)
    chosen = _best_encoding(sample)
    if chosen is None:
        raise FileRefused("This is not a table: it is not text in any encoding a spreadsheet writes (it looks like "
                          "a binary file: an image, a document or an archive). Import CSV or XLSX files.")
    bad = _check_decodes(fh, chosen)
    if bad is not None:
        fh.seek(max(0, bad - DETECT_SAMPLE // 2))
        again = _best_encoding(fh.read(DETECT_SAMPLE), exclude=("utf_8",) if chosen == "utf-8" else ())
        if again is None or _check_decodes(fh, again) is not None:
            line = _line_of(fh, bad)
            raise FileRefused(f"Line {line} of the file is not written in the same encoding as the lines before it "
                              f"({ENCODING_WORDS.get(chosen, chosen)}), so its text cannot be read reliably: "
                              f"{CSV_SAVE_HINT}.", row=line)
        chosen = again
    return chosen


def _nul_message(line: int) -> str:
    return (f"Line {line} of the file contains a zero byte (a NUL character), which no text cell can hold: the file "
            f"is damaged or is not a text file. If it came from a spreadsheet, {CSV_SAVE_HINT}.")


def _to_utf8(src: SourceFile) -> None:
    """UTF-16 (Excel's "Unicode text") is converted to UTF-8 once, in memory, so every reader below reads UTF-8."""
    with src.open_binary() as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"The file starts with the mark of a UTF-16 file (Excel's 'Unicode text') but is damaged "
                          f"after {exc.start:,} bytes: save it again from Excel.") from exc
    del raw
    nul = text.find("\x00")
    if nul >= 0:
        raise FileRefused(_nul_message(text.count("\n", 0, nul) + 1), row=text.count("\n", 0, nul) + 1)
    src.data = text.lstrip("\ufeff").encode("utf-8")
    src.path = None
    src.original_encoding = "utf-16"
    src.encoding = "utf-8"
    src.odd_quotes = text.count('"') % 2 == 1


def _text_start(src: SourceFile, limit: int = 256 * 1024) -> tuple[str, bool]:
    with src.open_binary() as fh:
        raw = fh.read(limit)
        more = bool(fh.read(1))
    text = raw.decode(src.encoding or "utf-8", errors="ignore")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, more


def _sniff_delimiter(start: tuple[str, bool]) -> str:
    text, more = start
    lines = text.splitlines()[:10]
    if more and len(lines) > 1:
        lines = lines[:-1]
    best, best_score = ",", 0
    for delim in (",", ";", "\t", "|"):
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if r]
        if not widths:
            continue
        score = min(widths) if len(set(widths)) == 1 else max(widths) // 2
        if score > best_score:
            best, best_score = delim, score
    return best
