"""`python -m bench browser-cpu`: what one dashboard page costs Chromium, per process and thread.

    python -m bench browser-cpu [--path /] [--title "Client health"] [--pages 4] [--seconds 40] [--loads 6]

The same parts as `python -m bench sessions` (the live 40-client sandbox, the demo OpenID provider,
one dashboard server, Debian's Chromium headless through Playwright), but no route: ``--pages``
pages signed in as admin stay open on ``--path`` for ``--seconds`` (what an open page costs, its
freshness fragment and reruns included), then the first page loads ``--path`` by address
``--loads`` times, 3 s apart (what a load costs). ``{client}`` in --path/--title is the first client.

Chromium's CPU is read per thread from /proc before and after each window (no profiler: the V8
sampling profiler's own thread costs about as much as a page, bench/README.md). One JSON line:
``open_s_per_min_per_page``, ``load_s_each`` (the 3 s after each load included), and for both the
threads that took the most, as "process type/thread name" -> seconds per minute per page or per load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil
import requests

from .sessions import (
    CHROMIUM,
    CHROMIUM_ARGS,
    READY_JS,
    WATCH_JS,
    CpuMeter,
    DashboardServer,
    LiveSandbox,
    demo_clients,
    sign_in,
)

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> Counter:
    """CPU seconds so far of every Chromium thread, keyed "process type/thread name"."""
    out: Counter = Counter()
    for proc in CpuMeter.browsers():
        try:
            kind = next((a[7:] for a in proc.cmdline() if a.startswith("--type=")), "browser")
        except psutil.Error:
            continue
        task_dir = Path(f"/proc/{proc.pid}/task")
        try:
            tids = list(task_dir.iterdir())
        except OSError:
            continue
        for tid in tids:
            try:
                name = (tid / "comm").read_text().strip()
                fields = (tid / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the thread ended between the listing and the read
            out[f"{kind}/{name}"] += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return out


def top(before: Counter, after: Counter, scale: float, n: int = 6) -> dict[str, float]:
    spent = Counter({k: after[k] - before.get(k, 0.0) for k in after})
    return {k: round(v * scale, 3) for k, v in spent.most_common(n) if v > 0}


async def _measure(base: str, idp, path: str, title: str, args) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        state = await sign_in(browser, base, idp, "admin", args.timeout)
        ctx = await browser.new_context(viewport={"width": 1440, "height": 900}, storage_state=state)

        async def load(page) -> None:
            await page.goto(base + path, timeout=args.timeout * 1000)
            await page.wait_for_function(READY_JS, arg=title, timeout=args.timeout * 1000, polling=100)

        pages = []
        for _ in range(args.pages):
            page = await ctx.new_page()
            await page.add_init_script(WATCH_JS)  # the same watch the sessions bench runs in each page
            await load(page)
            pages.append(page)
        await asyncio.sleep(10)  # past the first fragment runs
        t0, c0 = time.monotonic(), thread_cpu()
        await asyncio.sleep(args.seconds)
        t1, c1 = time.monotonic(), thread_cpu()
        per_min_page = 60.0 / (t1 - t0) / args.pages
        for _ in range(args.loads):
            await load(pages[0])
            await asyncio.sleep(3)
        c2 = thread_cpu()
        await browser.close()
    return {
        "open_s_per_min_per_page": round((sum(c1.values()) - sum(c0.values())) * per_min_page, 2),
        "open_threads": top(c0, c1, per_min_page),
        "load_s_each": round((sum(c2.values()) - sum(c1.values())) / max(args.loads, 1), 2),
        "load_threads": top(c1, c2, 1.0 / max(args.loads, 1)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench browser-cpu", description=__doc__.splitlines()[0])
    p.add_argument("--path", default="/", help='the page, e.g. "/versions" or "/client?client={client}"')
    p.add_argument("--title", default="Client health", help="what the page's title says once it is there")
    p.add_argument("--pages", type=int, default=4)
    p.add_argument("--seconds", type=float, default=40.0)
    p.add_argument("--loads", type=int, default=6)
    p.add_argument("--clients", type=int, default=40, help="sandbox size (the 40-client demo)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--app-dir", default=str(ROOT), help="the checkout whose app.py to serve")
    args = p.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Debian's Chromium is needed at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    from sandbox.oidc_provider import DemoIdentityProvider

    workdir = Path(tempfile.mkdtemp(prefix="bench-browser-cpu-"))
    try:
        with LiveSandbox(args.clients) as sandbox:
            idp = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=[])
            idp.start()
            try:
                with DashboardServer(sandbox, idp, workdir, Path(args.app_dir).resolve()) as server:
                    requests.get(server.url + "/", timeout=30)  # the first snapshot, before anyone looks
                    client = demo_clients(sandbox)[0]
                    path, title = args.path.format(client=client), args.title.format(client=client)
                    row = asyncio.run(_measure(server.url, idp, path, title, args))
            finally:
                idp.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"path": path, "pages": args.pages, **row, "load_1m": round(os.getloadavg()[0], 2)}))
    return 0
