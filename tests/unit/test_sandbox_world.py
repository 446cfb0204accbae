"""Sandbox data generation and small parsers, without HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from sandbox import Sandbox
from sandbox.clock import SimClock
from sandbox.filters import compile_filter
from sandbox.http import HTTPError, parse_wait
from sandbox.world import World


def test_same_seed_same_world_and_conventions():
    a, b = World(40, 7, clock=SimClock(1_700_000_000)), World(40, 7, clock=SimClock(1_700_000_000))
    assert a.describe() == b.describe()
    assert [x.id for x in a.alloc_list] == [x.id for x in b.alloc_list]
    assert a.clients[0].slug == "northern-leaf" and a.clients[0].scenario is None
    assert 0.15 <= len(a.describe()["unhealthy"]) / 40 <= 0.25
    assert {"northern-leaf-web", "northern-leaf-api", "northern-leaf-worker", "northern-leaf-reports"} <= {
        j.id for j in a.jobs.values()
    }
    assert {s.name for s in a.consul_services} == {"web", "api"}  # names do not grow with clients
    assert any("us-east-1" in c.datacenters for c in a.clients)


def test_frozen_world_moves_only_when_told():
    # A ticker every millisecond would move an unfrozen sandbox many times during these reads.
    with Sandbox(clients=8, frozen=True, tick_seconds=0.001, start_time=1_700_000_000) as sb:
        w = sb.world
        running = [d for d in w.deployments.values() if d.status == "running"]
        assert running, "seed 7 has a deployment in flight at start"
        still = w.digest()
        for _ in range(5):
            with urllib.request.urlopen(f"{sb.nomad_addr}/v1/deployments?namespace=*", timeout=10) as r:
                assert r.status == 200
        assert sb.clock.now() == 1_700_000_000 and w.digest() == still
        assert all(d.status == "running" for d in running)
        before = w.index
        w.clock.advance(600)
        assert w.index > before and w.digest() != still
        assert all(d.status == "successful" for d in running)


def _describe_in_process(hash_seed: str) -> dict:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "describe", "--clients", "40", "--seed", "7", "--advance", "1800"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_same_seed_same_world_whatever_the_hash_seed():
    """Issue 9 item 19: str hashes change with PYTHONHASHSEED; the world must not depend on them."""
    fresh = World(40, 7, clock=SimClock(1_700_000_000)).describe()
    a, b = _describe_in_process("1"), _describe_in_process("2")
    # The half hour of simulated time started new deployments (new job versions), so the check covers them.
    assert a["deployments"] > fresh["deployments"]
    assert a == b


def test_parse_wait_and_filters():
    assert parse_wait("30s") == 30 and parse_wait("5m") == 300 and parse_wait("1h") == 600
    assert parse_wait(None) == 300
    with pytest.raises(HTTPError):
        parse_wait("soon")
    f = compile_filter('Meta.client == "a" and Status != "dead"')
    assert f({"Meta": {"client": "a"}, "Status": "running"}) and not f({"Meta": {"client": "b"}})
    with pytest.raises(HTTPError):
        compile_filter("Status matches x")
