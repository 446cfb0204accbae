"""How long an allocation restart takes to reach an open /v1/event/stream (``python -m bench.events``).

Starts ``Sandbox.sized(allocs=N)`` with its clock running (the simulation keeps changing things,
as a live cluster does), opens one event stream on the Allocation topic, restarts allocations
one after another and times each POST -> its AllocationUpdated frame. Target: well under 1 s at
100,000 allocations.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time

import requests

from sandbox import Sandbox


def measure(allocs: int, restarts: int, churn: float = 0, log=print) -> dict:
    t = time.monotonic()
    sb = Sandbox.sized(allocs=allocs, churn=churn).start()
    log(f"sandbox with {len(sb.world.allocs):,} allocations up in {time.monotonic() - t:.1f} s")
    try:
        with sb.world.lock:  # healthy running allocations, spread over the clients
            live = [a.id for a in sb.world.alloc_list if a.client_status == "running" and not a.job.client.scenario]
        live = live[:: max(1, len(live) // restarts)][:restarts]
        # A plain socket reader: urllib3's line reading adds ~0.1 s of its own per frame.
        sock = socket.create_connection(("127.0.0.1", sb.nomad_port), timeout=60)
        sock.sendall(b"GET /v1/event/stream?namespace=*&topic=Allocation HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        stream = sock.makefile("rb")
        while stream.readline() not in (b"\r\n", b""):
            pass  # response headers
        readline = stream.readline
        assert readline().strip() == b"{}"
        latencies = []
        for alloc_id in live:
            t0 = time.monotonic()
            r = requests.post(f"{sb.nomad_addr}/v1/client/allocation/{alloc_id}/restart", timeout=30)
            if r.status_code != 200:
                continue  # the simulation may have crashed or moved it meanwhile
            while True:
                line = readline()
                if not line:
                    raise RuntimeError("the event stream ended")
                line = line.strip()
                if line == b"{}":
                    continue
                frame = json.loads(line)
                if any(e["Key"] == alloc_id and e["Type"] == "AllocationUpdated" for e in frame["Events"]):
                    latencies.append(time.monotonic() - t0)
                    break
        stream.close()
        sock.close()
    finally:
        sb.stop()
    return {
        "allocs": allocs,
        "churn_per_s": churn,
        "restarts": len(latencies),
        "median_s": round(statistics.median(latencies), 4),
        "max_s": round(max(latencies), 4),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__)
    p.add_argument("--allocs", type=int, default=100_000)
    p.add_argument("--restarts", type=int, default=20)
    p.add_argument("--churn", type=float, default=0, help="background allocation changes per simulated second")
    args = p.parse_args(argv)
    result = measure(args.allocs, args.restarts, args.churn, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
