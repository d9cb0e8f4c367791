"""Adding a published indicator to the catalogue from the file that holds it (``--add-indicators``).

A Fingertips export says, for each indicator, its ID and name, and (by its rows) whether it is a proportion (Count ÷
Denominator × 100 gives the Value) or a published value only, and which way is better (rows Fingertips calls "Better"
or "Worse" than England). An indicator the catalogue does not list is written as a ``[[indicators]]`` entry to the
catalogue's local extension file, ``federation.local.toml`` beside the federation config (``data_layer.config``
merges it in at load), with ``published = { fingertips_id = "…" }`` so later imports map it by themselves.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import FederationConfig, local_config_path, parse_config
from .base import ImportOptions
from .pipeline import detect
from .reading import iter_frames, load_source
from .values import norm

COMPARED = ("comparedtoenglandvalueorpercentiles", "comparedtoengland")
UNITS = ((100.0, "%"), (1000.0, "per 1,000"), (10000.0, "per 10,000"), (100000.0, "rate"), (1.0, "rate"))
KEY_QUESTION = "Effective"
STATEMENT = "Monitoring and improving outcomes"


@dataclass(frozen=True)
class NewIndicator:
    fingertips_id: str
    code: str
    name: str
    unit: str
    multiplier: float
    direction: str  # higher | lower | neutral
    value_only: bool  # the file publishes a value (and interval), no count and denominator

    def toml(self) -> str:
        q = json.dumps  # a JSON string is a TOML basic string
        how = ("a published value (no count or denominator)" if self.value_only else
               f"Count ÷ Denominator{' × ' + format(self.multiplier, 'g') if self.multiplier != 1 else ''}")
        return "\n".join([
            "",
            f"# Added from a Fingertips file by --add-indicators: indicator {self.fingertips_id}, {how}; "
            f"{'better when ' + self.direction if self.direction != 'neutral' else 'no better or worse'}.",
            "# Check the key question and quality statements, and add it to an aim in federation.toml to see it on "
            "the scorecard.",
            "[[indicators]]",
            f"code = {q(self.code)}",
            f"name = {q(self.name)}",
            f"description = {q(f'{self.name} (OHID Fingertips indicator {self.fingertips_id}).')}",
            f"numerator = {q('None: a published value' if self.value_only else 'Count (Fingertips)')}",
            f"denominator = {q('None: a published value' if self.value_only else 'Denominator (Fingertips)')}",
            f"unit = {q(self.unit)}",
            f"multiplier = {self.multiplier:g}",
            f"direction = {q(self.direction)}",
            f"key_question = {q(KEY_QUESTION)}",
            f"quality_statements = [{q(STATEMENT)}]",
            'source = "OHID Fingertips"',
            'frequency = "annual"',
            f"published = {{ fingertips_id = {q(self.fingertips_id)} }}",
            "",
        ])


def _frame(path, options: ImportOptions, file_name: str | None = None) -> pd.DataFrame | None:
    """The Fingertips file's rows (id, name, area type, value, count, denominator, comparison), or None when the
    file is not a Fingertips export. ``path``: a path, or the file's bytes (the Import page's upload)."""
    src = load_source(path, file_name, options.max_bytes, options.limits)
    det = detect(src, ImportOptions(kind=options.kind, sheet=options.sheet))
    if det.format is None or det.format.kind != "fingertips":
        return None
    want = ("indicator_id", "indicator_name", "area_type", "time_period", "value", "count", "denominator")
    positions = {c: det.match.positions[c] for c in want if c in det.match.positions}
    normed = [norm(h) for h in det.header]
    compared = next((normed.index(c) for c in COMPARED if c in normed), None)
    if compared is not None:
        positions["compared"] = compared
    frames = list(iter_frames(src, det.sheet, det.header_index, positions, width=len(det.header)))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(positions))
    for c in ("indicator_name", "count", "denominator", "compared"):
        if c not in frame:
            frame[c] = ""
    frame = frame.apply(lambda s: s.astype(str).str.strip())
    by_name = frame[(frame["indicator_id"] != "") & (frame["indicator_name"] != "")].drop_duplicates(
        "indicator_name").set_index("indicator_name")["indicator_id"]
    frame["indicator_id"] = frame["indicator_id"].where(frame["indicator_id"] != "",
                                                        frame["indicator_name"].map(by_name)).fillna("")
    return frame[frame["indicator_id"] != ""]


def _unit(rows: pd.DataFrame) -> tuple[str, float, bool]:
    value = pd.to_numeric(rows["value"], errors="coerce")
    num = pd.to_numeric(rows["count"], errors="coerce")
    den = pd.to_numeric(rows["denominator"], errors="coerce")
    ok = value.notna() & num.notna() & den.notna() & (den > 0) & (num > 0)
    if ok.sum() >= 1:
        ratio = float(np.median(value[ok] / (num[ok] / den[ok])))
        for mult, unit in UNITS:
            if abs(ratio - mult) <= 0.01 * mult:
                return unit, mult, False
    name = rows["indicator_name"].iloc[0].lower() if len(rows) else ""
    if re.search(r"%|percent|proportion|coverage|prevalence", name):
        return "%", 100.0, True
    return "score", 1.0, True


def _direction(rows: pd.DataFrame) -> str:
    """Better is higher when the rows Fingertips calls "Better" than England are above England's value for the same
    period (or "Worse" ones below), lower when the reverse; otherwise (only "Higher" / "Lower" / "Similar", or
    nothing compared) neutral."""
    value = pd.to_numeric(rows["value"], errors="coerce")
    england = (rows["area_type"].str.lower() == "england") & value.notna()
    ref = rows["time_period"].map(pd.Series(value[england].to_numpy(), index=rows["time_period"][england].to_numpy())
                                  .groupby(level=0).first())
    said = rows["compared"].str.lower()
    up = (((said == "better") & (value > ref)) | ((said == "worse") & (value < ref))).sum()
    down = (((said == "better") & (value < ref)) | ((said == "worse") & (value > ref))).sum()
    return "higher" if up > down else "lower" if down > up else "neutral"


def code_for(fingertips_id: str, taken: set[str]) -> str:
    code = f"FINGERTIPS_{fingertips_id}"
    n = 2
    while code in taken:
        code, n = f"FINGERTIPS_{fingertips_id}_{n}", n + 1
    return code


def unlisted(path, config: FederationConfig, options: ImportOptions | None = None,
             file_name: str | None = None) -> list[NewIndicator] | None:
    """The Fingertips file's indicators that no catalogue entry names as its published source (None: not a
    Fingertips file)."""
    options = options or ImportOptions()
    frame = _frame(path, options, file_name)
    if frame is None:
        return None
    listed = {ind.published.fingertips_id for ind in config.indicators if ind.published and
              ind.published.fingertips_id}
    mapped = {norm(k) for k in options.indicator_map}
    taken = set(config.indicator_codes)
    out = []
    for sid, rows in frame.groupby("indicator_id", sort=True):
        name = next((n for n in rows["indicator_name"] if n), f"Fingertips indicator {sid}")
        if sid in listed or norm(sid) in mapped or norm(name) in mapped:
            continue
        unit, mult, value_only = _unit(rows)
        code = code_for(sid, taken)
        taken.add(code)
        out.append(NewIndicator(sid, code, name, unit, mult, _direction(rows), value_only))
    return out


def with_additions(config_file: Path, additions: list[NewIndicator]) -> tuple[FederationConfig, str]:
    """The config with the additions merged in (validated), and the text the local extension file would hold."""
    local = local_config_path(config_file)
    before = local.read_text(encoding="utf-8") if local.exists() else (
        "# Local additions to the federation's indicator catalogue, merged into federation.toml at load.\n")
    text = before + "".join(a.toml() for a in additions)
    return parse_config(config_file.read_text(encoding="utf-8"), config_file, local_text=text), text


def write_local(config_file: Path, text: str) -> Path:
    local = local_config_path(config_file)
    tmp = local.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(local)
    return local
