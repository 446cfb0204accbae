"""The Consul follower's state against a full read, after random check flaps, registrations and
deregistrations (a property test over real HTTP to the sandbox).

snapshot.consul_follow reads everything once, then follows only the checks that are not passing
(a blocking query on /v1/health/state/warning, then /critical: both answer with the checks table's
index, so it wakes on any check write; agent/consul/state/catalog.go checksInStateTxn), and looks
up the instances and checks of the allocations Nomad reports changed: ``?filter=ServiceID matches
"^_nomad-task-(<alloc IDs>)-"`` (Nomad's service IDs carry the allocation ID, nomad
client/serviceregistration/id.go MakeAllocServiceID; Consul filters the rows it read,
agent/consul/catalog_endpoint.go ListServices/ServiceNodes, agent/consul/health_endpoint.go
ServiceChecks). Here Nomad's reports come from the allocations list over HTTP before and after the
operations, through the refresher's own listener code (``AllocChanges``). Its promise, checked here:

* the checks that are not passing are exactly a full read's from the first answer after the report
  (the lookups come with the next), and so is what client health shows;
* every other check is a full read's too -- registered passing, deregistered or changed since the
  last full read -- except the output of a check passing in both: one that recovered since is shown
  passing without its output, and one that went bad and recovered between two reads (no allocation
  change to look up) keeps its older output. Consul's own agent treats an output-only change as
  not urgent either: it defers syncing it to the catalog (agent/local/state.go, ``DeferCheck``);
* every service instance is a full read's (added, removed, re-tagged), with no full read between;
* once a full read is due, the next change makes its checks and services equal a full read.
"""

from __future__ import annotations

import pandas as pd
import pytest
import requests
from consul_world import NOW, conns, sb, settings_of, world
from consul_world import act as world_act
from consul_world import nomad_lists as nomad_raw
from consul_world import running as world_running
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import views
from connectors import ConsulConnector, NomadConnector
from snapshot.consul_follow import AllocChanges, ConsulFollow

__all__ = ["conns", "sb"]  # the shared world's fixtures (tests/contract/consul_world.py)


def running(sb) -> list:
    """Allocations a restart or stop always reaches (consul_world.running, reachable)."""
    return world_running(sb, reachable=True)


def registered(sb) -> list:
    """Reachable running allocations with an instance in Consul's catalog. Allocation IDs carry the
    sandbox's start time, so which one sorts first changes from run to run, and it can be one whose
    services Nomad registers itself (provider "nomad"), with nothing in Consul."""
    w = sb.world
    with w.lock:
        return [a for a in running(sb) if any(s in w.consul_services for s in w.consul_by_alloc.get(a.id, ()))]


def act(sb, op: str, n: int) -> None:
    """consul_world.act with time moving 5 to 64 s and restarts and stops of reachable allocations."""
    world_act(sb, op, n, spread=60, reachable=True)


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


def instances(services: dict) -> dict:
    """{name: {(node, service ID): entry}}: the catalog as sets (the order of a name's entries is
    Consul's index order in Consul and registration order in the sandbox; the views do not read it)."""
    return {n: {(e["Node"], e["ServiceID"]): e for e in rows} for n, rows in services.items()}


def full_services(consul: ConsulConnector) -> dict:
    return {n: consul.catalog_service(n, slim=True).data for n in sorted(consul.catalog_services().data)}


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
    changes = AllocChanges()
    changes(nomad.list_allocations(slim=True).data)
    first = follow.checks(None, None)
    services = follow.services(None, None)
    for op, n in ops:
        act(sb, op, n)
    follow.allocations_changed(changes(nomad.list_allocations(slim=True).data))

    # Not passing: exactly the full read's, at once (a flap does not wait for the lookups)...
    got = follow.checks(first.index, 0.05)
    full = consul.health_state("any", slim=True)
    have, want = keyed(got.data), keyed(full.data)
    assert {k: c for k, c in have.items() if c["Status"] != "passing"} == {
        k: c for k, c in want.items() if c["Status"] != "passing"
    }
    # ... and the next answer has looked the reported allocations up.
    got = follow.checks(got.index, 0.05)
    have = keyed(got.data)
    assert got.index == full.index
    assert {k: c for k, c in have.items() if c["Status"] != "passing"} == {
        k: c for k, c in want.items() if c["Status"] != "passing"
    }
    # The rest: the full read's (registered passing, deregistered, changed), except the output of a
    # check passing in both (recovered since, or flapped and recovered between two reads).
    assert have.keys() == want.keys(), "a check registered or deregistered since the full read"
    for k in want:
        older_output = {**have[k], "Output": ""} == {**want[k], "Output": ""} and have[k]["Status"] == "passing"
        assert have[k] == want[k] or (older_output and want[k]["Status"] == "passing"), k

    # Every instance: the full read's, with no full read since the first.
    svc = follow.services(services.index, 0.05)
    services_now = full_services(consul)
    assert instances(svc.data) == instances(services_now)
    assert follow.counts["services_full"] == 1 and follow.counts["checks_full"] == 1
    assert follow.counts["unexplained"] == 0, "every instance change came with its allocation's"

    # What support reads first, client health, is the same as from a full read.
    raw = nomad_raw(nomad)
    mine = views.build_frames({**raw, "consul_services": services_now, "consul_checks": got.data}, cluster="t", now=NOW)
    theirs = views.build_frames(
        {**raw, "consul_services": services_now, "consul_checks": full.data}, cluster="t", now=NOW
    )
    cols = ["client", "status", "reason", "checks_critical", "checks_warning"]
    pd.testing.assert_frame_equal(mine.clients[cols], theirs.clients[cols])

    # A full read is due: the next change brings both sources back to a full read exactly.
    clock[0] = 10_000.0
    flap_one(sb)
    svc_after = follow.services(svc.index, 0.05)
    chk_after = follow.checks(got.index, 0.05)
    assert keyed(chk_after.data) == keyed(consul.health_state("any", slim=True).data)
    assert instances(svc_after.data) == instances(full_services(consul))


@pytest.fixture()
def fresh():
    with world() as s:
        yield s, ConsulConnector(settings_of(s).consul)


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
    settings_ = settings_of(sb)
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


def test_the_refresher_tells_the_follower_which_allocations_changed(fresh):
    """By default (no DASHBOARD_CONSUL_DELTA) the refresher follows Consul this way and its own
    allocations source tells the follower what changed: a stopped allocation's instance leaves the
    services frame, and a rescheduled one's replacement arrives, with no second full read."""
    from snapshot import Refresher

    sb, _ = fresh
    settings_ = settings_of(sb)
    ref = Refresher(settings_, wait=5, min_interval=0.1, debounce=0.05, min_build_interval=0.1)
    assert ref.consul_follow is not None
    with ref:
        ref.wait_for(lambda s: s.built_at is not None and s.sources["consul_services"].has_data, timeout=30)
        assert ref.current().sources["consul_services"].mode == "failing checks and changed allocations"
        with sb.world.lock:
            gone = registered(sb)[0]
            sid = next(s.id for s in sb.world.consul_by_alloc[gone.id] if s in sb.world.consul_services)
        r = requests.post(f"{sb.nomad_addr}/v1/allocation/{gone.id}/stop", json={}, timeout=10)
        assert r.status_code == 200, r.text

        def catalog_ids() -> set:
            return {e["ServiceID"] for rows in ref.raw()["consul_services"].values() for e in rows}

        ref.wait_for(lambda s: sid not in catalog_ids(), timeout=30)
        ref.wait_for(lambda s: sid not in set(s.frames.services["service_id"]), timeout=30)
        w = sb.world
        with w.lock:
            old = registered(sb)[0]
            new = w._reschedule(w.clock.now_ns(), old, 1, "Exit Code: 1")
            w.changed.notify_all()
        ref.wait_for(
            lambda s: (
                {e["ServiceID"][12:48] for rows in ref.raw()["consul_services"].values() for e in rows} >= {new.id}
            ),
            timeout=30,
        )
        ref.wait_for(lambda s: new.id in set(s.frames.services["alloc_id"]), timeout=30)
        assert old.id not in {a[12:48] for a in catalog_ids()}
    assert ref.consul_follow.counts["services_full"] == 1
    assert ref.consul_follow.counts["services_lookups"] >= 1


def test_a_flap_does_not_wait_for_a_lookup(fresh):
    """The changed allocations' lookup runs on its own thread: while Consul is slow to answer it
    (seconds at 100,000 on a busy server), a flap still shows in the next answer, the stopped
    allocation's checks still held; the first answer after the lookup ended has them gone."""
    sb, consul = fresh
    nomad = NomadConnector(settings_of(sb).nomad)
    follow = ConsulFollow(consul, lookup_wait=0)  # as the refresher makes it
    changes = AllocChanges()
    changes(nomad.list_allocations(slim=True).data)
    first = follow.checks(None, None)
    w = sb.world
    with w.lock:
        gone = registered(sb)[0]
        gone_ids = {s.id for s in w.consul_by_alloc[gone.id] if s in w.consul_services}
        other = next(s for s in w.consul_services if s.check_status == "passing" and s.alloc is not gone)
    r = requests.post(f"{sb.nomad_addr}/v1/allocation/{gone.id}/stop", json={}, timeout=10)
    assert r.status_code == 200, r.text
    follow.allocations_changed(changes(nomad.list_allocations(slim=True).data))
    sb.faults.inject("consul", "/v1/health/checks/:name", latency=5.0)  # the lookup's reads
    got = follow.checks(first.index, 1)  # starts the lookup
    with w.lock:
        w._set_check(other, "warning", "HTTP GET: 429 Too Many Requests")
        other.check_modify_index = w.touch("consul_checks")
    got = follow.checks(got.index, 1)
    by_sid = {c["ServiceID"]: c for c in got.data}
    assert by_sid[other.id]["Status"] == "warning"
    assert gone_ids <= by_sid.keys(), "the lookup was still under way"
    sb.faults.clear()
    follow.lookup_wait = None  # the next call waits for the lookup to end
    got = follow.checks(got.index, 1)
    by_sid = {c["ServiceID"]: c for c in got.data}
    assert by_sid[other.id]["Status"] == "warning" and not gone_ids & by_sid.keys()
    assert keyed(got.data) == keyed(consul.health_state("any", slim=True).data)
    assert follow.counts["checks_full"] == 1
