"""Real-browser fixtures: a third-party OpenID provider, the sandbox, the dashboard as a real server, Chromium.

- ``oidc``: the npm ``oidc-provider`` (tests/oidc/server.mjs) on 127.0.0.1:<free port>.
- ``dashboard``: ``streamlit run app.py`` on localhost:<free port> (pages rerun every ``PAGE_SECONDS``) with a generated secrets file whose
  ``[auth]`` points at ``oidc``, and NOMAD_ADDR/CONSUL_HTTP_ADDR at a sandbox. The app is served as
  ``localhost`` and the provider as ``127.0.0.1`` so their cookies never mix.
  ``DASHBOARD_APP=<path>`` runs another entry script (for working on the gate before app.py is final).
- ``browser``: Debian's Chromium (/usr/bin/chromium) through Playwright, headless; never a downloaded build.
- ``page``: a fresh browser context (no cookies) per test; a screenshot goes to test-output/ at the end.
- ``login(page, username)``: signs in through the provider's login form and waits for the dashboard.

All fixtures but ``page`` are session-scoped: one provider, one sandbox, one app and one browser
for the whole browser suite, per pytest-xdist worker when ``make test`` runs it in parallel.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]
OIDC_DIR = ROOT / "tests" / "oidc"
OUTPUT = ROOT / "test-output"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CLIENT_ID = "nomad-dashboard"
TIMEOUT_MS = 30_000
PAGE_SECONDS = 3  # [refresh] page_seconds of the session's dashboard


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        try:
            with urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{what} was not ready at {url} after {timeout:.0f}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)  # a JSON string is a valid TOML basic string


@dataclass
class OIDC:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


@dataclass
class Dashboard:
    url: str  # http://localhost:<port>
    cookie_secret: str
    secrets_file: Path
    log: Path


@pytest.fixture(scope="session")
def app_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def oidc(app_port, tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the browser login tests (tests/oidc); install nodejs")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--prefix", str(OIDC_DIR), "--silent", "--no-audit", "--no-fund"], check=True, timeout=300
        )
    port = free_port()
    redirect_uri = f"http://localhost:{app_port}/oauth2callback"
    client_secret = secrets.token_urlsafe(24)  # generated per run
    log = tmp_path_factory.mktemp("oidc") / "oidc.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [node, str(OIDC_DIR / "server.mjs"), str(port), redirect_uri, client_secret],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=OIDC_DIR,
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{issuer}/.well-known/openid-configuration", proc, "oidc-provider", timeout=30)
        yield OIDC(issuer, CLIENT_ID, client_secret, redirect_uri)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def cluster():
    """NOMAD_ADDR/CONSUL_HTTP_ADDR for the app: a sandbox of its own. The app server polls it for
    the whole session, so it must not be the shared one that other tests count requests on."""
    from sandbox import Sandbox

    with Sandbox(clients=40, seed=7, frozen=True) as sb:
        yield {"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr}


@pytest.fixture(scope="session")
def dashboard(oidc, cluster, app_port, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dashboard")
    cookie_secret = secrets.token_urlsafe(32)
    auth = {
        "redirect_uri": oidc.redirect_uri,
        "cookie_secret": cookie_secret,
        "client_id": oidc.client_id,
        "client_secret": oidc.client_secret,
        "server_metadata_url": oidc.metadata_url,
        "display_name": "Test SSO",
        # oidc-provider refuses Streamlit's default prompt=select_account.
        "client_kwargs": {"scope": "openid profile email groups", "prompt": "login"},
    }
    secrets_file = workdir / "secrets.toml"
    secrets_file.write_text("[auth]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in auth.items()))
    app = Path(os.environ.get("DASHBOARD_APP") or ROOT / "app.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "CONSUL_"))}
    env.update(cluster)
    env.update({"PYTHONPATH": str(ROOT), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"})
    env["DASHBOARD_STATE_DIR"] = str(workdir / "state")  # sign-outs (and anything else kept) per test run
    # The shipped settings but pages rerun every 3 s, not 10: the tests that wait for an open page to
    # follow the snapshot (its freshness line, a change, a new deployment) wait for that rerun.
    config_file = workdir / "dashboard.toml"
    shipped = (ROOT / "config" / "dashboard.toml").read_text(encoding="utf-8")
    assert "page_seconds = 10" in shipped
    config_file.write_text(shipped.replace("page_seconds = 10", f"page_seconds = {PAGE_SECONDS}"), encoding="utf-8")
    env["DASHBOARD_CONFIG"] = str(config_file)
    log = workdir / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(app),
                "--server.headless",
                "true",
                "--server.port",
                str(app_port),
                "--server.address",
                "localhost",
                "--server.fileWatcherType",
                "none",
                "--secrets.files",
                str(secrets_file),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://localhost:{app_port}"
    try:
        wait_for(f"{url}/_stcore/health", proc, "streamlit", timeout=90)
        yield Dashboard(url, cookie_secret, secrets_file, log)
    finally:
        stop(proc)
        OUTPUT.mkdir(exist_ok=True)
        # each xdist worker runs a dashboard of its own: one log each (gw0, gw1), none overwritten
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        shutil.copy(log, OUTPUT / (f"browser-streamlit-{worker}.log" if worker else "browser-streamlit.log"))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is needed at {CHROMIUM} (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    OUTPUT.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        pg.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    finally:
        context.close()


def wait_for_app(page) -> None:
    """Until Streamlit has rendered the run (the app view is there and no script is running)."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        '&& document.querySelector(\'[data-testid="stMain"] h1, [data-testid="stMain"] h2, '
        '[data-testid="stMain"] h3\')',
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(300)


def sign_in_button(page):
    return page.get_by_role("button", name=re.compile(r"^Sign in with "))


@pytest.fixture
def login(dashboard, oidc):
    def do_login(page, username: str, password: str = "any-password") -> None:
        page.goto(dashboard.url + "/")
        sign_in_button(page).first.click()
        page.wait_for_url(re.compile(re.escape(oidc.issuer) + r"/interaction/"))
        page.fill('input[name="login"]', username)
        page.fill('input[name="password"]', password)
        page.click('button[type="submit"]')
        page.wait_for_url(re.compile(re.escape(dashboard.url) + r"/?$"))
        wait_for_app(page)

    return do_login


def nav_paths(page, base_url: str) -> list[str]:
    """The url_paths in the sidebar navigation, in order; the default page's link is the app root."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    paths = []
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href") or ""
        path = href.replace(base_url, "").strip("/")
        paths.append(path or "health")
    return paths
