"""On-demand queries: shared by all sessions, so many viewers cost one request."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from auth.policy import Forbidden
from auth.principal import Principal
from connectors import InvalidInput, NomadConnector, NotFound
from connectors.settings import load
from sandbox import Sandbox
from snapshot import Queries

NOW = datetime.now(UTC)


def person(*roles):
    return Principal("p-" + "-".join(roles), "P", "p@example.com", (), frozenset(roles), NOW, NOW + timedelta(hours=8))


SUPPORT = person("support")
VIEWER = person("viewer")
MANAGER = person("manager")


@pytest.fixture(scope="module")
def sandbox():
    """This module's own sandbox: these tests count requests, and the shared session sandbox also
    serves other tests' background pollers."""
    with Sandbox(clients=4, frozen=True) as sb:
        yield sb


@pytest.fixture
def queries(sandbox):
    settings = load({"NOMAD_ADDR": sandbox.nomad_addr, "DASHBOARD_HTTP_TIMEOUT": "5"})
    q = Queries(NomadConnector(settings.nomad))  # production settings: 30 s cache, logs followed every 3 s
    yield q
    q.close()


def running(queries):
    return next(
        a for a in queries.nomad.list_allocations().data if a.get("ClientStatus") == "running" and a.get("TaskStates")
    )


def test_twenty_viewers_of_one_allocation_cost_one_request(sandbox, queries):
    stub = running(queries)
    before = sandbox.stats("nomad")
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(queries.allocation(stub["ID"], principal=VIEWER)))
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = sandbox.stats("nomad")
    assert len(results) == 20 and all(r["ID"] == stub["ID"] for r in results)
    assert after["total"] - before.get("total", 0) == 1


def test_logs_and_versions_are_shared_and_errors_are_connector_errors(sandbox, queries):
    stub = running(queries)
    task = sorted(stub["TaskStates"])[0]
    before = sandbox.stats("nomad")["total"]
    first = queries.log_tail(stub["ID"], task, "stderr", principal=SUPPORT, namespace=stub["Namespace"])
    again = queries.log_tail(stub["ID"], task, "stderr", principal=SUPPORT, namespace=stub["Namespace"])
    assert first.text and first.error is None and again.text == first.text
    assert first.fetches == again.fetches == 1  # the second reader got the follower's text from memory
    versions = queries.job_versions(stub["JobID"], namespace=stub["Namespace"])
    assert versions["Versions"]
    queries.job_versions(stub["JobID"], namespace=stub["Namespace"])
    assert sandbox.stats("nomad")["total"] - before == 2
    with pytest.raises(NotFound):
        queries.job("no-such-job", namespace=stub["Namespace"])
    with pytest.raises(InvalidInput):
        queries.allocation("../../etc", principal=VIEWER)


@pytest.mark.parametrize(
    "read,who,action",
    [
        ("allocation", MANAGER, "alloc:read"),
        ("log_tail", VIEWER, "logs:read"),
        ("log_tail", MANAGER, "logs:read"),
        ("allocation", None, "alloc:read"),
    ],
)
def test_a_read_checks_the_policy_itself_before_any_request(sandbox, queries, read, who, action):
    """datasette's one-call pattern: the read calls ensure(principal, action, resource) itself."""
    stub = running(queries)
    task = sorted(stub["TaskStates"])[0]
    before = sandbox.stats("nomad")["total"]
    with pytest.raises(Forbidden) as err:
        if read == "allocation":
            queries.allocation(stub["ID"], principal=who, namespace=stub["Namespace"])
        else:
            queries.log_tail(stub["ID"], task, "stderr", principal=who, namespace=stub["Namespace"])
    assert err.value.action == action and err.value.resource == f"namespace {stub['Namespace']}"
    assert f"in namespace {stub['Namespace']}" in str(err.value)
    assert sandbox.stats("nomad")["total"] == before  # refused before Nomad was asked
    assert queries.logs.following() == 0


def test_a_person_without_the_right_gets_nothing_a_colleague_loaded(sandbox, queries):
    stub = running(queries)
    assert queries.allocation(stub["ID"], principal=SUPPORT, namespace=stub["Namespace"])["ID"] == stub["ID"]
    with pytest.raises(Forbidden):
        queries.allocation(stub["ID"], principal=MANAGER, namespace=stub["Namespace"])  # not from the cache either


def test_staggered_viewers_at_production_settings_cost_one_log_fetch_per_interval(sandbox, queries):
    """20 people on one allocation's page, each page rerunning every 10 s (page_seconds), started
    0.5 s apart: the sandbox sees one allocation read (30 s cache) and one log fetch per follow
    interval (3 s), not one per viewer and rerun (24 page runs in the 12 s watched)."""
    stub = running(queries)
    task = sorted(stub["TaskStates"])[0]
    ns = stub["Namespace"]
    page_seconds, viewers, window = 10.0, 20, 12.0
    before = dict(sandbox.stats("nomad"))
    stop = threading.Event()
    runs = []

    def viewer(delay):
        if stop.wait(delay):
            return
        while not stop.is_set():
            queries.allocation(stub["ID"], principal=SUPPORT, namespace=ns)
            tail = queries.log_tail(stub["ID"], task, "stderr", principal=SUPPORT, namespace=ns)
            runs.append(tail.text is not None)
            stop.wait(page_seconds)

    started = time.monotonic()
    threads = [threading.Thread(target=viewer, args=(i * 0.5,), daemon=True) for i in range(viewers)]
    for t in threads:
        t.start()
    stop.wait(window)
    stop.set()
    for t in threads:
        t.join(5)
    watched = time.monotonic() - started
    after = sandbox.stats("nomad")

    def delta(key):
        return after.get(key, 0) - before.get(key, 0)

    assert len(runs) >= viewers and all(runs)
    assert delta("GET /v1/allocation/:id") == 1
    interval = queries.logs.interval
    assert 1 <= delta("GET /v1/client/fs/logs/:id") <= watched / interval + 2 < len(runs)
    assert queries.logs.following() == 1  # one follower for the stream, however many viewers


def test_a_follower_nobody_reads_stops():
    """A follower stops once nobody has read it for idle_after seconds (short here: 0.3 s)."""
    with Sandbox(clients=2, frozen=True) as sb:
        q = Queries(NomadConnector(load({"NOMAD_ADDR": sb.nomad_addr}).nomad), log_interval=0.1, log_idle_after=0.3)
        stub = running(q)
        task = sorted(stub["TaskStates"])[0]
        tail = q.log_tail(stub["ID"], task, "stderr", principal=SUPPORT, namespace=stub["Namespace"])
        assert tail.text and q.logs.following() == 1
        (follower,) = q.logs._followers.values()
        follower.thread.join(10)
        assert not follower.thread.is_alive() and q.logs.following() == 0  # its thread ended: no more fetches
        assert sb.stats("nomad")["GET /v1/client/fs/logs/:id"] >= 2  # it did follow before it stopped
        assert q.log_tail(stub["ID"], task, "stderr", principal=SUPPORT, namespace=stub["Namespace"]).text
        assert q.logs.following() == 1  # the next reader starts a new one
        q.close()
