"""The world the Consul property tests share (test_check_patch.py, test_consul_follow.py): a small
frozen sandbox, connectors to it over real HTTP, and the changes the tests draw at random.

Imported by those modules (fixtures included: no conftest.py here, so nothing reaches other modules);
each module that uses ``sb`` gets a sandbox of its own.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
import requests

from connectors import ConsulConnector, NomadConnector
from connectors.settings import load
from sandbox import Sandbox

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def world() -> Sandbox:
    """A new sandbox of the tests' world (6 clients, seed 11, time moving only when told)."""
    return Sandbox(clients=6, seed=11, frozen=True)


def settings_of(sb):
    return load({"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr})


def connectors_of(sb) -> tuple[NomadConnector, ConsulConnector]:
    settings_ = settings_of(sb)
    return NomadConnector(settings_.nomad), ConsulConnector(settings_.consul)


@pytest.fixture(scope="module")
def sb():
    with world() as s:
        yield s


@pytest.fixture(scope="module")
def conns(sb):
    return connectors_of(sb)


def running(sb, *, reachable: bool = False) -> list:
    """The running allocations, by ID; ``reachable``: only ordinary clients' (no scenario) on nodes
    that are up, the ones a restart or stop through the API always reaches."""
    w = sb.world
    with w.lock:
        return [
            a
            for a in sorted(w.alloc_list, key=lambda a: a.id)
            if a.client_status == "running"
            and not a.terminal
            and not (reachable and (a.job.client.scenario or a.node.status == "down"))
        ]


def act(sb, op: str, n: int, *, spread: int = 90, reachable: bool = False) -> None:
    """churn: a flap, a crash (check critical), a reschedule (deregistered + registered elsewhere) or a
    deployment (every instance of a job replaced); flap: one check write for sure, of any service
    (node checks included); stop: a deregistration; restart: critical, then passing once time moves;
    time: 5 + n % ``spread`` seconds pass, so checks recover and restarts finish. ``reachable``: as in
    ``running``, for the allocation a restart or stop picks."""
    w = sb.world
    if op == "churn":
        with w.lock:
            w._churn_rng = random.Random(n)
            w._churn_change(w.clock.now_ns())
            w.changed.notify_all()
    elif op == "flap":
        with w.lock:
            s = sorted(w.consul_services, key=lambda x: x.id)[n % len(w.consul_services)]
            if s.check_status == "passing":
                w._set_check(s, "critical" if n % 2 else "warning", "HTTP GET: 503")
            else:
                w._set_check(s, "passing", "HTTP GET: 200 OK")
            s.check_modify_index = w.touch("consul_checks")
    elif op == "time":
        sb.clock.advance(5 + n % spread)
    else:
        live = running(sb, reachable=reachable)
        if not live:
            return
        a = live[n % len(live)]
        path = "client/allocation" if op == "restart" else "allocation"
        verb = "restart" if op == "restart" else "stop"
        r = requests.post(f"{sb.nomad_addr}/v1/{path}/{a.id}/{verb}", json={}, timeout=10)
        assert r.status_code == 200, r.text


def nomad_lists(nomad: NomadConnector, *, nomad_services: bool = False) -> dict:
    """Nomad's lists as the refresher reads them (``nomad_services``: Nomad's own service list too)."""
    raw = {
        "allocations": nomad.list_allocations(slim=True).data,
        "deployments": nomad.list_deployments().data,
        "nodes": nomad.list_nodes().data,
        "jobs": nomad.list_jobs().data,
        "namespaces": nomad.list_namespaces().data,
    }
    if nomad_services:
        raw["nomad_services"] = nomad.list_services().data
    return raw
