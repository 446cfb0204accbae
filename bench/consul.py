"""What following Consul costs on a churning cluster: ``python -m bench consul``.

    python -m bench consul --allocs 1000 100000 --rate 5 --seconds 60 [--mode delta|lists] [--json]

Consul alone, so it can be measured at 100,000 allocations where the whole dashboard's first load
is the bottleneck. Per size one sandbox process with ``--churn R``; per mode one child process
runs the refresher's two Consul watchers (``Refresher._watch``, the same pacing: at least
``min_interval`` 2 s apart, 30 s blocking waits) and nothing else:

* ``lists``: today's blocking queries on whole lists (``/v1/health/state/any``; on a new
  ``/v1/catalog/services`` index, ``/v1/catalog/service/:name`` for every name);
* ``delta``: snapshot.consul_follow (``/v1/health/state/warning`` blocking, then ``/critical``; the
  changed allocations' instances and checks looked up, told from Nomad's event stream as the
  refresher tells it; a full read only when a change is unexplained).

After both sources hold data the sandbox's counters are reset; for ``--seconds``:

  consul_bytes_per_min, consul_requests_per_min   response bytes and requests Consul served
  consul_visible_p50_s, consul_visible_p95_s      from the sandbox applying a check flap (GET
                          /_sandbox/churn) to the refresher holding Consul data at that index (its
                          listener; frame builds are the views' cost, measured by ``bench churn``)
  full_reads              delta mode: full reads of the checks and of the catalog in the window,
                          lookups of changed allocations, wakes no lookup explained
  full_read_bytes, full_every_s   the size of one full read (the first) and, delta mode, how often
                          one is made while things change: their amortized cost is
                          full_read_bytes * 60 / full_every_s per minute
  cpu_s_per_min, peak_rss_mb   of the child process

Nomad's changes are told apart with a plain reader of Nomad's event stream in the child, which also
tells the follower which allocations changed (Nomad's bytes are not counted here).
"""

from __future__ import annotations

import json
import resource
import threading
import time

import requests

from .churn import per_mode_main

MODES = ("delta", "lists")


def counters(addr: str) -> tuple[int, int]:
    """(requests, response bytes) the sandbox server at `addr` has counted."""
    stats = requests.get(addr + "/_sandbox/stats", timeout=10).json()
    sent = requests.get(addr + "/_sandbox/bytes", timeout=10).json()["bytes"]
    return int(stats.get("total", 0)), int(sent)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 3)


def _nomad_indexes(nomad: str, into: set[int], stop: threading.Event, feed=None) -> None:
    """Nomad's event indexes into ``into``; ``feed(ids)`` gets the allocations each frame changed
    (what the dashboard's refresher tells the Consul follower from its own event stream)."""
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
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line.strip() and line.strip() != b"{}":
                    frame = json.loads(line)
                    into.add(frame["Index"])
                    if feed is not None:
                        feed({e.get("Key") for e in frame.get("Events") or () if e.get("Topic") == "Allocation"})


def child(nomad: str, consul: str, mode: str, seconds: float) -> dict:
    from connectors.settings import load
    from snapshot import Refresher
    from snapshot.refresher import CONSUL_SOURCES

    from .baseline import peak_rss_mb

    seen: list[tuple[float, int]] = []  # (monotonic, consul_checks index) when the checks changed
    settings = load({"NOMAD_ADDR": nomad, "CONSUL_HTTP_ADDR": consul})
    ref = Refresher(settings, consul_delta=(mode == "delta"), build=lambda raw, **kw: None)
    src = ref._sources["consul_checks"]

    def listener(source: str, _raw) -> None:
        if source == "consul_checks":
            seen.append((time.monotonic(), src.index))

    ref.add_listener(listener)
    nomad_idx: set[int] = set()
    stop = threading.Event()
    feed = ref.consul_follow.allocations_changed if ref.consul_follow else None
    threading.Thread(target=_nomad_indexes, args=(nomad, nomad_idx, stop, feed), daemon=True).start()
    _, before = counters(consul)
    ref._start_watchers(CONSUL_SOURCES)  # the refresher's own watcher loop, Consul's sources only
    try:
        deadline = time.monotonic() + 1800
        while not all(ref._sources[n].raw is not None for n in CONSUL_SOURCES):
            if time.monotonic() > deadline:
                raise TimeoutError("Consul's first read did not finish")
            time.sleep(0.2)
        full_bytes = counters(consul)[1] - before  # one full read of both sources
        time.sleep(0.5)
        full0 = dict(ref.consul_follow.counts) if ref.consul_follow else {}
        requests.post(consul + "/_sandbox/stats/reset", timeout=10)
        t0 = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(seconds)
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        elapsed = time.monotonic() - t0
        c_req, c_bytes = counters(consul)
        by_path = requests.get(consul + "/_sandbox/stats", timeout=10).json()
        full1 = dict(ref.consul_follow.counts) if ref.consul_follow else {}
        time.sleep(min(10.0, seconds / 4))  # let the window's last changes arrive
        changes = requests.get(nomad + "/_sandbox/churn", params={"since": t0}, timeout=10).json()["changes"]
        changes = [c for c in changes if c[0] <= t0 + elapsed]
    finally:
        stop.set()
        ref.stop(timeout=0.1)
    flaps = [(applied, idx) for applied, _alloc, idx in changes if idx not in nomad_idx]
    delays = []
    for applied, idx in flaps:
        t = next((t for t, i in seen if i >= idx and t >= applied), None)
        if t is not None:
            delays.append(t - applied)
    per_min = 60.0 / elapsed
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    kinds = ("checks_full", "services_full", "checks_lookups", "services_lookups", "unexplained")
    full = {k: full1[k] - full0.get(k, 0) for k in kinds} if full1 else None
    return {
        "consul_bytes_per_min": round(c_bytes * per_min),
        "consul_requests_per_min": round(c_req * per_min, 1),
        "consul_visible_p50_s": pct(delays, 0.5),
        "consul_visible_p95_s": pct(delays, 0.95),
        "flaps": len(flaps),
        "flaps_seen": len(delays),
        "full_reads": full,
        "full_read_bytes": full_bytes,  # the first read: checks + every name's catalog
        # delta mode: seconds between full reads while things change (checks, catalog)
        "full_every_s": {k: round(v, 1) for k, v in ref.consul_follow.full_every.items()}
        if ref.consul_follow
        else None,
        "consul_requests_by_path_per_min": {
            k: round(v * per_min, 1) for k, v in sorted(by_path.items(), key=lambda kv: -kv[1]) if k != "total"
        },
        "cpu_s_per_min": round(cpu * per_min, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    keys = ["mode", "allocs", "consul_bytes_per_min", "consul_requests_per_min"]
    keys += ["consul_visible_p50_s", "consul_visible_p95_s", "full_reads", "cpu_s_per_min", "peak_rss_mb"]
    return per_mode_main(argv, module="bench.consul", doc=__doc__, modes=MODES, child_fn=child, table=keys)


if __name__ == "__main__":
    raise SystemExit(main())
