"""Consul's changes patched into the last frames equal a full build (a property test over real HTTP).

Following Consul (snapshot.consul_follow), each checks answer is the last full read's check dicts
with the ones that are not passing in front, freshly read, and each services answer the held
catalog with the instances of the allocations Nomad reported changed looked up again; so
views.incremental patches the checks and services frames by identity and assesses again only the
clients whose checks that are not passing, or whose instances, differ (views.checkpatch). After every random change (the churn simulation's flaps, crashes, reschedules
and deployments, restarts and stops through the API, time passing so checks recover) the patched
frames must be identical to views.build_frames of the same raw, and the patch must really have been
taken (else the equality would prove nothing).
"""

from __future__ import annotations

import pandas as pd
from consul_world import NOW, act, connectors_of, conns, nomad_lists, running, sb, world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import views
from snapshot.consul_follow import AllocChanges, ConsulFollow
from views.incremental import FrameBuilder

__all__ = ["conns", "sb"]  # the shared world's fixtures (tests/contract/consul_world.py)


def nomad_raw(nomad) -> dict:
    return nomad_lists(nomad, nomad_services=True)  # the frames include Nomad's own services


def assert_same(patched: views.Frames, raw: dict) -> None:
    want = views.build_frames(raw, cluster="t", identity=views.ClientIdentity(), now=NOW)
    for name, frame in want.as_dict().items():
        pd.testing.assert_frame_equal(getattr(patched, name), frame, obj=f"patched frame {name}")


OPS = st.lists(
    st.tuples(st.sampled_from(["flap", "flap", "churn", "churn", "restart", "stop", "time"]), st.integers(0, 10_000)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_checks_patched_equal_a_full_build(sb, conns, ops):
    nomad, consul = conns
    sb.clock.advance(120)  # earlier examples' flaps recover: the world stays a mix
    follow = ConsulFollow(consul, full_min=1e9)  # no full read while the example runs
    changes = AllocChanges()  # the refresher's listener: which allocations changed
    changes(nomad.list_allocations(slim=True).data)
    checks = follow.checks(None, None)
    services = follow.services(None, None)
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    raw = {**nomad_raw(nomad), "consul_services": services.data, "consul_checks": checks.data}
    builder.build(raw, now=NOW)
    for op, n in ops:
        act(sb, op, n)
        nraw = nomad_raw(nomad)
        follow.allocations_changed(changes(nraw["allocations"]))
        services = follow.services(services.index, 0.05)
        checks = follow.checks(checks.index, 0.05)
        raw = {**nraw, "consul_services": services.data, "consul_checks": checks.data}
        assert_same(builder.build(raw, now=NOW), raw)
    assert builder.full_builds == 1, builder.why_whole


def test_the_property_takes_the_patch(sb, conns):
    """Flaps are patched (no Consul frame built again), and they do change the frames."""
    nomad, consul = conns
    follow = ConsulFollow(consul, full_min=1e9)
    checks = follow.checks(None, None)
    services = follow.services(None, None)
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    nraw = nomad_raw(nomad)
    first = builder.build({**nraw, "consul_services": services.data, "consul_checks": checks.data}, now=NOW)
    for n in (1, 2, 7):
        act(sb, "flap", n)
        checks = follow.checks(checks.index, 0.05)
        raw = {**nraw, "consul_services": services.data, "consul_checks": checks.data}
        patched = builder.build(raw, now=NOW)
        assert_same(patched, raw)
    assert builder.check_patches == 3 and builder.full_builds == 1
    assert not patched.checks.equals(first.checks) and not patched.services.equals(first.services)
    assert not patched.clients.equals(first.clients)


def test_instances_that_come_and_go_are_patched():
    """A reschedule (an instance deregistered, one registered elsewhere) changes the services the
    follower holds; the frames are patched, equal a full build, and the services frame moved."""
    with world() as own:  # its own world: no earlier example's state
        reschedule_is_patched(own, *connectors_of(own))


def reschedule_is_patched(sb, nomad, consul) -> None:
    follow = ConsulFollow(consul, full_min=1e9)
    changes = AllocChanges()
    nraw = nomad_raw(nomad)
    changes(nraw["allocations"])
    checks, services = follow.checks(None, None), follow.services(None, None)
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    first = builder.build({**nraw, "consul_services": services.data, "consul_checks": checks.data}, now=NOW)
    w = sb.world
    with w.lock:
        a = next(x for x in running(sb) if w.consul_by_alloc.get(x.id))
        w._reschedule(w.clock.now_ns(), a, 137, "OOM Killed")
        w.changed.notify_all()
    sb.clock.advance(15)  # the replacement starts and registers its services
    nraw = nomad_raw(nomad)
    follow.allocations_changed(changes(nraw["allocations"]))
    held = services.data
    for _ in range(20):  # the follower looks the changed allocations up once they settle
        services = follow.services(services.index, 0.5)
        if services.data is not held:
            break
    checks = follow.checks(checks.index, 0.05)
    assert services.data is not held, "the follower saw no instance change: the test would prove nothing"
    raw = {**nraw, "consul_services": services.data, "consul_checks": checks.data}
    patched = builder.build(raw, now=NOW)
    assert_same(patched, raw)
    assert builder.full_builds == 1 and builder.check_patches >= 1, builder.why_whole
    assert set(patched.services["alloc_id"]) != set(first.services["alloc_id"])
