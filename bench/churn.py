"""Cost and delay of following a changing cluster: ``python -m bench churn``.

    python -m bench churn --allocs 1000 100000 --rate 5 --seconds 60 [--mode stream|blocking] [--json]

Per size, one sandbox process (``python -m sandbox serve --allocs N --churn R``: about R
allocation changes per second, crashes, reschedules, deployments, checks flapping); per mode, the
dashboard side (one Refresher with Nomad and Consul) in its own process: ``stream`` follows
/v1/event/stream (snapshot.follower) and Consul's not-passing checks (snapshot.consul_follow),
``blocking`` is the blocking queries on whole lists. After
the first snapshot the sandbox's counters are reset and the dashboard runs ``--seconds``:

  nomad_bytes_per_min, nomad_requests_per_min, consul_bytes_per_min   response bytes and requests
                          the sandbox served (GET /_sandbox/bytes, /_sandbox/stats), per minute
  change_visible_p50_s, change_visible_p95_s   from the sandbox applying a change (GET
                          /_sandbox/churn: monotonic time, index) to the end of the first frame build
                          whose data holds that index: Nomad's allocations/deployments/nodes' for a Nomad change (a plain
                          event-stream reader in the dashboard process tells them apart; its bytes
                          are not counted), the Consul checks' for a check that flapped
  consul_visible_p50_s, consul_visible_p95_s   the same for the flapping checks alone
  cpu_s_per_min, peak_rss_mb   of the dashboard process (peak includes the first load)
  changes                 changes applied in the window, seen: how many became visible
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

import requests

from .run import SandboxProcess

MODES = ("stream", "blocking")


def _counters(addr: str) -> tuple[int, int]:
    stats = requests.get(addr + "/_sandbox/stats", timeout=10).json()
    sent = requests.get(addr + "/_sandbox/bytes", timeout=10).json()["bytes"]
    return int(stats.get("total", 0)), int(sent)


def _allocs_index(nomad: str) -> int:
    """Nomad's allocations index now (a list query that matches nothing: its header only).
    (A GC moves it with no event: the next change's frame passes it.)"""
    head = requests.get(nomad + "/v1/allocations", params={"prefix": "ffffffff"}, timeout=60)
    return int(head.headers.get("X-Nomad-Index") or 0)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 3)


def child(nomad: str, consul: str, mode: str, seconds: float) -> dict:
    """The dashboard side: run in its own process (``--child``)."""
    from connectors.settings import load
    from snapshot import Refresher
    from views import ClientIdentity

    from .baseline import peak_rss_mb

    builds: list[tuple[float, int, int]] = []  # (monotonic end of build, nomad index, consul index)

    # Which changes are Nomad's: a plain reader of the event stream in this process notes every
    # Nomad index (its bytes and its one request are taken off the dashboard's counts).
    nomad_indexes: set[int] = set()
    watcher_bytes = [0]
    stop = threading.Event()

    def watch() -> None:
        with requests.get(
            nomad + "/v1/event/stream",
            params={"namespace": "*", "topic": ["Allocation", "Deployment", "Node"]},
            stream=True,
            timeout=(10, 120),
        ) as resp:
            buf = b""
            while not stop.is_set():
                data = resp.raw.read1(65536)
                if not data:
                    return
                watcher_bytes[0] += len(data)
                buf += data
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip() and line.strip() != b"{}":
                        nomad_indexes.add(json.loads(line)["Index"])

    # The first load of 100,000 allocations can take longer than the default 15 s on a busy machine.
    timeout = os.environ.get("DASHBOARD_HTTP_TIMEOUT", "120")
    settings = load({"NOMAD_ADDR": nomad, "CONSUL_HTTP_ADDR": consul, "DASHBOARD_HTTP_TIMEOUT": timeout})
    follow = mode == "stream"  # the event stream for Nomad, snapshot.consul_follow for Consul
    ref = Refresher(settings, ClientIdentity.parse("namespace"), events=follow, consul_delta=follow)
    build = ref._build  # the refresher's own (incremental) frame builder, timed

    def timed(raw, now, moved):
        n_idx = max(ref._sources[n].index for n in ("allocations", "deployments", "nodes"))
        c_idx = ref._sources["consul_checks"].index
        frames = build(raw, now, moved)
        builds.append((time.monotonic(), n_idx, c_idx))
        return frames

    ref._build = timed  # type: ignore[method-assign]
    ref.start()
    try:
        ref.wait_for(lambda s: s.built_at is not None and all(x.has_data for x in s.sources.values()), timeout=1800)
        # and for the first build that holds them all (seconds at 100,000): the snapshot above may
        # be one built before the last list arrived; the window is for following changes.
        fb = ref.frame_builder
        ref.wait_for(lambda _s: fb is None or fb.patching, timeout=600)
        if ref.follower is not None:
            # The stream starts after the first list loaded and replays what changed while the
            # others loaded (snapshot.follower): part of the load, like the lists' own bytes. The
            # window opens once the follower keeps up: it reached Nomad's index of the moment
            # within a second (catching up to one index only, the old wait, left it up to 16 s
            # behind at 100,000: what changed during the replay was still to come).
            began = time.monotonic()
            while time.monotonic() < began + 900:
                last = _allocs_index(nomad)
                asked = time.monotonic()
                while ref._sources["allocations"].index < last and time.monotonic() < began + 900:
                    time.sleep(0.1)
                if ref._sources["allocations"].index >= last and time.monotonic() - asked < 1.0:
                    replay = (round(time.monotonic() - began, 1), True)
                    break
            else:
                replay = (round(time.monotonic() - began, 1), False)
        else:
            replay = (0.0, True)
        for addr in (nomad, consul):
            requests.post(addr + "/_sandbox/stats/reset", timeout=10)
        threading.Thread(target=watch, daemon=True).start()
        time.sleep(0.5)
        watcher_bytes[0] = 0
        requests.post(nomad + "/_sandbox/stats/reset", timeout=10)
        t0 = time.monotonic()
        full0, patch0, consul0 = (fb.full_builds, fb.patches, fb.consul_rebuilds) if fb else (0, 0, 0)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(seconds)
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        elapsed = time.monotonic() - t0
        n_req, n_bytes = _counters(nomad)
        n_bytes -= watcher_bytes[0]
        c_req, c_bytes = _counters(consul)
        time.sleep(min(10.0, seconds / 4))  # let the last changes of the window show up
        changes = requests.get(nomad + "/_sandbox/churn", params={"since": t0}, timeout=10).json()["changes"]
        changes = [c for c in changes if c[0] <= t0 + elapsed]
    finally:
        stop.set()
        ref.stop()
    delays, consul_delays, nomad_delays = [], [], []
    for applied, _alloc, idx in changes:
        nomad_change = idx in nomad_indexes
        seen = next((t for t, n, c in builds if (n if nomad_change else c) >= idx and t >= applied), None)
        if seen is not None:
            delays.append(seen - applied)
            (nomad_delays if nomad_change else consul_delays).append(seen - applied)
    per_min = 60.0 / elapsed
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {
        "nomad_bytes_per_min": round(n_bytes * per_min),
        "nomad_requests_per_min": round(n_req * per_min, 1),
        "consul_bytes_per_min": round(c_bytes * per_min),
        "consul_requests_per_min": round(c_req * per_min, 1),
        "change_visible_p50_s": _pct(delays, 0.5),
        "change_visible_p95_s": _pct(delays, 0.95),
        "nomad_visible_p50_s": _pct(nomad_delays, 0.5),  # Nomad's changes alone
        "nomad_visible_p95_s": _pct(nomad_delays, 0.95),
        "consul_visible_p50_s": _pct(consul_delays, 0.5),  # the flapping checks alone
        "consul_visible_p95_s": _pct(consul_delays, 0.95),
        "cpu_s_per_min": round(cpu * per_min, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "changes": len(changes),
        "seen": len(delays),
        "mean_visible_s": round(statistics.fmean(delays), 3) if delays else None,
        # frame builds in the window: from scratch, and patched from the changed rows
        "full_builds": fb.full_builds - full0 if fb else None,
        "patched_builds": fb.patches - patch0 if fb else None,
        "full_build_reasons": fb.whole_reasons if fb else None,
        "replay_s": replay[0],  # the wait for the stream to replay what changed during the load
        "replay_done": replay[1],  # False: the window started with the follower still behind
        "consul_rebuilds": fb.consul_rebuilds - consul0 if fb else None,  # patches that built Consul's frames whole
    }


class ChurnSandbox(SandboxProcess):
    def __init__(self, allocs: int, rate: float):
        super().__init__(allocs)
        self.rate = rate

    def command(self) -> list[str]:
        cmd = super().command()
        cmd.remove("--frozen")
        return cmd + ["--churn", str(self.rate)]


def run(
    sizes: list[int], rate: float, seconds: float, modes: list[str], log, module: str = "bench.churn"
) -> list[dict]:
    """Per size one churning sandbox; per mode ``python -m <module> --child`` measures in its own process."""
    out = []
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for n in sizes:
        with ChurnSandbox(n, rate) as sb:
            for mode in modes:
                cmd = [sys.executable, "-m", module, "--child", sb.nomad_addr, sb.consul_addr, mode]
                cmd += ["--seconds", str(seconds)]
                res = subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.PIPE, text=True).stdout
                row = {"mode": mode, "allocs": n, "rate": rate, **json.loads(res)}
                log(json.dumps(row))
                out.append(row)
    return out


def per_mode_main(argv, *, module: str, doc: str | None, modes: tuple[str, ...], child_fn, table: list[str]) -> int:
    """The command line of a benchmark run per size and mode (``bench churn``, ``bench consul``)."""
    p = argparse.ArgumentParser(prog=f"python -m bench {module.rsplit('.', 1)[-1]}", description=doc)
    p.add_argument("--allocs", type=int, nargs="+", default=[1_000])
    p.add_argument("--rate", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--mode", choices=modes, action="append", help=f"{', '.join(modes)} (both by default)")
    p.add_argument("--json", action="store_true", help="one JSON object per line (size x mode)")
    p.add_argument("--child", nargs=3, metavar=("NOMAD", "CONSUL", "MODE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        nomad, consul, mode = args.child
        print(json.dumps(child_fn(nomad, consul, mode, args.seconds)))
        return 0
    lock = threading.Lock()

    def log(line: str) -> None:
        with lock:
            print(line, flush=True)

    rows = run(
        args.allocs, args.rate, args.seconds, args.mode or list(modes), log if args.json else lambda _l: None, module
    )
    if not args.json:
        print(" | ".join(table))
        for r in rows:
            print(" | ".join(str(r[k]) for k in table))
    return 0


def main(argv: list[str] | None = None) -> int:
    keys = ["mode", "allocs", "nomad_bytes_per_min", "nomad_requests_per_min", "consul_bytes_per_min"]
    keys += ["change_visible_p50_s", "change_visible_p95_s", "cpu_s_per_min", "peak_rss_mb"]
    return per_mode_main(argv, module="bench.churn", doc=__doc__, modes=MODES, child_fn=child, table=keys)


if __name__ == "__main__":
    raise SystemExit(main())
