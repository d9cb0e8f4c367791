"""Benchmark: how long a CQC inspection pack takes to build, per format, for one practice and for the whole
federation, on the demo federation. Target: a practice's PDF (every chart included) in under 10 seconds.

    python bench/inspection_pack.py                      # builds the demo into /tmp/bench_inspection/fed.db once
    python bench/inspection_pack.py --url postgresql+psycopg://postgres@127.0.0.1:5432/somedb --practice Z90003

Each figure is one click on the page: gather the evidence (queries through the engine), draw the charts (PDF only),
lay out the file, write the audit row. Wall-clock seconds are what a user waits; CPU seconds are printed beside them
because on a busy machine the wall clock also measures everyone else.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "sqlite:////tmp/bench_inspection/fed.db"
TARGET_SECONDS = 10.0


def _ensure_demo(url: str) -> None:
    from sqlalchemy import func, inspect, select

    from data_layer import demo
    from data_layer import models as m
    from data_layer.config import load_config
    from data_layer.db import engine_for_new_or_current as get_engine

    if url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = get_engine(url)
    with engine.connect() as conn:
        has = "practices" in inspect(conn).get_table_names() and conn.execute(
            select(func.count()).select_from(m.Practice)).scalar_one() > 0
    if not has:
        print("Building the demo federation…", flush=True)
        demo.build(engine, load_config())
    elif not demo.is_demo(engine):
        raise SystemExit(f"{url} holds real data; point --url at a demo or empty database")


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--practice", default="Z90001")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (the fastest is reported)")
    args = parser.parse_args(argv)

    _ensure_demo(args.url)
    from data_layer.config import load_config
    from data_layer.db import get_engine
    from data_layer.exports import FORMATS, charts, export_inspection, render
    from data_layer.exports.inspection import build_pack
    from data_layer.scope import SYSTEM

    engine, config = get_engine(args.url), load_config()
    build_pack(engine, config, SYSTEM, args.practice)  # warm up: imports, font and connection caches

    print(f"Database: {args.url.split('@')[-1]}  ·  {os.cpu_count()} CPUs  ·  load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'pack':<22}{'format':<8}{'seconds':>9}{'cpu s':>8}{'size':>10}")
    practice_pdf = None
    for label, code in ((f"practice {args.practice}", args.practice), ("federation", None)):
        for fmt in FORMATS:
            best = None
            for _ in range(max(args.repeat, 1)):
                result, wall, cpu = _timed(lambda: export_inspection(engine, config, SYSTEM, code, fmt,
                                                                     channel="benchmark"))
                if best is None or wall < best[1]:
                    best = (result, wall, cpu)
            result, wall, cpu = best
            print(f"{label:<22}{fmt:<8}{wall:>9.2f}{cpu:>8.2f}{len(result.content) / 1024:>8,.0f} KB", flush=True)
            if code and fmt == "pdf":
                practice_pdf = wall
    # where a practice PDF's time goes
    pack, t_build, _ = _timed(lambda: build_pack(engine, config, SYSTEM, args.practice))
    _, t_charts, _ = _timed(lambda: charts.render_all(pack))
    _, t_layout, _ = _timed(lambda: render(pack, "pdf"))
    print(f"practice PDF, step by step: evidence {t_build:.2f} s, {len(pack.charts)} charts {t_charts:.2f} s "
          f"({t_charts / max(len(pack.charts), 1) * 1000:.0f} ms each), layout {t_layout:.2f} s")
    ok = practice_pdf is not None and practice_pdf < TARGET_SECONDS
    print(f"Target: a practice PDF with every chart in under {TARGET_SECONDS:.0f} s: "
          f"{'met' if ok else 'NOT met'} ({practice_pdf:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
