"""The raw_fetch_parse reference floor, run in its own process by `python -m bench`.

    python -m bench.baseline --nomad http://127.0.0.1:4646 --consul http://127.0.0.1:8500 [--runs 5]

Plain `requests.get(url).json()` of exactly the list endpoints the snapshot uses
(one warm-up, then --runs timed runs).  Prints one JSON object:
{"times": [seconds per run], "peak_rss_mb": this process's peak resident memory}.
It runs apart from the snapshot so that its parsed copy of every body does not
count in the dashboard's peak memory (it is a reference, not the dashboard).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any

import requests

NOMAD_LISTS = (
    ("jobs", "/v1/jobs?namespace=*&meta=true"),
    ("allocations", "/v1/allocations?namespace=*&task_states=true"),
    ("deployments", "/v1/deployments?namespace=*"),
    ("nodes", "/v1/nodes"),
    ("namespaces", "/v1/namespaces"),
    ("nomad_services", "/v1/services?namespace=*"),
)


def raw_fetch_parse(nomad: str, consul: str, session: requests.Session) -> dict[str, Any]:
    """Exactly the list endpoints the snapshot uses, as plain requests + .json()."""
    out: dict[str, Any] = {}
    for key, path in NOMAD_LISTS:
        out[key] = session.get(nomad + path, timeout=120).json()
    names = session.get(consul + "/v1/catalog/services", timeout=120).json()
    out["consul_services"] = {
        n: session.get(consul + "/v1/catalog/service/" + n, timeout=120).json() for n in sorted(names)
    }
    out["consul_checks"] = session.get(consul + "/v1/health/state/any", timeout=120).json()
    return out


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 if sys.platform != "darwin" else rss / (1024.0 * 1024.0)


def measure(nomad: str, consul: str, runs: int) -> dict[str, Any]:
    times: list[float] = []
    with requests.Session() as session:
        raw = raw_fetch_parse(nomad, consul, session)  # warm-up: the sandbox caches rendered bodies
        del raw
        for _ in range(runs):
            t = time.perf_counter()
            raw = raw_fetch_parse(nomad, consul, session)
            times.append(time.perf_counter() - t)
            del raw
    return {"times": times, "peak_rss_mb": round(peak_rss_mb(), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.baseline", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--nomad", required=True)
    p.add_argument("--consul", required=True)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    print(json.dumps(measure(args.nomad, args.consul, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
