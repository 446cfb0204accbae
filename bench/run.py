"""Benchmark of the data spine against a sandbox running in a separate process.

    python -m bench [--allocs 1000 10000 100000] [--runs 5] [--json] [--profile]

Per size it starts `python -m sandbox serve --allocs N --frozen` in a child
process, then takes turns: the raw baseline in a second child process (`python
-m bench.baseline`, one warm-up and one timed run each time) and the dashboard's
snapshot in this process (medians over --runs; the machine's speed drifts, so
the two are measured side by side, not one after the other):

  raw_fetch_parse_s     plain requests.get(url).json() of exactly the list endpoints the snapshot uses
                        (the reference floor; measured in its own process, see raw_peak_rss_mb)
  snapshot_s            Refresher.refresh_once(): the same fetches through the connectors + all view frames
  overhead_ratio        snapshot_s / raw_fetch_parse_s         (target <= 1.5, aim 1.2 at 100k allocations)
  api_requests_per_refresh               sandbox request count around one refresh_once()
  api_requests_per_refresh_1_reader      the same while 1 thread reads current() and uses the frames
  api_requests_per_refresh_20_readers    the same with 20 reader threads (must equal the line above)
  peak_rss_mb           peak resident memory of the SNAPSHOT process only (this one: the Refresher, its
                        kept raw JSON and frames, over warm-up + all runs) (target < 1,500 MB)
  raw_peak_rss_mb       peak resident memory of the raw baseline's process (for reference, no target)
  allocs, jobs, clients what the sandbox served (clients = customers = rows of the clients frame)

Several sizes run one after the other, each in a fresh process (peak memory per size).
The default (10,000 allocations, 5 runs) takes about a minute or two; 100,000
allocations take several minutes per run (use --runs 1 while iterating).
Speed targets live here only, never in timed tests.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import requests

from connectors.settings import load as load_settings
from snapshot import Refresher

from .baseline import peak_rss_mb as _peak_rss_mb

TARGETS = {"overhead_ratio": 1.5, "peak_rss_mb": 1500}
SIZES = (1_000, 10_000, 100_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """`python -m sandbox serve ...` in a child process."""

    def __init__(self, allocs: int, startup_timeout: float = 900.0):
        self.allocs = allocs
        self.nomad_port, self.consul_port = _free_port(), _free_port()
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.nomad_addr = f"http://127.0.0.1:{self.nomad_port}"
        self.consul_addr = f"http://127.0.0.1:{self.consul_port}"
        self.output: list[str] = []

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--allocs",
            str(self.allocs),
            "--frozen",
            "--nomad-port",
            str(self.nomad_port),
            "--consul-port",
            str(self.consul_port),
        ]

    def __enter__(self) -> SandboxProcess:
        cmd = self.command()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.proc = subprocess.Popen(
            cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sandbox exited early:\n" + "\n".join(self.output[-20:]))
            if self._ready():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"sandbox did not start within {self.startup_timeout} s")

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            line = line.rstrip()
            self.output.append(line)
            # Prefer the addresses the sandbox prints (in case it chose other ports).
            m = re.search(r"nomad\S*\s+.*?(http://127\.0\.0\.1:\d+)", line, re.I)
            if m:
                self.nomad_addr = m.group(1)
            m = re.search(r"consul\S*\s+.*?(http://127\.0\.0\.1:\d+)", line, re.I)
            if m:
                self.consul_addr = m.group(1)

    def _ready(self) -> bool:
        try:
            return (
                requests.get(self.nomad_addr + "/_sandbox/stats", timeout=2).ok
                and requests.get(self.consul_addr + "/_sandbox/stats", timeout=2).ok
            )
        except requests.RequestException:
            return False

    def stats_total(self) -> int:
        total = 0
        for addr in (self.nomad_addr, self.consul_addr):
            total += int(requests.get(addr + "/_sandbox/stats", timeout=30).json().get("total", 0))
        return total

    def reset_stats(self) -> None:
        for addr in (self.nomad_addr, self.consul_addr):
            requests.post(addr + "/_sandbox/stats/reset", timeout=30).raise_for_status()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def raw_baseline(sb: SandboxProcess, runs: int) -> dict[str, Any]:
    """`python -m bench.baseline` in a child process: {"times": [...], "peak_rss_mb": ...}."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [
        sys.executable,
        "-m",
        "bench.baseline",
        "--nomad",
        sb.nomad_addr,
        "--consul",
        sb.consul_addr,
        "--runs",
        str(runs),
    ]
    out = subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _identity():
    try:
        from views import ClientIdentity

        return ClientIdentity()
    except Exception:  # views not importable: the refresher still works with None
        return None


def _use(snapshot) -> int:
    """What a page does with the snapshot: read a frame, filter it, count."""
    frames = snapshot.frames
    clients = frames.clients
    n = len(clients)
    if n:
        first = clients.iloc[0]["client"]
        n += int((frames.allocations["client"] == first).sum()) if "client" in frames.allocations else 0
    return n


def _requests_during_refresh(sb: SandboxProcess, refresher: Refresher, readers: int) -> int:
    stop = threading.Event()
    reads = [0]

    def reader():
        while not stop.is_set():
            _use(refresher.current())
            reads[0] += 1
            stop.wait(0.01)  # page renders, not a busy loop starving the refresh of the GIL

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    sb.reset_stats()
    refresher.refresh_once()
    count = sb.stats_total()
    stop.set()
    for t in threads:
        t.join()
    # the stats calls themselves are on /_sandbox and not counted by the sandbox
    return count


def bench_size(allocs: int, runs: int, profile: bool = False, log=print) -> dict[str, Any]:
    log(f"[bench] starting sandbox with {allocs:,} allocations ...")
    t0 = time.monotonic()
    with SandboxProcess(allocs) as sb:
        log(f"[bench] sandbox ready in {time.monotonic() - t0:.1f} s ({sb.nomad_addr}, {sb.consul_addr})")
        settings = load_settings(
            {
                "NOMAD_ADDR": sb.nomad_addr,
                "CONSUL_HTTP_ADDR": sb.consul_addr,
                "DASHBOARD_CLUSTER_NAME": "bench",
                "DASHBOARD_HTTP_TIMEOUT": "120",
            }
        )
        # Baseline and snapshot runs take turns (the baseline each time in a child process of its
        # own, with its warm-up): this virtual machine's CPU speed drifts within a minute (the same
        # parse 1.36 s of CPU, then 0.86 s ten seconds later), so all baseline runs before all
        # snapshot runs moved the ratio by up to 0.4 from run to run.
        refresher = Refresher(settings, _identity())
        refresher.refresh_once()  # warm-up, like the baseline's
        raw_times: list[float] = []
        raw_peak = 0.0
        snap_times = []
        for i in range(runs):
            base = raw_baseline(sb, 1)
            raw_times += base["times"]
            raw_peak = max(raw_peak, base["peak_rss_mb"])
            log(f"[bench]   raw run {i + 1}/{runs}: {raw_times[-1]:.3f} s")
            t = time.perf_counter()
            snap = refresher.refresh_once()
            snap_times.append(time.perf_counter() - t)
            log(f"[bench]   snapshot run {i + 1}/{runs}: {snap_times[-1]:.3f} s")
        frames = snap.frames
        sizes = {
            "allocs": len(frames.allocations),
            "jobs": len(frames.jobs),
            "clients": len(frames.clients),
            "nodes": len(frames.nodes),
        }
        del snap, frames  # the Refresher keeps its own; a third set of frames here would inflate the peak

        if profile:
            prof = cProfile.Profile()
            prof.enable()
            refresher.refresh_once()
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(35)
            log(buf.getvalue())

        sb.reset_stats()
        refresher.refresh_once()
        per_refresh = sb.stats_total()
        one = _requests_during_refresh(sb, refresher, 1)
        twenty = _requests_during_refresh(sb, refresher, 20)

        result = {
            **sizes,
            "raw_fetch_parse_s": round(statistics.median(raw_times), 4),
            "snapshot_s": round(statistics.median(snap_times), 4),
            "overhead_ratio": round(statistics.median(snap_times) / statistics.median(raw_times), 3),
            "api_requests_per_refresh": per_refresh,
            "api_requests_per_refresh_1_reader": one,
            "api_requests_per_refresh_20_readers": twenty,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "raw_peak_rss_mb": raw_peak,
            "runs": runs,
        }
        return result


COLUMNS = [
    "allocs",
    "jobs",
    "clients",
    "raw_fetch_parse_s",
    "snapshot_s",
    "overhead_ratio",
    "api_requests_per_refresh",
    "api_requests_per_refresh_1_reader",
    "api_requests_per_refresh_20_readers",
    "peak_rss_mb",
    "raw_peak_rss_mb",
]


def _table(results: list[dict[str, Any]]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in results)) for c in COLUMNS}
    lines = ["  ".join(c.rjust(widths[c]) for c in COLUMNS)]
    for r in results:
        lines.append("  ".join(str(r[c]).rjust(widths[c]) for c in COLUMNS))
    lines.append(
        f"targets at 100,000 allocations: overhead_ratio <= {TARGETS['overhead_ratio']} (aim 1.2), "
        f"requests per refresh constant across sizes and readers, peak_rss_mb < {TARGETS['peak_rss_mb']} "
        f"(peak_rss_mb = the snapshot process; raw_peak_rss_mb = the raw baseline's own process)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["consul"]:  # python -m bench consul ...: following Consul alone (bench/consul.py)
        from .consul import main as consul_main

        return consul_main(argv[1:])
    if argv[:1] == ["churn"]:  # python -m bench churn ...: the event-stream benchmark (bench/churn.py)
        from .churn import main as churn_main

        return churn_main(argv[1:])
    if argv[:1] == ["sessions"]:  # python -m bench sessions ...: many browser sessions (bench/sessions.py)
        from .sessions import main as sessions_main

        return sessions_main(argv[1:])
    if argv[:1] == ["browser-cpu"]:  # python -m bench browser-cpu ...: one page's Chromium cost (bench/browser_cpu.py)
        from .browser_cpu import main as browser_cpu_main

        return browser_cpu_main(argv[1:])
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--allocs", type=int, nargs="+", default=[10_000], help="sandbox sizes (allocations); default 10000")
    p.add_argument("--runs", type=int, default=5, help="measured runs per size (median); default 5")
    p.add_argument("--json", action="store_true", help="print one JSON object (a list of results if several sizes)")
    p.add_argument("--profile", action="store_true", help="cProfile one refresh_once per size (to stderr)")
    args = p.parse_args(argv)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    results = []
    for n in args.allocs:
        # each size in its own process so peak RSS is per size, not cumulative
        if len(args.allocs) > 1:
            cmd = [sys.executable, "-m", "bench", "--allocs", str(n), "--runs", str(args.runs), "--json"]
            if args.profile:
                cmd.append("--profile")
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
            results.append(json.loads(out))
            log(_table(results[-1:]).splitlines()[1])
        else:
            results.append(bench_size(n, args.runs, args.profile, log=log))
    if args.json:
        # one JSON object: the result itself for one size, {"results": [...]} for several
        print(json.dumps(results[0] if len(results) == 1 else {"results": results}))
    else:
        print(_table(results))
    return 0
