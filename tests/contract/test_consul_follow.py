"""The Consul follower's state against a full read, after random check flaps, registrations and
deregistrations (a property test over real HTTP to the sandbox).

snapshot.consul_follow reads everything once, then follows only the checks that are not passing
(a blocking query on /v1/health/state/warning, then /critical: both answer with the checks table's
index, so it wakes on any check write; agent/consul/state/catalog.go checksInStateTxn) and reads
everything again when a full read is due. Its promise, checked here:

* the checks that are not passing are exactly a full read's, and so is what client health shows;
* every other check it holds is a full read's, passing -- except one registered since its last full
  read (missing until the next), one deregistered since (still shown, passing) and one that
  recovered since (shown passing, without its output);
* once a full read is due, the next change makes its checks and services equal a full read.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pandas as pd
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import views
from connectors import ConsulConnector, NomadConnector
from connectors.settings import load
from sandbox import Sandbox
from snapshot.consul_follow import ConsulFollow

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(clients=6, seed=11, frozen=True) as s:
        yield s


@pytest.fixture(scope="module")
def conns(sb):
    settings_ = load({"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr})
    return NomadConnector(settings_.nomad), ConsulConnector(settings_.consul)


def running(sb) -> list:
    w = sb.world
    with w.lock:
        return [
            a
            for a in sorted(w.alloc_list, key=lambda a: a.id)
            if a.client_status == "running" and not a.terminal and not a.job.client.scenario and a.node.status != "down"
        ]


def act(sb, op: str, n: int) -> None:
    """churn: a flap, a crash (check critical), a reschedule (deregistered + registered elsewhere) or a
    deployment (every instance of a job replaced); stop: a deregistration; restart: critical, then
    passing once time moves; time: checks recover, restarts finish."""
    w = sb.world
    if op == "churn":
        with w.lock:
            w._churn_rng = random.Random(n)
            w._churn_change(w.clock.now_ns())
            w.changed.notify_all()
    elif op == "time":
        sb.clock.advance(5 + n % 60)
    else:
        live = running(sb)
        if not live:
            return
        a = live[n % len(live)]
        path = "client/allocation" if op == "restart" else "allocation"
        verb = "restart" if op == "restart" else "stop"
        r = requests.post(f"{sb.nomad_addr}/v1/{path}/{a.id}/{verb}", json={}, timeout=10)
        assert r.status_code == 200, r.text


def flap_one(sb) -> None:
    """One check write for sure (a churn draw may find nothing to change): the first check toggles."""
    w = sb.world
    with w.lock:
        s = next(iter(w.consul_services))
        if s.check_status == "passing":
            w._set_check(s, "warning", "HTTP GET: 429 Too Many Requests")
        else:
            w._set_check(s, "passing", "HTTP GET: 200 OK")
        s.check_modify_index = w.touch("consul_checks")


def keyed(checks: list[dict]) -> dict:
    return {(c["Node"], c["CheckID"]): c for c in checks}


def nomad_raw(nomad: NomadConnector) -> dict:
    return {
        "allocations": nomad.list_allocations(slim=True).data,
        "deployments": nomad.list_deployments().data,
        "nodes": nomad.list_nodes().data,
        "jobs": nomad.list_jobs().data,
        "namespaces": nomad.list_namespaces().data,
    }


OPS = st.lists(
    st.tuples(st.sampled_from(["churn", "churn", "churn", "stop", "restart", "time"]), st.integers(0, 10_000)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_follower_state_equals_a_full_read(sb, conns, ops):
    nomad, consul = conns
    sb.clock.advance(120)  # earlier examples' flaps recover: the world stays a mix
    clock = [0.0]
    follow = ConsulFollow(consul, monotonic=lambda: clock[0])
    first = follow.checks(None, None)
    services = follow.services(None, None)
    at_full = keyed(first.data)
    for op, n in ops:
        act(sb, op, n)

    got = follow.checks(first.index, 0.05)
    full = consul.health_state("any", slim=True)
    have, want = keyed(got.data), keyed(full.data)
    assert got.index == full.index
    # Not passing: exactly the full read's.
    assert {k: c for k, c in have.items() if c["Status"] != "passing"} == {
        k: c for k, c in want.items() if c["Status"] != "passing"
    }
    # The rest: the full read's, or one of the three known differences.
    for k in want.keys() - have.keys():
        assert k not in at_full and want[k]["Status"] == "passing", "only a check registered passing is missing"
    for k in have.keys() - want.keys():
        assert k in at_full and have[k]["Status"] == "passing", "only a deregistered check lingers"
    for k in have.keys() & want.keys():
        recovered = at_full.get(k, {}).get("Status", "passing") != "passing"
        assert have[k] == want[k] or (recovered and have[k] == {**at_full[k], "Status": "passing", "Output": ""})

    # What support reads first, client health, is the same as from a full read.
    raw = nomad_raw(nomad)
    services_now = {n: consul.catalog_service(n, slim=True).data for n in sorted(consul.catalog_services().data)}
    mine = views.build_frames({**raw, "consul_services": services_now, "consul_checks": got.data}, cluster="t", now=NOW)
    theirs = views.build_frames(
        {**raw, "consul_services": services_now, "consul_checks": full.data}, cluster="t", now=NOW
    )
    cols = ["client", "status", "reason", "checks_critical", "checks_warning"]
    pd.testing.assert_frame_equal(mine.clients[cols], theirs.clients[cols])

    # A full read is due: the next change brings both sources back to a full read exactly.
    clock[0] = 10_000.0
    flap_one(sb)
    svc_after = follow.services(services.index, 0.05)
    chk_after = follow.checks(got.index, 0.05)
    assert keyed(chk_after.data) == keyed(consul.health_state("any", slim=True).data)
    names = sorted(consul.catalog_services().data)
    assert svc_after.data == {n: consul.catalog_service(n, slim=True).data for n in names}


@pytest.fixture()
def fresh():
    with Sandbox(clients=6, seed=11, frozen=True) as s:
        yield s, ConsulConnector(load({"NOMAD_ADDR": s.nomad_addr, "CONSUL_HTTP_ADDR": s.consul_addr}).consul)


def test_the_property_sees_changes(fresh):
    """The operations above change both lists, and the follower's answer differs from its first read
    (else the equalities would prove nothing)."""
    sb, consul = fresh
    follow = ConsulFollow(consul)
    first = follow.checks(None, None)
    names = follow.services(None, None)
    before = keyed(first.data)
    for n in range(8):
        act(sb, "churn", n)
    act(sb, "stop", 3)
    got = follow.checks(first.index, 1)
    assert got.index > first.index and keyed(got.data) != before
    assert follow.counts["checks_not_passing"] == 1
    assert consul.catalog_services().index > names.index


def test_not_passing_reads_are_small(fresh):
    """A wake re-sends only the checks that are not passing, not every check of the cluster."""
    sb, consul = fresh
    follow = ConsulFollow(consul)
    first = follow.checks(None, None)
    requests.post(sb.consul_addr + "/_sandbox/stats/reset", timeout=10)
    before = requests.get(sb.consul_addr + "/_sandbox/bytes", timeout=10).json()["bytes"]
    flap_one(sb)
    follow.checks(first.index, 1)
    sent = requests.get(sb.consul_addr + "/_sandbox/bytes", timeout=10).json()["bytes"] - before
    full = requests.get(sb.consul_addr + "/v1/health/state/any", timeout=10).content
    assert 0 < sent < len(full) / 2


def test_the_refresher_follows_consul_this_way(fresh):
    """With consul_delta on, a flap reaches the snapshot through the not-passing query, without
    another full read of the checks."""
    from snapshot import Refresher

    sb, _ = fresh
    settings_ = load({"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr})
    ref = Refresher(settings_, consul_delta=True, wait=5, min_interval=0.1, debounce=0.05, min_build_interval=0.1)
    with ref:
        ref.wait_for(lambda s: s.built_at is not None and s.sources["consul_checks"].has_data, timeout=30)
        w = sb.world
        with w.lock:
            s = next(x for x in w.consul_services if x.check_status == "passing")
            w._set_check(s, "warning", "HTTP GET: 429 Too Many Requests")
            s.check_modify_index = w.touch("consul_checks")

        def shows(snap) -> bool:
            checks = snap.frames.checks
            return bool(((checks["service_id"] == s.id) & (checks["status"] == "warning")).any())

        ref.wait_for(shows, timeout=30)
    assert ref.consul_follow.counts["checks_full"] == 1
    assert ref.consul_follow.counts["checks_not_passing"] >= 1
