"""Sandbox behaviour over real HTTP: blocking queries, restart, ACLs, faults, logs, pagination, clients."""

from __future__ import annotations

import base64
import json
import threading
import time

import consul
import nomad
import pytest
import requests


def get(sb, path, **kw):
    return requests.get(sb.nomad_addr + path, timeout=kw.pop("timeout", 10), **kw)


def running_alloc(sb, multi_task=False):
    allocs = get(sb, "/v1/allocations?namespace=*").json()
    return next(
        a
        for a in allocs
        if a["ClientStatus"] == "running"
        and not sb.world.allocs[a["ID"]].job.client.scenario
        and (len(a["TaskStates"]) > 1) == multi_task
    )


# ------------------------------------------------------------------ clients
def test_python_nomad_and_py_consul_work_unchanged(sandbox):
    n = nomad.Nomad(host="127.0.0.1", port=sandbox.nomad_port)
    jobs = n.jobs.get_jobs(namespace="*")
    assert {"northern-leaf-web", "northern-leaf-api", "northern-leaf-worker", "northern-leaf-reports"} <= {
        j["ID"] for j in jobs
    }
    c = consul.Consul(host="127.0.0.1", port=sandbox.consul_port)
    index, entries = c.health.service("web")
    assert int(index) > 0 and entries
    assert {e["Service"]["Meta"]["client"] for e in entries} >= {"northern-leaf"}


def test_unknown_things_answer_like_the_servers(sandbox):
    assert get(sandbox, "/v1/job/nope?namespace=northern-leaf").text == "job not found"
    assert get(sandbox, "/v1/allocation/00000000-0000-0000-0000-000000000000").status_code == 404
    assert requests.get(sandbox.consul_addr + "/v1/health/service/nope", timeout=5).json() == []
    kv = requests.get(sandbox.consul_addr + "/v1/kv/missing/key", timeout=5)
    assert kv.status_code == 404 and kv.content == b""


def test_namespace_param_is_respected(sandbox):
    assert get(sandbox, "/v1/jobs").json() == []  # nothing runs in "default"
    jobs = get(sandbox, "/v1/jobs?namespace=northern-leaf&meta=true").json()
    assert jobs and all(j["Namespace"] == "northern-leaf" and j["Meta"]["client"] == "northern-leaf" for j in jobs)


def test_filter_and_pagination(sandbox):
    failed = get(sandbox, '/v1/allocations?namespace=*&filter=ClientStatus == "failed"').json()
    assert failed and all(a["ClientStatus"] == "failed" for a in failed)
    assert get(sandbox, "/v1/allocations?namespace=*&filter=ClientStatus =~ x").status_code == 400
    everything = [a["ID"] for a in get(sandbox, "/v1/allocations?namespace=*&task_states=false").json()]
    seen, token = [], None
    while True:
        r = get(
            sandbox,
            "/v1/allocations",
            params={
                "namespace": "*",
                "per_page": 100,
                "task_states": "false",
                **({"next_token": token} if token else {}),
            },
        )
        seen += [a["ID"] for a in r.json()]
        token = r.headers.get("X-Nomad-NextToken")
        if not token:
            break
    assert seen == everything


# ----------------------------------------------------------------- blocking
def test_blocking_query_returns_after_wait_without_change(sandbox):
    first = get(sandbox, "/v1/nodes")
    index = int(first.headers["X-Nomad-Index"])
    t = time.monotonic()
    r = get(sandbox, f"/v1/nodes?index={index}&wait=300ms")
    assert time.monotonic() - t >= 0.3  # held for the whole wait (the server adds jitter, never less)
    assert int(r.headers["X-Nomad-Index"]) == index and r.json() == first.json()


def test_blocking_query_wakes_on_change_and_not_on_other_tables(fresh_sandbox):
    sb = fresh_sandbox
    a = running_alloc(sb)
    first = get(sb, "/v1/allocations?namespace=*")
    index = int(first.headers["X-Nomad-Index"])
    node_index = int(get(sb, "/v1/nodes").headers["X-Nomad-Index"])
    before = next(x for x in first.json() if x["ID"] == a["ID"])["TaskStates"]
    results = {}
    sent = threading.Barrier(3)

    def wait_allocs():
        sent.wait(10)
        t = time.monotonic()
        r = get(sb, f"/v1/allocations?namespace=*&index={index}&wait=20s", timeout=30)
        results["allocs"] = (time.monotonic() - t, int(r.headers["X-Nomad-Index"]), r.json())

    def wait_nodes():
        sent.wait(10)
        t = time.monotonic()
        r = get(sb, f"/v1/nodes?index={node_index}&wait=1s", timeout=30)
        results["nodes"] = (time.monotonic() - t, int(r.headers["X-Nomad-Index"]))

    threads = [threading.Thread(target=wait_allocs), threading.Thread(target=wait_nodes)]
    for th in threads:
        th.start()
    sent.wait(10)  # both queries are about to be sent; the restart comes 0.3 s later
    time.sleep(0.3)
    assert requests.post(f"{sb.nomad_addr}/v1/client/allocation/{a['ID']}/restart", timeout=5).status_code == 200
    for th in threads:
        th.join()
    elapsed, new_index, allocs = results["allocs"]
    # woke because of the restart: the index moved, the answer carries the restart,
    # and it came back before its own 20 s wait ran out
    assert new_index > index and elapsed < 20
    after = next(x for x in allocs if x["ID"] == a["ID"])["TaskStates"]
    signaled = [e for ts in after.values() for e in ts["Events"] if e["Type"] == "Restart Signaled"]
    assert len(signaled) > sum(e["Type"] == "Restart Signaled" for ts in before.values() for e in ts["Events"])
    nodes_elapsed, nodes_index = results["nodes"]
    assert nodes_index == node_index and nodes_elapsed >= 1.0  # an allocation change does not wake a nodes query


def test_consul_blocking_and_headers(sandbox):
    r = requests.get(sandbox.consul_addr + "/v1/catalog/services", timeout=5)
    index = int(r.headers["X-Consul-Index"])
    assert r.headers["X-Consul-KnownLeader"] == "true" and r.headers["X-Consul-Default-ACL-Policy"] == "allow"
    t = time.monotonic()
    requests.get(sandbox.consul_addr + f"/v1/catalog/services?index={index}&wait=300ms", timeout=5)
    assert time.monotonic() - t >= 0.25


# ------------------------------------------------------------------ restart
def _restart(sb, alloc_id, body=None):
    return requests.post(
        f"{sb.nomad_addr}/v1/client/allocation/{alloc_id}/restart",
        data=json.dumps(body) if body is not None else None,
        timeout=5,
    )


def test_restart_body_forms(fresh_sandbox):
    sb = fresh_sandbox
    a = running_alloc(sb, multi_task=True)
    before = get(sb, f"/v1/allocation/{a['ID']}").json()["TaskStates"]
    main, sidecar = list(before)

    assert _restart(sb, a["ID"]).json() == {"Index": 0}  # no body: every running task (GenericResponse)
    sb.clock.advance(10)  # the client plays the restart out over a few seconds
    after = get(sb, f"/v1/allocation/{a['ID']}").json()["TaskStates"]
    for t in (main, sidecar):
        assert after[t]["Restarts"] == before[t]["Restarts"] + 1
        assert [e["Type"] for e in after[t]["Events"][-4:]] == [
            "Restart Signaled",
            "Terminated",
            "Restarting",
            "Started",
        ]
        assert after[t]["LastRestart"]

    assert _restart(sb, a["ID"], {"TaskName": sidecar}).status_code == 200
    sb.clock.advance(10)
    again = get(sb, f"/v1/allocation/{a['ID']}").json()["TaskStates"]
    assert again[sidecar]["Restarts"] == after[sidecar]["Restarts"] + 1
    assert again[main]["Restarts"] == after[main]["Restarts"]

    assert _restart(sb, a["ID"], {"AllTasks": True}).status_code == 200
    both = _restart(sb, a["ID"], {"TaskName": main, "AllTasks": True})
    assert both.status_code == 500 and both.text == "task name cannot be set when restarting all tasks"


def test_restart_refuses_terminal_and_unknown(fresh_sandbox):
    sb = fresh_sandbox
    done = next(a for a in get(sb, "/v1/allocations?namespace=*").json() if a["ClientStatus"] == "complete")
    assert _restart(sb, done["ID"]).status_code >= 400
    assert _restart(sb, "00000000-0000-0000-0000-000000000000").status_code == 404


def test_python_nomad_restart_bumps_index(fresh_sandbox):
    sb = fresh_sandbox
    a = running_alloc(sb)
    index = int(get(sb, "/v1/allocations?namespace=*").headers["X-Nomad-Index"])
    nomad.Nomad(host="127.0.0.1", port=sb.nomad_port).client.allocation.restart_allocation(a["ID"])
    assert int(get(sb, "/v1/allocations?namespace=*").headers["X-Nomad-Index"]) > index


# ---------------------------------------------------------------------- ACL
def test_acl_tokens(acl_sandbox):
    sb = acl_sandbox
    assert get(sb, "/v1/jobs?namespace=*").status_code == 403
    assert get(sb, "/v1/jobs", headers={"X-Nomad-Token": "nope"}).text == "Permission denied"
    read = {"X-Nomad-Token": sb.tokens["read"]}
    a = get(sb, "/v1/allocations?namespace=*", headers=read).json()[0]
    r = requests.post(f"{sb.nomad_addr}/v1/client/allocation/{a['ID']}/restart", headers=read, timeout=5)
    assert r.status_code == 403 and r.text == "Permission denied"
    me = get(sb, "/v1/acl/token/self", headers={"Authorization": f"Bearer {sb.tokens['support']}"}).json()
    assert me["Policies"] == ["dash-support"] and me["SecretID"] == sb.tokens["support"]
    c = requests.get(sb.consul_addr + "/v1/catalog/services", timeout=5)
    assert c.json() == {} and c.headers["X-Consul-Results-Filtered-By-ACLs"] == "true"
    ok = requests.get(
        sb.consul_addr + "/v1/catalog/services", headers={"X-Consul-Token": sb.consul_tokens["read"]}, timeout=5
    )
    assert "web" in ok.json()


def test_support_token_can_restart(acl_sandbox):
    sb = acl_sandbox
    support = {"X-Nomad-Token": sb.tokens["support"]}
    a = next(
        x for x in get(sb, "/v1/allocations?namespace=*", headers=support).json() if x["ClientStatus"] == "running"
    )
    r = requests.post(f"{sb.nomad_addr}/v1/client/allocation/{a['ID']}/restart", headers=support, timeout=5)
    assert r.status_code == 200


# ------------------------------------------------------------------- faults
def test_faults(fresh_sandbox):
    sb = fresh_sandbox
    sb.faults.inject("nomad", "/v1/job/:id", status=500, body="rpc error: No cluster leader")
    r = get(sb, "/v1/job/x?namespace=y")
    assert r.status_code == 500 and r.text == "rpc error: No cluster leader"
    sb.faults.inject("nomad", "/v1/nodes", latency=0.4)
    t = time.monotonic()
    assert get(sb, "/v1/nodes").status_code == 200 and time.monotonic() - t >= 0.4
    sb.faults.inject("nomad", "/v1/namespaces", malformed=True)
    with pytest.raises(ValueError):
        get(sb, "/v1/namespaces").json()
    sb.faults.inject("nomad", None, down=True)
    with pytest.raises(requests.ConnectionError):
        get(sb, "/v1/regions")
    assert get(sb, "/_sandbox/stats").status_code == 200  # control paths stay up
    assert requests.delete(sb.nomad_addr + "/_sandbox/faults", timeout=5).status_code == 200
    assert get(sb, "/v1/regions").json() == ["global"]
    requests.post(sb.consul_addr + "/_sandbox/faults", json={"path": "/v1/catalog/services", "status": 503}, timeout=5)
    assert requests.get(sb.consul_addr + "/v1/catalog/services", timeout=5).status_code == 503


def test_stats_count_per_template(fresh_sandbox):
    sb = fresh_sandbox
    requests.post(sb.nomad_addr + "/_sandbox/stats/reset", timeout=5)
    get(sb, "/v1/job/a?namespace=b")
    get(sb, "/v1/job/c/versions?namespace=b")
    stats = get(sb, "/_sandbox/stats").json()
    assert stats == {"GET /v1/job/:id": 1, "GET /v1/job/:id/versions": 1, "total": 2} == sb.stats("nomad")


# --------------------------------------------------------------------- logs
def _frames(text):
    dec, pos, out = json.JSONDecoder(), 0, []
    while pos < len(text):
        frame, pos = dec.raw_decode(text, pos)
        out.append(frame)
    return out


def test_log_framing_plain_and_tail(sandbox):
    a = running_alloc(sandbox)
    task = next(iter(a["TaskStates"]))
    url = f"/v1/client/fs/logs/{a['ID']}"
    frames = _frames(get(sandbox, url, params={"task": task, "type": "stdout"}).text)
    data = b"".join(base64.b64decode(f["Data"]) for f in frames)
    assert frames[0]["File"] == f"alloc/logs/{task}.stdout.0" and b" INFO " in data
    plain = get(sandbox, url, params={"task": task, "type": "stdout", "plain": "true"}).content
    assert plain == data
    tail = get(sandbox, url, params={"task": task, "type": "stdout", "plain": "true", "origin": "end", "offset": 100})
    assert tail.content == data[-100:]
    assert get(sandbox, url, params={"type": "stdout"}).status_code == 400
    short = get(sandbox, f"/v1/client/fs/logs/{a['ID'][:8]}", params={"task": task, "type": "stdout"})
    assert short.status_code == 500 and short.text == "alloc lookup failed: index error: UUID must be 36 characters"


def test_failed_task_logs_show_the_error(sandbox):
    failed = get(sandbox, '/v1/allocations?namespace=*&filter=ClientStatus == "failed"').json()[0]
    task = next(t for t, s in failed["TaskStates"].items() if s["Failed"])
    err = get(
        sandbox, f"/v1/client/fs/logs/{failed['ID']}", params={"task": task, "type": "stderr", "plain": "true"}
    ).text
    assert "ERROR" in err.splitlines()[-1]
