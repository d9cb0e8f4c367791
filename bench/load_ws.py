"""Twenty people at once, without twenty browsers: a load client that speaks Streamlit's own protocol.

Each session opens the app's WebSocket (``/_stcore/stream``) as the browser does and sends it protobuf ``BackMsg``
messages (``streamlit.proto.BackMsg_pb2``); the server answers with ``ForwardMsg`` messages
(``streamlit.proto.ForwardMsg_pb2``). A step is one script run: a ``rerun_script`` BackMsg whose ``ClientState``
names the page (``page_name`` from the URL on the first open, then the ``page_script_hash`` the server's
``navigation`` message gave for the page, as a click in the sidebar does), the query string and the widget states,
timed until the ForwardMsg ``script_finished``. The person is chosen as in a browser: the demo opens as the board
member, and the other roles pick themselves in the "View the dashboard as" picker, i.e. a ``rerun_script`` whose
``widget_states`` give that selectbox (its id read from the server's delta) the option's label. Messages the
server marks ``cacheable`` are remembered by hash and sent back in ``cached_message_hashes``, as the browser's
message cache does, so repeated elements come as references.

It starts two ``streamlit run`` servers (ports 8661 and 8662) and nginx with deploy/nginx/federation-dashboard.conf
(ports changed, on 127.0.0.1:8663) in front of them, then runs rounds of N sessions at once (default 20) spread
over the four demo roles, each going through overview, quality, training and feedback. One real Chromium session
(Playwright, /usr/bin/chromium, bench/load.py's walk) runs in every round beside them: the control that a real page
finishes in a browser. Per step: seconds from the rerun to ``script_finished``, bytes received (what the page sends
to the browser), errors (an exception element, an error alert, a closed socket, a timeout, a page not found, the
wrong person); per round: each server's resident memory and CPU.

    python bench/load_ws.py --database-url sqlite:////tmp/icb/icb.db --sessions 4 --rounds 1
    python bench/load_ws.py --database-url sqlite:////tmp/icb/icb.db             # 20 sessions x 5 rounds
    python bench/load_ws.py --url ws://127.0.0.1:8501 --sessions 2 --rounds 1     # one running server, no nginx

Every loop is bounded (rounds, sessions, a timeout per step, an overall deadline); traffic goes to 127.0.0.1 only;
everything it starts is stopped at the end (also on Ctrl-C or SIGTERM).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_SQLITE, ROOT, backend_name, cpu_seconds, redact, rss_mb, table, write_json  # noqa: E402

SITE = ROOT / "deploy" / "nginx" / "federation-dashboard.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PORTS = range(8661, 8670)  # this benchmark's ports; never 8501 (a developer's app) or 8652 (bench/load.py)
ROLE_LABELS = {"board": "Board member", "practice_lead": "Practice lead", "viewer": "Viewer", "admin": "Administrator"}
PICKER_KEY = "demo_user"  # ui/auth.py: st.selectbox("View the dashboard as", ..., key="demo_user")
TARGET_P95, TARGET_GROWTH_MB, TARGET_PAGE_MB, TARGET_RSS_MB = 5.0, 50.0, 1.0, 1536.0


# ---------------------------------------------------------------------------------------------------------------
# The protocol: one browser tab
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """What one script run sent back."""
    seconds: float = 0.0
    bytes: int = 0
    messages: int = 0
    refs: int = 0  # messages sent as a reference to one the client had cached
    finished: str = ""  # the script_finished status name ("" when the run never finished)
    exceptions: list[str] = field(default_factory=list)
    error_alerts: list[str] = field(default_factory=list)
    page_not_found: bool = False
    headings: list[str] = field(default_factory=list)
    signed_in_as: str = ""

    @property
    def problems(self) -> list[str]:
        out = [f"exception: {e}" for e in self.exceptions] + [f"error shown: {e}" for e in self.error_alerts]
        if self.page_not_found:
            out.append("page not found")
        if self.finished not in ("FINISHED_SUCCESSFULLY",):
            out.append(f"script did not finish ({self.finished or 'no script_finished'})")
        return out


class WsSession:
    """One tab's WebSocket to a Streamlit server, with the state the browser keeps between runs: the pages of the
    navigation (url path -> script hash), the current page, the query string, widget values and the message cache."""

    def __init__(self, ws_url: str, cookie: str = "", timeout: float = 180.0):
        self.ws_url, self.cookie, self.timeout = ws_url, cookie, timeout
        self.ws = None
        self.pages: dict[str, str] = {}  # url_pathname ("" for the default page) -> page_script_hash
        self.page_hash = ""
        self.query_string = ""
        self.widgets: dict[str, str] = {}  # widget id -> value shown, for the widgets on screen this client sends
        self.picker: tuple[str, list[str]] | None = None  # the demo picker's widget id and option labels
        self.cached: set[str] = set()

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie} if self.cookie else {}
        # No client pings (a browser sends none), no size limit (a page may send several MB in one message).
        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                max_size=None, ping_interval=None, open_timeout=self.timeout,
                                close_timeout=5, compression=None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def client_state(self, page: str | None = None, widgets: dict[str, str] | None = None):
        """The ClientState of a rerun: ``page`` is a url path to go to (as a sidebar click); None reruns this page."""
        from streamlit.proto.ClientState_pb2 import ClientState

        cs = ClientState()
        if page is not None and self.pages:
            cs.page_script_hash = self.pages[page]
            cs.query_string = ""  # switching page drops the query string (st.query_params are per page)
        elif page is not None:
            cs.page_name = page  # the first open: the server finds the page from the URL's path
            cs.query_string = ""
        else:
            cs.page_script_hash = self.page_hash
            cs.query_string = self.query_string
        # As the browser does: every run carries the value each widget on screen shows (here the demo picker,
        # the one widget this client cares about), with the person's own choice on top.
        self.widgets.update(widgets or {})
        for wid, value in self.widgets.items():
            w = cs.widget_states.widgets.add()
            w.id, w.string_value = wid, value
        cs.cached_message_hashes.extend(sorted(self.cached))
        cs.context_info.timezone = "Europe/London"
        cs.context_info.timezone_offset = 0
        cs.context_info.locale = "en-GB"
        cs.context_info.url = self.ws_url.replace("ws://", "http://").split("/_stcore")[0] + "/"
        return cs

    async def rerun(self, page: str | None = None, widgets: dict[str, str] | None = None) -> Run:
        """Send one rerun_script and read ForwardMsgs until its script_finished (a run the server restarted, e.g.
        by st.rerun, goes on into the next one). Raises TimeoutError or websockets' ConnectionClosed."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.CopyFrom(self.client_state(page, widgets))
        run = Run()
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        deadline = started + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no script_finished within {self.timeout:.0f} s")
            data = await asyncio.wait_for(self.ws.recv(), timeout=left)
            run.bytes += len(data)
            run.messages += 1
            status = self.take(parse_forward(data), run)
            if status in ("FINISHED_SUCCESSFULLY", "FINISHED_WITH_COMPILE_ERROR"):
                run.finished = status
                break
        run.seconds = time.perf_counter() - started
        return run

    def take(self, fwd, run: Run) -> str | None:
        """Read one ForwardMsg into the session's state and the run's record; returns a script_finished status."""
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if fwd.metadata.cacheable and fwd.hash:
            self.cached.add(fwd.hash)
        kind = fwd.WhichOneof("type")
        if kind == "ref_hash":
            run.refs += 1
        elif kind == "script_finished":
            return ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
        elif kind == "new_session":
            self.page_hash = fwd.new_session.page_script_hash or self.page_hash
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            self.page_hash = fwd.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query_string = fwd.page_info_changed.query_string
        elif kind == "page_not_found":
            run.page_not_found = True
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            el = fwd.delta.new_element
            etype = el.WhichOneof("type")
            if etype == "exception":
                run.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:300])
            elif etype == "alert" and el.alert.format == Alert.ERROR:
                run.error_alerts.append(el.alert.body[:300])
            elif etype == "heading":
                run.headings.append(el.heading.body)
            elif etype == "markdown" and el.markdown.body.startswith("Signed in as"):
                run.signed_in_as = el.markdown.body
            elif etype == "selectbox" and el.selectbox.id.endswith("-" + PICKER_KEY):
                box = el.selectbox
                options = list(box.options)
                # A widget the browser already shows keeps the value it has there; a new id (Streamlit's widget
                # id changed) starts from what the server says it shows.
                shown = self.widgets.get(box.id) or (box.raw_value if box.HasField("raw_value") else
                                                     options[box.default] if box.HasField("default") and options
                                                     else None)
                self.picker = (box.id, options)
                self.widgets = {box.id: shown} if shown is not None else {}
        return None

    def picker_value(self, role: str) -> dict[str, str]:
        """The widget state that picks the demo user of ``role`` in "View the dashboard as"."""
        if self.picker is None:
            raise LookupError("the page has no 'View the dashboard as' picker (not the demo database?)")
        wid, options = self.picker
        label = next((o for o in options if o.startswith(ROLE_LABELS[role])), None)
        if label is None:
            raise LookupError(f"the picker offers no {ROLE_LABELS[role]}: {options}")
        return {wid: label}


def parse_forward(data: bytes):
    """One WebSocket frame from the server as a ForwardMsg (each binary frame is exactly one message)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(data, str):
        raise ValueError("the server sent a text frame; Streamlit sends binary protobuf only")
    fwd = ForwardMsg()
    fwd.ParseFromString(data)
    return fwd


def route_cookie(http_base: str, timeout: float) -> str:
    """What a browser's first page load gets from nginx: the route cookie that keeps it on one server."""
    with urllib.request.urlopen(http_base + "/_stcore/health", timeout=timeout) as resp:
        got = resp.headers.get("Set-Cookie", "")
    return got.split(";", 1)[0] if got.startswith("fed_route=") else ""


async def person(ws_base: str, role: str, pages: list[str], timeout: float, record, errors: list[str],
                 label: str, use_cookie: bool = True) -> None:
    """One person: open the dashboard (as the board member, as the demo does), pick the role, then each page."""
    step = "connect"
    session = None
    try:
        http_base = ws_base.replace("ws://", "http://")
        cookie = await asyncio.to_thread(route_cookie, http_base, timeout) if use_cookie else ""
        session = WsSession(ws_base + "/_stcore/stream", cookie=cookie, timeout=timeout)
        await session.open()
        steps: list[tuple[str, str | None, bool]] = [("open overview", "", False)]
        if role != "board":
            steps.append(("overview as role", None, True))
        steps += [(p, "" if p == "overview" else p, False) for p in pages]
        for step, page, pick in steps:
            run = await session.rerun(page=page, widgets=session.picker_value(role) if pick else None)
            problems = run.problems
            if step != "open overview" and run.signed_in_as and f"· {ROLE_LABELS[role]}" not in run.signed_in_as:
                problems.append(f"shown as the wrong person: {run.signed_in_as[:120]}")
            record(label, role, step, run)
            errors.extend(f"{label} {role} {step}: {p}" for p in problems)
    except Exception as exc:  # a timeout, a closed socket, a refused connection: count it, go on with the others
        first = (str(exc).splitlines() or [""])[0][:200]
        errors.append(f"{label} {role} {step}: {type(exc).__name__}: {first}")
    finally:
        if session is not None:
            try:
                await asyncio.wait_for(session.close(), timeout=10)
            except Exception:  # noqa: BLE001 - the socket may be gone already
                pass


# ---------------------------------------------------------------------------------------------------------------
# The servers: two streamlit processes and nginx with the shipped config
# ---------------------------------------------------------------------------------------------------------------
def free_ports(count: int) -> list[int]:
    got = []
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        got.append(port)
        if len(got) == count:
            return got
    raise SystemExit(f"not {count} free ports in {PORTS.start}-{PORTS.stop - 1}")


def snapshot(rev: str, into: Path) -> Path:
    """The app's code as committed at ``rev`` (git archive), so others' uncommitted edits in a shared working tree
    cannot change the code under a running benchmark."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def start_streamlit(database_url: str, port: int, ttl: int | None, logdir: Path, app_root: Path = ROOT
                    ) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url}
    if ttl is not None:
        env["FEDERATION_CACHE_TTL"] = str(ttl)
    log = open(logdir / f"streamlit-{port}.log", "w")
    # No file watcher: others edit this working tree while the benchmark runs, and each server should run the code
    # it started with for the whole run (as a deployed server does) rather than reload modules between rounds.
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app_root / "dashboard.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(base: str, proc: subprocess.Popen | None, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/_stcore/health", timeout=2).read()
            return
        except Exception:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"{what} exited (code {proc.returncode})")
            time.sleep(0.3)
    raise SystemExit(f"{what} did not answer on {base} within {seconds:.0f} s")


def nginx_config(folder: Path, port: int, upstreams: list[int]) -> Path:
    """deploy/nginx/federation-dashboard.conf with its ports changed, inside a minimal nginx.conf of our own."""
    site = SITE.read_text()
    for old, new in (("server 127.0.0.1:8501", f"server 127.0.0.1:{upstreams[0]}"),
                     ("server 127.0.0.1:8502", f"server 127.0.0.1:{upstreams[1]}"),
                     ("listen 80;", f"listen 127.0.0.1:{port};")):
        if site.count(old) != 1:
            raise SystemExit(f"{SITE.relative_to(ROOT)} no longer has {old!r} once: update bench/load_ws.py")
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    temp = "\n".join(f"  {k}_temp_path {folder / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes 1;
daemon off;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
  log_format route '$status $request_method $uri upstream=$upstream_addr route=$cookie_fed_route';
  access_log {folder / 'access.log'} route;
{temp}
  include {folder / 'site.conf'};
}}
""")
    return conf


class Stack:
    """Two app servers and nginx (or, with ``--url``, a server someone else runs). Stops what it started."""

    def __init__(self, args):
        self.args = args
        self.procs: list[subprocess.Popen] = []
        self.servers: list[tuple[int, int]] = []  # (port, pid)
        self.nginx: subprocess.Popen | None = None
        self.folder = Path(tempfile.mkdtemp(prefix="bench-load-ws-"))
        self.ws_base = ""
        self.code = "a server run by someone else"

    def start(self) -> None:
        a = self.args
        if a.url:
            if not re.match(r"^ws://(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$", a.url.rstrip("/")):
                raise SystemExit("load is only ever sent to this machine: --url ws://127.0.0.1:PORT")
            self.ws_base = a.url.rstrip("/")
            if a.server_pid:
                self.servers = [(int(self.ws_base.rsplit(":", 1)[1]), a.server_pid)]
            return
        if not Path(NGINX).exists():
            raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
        *apps, front = free_ports(3)
        app_root, self.code = ROOT, "the working tree"
        if a.code != "worktree":
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", a.code], capture_output=True,
                                 text=True, check=True).stdout.strip()
            app_root, self.code = snapshot(rev, self.folder / "code"), f"commit {rev} ({a.code})"
        for port in apps:
            proc = start_streamlit(a.database_url, port, a.ttl, self.folder, app_root)
            self.procs.append(proc)
            self.servers.append((port, proc.pid))
        for port, proc in zip(apps, self.procs):
            wait_healthy(f"http://127.0.0.1:{port}", proc, 120, f"streamlit on port {port}")
        conf = nginx_config(self.folder, front, apps)
        check = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(self.folder)], capture_output=True, text=True)
        if check.returncode:
            raise SystemExit("nginx refused the config: " + check.stderr)
        self.nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.folder)],
                                      stdout=subprocess.DEVNULL, stderr=open(self.folder / "nginx.out", "w"))
        wait_healthy(f"http://127.0.0.1:{front}", self.nginx, 20, "nginx")
        self.ws_base = f"ws://127.0.0.1:{front}"
        print(f"Started streamlit on ports {apps[0]} and {apps[1]} (pids {self.procs[0].pid}, {self.procs[1].pid}) "
              f"running {self.code} on {redact(a.database_url)}, and nginx on port {front} with "
              f"{SITE.relative_to(ROOT)}; logs in {self.folder}", flush=True)

    def server_ws(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}"

    def stop(self) -> None:
        for proc in ([self.nginx] if self.nginx else []) + self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in ([self.nginx] if self.nginx else []) + self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.folder / "code", ignore_errors=True)  # the snapshot; the logs stay

    def rss(self) -> dict[int, float]:
        return {port: rss_mb(pid) for port, pid in self.servers}

    def cpu(self) -> dict[int, float]:
        return {port: cpu_seconds(pid) for port, pid in self.servers}

    def nginx_cpu(self) -> float:
        return cpu_seconds(self.nginx.pid, tree=True) if self.nginx else 0.0

    def sessions_per_server(self) -> dict[str, int]:
        """WebSockets nginx handed to each server so far (its access log has a line per closed upgrade)."""
        log = self.folder / "access.log"
        counts: dict[str, int] = {}
        if log.exists():
            for line in log.read_text().splitlines():
                if line.startswith("101 GET /_stcore/stream"):
                    up = re.search(r"upstream=(\S+)", line)
                    if up:
                        counts[up.group(1)] = counts.get(up.group(1), 0) + 1
        return counts


# ---------------------------------------------------------------------------------------------------------------
# Rounds
# ---------------------------------------------------------------------------------------------------------------
async def run(args, stack: Stack) -> dict:
    pages = [p for p in args.pages.split(",") if p]
    roles = [r for r in args.roles.split(",") if r]
    samples: list[dict] = []
    rounds: list[dict] = []
    control: list[dict] = []
    started = time.time()
    deadline = started + args.deadline

    def recorder(round_no, into: list[dict], say: bool = False):
        def record(label: str, role: str, step: str, r: Run) -> None:
            shown = next((v for v in ROLE_LABELS.values() if f"· {v}" in r.signed_in_as), None)
            into.append({"round": round_no, "session": label, "role": role, "step": step, "seconds": r.seconds,
                         "bytes": r.bytes, "messages": r.messages, "refs": r.refs, "shown_as": shown})
            if say:
                print(f"  {round_no} :{label} {role:<14}{step:<18}{r.seconds:7.2f} s {r.bytes / 1e6:6.2f} MB",
                      flush=True)
        return record

    async def watch(stop: asyncio.Event, peak: dict[int, float]) -> None:
        while not stop.is_set():
            for port, mb in stack.rss().items():
                peak[port] = max(peak.get(port, 0.0), mb)
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass

    browser = pw = None
    if args.control:
        from playwright.async_api import async_playwright

        from load import CHROMIUM

        pw = await async_playwright().start()
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
    try:
        if args.warmup:
            # One person per role, one after another, straight to each server (nginx would spread them at random),
            # the servers in parallel: afterwards every server's caches hold what the roles' first views need.
            targets = [stack.server_ws(port) for port, _pid in stack.servers] or [stack.ws_base]
            print(f"Warm-up: one session per role on each of {len(targets)} server(s), straight to the server…",
                  flush=True)
            warm: list[dict] = []
            warm_errors: list[str] = []
            t = time.perf_counter()

            first: dict[str, list[str]] = {}

            async def warm_one(target: str) -> None:
                # The first session a server ever has, on its own: Streamlit gives the demo picker another widget id
                # on a server's very first script run than on every later one, so that person's next run falls back
                # to the picker's first option (Administrator). Reported here, and kept out of the role warm-ups.
                port = target.rsplit(":", 1)[1]
                first[port] = []
                await person(target, "board", ["overview"], args.timeout, recorder("first", []), first[port],
                             label=port, use_cookie=False)
                for role in roles:
                    await person(target, role, pages, args.timeout, recorder("warm-up", warm, say=True),
                                 warm_errors, label=target.rsplit(":", 1)[1], use_cookie=False)

            await asyncio.wait_for(asyncio.gather(*[warm_one(t_) for t_ in targets]),
                                   timeout=max(60.0, deadline - time.time()))
            for port, errs in first.items():
                print(f"  the first session after server :{port} started kept its person: "
                      + ("yes" if not errs else f"NO ({'; '.join(errs)[:300]})"), flush=True)
            for e in warm_errors[:8]:
                print("   warm-up error:", e)
            rounds.append({"round": "warm-up", "wall_s": time.perf_counter() - t, "errors": warm_errors,
                           "first_session_after_start_errors": first, "rss_mb": stack.rss(), "samples": warm})

        for r in range(1, args.rounds + 1):
            if time.time() > deadline:
                print(f"Overall deadline of {args.deadline:.0f} s reached: stopping after {r - 1} rounds", flush=True)
                break
            got: list[dict] = []
            ctl: list[dict] = []
            errors: list[str] = []
            ctl_errors: list[str] = []
            stop, peak = asyncio.Event(), dict(stack.rss())
            watcher = asyncio.create_task(watch(stop, peak))
            cpu0, nginx0, self0, tree0 = stack.cpu(), stack.nginx_cpu(), cpu_seconds(), cpu_seconds(tree=True)
            load0 = os.getloadavg()
            t = time.perf_counter()
            jobs = [person(stack.ws_base, roles[i % len(roles)], pages, args.timeout, recorder(r, got), errors,
                           label=f"s{i + 1:02d}") for i in range(args.sessions)]
            if browser is not None:
                from load import session as chromium_session

                def ctl_record(role, step, sec, _into=ctl, _r=r):
                    _into.append({"round": _r, "role": role, "step": step, "seconds": sec})

                from ui.navigation import PAGES

                titles = {p.url_path: p.title for p in PAGES}
                jobs.append(chromium_session(browser, stack.ws_base.replace("ws://", "http://"), args.control_role,
                                             [(p, titles[p]) for p in pages], args.timeout * 1000, ctl_record,
                                             ctl_errors))
            try:
                await asyncio.wait_for(asyncio.gather(*jobs), timeout=max(60.0, deadline - time.time() + 60))
            except asyncio.TimeoutError:
                errors.append(f"round {r}: overall deadline reached, the round's unfinished sessions were cut off")
            wall = time.perf_counter() - t
            cpu1 = stack.cpu()
            server_cpu = {port: cpu1[port] - cpu0[port] for port in cpu1}
            nginx_cpu = stack.nginx_cpu() - nginx0
            client_cpu = cpu_seconds() - self0
            browser_cpu = max(0.0, cpu_seconds(tree=True) - tree0 - client_cpu - sum(server_cpu.values()) - nginx_cpu)
            stop.set()
            await watcher
            times = [g["seconds"] for g in got]
            entry = {"round": r, "sessions": args.sessions, "wall_s": wall, "steps": len(times),
                     "p50_s": pct(times, 50), "p95_s": pct(times, 95), "max_s": max(times, default=None),
                     "errors": errors, "rss_mb": stack.rss(), "peak_rss_mb": peak,
                     "server_cpu_s": server_cpu, "nginx_cpu_s": nginx_cpu, "client_cpu_s": client_cpu,
                     "chromium_cpu_s": browser_cpu if browser is not None else None,
                     "server_cpu_per_step_s": sum(server_cpu.values()) / len(times) if times else None,
                     "load_average_before": load0, "load_average_after": os.getloadavg(),
                     "control": {"steps": ctl, "errors": ctl_errors} if browser is not None else None}
            rounds.append(entry)
            samples += got
            control += ctl
            rss_txt = ", ".join(f":{p} {mb:,.0f} MB (peak {peak.get(p, 0):,.0f})" for p, mb in entry["rss_mb"].items())
            print(f"Round {r}: {args.sessions} sessions in {wall:.1f} s; p50 {entry['p50_s'] or 0:.2f} s, "
                  f"p95 {entry['p95_s'] or 0:.2f} s, max {entry['max_s'] or 0:.2f} s; {len(errors)} errors; "
                  f"RSS {rss_txt}; CPU s: servers {' + '.join(f'{v:.0f}' for v in server_cpu.values())}, "
                  f"this client {client_cpu:.0f}" + (f", Chromium {browser_cpu:.0f}" if browser else "")
                  + f"; load average {entry['load_average_after'][0]:.1f}", flush=True)
            if browser is not None:
                print(f"  control (Chromium, {args.control_role}): "
                      + ", ".join(f"{c['step']} {c['seconds']:.1f} s" for c in ctl)
                      + (f"; {len(ctl_errors)} errors" if ctl_errors else "; finished"), flush=True)
            for e in (errors + [f"control: {x}" for x in ctl_errors])[:8]:
                print("   error:", e, flush=True)
    finally:
        if browser is not None:
            await browser.close()
        if pw is not None:
            await pw.stop()
    return {"pages": pages, "roles": roles, "rounds": rounds, "samples": samples, "control": control}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "NOT MET")


def summarise(args, stack: Stack, result: dict) -> tuple[dict, list[dict], list[dict]]:
    measured = [r for r in result["rounds"] if r["round"] != "warm-up"]
    samples = result["samples"]
    times = [s["seconds"] for s in samples]
    by_step = []
    for step in dict.fromkeys(s["step"] for s in samples):
        mine = [s for s in samples if s["step"] == step]
        v, b = [s["seconds"] for s in mine], [s["bytes"] / 1e6 for s in mine]
        by_step.append({"step": step, "n": len(v), "p50_s": pct(v, 50), "p95_s": pct(v, 95), "max_s": max(v),
                        "mb_median": statistics.median(b), "mb_max": max(b)})
    by_role = []
    for role in dict.fromkeys(s["role"] for s in samples):
        v = [s["seconds"] for s in samples if s["role"] == role]
        by_role.append({"role": role, "n": len(v), "p50_s": pct(v, 50), "p95_s": pct(v, 95), "max_s": max(v)})
    errors = [e for r in measured for e in r["errors"]]
    control_errors = [e for r in measured for e in ((r.get("control") or {}).get("errors") or [])]
    ports = [p for p, _ in stack.servers]
    rss = {p: [r["rss_mb"].get(p) for r in measured] for p in ports}
    growth = {p: (v[-1] - v[1]) if len(v) >= 3 else None for p, v in rss.items()}  # round 2 (caches full) to last
    peak = {p: max((r["peak_rss_mb"].get(p, 0.0) for r in measured), default=None) for p in ports}
    mb_max = max((s["bytes"] for s in samples), default=0) / 1e6
    p95 = pct(times, 95)
    summary = {
        "sessions": args.sessions, "rounds": len(measured), "steps": len(times), "p50_s": pct(times, 50),
        "p95_s": p95, "max_s": max(times, default=None), "errors": len(errors), "control_errors": len(control_errors),
        "control_steps": len(result["control"]), "rss_mb_by_round": rss, "rss_growth_mb": growth,
        "peak_rss_mb": peak, "max_mb_per_page": mb_max,
        "server_cpu_per_step_s": _mean([r.get("server_cpu_per_step_s") for r in measured]),
        "sessions_per_server": stack.sessions_per_server(), "cpus": os.cpu_count(),
        "person_checked_steps": sum(1 for x in samples if x.get("shown_as")),
        "load_average_end": os.getloadavg(),
        "targets": {
            "p95_under_5s": p95 is not None and p95 < TARGET_P95,
            "zero_errors": not errors and not control_errors and len(measured) == args.rounds,
            "memory_flat": (all(g is not None and g < TARGET_GROWTH_MB for g in growth.values()) if growth and
                            len(measured) >= 3 else None),
            "at_most_1mb_per_page": mb_max <= TARGET_PAGE_MB if samples else None,
            "under_1_5gb_per_server": all(v is not None and v < TARGET_RSS_MB for v in peak.values()) if peak else None,
        },
    }
    return summary, by_step, by_role


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SQLITE),
                    help="the database both servers read (it must already hold the demo federation)")
    ap.add_argument("--url", default="", help="ws://127.0.0.1:PORT of a running server instead (no nginx)")
    ap.add_argument("--server-pid", type=int, default=0, help="with --url: its process id, to watch its memory")
    ap.add_argument("--code", default="worktree",
                    help="the app code the servers run: 'worktree' (as it is now) or a git revision, e.g. HEAD, "
                         "exported to a temporary folder (others' edits in a shared tree then cannot reach the run)")
    ap.add_argument("--ttl", type=int, default=None, help="FEDERATION_CACHE_TTL for the servers this script starts")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pages", default="overview,quality,training,feedback")
    ap.add_argument("--roles", default="board,practice_lead,viewer,admin")
    ap.add_argument("--timeout", type=float, default=180, help="seconds one step may take before it counts as an error")
    ap.add_argument("--deadline", type=float, default=3600, help="seconds for the warm-up and all rounds together")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false")
    ap.add_argument("--no-control", dest="control", action="store_false", help="without the one Chromium session")
    ap.add_argument("--control-role", default="board")
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    if args.control and not Path("/usr/bin/chromium").exists():
        print("No /usr/bin/chromium: running without the Chromium control session")
        args.control = False

    # `kill` (SIGTERM) ends the run through the finally below, so everything this script started stops too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit("stopped (SIGTERM)")))
    stack = Stack(args)
    load_start = os.getloadavg()
    try:
        stack.start()
        result = asyncio.run(run(args, stack))
        summary, by_step, by_role = summarise(args, stack, result)
    finally:
        stack.stop()
    print()
    print(table(by_step, [("step", "step"), ("n", "n"), ("p50_s", "p50 s"), ("p95_s", "p95 s"), ("max_s", "max s"),
                          ("mb_median", "MB median"), ("mb_max", "MB max")]))
    print()
    print(table(by_role, [("role", "role"), ("n", "n"), ("p50_s", "p50 s"), ("p95_s", "p95 s"), ("max_s", "max s")]))
    s, t = summary, summary["targets"]
    print(f"\nAll steps: p50 {s['p50_s'] or 0:.2f} s, p95 {s['p95_s'] or 0:.2f} s, max {s['max_s'] or 0:.2f} s over "
          f"{s['steps']} steps of {s['sessions']} sessions x {s['rounds']} rounds")
    if s["sessions_per_server"]:
        print("WebSockets per server (nginx, warm-up not included):",
              ", ".join(f"{k} {v}" for k, v in s["sessions_per_server"].items()))
    for port, values in s["rss_mb_by_round"].items():
        g = s["rss_growth_mb"].get(port)
        print(f"Server :{port} memory after each round: {', '.join(f'{x:,.0f}' for x in values if x)} MB; "
              f"growth round 2 to last {'–' if g is None else f'{g:+.0f} MB'}; "
              f"peak {s['peak_rss_mb'][port] or 0:,.0f} MB")
    print(f"Who the page showed (its 'Signed in as' caption) was checked on {s['person_checked_steps']} of "
          f"{s['steps']} steps")
    if s["server_cpu_per_step_s"] is not None:
        print(f"Server CPU per step (page view): {s['server_cpu_per_step_s']:.2f} s")
    if args.control:
        print(f"Control (one Chromium session as {args.control_role}): {s['control_steps']} steps, "
              f"{s['control_errors']} errors")
    print(f"Load average: {load_start[0]:.1f} at the start, {s['load_average_end'][0]:.1f} at the end "
          f"({os.cpu_count()} CPUs, shared with whatever else runs on this machine)")
    print()
    print(f"  p95 < {TARGET_P95:.0f} s                  {s['p95_s'] or 0:6.2f} s        {verdict(t['p95_under_5s'])}")
    print(f"  zero errors                 {s['errors'] + s['control_errors']:6d}          {verdict(t['zero_errors'])}")
    worst = max((g for g in s["rss_growth_mb"].values() if g is not None), default=None)
    print(f"  memory flat over rounds     {'–' if worst is None else f'{worst:+6.0f} MB':>9}       "
          f"{verdict(t['memory_flat'])} (growth from round 2 to the last < {TARGET_GROWTH_MB:.0f} MB per server)")
    print(f"  <= 1 MB per page            {s['max_mb_per_page']:6.2f} MB       {verdict(t['at_most_1mb_per_page'])}")
    top = max((v for v in s["peak_rss_mb"].values() if v), default=0)
    print(f"  < 1.5 GB per server         {top:6,.0f} MB       {verdict(t['under_1_5gb_per_server'])}")
    path = write_json(args.out or f"load-ws-{backend_name(args.database_url) if not args.url else 'server'}", {
        "server": args.url or redact(args.database_url), "code": stack.code,
        "nginx_config": str(SITE.relative_to(ROOT)),
        "targets": {"p95_s": TARGET_P95, "errors": 0, "rss_growth_mb": TARGET_GROWTH_MB, "mb_per_page": TARGET_PAGE_MB,
                    "rss_mb": TARGET_RSS_MB},
        "load_average_start": load_start, "summary": summary, "by_step": by_step, "by_role": by_role,
        "rounds": result["rounds"], "samples": result["samples"], "control": result["control"]})
    print(f"Wrote {path.relative_to(ROOT)}")
    return 0 if t["zero_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
