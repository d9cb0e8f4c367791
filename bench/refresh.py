"""Benchmark: how long the measure store takes to work out again on the ICB-sized demo, whole and after one import.

    python bench/refresh.py --database-url sqlite:////tmp/icb/icb_copy.db     # a COPY: the refresh writes
    python bench/refresh.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/icb_bench

Runs: the whole store (every derived indicator, every practice, PCN and the federation, every month judged), then
the refresh an import of each kind causes (``sources``: what the import feeds). Target: a one-month import for 200
practices refreshes in under 30 s. Prints wall and CPU seconds of this process (the database server's own CPU is
not in it: on PostgreSQL compare wall), the load average, and writes bench/out/refresh-<backend>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 30.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--kinds", default="whole,fft,training,complaints,indicators,import-month",
                   help="'import-month': import one month of FFT responses for every practice (the real path: "
                        "the import, then the refresh it causes)")
    args = p.parse_args()
    from data_layer.config import load_config
    from data_layer.db import make_engine
    from data_layer.measures.refresh import refresh

    engine, config = make_engine(args.database_url), load_config()
    backend = engine.dialect.name
    rows = []
    for kind in args.kinds.split(","):
        if kind == "import-month":
            rows.append(_import_month(engine, config))
            continue
        sources = None if kind == "whole" else {kind}
        wall, cpu = time.perf_counter(), time.process_time()
        result = refresh(engine, config, reason=f"bench ({kind})", sources=sources)
        row = {"run": kind, "wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(time.process_time() - cpu, 1),
               "stages_s": {k: round(v, 1) for k, v in result.seconds.items()}, "values": result.values,
               "evaluations": result.evaluations, "load_average": os.getloadavg()}
        row["target"] = "—" if kind == "whole" else ("met" if row["wall_s"] < TARGET_S else "not met")
        rows.append(row)
        print(f"{backend:<11}{kind:<12}{row['wall_s']:>8.1f} s wall{row['cpu_s']:>8.1f} s CPU  {row['target']:<8} "
              f"stages {row['stages_s']}  load {row['load_average'][0]:.1f}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB; target: an import's refresh under {TARGET_S:.0f} s")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"refresh-{backend}.json").write_text(json.dumps({"runs": rows, "peak_mb": peak}, indent=2))
    return 0


def _import_month(engine, config) -> dict:
    """One month of FFT responses for every practice (about 27,000 at ICB size), imported as a practice manager's
    monthly files would be, into the latest month the store holds."""
    import tempfile

    import numpy as np
    import pandas as pd
    from sqlalchemy import select

    from data_layer import models as m
    from data_layer.imports import run_import
    from data_layer.measures.store import latest_month
    from data_layer.scope import Viewer

    with engine.connect() as conn:
        codes = [c for (c,) in conn.execute(select(m.Practice.code).where(m.Practice.active.is_(True)))]
    month = pd.Timestamp(latest_month(engine))
    rng = np.random.default_rng(11)
    n = 135 * len(codes)
    frame = pd.DataFrame({
        "practice_code": np.repeat(codes, 135), "response_id": [f"bench-{i}" for i in range(n)],
        "response_date": (month + pd.to_timedelta(rng.integers(0, 28, n), unit="D")).strftime("%d/%m/%Y"),
        "rating": np.array(["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"],
                           dtype=object)[rng.choice(6, n, p=[0.62, 0.24, 0.05, 0.03, 0.04, 0.02])],
        "comment": np.where(rng.random(n) < 0.4, "Bench comment about the phone and the waiting room", ""),
        "mode": "SMS",
    })
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        frame.to_csv(fh, index=False)
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_import(engine, config, Viewer("bench@example.invalid", "admin"), fh.name)
    row = {"run": "import-month", "rows": int(result.rows), "new": int(result.new), "wall_s": round(
        time.perf_counter() - wall, 1), "cpu_s": round(time.process_time() - cpu, 1),
        "refresh_s": round(result.derived_seconds or 0.0, 1), "load_average": os.getloadavg(),
        "errors": int(result.errors)}
    row["target"] = "met" if row["refresh_s"] < TARGET_S else "not met"
    print(f"{engine.dialect.name:<11}import-month {row['rows']:,} rows in {row['wall_s']} s wall "
          f"({row['cpu_s']} s CPU), of which the refresh {row['refresh_s']} s: {row['target']}  "
          f"load {row['load_average'][0]:.1f}", flush=True)
    return row


if __name__ == "__main__":
    raise SystemExit(main())
