"""Reading a file as a table of text: CSV (UTF-8, UTF-8 with BOM or Windows-1252; comma, semicolon or tab), XLSX (any
sheet) and the CQC API's JSON. Every value arrives as text, exactly as written, so validation can quote it back.

Large CSV files are read in chunks, so memory stays flat however long the file is.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import pandas as pd

MAX_FILE_BYTES = 512 * 1024 * 1024
HEAD_ROWS = 30
CHUNK_ROWS = 200_000
ENCODING_WORDS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252", "latin-1": "Latin-1"}


class FileRefused(Exception):
    """The file as a whole cannot be read as a table (empty, too large, not a table…): the message says why."""


@dataclass
class SourceFile:
    name: str
    size: int
    sha256: str
    container: str  # csv | xlsx | json
    encoding: str | None = None
    delimiter: str = ","
    sheets: list[str] = field(default_factory=list)
    data: bytes | None = None
    path: Path | None = None

    def open_binary(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")

    @property
    def encoding_label(self) -> str:
        return ENCODING_WORDS.get(self.encoding or "", self.encoding or "")


def _sha256_and_size(fh: BinaryIO) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    for block in iter(lambda: fh.read(1 << 20), b""):
        h.update(block)
        size += len(block)
    return h.hexdigest(), size


def _detect_encoding(fh: BinaryIO) -> str:
    start = fh.read(3)
    if start == codecs.BOM_UTF8:
        return "utf-8-sig"
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for block in iter(lambda: fh.read(1 << 20), b""):
            decoder.decode(block)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Windows-1252 leaves five byte values undefined; a file using them is read as Latin-1 rather than refused.
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("cp1252")()
    try:
        for block in iter(lambda: fh.read(1 << 20), b""):
            decoder.decode(block)
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def load_source(source, file_name: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> SourceFile:
    """Accept a path, bytes or a binary file object (e.g. a Streamlit upload) and work out what kind of file it is."""
    data: bytes | None = None
    path: Path | None = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        name = file_name or path.name
        size = path.stat().st_size
    else:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        else:
            data = source.read()
        name = file_name or getattr(source, "name", None) or "uploaded file"
        size = len(data)
    if size == 0:
        raise FileRefused("The file is empty (0 bytes).")
    if size > max_bytes:
        raise FileRefused(f"The file is {size / 2**20:,.0f} MB; the largest file the importer accepts is "
                          f"{max_bytes / 2**20:,.0f} MB. Split it (for example by month) and import the parts.")
    src = SourceFile(name=name, size=size, sha256="", container="csv", data=data, path=path)
    with src.open_binary() as fh:
        src.sha256, _ = _sha256_and_size(fh)
        fh.seek(0)
        head = fh.read(4096)
        if head.startswith(b"PK\x03\x04"):
            src.container = "xlsx"
            src.sheets = _xlsx_sheets(src)
            return src
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise FileRefused("This is an old-style Excel .xls file, which the importer cannot read: open it in Excel "
                              "and save it as .xlsx or CSV.")
        if head.startswith(b"%PDF"):
            raise FileRefused("This is a PDF document, not a table: export the data as CSV or XLSX instead.")
        if b"\x00" in head:
            raise FileRefused("This is not a table: it looks like a binary file (an image, a document or an archive). "
                              "Import CSV or XLSX files.")
        fh.seek(0)
        src.encoding = _detect_encoding(fh)
    text_head = head.decode(src.encoding, errors="replace").lstrip("\ufeff").lstrip()
    if text_head.startswith(("{", "[")):
        src.container = "json"
        return src
    if not text_head.strip():
        raise FileRefused("The file is empty (only blank lines).")
    src.delimiter = _sniff_delimiter(_text_start(src))
    return src


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
        return _xlsx_rows(src, sheet, max_rows=n)
    if src.container == "json":
        header, rows = _json_table(src)
        return [header, *rows[: n - 1]]
    text, more = _text_start(src)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=src.delimiter))
    except csv.Error as exc:
        raise FileRefused(f"The file could not be read as CSV: {exc}.") from exc
    if more and rows:
        rows = rows[:-1]  # the last row may have been cut off mid-way
    return rows[:n]


# ---------------------------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------------------------
def _open_workbook(src: SourceFile):
    from openpyxl import load_workbook

    try:
        return load_workbook(src.open_binary(), read_only=True, data_only=True)
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
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _sheet(wb, src: SourceFile, sheet: str | None):
    if sheet is None:
        return wb[wb.sheetnames[0]]
    if sheet not in wb.sheetnames:
        raise FileRefused(f"The workbook has no sheet called {sheet!r}; its sheets are: {', '.join(wb.sheetnames)}.")
    return wb[sheet]


def _xlsx_rows(src: SourceFile, sheet: str | None, max_rows: int | None = None, min_row: int = 1) -> list[list[str]]:
    wb = _open_workbook(src)
    try:
        ws = _sheet(wb, src, sheet)
        out = []
        for row in ws.iter_rows(min_row=min_row, max_row=None if max_rows is None else min_row + max_rows - 1,
                                values_only=True):
            out.append([cell_text(v) for v in row])
        return out
    finally:
        wb.close()


# ---------------------------------------------------------------------------------------------------------------
# JSON (the CQC API: {location id: {overall, safe, …}})
# ---------------------------------------------------------------------------------------------------------------
def _json_table(src: SourceFile) -> tuple[list[str], list[list[str]]]:
    with src.open_binary() as fh:
        try:
            data = json.loads(fh.read().decode(src.encoding or "utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise FileRefused(f"The file starts like JSON but is not valid JSON: {exc}.") from exc
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        records = [{"id": k, **v} for k, v in data.items()]
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        records = data
    else:
        raise FileRefused("The JSON file is not a table: expected a list of records or an object of records keyed by id.")
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
                width: int | None = None) -> Iterator[pd.DataFrame]:
    """Yield the data rows below the header row as frames of text with canonical column names and ``_row`` (the row
    number a spreadsheet would show). ``header_index`` is the 0-based row of the header (-1: the file has none)."""
    names = list(positions)
    cols = [positions[n] for n in names]
    if src.container == "csv":
        yield from _csv_frames(src, header_index, names, cols, chunk_rows, progress, width)
        return
    if src.container == "xlsx":
        rows = _xlsx_rows(src, sheet, min_row=header_index + 2)
        first_row = header_index + 2
    else:
        _, rows = _json_table(src)
        first_row = 2  # the keys act as the header row
    for start in range(0, len(rows), chunk_rows):
        part = rows[start : start + chunk_rows]
        frame = pd.DataFrame({n: [r[c] if c < len(r) else "" for r in part] for n, c in zip(names, cols)}, dtype="str")
        frame["_row"] = range(first_row + start, first_row + start + len(part))
        if progress:
            progress(min(1.0, (start + len(part)) / max(1, len(rows))))
        yield frame


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
    if src.encoding in ("utf-8", "utf-8-sig") and not headerless_bom and not _has_blank_lines(src):
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
            raise CSVShapeError(_parser_row(str(exc)), _parser_message(str(exc))) from exc
    except pd.errors.EmptyDataError:
        return  # a header and nothing else
    finally:
        fh.close()


def _parser_row(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _parser_message(message: str) -> str:
    import re

    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return (f"has {m.group(3)} values but the header has {m.group(1)}: a value probably contains an unquoted "
                f"comma or the row is damaged")
    if "EOF inside string" in message:
        return "a quoted value is never closed (a stray double quote), so the rest of the file cannot be read"
    return f"could not be read as CSV ({message.strip()})"
