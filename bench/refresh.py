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
    p.add_argument("--kinds", default="whole,fft,training,complaints,indicators")
    args = p.parse_args()
    from data_layer.config import load_config
    from data_layer.db import make_engine
    from data_layer.measures.refresh import refresh

    engine, config = make_engine(args.database_url), load_config()
    backend = engine.dialect.name
    rows = []
    for kind in args.kinds.split(","):
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


if __name__ == "__main__":
    raise SystemExit(main())
