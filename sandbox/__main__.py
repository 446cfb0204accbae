"""`python -m sandbox serve ...`: run the emulators until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from .core import Sandbox
from .multi import MultiSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Nomad + Consul API sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the Nomad and Consul APIs on 127.0.0.1")
    serve.add_argument("--nomad-port", type=int, default=4646)
    serve.add_argument("--consul-port", type=int, default=8500)
    serve.add_argument("--clients", type=int, default=40)
    serve.add_argument("--allocs", type=int, default=None, help="size the platform to about N allocations")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument(
        "--clusters", type=int, default=1, help="serve N independent clusters, on ports +10 each (up to 3)"
    )
    serve.add_argument("--acl", action="store_true", help="require ACL tokens (printed below)")
    serve.add_argument("--frozen", action="store_true", help="simulated time only moves when told")
    serve.add_argument(
        "--churn", type=float, default=0, help="about R allocation changes per second (GET /_sandbox/churn lists them)"
    )
    describe = sub.add_parser("describe", help="print the generated world's summary and digest as JSON, no servers")
    describe.add_argument("--clients", type=int, default=40)
    describe.add_argument("--allocs", type=int, default=None)
    describe.add_argument("--seed", type=int, default=7)
    describe.add_argument("--start-time", type=float, default=1_700_000_000, help="simulated start (Unix seconds)")
    describe.add_argument("--advance", type=float, default=0, help="then move simulated time this many seconds")
    args = parser.parse_args(argv)
    if args.command == "describe":
        return _describe(args)

    started = time.monotonic()
    common = dict(
        seed=args.seed,
        acl=args.acl,
        frozen=args.frozen,
        nomad_port=args.nomad_port,
        consul_port=args.consul_port,
        churn=args.churn,
    )
    if args.clusters != 1:
        if args.allocs:
            parser.error("--allocs works with one cluster only")
        group = MultiSandbox(args.clusters, clients=args.clients, **common).start()
        sandboxes = list(group)
    else:
        sb = Sandbox.sized(args.allocs, **common) if args.allocs else Sandbox(clients=args.clients, **common)
        sandboxes = [sb.start()]
    for sb in sandboxes:
        info = sb.describe()
        if len(sandboxes) > 1:
            print(f"# cluster {sb.name} (region {sb.world.profile.region}, {', '.join(sb.world.profile.datacenters)})")
        print(f"NOMAD_ADDR={sb.nomad_addr}")
        print(f"CONSUL_HTTP_ADDR={sb.consul_addr}")
        if args.acl:
            for role, secret in sb.tokens.items():
                print(f"NOMAD_TOKEN={secret}  # {role}")
            for role, secret in sb.consul_tokens.items():
                print(f"CONSUL_HTTP_TOKEN={secret}  # {role}")
        print(
            f"# {info['clients']} clients, {info['jobs']} jobs, {info['allocations']} allocations, "
            f"{len(info['unhealthy'])} unhealthy clients",
            flush=True,
        )
    print(f"# ready in {time.monotonic() - started:.1f}s", flush=True)

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    for sb in sandboxes:
        sb.stop()
    return 0


def _describe(args) -> int:
    common = dict(seed=args.seed, frozen=True, start_time=args.start_time)
    sb = Sandbox.sized(args.allocs, **common) if args.allocs else Sandbox(clients=args.clients, **common)
    step = 60.0  # in minutes, as the live ticker would, so the world lives through the whole span
    left = args.advance
    while left > 0:
        sb.clock.advance(min(step, left))
        left -= step
    print(json.dumps(dict(sb.describe(), digest=sb.world.digest(), now=sb.clock.now()), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
