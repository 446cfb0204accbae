"""The Refresher against the sandbox: isolation of failures, last good data, constant API load."""

import threading

import pytest

from connectors.settings import load
from snapshot import NOMAD_SOURCES, Refresher
from views import ClientIdentity


def settings_for(sb, timeout="5"):
    return load(
        {
            "NOMAD_ADDR": sb.nomad_addr,
            "CONSUL_HTTP_ADDR": sb.consul_addr,
            "DASHBOARD_HTTP_TIMEOUT": timeout,
            "DASHBOARD_CLUSTER_NAME": "sandbox",
        }
    )


def totals(sb):
    return sb.stats("nomad").get("total", 0) + sb.stats("consul").get("total", 0)


def requests_for_one_refresh(sb, refresher, readers=0):
    stop = threading.Event()
    seen = []

    def read():
        while not stop.is_set():
            snap = refresher.current()
            seen.append(len(snap.frames.clients) + len(snap.frames.allocations))
            stop.wait(0.002)  # a viewer, not a busy loop starving the refresh of the GIL

    threads = [threading.Thread(target=read, daemon=True) for _ in range(readers)]
    for t in threads:
        t.start()
    before = totals(sb)
    refresher.refresh_once()
    count = totals(sb) - before
    stop.set()
    for t in threads:
        t.join()
    assert readers == 0 or seen
    return count


@pytest.fixture
def refresher(sandbox):
    sandbox.faults.clear()
    r = Refresher(settings_for(sandbox), ClientIdentity())
    yield r
    r.stop()
    sandbox.faults.clear()


def test_refresh_once_builds_every_frame(refresher):
    snap = refresher.refresh_once()
    assert snap.ok and snap.problems() == []
    assert snap.cluster == "sandbox"
    assert len(snap.frames.clients) > 1 and len(snap.frames.allocations) > 0 and len(snap.frames.jobs) > 0
    assert len(snap.frames.services) > 0 and len(snap.frames.checks) > 0
    assert set(snap.sources) == {
        "jobs",
        "allocations",
        "deployments",
        "nodes",
        "namespaces",
        "nomad_services",
        "consul_services",
        "consul_checks",
    }
    assert all(s.ok and s.last_success is not None and s.index > 0 for s in snap.sources.values())
    assert refresher.current() is snap


def test_one_failing_source_keeps_its_old_data_and_the_others(sandbox, refresher):
    good = refresher.refresh_once()
    n_allocs = len(good.frames.allocations)
    sandbox.faults.inject("nomad", "/v1/allocations", status=500, body="rpc error: No cluster leader")
    sandbox.faults.inject("consul", "/v1/health/state/any", down=True)
    snap = refresher.refresh_once()
    assert len(snap.frames.allocations) == n_allocs  # last good data kept
    assert len(snap.frames.checks) == len(good.frames.checks)
    allocs = snap.sources["allocations"]
    assert not allocs.ok and "HTTP 500: rpc error: No cluster leader" in allocs.error
    assert allocs.last_success == good.sources["allocations"].last_success
    assert allocs.last_attempt > allocs.last_success
    assert not snap.sources["consul_checks"].ok and snap.sources["consul_checks"].error_kind == "unavailable"
    assert snap.sources["jobs"].ok and snap.sources["consul_services"].ok
    problems = snap.problems()
    assert len(problems) == 2
    assert problems[0].startswith("Nomad allocations: Nomad at ") and "Showing the data from" in problems[0]
    assert problems[1].startswith("Consul health checks: Consul at ")
    sandbox.faults.clear()
    assert refresher.refresh_once().ok


def test_first_fetch_failing_says_no_data_yet(sandbox, refresher):
    sandbox.faults.inject("nomad", "/v1/nodes", status=403, body="Permission denied")
    snap = refresher.refresh_once()
    assert not snap.sources["nodes"].ok and snap.sources["nodes"].error_kind == "forbidden"
    assert any(
        p.startswith("Nomad client nodes: The dashboard has no Nomad token") and p.endswith("No data from it yet.")
        for p in snap.problems()
    )
    assert len(snap.frames.jobs) > 0  # the rest still arrived


@pytest.fixture(scope="module")
def quiet_sandbox():
    """A sandbox only these counting tests talk to: the shared one also serves the app tests'
    background refreshers, whose requests would land in the counts."""
    from sandbox import Sandbox

    with Sandbox(clients=40, seed=7, frozen=True) as sb:
        yield sb


def test_requests_per_refresh_do_not_grow_with_readers(quiet_sandbox):
    refresher = Refresher(settings_for(quiet_sandbox), ClientIdentity())
    refresher.refresh_once()
    alone = requests_for_one_refresh(quiet_sandbox, refresher)
    assert requests_for_one_refresh(quiet_sandbox, refresher, readers=1) == alone
    assert requests_for_one_refresh(quiet_sandbox, refresher, readers=20) == alone
    names = len(refresher.raw()["consul_services"])
    assert alone == 6 + 1 + names + 1  # 6 Nomad lists, catalog/services, one per service NAME, health/state


@pytest.fixture(scope="module")
def small_sandbox():
    from sandbox import Sandbox

    with Sandbox(clients=12, seed=11, frozen=True) as sb:
        yield sb


def test_requests_per_refresh_do_not_grow_with_cluster_size(quiet_sandbox, small_sandbox):
    counts = []
    for sb in (quiet_sandbox, small_sandbox):
        sb.faults.clear()
        r = Refresher(settings_for(sb), ClientIdentity())
        r.refresh_once()
        counts.append((requests_for_one_refresh(sb, r), len(r.current().frames.allocations)))
    (a, allocs_a), (b, allocs_b) = counts
    assert allocs_a > allocs_b
    assert a == b


def test_background_watchers_pick_up_a_change_through_blocking_queries(small_sandbox):
    from connectors import NomadConnector

    settings = settings_for(small_sandbox)
    r = Refresher(settings, ClientIdentity(), wait=2.0, min_interval=0.05, debounce=0.05, min_build_interval=0.05)
    with r:
        first = r.wait_for(
            lambda s: (
                s.built_at is not None and s.sources["allocations"].ok and all(st.ok for st in s.sources.values())
            ),
            timeout=20,
        )
        old_index, builds = first.sources["allocations"].index, r.builds

        # quiet cluster: watchers sit in blocking queries, so few requests are made. First make sure
        # every Nomad watcher is holding one (else "few requests" would also pass with dead threads).
        def all_watching(s):
            return all(s.sources[n].watching_until is not None for n in NOMAD_SOURCES)

        r.wait_for(all_watching, timeout=10)
        small_sandbox.reset_stats()
        import time

        time.sleep(0.5)
        quiet = small_sandbox.stats("nomad").get("total", 0)
        assert quiet <= 6  # at most one pending blocking query per Nomad source
        assert r.running and not r.died  # every watcher thread is still alive
        alloc = next(a for a in r.raw()["allocations"] if a.get("ClientStatus") == "running")
        NomadConnector(settings.nomad).restart_allocation(alloc["ID"])
        snap = r.wait_for(lambda s: s.sources["allocations"].index > old_index and r.builds > builds, timeout=10)
        assert snap.sources["allocations"].ok
