"""Sandbox data generation and small parsers, without HTTP."""

from __future__ import annotations

import pytest

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
    w = World(8, 7, clock=SimClock(1_700_000_000))
    running = [d for d in w.deployments.values() if d.status == "running"]
    before = w.index
    w.clock.advance(600)
    assert w.index > before
    assert all(d.status == "successful" for d in running)


def test_parse_wait_and_filters():
    assert parse_wait("30s") == 30 and parse_wait("5m") == 300 and parse_wait("1h") == 600
    assert parse_wait(None) == 300
    with pytest.raises(HTTPError):
        parse_wait("soon")
    f = compile_filter('Meta.client == "a" and Status != "dead"')
    assert f({"Meta": {"client": "a"}, "Status": "running"}) and not f({"Meta": {"client": "b"}})
    with pytest.raises(HTTPError):
        compile_filter("Status matches x")
