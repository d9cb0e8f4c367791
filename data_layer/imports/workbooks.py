"""XLSX workbooks: the zip directory measured against the limits before anything is unpacked, the sheets, and each
sheet's rows as the text a person would type (the sheet's own dimension is not trusted)."""
from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from typing import Iterator

from .source import FileRefused, SourceFile, _mb


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
