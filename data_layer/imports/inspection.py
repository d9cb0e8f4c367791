"""The cheap first look at a file for the Import page: what it is, a preview of its first rows exactly as written, and
what can be mapped (the indicators or practice names it holds), without checking every row."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .base import Format, ImportOptions
from .detection import Detection, detect
from .reading import CSVShapeError, iter_frames, load_source
from .source import FileRefused, SourceFile

PREVIEW_ROWS = 20


@dataclass
class Inspection:
    file_name: str
    size: int
    sha256: str
    container: str
    encoding: str
    sheets: list[str]
    sheet: str | None
    kind: str | None
    label: str
    description: str
    header_row: int | None
    headings: dict[str, str]  # canonical -> the file's heading
    preview: pd.DataFrame
    items: pd.DataFrame | None  # what can be mapped: indicators (source, name, rows) or practice names (name, rows)
    uses_indicator_map: bool = False
    uses_practice_map: bool = False
    needs_period: bool = False
    problem: str = ""  # the file cannot be read or is not recognised


def inspect_file(source, file_name: str | None = None, options: ImportOptions | None = None) -> Inspection:
    options = options or ImportOptions()
    try:
        src = load_source(source, file_name, options.max_bytes, options.limits)
    except FileRefused as exc:
        return Inspection(file_name or "file", 0, "", "", "", [], None, None, "", "", None, {}, pd.DataFrame(),
                          None, problem=str(exc))
    base = dict(file_name=src.name, size=src.size, sha256=src.sha256, container=src.container,
                encoding=src.encoding_label, sheets=src.sheets)
    try:
        det = detect(src, options)
    except FileRefused as exc:
        return Inspection(**base, sheet=options.sheet, kind=None, label="", description="", header_row=None,
                          headings={}, preview=pd.DataFrame(), items=None, problem=str(exc))
    data_rows = det.head[det.header_index + 1 :] if det.header_index >= 0 else det.head
    width = max([len(det.header), *[len(r) for r in data_rows[:PREVIEW_ROWS]]] or [0])
    if det.header_index >= 0:
        names = _unique_names([det.header[i] if i < len(det.header) else "" for i in range(width)])
    else:
        names = [f"Column {i + 1}" for i in range(width)]
    preview = pd.DataFrame([[r[i] if i < len(r) else "" for i in range(width)] for r in data_rows[:PREVIEW_ROWS]],
                           columns=names, dtype="str")
    fmt = det.format
    if fmt is None:
        return Inspection(**base, sheet=det.sheet, kind=None, label="", description="", header_row=det.header_row,
                          headings={}, preview=preview, items=None, problem=det.message)
    items = None
    if hasattr(fmt, "item_columns"):
        try:
            items = _scan_items(src, det, fmt)
        except (FileRefused, CSVShapeError) as exc:
            return Inspection(**base, sheet=det.sheet, kind=fmt.kind, label=fmt.label, description=fmt.description,
                              header_row=det.header_row, headings=det.match.headings, preview=preview, items=None,
                              problem=_where(exc) + str(exc))
    elif fmt.uses_indicator_map:
        items = fmt.items(det.match.headings)
    return Inspection(**base, sheet=det.sheet, kind=fmt.kind, label=fmt.label, description=fmt.description,
                      header_row=det.header_row, headings=det.match.headings, preview=preview, items=items,
                      uses_indicator_map=fmt.uses_indicator_map, uses_practice_map=fmt.uses_practice_map,
                      needs_period=fmt.needs_period and not _period_in_file(fmt, det))


def _period_in_file(fmt: Format, det: Detection) -> bool:
    return "period" in det.match.positions if fmt.kind == "nhse_fft_monthly" else False


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n or "(no heading)"
        if n in seen:
            seen[n] += 1
            n = f"{n} ({seen[n]})"
        else:
            seen[n] = 1
        out.append(n)
    return out


def _scan_items(src: SourceFile, det: Detection, fmt: Format) -> pd.DataFrame:
    cols = [c for c in fmt.item_columns if c in det.match.positions]
    positions = {c: det.match.positions[c] for c in cols}
    counts: pd.Series | None = None
    for chunk in iter_frames(src, det.sheet, det.header_index, positions, width=len(det.header)):
        part = chunk[cols].apply(lambda s: s.str.strip()).value_counts()
        counts = part if counts is None else counts.add(part, fill_value=0)
    if counts is None:
        return pd.DataFrame(columns=["source", "name", "rows"])
    frame = counts.rename("rows").reset_index()
    if hasattr(fmt, "item_table"):  # the format names its items from several columns (a vaccine and an age)
        frame = fmt.item_table(frame)
    elif len(cols) == 1:
        frame = frame.rename(columns={cols[0]: "source"})
        frame["name"] = frame["source"]
    else:
        frame = frame.rename(columns={cols[0]: "source", cols[1]: "name"})
        # Rows without an id but with a known name count towards that indicator (the import reads them so too).
        by_name = frame[frame["source"] != ""].drop_duplicates("name").set_index("name")["source"]
        frame["source"] = frame["source"].where(frame["source"] != "", frame["name"].map(by_name)).fillna("")
        frame = frame[frame["source"] != ""].groupby("source", as_index=False).agg(name=("name", "first"),
                                                                                    rows=("rows", "sum"))
    frame["rows"] = frame["rows"].astype(int)
    return frame.sort_values("rows", ascending=False).reset_index(drop=True)[["source", "name", "rows"]]


def _where(exc) -> str:
    row = getattr(exc, "row", None)
    text = str(exc)
    return f"Row {row}: " if row is not None and not text.lower().startswith(("row ", "line ")) else ""
