"""Scale-out: two `streamlit run` servers on one PostgreSQL database behind nginx, with the shipped config
(deploy/nginx/federation-dashboard.conf, ports changed). Each browser sticks to one server, the app works through
nginx (its WebSocket included), and an import made through one server shows on the other once the cache ttl has run
out. Needs TEST_DATABASE_URL, nginx (Debian's package) and Chromium; skipped without them."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e_util import CHROMIUM, IDLE, free_port, streamlit_server

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx" / "federation-dashboard.conf"
DOCKER_SITE = ROOT / "deploy" / "docker" / "nginx.conf"
TTL = 12  # seconds: FEDERATION_CACHE_TTL for these servers

needs_stack = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") or not Path(NGINX).exists() or not Path(CHROMIUM).exists(),
    reason="needs TEST_DATABASE_URL (PostgreSQL), nginx and /usr/bin/chromium")


def _body(text: str) -> str:
    return text[text.index("# Sticky sessions."):]


def test_container_nginx_config_is_the_shipped_one_apart_from_the_servers():
    ours, docker = _body(SITE.read_text()), _body(DOCKER_SITE.read_text())
    servers = re.compile(r"^\s*server (127\.0\.0\.1|app\d):\d+ .*$", re.M)
    assert len(servers.findall(ours)) == 2 and len(servers.findall(docker)) == 2
    assert servers.sub("SERVER", ours) == servers.sub("SERVER", docker)


# ---------------------------------------------------------------------------------------------------------------
# The stack: PostgreSQL with the demo federation, two app servers, nginx in front
# ---------------------------------------------------------------------------------------------------------------
class Nginx:
    def __init__(self, folder: Path, port: int, upstreams: tuple[int, int]):
        self.folder, self.port = folder, port
        site = SITE.read_text()
        for old, new in (("server 127.0.0.1:8501", f"server 127.0.0.1:{upstreams[0]}"),
                         ("server 127.0.0.1:8502", f"server 127.0.0.1:{upstreams[1]}"),
                         ("listen 80;", f"listen 127.0.0.1:{port};")):
            assert site.count(old) == 1, f"the shipped nginx config no longer has {old!r}"
            site = site.replace(old, new)
        (folder / "site.conf").write_text(site)
        temp = "\n".join(f"  {k}_temp_path {folder / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes 1;
daemon off;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 512; }}
http {{
  log_format route '$status $request_method $uri upstream=$upstream_addr route=$cookie_fed_route';
  access_log {folder / 'access.log'} route;
{temp}
  include {folder / 'site.conf'};
}}
""")
        self.access_log = folder / "access.log"
        self.proc = None

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run([NGINX, "-t", "-c", str(self.folder / "nginx.conf"), "-p", str(self.folder)],
                              capture_output=True, text=True)

    def start(self) -> str:
        self.proc = subprocess.Popen([NGINX, "-c", str(self.folder / "nginx.conf"), "-p", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(base + "/_stcore/health", timeout=2)
                return base
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode())
                time.sleep(0.2)
        raise RuntimeError("nginx did not answer in 20 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


@pytest.fixture(scope="module")
def stack(fresh_databases, config, tmp_path_factory):
    if not os.environ.get("TEST_DATABASE_URL") or not Path(NGINX).exists() or not Path(CHROMIUM).exists():
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL), nginx and /usr/bin/chromium")
    from data_layer import demo
    from data_layer.db import get_engine

    url = fresh_databases.url("postgresql")
    demo.build(get_engine(url), config)  # also brings the schema up to date once, before either server starts
    ports = (free_port(), free_port())
    folder = tmp_path_factory.mktemp("nginx")
    with ExitStack() as stack:
        servers = [stack.enter_context(streamlit_server(url, port=p, env={"FEDERATION_CACHE_TTL": str(TTL)}))
                   for p in ports]
        nginx = Nginx(folder, free_port(), ports)
        checked = nginx.check()
        assert checked.returncode == 0, checked.stderr
        stack.callback(nginx.stop)
        base = nginx.start()
        yield {"base": base, "servers": servers, "ports": ports, "nginx": nginx}


def route_cookie_for(stack: dict, port: int) -> str:
    """A route cookie value nginx's consistent hash sends to the server on ``port`` (found by asking nginx)."""
    nginx = stack["nginx"]
    for i in range(64):
        value = f"probe{i}"
        req = urllib.request.Request(stack["base"] + f"/_stcore/health?probe={i}", headers={"Cookie": f"fed_route={value}"})
        urllib.request.urlopen(req, timeout=5).read()
        time.sleep(0.05)
        line = next((x for x in reversed(nginx.log()) if f"route={value}" in x), "")
        if f"upstream=127.0.0.1:{port}" in line:
            return value
    raise AssertionError(f"no route cookie reaches port {port}: {nginx.log()[-5:]}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_as(browser, base: str, route: str, path: str = "", role_label: str | None = None):
    """A browser context pinned to one server by its route cookie, on ``path``, as a demo user."""
    host = base.split("//", 1)[1].split(":")[0]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1700})  # the whole sidebar in view
    ctx.add_cookies([{"name": "fed_route", "value": route, "domain": host, "path": "/"}])
    page = ctx.new_page()
    page.goto(f"{base}/{path}", timeout=90_000)
    settle(page)
    if role_label:
        page.locator('[data-testid="stSelectbox"]').filter(has_text="View the dashboard as").locator("input").click()
        page.get_by_role("option", name=re.compile("^" + role_label)).click()
        settle(page)
    return ctx, page


def settle(page, timeout: float = 90_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(400)
    page.wait_for_selector(IDLE, timeout=timeout)
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def practice_options(page) -> list[str]:
    """The practices the sidebar's practice filter offers (the app's cached practice list)."""
    settle(page)
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Practice").locator("input")
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option").first.wait_for(timeout=30_000)
    options = page.get_by_role("option").all_inner_texts()  # read at once: the list may re-render while open
    page.keyboard.press("Escape")
    return options


def open_from_nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(page)


# ---------------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------------
@needs_stack
def test_each_browser_stays_on_one_server_and_both_servers_work_through_nginx(stack, browser):
    nginx = stack["nginx"]
    routes = [route_cookie_for(stack, p) for p in stack["ports"]]
    for route, port in zip(routes, stack["ports"]):
        ctx, page = open_as(browser, stack["base"], route)
        assert page.get_by_role("heading", name=re.compile("board overview")).count() == 1
        open_from_nav(page, "Quality indicators")  # a rerun over the WebSocket, through nginx
        page.get_by_role("heading", name="Quality indicators").wait_for(timeout=60_000)
        ctx.close()  # nginx logs the WebSocket when it closes
        deadline = time.time() + 10
        while True:
            mine = [x for x in nginx.log() if f"route={route}" in x]
            upgraded = any(x.startswith("101 GET /_stcore/stream") for x in mine)
            if upgraded or time.time() > deadline:
                break
            time.sleep(0.2)
        assert mine and all(f"upstream=127.0.0.1:{port}" in x for x in mine), mine[-5:]
        assert upgraded, f"no WebSocket upgrade through nginx: {mine[-5:]}"


@needs_stack
def test_a_browser_without_a_route_cookie_gets_one_and_keeps_its_server(stack):
    first = urllib.request.urlopen(stack["base"] + "/", timeout=10)
    cookie = first.headers.get("Set-Cookie", "")
    assert cookie.startswith("fed_route=") and "HttpOnly" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    for i in range(5):
        urllib.request.urlopen(urllib.request.Request(stack["base"] + f"/_stcore/health?again={i}",
                                                      headers={"Cookie": f"fed_route={value}"}), timeout=5).read()
    time.sleep(0.2)
    used = {re.search(r"upstream=(\S+)", x).group(1) for x in stack["nginx"].log() if f"route={value}" in x}
    assert len(used) == 1, used


@needs_stack
def test_an_import_through_one_server_shows_on_the_other_after_the_cache_ttl(stack, browser, tmp_path):
    base = stack["base"]
    route_a, route_b = (route_cookie_for(stack, p) for p in stack["ports"])
    old, new = "Kingfisher Medical Centre", "Kingfisher Medical Centre at the Quay"

    # A board member on server B sees the practices (the list is cached there for TTL seconds).
    ctx_b, page_b = open_as(browser, base, route_b)
    cached_at = time.time()
    assert f"{old} (Z90001)" in practice_options(page_b)

    # An administrator on server A imports a practices file renaming one practice.
    csv = tmp_path / "practices.csv"
    csv.write_text("practice_code,practice_name,pcn,list_size,contract_type,cqc_location_id\n"
                   f"Z90001,{new},Riverside PCN,9800,GMS,1-9000000001\n")
    ctx_a, page_a = open_as(browser, base, route_a, role_label="Administrator")
    open_from_nav(page_a, "Import data")
    page_a.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page_a.get_by_text("No problems in 1 rows").wait_for(timeout=60_000)
    settle(page_a)
    page_a.get_by_role("button", name="Import", exact=True).click()
    page_a.get_by_text("Imported 1 rows").wait_for(timeout=60_000)
    settle(page_a)
    # Server A cleared its own caches: its next page shows the new name at once.
    open_from_nav(page_a, "Overview")
    assert f"{new} (Z90001)" in practice_options(page_a)
    ctx_a.close()

    # Server B still answers from its cache until the ttl runs out (when the import was quick enough to tell) ...
    if time.time() - cached_at < TTL - 4:
        page_b.reload()
        settle(page_b)
        assert f"{old} (Z90001)" in practice_options(page_b), "server B refreshed before its cache ttl ran out"
    # ... and shows the import once it has.
    time.sleep(max(0.0, cached_at + TTL + 1 - time.time()))
    page_b.reload()
    settle(page_b)
    assert f"{new} (Z90001)" in practice_options(page_b), "server B still shows the old name after the cache ttl"
    ctx_b.close()
