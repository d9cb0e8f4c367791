"""Time to generate the ICB-sized demo federation (200 practices, 60 months) and write it, on SQLite and on
PostgreSQL: the generator, the bulk write (COPY on PostgreSQL, executemany on SQLite) and the derived indicators.
Prints a table and writes ``bench/out/demo_build.json``. No target in the issue; this is the fresh-clone cost of the
other benchmarks' database.

    python bench/demo_build.py                                       # SQLite under /tmp/scale/
    python bench/demo_build.py --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/demo_build.py --practices 50 --months 36            # a smaller federation

With --postgresql a new database is created beside the one named (and dropped afterwards unless --keep).
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ICB, ROOT, cpu_seconds, peak_rss_mb, redact, table, write_json  # noqa: E402


def build(url: str, practices: int, months: int, seed: int) -> dict:
    from data_layer import demo
    from data_layer.config import load_config
    from data_layer.db import engine_for_new_or_current as get_engine

    engine = get_engine(url)
    t, cpu = time.perf_counter(), cpu_seconds()
    summary = demo.build(engine, load_config(), n_practices=practices, months=months, seed=seed,
                         progress=lambda m: print("  " + m, flush=True))
    total, cpu = time.perf_counter() - t, cpu_seconds() - cpu
    engine.dispose()
    return {"total_s": total, "this_process_cpu_s": cpu, **{f"{k}_s": v for k, v in summary.seconds.items()},
            "practices": summary.practices, "staff": summary.staff, "fft_responses": summary.fft_responses,
            "training_completions": summary.training_completions, "indicator_values": summary.indicator_values,
            "complaints": summary.complaints, "significant_events": summary.significant_events}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sqlite", default="", help="SQLite file (default /tmp/scale/demo_build_<id>.db, removed after)")
    ap.add_argument("--postgresql", default="", help="URL of an existing PostgreSQL database to create one beside")
    ap.add_argument("--keep", action="store_true", help="keep the databases built")
    ap.add_argument("--practices", type=int, default=ICB["practices"])
    ap.add_argument("--months", type=int, default=ICB["months"])
    ap.add_argument("--seed", type=int, default=ICB["seed"])
    args = ap.parse_args(argv)

    rows = []
    path = Path(args.sqlite or f"/tmp/scale/demo_build_{uuid.uuid4().hex[:8]}.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"SQLite: {path}")
    rows.append({"backend": "sqlite", **build(f"sqlite:///{path}", args.practices, args.months, args.seed)})
    if not args.keep and not args.sqlite:
        for p in path.parent.glob(path.name + "*"):
            p.unlink()

    if args.postgresql:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        base = make_url(args.postgresql)
        name = f"bench_demo_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        print(f"PostgreSQL: {redact(url)}")
        try:
            rows.append({"backend": "postgresql", **build(url, args.practices, args.months, args.seed)})
        finally:
            from data_layer.db import dispose_engines

            dispose_engines()
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    print()
    print(table(rows, [("backend", "backend"), ("total_s", "total s"), ("generate_s", "generate s"),
                       ("write_s", "write s"), ("derive_s", "derive s"), ("this_process_cpu_s", "CPU s (python)"),
                       ("fft_responses", "FFT responses"), ("staff", "staff"),
                       ("training_completions", "training"), ("indicator_values", "indicator values")]))
    print(f"Peak memory of this process: {peak_rss_mb():,.0f} MB")
    out = write_json("demo_build", {"practices": args.practices, "months": args.months, "seed": args.seed,
                                    "peak_rss_mb": peak_rss_mb(), "rows": rows})
    print(f"Wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
