"""Each page's server time on an ICB-sized database, as each role, with the heaviest filters.

For every page a role may open (``ui.navigation.pages_for``: new pages are picked up as they are added) the page is run
through Streamlit's AppTest, in this process:

* **cold**: every ``st.cache_data`` cache emptied first (as after a deploy, or when the cache ttl has run out);
* **warm**: the same page run again (median of ``--warm`` runs), as the next person to open it sees it;
* **SQL in page**: the time the page's cold run spent inside the database driver (SQLAlchemy cursor events);
* **bare SQL**: every distinct read statement the cold run sent, replayed once on a raw DBAPI cursor with every row
  fetched: the database's own limit for what the page asks. **cold ÷ bare** says how close the page is to it
  (target: within 2×).

Heaviest filters: every practice, the longest history (60 months), the latest month. Targets: warm < 0.5 s, cold < 3 s,
process memory < 1.5 GB. Prints a table and writes ``bench/out/pages-<backend>.json``.

    python bench/pages.py                                   # SQLite, /tmp/scale/icb.db (built first if missing)
    python bench/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/icb
    python bench/pages.py --roles board --pages quality --profile   # where a cold run's time goes (cProfile)
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_SQLITE, ICB, ROOT, SqlClock, backend_name, ensure_icb, peak_rss_mb,  # noqa: E402
                     redact, replay_bare, rss_mb, table, write_json)

TARGET_WARM, TARGET_COLD, TARGET_RATIO, TARGET_MEMORY_MB, TARGET_PAGE_MB = 0.5, 3.0, 2.0, 1536, 1.0
DEMO_EMAILS = {"admin": "admin@demo.invalid", "board": "board@demo.invalid", "practice_lead": "lead@demo.invalid",
               "viewer": "viewer@demo.invalid"}
HEAVIEST = {"months": "60"}  # every practice (no practice or PCN filter), 60 months up to the latest month


def _streamlit_as_served() -> None:
    """AppTest resets PagesManager.uses_pages_directory before every run; the real server keeps it False once
    st.navigation is called (tests/conftest.py does the same)."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def _warm_imports() -> None:
    """Import what the pages import, so the first page measured does not pay for Python's module loading."""
    import importlib

    for name in ("plotly.graph_objects", "plotly.express", "ui.charts", "ui.views", "ui.training_feedback",
                 "data_layer.views", "data_layer.training", "data_layer.feedback"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def page_mb(at) -> float:
    """What the page's run sent to the browser, in MB: every element's protobuf message as the script left the page
    (the tables' Arrow bytes and the charts' JSON included; the ForwardMsg envelopes and Streamlit's static files
    not)."""
    total = 0

    def walk(node) -> None:
        nonlocal total
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ByteSize") and not children:
            total += proto.ByteSize()

    walk(at._tree)
    return total / 1e6


def _errors(at) -> list[str]:
    return [str(e.value)[:300] for e in at.exception]


class ThreadProfile:
    """cProfile of the script thread AppTest starts for one run (cProfile only sees the thread that enabled it)."""

    def __init__(self):
        self.profile = cProfile.Profile()
        self._started = False

    def __enter__(self):
        def start(*_args):
            if not self._started and threading.current_thread().name.startswith("ScriptRunner"):
                self._started = True
                threading.setprofile(None)
                sys.setprofile(None)
                self.profile.enable()
            elif not self._started:
                sys.setprofile(None)  # another thread (e.g. a Streamlit worker): leave it alone

        threading.setprofile(start)
        return self

    def __exit__(self, *exc):
        threading.setprofile(None)

    def report(self, top: int = 25) -> str:
        out = io.StringIO()
        stats = pstats.Stats(self.profile, stream=out)
        stats.sort_stats("cumulative").print_stats(str(ROOT), top)  # the project's functions only
        text = out.getvalue()
        return text[text.find("   ncalls"):] if "   ncalls" in text else text


def bench_role(role: str, pages: list[str] | None, warm_runs: int, clock: SqlClock, engine, timeout: float,
               profile: bool) -> list[dict]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ui.navigation import pages_for

    _warm_imports()

    specs = [p for p in pages_for(role) if not pages or p.url_path in pages]
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
    for k, v in HEAVIEST.items():
        at.query_params[k] = v
    at.session_state["demo_user"] = DEMO_EMAILS[role]
    rows = []
    for spec in specs:
        st.cache_data.clear()
        clock.reset()
        prof = ThreadProfile() if profile else None
        at.switch_page(spec.path)  # before the role's first run too: no other page runs (and fills caches) first
        t = time.perf_counter()
        if prof:
            with prof:
                at.run()
        else:
            at.run()
        cold = time.perf_counter() - t
        errors = _errors(at)
        sql_in_page, statements = clock.seconds, list(clock.statements)
        warm = []
        warm_prof = None
        for i in range(warm_runs):
            t = time.perf_counter()
            if profile and i == 0:
                warm_prof = ThreadProfile()
                with warm_prof:
                    at.run()
            else:
                at.run()
            warm.append(time.perf_counter() - t)
            errors += _errors(at)
        # the first view of a second person with the same role: a new session (its own session state, nothing of
        # the first person's) after the first person has filled the shared caches
        second = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
        for k, v in HEAVIEST.items():
            second.query_params[k] = v
        second.session_state["demo_user"] = DEMO_EMAILS[role]
        second.switch_page(spec.path)
        t = time.perf_counter()
        second.run()
        second_s = time.perf_counter() - t
        errors += _errors(second)
        bare = replay_bare(engine, statements)
        row = {
            "role": role, "page": spec.url_path, "cold_s": cold, "warm_s": statistics.median(warm) if warm else None,
            "sql_in_page_s": sql_in_page, "bare_sql_s": bare["seconds"], "reads": bare["reads"],
            "distinct_reads": bare["distinct"], "rows_fetched": bare["rows"],
            "cold_over_bare": cold / bare["seconds"] if bare["seconds"] > 0 else None,
            "second_person_s": second_s, "page_mb": page_mb(at),
            "rss_mb": rss_mb(), "errors": errors[:3],
        }
        row["verdict"] = _verdict(row)
        rows.append(row)
        print(f"  {role:<14}{spec.url_path:<12} cold {cold:6.2f} s  warm {row['warm_s'] or 0:6.2f} s  "
              f"sql {sql_in_page:5.2f} s  bare {bare['seconds']:5.2f} s ({bare['distinct']}/{bare['reads']} reads)"
              f"  second person {second_s:5.2f} s  {row['page_mb']:.2f} MB  {row['verdict']}", flush=True)
        if prof:
            print("Cold run, the project's code:\n" + prof.report())
        if warm_prof:
            print("Warm run, the project's code:\n" + warm_prof.report())
    return rows


def _verdict(row: dict) -> str:
    misses = []
    if row["errors"]:
        return "ERROR"
    if row["cold_s"] >= TARGET_COLD:
        misses.append("cold")
    if row["warm_s"] is not None and row["warm_s"] >= TARGET_WARM:
        misses.append("warm")
    if row["cold_over_bare"] is not None and row["cold_over_bare"] > TARGET_RATIO:
        misses.append(">2x")
    if row["warm_s"] and row["second_person_s"] > TARGET_RATIO * max(row["warm_s"], 0.05):
        misses.append("second person")
    if row["page_mb"] > TARGET_PAGE_MB:
        misses.append(">1MB")
    return "ok" if not misses else "miss: " + ",".join(misses)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SQLITE))
    ap.add_argument("--roles", default="board,practice_lead,viewer,admin")
    ap.add_argument("--pages", default="", help="url paths, comma separated (default: every page of each role)")
    ap.add_argument("--warm", type=int, default=3, help="warm runs per page (median reported)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds one page run may take")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of each cold run (slower)")
    ap.add_argument("--practices", type=int, default=ICB["practices"])
    ap.add_argument("--months", type=int, default=ICB["months"])
    ap.add_argument("--out", default="", help="name of the JSON file in bench/out (default pages-<backend>)")
    args = ap.parse_args(argv)

    url = args.database_url
    built = ensure_icb(url, args.practices, args.months)
    os.environ["DATABASE_URL"] = url
    os.chdir(ROOT)
    _streamlit_as_served()

    from data_layer.db import get_engine

    engine = get_engine(url)  # the same engine object the app's cache_resource will get in this process
    clock = SqlClock(engine)
    print(f"Pages on {redact(url)} ({backend_name(url)}), heaviest filters {HEAVIEST}, {args.warm} warm runs")
    rows = []
    pages = [p for p in args.pages.split(",") if p]
    for role in [r for r in args.roles.split(",") if r]:
        rows += bench_role(role, pages, args.warm, clock, engine, args.timeout, args.profile)
    peak = peak_rss_mb()
    print()
    print(table(rows, [("role", "role"), ("page", "page"), ("cold_s", "cold s"), ("warm_s", "warm s"),
                       ("sql_in_page_s", "SQL in page s"), ("bare_sql_s", "bare SQL s"), ("distinct_reads", "reads"),
                       ("cold_over_bare", "cold/bare"), ("second_person_s", "2nd person s"),
                       ("page_mb", "MB"), ("verdict", "targets")]))
    print(f"\nPeak memory of the app process (AppTest, in this process): {peak:,.0f} MB "
          f"({'ok' if peak < TARGET_MEMORY_MB else 'MISS'}: target < {TARGET_MEMORY_MB:,} MB)")
    summary = {
        "pages": len(rows),
        "worst_cold_s": max((r["cold_s"] for r in rows), default=None),
        "worst_warm_s": max((r["warm_s"] or 0 for r in rows), default=None),
        "worst_cold_over_bare": max((r["cold_over_bare"] or 0 for r in rows), default=None),
        "worst_second_over_warm": max((r["second_person_s"] / max(r["warm_s"] or 0, 0.05) for r in rows),
                                      default=None),
        "worst_page_mb": max((r["page_mb"] for r in rows), default=None),
        "peak_rss_mb": peak,
        "errors": sum(bool(r["errors"]) for r in rows),
        "misses": [f"{r['role']}/{r['page']}: {r['verdict']}" for r in rows if r["verdict"] != "ok"],
    }
    print("Summary:", {k: v for k, v in summary.items() if k != "misses"})
    path = write_json(args.out or f"pages-{backend_name(url)}", {
        "database": redact(url), "backend": backend_name(url), "filters": HEAVIEST, "warm_runs": args.warm,
        "targets": {"warm_s": TARGET_WARM, "cold_s": TARGET_COLD, "cold_over_bare": TARGET_RATIO,
                    "second_over_warm": TARGET_RATIO, "page_mb": TARGET_PAGE_MB, "memory_mb": TARGET_MEMORY_MB},
        "built": built, "summary": summary, "rows": rows})
    print(f"Wrote {path.relative_to(ROOT)}")
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
