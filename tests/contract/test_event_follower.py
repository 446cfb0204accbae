"""The refresher following /v1/event/stream (snapshot.follower) against the sandbox over real HTTP.

A restart shows up without fetching the allocation list again (the sandbox's request counts say
so); a stream cut in the middle of a run resumes with index= when Nomad still keeps that index
and loads the lists once when it does not (nomad/stream/event_buffer.go: a subscription starts
at the closest retained index, silently later); a refused stream (nomad/event_endpoint.go: the
agent has sent 200 before the server refuses) falls back to blocking queries, said on the status.
"""

from __future__ import annotations

import socket

import pytest
import requests

from connectors.settings import load
from sandbox import Sandbox
from snapshot import Refresher
from snapshot.follower import MODE_BLOCKING, MODE_REFUSED, MODE_STREAM
from views import ClientIdentity

FAST = {"debounce": 0.05, "min_build_interval": 0.1, "min_interval": 0.2, "wait": 5.0}


def _refresher(sb, token=None, **kw) -> Refresher:
    env = {"NOMAD_ADDR": sb.nomad_addr}
    if token:
        env["NOMAD_TOKEN"] = token
    ref = Refresher(load(env), ClientIdentity(), events=True, **{**FAST, **kw})
    ref.follower.reconnect_pause = 0.2
    return ref.start()


def _live(sb, skip=()) -> list[str]:
    w = sb.world
    with w.lock:
        return [
            a.id
            for a in sorted(w.alloc_list, key=lambda a: a.id)
            if a.client_status == "running"
            and not a.terminal
            and not a.job.client.scenario
            and a.node.status != "down"
            and a.id not in skip
        ]


def _restart(sb, alloc_id: str, headers=None) -> None:
    r = requests.post(f"{sb.nomad_addr}/v1/client/allocation/{alloc_id}/restart", json={}, headers=headers, timeout=10)
    assert r.status_code == 200, r.text


def _signaled(snap, alloc_id: str) -> int:
    ev = snap.frames.task_events
    return int(((ev["alloc_id"] == alloc_id) & (ev["type"] == "Restart Signaled")).sum())


def _list_requests(sb) -> int:
    return sb.stats().get("GET /v1/allocations", 0)


def _streaming(snap) -> bool:
    s = snap.sources["allocations"]
    return (
        s.mode == MODE_STREAM
        and s.ok
        and snap.built_at is not None
        and len(snap.frames.allocations) > 0
        and len(snap.frames.jobs) > 0
    )


@pytest.fixture
def sb():
    with Sandbox(clients=8, seed=7, frozen=True, event_heartbeat=0.3) as s:
        yield s


def test_a_restart_appears_without_fetching_the_allocation_list(sb):
    ref = _refresher(sb)
    try:
        ref.wait_for(_streaming, timeout=30)
        alloc = _live(sb)[0]
        before = _signaled(ref.current(), alloc)
        sb.reset_stats()
        _restart(sb, alloc)
        snap = ref.wait_for(lambda s: _signaled(s, alloc) > before, timeout=30)
        assert _list_requests(sb) == 0, sb.stats()
        assert snap.sources["allocations"].mode == MODE_STREAM
        assert ref.follower.loads == 1
    finally:
        ref.stop()


def _cut_and_change(sb, ref, changes: int) -> str:
    """Cut every open stream, keep new ones out while `changes` restarts happen, let them in."""
    requests.post(sb.nomad_addr + "/_sandbox/faults", json={"path": "/v1/event/stream", "down": True}, timeout=5)
    sb.events.cut()
    done: list[str] = []
    for _ in range(changes):
        alloc = _live(sb, skip=done)[0]
        _restart(sb, alloc)
        done.append(alloc)
    requests.delete(sb.nomad_addr + "/_sandbox/faults", timeout=5)
    return done[-1]


def test_a_cut_stream_resumes_without_a_reload_while_the_index_is_kept(sb):
    ref = _refresher(sb)
    try:
        ref.wait_for(_streaming, timeout=30)
        first = _live(sb)[0]
        _restart(sb, first)  # a frame applied: the follower resumes from a frame it has
        ref.wait_for(lambda s: _signaled(s, first) > 0, timeout=30)
        sb.reset_stats()
        last = _cut_and_change(sb, ref, 2)
        ref.wait_for(lambda s: _signaled(s, last) > 0, timeout=30)
        assert ref.follower.resumes >= 1 and ref.follower.gaps == 0
        assert ref.follower.loads == 1 and _list_requests(sb) == 0, sb.stats()
    finally:
        ref.stop()


def test_a_cut_stream_past_the_kept_indexes_reloads_the_lists_once():
    with Sandbox(clients=8, seed=7, frozen=True, event_heartbeat=0.3, event_buffer=3) as sb:
        ref = _refresher(sb)
        try:
            ref.wait_for(_streaming, timeout=30)
            first = _live(sb)[0]
            _restart(sb, first)
            ref.wait_for(lambda s: _signaled(s, first) > 0, timeout=30)
            sb.reset_stats()
            last = _cut_and_change(sb, ref, 5)  # more indexes than the journal keeps
            # the change may show from the resumed stream a moment before the reload lands: wait for both
            snap = ref.wait_for(lambda s: _signaled(s, last) > 0 and ref.follower.loads >= 2, timeout=30)
            assert ref.follower.gaps == 1 and ref.follower.loads == 2
            assert _list_requests(sb) == 1, sb.stats()
            assert snap.sources["allocations"].mode == MODE_STREAM
        finally:
            ref.stop()


@pytest.mark.parametrize("status", [403, 404])
def test_a_refused_stream_falls_back_to_blocking_queries(sb, status):
    """403 (a token without the capability, as a proxy answers) or 404 (an older Nomad, a proxy
    that does not pass the path): the lists are followed with blocking queries, and said so."""
    requests.post(
        sb.nomad_addr + "/_sandbox/faults",
        json={"path": "/v1/event/stream", "status": status, "body": "Permission denied"},
        timeout=5,
    )
    ref = _refresher(sb)
    try:
        snap = ref.wait_for(lambda s: s.sources["allocations"].mode == MODE_REFUSED and s.built_at, timeout=30)
        assert ref.follower.refused
        alloc = _live(sb)[0]
        before = _signaled(snap, alloc)
        _restart(sb, alloc)
        snap = ref.wait_for(lambda s: _signaled(s, alloc) > before, timeout=30)
        streamed = ("allocations", "deployments", "nodes", "jobs", "nomad_services")
        assert {snap.sources[n].mode for n in streamed} == {MODE_REFUSED}
        assert snap.sources["namespaces"].mode == MODE_BLOCKING  # never streamed: nothing to say
        # The jobs list is followed by its blocking query again: a new allocation's summary shows.
        key = _job_of(sb, alloc)
        running = _counts(ref.wait_for(lambda s: _counts(s, key) is not None, timeout=30), key)[0]
        sb.reset_stats()
        _stop(sb, alloc)
        ref.wait_for(lambda s: _counts(s, key)[0] == running - 1, timeout=30)
        assert sb.stats().get("GET /v1/jobs", 0) >= 1
        assert not ref.died
    finally:
        ref.stop()


def test_a_stopped_refresher_lets_go_of_its_open_stream_at_once():
    """Nomad sends a heartbeat only every 30 s (NewJsonStream(ctx, 30*time.Second) in
    nomad/event_endpoint.go): a refresher that is
    replaced (a config edit, a rotated token) must not keep its stream thread, and the stream's
    connection, until then. Stopping closes the open response, so the reader wakes at once."""
    with Sandbox(clients=4, seed=7, frozen=True, event_heartbeat=120) as sb:
        ref = _refresher(sb)
        ref.wait_for(_streaming, timeout=30)
        alloc = _live(sb)[0]
        _restart(sb, alloc)  # the stream is past its first frame and waiting for the next line
        ref.wait_for(lambda s: _signaled(s, alloc) > 0, timeout=30)
        ref.stop(timeout=10)
        assert not ref.running, [t.name for t in ref._threads if t.is_alive()]
        sb.reset_stats()
        ref.join(1)
        assert sb.stats().get("GET /v1/event/stream", 0) == 0  # and it did not subscribe again


def _collect(sb, alloc_id: str) -> None:
    """The sandbox's garbage collection of one allocation (World._retire/_collect drop the older half
    of the retired ones): like Nomad's, it writes no event and moves no index."""
    w = sb.world
    with w.lock:
        spare = next(a for a in w.alloc_list if a.id != alloc_id)
        w._gc_allocs.clear()
        w._retire(w.allocs[alloc_id])
        w._gc_allocs.append(spare)  # retired after it: kept
        w._collect()
        assert alloc_id not in w.allocs


def test_a_collected_allocation_goes_at_the_periodic_reload(sb):
    """Nomad's GC writes no delete event (nomad/state/events.go has no GC message type): the
    follower loads the lists again every events_reload_every seconds, and the allocation goes."""
    ref = _refresher(sb, events_reload_every=2.0)
    try:
        ref.wait_for(_streaming, timeout=30)
        alloc = _live(sb)[0]
        r = requests.post(f"{sb.nomad_addr}/v1/allocation/{alloc}/stop", json={}, timeout=10)
        assert r.status_code == 200, r.text
        ref.wait_for(
            lambda s: (
                ("stop", alloc) in set(zip(s.frames.allocations["desired_status"], s.frames.allocations["alloc_id"]))
            ),
            30,
        )
        loads = ref.follower.loads
        _collect(sb, alloc)
        snap = ref.wait_for(lambda s: alloc not in set(s.frames.allocations["alloc_id"]), timeout=30)
        assert ref.follower.loads > loads and snap.sources["allocations"].mode == MODE_STREAM
    finally:
        ref.stop()


def test_a_cut_before_the_first_frame_is_healed_by_the_periodic_reload():
    """The blind spot (snapshot/follower.py): cut before any frame since the load, with more changes
    while away than the buffer keeps, the resume cannot tell (Nomad starts silently at the closest
    later index, nomad/stream/event_buffer.go); the changes it missed show at the next reload."""
    with Sandbox(clients=8, seed=7, frozen=True, event_heartbeat=0.3, event_buffer=3) as sb:
        ref = _refresher(sb, events_reload_every=4.0)
        try:
            ref.wait_for(_streaming, timeout=30)
            loads = ref.follower.loads
            requests.post(
                sb.nomad_addr + "/_sandbox/faults", json={"path": "/v1/event/stream", "down": True}, timeout=5
            )
            sb.events.cut()
            done: list[str] = []
            for _ in range(5):  # more indexes than the journal keeps
                alloc = _live(sb, skip=done)[0]
                _restart(sb, alloc)
                done.append(alloc)
            requests.delete(sb.nomad_addr + "/_sandbox/faults", timeout=5)
            snap = ref.wait_for(lambda s: all(_signaled(s, a) > 0 for a in done), timeout=30)
            assert ref.follower.gaps == 0  # not seen as a gap: only the reload brought the first ones
            assert ref.follower.loads > loads and snap.sources["allocations"].mode == MODE_STREAM
        finally:
            ref.stop()


# ---------------------------------------------------------------- the jobs list, by re-reads


def _job_of(sb, alloc_id: str) -> tuple[str, str]:
    with sb.world.lock:
        job = sb.world.allocs[alloc_id].job
        return job.namespace, job.id


def _counts(snap, key: tuple[str, str]) -> tuple[int, int, int] | None:
    """(running, starting, failed) of a job's row in the jobs frame (its JobSummary), None if absent."""
    jobs = snap.frames.jobs
    rows = jobs[(jobs["namespace"] == key[0]) & (jobs["job_id"] == key[1])]
    if rows.empty:
        return None
    r = rows.iloc[0]
    return int(r["running"]), int(r["starting"]), int(r["failed"])


def _reschedule(sb, alloc_id: str) -> None:
    """The churn's reschedule (sandbox/world/simulation.py): the allocation fails, a replacement is
    placed (a new allocation: updateSummaryWithAlloc moves the job's summary, Starting and Failed)."""
    w = sb.world
    with w.lock:
        w._reschedule(w.clock.now_ns(), w.allocs[alloc_id], 2, "panic")
        w.changed.notify_all()


def _stop(sb, alloc_id: str) -> None:
    r = requests.post(f"{sb.nomad_addr}/v1/allocation/{alloc_id}/stop", json={}, timeout=10)
    assert r.status_code == 200, r.text


def _nomad_bytes(sb) -> int:
    return requests.get(sb.nomad_addr + "/_sandbox/bytes", timeout=5).json()["bytes"]


def test_a_new_allocations_summary_reaches_the_jobs_frame_without_the_whole_list():
    """Nomad moves the jobs list's index for every new allocation (nomad/job_endpoint.go Job.List:
    max(jobs, job_summary); nomad/state/state_store.go updateSummaryWithAlloc), so a blocking query
    would send the whole list each time: the follower reads that one job's stub instead."""
    with Sandbox(clients=40, seed=7, frozen=True, event_heartbeat=0.3) as sb:
        whole = len(requests.get(sb.nomad_addr + "/v1/jobs?namespace=*&meta=true", timeout=10).content)
        ref = _refresher(sb)
        try:
            snap = ref.wait_for(_streaming, timeout=30)
            alloc = _live(sb)[0]
            key = _job_of(sb, alloc)
            running, starting, failed = _counts(snap, key)
            sent = _nomad_bytes(sb)
            _reschedule(sb, alloc)
            snap = ref.wait_for(lambda s: _counts(s, key) == (running - 1, starting + 1, failed + 1), timeout=30)
            assert snap.sources["jobs"].mode == MODE_STREAM and snap.sources["jobs"].ok
            # Everything Nomad sent for the change (the stream's frame and the stub) is a fraction of
            # one whole jobs list, and no list was loaded again.
            assert _nomad_bytes(sb) - sent < whole / 4, (whole, _nomad_bytes(sb) - sent)
            assert ref.follower.loads == 1
        finally:
            ref.stop()


def test_a_failed_stub_read_keeps_the_old_stub_says_so_and_heals(sb):
    """A stub read Nomad refuses (a 500) loses nothing: the job keeps its last stub, the jobs source
    says what failed, and the read is tried again (next frame or heartbeat) until it works."""
    ref = _refresher(sb)
    try:
        snap = ref.wait_for(_streaming, timeout=30)
        alloc = _live(sb)[0]
        key = _job_of(sb, alloc)
        old = _counts(snap, key)
        requests.post(sb.nomad_addr + "/_sandbox/faults", json={"path": "/v1/jobs", "status": 500}, timeout=5)
        _reschedule(sb, alloc)
        snap = ref.wait_for(lambda s: not s.sources["jobs"].ok, timeout=30)
        assert _counts(snap, key) == old  # the old stub, not a missing job
        assert "500" in (snap.sources["jobs"].error or "") or "Nomad" in (snap.sources["jobs"].error or "")
        assert any("Nomad jobs" in p for p in snap.problems())
        assert snap.sources["allocations"].ok  # the other lists go on
        requests.delete(sb.nomad_addr + "/_sandbox/faults", timeout=5)
        snap = ref.wait_for(lambda s: s.sources["jobs"].ok and _counts(s, key) != old, timeout=30)
        running, starting, failed = old
        assert _counts(snap, key) == (running - 1, starting + 1, failed + 1)
        assert ref.follower.loads == 1
    finally:
        ref.stop()


def test_a_purged_job_disappears_and_a_launched_one_appears_in_list_order(sb):
    """A purged job (DELETE /v1/job/:id?purge=true: JobDeregistered, nomad/state/events.go) is read
    again, found gone and removed; a periodic run (a new child job) is read and put where Job.List
    lists it (nomad/job_endpoint.go: by namespace, then ID), its parent's Children counting it."""
    ref = _refresher(sb)
    try:
        snap = ref.wait_for(_streaming, timeout=30)
        w = sb.world
        with w.lock:
            parent = next(j for j in w.job_list if j.role.periodic and not j.parent and not j.client.scenario)
            gone = next(j for j in w.job_list if j.role.type == "service" and not j.client.scenario)
        assert _counts(snap, (gone.namespace, gone.id)) is not None
        r = requests.delete(
            f"{sb.nomad_addr}/v1/job/{gone.id}", params={"namespace": gone.namespace, "purge": "true"}, timeout=10
        )
        assert r.status_code == 200, r.text
        with w.lock:
            child = w.launch_periodic(w.clock.now_ns(), parent)
            w.changed.notify_all()
        snap = ref.wait_for(
            lambda s: (
                _counts(s, (gone.namespace, gone.id)) is None and _counts(s, (child.namespace, child.id)) is not None
            ),
            timeout=30,
        )
        keys = list(zip(snap.frames.jobs["namespace"], snap.frames.jobs["job_id"]))
        assert keys == sorted(keys)
        whole = requests.get(sb.nomad_addr + "/v1/jobs", params={"namespace": "*", "meta": "true"}, timeout=10).json()
        assert ref.raw()["jobs"] == whole  # the very list a reload would give
        assert ref.follower.loads == 1
    finally:
        ref.stop()


def test_nomad_services_follow_service_events_one_namespace_at_a_time(sb):
    """Service events (ServiceRegistration/ServiceDeregistration, nomad/state/events.go) re-read that
    namespace's list alone (nomad/service_registration_endpoint.go List): a job's Nomad-native
    services going takes the namespace's entry out, as a whole list would."""
    ref = _refresher(sb)
    try:
        # (a build may come before the lists are all loaded: wait for one that has the services)
        snap = ref.wait_for(lambda s: _streaming(s) and len(s.frames.nomad_services) > 0, timeout=30)
        w = sb.world
        with w.lock:
            job = next(j for j in w.job_list if j.role.provider == "nomad" and not j.client.scenario and not j.parent)
        listed = snap.frames.nomad_services
        assert job.namespace in set(listed["namespace"])
        assert snap.sources["nomad_services"].mode == MODE_STREAM
        r = requests.delete(
            f"{sb.nomad_addr}/v1/job/{job.id}", params={"namespace": job.namespace, "purge": "true"}, timeout=10
        )
        assert r.status_code == 200, r.text
        snap = ref.wait_for(lambda s: job.namespace not in set(s.frames.nomad_services["namespace"]), timeout=30)
        whole = requests.get(sb.nomad_addr + "/v1/services", params={"namespace": "*"}, timeout=10).json()
        assert ref.raw()["nomad_services"] == whole
        assert len(snap.frames.nomad_services) == len(listed) - int((listed["namespace"] == job.namespace).sum())
        assert ref.follower.loads == 1
    finally:
        ref.stop()


def test_an_unreachable_nomad_says_so_on_every_list_at_the_first_try():
    """The first load stops at the first list that fails (the lists are read in order and must
    agree). The lists after it are not read, and say so, instead of "waiting for the first answer":
    a page waits for every list's first answer before it draws (ui.runtime.snapshot), so while
    Nomad was down every page run waited out that wait, twice per run."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    ref = Refresher(load({"NOMAD_ADDR": f"http://127.0.0.1:{closed}"}), ClientIdentity(), events=True, **FAST)
    ref.follower.reconnect_pause = 30  # one load attempt in this test
    ref.start()
    try:
        nomad = list(ref.follower.sources)
        snap = ref.wait_for(lambda s: all(s.sources[n].last_attempt is not None for n in nomad), timeout=30)
    finally:
        ref.stop(timeout=10)
    first, *rest = nomad
    assert not snap.sources[first].ok and "Nomad" in (snap.sources[first].error or "")
    for name in rest:
        status = snap.sources[name]
        assert (
            not status.ok and status.error == f"not read yet, because reading {snap.sources[first].label} failed first."
        )
    words = " ".join(snap.problems())
    assert "waiting for the first answer from Nomad" not in words
