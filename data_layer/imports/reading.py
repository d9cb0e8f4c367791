"""Reading a file as a table of text: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM as Excel's "Unicode text", or
Windows-1252; comma, semicolon or tab), XLSX (any sheet) and the CQC API's JSON. Every value arrives as text, exactly as
written, so validation can quote it back.

Before anything is parsed the file is measured against the limits in ``limits.py`` (size, the XLSX zip directory, JSON
nesting); while reading, rows, columns and cell text are counted against them too. Whatever goes wrong with the file
itself ends as ``FileRefused`` with a message in plain words, never as a parser's exception.

Large CSV files are read in chunks, so memory stays flat however long the file is. The file's encoding and delimiter
are worked out in ``encodings``, workbooks read in ``workbooks``, JSON records in ``json_records``; ``SourceFile`` and
``FileRefused`` live in ``source`` (re-exported here).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from .encodings import (CANDIDATE_ENCODINGS, CSV_SAVE_HINT, DETECT_SAMPLE, _detect_encoding, _nul_message,  # noqa: F401
                        _scan, _sniff_delimiter, _text_start, _to_utf8)
from .json_records import _json_table, json_depth  # noqa: F401
from .limits import DEFAULT_LIMITS, Limits
from .source import ENCODING_WORDS, FileRefused, SourceFile, _mb  # noqa: F401  (re-exported: the pipeline's names)
from .workbooks import _check_zip, _xlsx_iter, _xlsx_rows, _xlsx_sheets, cell_text  # noqa: F401

MAX_FILE_BYTES = DEFAULT_LIMITS.file_bytes
HEAD_ROWS = 30
CHUNK_ROWS = 200_000


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
