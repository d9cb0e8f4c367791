"""National and local benchmarks in the measure store: each area's figure beside England's, its NHS region's, ICB's,
sub-ICB location's and PCN's for the same published period, and whether it is better, similar or worse.

Worked out once by the refresh (after every import, so a file that brings only England's figures counts too) from
``benchmark_values`` (what the published imports keep for areas other than the federation's practices) and the
measure store's own values; screens, downloads and packs only read ``measure_benchmarks``.

Which published figures are a catalogue entry's: the source it names in ``federation.toml`` (``published =
{ fingertips_id = "91547" }``, a QOF indicator, a wide-table column). Which areas: England and the areas named in
``[benchmarks]`` (ONS codes), and each practice's PCN by its name. The comparison is Fingertips': the area's 95%
interval wholly above or below the benchmark's value is higher or lower (better or worse given the measure's
direction), otherwise similar; no interval, not compared.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, or_, select, tuple_

from .. import models as m
from ..analytics import compare_with_benchmark
from ..bulk import insert_frame
from ..config import FederationConfig
from ..db import tuples
from ..models_benchmarks import BENCHMARK_LEVELS, MeasureBenchmark
from . import compute

LEVEL_NAMES = {"england": "England", "region": "NHS region", "icb": "ICB", "sub_icb": "Sub-ICB", "pcn": "PCN"}
# Which import kinds keep each kind of published source (see data_layer/imports/formats).
SOURCE_KINDS = {"fingertips_id": ("fingertips",), "qof_indicator": ("qof_prevalence", "qof_achievement"),
                "wide_column": ("wide_indicators",)}
READ = ["indicator_code", "area_type", "area_code", "period_start", "period_end", "period_label", "level",
        "benchmark_code", "benchmark_name", "source", "source_indicator", "value", "lower_ci", "upper_ci",
        "area_value", "area_lower_ci", "area_upper_ci", "comparison"]
NUMBERS = ("value", "lower_ci", "upper_ci", "area_value", "area_lower_ci", "area_upper_ci")


def _norm(text) -> str:
    return " ".join(str(text or "").lower().replace("&", "and").split())


def published_sources(config: FederationConfig) -> pd.DataFrame:
    """indicator_code, source, source_indicator: the benchmark rows each catalogue entry's figures are kept under."""
    from ..imports.formats.wide import indicator_id  # the key the wide table keeps a column's benchmarks under

    rows = []
    for ind in config.indicators:
        if ind.published is None:
            continue
        for field, kinds in SOURCE_KINDS.items():
            sid = getattr(ind.published, field, None)
            if sid:
                sid = indicator_id(sid) if field == "wide_column" else str(sid)
                rows += [(ind.code, kind, sid) for kind in kinds]
    return pd.DataFrame(rows, columns=["indicator_code", "source", "source_indicator"])


def _published(conn: Connection, config: FederationConfig, sources: pd.DataFrame) -> pd.DataFrame:
    """The benchmark areas' published figures for the catalogue's sources, one row per area and period."""
    areas = config.benchmarks
    named = {code: level for level, code in (("england", areas.england), ("region", areas.region),
                                              ("icb", areas.icb), ("sub_icb", areas.sub_icb)) if code}
    b = m.BenchmarkValue
    pairs = list({(s, i) for s, i in zip(sources["source"], sources["source_indicator"])})
    stmt = (select(b.source, b.indicator_id, b.area_code, b.area_name, b.area_type, b.period_label, b.period_start,
                   b.period_end, b.sex, b.age, b.category, b.value, b.lower_ci, b.upper_ci)
            .where(tuple_(b.source, b.indicator_id).in_(pairs),
                   or_(b.area_code.in_(list(named)), func.lower(b.area_type).like("%pcn%"),
                       func.lower(b.area_type) == "england")))
    cols = ["source", "source_indicator", "benchmark_code", "benchmark_name", "area_type", "period_label",
            "period_start", "period_end", "sex", "age", "category", "value", "lower_ci", "upper_ci"]
    df = pd.DataFrame(tuples(conn.execute(stmt)), columns=cols)
    if df.empty:
        return df.assign(level=pd.Series(dtype=object))
    for c in ("value", "lower_ci", "upper_ci"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df = df[df["value"].notna()]
    df["level"] = df["benchmark_code"].map(named)
    df.loc[df["level"].isna() & (df["area_type"].str.lower() == "england"), "level"] = "england"
    df.loc[df["level"].isna() & df["area_type"].str.lower().str.contains("pcn"), "level"] = "pcn"
    # One figure per area and period: all people (no category, Persons), in the age band the indicator uses most.
    usual_age = df.groupby(["source", "source_indicator"])["age"].agg(lambda a: a.value_counts().index[0])
    df["rank"] = ((df["category"] != "").astype(int) * 4 + (~df["sex"].isin(["Persons", ""])).astype(int) * 2
                  + (df["age"] != df.set_index(["source", "source_indicator"]).index.map(usual_age)).astype(int))
    df = df.sort_values("rank", kind="mergesort").drop_duplicates(
        ["source", "source_indicator", "benchmark_code", "period_start", "period_end"])
    for c in ("period_start", "period_end"):
        df[c] = pd.to_datetime(df[c])
    return df.drop(columns=["rank", "sex", "age", "category", "area_type"])


def _pcn_of(conn: Connection, values: pd.DataFrame) -> pd.Series:
    """The PCN name each stored area belongs to (a practice its own, a PCN itself, the federation and a group the
    one PCN all their practices share), for matching the published PCN figures by name."""
    practices = pd.DataFrame(tuples(conn.execute(select(m.Practice.code, m.Practice.pcn).where(
        m.Practice.active.is_(True)))), columns=["code", "pcn"])
    own = dict(zip(practices["code"], practices["pcn"]))
    pcns = {p if isinstance(p, str) and p.strip() else None for p in practices["pcn"]}
    shared = next(iter(pcns)) if len(pcns) == 1 else None  # every practice in the one PCN
    kind, code = values["area_type"], values["area_code"]
    out = pd.Series(None, index=values.index, dtype=object)
    out[kind == compute.PRACTICE] = code[kind == compute.PRACTICE].map(own)
    out[kind == compute.PCN] = code[kind == compute.PCN]
    out[kind == compute.FEDERATION] = shared
    return out.map(lambda p: _norm(p) if isinstance(p, str) and p.strip() else None)


def refresh_benchmarks(conn: Connection, config: FederationConfig, refresh_id: int | None = None) -> int:
    """Replace every stored comparison with a published benchmark (inside the refresh's transaction)."""
    conn.execute(delete(MeasureBenchmark))
    sources = published_sources(config)
    if sources.empty:
        return 0
    bench = _published(conn, config, sources)
    if bench.empty:
        return 0
    bench = bench.merge(sources, on=["source", "source_indicator"])
    codes = sorted(bench["indicator_code"].unique())
    v = m.MeasureValue
    values = pd.DataFrame(tuples(conn.execute(
        select(v.indicator_code, v.area_type, v.area_code, v.period_start, v.value, v.lower_ci, v.upper_ci)
        .where(v.indicator_code.in_(codes), v.suppressed.is_(False), v.value.is_not(None)))),
        columns=["indicator_code", "area_type", "area_code", "period_start", "area_value", "area_lower_ci",
                 "area_upper_ci"])
    if values.empty:
        return 0
    values["period_start"] = pd.to_datetime(values["period_start"])
    for c in ("area_value", "area_lower_ci", "area_upper_ci"):
        values[c] = pd.to_numeric(values[c], errors="coerce").astype(float)
    values["pcn_key"] = _pcn_of(conn, values)
    bench["pcn_key"] = np.where(bench["level"] == "pcn", bench["benchmark_name"].map(_norm), None)
    wide = bench[bench["level"] != "pcn"].drop(columns="pcn_key")
    out = values.drop(columns="pcn_key").merge(wide, on=["indicator_code", "period_start"])
    pcn = bench[bench["level"] == "pcn"]
    if not pcn.empty:
        by_code = pcn.assign(pcn_key=pcn["benchmark_code"].map(_norm))
        both = pd.concat([pcn, by_code], ignore_index=True).drop_duplicates(
            ["indicator_code", "period_start", "pcn_key", "benchmark_code"])
        local = values[values["pcn_key"].notna()].merge(both, on=["indicator_code", "period_start", "pcn_key"])
        out = pd.concat([out, local.drop(columns="pcn_key")], ignore_index=True)
    if out.empty:
        return 0
    # Two sources for one catalogue entry (QOF prevalence and achievement): the first named wins.
    out = out.drop_duplicates(["indicator_code", "area_type", "area_code", "period_start", "level"])
    direction = out["indicator_code"].map({i.code: i.direction for i in config.indicators}).to_numpy(dtype=object)
    out["comparison"] = "not compared"
    for d in np.unique(direction):
        rows = direction == d
        out.loc[rows, "comparison"] = compare_with_benchmark(
            out.loc[rows, "area_lower_ci"].to_numpy(dtype=float), out.loc[rows, "area_upper_ci"].to_numpy(dtype=float),
            out.loc[rows, "value"].to_numpy(dtype=float), d)
    out["period_label"] = out["period_label"].fillna("").astype(str).str.slice(0, 40)
    out["benchmark_name"] = out["benchmark_name"].where(out["benchmark_name"].notna(), None)
    return insert_frame(conn, MeasureBenchmark.__table__, out[READ].assign(refresh_id=refresh_id))


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------
def latest(engine: Engine, area_type: str, area_codes: list[str] | None, codes: list[str] | None,
           as_at: date | None) -> pd.DataFrame:
    """Each stored area's latest published period up to ``as_at`` that has a benchmark, one row per indicator,
    area and benchmark level (columns: ``READ``)."""
    t = MeasureBenchmark
    stmt = select(*[getattr(t, c) for c in READ]).where(t.area_type == area_type)
    if area_codes is not None:
        stmt = stmt.where(t.area_code.in_(list(area_codes)))
    if codes is not None:
        stmt = stmt.where(t.indicator_code.in_(list(codes)))
    if as_at is not None:
        stmt = stmt.where(t.period_start <= as_at)
    with engine.connect() as conn:
        df = pd.DataFrame(tuples(conn.execute(stmt)), columns=READ)
    for c in ("period_start", "period_end"):
        df[c] = pd.to_datetime(df[c])
    for c in NUMBERS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    if df.empty:
        return df
    newest = df.groupby(["indicator_code", "area_code"])["period_start"].transform("max")
    df = df[df["period_start"] == newest]
    order = {level: i for i, level in enumerate(BENCHMARK_LEVELS)}
    return df.sort_values(["indicator_code", "area_code", "level"], key=lambda s: s.map(order) if s.name == "level"
                          else s, kind="mergesort").reset_index(drop=True)


def beside(engine: Engine, config: FederationConfig, viewer, filters, codes: list[str] | None = None
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmarks beside the area the filters choose (within the viewer's scope) and beside the federation,
    up to the chosen month: (area's rows, federation's rows)."""
    from ..engine import area, as_at

    where, when = area(engine, viewer, filters, config), as_at(engine, filters)
    if where is None or when is None:
        empty = pd.DataFrame(columns=READ)
        return empty, empty
    fed = latest(engine, compute.FEDERATION, [compute.FEDERATION_CODE], codes, when)
    mine = fed if where.area_type == compute.FEDERATION else for_area(engine, where, codes, when)
    return mine, fed


def england_by_practice(engine: Engine, config: FederationConfig, viewer, filters, code: str) -> pd.DataFrame:
    """practice_code, comparison, period_start, period_end: each practice in the viewer's choice against England."""
    from ..engine import as_at, resolve_practices

    codes = resolve_practices(engine, viewer, filters)
    df = latest(engine, compute.PRACTICE, list(codes), [code], as_at(engine, filters)) if codes else \
        pd.DataFrame(columns=READ)
    df = df[df["level"] == "england"]
    return df.rename(columns={"area_code": "practice_code"})[["practice_code", "comparison", "period_start",
                                                              "period_end"]]


def for_area(engine: Engine, area, codes: list[str] | None, as_at: date | None) -> pd.DataFrame:
    """The benchmarks beside one area (a ``store.Area``). Several practices chosen together are not stored: they
    get the federation's benchmark figures with no comparison of their own."""
    if area.stored:
        return latest(engine, area.area_type, [area.area_code], codes, as_at)
    df = latest(engine, compute.FEDERATION, [compute.FEDERATION_CODE], codes, as_at)
    df = df[df["level"] != "pcn"]
    return df.assign(area_value=np.nan, area_lower_ci=np.nan, area_upper_ci=np.nan, comparison="not compared")


# ---------------------------------------------------------------------------------------------------------------
# In words (screens, downloads and packs)
# ---------------------------------------------------------------------------------------------------------------
COMPARED = {"better": "Better than", "worse": "Worse than", "similar": "Similar to", "higher": "Higher than",
            "lower": "Lower than"}
SYMBOLS = {"better": "▲", "worse": "▼", "similar": "●", "higher": "▲", "lower": "▼"}


def comparison_words(comparison: str | None, benchmark: str = "England") -> str:
    """"Better than England", "Similar to England"…, or "Not compared" (no interval to compare)."""
    if comparison in COMPARED:
        return f"{COMPARED[comparison]} {benchmark}"
    return "Not compared"


def comparison_cell(row) -> str:
    """"▲ Better", "● Similar"… for a table cell (the column says with what)."""
    c = row["comparison"]
    return f"{SYMBOLS[c]} {c.capitalize()}" if c in SYMBOLS else "Not compared"


def source_words(config: FederationConfig, row, period: bool = True) -> str:
    """Where a benchmark comes from (and for when): "OHID Fingertips indicator 91547, April 2022 to March 2023"."""
    from ..policy import words

    ind = next((i for i in config.indicators if i.code == row["indicator_code"]), None)
    who = ind.source if ind is not None and ind.source else str(row["source"])
    what = f" indicator {row['source_indicator']}" if row["source"] == "fingertips" else ""
    when = f", {words.period(row['period_start'], row['period_end'])}" if period else ""
    return f"{who}{what}{when}"


def table(frame: pd.DataFrame, config: FederationConfig, area_label: str, codes: list[str] | None = None,
          federation: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per measure: the area's figure (with its interval) and the federation's beside each benchmark area's
    for the same published period, the comparison with England, the period and the source, in words."""
    from ..policy import words

    fed_label = "Federation" if federation is not None and area_label != "Federation" else None
    # the comparison next to the area's own figure, so it is in view however many areas follow
    cols = ["Measure", area_label, "Compared with England", *([fed_label] if fed_label else []),
            *LEVEL_NAMES.values(), "Period", "Source"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    inds = {i.code: i for i in config.indicators}
    rows = []
    order = codes if codes is not None else list(dict.fromkeys(frame["indicator_code"]))
    for code in order:
        f = frame[frame["indicator_code"] == code]
        if f.empty or code not in inds:
            continue
        ind, first = inds[code], f.iloc[0]
        row = {"Measure": ind.name,
               area_label: words.with_interval(first["area_value"], first["area_lower_ci"], first["area_upper_ci"],
                                               ind.unit)}
        if fed_label:
            same = federation[(federation["indicator_code"] == code)
                              & (federation["period_start"] == first["period_start"])]
            row[fed_label] = NONE_TEXT if same.empty else words.with_interval(
                same.iloc[0]["area_value"], same.iloc[0]["area_lower_ci"], same.iloc[0]["area_upper_ci"], ind.unit)
        by_level = {r["level"]: r for _, r in f.iterrows()}
        for level, name in LEVEL_NAMES.items():
            r = by_level.get(level)
            row[name] = NONE_TEXT if r is None else words.with_interval(r["value"], r["lower_ci"], r["upper_ci"],
                                                                        ind.unit)
        eng = by_level.get("england")
        row["Compared with England"] = NONE_TEXT if eng is None else (
            f"{SYMBOLS.get(eng['comparison'], '–')} {comparison_words(eng['comparison'])}")
        row["Period"] = words.period(first["period_start"], first["period_end"])
        row["Source"] = source_words(config, first, period=False)
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    # A level no measure has a figure for is left out rather than shown as a column of dashes.
    empty = [name for name in LEVEL_NAMES.values() if name != "England" and (out[name] == NONE_TEXT).all()]
    return out.drop(columns=empty)


NONE_TEXT = "–"
