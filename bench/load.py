"""Concurrent users: N real Chromium sessions at once (Playwright browser contexts on Debian's /usr/bin/chromium)
against a running `streamlit run` server, each opening the dashboard as a demo role and going through the overview,
quality, training and feedback pages, in repeated rounds while the server's memory is watched.

For each step the time until the app is idle is measured (the page is open, or after a click the URL has changed and
then ``[data-testid="stApp"][data-test-script-state="notRunning"]`` holds). Reports p50 / p95 per step and overall,
errors (Streamlit exceptions, browser errors, timeouts), and the server's resident memory per round.
Targets: 20 sessions, p95 < 5 s, zero errors, no memory growth over 5 rounds (caches bounded by ttl/max_entries).

    python bench/load.py                                   # starts its own server on the ICB SQLite database
    python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/icb
    python bench/load.py --url http://127.0.0.1:8501 --server-pid 1234   # an already running server

Every loop is bounded: a fixed number of rounds and sessions, a timeout on every step and an overall deadline;
traffic goes to 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_SQLITE, ICB, ROOT, backend_name, cpu_seconds, ensure_icb, redact, rss_mb, table,  # noqa: E402
                     write_json)

CHROMIUM = "/usr/bin/chromium"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
ROLE_LABELS = {"board": "Board member", "practice_lead": "Practice lead", "viewer": "Viewer", "admin": "Administrator"}
TARGET_P95, TARGET_GROWTH_MB = 5.0, 50.0


def start_server(database_url: str, port: int, ttl: int | None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url}
    if ttl is not None:
        env["FEDERATION_CACHE_TTL"] = str(ttl)
    log = open(Path("/tmp") / f"bench-load-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc
        except Exception:
            if proc.poll() is not None:
                raise SystemExit(f"streamlit exited; see {log.name}")
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("streamlit did not start within 90 s")


async def wait_idle(page, timeout_ms: float) -> None:
    await page.wait_for_selector(IDLE, timeout=timeout_ms)
    await page.wait_for_timeout(250)
    await page.wait_for_selector(IDLE, timeout=timeout_ms)


async def session(browser, base: str, role: str, pages: list[tuple[str, str]], timeout_ms: float,
                  record, errors: list) -> None:
    """One person: open the dashboard, choose the demo role, then each page from the sidebar navigation."""
    ctx = await browser.new_context(viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(timeout_ms)  # clicks wait as long as a step may take, not Playwright's 30 s
    page = await ctx.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)[:200]))
    step = "open"
    try:
        t = time.perf_counter()
        await page.goto(base, timeout=timeout_ms)
        await wait_idle(page, timeout_ms)
        record(role, "open overview", time.perf_counter() - t)
        if role != "board":  # the demo opens as the board member
            step = "choose role"
            box = page.locator('[data-testid="stSelectbox"]').filter(has_text="View the dashboard as")
            t = time.perf_counter()
            await box.locator("input").click()
            await page.get_by_role("option", name=ROLE_LABELS[role], exact=False).first.click()
            await page.wait_for_timeout(100)
            await wait_idle(page, timeout_ms)
            record(role, "overview as role", time.perf_counter() - t)
        for url_path, title in pages:
            step = url_path
            t = time.perf_counter()
            await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            if url_path != "overview":
                await page.wait_for_url(f"**/{url_path}*", timeout=timeout_ms)
            await wait_idle(page, timeout_ms)
            record(role, url_path, time.perf_counter() - t)
            if await page.locator(EXCEPTION).count():
                errors.append(f"{role} {url_path}: " + (await page.locator(EXCEPTION).first.inner_text())[:200])
    except Exception as exc:  # a timeout or a broken page: count it, go on with the other sessions
        errors.append(f"{role} {step}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        errors.extend(f"{role}: browser error: {e}" for e in page_errors)
        await ctx.close()


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    from ui.navigation import PAGES

    titles = {p.url_path: p.title for p in PAGES}
    pages = [(p, titles[p]) for p in args.pages.split(",") if p in titles]
    roles = [r for r in args.roles.split(",") if r]
    samples: list[dict] = []
    rounds: list[dict] = []
    pid = args.server_pid

    async def watch(stop: asyncio.Event, peak: list[float]) -> None:
        while not stop.is_set():
            if pid:
                peak[0] = max(peak[0], rss_mb(pid))
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        try:
            if args.warmup:
                print("Warm-up: one session per role, one after another (fills the server's caches)…", flush=True)
                warm: list[dict] = []
                warm_errors: list[str] = []
                for role in roles:
                    await session(browser, args.url, role, pages, args.timeout * 1000,
                                  lambda r, s, sec: warm.append({"role": r, "step": s, "seconds": sec}), warm_errors)
                for w in warm:
                    print(f"  warm-up {w['role']:<14}{w['step']:<18}{w['seconds']:7.2f} s")
                rounds.append({"round": "warm-up", "errors": warm_errors, "rss_mb": rss_mb(pid) if pid else None,
                               "samples": warm})
            deadline = time.time() + args.deadline
            for r in range(1, args.rounds + 1):
                if time.time() > deadline:
                    print(f"Overall deadline of {args.deadline} s reached: stopping after {r - 1} rounds")
                    break
                got: list[dict] = []
                errors: list[str] = []
                stop, peak = asyncio.Event(), [rss_mb(pid) if pid else 0.0]
                watcher = asyncio.create_task(watch(stop, peak))
                server_cpu, client_cpu = cpu_seconds(pid) if pid else 0.0, cpu_seconds(tree=True)
                t = time.perf_counter()
                await asyncio.gather(*[
                    session(browser, args.url, roles[i % len(roles)], pages, args.timeout * 1000,
                            lambda role, step, sec: got.append({"round": r, "role": role, "step": step,
                                                                "seconds": sec}), errors)
                    for i in range(args.sessions)])
                wall = time.perf_counter() - t
                server_cpu = (cpu_seconds(pid) - server_cpu) if pid else None
                client_cpu = cpu_seconds(tree=True) - client_cpu
                stop.set()
                await watcher
                times = [g["seconds"] for g in got]
                entry = {"round": r, "sessions": args.sessions, "wall_s": wall, "steps": len(times),
                         "p50_s": _pct(times, 50), "p95_s": _pct(times, 95), "max_s": max(times, default=None),
                         "errors": errors, "rss_mb": rss_mb(pid) if pid else None,
                         "peak_rss_mb": peak[0] if pid else None, "server_cpu_s": server_cpu,
                         "browsers_cpu_s": client_cpu,
                         "server_cpu_per_step_s": server_cpu / len(times) if server_cpu and times else None}
                rounds.append(entry)
                samples += got
                print(f"Round {r}: {args.sessions} sessions in {wall:.1f} s; p50 {entry['p50_s'] or 0:.2f} s, "
                      f"p95 {entry['p95_s'] or 0:.2f} s; {len(errors)} errors; server RSS "
                      f"{entry['rss_mb'] or 0:,.0f} MB (peak {entry['peak_rss_mb'] or 0:,.0f} MB); CPU: server "
                      f"{server_cpu or 0:.0f} s ({entry['server_cpu_per_step_s'] or 0:.2f} s per step), browsers "
                      f"{client_cpu:.0f} s", flush=True)
                for e in errors[:5]:
                    print("   error:", e)
        finally:
            await browser.close()
    return {"pages": [p for p, _ in pages], "roles": roles, "rounds": rounds, "samples": samples}


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="", help="a running server (default: start one on --port)")
    ap.add_argument("--server-pid", type=int, default=0, help="its process id, to watch its memory")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SQLITE))
    ap.add_argument("--practices", type=int, default=ICB["practices"],
                    help="size of the demo federation to build when --database-url holds another size")
    ap.add_argument("--months", type=int, default=ICB["months"])
    ap.add_argument("--port", type=int, default=8652)
    ap.add_argument("--ttl", type=int, default=None, help="FEDERATION_CACHE_TTL for the server this script starts")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pages", default="overview,quality,training,feedback")
    ap.add_argument("--roles", default="board,practice_lead,viewer,admin")
    ap.add_argument("--timeout", type=float, default=180, help="seconds one step may take before it counts as an error")
    ap.add_argument("--deadline", type=float, default=3600, help="seconds for all rounds together")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false")
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)

    # `kill` (SIGTERM) ends the run through the finally below, so the server this script started stops too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit("stopped (SIGTERM)")))
    proc = None
    if not args.url:
        ensure_icb(args.database_url, args.practices, args.months)
        proc = start_server(args.database_url, args.port, args.ttl)
        args.url, args.server_pid = f"http://127.0.0.1:{args.port}", proc.pid
        print(f"Started streamlit (pid {proc.pid}) on {args.url} with {redact(args.database_url)}")
    if not args.url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("load is only ever sent to this machine (127.0.0.1 / localhost)")
    try:
        result = asyncio.run(run(args))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    measured = [r for r in result["rounds"] if r["round"] != "warm-up"]
    times = [s["seconds"] for s in result["samples"]]
    by_step = []
    for step in dict.fromkeys(s["step"] for s in result["samples"]):
        v = [s["seconds"] for s in result["samples"] if s["step"] == step]
        by_step.append({"step": step, "n": len(v), "p50_s": _pct(v, 50), "p95_s": _pct(v, 95), "max_s": max(v)})
    errors = sum(len(r["errors"]) for r in measured)
    rss = [r["rss_mb"] for r in measured if r.get("rss_mb")]
    growth = (rss[-1] - rss[1]) if len(rss) >= 3 else None  # from the end of round 2 (caches filled) to the last
    summary = {"sessions": args.sessions, "rounds": len(measured), "steps": len(times),
               "p50_s": _pct(times, 50), "p95_s": _pct(times, 95), "max_s": max(times, default=None),
               "errors": errors, "rss_mb_by_round": rss, "rss_growth_mb": growth,
               "peak_rss_mb": max((r.get("peak_rss_mb") or 0 for r in measured), default=None),
               "server_cpu_per_step_s": _mean([r.get("server_cpu_per_step_s") for r in measured]),
               "browsers_cpu_s_per_round": _mean([r.get("browsers_cpu_s") for r in measured]),
               "cpus": os.cpu_count()}
    print()
    print(table(by_step, [("step", "step"), ("n", "n"), ("p50_s", "p50 s"), ("p95_s", "p95 s"), ("max_s", "max s")]))
    print(f"\nAll steps: p50 {summary['p50_s'] or 0:.2f} s, p95 {summary['p95_s'] or 0:.2f} s "
          f"({'ok' if (summary['p95_s'] or 99) < TARGET_P95 else 'MISS'}: target < {TARGET_P95} s); "
          f"errors {errors} ({'ok' if errors == 0 else 'MISS'}: target 0)")
    if rss:
        print(f"Server memory after each round: {', '.join(f'{x:,.0f}' for x in rss)} MB; growth from round 2 to "
              f"{len(rss)}: {growth if growth is not None else float('nan'):+.0f} MB "
              f"({'ok' if growth is not None and growth < TARGET_GROWTH_MB else 'check'}: target < "
              f"{TARGET_GROWTH_MB:.0f} MB); peak {summary['peak_rss_mb'] or 0:,.0f} MB")
    if summary["server_cpu_per_step_s"] is not None:
        print(f"CPU: the server used {summary['server_cpu_per_step_s']:.2f} s per step (page view); the "
              f"{args.sessions} Chromium sessions used {summary['browsers_cpu_s_per_round'] or 0:.0f} s per round, on "
              f"the same {os.cpu_count()} CPUs (in real use each person's browser runs on their own computer)")
    db = redact(args.database_url) if proc is not None else args.url
    path = write_json(args.out or f"load-{backend_name(args.database_url) if proc else 'server'}", {
        "server": db, "targets": {"p95_s": TARGET_P95, "errors": 0, "rss_growth_mb": TARGET_GROWTH_MB},
        "summary": summary, "by_step": by_step, "rounds": result["rounds"]})
    print(f"Wrote {path.relative_to(ROOT)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
