"""Which index each Consul endpoint answers with, and when it moves: the sandbox against Consul.

What the dashboard's Consul follower (snapshot.consul_follow) relies on, from Consul's source:

* /v1/health/state/:state answers with the checks table's index whatever the state or ``filter``
  (agent/consul/state/catalog.go checksInStateTxn -> catalogChecksMaxIndex; the filter runs after
  the read: agent/consul/health_endpoint.go ChecksInState), so a blocking query on the warning
  checks wakes on any check write;
* /v1/catalog/services answers with the services table's index (catalog.go Services ->
  catalogServicesMaxIndex): a registration or deregistration moves it, a check that flaps does not;
* /v1/catalog/service/:name and /v1/health/service/:name answer with the "service.<name>" index
  (catalog.go maxIndexAndWatchChForService): moved by that name's checks (ensureCheckTxn ->
  catalogUpdateServiceIndexes) and deregistrations (deleteServiceTxn), not by another name's;
* Raft indexes are not filterable: structs.RaftIndex tags CreateIndex and ModifyIndex
  ``bexpr:"-"`` (agent/structs/structs.go), so a filter on them fails like any unknown selector;
* a ``filter`` runs on the rows the endpoint read and leaves its index alone: /v1/catalog/services
  lists only the names (and tags) of the matching instances (agent/consul/catalog_endpoint.go
  ListServices: ``filter.Execute(serviceNodes)``, then servicesTagsByName), /v1/catalog/service/:name
  (ServiceNodes) and /v1/health/checks/:name (health_endpoint.go ServiceChecks, the checks table's
  index) send only the matching rows -- how the follower reads just the changed allocations'
  instances and checks (``ServiceID matches "^_nomad-task-(<alloc IDs>)-"``, the allocation ID
  being in every Nomad service ID: nomad client/serviceregistration/id.go MakeAllocServiceID);
* a write that changes nothing in the catalog moves none of its indexes (catalog.go
  ensureServiceTxn returns before writing an unchanged service): stopping an allocation whose
  services are Nomad's own (provider "nomad") leaves Consul's indexes alone.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from sandbox import Sandbox
from snapshot.consul_follow import alloc_filter


@pytest.fixture()
def sb():
    with Sandbox(clients=6, seed=11, frozen=True) as s:
        yield s


def get(sb, path, **params):
    r = requests.get(sb.consul_addr + path, params=params, timeout=30)
    return r, int(r.headers.get("X-Consul-Index") or 0)


def passing_service(sb, name: str):
    """A Consul-registered instance of `name` whose check passes (through the world, like a flap)."""
    w = sb.world
    with w.lock:
        return next(
            s
            for s in w.consul_services
            if s.name == name and s.check_status == "passing" and not s.alloc.terminal and s.alloc.node.status != "down"
        )


def flap(sb, s) -> int:
    """The check of `s` warns, the way the sandbox's churn flaps one (one check write)."""
    w = sb.world
    with w.lock:
        w._set_check(s, "warning", "HTTP GET: 429 Too Many Requests")
        idx = s.check_modify_index = w.touch("consul_checks")
    return idx


def test_a_flap_moves_the_checks_and_its_service_index_only(sb):
    s = passing_service(sb, "web")
    _, checks0 = get(sb, "/v1/health/state/any")
    _, names0 = get(sb, "/v1/catalog/services")
    _, web0 = get(sb, "/v1/catalog/service/web")
    _, hweb0 = get(sb, "/v1/health/service/web")
    _, api0 = get(sb, "/v1/catalog/service/api")
    idx = flap(sb, s)
    r, checks1 = get(sb, "/v1/health/state/any")
    assert checks1 == idx > checks0
    assert get(sb, "/v1/catalog/services")[1] == names0, "a check write is not a services write"
    assert get(sb, "/v1/catalog/service/web")[1] == idx > web0
    assert get(sb, "/v1/health/service/web")[1] == idx > hweb0
    assert get(sb, "/v1/catalog/service/api")[1] == api0, "another name's index stays"
    warn = [c for c in r.json() if c["ServiceID"] == s.id]
    assert [c["Status"] for c in warn] == ["warning"] and warn[0]["ModifyIndex"] == idx


def test_a_state_or_a_filter_leaves_the_index_alone(sb):
    r_all, idx_all = get(sb, "/v1/health/state/any")
    r_np, idx_np = get(sb, "/v1/health/state/any", filter='Status != "passing"')
    assert idx_np == idx_all
    assert r_np.json() == [c for c in r_all.json() if c["Status"] != "passing"]
    assert r_np.json(), "the seeded world has failing checks"
    for state in ("passing", "warning", "critical"):
        r, idx = get(sb, f"/v1/health/state/{state}")
        assert idx == idx_all, state
        assert r.json() == [c for c in r_all.json() if c["Status"] == state], state


def test_a_blocking_query_on_the_warning_checks_wakes_on_any_check_write(sb):
    s = passing_service(sb, "api")
    _, idx = get(sb, "/v1/health/state/warning")
    got = {}

    def block():
        got["r"] = get(sb, "/v1/health/state/warning", index=idx, wait="20s")

    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    assert t.is_alive(), "nothing changed yet: the query holds"
    new = flap(sb, s)
    t.join(10)
    r, answered = got["r"]
    assert answered == new
    assert s.id in {c["ServiceID"] for c in r.json()}


def test_a_deregistration_moves_the_services_and_the_name_index(sb):
    s = passing_service(sb, "web")
    _, names0 = get(sb, "/v1/catalog/services")
    _, web0 = get(sb, "/v1/catalog/service/web")
    _, checks0 = get(sb, "/v1/health/state/any")
    r = requests.post(f"{sb.nomad_addr}/v1/allocation/{s.alloc.id}/stop", json={}, timeout=10)
    assert r.status_code == 200, r.text
    r, web1 = get(sb, "/v1/catalog/service/web")
    assert web1 > web0 and get(sb, "/v1/catalog/services")[1] > names0
    assert get(sb, "/v1/health/state/any")[1] > checks0, "its checks were deleted with it"
    assert s.id not in {e["ServiceID"] for e in r.json()}


def test_raft_indexes_are_not_filterable(sb):
    for path in ("/v1/health/state/any", "/v1/catalog/service/web", "/v1/health/service/web"):
        r, _ = get(sb, path, filter="ModifyIndex == 10")
        assert r.status_code == 500, (path, r.text)
        assert "ModifyIndex" in r.text
    r, _ = get(sb, "/v1/health/service/web", filter='Checks.CreateIndex == "1"')
    assert r.status_code == 500


def test_a_crash_deregisters_while_down_and_moves_the_name_index(sb):
    """A crashed task's services leave the catalogue while it is down (Nomad's service hook):
    that deregistration moves the name's index too (catalog.go deleteServiceTxn)."""
    s = passing_service(sb, "api")
    _, api0 = get(sb, "/v1/catalog/service/api")
    w = sb.world
    with w.lock:
        w._crash(w.clock.now_ns(), s.alloc, 137, "OOM Killed")
    r, api1 = get(sb, "/v1/catalog/service/api")
    assert s.id not in {e["ServiceID"] for e in r.json()}
    assert api1 > api0


def test_a_filter_on_the_allocation_sends_only_its_rows_at_the_same_index(sb):
    s = passing_service(sb, "web")
    flt = alloc_filter([s.alloc.id])
    all_names, names_idx = get(sb, "/v1/catalog/services")
    r, idx = get(sb, "/v1/catalog/services", filter=flt)
    assert idx == names_idx and r.json() == {"web": all_names.json()["web"]}
    whole, web_idx = get(sb, "/v1/catalog/service/web")
    r, idx = get(sb, "/v1/catalog/service/web", filter=flt)
    assert idx == web_idx
    assert r.json() == [e for e in whole.json() if e["ServiceID"].startswith(f"_nomad-task-{s.alloc.id}-")]
    assert len(r.json()) == 1 and len(whole.json()) > 1
    checks, checks_idx = get(sb, "/v1/health/checks/web")
    r, idx = get(sb, "/v1/health/checks/web", filter=flt)
    assert idx == checks_idx == get(sb, "/v1/health/state/any")[1], "the checks table's index"
    assert r.json() == [c for c in checks.json() if c["ServiceID"] == s.id] and r.json()
    r, _ = get(sb, "/v1/catalog/service/api", filter=flt)
    assert r.json() == [], "another name has none of its rows"


def test_stopping_an_allocation_without_consul_services_moves_no_consul_index(sb):
    w = sb.world
    with w.lock:
        a = next(
            x
            for x in w.alloc_list
            if x.job.role.provider == "nomad" and x.job.role.service and x.client_status == "running" and not x.terminal
        )
    _, names0 = get(sb, "/v1/catalog/services")
    _, checks0 = get(sb, "/v1/health/state/any")
    r = requests.post(f"{sb.nomad_addr}/v1/allocation/{a.id}/stop", json={}, timeout=10)
    assert r.status_code == 200, r.text
    assert get(sb, "/v1/catalog/services")[1] == names0
    assert get(sb, "/v1/health/state/any")[1] == checks0
