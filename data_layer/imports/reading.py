"""Reading a file as a table of text: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM as Excel's "Unicode text", or
Windows-1252; comma, semicolon or tab), XLSX (any sheet) and the CQC API's JSON. Every value arrives as text, exactly as
written, so validation can quote it back.

Before anything is parsed the file is measured against the limits in ``limits.py`` (size, the XLSX zip directory, JSON
nesting); while reading, rows, columns and cell text are counted against them too. Whatever goes wrong with the file
itself ends as ``FileRefused`` with a message in plain words, never as a parser's exception.

Large CSV files are read in chunks, so memory stays flat however long the file is.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pandas as pd

from .limits import DEFAULT_LIMITS, MiB, Limits

MAX_FILE_BYTES = DEFAULT_LIMITS.file_bytes
HEAD_ROWS = 30
CHUNK_ROWS = 200_000
ENCODING_WORDS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252", "latin-1": "Latin-1",
                  "utf-16": "UTF-16 (Excel's Unicode text)", "ascii": "UTF-8"}
# What spreadsheets and survey systems in England write; charset-normalizer chooses among these only (left to itself
# it reads a short Windows-1252 file as Urdu or Cyrillic).
CANDIDATE_ENCODINGS = ["utf_8", "cp1252", "latin_1", "utf_16"]
DETECT_SAMPLE = 256 * 1024
CSV_SAVE_HINT = "open it in Excel and save it as 'CSV UTF-8 (Comma delimited)'"


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


def load_source(source, file_name: str | None = None, max_bytes: int = MAX_FILE_BYTES,
                limits: Limits = DEFAULT_LIMITS) -> SourceFile:
    """Accept a path, bytes or a binary file object (e.g. a Streamlit upload) and work out what kind of file it is."""
    data: bytes | None = None
    path: Path | None = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        name = file_name or path.name
        if not path.is_file():
            raise FileRefused(f"{path.name} is a folder, not a file: choose the file to import.")
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise FileRefused(f"The file could not be opened ({exc.strerror or type(exc).__name__}): check that "
                              "it is readable and import it again.") from exc
        size = path.stat().st_size
    else:
        name = file_name or getattr(source, "name", None) or "uploaded file"
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        else:
            data = source.read(max_bytes + 1)
        size = len(data)
    if size == 0:
        raise FileRefused("The file is empty (0 bytes).")
    if size > max_bytes:
        raise FileRefused(f"The file is {_mb(size)}{' or more' if data is not None else ''}; the largest file the "
                          f"importer accepts is {_mb(max_bytes)}. Split it (for example by month) and import the "
                          "parts.")
    src = SourceFile(name=name, size=size, sha256="", container="csv", data=data, path=path, limits=limits)
    with src.open_binary() as fh:
        head = fh.read(4096)
        fh.seek(0)
        if head.startswith(b"PK\x03\x04"):
            src.sha256 = _scan(fh).sha256
            src.container = "xlsx"
            _check_zip(src)
            src.sheets = _xlsx_sheets(src)
            return src
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise FileRefused("This is an old-style Excel .xls file, which the importer cannot read: open it in Excel "
                              "and save it as .xlsx or CSV.")
        if head.startswith(b"%PDF"):
            raise FileRefused("This is a PDF document, not a table: export the data as CSV or XLSX instead.")
        if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
            raise FileRefused("This is not a table: it is a compressed archive or an image. Import CSV or XLSX "
                              "files.")
        scan = _scan(fh)
        src.sha256 = scan.sha256
        src.encoding = _detect_encoding(fh)
        if src.encoding != "utf-16" and scan.nul_at is not None:
            if head.count(b"\x00") > 8:  # many zero bytes: a binary file, not a damaged line or two
                raise FileRefused("This is not a table: it looks like a binary file (an image, a document or an "
                                  "archive). Import CSV or XLSX files.")
            raise FileRefused(_nul_message(scan.lines_before_nul + 1), row=scan.lines_before_nul + 1)
        src.odd_quotes = scan.quotes % 2 == 1
    if src.encoding == "utf-16":
        if size > limits.utf16_bytes:
            raise FileRefused(f"The file is {_mb(size)} of UTF-16 text (Excel's 'Unicode text'); the importer converts "
                              f"at most {_mb(limits.utf16_bytes)} of it. Save it from Excel as 'CSV UTF-8 (Comma "
                              "delimited)' instead, which is half the size.")
        _to_utf8(src)
        with src.open_binary() as fh:
            head = fh.read(4096)
    text_head = head.decode(src.encoding, errors="replace").lstrip("\ufeff").lstrip()
    if text_head.startswith(("{", "[")):
        src.container = "json"
        if src.size > limits.json_bytes:
            raise FileRefused(f"The JSON file is {_mb(src.size)}; the largest JSON file the importer reads is "
                              f"{_mb(limits.json_bytes)}. Save the records as CSV instead.")
        return src
    if not text_head.strip():
        raise FileRefused("The file is empty (only blank lines).")
    src.delimiter = _sniff_delimiter(_text_start(src))
    return src


def _check_zip(src: SourceFile) -> None:
    """The zip directory of an XLSX file against the limits, before any member is unpacked."""
    lim = src.limits
    try:
        with src.open_binary() as fh, zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRefused("The file looks like a spreadsheet (a zip file) but is damaged: save it again from Excel "
                          "as .xlsx, or as CSV.") from exc
    if len(infos) > lim.xlsx_members:
        raise FileRefused(f"The spreadsheet holds {len(infos):,} parts; a workbook has a few dozen. It is not an "
                          "ordinary Excel file, so it is not read.")
    total = sum(i.file_size for i in infos)
    if total > lim.xlsx_uncompressed_bytes:
        raise FileRefused(f"The spreadsheet would unpack to {_mb(total)} (it is {_mb(src.size)} compressed); the "
                          f"importer unpacks at most {_mb(lim.xlsx_uncompressed_bytes)}. Split the data over several "
                          "files, or save it as CSV.")
    for info in infos:
        if info.file_size > lim.xlsx_ratio_from_bytes and info.file_size > lim.xlsx_max_ratio * max(1,
                                                                                                  info.compress_size):
            ratio = info.file_size / max(1, info.compress_size)
            raise FileRefused(f"The spreadsheet's part {info.filename} is compressed {ratio:,.0f} to 1 (it would "
                              f"unpack to {_mb(info.file_size)}); real spreadsheets compress far less, so the file is "
                              "not read. Save the data as CSV or XLSX again from Excel.")
        if info.filename.lower().endswith("sharedstrings.xml") and info.file_size > lim.xlsx_shared_strings_bytes:
            raise FileRefused(f"The spreadsheet's text cells take {_mb(info.file_size)}; the importer reads at most "
                              f"{_mb(lim.xlsx_shared_strings_bytes)} of them. Save the data as CSV instead.")


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


# ---------------------------------------------------------------------------------------------------------------
# The first rows (for detection and preview)
# ---------------------------------------------------------------------------------------------------------------
def head_rows(src: SourceFile, sheet: str | None = None, n: int = HEAD_ROWS) -> list[list[str]]:
    if src.container == "xlsx":
        rows = list(_xlsx_iter(src, sheet, max_rows=n))
    elif src.container == "json":
        header, body = _json_table(src)
        rows = [header, *body[: n - 1]]
    else:
        text, more = _text_start(src)
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=src.delimiter))
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FileRefused(f"A value near the start of the file is longer than {csv.field_size_limit():,} "
                                  "characters: the file is damaged or a double quote is never closed.") from exc
            raise FileRefused(f"The file could not be read as CSV: {exc}.") from exc
        if more and rows:
            rows = rows[:-1]  # the last row may have been cut off mid-way
        rows = rows[:n]
    _check_rows(src, rows, first_row=1)
    return rows


def _check_rows(src: SourceFile, rows: list[list[str]], first_row: int, names: list[str] | None = None) -> None:
    """Columns and cell text within the limits; no NUL characters (PostgreSQL cannot store them)."""
    lim = src.limits
    for i, row in enumerate(rows):
        if len(row) > lim.max_columns:
            raise FileRefused(f"Row {first_row + i} has {len(row):,} columns; the importer reads at most "
                              f"{lim.max_columns:,}. It is not a table the importer knows.", row=first_row + i)
        for j, v in enumerate(row):
            if isinstance(v, str) and (len(v) > lim.cell_chars or "\x00" in v):
                where = names[j] if names and j < len(names) else f"column {j + 1}"
                raise FileRefused(_cell_message(first_row + i, where, v, lim), row=first_row + i)


def _cell_message(row: int, where: str, value: str, lim: Limits) -> str:
    if "\x00" in value:
        return (f"Row {row}, {where}: the value contains a zero byte (a NUL character), which no text cell can hold: "
                "the file is damaged. Remove the character and import the file again.")
    return (f"Row {row}, {where}: a value of {len(value):,} characters; a cell may hold at most {lim.cell_chars:,} "
            "(Excel's own limit). The file is damaged or not a table of records.")


def check_frame(src: SourceFile, frame: pd.DataFrame, names: list[str], headings: dict[str, str] | None = None) -> None:
    """The checks of ``_check_rows`` for a chunk of text columns, a column at a time."""
    lim = src.limits
    for n in names:
        s = frame[n]
        long = (s.str.len() > lim.cell_chars).to_numpy()
        nul = s.str.contains("\x00", regex=False).to_numpy()
        bad = long | nul
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = f"column {(headings or {}).get(n, n)!r}"
            raise FileRefused(_cell_message(int(frame["_row"].iloc[i]), where, s.iloc[i], lim),
                              row=int(frame["_row"].iloc[i]))


# ---------------------------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------------------------
def _open_workbook(src: SourceFile):
    from openpyxl import load_workbook

    try:
        return load_workbook(src.open_binary(), read_only=True, data_only=True)
    except MemoryError as exc:
        raise FileRefused("The spreadsheet is too large to open: save the data as CSV instead.") from exc
    except Exception as exc:  # noqa: BLE001 - a damaged or non-Excel zip
        raise FileRefused(f"The file looks like a spreadsheet but could not be opened ({type(exc).__name__}): "
                          "save it again from Excel as .xlsx, or as CSV.") from exc


def _xlsx_sheets(src: SourceFile) -> list[str]:
    wb = _open_workbook(src)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def cell_text(v) -> str:
    """A spreadsheet cell as the text a person would type: dates as yyyy-mm-dd, whole numbers without '.0'."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d") if v.time() == time(0) else v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)  # "nan", "inf": refused as numbers and as ids by validation
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _sheet(wb, src: SourceFile, sheet: str | None):
    if sheet is None:
        return wb[wb.sheetnames[0]]
    if sheet not in wb.sheetnames:
        raise FileRefused(f"The workbook has no sheet called {sheet!r}; its sheets are: {', '.join(wb.sheetnames)}.")
    return wb[sheet]


def _xlsx_iter(src: SourceFile, sheet: str | None, max_rows: int | None = None,
               min_row: int = 1) -> Iterator[list[str]]:
    """The sheet's rows as text. The sheet's own ``<dimension>`` is not trusted (a file may understate it, and
    openpyxl would then stop early): every row in the sheet is read."""
    wb = _open_workbook(src)
    try:
        ws = _sheet(wb, src, sheet)
        ws.reset_dimensions()
        rows = ws.iter_rows(min_row=min_row, max_row=None if max_rows is None else min_row + max_rows - 1,
                            values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except FileRefused:
                raise
            except MemoryError as exc:
                raise FileRefused("The spreadsheet is too large to read: save the data as CSV instead.") from exc
            except Exception as exc:  # noqa: BLE001 - damaged sheet XML
                raise FileRefused(f"The spreadsheet's sheet could not be read ({type(exc).__name__}): it is "
                                  "damaged. Save it again from Excel as .xlsx, or as CSV.") from exc
            if len(row) > src.limits.max_columns:
                raise FileRefused(f"A row of the sheet has {len(row):,} columns; the importer reads at most "
                                  f"{src.limits.max_columns:,}.")
            yield [cell_text(v) for v in row]
    finally:
        wb.close()


def _xlsx_rows(src: SourceFile, sheet: str | None, max_rows: int | None = None, min_row: int = 1) -> list[list[str]]:
    return list(_xlsx_iter(src, sheet, max_rows, min_row))


# ---------------------------------------------------------------------------------------------------------------
# JSON (the CQC API: {location id: {overall, safe, …}})
# ---------------------------------------------------------------------------------------------------------------
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest, counted without parsing (strings taken out first)."""
    stripped = _JSON_STRING.sub(b'""', raw)
    b = np.frombuffer(stripped, dtype=np.uint8)
    step = np.zeros(len(b), dtype=np.int32)
    step[(b == ord("{")) | (b == ord("["))] = 1
    step[(b == ord("}")) | (b == ord("]"))] = -1
    return int(np.cumsum(step).max(initial=0))


def _no_constants(name: str):
    raise ValueError(f"{name} is not a value JSON allows (it is not a number)")


def _json_table(src: SourceFile) -> tuple[list[str], list[list[str]]]:
    with src.open_binary() as fh:
        raw = fh.read()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    depth = json_depth(raw)
    if depth > src.limits.json_depth:
        raise FileRefused(f"The JSON file nests {depth:,} levels deep; records nest a few levels, so the importer "
                          f"reads at most {src.limits.json_depth}. It is not a file of records.")
    try:
        data = json.loads(raw.decode(src.encoding if src.encoding not in (None, "utf-8-sig") else "utf-8"),
                          parse_constant=_no_constants)
    except RecursionError as exc:
        raise FileRefused("The JSON file nests too deeply to be a file of records.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileRefused(f"The file starts like JSON but is not valid JSON: {exc}.") from exc
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        records = [{"id": k, **v} for k, v in data.items()]
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        records = data
    else:
        raise FileRefused("The JSON file is not a table: expected a list of records or an object of records keyed by id.")
    if len(records) > src.limits.max_rows:
        raise FileRefused(f"The JSON file holds {len(records):,} records; the importer reads at most "
                          f"{src.limits.max_rows:,} from one file.")
    header: list[str] = []
    for r in records:
        for k in r:
            if k not in header:
                header.append(k)
    rows = [[_json_text(r.get(k)) for k in header] for r in records]
    return header, rows


def _json_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return cell_text(v)


# ---------------------------------------------------------------------------------------------------------------
# The data rows, in chunks
# ---------------------------------------------------------------------------------------------------------------
def iter_frames(src: SourceFile, sheet: str | None, header_index: int, positions: dict[str, int],
                chunk_rows: int = CHUNK_ROWS, progress: Callable[[float], None] | None = None,
                width: int | None = None, headings: dict[str, str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the data rows below the header row as frames of text with canonical column names and ``_row`` (the row
    number a spreadsheet would show). ``header_index`` is the 0-based row of the header (-1: the file has none).

    Every frame is checked against the limits (rows, cell text, NUL characters); a file beyond them ends in
    ``FileRefused``, whatever reader found it."""
    names = list(positions)
    cols = [positions[n] for n in names]
    total = 0
    for frame in _frames(src, sheet, header_index, names, cols, chunk_rows, progress, width):
        total += len(frame)
        if total > src.limits.max_rows:
            raise FileRefused(f"The file has more than {src.limits.max_rows:,} rows, the most the importer reads from "
                              "one file: split it (for example by month) and import the parts.")
        check_frame(src, frame, names, headings)
        yield frame


def _frames(src, sheet, header_index, names, cols, chunk_rows, progress, width):
    if src.container == "csv":
        yield from _csv_frames(src, header_index, names, cols, chunk_rows, progress, width)
        return
    if src.container == "xlsx":
        first_row = header_index + 2
        rows = _xlsx_iter(src, sheet, min_row=first_row)
        size_hint = None
    else:
        _, all_rows = _json_table(src)
        first_row = 2  # the keys act as the header row
        rows = iter(all_rows)
        size_hint = len(all_rows)
    start = 0
    while True:
        part = []
        for row in rows:
            part.append(row)
            if len(part) >= chunk_rows:
                break
        if not part:
            return
        frame = pd.DataFrame({n: [r[c] if c < len(r) else "" for r in part] for n, c in zip(names, cols)}, dtype="str")
        frame["_row"] = range(first_row + start, first_row + start + len(part))
        start += len(part)
        if progress:
            progress(min(1.0, start / max(1, size_hint or start)))
        yield frame
        if len(part) < chunk_rows:
            return


class CSVShapeError(Exception):
    def __init__(self, row: int | None, message: str):
        super().__init__(message)
        self.row = row


def _has_blank_lines(src: SourceFile) -> bool:
    with src.open_binary() as fh:
        tail = b""
        for block in iter(lambda: fh.read(1 << 22), b""):
            part = tail + block
            if b"\n\n" in part or b"\n\r\n" in part:
                return True
            tail = part[-2:]
    return False


def _csv_frames(src, header_index, names, cols, chunk_rows, progress, width):
    # Arrow's reader is several times faster; pandas' keeps row numbers right when the file has blank lines (Arrow
    # drops them, which would shift every later row number in the report).
    headerless_bom = src.encoding == "utf-8-sig" and header_index < 0  # the BOM would stick to the first value
    # An odd number of double quotes: a quoted value may run to the end of the file, which Arrow reads as one long
    # value; pandas' reader says where it starts.
    if src.encoding in ("utf-8", "utf-8-sig") and not headerless_bom and not src.odd_quotes \
            and not _has_blank_lines(src):
        try:
            yield from _arrow_frames(src, header_index, names, cols, chunk_rows, progress, width)
        except CSVShapeError as exc:
            if exc.row is None or exc.row < 0:  # Arrow does not always know the row: let pandas find it
                for _ in _pandas_frames(src, header_index, names, cols, chunk_rows, None, width):
                    pass
            raise
    else:
        yield from _pandas_frames(src, header_index, names, cols, chunk_rows, progress, width)


def _arrow_frames(src, header_index, names, cols, chunk_rows, progress, width):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    width = max(width or 0, max(cols) + 1 if cols else 1)
    column_names = [f"c{i}" for i in range(width)]
    bad: list = []

    def invalid(row) -> str:
        bad.append(row)
        return "skip"

    fh = src.open_binary()
    try:
        reader = pacsv.open_csv(
            fh,
            read_options=pacsv.ReadOptions(skip_rows=header_index + 1, column_names=column_names,
                                           block_size=16 << 20, encoding="utf8"),
            parse_options=pacsv.ParseOptions(delimiter=src.delimiter, newlines_in_values=True,
                                             invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in column_names},
                                                 include_columns=[column_names[c] for c in cols],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        fh.close()
        if "Empty CSV file" in str(exc):
            return
        raise CSVShapeError(None, f"could not be read as CSV ({exc})") from exc
    next_row = header_index + 2
    buffered: list[pd.DataFrame] = []
    buffered_rows = 0
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                if "straddl" in str(exc):
                    raise CSVShapeError(None, f"has a value longer than {src.limits.cell_chars:,} characters (the "
                                        "most a cell may hold): the file is damaged or a double quote is never "
                                        "closed") from exc
                raise CSVShapeError(None, f"could not be read as CSV ({exc})") from exc
            if bad:
                row = bad[0]
                raise CSVShapeError(None, f"has {row.actual_columns} values but the header has "
                                                f"{row.expected_columns}: a value probably contains an unquoted "
                                                "comma or the row is damaged")
            frame = batch.to_pandas()
            frame.columns = [names[cols.index(int(c[1:]))] for c in frame.columns]
            buffered.append(frame[names])
            buffered_rows += len(frame)
            if buffered_rows >= chunk_rows:
                chunk = pd.concat(buffered, ignore_index=True) if len(buffered) > 1 else buffered[0]
                buffered, buffered_rows = [], 0
                chunk["_row"] = range(next_row, next_row + len(chunk))
                next_row += len(chunk)
                if progress:
                    progress(min(1.0, fh.tell() / max(1, src.size)))
                yield chunk
        if bad:
            row = bad[0]
            raise CSVShapeError(None, f"has {row.actual_columns} values but the header has "
                                            f"{row.expected_columns}: a value probably contains an unquoted comma "
                                            "or the row is damaged")
        if buffered:
            chunk = pd.concat(buffered, ignore_index=True) if len(buffered) > 1 else buffered[0]
            chunk["_row"] = range(next_row, next_row + len(chunk))
            if progress:
                progress(1.0)
            yield chunk
    finally:
        fh.close()


def _pandas_frames(src, header_index, names, cols, chunk_rows, progress, width):
    fh = src.open_binary()
    # Every column is read (not only the ones used) so that a row with more values than the header is reported
    # rather than silently cut short.
    width = max(width or 0, max(cols) + 1 if cols else 1)
    try:
        reader = pd.read_csv(
            fh,
            sep=src.delimiter,
            header=None,
            names=list(range(width)),
            skiprows=header_index + 1,
            dtype="str",
            keep_default_na=False,
            na_filter=False,
            encoding=src.encoding,
            chunksize=chunk_rows,
            skip_blank_lines=False,
            engine="c",
        )
        next_row = header_index + 2
        try:
            for chunk in reader:
                if chunk.empty:
                    continue
                chunk = chunk.rename(columns={c: n for n, c in zip(names, cols)})[names]
                chunk = chunk.fillna("") if chunk.isna().to_numpy().any() else chunk
                chunk["_row"] = range(next_row, next_row + len(chunk))
                next_row += len(chunk)
                if progress:
                    progress(min(1.0, fh.tell() / max(1, src.size)))
                yield chunk
        except pd.errors.ParserError as exc:
            row = _eof_row(str(exc), header_index) or _parser_row(str(exc))
            raise CSVShapeError(row, _parser_message(str(exc))) from exc
        except UnicodeDecodeError as exc:
            raise CSVShapeError(None, f"has characters that are not {src.encoding_label}: {CSV_SAVE_HINT}") from exc
    except pd.errors.EmptyDataError:
        return  # a header and nothing else
    except pd.errors.ParserError as exc:  # found while reading the first rows
        row = _eof_row(str(exc), header_index) or _parser_row(str(exc))
        raise CSVShapeError(row, _parser_message(str(exc))) from exc
    finally:
        fh.close()


def _parser_row(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _eof_row(message: str, header_index: int) -> int | None:
    import re

    m = re.search(r"EOF inside string starting at row (\d+)", message)  # 0-based, counting skipped rows
    return int(m.group(1)) + 1 if m else None


def _parser_message(message: str) -> str:
    import re

    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return (f"has {m.group(3)} values but the header has {m.group(1)}: a value probably contains an unquoted "
                f"comma or the row is damaged")
    if "EOF inside string" in message:
        return "a quoted value is never closed (a stray double quote), so the rest of the file cannot be read"
    return f"could not be read as CSV ({message.strip()})"
