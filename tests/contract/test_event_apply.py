"""Events applied one by one give the same lists and frames as a full reload of the same state.

A property test over real HTTP to the sandbox: load the lists once, make a random sequence of
changes (the churn simulation's crashes, reschedules and deployments, restarts and stops through
the API, time passing so restarts finish), follow /v1/event/stream from the loaded index and
apply every frame (snapshot.events), then reload the lists and require identical lists for the
event-fed sources and identical frames from views.build_frames; and frames kept up to date
frame by frame (views.incremental.FrameBuilder: only the changed rows built again, patched into
the last frames) identical to those of the full reload. Stub shapes follow
nomad/structs/alloc.go (Allocation.Stub) and nomad/structs/structs.go (Node.Stub); payloads
nomad/state/events.go. The jobs and Nomad services lists are kept by re-reading what each frame
dirtied (snapshot.rereads: nomad/job_endpoint.go Job.List, by (Namespace, ID);
nomad/state/state_store.go updateSummaryWithAlloc, nestedUpsertEval, setJobStatus/setJobSummary;
nomad/service_registration_endpoint.go List), each read made right after its frame, while the
later changes are not yet made (a stub read late would hide a missed signal).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
import requests
from consul_world import act as world_act
from consul_world import running as world_running
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import views
from connectors import NomadConnector
from connectors.settings import load
from sandbox import Sandbox
from snapshot.events import FOLLOWED_SOURCES, TOPICS, EventState, alloc_stub, node_stub
from views.incremental import FrameBuilder

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(clients=6, seed=11, frozen=True, event_heartbeat=0.05, event_buffer=10_000) as s:
        yield s


@pytest.fixture(scope="module")
def nomad(sb):
    return NomadConnector(load({"NOMAD_ADDR": sb.nomad_addr}).nomad)


def lists(nomad: NomadConnector) -> tuple[dict, int]:
    got = {
        "allocations": nomad.list_allocations(slim=True),
        "deployments": nomad.list_deployments(slim=True),
        "nodes": nomad.list_nodes(),
        "jobs": nomad.list_jobs(),
        "namespaces": nomad.list_namespaces(),
        "nomad_services": nomad.list_services(),
    }
    return {k: v.data for k, v in got.items()}, max(v.index for v in got.values())


def frames_after(nomad: NomadConnector, index: int) -> list[dict]:
    """Every frame after `index` the journal holds: they come before the second heartbeat (asked
    past its end, the journal starts at its last frame, one already seen: skipped)."""
    out, beats = [], 0
    for frame in nomad.stream_events(TOPICS, index + 1, heartbeats=True):
        if not frame:
            beats += 1
            if beats == 2:
                break
            continue
        if frame["Index"] > index:
            out.append(frame)
    return out


def running(sb) -> list:
    """The allocations a restart or stop always reaches (consul_world.running, reachable)."""
    return world_running(sb, reachable=True)


def act(sb, op: str, n: int) -> None:
    w = sb.world
    if op in ("churn", "time"):  # consul_world.act: a churn draw, or 5 to 64 s passing
        world_act(sb, op, n, spread=60, reachable=True)
    elif op in ("launch", "blocked"):  # sandbox/world/jobflow.py: a periodic run; no room for a replacement
        with w.lock:
            if op == "launch":
                parents = [j for j in w.job_list if j.role.periodic and not j.parent and not j.client.scenario]
                w.launch_periodic(w.clock.now_ns(), parents[n % len(parents)])
            else:
                live = running(sb)
                if live:
                    w.reschedule_blocked(w.clock.now_ns(), live[n % len(live)], 2, "panic")
            w.changed.notify_all()
    elif op == "purge":  # a periodic run purged (as Nomad's job GC would), else any job
        with w.lock:
            jobs = [j for j in w.job_list if j.parent] or list(w.job_list)
            job = jobs[n % len(jobs)]
        r = requests.delete(f"{sb.nomad_addr}/v1/job/{job.id}", params={"namespace": job.namespace, "purge": "true"})
        assert r.status_code == 200, r.text
    else:  # consul_world.act: a restart or stop of a reachable allocation
        world_act(sb, op, n, spread=60, reachable=True)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["churn", "churn", "restart", "stop", "time", "launch", "blocked", "purge"]),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
# Always tried: the scheduler finding no room (an index with only an evaluation in it, moving
# Queued), a periodic run coming, running and going, a job purged, and room appearing for the
# blocked one: its placement writes the failed allocation's NextAllocation too (upsertAllocsImpl).
@example(ops=[("blocked", 1), ("time", 1)])
@example(ops=[("launch", 2), ("time", 30), ("time", 40), ("purge", 0)])
@example(ops=[("blocked", 0), ("time", 5995), ("time", 8816)])
def test_events_applied_equal_a_full_reload(sb, nomad, ops):
    before, index = lists(nomad)
    lookups = []

    def lookup(alloc_id):
        lookups.append(alloc_id)
        return nomad.allocation_stub(alloc_id)

    state = EventState(before, lookup=lookup)
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    builder.build(before, now=NOW)
    seen, applied = index, 0
    for op, n in ops:
        act(sb, op, n)
        # As the follower does: each frame applied, then what it dirtied read again at once,
        # before the next change is made.
        for frame in frames_after(nomad, seen):
            changed = state.apply(frame) | reread(state, nomad).changed
            seen, applied = frame["Index"], applied + 1
            if changed:  # the refresher builds after every change it is handed
                builder.build({**before, **state.lists()}, now=NOW)
    assert sb.events.first_seq == 0, "the journal dropped entries: the test would prove nothing"
    after, after_index = lists(nomad)
    assert state.index == after_index or not applied
    got = state.lists()
    for source in FOLLOWED_SOURCES:
        assert got[source] == after[source], source
    mixed = {**after, **got}
    want = views.build_frames(after, cluster="t", identity=views.ClientIdentity(), now=NOW)
    have = views.build_frames(mixed, cluster="t", identity=views.ClientIdentity(), now=NOW)
    patched = builder.build(mixed, now=NOW)
    for name, frame in want.as_dict().items():
        pd.testing.assert_frame_equal(getattr(have, name), frame, obj=f"frame {name}")
        pd.testing.assert_frame_equal(getattr(patched, name), frame, obj=f"patched frame {name}")
    # The events never needed a build from scratch, but for a job that came or went: it moves the
    # rows after it (the list is in Job.List order), which views.rowpatch builds whole.
    comings_and_goings = sum(1 for op, _ in ops if op in ("launch", "purge"))
    assert builder.full_builds <= 1 + comings_and_goings, builder.why_whole


def reread(state: EventState, nomad: NomadConnector):
    return state.reread(nomad.job_stub, lambda ns: nomad.list_services(namespace=ns).data)


def test_the_property_sees_changes():
    """The sequences above do change the lists (else equality would prove nothing)."""
    with Sandbox(clients=6, seed=11, frozen=True, event_heartbeat=0.2) as sb:
        nomad = NomadConnector(load({"NOMAD_ADDR": sb.nomad_addr}).nomad)
        before, index = lists(nomad)
        for n in range(6):
            act(sb, "churn", n)
        act(sb, "restart", 1)
        frames = frames_after(nomad, index)
        assert {e["Topic"] for f in frames for e in f["Events"]} >= {"Allocation"}
        state = EventState(before, lookup=nomad.allocation_stub)
        builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
        first = builder.build(before, now=NOW)
        assert state.apply_all(frames) >= {"allocations"}
        assert state.lists()["allocations"] != before["allocations"]
        patched = builder.build({**before, **state.lists()}, now=NOW)
        assert builder.patches == 1 and not patched.allocations.equals(first.allocations)


def test_stub_zero_values_for_omitted_fields():
    """Nomad encodes the full Allocation and Node with omitempty: an omitted field is its zero value
    in the stub (nomad/structs/alloc.go Allocation.Stub, structs.go Node.Stub)."""
    stub = alloc_stub({"ID": "a1", "TaskStates": {"web": {"State": "running"}}}, "service", 3)
    assert stub["NextAllocation"] == "" and stub["JobVersion"] == 3 and stub["DeploymentStatus"] is None
    assert stub["TaskStates"] == {"web": {"State": "running"}} and stub["AllocatedResources"] is None
    node = node_stub({"ID": "n1", "HTTPAddr": "10.0.0.5:4646", "Attributes": {"nomad.version": "1.11.3"}})
    assert (node["Address"], node["Version"], node["Drain"]) == ("10.0.0.5", "1.11.3", False)
    assert node_stub({"ID": "n1", "DrainStrategy": {"Deadline": 1}})["Drain"] is True


def test_node_deregistration_removes_the_node():
    state = EventState({"nodes": [{"ID": "n1"}, {"ID": "n2"}]})
    ev = {"Topic": "Node", "Type": "NodeDeregistration", "Payload": {"Node": {"ID": "n1"}}}
    assert state.apply({"Index": 5, "Events": [ev]}) == {"nodes"}
    assert [n["ID"] for n in state.lists()["nodes"]] == ["n2"]
    assert state.apply({"Index": 6, "Events": [ev]}) == set()  # already gone: nothing changes
