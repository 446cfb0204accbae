"""`python -m bench sessions`: many people watching the dashboard at once, in real browsers (issue 13, item 4).

    python -m bench sessions --sessions 1 10 40 [--seconds 90] [--json]

One sandbox process (`python -m sandbox serve --clients 40`, live: its clock runs, so the data
changes now and then), the demo OpenID provider (sandbox/oidc_provider.py, in this process), and
per session count a fresh dashboard server (`streamlit run app.py`, its own process). Debian's
Chromium (never a downloaded build) runs headless through Playwright: ONE browser process, one
context (cookies) per role and one page per simulated person: every page is its own Streamlit
session (its own websocket), like tabs; the pages of a context share the browser's cache and
compiled code, which is what lets 40 of them start on 2 cores (a context per page could not:
each compiled Streamlit's frontend again). Each person is
signed in as viewer, support, manager or admin in turn (one real sign-in per role through the
provider's form; the other contexts start from that signed-in cookie), then walks a route for
``--seconds``: client health, versions and residency through the sidebar, a client's page opened
by address, back home through the sidebar, staying 25-40 s on each (``--dwell-min/max``).

Per session count one JSON line:

  refresh_gap_p50_s / _p95_s  time between visible changes of the freshness line ("Data as of
                              12:03:04, 2 s ago") on a page that stays open (polled every 0.25 s in
                              the page); a wait still open when the person moves on counts when it
                              is longer than the page refresh (it is at least that long)
  page_render_p95_s           a full load by address (page.goto) until the page's title and its
                              freshness line show
  navigation_p95_s            a click in the sidebar until the new page's title and freshness line show
  timeouts                    waits for content that gave up after --timeout seconds (counted as that long)
  server_cpu_s_per_min        the dashboard server process (user + system), over the window
  server_rss_mb / server_peak_rss_mb   its resident memory at the end / the highest sample
  browser_cpu_s_per_min       every Chromium process together (renderers, GPU, browser), same window
  sandbox_cpu_s_per_min       the sandbox process
  load_1m                     the machine's 1-minute load average at the end (2 cores here)

Speed targets (issue 13): 40 sessions with refresh_gap_p95_s <= 12 and navigation_p95_s <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

from .run import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every page counts as watched: no timer throttling for pages the headless browser thinks hidden.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
ROLES = ("viewer", "support", "manager", "admin")
TARGETS = {"refresh_gap_p95_s": 12.0, "navigation_p95_s": 1.5}
VERBOSE = False

# Runs in every page before Streamlit: remembers when the freshness line's text last changed.
# A MutationObserver, not a timer: the page does no work of ours between two DOM changes (a 250 ms
# poll ran querySelectorAll in every page four times a second), and a change is stamped when it
# happens, not up to 250 ms later. Mutations of one render are looked at once (a microtask).
WATCH_JS = """
(() => {
  window.__fresh = [];
  let last = null, path = null, queued = false;
  const look = () => {
    queued = false;
    const here = location.pathname + location.search;
    if (here !== path) { path = here; last = null; }
    let text = null;
    for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
      if (el.textContent.includes('Data as of')) { text = el.textContent; break; }
    }
    if (text !== null && text !== last) { last = text; window.__fresh.push([Date.now() / 1000, here]); }
  };
  const start = () => new MutationObserver(() => {
    if (!queued) { queued = true; queueMicrotask(look); }
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  if (document.documentElement) start(); else document.addEventListener('readystatechange', start, { once: true });
})();
"""

# The page is there: its title (h1) says what we expect and the freshness line shows, and no
# element left from the previous page is still on screen (Streamlit marks those stale).
READY_JS = """
(title) => {
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  if (!h1 || !h1.textContent.includes(title)) return false;
  for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
    if (el.textContent.includes('Data as of')) return true;
  }
  return false;
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


class LiveSandbox(SandboxProcess):
    """The 40-client demo world, its clock running (not frozen)."""

    def __init__(self, clients: int):
        super().__init__(allocs=0)
        self.clients = clients

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--clients",
            str(self.clients),
            "--nomad-port",
            str(self.nomad_port),
            "--consul-port",
            str(self.consul_port),
        ]


class DashboardServer:
    """`streamlit run app.py` against the sandbox, signing in through the demo provider."""

    def __init__(self, sandbox: SandboxProcess, idp, workdir: Path, app_dir: Path = ROOT):
        self.port = _free_port()
        self.app_dir = app_dir
        self.url = f"http://localhost:{self.port}"
        redirect_uri = f"{self.url}/oauth2callback"
        section = idp.streamlit_auth_section(redirect_uri, secrets.token_urlsafe(32))
        self.workdir = workdir
        self.secrets_file = workdir / f"secrets-{self.port}.toml"
        self.secrets_file.write_text("[auth]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in section.items()))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "CONSUL_", "DASHBOARD_"))}
        self.env.update(
            {
                "NOMAD_ADDR": sandbox.nomad_addr,
                "CONSUL_HTTP_ADDR": sandbox.consul_addr,
                "DASHBOARD_STATE_DIR": str(workdir / f"state-{self.port}"),
                "PYTHONPATH": str(app_dir),
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            }
        )
        self.proc: subprocess.Popen | None = None
        self.log = workdir / f"streamlit-{self.port}.log"

    def __enter__(self) -> DashboardServer:
        cmd = [sys.executable, "-m", "streamlit", "run", str(self.app_dir / "app.py"), "--server.headless", "true"]
        cmd += ["--server.port", str(self.port), "--server.address", "localhost"]
        cmd += ["--server.fileWatcherType", "none", "--secrets.files", str(self.secrets_file)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.app_dir, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited early; see {self.log}")
            try:
                if requests.get(f"{self.url}/_stcore/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError("the dashboard did not start within 120 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class CpuMeter:
    """CPU seconds of process groups over a window, and the server's RSS sampled every second."""

    def __init__(self, server_pid: int, sandbox_pid: int):
        self.server = psutil.Process(server_pid)
        self.sandbox = psutil.Process(sandbox_pid)
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            t = proc.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    @staticmethod
    def browsers() -> list[psutil.Process]:
        out = []
        for p in psutil.Process().children(recursive=True):
            try:
                if "chrom" in p.name().lower():
                    out.append(p)
            except psutil.Error:
                pass
        return out

    def browser_cpu(self) -> float:
        # Renderer processes come and go with contexts: sum the live ones at both ends of the window
        # (the window starts after every context is open and ends before any closes).
        return sum(self._cpu(p) for p in self.browsers())

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.server0, self.sandbox0, self.browser0 = self._cpu(self.server), self._cpu(self.sandbox), self.browser_cpu()
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.peak_rss = max(self.peak_rss, self.server.memory_info().rss)
            except psutil.Error:
                return

    def stop(self) -> dict:
        self._stop.set()
        per_min = 60.0 / max(time.monotonic() - self.t0, 1e-9)
        rss = self.server.memory_info().rss
        return {
            "server_cpu_s_per_min": round((self._cpu(self.server) - self.server0) * per_min, 2),
            "server_rss_mb": round(rss / 2**20, 1),
            "server_peak_rss_mb": round(max(self.peak_rss, rss) / 2**20, 1),
            "browser_cpu_s_per_min": round((self.browser_cpu() - self.browser0) * per_min, 2),
            "sandbox_cpu_s_per_min": round((self._cpu(self.sandbox) - self.sandbox0) * per_min, 2),
            "load_1m": round(os.getloadavg()[0], 2),
        }


class Person:
    """One browser context + page: signs in (by cookie), walks the route, records what it saw."""

    # (how to get there, where, title on the page); "goto": by address, "click": sidebar link
    ROUTE = (
        ("goto", "/", "Client health"),
        ("click", "versions", "Versions"),
        ("click", "residency", "Data residency"),
        ("goto", "/client?client={client}", "{client}"),
        ("click", "home", "Client health"),
    )

    def __init__(self, n: int, context, base: str, clients: list[str], timeout: float, dwell: tuple[float, float]):
        self.n, self.context, self.base, self.timeout = n, context, base, timeout
        self.clients, self.dwell = clients, dwell
        self.rng = random.Random(n)
        self.renders: list[float] = []
        self.navigations: list[float] = []
        self.timeouts = 0
        self.open_waits: list[float] = []  # a page left while its freshness line had not changed for this long
        self.page = None
        self.seen: list[list] = []  # [wall time, page] of each change of the freshness line

    async def _ready(self, title: str) -> bool:
        try:
            await self.page.wait_for_function(READY_JS, arg=title, timeout=self.timeout * 1000, polling=100)
        except Exception:
            self.timeouts += 1
            return False
        return True

    async def _go(self, how: str, where: str, title: str, measured: bool) -> None:
        client = self.rng.choice(self.clients)
        where, title = where.format(client=client), title.format(client=client)
        t0 = time.monotonic()
        if how == "goto":
            self.seen += await self.fresh_times()  # a load by address starts the page's record anew
            self.seen.append([time.time(), None])
            try:
                await self.page.goto(self.base + where, timeout=self.timeout * 1000)
            except Exception:
                self.timeouts += 1
            ok = await self._ready(title)
            took = time.monotonic() - t0
            if measured:
                self.renders.append(took)
            self._log(how, where, took, ok)
        else:
            link = self.page.locator(f'[data-testid="stSidebarNav"] a[href$="/{where}"]')
            if where == "home":
                link = self.page.locator('[data-testid="stSidebarNav"] a').first
            try:
                await link.click(timeout=self.timeout * 1000)
            except Exception:
                self.timeouts += 1
            ok = await self._ready(title)
            took = time.monotonic() - t0
            if measured:
                self.navigations.append(took)
            self._log(how, where, took, ok)

    def _log(self, how: str, where: str, took: float, ok: bool) -> None:
        if VERBOSE:
            print(f"person {self.n}: {how} {where} {took:.2f} s{'' if ok else ' (timed out)'}", file=sys.stderr)

    async def run(self, start_at: float, measure_from: float, stop_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        self.page = await self.context.new_page()
        await self.page.add_init_script(WATCH_JS)
        step = self.n % len(self.ROUTE)
        first = True
        while time.monotonic() < stop_at:
            how, where, title = self.ROUTE[step % len(self.ROUTE)]
            if first and how == "click":  # the first page is opened by address
                how, where = "goto", ("/" if where == "home" else "/" + where)
            await self._go(how, where, title, measured=time.monotonic() >= measure_from)
            first = False
            left = stop_at - time.monotonic()
            await asyncio.sleep(max(0.0, min(left, self.rng.uniform(*self.dwell))))
            await self._note_open_wait(measure_from)
            step += 1

    async def _note_open_wait(self, measure_from: float) -> None:
        try:
            seen = await self.page.evaluate("() => window.__fresh.slice(-1)[0] || null")
        except Exception:
            return
        now = time.time()
        if seen and seen[0] >= time.time() - (time.monotonic() - measure_from):
            self.open_waits.append(now - seen[0])

    async def fresh_times(self) -> list[list]:
        try:
            return (await self.page.evaluate("() => window.__fresh || []")) or []
        except Exception:
            return []


def refresh_gaps(seen: list[list], since_wall: float) -> list[float]:
    """Gaps between consecutive changes of the freshness line on the same page (path + query)."""
    gaps = []
    for (t0, p0), (t1, p1) in itertools.pairwise(seen):
        if p0 == p1 and t0 >= since_wall:
            gaps.append(t1 - t0)
    return gaps


async def sign_in(browser, base: str, idp, role: str, timeout: float) -> dict:
    """One real sign-in through the provider's form; returns the context's storage state (cookies)."""
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await ctx.new_page()
    await page.goto(base + "/", timeout=timeout * 1000)
    await page.get_by_role("button", name="Sign in with the demo identity provider").first.click()
    await page.wait_for_selector('input[name="username"]', timeout=timeout * 1000)
    user = idp.users[role]
    await page.fill('input[name="username"]', user.username)
    await page.fill('input[name="password"]', user.password)
    await page.click('button[type="submit"]')
    await page.wait_for_function(READY_JS, arg="Client health", timeout=timeout * 3000, polling=200)
    state = await ctx.storage_state()
    await ctx.close()
    return state


async def _drive(base: str, idp, sessions: int, seconds: float, warmup: float, clients: list[str], meter, args):
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        states = {}
        for role in ROLES[: max(1, min(len(ROLES), sessions))]:
            states[role] = await sign_in(browser, base, idp, role, args.timeout)
        # One context per role, its pages sharing the browser's cache and compiled code: each page is
        # still its own Streamlit session (its own websocket), as tabs of one person are.
        contexts = {
            role: await browser.new_context(viewport={"width": 1440, "height": 900}, storage_state=state)
            for role, state in states.items()
        }
        people = []
        for n in range(sessions):
            ctx = contexts[ROLES[n % len(contexts)]]
            people.append(Person(n, ctx, base, clients, args.timeout, (args.dwell_min, args.dwell_max)))
        t = time.monotonic()
        ramp = args.ramp * sessions  # people arrive one after the other, not in one burst
        warmup = max(warmup, ramp + 20.0)  # everyone has their first page before the window opens
        measure_from = t + warmup
        stop_at = measure_from + seconds
        since_wall = time.time() + warmup
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + warmup, meter.start)  # the CPU window starts after the warm-up
        await asyncio.gather(*(p.run(t + args.ramp * i, measure_from, stop_at) for i, p in enumerate(people)))
        cpu = meter.stop()
        gaps, renders, navs, timeouts = [], [], [], 0
        for p in people:
            gaps += refresh_gaps(p.seen + await p.fresh_times(), since_wall)
            gaps += [w for w in p.open_waits if w > args.page_refresh]
            renders += p.renders
            navs += p.navigations
            timeouts += p.timeouts
        for ctx in contexts.values():
            await ctx.close()
        await browser.close()
    return gaps, renders, navs, timeouts, cpu


def demo_clients(sandbox: SandboxProcess) -> list[str]:
    body = requests.get(sandbox.nomad_addr + "/v1/namespaces", timeout=30).json()
    return sorted(ns["Name"] for ns in body if ns.get("Name") not in ("default", ""))[:12] or ["default"]


def run_one(sandbox, idp, workdir: Path, sessions: int, args) -> dict:
    with DashboardServer(sandbox, idp, workdir, Path(args.app_dir).resolve()) as server:
        # The first page run waits for the first snapshot: let the server settle before anyone arrives.
        requests.get(server.url + "/", timeout=30)
        meter = CpuMeter(server.proc.pid, sandbox.proc.pid)
        gaps, renders, navs, timeouts, cpu = asyncio.run(
            _drive(server.url, idp, sessions, args.seconds, args.warmup, demo_clients(sandbox), meter, args)
        )
    return {
        "sessions": sessions,
        "seconds": args.seconds,
        "refresh_gap_p50_s": _pct(gaps, 0.5),
        "refresh_gap_p95_s": _pct(gaps, 0.95),
        "refresh_gaps": len(gaps),
        "page_render_p95_s": _pct(renders, 0.95),
        "page_render_p50_s": _pct(renders, 0.5),
        "page_renders": len(renders),
        "navigation_p95_s": _pct(navs, 0.95),
        "navigation_p50_s": _pct(navs, 0.5),
        "navigations": len(navs),
        "timeouts": timeouts,
        **cpu,
        "browser_processes": 1,
        "browser_contexts": min(len(ROLES), sessions),
        "mean_gap_s": round(statistics.fmean(gaps), 2) if gaps else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench sessions", description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 40])
    p.add_argument("--seconds", type=float, default=120.0, help="measured window per session count")
    p.add_argument("--warmup", type=float, default=30.0, help="seconds before measuring (at least the ramp + 20 s)")
    p.add_argument("--ramp", type=float, default=2.0, help="seconds between two people's arrivals")
    p.add_argument("--clients", type=int, default=40, help="sandbox size (the 40-client demo)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a page's content")
    p.add_argument("--dwell-min", type=float, default=25.0)
    p.add_argument("--dwell-max", type=float, default=40.0)
    p.add_argument("--page-refresh", type=float, default=10.0, help="the dashboard's page refresh (dashboard.toml)")
    p.add_argument("--json", action="store_true", help="one JSON object per line only")
    p.add_argument(
        "--app-dir",
        default=str(ROOT),
        help="the checkout whose app.py to serve (e.g. an older commit, for before/after)",
    )
    p.add_argument("--verbose", action="store_true", help="one line per page opened, on stderr")
    args = p.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    if not Path(CHROMIUM).exists():
        print(f"Debian's Chromium is needed at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    from sandbox.oidc_provider import DemoIdentityProvider

    workdir = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    rows = []
    try:
        with LiveSandbox(args.clients) as sandbox:
            idp = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=[])
            idp.start()
            try:
                for n in args.sessions:
                    row = run_one(sandbox, idp, workdir, n, args)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            finally:
                idp.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.json:
        for row in rows:
            ok = all(row.get(k) is not None and row[k] <= v for k, v in TARGETS.items())
            print(
                f"{row['sessions']:>3} sessions: refresh gap p95 {row['refresh_gap_p95_s']} s, navigation p95 "
                f"{row['navigation_p95_s']} s, server CPU {row['server_cpu_s_per_min']} s/min"
                + ("" if row["sessions"] != 40 else (" (meets the targets)" if ok else " (misses a target)")),
                file=sys.stderr,
            )
    return 0
