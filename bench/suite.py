"""Benchmark: the test suite's own time, as CI runs it (the README's test command, both backends when a PostgreSQL
URL is given). Target: under 8 minutes on this machine's two cores.

    python bench/suite.py                                                          # SQLite only
    python bench/suite.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test   # both (a fresh database beside it)

Prints the wall time, the CPU the run used (pytest and its workers), the load average before and after, the outcome
line and the slowest tests, and writes bench/out/suite.json.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_json  # noqa: E402

TARGET_S = 8 * 60


def _fresh_pg(url: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"suite_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default="", help="a PostgreSQL server's URL: the suite runs on both backends")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (e.g. a test file)")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    drop = lambda: None  # noqa: E731
    if args.pg:
        env["TEST_DATABASE_URL"], drop = _fresh_pg(args.pg)
    cmd = [sys.executable, "-m", "pytest", "--durations=15", "-q", *args.pytest_args]
    load_before = os.getloadavg()
    wall = time.perf_counter()
    try:
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        drop()
    wall = time.perf_counter() - wall
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    text = out.stdout + out.stderr
    outcome = next((line.strip("= ") for line in reversed(text.splitlines()) if re.search(r"\d+ (passed|failed)", line)),
                   "no outcome line")
    slowest = [line.strip() for line in text.splitlines() if re.match(r"^\s*\d+\.\d+s (call|setup|teardown)", line)]
    met = wall < TARGET_S and out.returncode == 0
    print(f"Test suite ({'SQLite and PostgreSQL' if args.pg else 'SQLite'}): {wall / 60:.1f} min wall, "
          f"{cpu / 60:.1f} CPU-min, load average {load_before[0]:.1f} before and {os.getloadavg()[0]:.1f} after; "
          f"{outcome}")
    print("Slowest:\n  " + "\n  ".join(slowest[:15]))
    print(f"Target: under {TARGET_S // 60} min: {'met' if met else 'not met'} ({wall / 60:.1f} min)")
    path = write_json("suite", {"backends": ["sqlite", "postgresql"] if args.pg else ["sqlite"],
                                "wall_s": wall, "cpu_s": cpu, "returncode": out.returncode, "outcome": outcome,
                                "load_average_before": load_before, "slowest": slowest, "target_s": TARGET_S})
    print(f"Wrote {path.relative_to(ROOT)}")
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
