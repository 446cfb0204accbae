"""On-demand queries: shared by all sessions, so many viewers cost one request."""

import threading

import pytest

from connectors import InvalidInput, NomadConnector, NotFound
from connectors.settings import load
from sandbox import Sandbox
from snapshot import Queries


@pytest.fixture(scope="module")
def sandbox():
    """This module's own sandbox: these tests count requests, and the shared session sandbox also
    serves other tests' background pollers."""
    with Sandbox(clients=4, frozen=True) as sb:
        yield sb


@pytest.fixture
def queries(sandbox):
    settings = load({"NOMAD_ADDR": sandbox.nomad_addr, "DASHBOARD_HTTP_TIMEOUT": "5"})
    return Queries(NomadConnector(settings.nomad), ttl=30)


def running(queries):
    return next(
        a for a in queries.nomad.list_allocations().data if a.get("ClientStatus") == "running" and a.get("TaskStates")
    )


def test_twenty_viewers_of_one_allocation_cost_one_request(sandbox, queries):
    stub = running(queries)
    before = sandbox.stats("nomad")
    results = []
    threads = [threading.Thread(target=lambda: results.append(queries.allocation(stub["ID"]))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = sandbox.stats("nomad")
    assert len(results) == 20 and all(r["ID"] == stub["ID"] for r in results)
    assert after["total"] - before.get("total", 0) == 1


def test_logs_and_versions_are_cached_and_errors_are_connector_errors(sandbox, queries):
    stub = running(queries)
    task = sorted(stub["TaskStates"])[0]
    before = sandbox.stats("nomad")["total"]
    text = queries.logs(stub["ID"], task, "stderr", tail_bytes=1024)
    assert text == queries.logs(stub["ID"], task, "stderr", tail_bytes=1024)
    versions = queries.job_versions(stub["JobID"], namespace=stub["Namespace"])
    assert versions["Versions"]
    queries.job_versions(stub["JobID"], namespace=stub["Namespace"])
    assert sandbox.stats("nomad")["total"] - before == 2
    with pytest.raises(NotFound):
        queries.job("no-such-job", namespace=stub["Namespace"])
    with pytest.raises(InvalidInput):
        queries.allocation("../../etc")
