"""Which format a file is: its first rows read, each format's columns matched against each row that could be the
header, and the choice made (templates first, then the specific published formats, the catch-all wide table last; only
a format whose required columns all match is chosen, and among those the one that claims most of the file's columns).
A file no format reads gets one line that says why: a document, a known file the importer does not read, not a table,
or the closest formats and what they miss."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Format, ImportOptions, Match
from .formats import BY_KIND, FORMAT_CLASSES
from .formats.unsupported import known_document, known_file
from .reading import HEAD_ROWS, head_rows
from .source import SourceFile


@dataclass
class Detection:
    format: Format | None
    sheet: str | None
    header_index: int  # 0-based row of the header; -1: the file has no header row
    header: list[str]
    match: Match | None
    head: list[list[str]]
    message: str = ""  # why nothing was recognised

    @property
    def header_row(self) -> int | None:
        return self.header_index + 1 if self.header_index >= 0 else None


def _detect_rows(rows: list[list[str]], kind: str | None) -> tuple[Format | None, int, Match | None, str]:
    classes = [BY_KIND[kind]] if kind else list(FORMAT_CLASSES)
    formats = [c() for c in classes]
    best_partial: dict[str, tuple[int, Match, int]] = {}
    for i, row in enumerate(rows[:HEAD_ROWS]):
        if not any(str(v).strip() for v in row):
            continue
        hits = []
        for fmt in formats:
            if not fmt.has_header and i != 0:
                continue
            match = fmt.match(row)
            if fmt.recognises(match, row):
                # Templates first, then the specific published formats, the catch-all wide table last; within a
                # group the format that claims the most columns.
                hits.append((-fmt.detect_priority, match.score, fmt, match))
            elif match.score and (fmt.kind not in best_partial or match.score > best_partial[fmt.kind][0]):
                best_partial[fmt.kind] = (match.score, match, i)
        if hits:
            hits.sort(key=lambda h: (h[0], h[1]), reverse=True)
            _, _, fmt, match = hits[0]
            if not kind and fmt.catch_all:
                known = known_file(row)
                if known:
                    return None, i, None, known
            return fmt, (i if fmt.has_header else -1), match, ""
    if kind:
        fmt = formats[0]
        score, match, i = best_partial.get(kind, (0, fmt.match(rows[0] if rows else []), 0))
        return fmt, i, match, ""
    for row in rows[:HEAD_ROWS]:
        known = known_file(row)
        if known:
            return None, 0, None, known
    if not rows or all(len([v for v in r if str(v).strip()]) <= 1 for r in rows[:HEAD_ROWS]):
        return None, 0, None, ("The file does not look like a table: no row has more than one column. Save the "
                               "spreadsheet as CSV (comma-separated) or XLSX and try again.")
    closest = sorted(best_partial.items(), key=lambda kv: -kv[1][0])[:3]
    hint = "; ".join(f"{BY_KIND[k].label} (missing: {', '.join(m_.missing)})" for k, (_, m_, _) in closest
                     if m_.missing)
    first = next((r for r in rows if any(str(v).strip() for v in r)), [])
    return None, 0, None, ("The importer does not recognise this file's columns"
                           + (f" ({', '.join(str(v) for v in first[:8])}{', …' if len(first) > 8 else ''})" if first
                              else "")
                           + ". Use one of the templates, or choose the kind of file by hand."
                           + (f" Closest: {hint}." if hint else ""))


def detect(src: SourceFile, options: ImportOptions) -> Detection:
    document = known_document(src.name) if not options.kind else ""
    if document:  # a README or PROVENANCE.md names a publication's columns: not a table of them
        return Detection(None, None, 0, [], None, [], document)
    sheets = [options.sheet] if options.sheet else (src.sheets or [None])
    first: Detection | None = None
    for sheet in sheets:
        rows = head_rows(src, sheet)
        fmt, index, match, message = _detect_rows(rows, options.kind)
        header = rows[index] if rows and index >= 0 else (rows[0] if rows else [])
        found = Detection(fmt, sheet, index, [str(h) for h in header], match, rows, message)
        if fmt is not None:
            return found
        first = first or found
    return first
