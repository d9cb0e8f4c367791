"""JSON files of records (the CQC API: {location id: {overall, safe, …}}, or a list of records): nesting measured
before parsing, then one row per record with the keys as the header."""
from __future__ import annotations

import codecs
import json
import re

import numpy as np

from .source import FileRefused, SourceFile
from .workbooks import cell_text


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
