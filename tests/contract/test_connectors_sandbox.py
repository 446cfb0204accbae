"""Connectors against the sandbox over real HTTP (no patching of python-nomad / py-consul)."""

import threading
import time

import pytest
import requests

from connectors import (
    BadResponse,
    ConsulConnector,
    Forbidden,
    InvalidInput,
    Listing,
    NomadConnector,
    NotFound,
    TimedOut,
    Unavailable,
)
from connectors.settings import load
from sandbox import Sandbox


def settings_for(sb, **extra):
    env = {"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr, "DASHBOARD_HTTP_TIMEOUT": "5"}
    env.update(extra)
    return load(env)


@pytest.fixture
def faults(sandbox):
    sandbox.faults.clear()
    yield sandbox.faults
    sandbox.faults.clear()


@pytest.fixture
def nomad(sandbox):
    c = NomadConnector(settings_for(sandbox).nomad)
    yield c
    c.close()


@pytest.fixture
def consul(sandbox):
    c = ConsulConnector(settings_for(sandbox).consul)
    yield c
    c.close()


@pytest.fixture(scope="module")
def blocking_sandbox():
    """This module's own sandbox for blocking queries: the shared ``sandbox`` also serves other tests'
    background pollers, and here the indexes must move only when a test moves them (it gets mutated)."""
    with Sandbox(clients=4, frozen=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def counted_sandbox():
    """This module's own sandbox for request counting: nothing else sends it requests."""
    with Sandbox(clients=4, frozen=True) as sb:
        yield sb


def connectors_for(sb):
    settings = settings_for(sb)
    return NomadConnector(settings.nomad), ConsulConnector(settings.consul)


@pytest.fixture
def counted(counted_sandbox):
    n, c = connectors_for(counted_sandbox)
    yield counted_sandbox, n, c
    n.close()
    c.close()


def total(sb, server="nomad"):
    return sb.stats(server).get("total", 0)


def during_blocking_call(call, change, delay=0.2):
    """Run the blocking ``call()`` while another thread makes ``change()`` ``delay`` seconds after the call
    started. Returns (the call's result, seconds it took); a result that shows the change therefore
    came back at least ``delay`` seconds after the call began."""
    started, failures = threading.Event(), []

    def changer():
        started.wait(10)
        time.sleep(delay)
        try:
            change()
        except BaseException as exc:  # reported in the test's own thread below
            failures.append(exc)

    thread = threading.Thread(target=changer, daemon=True)
    thread.start()
    t = time.monotonic()
    started.set()
    result = call()
    elapsed = time.monotonic() - t
    thread.join(10)
    assert not thread.is_alive() and not failures, failures
    return result, elapsed


def restart_signals(listing, alloc_id):
    """Restart Signaled events: what a restart request writes at once (the task restarts seconds later)."""
    alloc = next(a for a in listing.data if a["ID"] == alloc_id)
    states = (alloc.get("TaskStates") or {}).values()
    return sum(ev["Type"] == "Restart Signaled" for ts in states for ev in ts.get("Events") or ())


def a_running_alloc(nomad):
    running = [a for a in nomad.list_allocations().data if a.get("ClientStatus") == "running" and a.get("TaskStates")]
    assert running, "the seeded sandbox always has running allocations with task states"
    return running[0]


# ---------------------------------------------------------------- lists and indexes


def test_every_list_returns_data_and_its_index(nomad, consul):
    for listing in (
        nomad.list_jobs(),
        nomad.list_allocations(),
        nomad.list_deployments(),
        nomad.list_nodes(),
        nomad.list_namespaces(),
        nomad.list_services(),
    ):
        assert isinstance(listing, Listing) and isinstance(listing.data, list) and listing.index > 0
    jobs = nomad.list_jobs().data
    assert jobs and all("Meta" in j for j in jobs)  # meta=true was sent
    # parsed element by element, the same jobs as the whole body, one key object per key name
    # (as json.loads shares them within a document) and repeated strings shared
    whole = requests.get(f"{nomad.settings.addr}/v1/jobs", params={"namespace": "*", "meta": "true"}, timeout=10)
    assert jobs == whole.json()
    assert len({id(k) for j in jobs for k in j}) == len({k for j in jobs for k in j})
    assert len({id(j["Type"]) for j in jobs}) == len({j["Type"] for j in jobs})
    allocs = nomad.list_allocations().data
    assert any(a.get("TaskStates") for a in allocs)  # task_states=true was sent
    assert len({a["Namespace"] for a in allocs}) > 1  # namespace=* was sent
    services = consul.catalog_services()
    assert isinstance(services.data, dict) and services.index > 0
    name = sorted(services.data)[0]
    entries = consul.catalog_service(name)
    assert entries.data and all(e["ServiceName"] == name for e in entries.data)
    checks = consul.health_state("any")
    assert checks.data and checks.index > 0
    assert consul.status_leader()


def test_blocking_query_waits_for_a_change_and_returns_the_index(blocking_sandbox):
    nomad, _ = connectors_for(blocking_sandbox)
    first = nomad.list_allocations()
    # nothing changes: the server holds the request for the whole wait and answers with the same index
    t = time.monotonic()
    quiet = nomad.list_allocations(index=first.index, wait=0.3)
    assert time.monotonic() - t >= 0.3
    assert quiet.index == first.index and quiet.data == first.data
    # a restart from another thread during the wait wakes the query with the new index and the new data
    alloc = next(
        a
        for a in first.data
        if a.get("ClientStatus") == "running"
        and any(ts.get("State") == "running" for ts in (a.get("TaskStates") or {}).values())
    )
    wait = 30.0
    woke, elapsed = during_blocking_call(
        lambda: nomad.list_allocations(index=first.index, wait=wait), lambda: nomad.restart_allocation(alloc["ID"])
    )
    assert woke.index > first.index
    assert restart_signals(woke, alloc["ID"]) > restart_signals(first, alloc["ID"])
    assert 0.2 <= elapsed < wait  # it waited for the change, and the change (not the wait running out) ended it
    nomad.close()


def test_consul_blocking_query(blocking_sandbox):
    sb = blocking_sandbox
    _, consul = connectors_for(sb)
    first = consul.health_state("any")
    # nothing changes: held for the whole wait, same index, same checks
    t = time.monotonic()
    quiet = consul.health_state("any", index=first.index, wait=0.3)
    assert time.monotonic() - t >= 0.3
    assert quiet.index == first.index and quiet.data == first.data
    # stopping an allocation through the Nomad API deregisters its Consul service and check,
    # which wakes a health query blocked on the current index
    check = next(c for c in first.data if c["ServiceID"].startswith("_nomad-task-"))
    alloc_id = check["ServiceID"][len("_nomad-task-") :][:36]

    def stop():
        r = requests.post(f"{sb.nomad_addr}/v1/allocation/{alloc_id}/stop", timeout=5)
        assert r.status_code == 200, r.text

    wait = 30.0
    woke, elapsed = during_blocking_call(lambda: consul.health_state("any", index=first.index, wait=wait), stop)
    assert woke.index > first.index
    assert check["CheckID"] in {c["CheckID"] for c in first.data} - {c["CheckID"] for c in woke.data}
    assert 0.2 <= elapsed < wait  # it waited for the change, and the change (not the wait running out) ended it
    consul.close()


# ---------------------------------------------------------------- error kinds


def test_down_is_unavailable(sandbox, nomad, faults):
    faults.inject("nomad", "/v1/jobs", down=True)
    with pytest.raises(Unavailable) as info:
        nomad.list_jobs()
    assert info.value.source == "Nomad" and sandbox.nomad_addr in str(info.value)


def test_nothing_listening_is_unavailable():
    nomad = NomadConnector(load({"NOMAD_ADDR": "http://127.0.0.1:9"}).nomad)
    with pytest.raises(Unavailable, match=r"Nomad at http://127.0.0.1:9 cannot be reached \(connection refused\)"):
        nomad.list_nodes()


def test_latency_beyond_timeout_is_timed_out(sandbox, faults):
    nomad = NomadConnector(settings_for(sandbox, DASHBOARD_HTTP_TIMEOUT="0.3").nomad)
    faults.inject("nomad", "/v1/nodes", latency=1.0)
    with pytest.raises(TimedOut, match=r"did not answer within 0\.3 seconds while trying to list client nodes"):
        nomad.list_nodes()


def test_403_is_forbidden_with_plain_words(nomad, faults):
    faults.inject("nomad", "/v1/deployments", status=403, body="Permission denied")
    with pytest.raises(Forbidden) as info:
        nomad.list_deployments()
    assert str(info.value) == (
        "The dashboard has no Nomad token and is not allowed to list deployments in all namespaces "
        "(Nomad said: Permission denied). Set NOMAD_TOKEN."
    )


def test_404_is_not_found(nomad):
    with pytest.raises(NotFound, match="Nomad has no job no-such-job in namespace default"):
        nomad.get_job("no-such-job")
    with pytest.raises(NotFound, match="Nomad has no allocation 00000000-0000-0000-0000-000000000000"):
        nomad.get_allocation("00000000-0000-0000-0000-000000000000")


def test_malformed_is_bad_response(nomad, consul, faults):
    faults.inject("nomad", "/v1/namespaces", malformed=True)
    with pytest.raises(BadResponse, match="cannot read while trying to list namespaces"):
        nomad.list_namespaces()
    faults.inject("consul", "/v1/health/state/:state", malformed=True)
    faults.inject("consul", "/v1/health/state/any", malformed=True)
    with pytest.raises(BadResponse) as info:
        consul.health_state("any")
    assert info.value.source == "Consul"


def test_500_is_unavailable_with_the_server_text(nomad, faults):
    faults.inject("nomad", "/v1/allocations", status=500, body="rpc error: No cluster leader")
    with pytest.raises(
        Unavailable,
        match=r"answered with an error while trying to list allocations in all namespaces \(HTTP 500: rpc error: No cluster leader\)",
    ):
        nomad.list_allocations()


def test_consul_error_kinds(sandbox, consul, faults):
    faults.inject("consul", "/v1/catalog/services", down=True)
    with pytest.raises(Unavailable):
        consul.catalog_services()
    faults.clear()
    faults.inject("consul", "/v1/catalog/services", status=403, body="Permission denied")
    with pytest.raises(Forbidden, match="Consul said: Permission denied"):
        consul.catalog_services()
    faults.clear()
    slow = ConsulConnector(settings_for(sandbox, DASHBOARD_HTTP_TIMEOUT="0.3").consul)
    faults.inject("consul", "/v1/status/leader", latency=1.0)
    with pytest.raises(TimedOut):
        slow.status_leader()


# ---------------------------------------------------------------- hostile path inputs

HOSTILE = ["../../v1/acl/tokens", "..", "web%2F..%2Fx", "a%2fb", "x\r\nX-Injected: 1", "a" * 500, "", "\x00"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_inputs_never_reach_the_server(counted, value):
    sb, nomad, consul = counted
    before_n, before_c = total(sb, "nomad"), total(sb, "consul")
    for call in (
        lambda: nomad.get_job(value),
        lambda: nomad.job_versions(value),
        lambda: nomad.get_allocation(value),
        lambda: nomad.logs(value, "web"),
        lambda: nomad.restart_allocation(value),
        lambda: consul.catalog_service(value),
        *([lambda: nomad.list_jobs(namespace=value)] if value else []),
    ):  # "" = default namespace
        with pytest.raises(InvalidInput):
            call()
    assert total(sb, "nomad") == before_n and total(sb, "consul") == before_c


def test_short_alloc_id_rejected_before_http(counted):
    sb, nomad, _ = counted
    alloc = a_running_alloc(nomad)
    before = total(sb)
    with pytest.raises(InvalidInput, match="not a full Nomad allocation ID"):
        nomad.get_allocation(alloc["ID"][:8])
    assert total(sb) == before


@pytest.mark.parametrize("job_id", ["batch/dispatch-1", "café-wéb", "a b?c#d"])
def test_odd_but_legal_ids_arrive_escaped_as_one_segment(counted, job_id):
    sb, nomad, _ = counted
    before = sb.stats("nomad")
    with pytest.raises(NotFound):
        nomad.get_job(job_id)
    after = sb.stats("nomad")
    key = next(k for k in after if k.startswith("GET /v1/job/:"))
    # the sandbox matched its one-segment route: the "/" was escaped, nothing leaked into other routes
    assert after[key] == before.get(key, 0) + 1
    assert after["total"] == before.get("total", 0) + 1


# ---------------------------------------------------------------- single objects, logs, restart


def test_get_allocation_job_and_versions(nomad):
    stub = a_running_alloc(nomad)
    alloc = nomad.get_allocation(stub["ID"])
    assert alloc["ID"] == stub["ID"] and alloc.get("TaskStates")
    job = nomad.get_job(stub["JobID"], namespace=stub["Namespace"])
    assert job["ID"] == stub["JobID"]
    versions = nomad.job_versions(stub["JobID"], namespace=stub["Namespace"])
    assert versions["Versions"] and versions["Versions"][0]["ID"] == stub["JobID"]


def test_logs_tail_is_decoded_text(nomad):
    stub = a_running_alloc(nomad)
    task = sorted(stub["TaskStates"])[0]
    text = nomad.logs(stub["ID"], task, "stdout", tail_bytes=2048, namespace=stub["Namespace"])
    assert isinstance(text, str) and text
    assert len(text.encode()) <= 2048 + 200  # the tail, not the whole file (plus event markers)
    assert "\ufffd" not in text[:1]
    with pytest.raises(InvalidInput):
        nomad.logs(stub["ID"], task, "stdin")


@pytest.fixture(scope="module")
def small_sandbox():
    """Our own small sandbox, because restarting mutates it (kept >= 12 clients: smaller worlds fail to generate)."""
    from sandbox import Sandbox

    with Sandbox(clients=12, seed=11, frozen=True) as sb:
        yield sb


def test_restart_sends_a_body(small_sandbox):
    nomad = NomadConnector(settings_for(small_sandbox).nomad)
    stub = a_running_alloc(nomad)
    task = sorted(stub["TaskStates"])[0]
    assert nomad.restart_allocation(stub["ID"], task=task) == {"Index": 0}
    assert nomad.restart_allocation(stub["ID"], all_tasks=True) == {"Index": 0}
    with pytest.raises(InvalidInput):
        nomad.restart_allocation(stub["ID"], task=task, all_tasks=True)
    with pytest.raises(NotFound):
        nomad.restart_allocation(stub["ID"], task="no-such-task")
