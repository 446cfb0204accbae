"""Refresher behaviour with in-memory connectors (the HTTP side is in tests/contract)."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors import Listing, Unavailable
from connectors.settings import ClusterSettings, ConsulSettings, NomadSettings
from snapshot import Refresher, Snapshot, TTLCache

SETTINGS = ClusterSettings("test", NomadSettings(), ConsulSettings())


class FakeNomad:
    def __init__(self):
        self.data = {
            "jobs": [{"ID": "a-web"}],
            "allocations": [{"ID": "1"}],
            "deployments": [],
            "nodes": [{"ID": "n1"}],
            "namespaces": [{"Name": "a"}],
            "nomad_services": [],
        }
        self.index = {k: 5 for k in self.data}
        self.fail = {}
        self.calls = []
        self.lock = threading.Lock()

    def _get(self, name, index, wait):
        with self.lock:
            self.calls.append((name, index))
        if name in self.fail:
            raise self.fail[name]
        if index and index >= self.index[name] and wait:
            time.sleep(min(wait, 0.05))
        return Listing(self.data[name], self.index[name])

    def list_jobs(self, index=None, wait=None):
        return self._get("jobs", index, wait)

    def list_allocations(self, index=None, wait=None, slim=False):
        return self._get("allocations", index, wait)

    def list_deployments(self, index=None, wait=None, slim=False):
        return self._get("deployments", index, wait)

    def list_nodes(self, index=None, wait=None):
        return self._get("nodes", index, wait)

    def list_namespaces(self, index=None, wait=None):
        return self._get("namespaces", index, wait)

    def list_services(self, index=None, wait=None):
        return self._get("nomad_services", index, wait)


class FakeConsul:
    def __init__(self, names=("web", "api")):
        self.names = list(names)
        self.calls = []
        self.fail = None
        self.index = 9

    def catalog_services(self, index=None, wait=None):
        self.calls.append(("services", index))
        if self.fail:
            raise self.fail
        return Listing({n: [] for n in self.names}, self.index)

    def catalog_service(self, name, index=None, wait=None, slim=False):
        self.calls.append(("service", name))
        return Listing([{"ServiceName": name}], self.index)

    def health_state(self, state="any", index=None, wait=None, slim=False):
        self.calls.append(("checks", index))
        return Listing([{"CheckID": "c1"}], self.index)


def build(raw, *, cluster, identity, now):
    return {"raw": dict(raw), "cluster": cluster, "now": now}


class Clock:
    def __init__(self):
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self):
        return self.t


def count_idle_polls(r):
    """Record every idle poll of the builder (it asks frames_stale() on each), so a test can wait
    for polls that really happened instead of sleeping and hoping the thread ran."""
    polls = []
    original = r.frames_stale

    def counted():
        polls.append(1)
        return original()

    r.frames_stale = counted
    return polls


def make(**kw):
    nomad, consul = FakeNomad(), FakeConsul()
    kw.setdefault("events", False)  # these are the blocking-query watchers (the stream: tests/contract)
    r = Refresher(SETTINGS, None, nomad=nomad, consul=consul, build=build, **kw)
    return r, nomad, consul


def test_before_any_fetch_snapshot_is_empty_and_says_so():
    r, _, _ = make()
    snap = r.current()
    assert isinstance(snap, Snapshot) and snap.built_at is None and not snap.has_data
    assert snap.age_seconds() is None
    assert any("waiting for the first answer from Nomad" in p for p in snap.problems())


def test_refresh_once_fetches_every_source_once_and_builds():
    r, nomad, consul = make()
    snap = r.refresh_once()
    assert snap.ok and snap.problems() == []
    assert set(snap.frames["raw"]) == {
        "jobs",
        "allocations",
        "deployments",
        "nodes",
        "namespaces",
        "nomad_services",
        "consul_services",
        "consul_checks",
    }
    assert snap.frames["raw"]["consul_services"] == {"api": [{"ServiceName": "api"}], "web": [{"ServiceName": "web"}]}
    assert len(nomad.calls) == 6
    # 1 catalog/services + one per distinct NAME + 1 health/state
    assert len(consul.calls) == 1 + 2 + 1
    assert r.current() is snap


def test_one_failing_source_keeps_the_others_and_its_own_old_data():
    clock = Clock()
    r, nomad, _consul = make(clock=clock)
    r.refresh_once()
    clock.t += timedelta(minutes=2)
    nomad.fail["allocations"] = Unavailable("Nomad", "Nomad at http://x cannot be reached (connection refused).")
    nomad.data["jobs"] = [{"ID": "a-web"}, {"ID": "a-api"}]
    nomad.index["jobs"] = 6
    snap = r.refresh_once()
    assert snap.frames["raw"]["allocations"] == [{"ID": "1"}]  # old data kept
    assert len(snap.frames["raw"]["jobs"]) == 2  # other source moved on
    st = snap.sources["allocations"]
    assert not st.ok and st.error_kind == "unavailable" and "cannot be reached" in st.error
    assert st.last_attempt == clock.t and st.last_success == clock.t - timedelta(minutes=2)
    assert st.age_seconds(clock.t) == 120
    assert snap.age_seconds(clock.t) == 120
    problems = snap.problems(clock.t)
    assert problems == [
        "Nomad allocations: Nomad at http://x cannot be reached (connection refused). Showing the data from 2 min ago."
    ]
    assert snap.sources["jobs"].ok


def test_consul_failure_keeps_nomad_and_consul_data():
    r, _, consul = make()
    r.refresh_once()
    consul.fail = Unavailable("Consul", "Consul at http://c cannot be reached (connection refused).")
    snap = r.refresh_once()
    assert snap.frames["raw"]["consul_services"]
    assert not snap.sources["consul_services"].ok and snap.sources["consul_checks"].ok
    assert snap.sources["jobs"].ok


def test_build_error_keeps_previous_frames():
    r, _, _ = make()
    good = r.refresh_once()
    r._build_fn = lambda *a, **k: 1 / 0
    snap = r.refresh_once()
    assert snap.frames is good.frames and "ZeroDivisionError" in snap.build_error
    assert any("could not process" in p for p in snap.problems())


def test_background_watchers_block_on_index_and_rebuild_on_change():
    r, nomad, consul = make(wait=0.05, min_interval=0.01, debounce=0.01, min_build_interval=0.01)
    with r:
        r.wait_for(lambda s: s.built_at is not None and "jobs" in s.frames["raw"], timeout=5)
        builds = r.builds
        nomad.data["jobs"] = [{"ID": "new"}]
        nomad.index["jobs"] = 7
        snap = r.wait_for(lambda s: s.frames["raw"].get("jobs") == [{"ID": "new"}], timeout=5)
        assert r.builds > builds
        assert snap.sources["jobs"].index == 7
    # after the first fetch, watchers send the last index (blocking queries)
    assert any(name == "jobs" and idx == 5 for name, idx in nomad.calls)
    # per-name consul fetches only happen when the catalog index moves
    per_name = [c for c in consul.calls if c[0] == "service"]
    assert len(per_name) == 2


class SimTime:
    """Simulated monotonic time for the watcher loop: sleeping advances it; stops the refresher at `until`."""

    def __init__(self, until):
        self.t = 0.0
        self.until = until
        self.refresher = None

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds
        if self.t >= self.until:
            self.refresher._stop.set()


class ScriptedJobs:
    """A Nomad whose jobs list answers from a script of (index, data); simulated time per request."""

    def __init__(self, script, sim, cost=0.0):
        self.script, self.sim, self.cost = list(script), sim, cost
        self.calls = []

    def list_jobs(self, index=None, wait=None):
        self.calls.append((index, wait))
        self.sim.t += self.cost
        idx, data = self.script[min(len(self.calls), len(self.script)) - 1]
        return Listing(data, idx)

    def __getattr__(self, name):  # the other Nomad lists: empty, no index
        return lambda index=None, wait=None, slim=False: Listing([], 0)


def run_jobs_watcher(script, *, until, min_interval=0.2, cost=0.0, **kw):
    sim = SimTime(until)
    nomad = ScriptedJobs(script, sim, cost)
    r = Refresher(
        ClusterSettings("test", NomadSettings(), None),
        None,
        nomad=nomad,
        build=build,
        min_interval=min_interval,
        monotonic=sim,
        sleep=sim.sleep,
        **kw,
    )
    sim.refresher = r
    dirty = []
    real_fetch = r._fetch_source

    def fetch(src, index, wait):
        changed = real_fetch(src, index, wait)
        dirty.append(changed)
        return changed

    r._fetch_source = fetch
    r._watch(r._sources["jobs"])  # synchronously, in simulated time
    return nomad.calls, dirty, r


def test_min_interval_limits_fetch_rate_per_simulated_second():
    calls, _, _ = run_jobs_watcher([(5, [{"ID": "a"}])], until=1.0, min_interval=0.2, wait=0.001)
    assert len(calls) == 5  # one request per min_interval: t = 0, 0.2, 0.4, 0.6, 0.8
    calls, _, _ = run_jobs_watcher([(5, [{"ID": "a"}])], until=1.0, min_interval=0.2, cost=0.15, wait=0.001)
    assert len(calls) == 5  # time spent in the request counts towards the interval
    calls, _, _ = run_jobs_watcher([(5, [{"ID": "a"}])], until=10.0, min_interval=2.0, wait=0.001)
    assert len(calls) == 5


def test_index_going_backwards_resets_to_zero_then_adopts():
    script = [(10, ["a"]), (10, ["a"]), (4, ["b"]), (4, ["b"]), (4, ["b"])]
    calls, changed, r = run_jobs_watcher(script, until=0.9, min_interval=0.2, wait=30)
    assert [i for i, _ in calls] == [None, 10, 10, None, 4]
    # blocking (with a wait) only on a real index; after the reset, a non-blocking request
    assert [w for _, w in calls] == [None, 30, 30, None, 30]
    assert changed == [True, False, True, False, False]
    assert r.raw()["jobs"] == ["b"]


def test_index_zero_never_blocks():
    calls, _, _ = run_jobs_watcher([(0, ["a"])], until=1.0, min_interval=0.2, wait=30)
    assert len(calls) == 5
    assert all(index is None and wait is None for index, wait in calls)


def test_a_server_without_index_does_not_rebuild_an_unchanged_body():
    script = [(0, ["a"]), (0, ["a"]), (0, ["a"]), (0, ["a", "b"]), (0, ["a", "b"])]
    _calls, changed, r = run_jobs_watcher(script, until=1.0, min_interval=0.2, wait=30)
    assert changed == [True, False, False, True, False]
    assert r.raw()["jobs"] == ["a", "b"]


def test_quiet_cluster_frames_are_rebuilt_when_old_without_requests():
    clock = Clock()
    r, nomad, consul = make(clock=clock, max_frame_age=60, idle_poll=0.01)
    first = r.refresh_once()
    assert first.frames["now"] == clock.t
    requests_before = (len(nomad.calls), len(consul.calls))
    polls = count_idle_polls(r)
    builder = threading.Thread(target=r._builder, daemon=True)
    builder.start()
    try:
        clock.t += timedelta(seconds=30)
        start = len(polls)
        wait_until(lambda: len(polls) >= start + 10)  # the builder really polled, ten times: too young to rebuild
        assert r.builds == 1 and not r.frames_stale()
        clock.t += timedelta(seconds=31)
        snap = r.wait_for(lambda s: s.built_at == clock.t, timeout=5)
        assert snap.frames["now"] == clock.t  # health windows are computed with the new time
        assert r.builds == 2
        assert (len(nomad.calls), len(consul.calls)) == requests_before  # built from the kept raw
    finally:
        r._stop.set()
        builder.join(2)


def test_a_failing_build_is_retried_at_the_frame_age_pace_not_every_poll():
    clock = Clock()
    attempts = []
    broken = threading.Event()

    def flaky(raw, *, cluster, identity, now):
        if broken.is_set():
            attempts.append(now)
            raise RuntimeError("boom")
        return {"now": now}

    r = Refresher(
        SETTINGS,
        None,
        nomad=FakeNomad(),
        consul=FakeConsul(),
        build=flaky,
        clock=clock,
        max_frame_age=60,
        idle_poll=0.01,
    )
    first = r.refresh_once()
    assert first.built_at == clock.t
    broken.set()
    polls = count_idle_polls(r)
    builder = threading.Thread(target=r._builder, daemon=True)
    builder.start()
    try:
        clock.t += timedelta(seconds=61)
        wait_until(lambda: attempts)
        assert len(attempts) == 1  # the age rebuild was tried once...
        start = len(polls)
        wait_until(lambda: len(polls) >= start + 20)  # ...and twenty idle polls later (counted, not slept)
        assert len(attempts) == 1  # it has not been retried
        snap = r.current()
        assert snap.build_error and snap.frames == first.frames  # the last good frames stay
    finally:
        r._stop.set()
        builder.join(2)


def wait_until(predicate, timeout=5.0):
    """Poll (bounded) until predicate() holds; the tests then assert on what happened."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_ttl_cache_single_flight_and_expiry():
    now = [0.0]
    cache = TTLCache(ttl=3, clock=lambda: now[0])
    calls = []
    gate = threading.Event()

    def loader():
        calls.append(1)
        gate.wait(5)
        return "v"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", loader))) for _ in range(20)]
    for t in threads:
        t.start()
    # Release the load only once the 19 others are waiting for it: single flight, not a late cache hit.
    wait_until(lambda: cache.waiting("k") == 19)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == ["v"] * 20 and len(calls) == 1
    assert cache.get("k", loader) == "v" and len(calls) == 1
    now[0] = 3.5
    assert cache.get("k", loader) == "v" and len(calls) == 2


class Interrupted(BaseException):
    """Like Streamlit's RerunException/StopException: a BaseException, not an Exception."""


def test_an_interrupted_load_does_not_hang_its_key():
    cache = TTLCache(ttl=30)
    gate = threading.Event()
    calls = []

    def interrupted_loader():
        calls.append("interrupted")
        gate.wait(5)
        raise Interrupted()

    def loader():
        calls.append("loaded")
        return "v"

    owner_saw = []

    def owner():
        try:
            cache.get("k", interrupted_loader)
        except Interrupted:
            owner_saw.append("interrupted")  # it goes on up the interrupted thread, as Streamlit needs

    results = []
    first = threading.Thread(target=owner)
    first.start()
    wait_until(lambda: calls == ["interrupted"])
    waiters = [threading.Thread(target=lambda: results.append(cache.get("k", loader))) for _ in range(5)]
    for t in waiters:
        t.start()
    wait_until(lambda: cache.waiting("k") == 5)
    gate.set()
    for t in [first, *waiters]:
        t.join(5)
    assert not any(t.is_alive() for t in [first, *waiters]), "a reader is stuck on the interrupted load"
    assert owner_saw == ["interrupted"]
    assert results == ["v"] * 5 and calls == ["interrupted", "loaded"]  # the waiters loaded once again
    assert cache.get("k", loader) == "v" and calls == ["interrupted", "loaded"]  # and it is cached


def test_waiters_give_up_on_a_load_that_never_finishes():
    from snapshot.queries import LoadTimedOut

    cache = TTLCache(ttl=30, wait_timeout=0.2)
    gate = threading.Event()
    started = threading.Event()

    def stuck():
        started.set()
        gate.wait(10)
        return "late"

    first = threading.Thread(target=lambda: cache.get("k", stuck))
    first.start()
    started.wait(5)
    with pytest.raises(LoadTimedOut):
        cache.get("k", lambda: "never called")
    gate.set()
    first.join(5)
    assert cache.get("k", lambda: "never called") == "late"


def test_ttl_cache_caches_errors_briefly():
    now = [0.0]
    cache = TTLCache(ttl=3, clock=lambda: now[0])
    calls = []

    def loader():
        calls.append(1)
        raise Unavailable("Nomad", "down")

    for _ in range(3):
        with pytest.raises(Unavailable):
            cache.get("k", loader)
    assert len(calls) == 1


def test_data_is_current_while_the_server_holds_a_blocking_query():
    """A held blocking query means nothing changed: the age shown is 0, not the time since the last answer."""
    clock = Clock()
    r, nomad, _ = make(clock=clock, wait=30)
    r.refresh_once()
    clock.t += timedelta(seconds=20)
    held = threading.Event()
    release = threading.Event()
    real_get = nomad._get

    def held_get(name, index, wait):
        if name == "jobs" and index:
            held.set()
            release.wait(5)
        return real_get(name, index, wait)

    nomad._get = held_get
    src = r._sources["jobs"]
    t = threading.Thread(target=r._fetch_source, args=(src, src.index, 30.0))
    t.start()
    assert held.wait(5)
    status = r.current().sources["jobs"]
    assert status.age_seconds(clock.t) == 0  # held since clock.t: confirmed up to now
    assert status.age_seconds(clock.t + timedelta(seconds=10)) == 0
    # Past the query's wait + jitter, a held query proves nothing any more.
    assert status.age_seconds(clock.t + timedelta(seconds=40)) == 60
    release.set()
    t.join()
    assert r.current().sources["jobs"].watching_until is None


def test_a_failed_blocking_query_stops_vouching_for_the_data():
    clock = Clock()
    r, nomad, _ = make(clock=clock, wait=30)
    r.refresh_once()
    clock.t += timedelta(seconds=20)
    nomad.fail["jobs"] = Unavailable("Nomad", "Nomad at http://x cannot be reached.")
    src = r._sources["jobs"]
    r._fetch_source(src, src.index, 30.0)
    status = r.current().sources["jobs"]
    assert not status.ok and status.watching_until is None
    assert status.age_seconds(clock.t) == 20


def test_one_refresher_per_cluster_and_new_options_replace_the_old_one():
    from snapshot.refresher import _reset_registry, get_refresher

    nomad, consul = FakeNomad(), FakeConsul()
    try:
        a = get_refresher(SETTINGS, "namespace", start=False, wait=30, nomad=nomad, consul=consul, build=build)
        assert get_refresher(SETTINGS, "namespace", start=False, wait=30, nomad=nomad, consul=consul, build=build) is a
        a.start()
        b = get_refresher(SETTINGS, "namespace", start=False, wait=10, nomad=nomad, consul=consul, build=build)
        assert b is not a and b.wait == 10
        assert not a.running  # the replaced refresher stopped polling
    finally:
        _reset_registry()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_refresher_whose_thread_died_is_replaced_not_handed_out():
    """A BaseException (not Exception) escaping a watcher ends its thread: that source's data would
    freeze with no banner. The owner sees it and hands out a new refresher instead."""
    from snapshot.refresher import _reset_registry, get_refresher

    class Escaped(BaseException):
        pass

    nomad, consul = FakeNomad(), FakeConsul()
    nomad.fail["namespaces"] = Escaped()
    try:
        a = get_refresher(SETTINGS, "namespace", nomad=nomad, consul=consul, build=build, min_interval=0.01)
        dead = next(t for t in a._threads if t.name == "refresher-namespaces")
        dead.join(timeout=5)
        assert not dead.is_alive() and a.died
        del nomad.fail["namespaces"]
        b = get_refresher(SETTINGS, "namespace", nomad=nomad, consul=consul, build=build, min_interval=0.01)
        assert b is not a and b.running and not b.died
        assert a.stopped and a.join(timeout=5)
    finally:
        _reset_registry()
