"""Every ICB-scale target with its latest figure on each backend and whether it is met: read from the JSON the other
scripts wrote to bench/out/ (this script measures nothing itself).

    python bench/targets.py            # the table
    python bench/targets.py --json     # the same as JSON

A target with no figure says which script measures it. Each figure carries the load average it was taken at: the
machine is shared, so a figure taken at a high load is an upper bound.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT  # noqa: E402

BACKENDS = ("sqlite", "postgresql")


def _read(name: str) -> dict | None:
    path = OUT / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _load(doc: dict, default=None) -> str:
    load = (doc.get("machine") or {}).get("load_average") or default
    when = (doc.get("measured_at") or "")[:16].replace("T", " ")
    return f"load {load[0]:.1f}, {when}" if load else when


def _cell(figure: str, ok: bool | None, doc: dict | None) -> dict:
    return {"figure": figure, "met": ok, "when": _load(doc) if doc else ""}


def _pages(backend: str) -> dict[str, dict]:
    doc = _read(f"pages-{backend}")
    if not doc:
        return {}
    rows = doc["rows"]
    t = doc["targets"]

    def worst(key, fmt, limit, higher_is_worse=True):
        have = [r for r in rows if r.get(key) is not None]
        if not have:
            return _cell("not measured", None, doc)
        r = max(have, key=lambda x: x[key])
        return _cell(f"{fmt.format(r[key])} ({r['role']} {r['page']})", r[key] < limit, doc)

    second = [r for r in rows if r.get("second_person_s") is not None and r.get("warm_s")]
    ratio = max(second, key=lambda r: r["second_person_s"] / max(r["warm_s"], 0.05)) if second else None
    bare = [r for r in rows if r.get("cold_over_bare") is not None]
    over = [r for r in bare if r["cold_over_bare"] > t["cold_over_bare"]]
    out = {
        "cold": worst("cold_s", "{:.2f} s", t["cold_s"]),
        "warm": worst("warm_s", "{:.2f} s", t["warm_s"]),
        "bare": _cell(f"{len(bare) - len(over)} of {len(bare)} pages within 2x" +
                      (f" (worst {max(bare, key=lambda r: r['cold_over_bare'])['cold_over_bare']:.0f}x)" if bare else ""),
                      not over if bare else None, doc),
        "second": _cell(f"{ratio['second_person_s'] / max(ratio['warm_s'], 0.05):.1f}x warm ({ratio['role']} "
                        f"{ratio['page']})" if ratio else "not measured", (ratio['second_person_s'] <= 2 * max(
                            ratio['warm_s'], 0.05)) if ratio else None, doc),
        "memory_pages": _cell(f"{doc['summary']['peak_rss_mb']:,.0f} MB (AppTest process)",
                              doc["summary"]["peak_rss_mb"] < t["memory_mb"], doc),
    }
    if any("page_mb" in r for r in rows):
        out["mb"] = worst("page_mb", "{:.2f} MB", t.get("page_mb", 1.0) + 1e-9)
    return out


def _import(backend: str) -> dict[str, dict]:
    doc = _read("import-fft")
    if not doc:
        return {}
    runs = [r for r in doc["runs"] if r["backend"] == backend and r["run"] == "first import"]
    if not runs:
        return {}
    r = runs[-1]
    fig = (f"{r['rows_per_s_with_refresh']:,.0f} rows/s with refresh ({r['rows_per_s_import']:,.0f} without), "
           f"{r['rows']:,} rows")
    return {"import": _cell(fig, r["rows_per_s_with_refresh"] >= doc["target_rows_per_s"], doc)}


def _refresh(backend: str) -> dict[str, dict]:
    doc = _read(f"refresh-{backend}")
    if not doc:
        return {}
    month = [r for r in doc["runs"] if r["run"] == "import-month"]
    if not month:
        return {}
    r = month[-1]
    cell = _cell(f"{r['refresh_s']:.1f} s refresh of {r['rows']:,} rows", r["refresh_s"] < 30, doc)
    cell["when"] = f"load {r['load_average'][0]:.1f}"
    return {"refresh": cell}


def _load_ws(backend: str) -> dict[str, dict]:
    doc = _read(f"load-ws-{backend}")
    if not doc:
        return {}
    s, t = doc["summary"], doc["summary"]["targets"]
    shape = f"{s['sessions']} sessions x {s['rounds']} rounds"
    growth = [g for g in s["rss_growth_mb"].values() if g is not None]
    peak = max((v for v in s["peak_rss_mb"].values() if v), default=0)
    when = f"load {doc['load_average_start'][0]:.1f}-{s['load_average_end'][0]:.1f}, {doc['measured_at'][:16]}"
    cells = {
        "p95": _cell(f"{s['p95_s']:.1f} s ({shape}, {s['server_cpu_per_step_s'] or 0:.2f} server CPU-s per view)",
                     t["p95_under_5s"], doc),
        "errors": _cell(f"{s['errors']} errors, control {s['control_errors']} errors in {s['control_steps']} steps",
                        t["zero_errors"], doc),
        "flat": _cell(f"{max(growth):+.0f} MB round 2 to last" if growth else "fewer than 3 rounds",
                      t["memory_flat"], doc),
        "mb_ws": _cell(f"{s['max_mb_per_page']:.2f} MB (on the wire)", t["at_most_1mb_per_page"], doc),
        "memory_server": _cell(f"{peak:,.0f} MB peak", t["under_1_5gb_per_server"], doc),
    }
    for c in cells.values():
        c["when"] = when
    return cells


def _suite() -> dict | None:
    doc = _read("suite")
    if not doc:
        return None
    return _cell(f"{doc['wall_s'] / 60:.1f} min ({'+'.join(doc['backends'])}; {doc['outcome']})",
                 doc["wall_s"] < doc["target_s"] and doc["returncode"] == 0, doc)


TARGETS = [  # (key, words, where the figure comes from)
    ("cold", "every page cold < 3 s", "pages"),
    ("warm", "every page warm < 0.5 s", "pages"),
    ("bare", "cold within 2x of the page's bare reads", "pages"),
    ("second", "a second person's first view within 2x of warm", "pages"),
    ("mb", "<= 1 MB sent by any page", "pages"),
    ("mb_ws", "<= 1 MB per page, 20 sessions", "load_ws"),
    ("import", "1,000,000 FFT rows >= 100,000 rows/s with the refresh", "import_fft"),
    ("refresh", "one-month import for 200 practices refreshed < 30 s", "refresh"),
    ("p95", "20 concurrent sessions: p95 < 5 s", "load_ws"),
    ("errors", "20 concurrent sessions: zero errors", "load_ws"),
    ("flat", "server memory flat over 5 rounds", "load_ws"),
    ("memory_server", "one server's memory < 1.5 GB", "load_ws"),
    ("memory_pages", "one app process's memory < 1.5 GB (pages)", "pages"),
]
SCRIPTS = {"pages": "bench/pages.py", "load_ws": "bench/load_ws.py", "import_fft": "bench/import_fft.py",
           "refresh": "bench/refresh.py", "suite": "bench/suite.py"}


def scoreboard() -> list[dict]:
    per = {b: {**_pages(b), **_import(b), **_refresh(b), **_load_ws(b)} for b in BACKENDS}
    rows = []
    for key, words, source in TARGETS:
        row = {"target": words}
        for b in BACKENDS:
            row[b] = per[b].get(key) or {"figure": f"not measured ({SCRIPTS[source]})", "met": None, "when": ""}
        rows.append(row)
    suite = _suite() or {"figure": "not measured (bench/suite.py)", "met": None, "when": ""}
    rows.append({"target": "test suite < 8 min on two cores (both backends in one run)", "sqlite": suite,
                 "postgresql": suite})
    return rows


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "NOT MET")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = scoreboard()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(row["target"])
        for b in BACKENDS:
            c = row[b]
            print(f"  {b:<11} {_verdict(c['met']):<8} {c['figure']}" + (f"  [{c['when']}]" if c["when"] else ""))
    met = sum(1 for r in rows for b in BACKENDS if r[b]["met"])
    measured = sum(1 for r in rows for b in BACKENDS if r[b]["met"] is not None)
    print(f"\n{met} of {measured} measured figures meet their target; "
          f"{sum(1 for r in rows for b in BACKENDS if r[b]['met'] is None)} not measured.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
