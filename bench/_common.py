"""Shared by the benchmark scripts: the ICB-sized database, timing SQL on an engine, memory, and the output table."""
from __future__ import annotations

import json
import os
import platform
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The ICB: 200 practices, 60 months (about 1.6M FFT responses, 5,000 staff, 230k training completions).
ICB = {"practices": 200, "months": 60, "seed": 7}
DEFAULT_SQLITE = "sqlite:////tmp/scale/icb.db"


def backend_name(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def practice_count(url: str) -> int:
    from sqlalchemy import func, inspect, select

    from data_layer import models as m
    from data_layer.db import make_engine

    engine = make_engine(url)
    try:
        if "practices" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(m.Practice)).scalar_one()
    finally:
        engine.dispose()


def ensure_icb(url: str, practices: int = ICB["practices"], months: int = ICB["months"], seed: int = ICB["seed"],
               say=print) -> dict | None:
    """Build the ICB-sized demo federation in ``url`` unless it already holds one of that size.
    Returns the build's timings when it built."""
    have = practice_count(url)
    if have == practices:
        return None
    if have and not _is_demo(url):
        raise SystemExit(f"{url} holds a federation's real data ({have} practices): refusing to replace it")
    from data_layer import demo
    from data_layer.config import load_config
    from data_layer.db import engine_for_new_or_current as get_engine

    say(f"Building the ICB-sized demo federation ({practices} practices, {months} months) in {redact(url)}…")
    t = time.perf_counter()
    summary = demo.build(get_engine(url), load_config(), n_practices=practices, months=months, seed=seed,
                         progress=lambda m: say("  " + m))
    say(f"  built in {time.perf_counter() - t:.0f} s")
    return {"seconds": summary.seconds, "fft_responses": summary.fft_responses, "staff": summary.staff,
            "training_completions": summary.training_completions, "indicator_values": summary.indicator_values}


def _is_demo(url: str) -> bool:
    from data_layer.db import make_engine
    from data_layer.demo import is_demo

    engine = make_engine(url)
    try:
        return is_demo(engine)
    finally:
        engine.dispose()


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class SqlClock:
    """Counts the time spent inside the database driver (SQLAlchemy's before/after_cursor_execute) and keeps the
    statements, so they can be replayed bare afterwards."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.lock = threading.Lock()
        self.reset()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.seconds = 0.0
        self.statements: list[tuple[str, object, bool]] = []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = conn.info["_bench_started"].pop()
        with self.lock:
            self.seconds += time.perf_counter() - started
            self.statements.append((statement, parameters, executemany))


def replay_bare(engine, statements) -> dict:
    """Run each distinct read statement once on a raw DBAPI cursor and fetch every row: the database's own time
    for what the page asked of it, without SQLAlchemy, pandas or Streamlit."""
    seen: dict[tuple, tuple] = {}
    reads = 0
    for stmt, params, many in statements:
        if many or not _is_read(stmt):
            continue
        reads += 1
        seen.setdefault((stmt, repr(params)), (stmt, params))
    raw = engine.raw_connection()
    total, rows = 0.0, 0
    try:
        cur = raw.cursor()
        for stmt, params in seen.values():
            t = time.perf_counter()
            cur.execute(stmt, params) if params else cur.execute(stmt)
            rows += len(cur.fetchall())
            total += time.perf_counter() - t
        cur.close()
        raw.rollback()
    finally:
        raw.close()
    return {"seconds": total, "distinct": len(seen), "reads": reads, "rows": rows}


def _is_read(stmt: str) -> bool:
    words = stmt.split(None, 1)
    return bool(words) and words[0].upper() in ("SELECT", "WITH")


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process now, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")


def peak_rss_mb(pid: int | str = "self") -> float:
    """Highest resident memory the process has had (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")


def cpu_seconds(pid: int | str = "self", tree: bool = False) -> float:
    """User + system CPU time a process has used (with ``tree``: and every live descendant), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / ticks
        if tree:
            real = pid if pid != "self" else os.getpid()
            for child in Path(f"/proc/{real}/task/{real}/children").read_text().split():
                total += cpu_seconds(int(child), tree=True)
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        pass
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (streamlit has none, but be safe)."""
    total = rss_mb(pid)
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += tree_rss_mb(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average": os.getloadavg()}


def write_json(name: str, payload: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
               **payload}
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A plain-text table: columns are (key, heading)."""
    cells = [[h for _k, h in columns]] + [[_fmt(r.get(k)) for k, _h in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:
            return "–"
        return f"{v:.2f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)
