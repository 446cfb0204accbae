"""What the sandbox answers, held against Nomad v1.11.3's source (not its docs), over real HTTP.

Each test names the source files it follows (paths in hashicorp/nomad at tag v1.11.3, and
hashicorp/go-memdb for the ID checks). Where the source leaves a detail open the docstring
says so and the sandbox takes the conservative answer.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from sandbox import Sandbox
from sandbox.acl import Token


def get(sb, path, **kw):
    return requests.get(sb.nomad_addr + path, timeout=kw.pop("timeout", 10), **kw)


def post(sb, path, body=None, **kw):
    data = json.dumps(body) if body is not None else None
    return requests.post(sb.nomad_addr + path, data=data, timeout=kw.pop("timeout", 10), **kw)


def allocs(sb, **params):
    return get(sb, "/v1/allocations", params={"namespace": "*", "task_states": "true", **params}).json()


def healthy_running(sb):
    for a in allocs(sb):
        full = sb.world.allocs[a["ID"]]
        if a["ClientStatus"] == "running" and not full.job.client.scenario and full.node.status != "down":
            return a
    raise AssertionError("no running allocation")


# ------------------------------------------------------------------- lookups
def test_single_object_lookups_are_exact_and_short_ids_are_500s(sandbox):
    """command/agent/{alloc,eval,deployment,node}_endpoint.go pass the ID to state.*ByID, whose
    go-memdb UUID index (go-memdb index.go parseString) refuses anything but 36 characters;
    nomad/state/state_store.go wraps that as "<thing> lookup failed: index error: ..." and the
    HTTP layer answers 500. No prefix resolution happens on the server."""
    a = allocs(sandbox)[0]
    short = a["ID"][:8]
    cases = {
        f"/v1/allocation/{short}": "alloc lookup failed: index error: UUID must be 36 characters",
        f"/v1/evaluation/{a['EvalID'][:8]}": "eval lookup failed: index error: UUID must be 36 characters",
        f"/v1/node/{a['NodeID'][:8]}": "node lookup failed: index error: UUID must be 36 characters",
        "/v1/deployment/abcd": "deployment lookup failed: index error: UUID must be 36 characters",
        "/v1/allocation/"
        + "z" * 36: "alloc lookup failed: index error: Invalid UUID: encoding/hex: invalid byte: U+007A 'z'",
        "/v1/allocation/" + "-" * 36: 'alloc lookup failed: index error: UUID should have maximum of 4 "-"; got 36',
    }
    for path, text in cases.items():
        r = get(sandbox, path)
        assert (r.status_code, r.text) == (500, text), path
    zero = "00000000-0000-0000-0000-000000000000"
    for path, text in {
        f"/v1/allocation/{zero}": "alloc not found",
        f"/v1/evaluation/{zero}": "eval not found",
        f"/v1/deployment/{zero}": "deployment not found",
        f"/v1/node/{zero}": "node not found",
    }.items():
        r = get(sandbox, path)
        assert (r.status_code, r.text) == (404, text), path
    assert get(sandbox, f"/v1/allocation/{a['ID'].upper()}").json()["ID"] == a["ID"]  # hex is case-blind


def test_prefix_rules(sandbox):
    """nomad/alloc_endpoint.go List: with prefix= the scan is AllocsByIDPrefix (ID order,
    IDTokenizer); go-memdb's UUID prefix check answers an odd number of hex digits or a non-hex
    character with an error the handler returns as a 500. DeploymentsByIDPrefix does not wrap
    the error, EvalsByIDPrefix and NodesByIDPrefix do (nomad/state/state_store.go)."""
    every = allocs(sandbox)
    pre = every[0]["ID"][:2]
    hits = allocs(sandbox, prefix=pre)
    assert hits and [h["ID"] for h in hits] == sorted(a["ID"] for a in every if a["ID"].startswith(pre))
    for path, text in {
        "/v1/allocations?namespace=*&prefix=abc": "alloc lookup failed: index error: Input (without hyphens) must be even length",
        "/v1/allocations?namespace=*&prefix=zz": "alloc lookup failed: index error: Invalid UUID: encoding/hex: invalid byte: U+007A 'z'",
        "/v1/evaluations?namespace=*&prefix=a": "eval lookup failed: index error: Input (without hyphens) must be even length",
        "/v1/deployments?namespace=*&prefix=a": "index error: Input (without hyphens) must be even length",
        "/v1/nodes?prefix=a": "node lookup failed: index error: Input (without hyphens) must be even length",
    }.items():
        r = get(sandbox, path)
        assert (r.status_code, r.text) == (500, text), path
    nodes = get(sandbox, "/v1/nodes").json()
    two = nodes[0]["ID"][:4]
    assert {n["ID"] for n in get(sandbox, f"/v1/nodes?prefix={two}").json()} == {
        n["ID"] for n in nodes if n["ID"].startswith(two)
    }


# -------------------------------------------------------------------- filter
def test_filter_runs_over_the_full_object(sandbox):
    """nomad/state/paginator/paginator.go evaluates go-bexpr on the state object (the full
    Allocation, Job, Node), not on the list stub it returns: an allocation filter may select on
    the job's meta, a node filter on attributes, a job filter on meta without meta=true."""
    mine = allocs(sandbox, filter='Job.Meta.client == "northern-leaf"')
    assert mine and all(a["Namespace"] == "northern-leaf" for a in mine)
    assert len(mine) == sum(1 for a in allocs(sandbox) if a["Namespace"] == "northern-leaf")
    jobs = get(sandbox, "/v1/jobs", params={"namespace": "*", "filter": 'Meta["client"] == "northern-leaf"'}).json()
    assert jobs and {j["Namespace"] for j in jobs} == {"northern-leaf"}
    nodes = get(sandbox, "/v1/nodes", params={"filter": 'Attributes["os.name"] is not empty'}).json()
    assert len(nodes) == len(get(sandbox, "/v1/nodes").json())
    grouped = allocs(
        sandbox,
        filter='not (ClientStatus == "running" or ClientStatus == "pending") and Namespace == "northern-leaf"',
    )
    assert grouped and all(a["ClientStatus"] not in ("running", "pending") for a in grouped)


def test_filter_errors_are_400s_with_go_bexpr_text(sandbox):
    """Parse errors: "failed to create result paginator: failed to read filter expression: <pigeon
    error>"; an unknown field of the struct is an evaluation error, "failed to read result page:
    error finding value in datum: ..." (nomad/alloc_endpoint.go, go-bexpr evaluate.go)."""
    r = get(sandbox, "/v1/allocations", params={"namespace": "*", "filter": "ClientStatus =="})
    assert r.status_code == 400
    assert r.text.startswith("failed to create result paginator: failed to read filter expression: 1:16 (15): ")
    r = get(sandbox, "/v1/allocations", params={"namespace": "*", "filter": 'NoSuchField == "x"'})
    assert r.status_code == 400 and r.text == (
        "failed to read result page: error finding value in datum: /NoSuchField at part 0: "
        'couldn\'t find key: struct field with name "NoSuchField"'
    )


# ---------------------------------------------------------------- pagination
def test_pagination_resumes_at_the_first_item_at_or_after_the_token(sandbox):
    """nomad/state/paginator/paginator.go skips items whose token sorts before next_token, so a
    token that names no item (the item was deleted, or a hand-made one) resumes at the next
    item; X-Nomad-NextToken is the token of the first item left out. Allocation tokens are
    "<CreateIndex>.<ID>" compared by number (tokenizer.go CreateIndexAndIDTokenizer); nodes
    list in ID order with the ID as token (nomad/node_endpoint.go List)."""
    every = get(sandbox, "/v1/allocations?namespace=*&task_states=false").json()
    first = get(sandbox, "/v1/allocations?namespace=*&task_states=false&per_page=5")
    sixth = every[5]
    assert [a["ID"] for a in first.json()] == [a["ID"] for a in every[:5]]
    assert first.headers["X-Nomad-NextToken"] == f"{sixth['CreateIndex']}.{sixth['ID']}"
    made_up = f"{sixth['CreateIndex']}."  # sorts just before the sixth item
    resumed = get(sandbox, f"/v1/allocations?namespace=*&task_states=false&per_page=2&next_token={made_up}").json()
    assert [a["ID"] for a in resumed] == [every[5]["ID"], every[6]["ID"]]
    nodes = get(sandbox, "/v1/nodes").json()
    assert [n["ID"] for n in nodes] == sorted(n["ID"] for n in nodes)
    page = get(sandbox, "/v1/nodes?per_page=3")
    assert page.headers["X-Nomad-NextToken"] == nodes[3]["ID"]
    bad = get(sandbox, "/v1/nodes?per_page=many")
    assert (bad.status_code, bad.text) == (400, "Expect a number for `per_page` query string parameter")


# ------------------------------------------------------------------- restart
@pytest.fixture
def fresh40():
    """A fresh sandbox big enough to hold every seeded problem (a lost allocation among them)."""
    with Sandbox(clients=40, seed=7, frozen=True) as sb:
        yield sb


def test_restart_answers(fresh40):
    """client/client.go RestartAllocation, client/allocrunner/alloc_runner.go (RestartTask,
    restartTasks: "restart of an alloc that should not run"), taskrunner ErrTaskNotRunning
    ("Task not running"), nomad/util.go getAlloc (`Unknown allocation "<id>"`, 404 in
    command/agent/alloc_endpoint.go allocRestart), nomad/client_rpc.go findNodeConnAndForward
    ("No path to node", 404). The success body is structs.GenericResponse: {"Index":0}."""
    sb = fresh40
    every = allocs(sb)
    live = healthy_running(sb)
    task = next(iter(live["TaskStates"]))
    done = next(a for a in every if a["ClientStatus"] == "complete" and sb.world.allocs[a["ID"]].node.status != "down")
    lost = next(a for a in every if a["ClientStatus"] == "lost")
    done_task = next(iter(done["TaskStates"]))
    url = "/v1/client/allocation/{}/restart".format
    cases = [
        (done["ID"], None, 500, "restart of an alloc that should not run"),
        (done["ID"], {"AllTasks": True}, 500, "restart of an alloc that should not run"),
        (done["ID"], {"TaskName": done_task}, 500, "Task not running"),
        (live["ID"], {"TaskName": "nope"}, 500, "Could not find task runner for task: nope"),
        (live["ID"], {"TaskName": task, "AllTasks": True}, 500, "task name cannot be set when restarting all tasks"),
        (
            "00000000-0000-0000-0000-000000000000",
            None,
            404,
            'Unknown allocation "00000000-0000-0000-0000-000000000000"',
        ),
        (live["ID"][:8], None, 500, "alloc lookup failed: index error: UUID must be 36 characters"),
        (lost["ID"], None, 404, "No path to node"),
    ]
    for alloc_id, body, status, text in cases:
        r = post(sb, url(alloc_id), body)
        assert (r.status_code, r.text) == (status, text), (alloc_id, body)
    ok = post(sb, url(live["ID"]), {"TaskName": task})
    assert (ok.status_code, ok.json()) == (200, {"Index": 0})


# ----------------------------------------------------------------------- ACL
def test_acl_errors_on_data_endpoints(acl_sandbox):
    """nomad/auth/auth.go Authenticate fails for a secret that is not a UUID (no workload
    identity either), is unknown, or is expired; every RPC then returns ErrPermissionDenied,
    403 "Permission denied" (nomad/alloc_endpoint.go List and the others)."""
    sb = acl_sandbox
    for secret in ("not-a-uuid", "11111111-2222-3333-4444-555555555555"):
        r = get(sb, "/v1/jobs?namespace=*", headers={"X-Nomad-Token": secret})
        assert (r.status_code, r.text) == (403, "Permission denied"), secret
    r = get(sb, "/v1/nodes")
    assert (r.status_code, r.text) == (403, "Permission denied")  # anonymous has no policy


def test_expired_token(acl_sandbox):
    """An expired token fails Authenticate with ErrTokenExpired: data endpoints say 403
    "Permission denied"; ACL.WhoAmI returns that error itself, which no suffix in
    command/agent/http.go maps to a code, so /v1/acl/token/self is a 500 "ACL token expired"."""
    sb = acl_sandbox
    tok = Token(sb.acl._uuid(), sb.acl._uuid(), "old", "client", ["dash-read"], time.time() - 7200, 30)
    tok.expires = time.time() - 3600
    sb.acl.nomad[tok.secret] = tok
    try:
        r = get(sb, "/v1/jobs?namespace=*", headers={"X-Nomad-Token": tok.secret})
        assert (r.status_code, r.text) == (403, "Permission denied")
        r = get(sb, "/v1/acl/token/self", headers={"X-Nomad-Token": tok.secret})
        assert (r.status_code, r.text) == (500, "ACL token expired")
    finally:
        del sb.acl.nomad[tok.secret]


def test_token_self_anonymous_unknown_and_acls_disabled(acl_sandbox, sandbox):
    """nomad/auth/auth.go resolveSecretToken: no secret is the anonymous token (nomad/structs/
    acl.go AnonymousACLToken), an unknown one fails (403); with ACLs off every secret resolves to
    ACLsDisabledToken, which ACL.WhoAmI returns (200), not the old 400 "ACL support disabled"."""
    anon = get(acl_sandbox, "/v1/acl/token/self")
    assert anon.status_code == 200
    body = anon.json()
    assert (body["AccessorID"], body["Name"], body["Type"], body["Policies"]) == (
        "anonymous",
        "Anonymous Token",
        "client",
        ["anonymous"],
    )
    unknown = get(acl_sandbox, "/v1/acl/token/self", headers={"X-Nomad-Token": "11111111-2222-3333-4444-555555555555"})
    assert (unknown.status_code, unknown.text) == (403, "Permission denied")
    off = get(sandbox, "/v1/acl/token/self", headers={"X-Nomad-Token": "anything"})
    assert off.status_code == 200 and off.json()["AccessorID"] == "acls-disabled"
    assert off.json()["Name"] == "ACLs disabled token" and off.json()["SecretID"] == ""


# ---------------------------------------------------------------------- logs
def test_log_errors(sandbox):
    """command/agent/fs_endpoint.go Logs parses follow/plain with strconv.ParseBool (400 with
    its text); nomad/client_fs_endpoint.go answers "No path to node" (404) when the node is
    gone; client/fs_endpoint.go logs answers a task that never started with 404
    `task "<t>" not started yet. No logs available`."""
    every = allocs(sandbox)
    live = healthy_running(sandbox)
    task = next(iter(live["TaskStates"]))
    url = f"/v1/client/fs/logs/{live['ID']}"
    for flag in ("follow", "plain"):
        r = get(sandbox, url, params={"task": task, "type": "stdout", flag: "maybe"})
        assert (r.status_code, r.text) == (
            400,
            f'failed to parse {flag} field to boolean: strconv.ParseBool: parsing "maybe": invalid syntax',
        )
    r = get(sandbox, url, params={"task": task, "type": "stdout", "offset": "x"})
    assert (r.status_code, r.text) == (400, 'error parsing offset: strconv.ParseInt: parsing "x": invalid syntax')
    lost = next(a for a in every if a["ClientStatus"] == "lost")
    r = get(
        sandbox, f"/v1/client/fs/logs/{lost['ID']}", params={"task": next(iter(lost["TaskStates"])), "type": "stdout"}
    )
    assert (r.status_code, r.text) == (404, "No path to node")
    pending = next(
        a for a in every if a["ClientStatus"] == "pending" and sandbox.world.allocs[a["ID"]].node.status != "down"
    )
    ptask = next(
        t
        for t, s in pending["TaskStates"].items()
        if s["StartedAt"] in (None, "0001-01-01T00:00:00Z") and all(e["Type"] != "Started" for e in s["Events"] or ())
    )
    r = get(sandbox, f"/v1/client/fs/logs/{pending['ID']}", params={"task": ptask, "type": "stdout"})
    assert (r.status_code, r.text) == (404, f'task "{ptask}" not started yet. No logs available')


# -------------------------------------------------------------- index header
def test_single_allocation_blocks_on_its_own_modify_index(fresh_sandbox):
    """nomad/alloc_endpoint.go GetAlloc sets reply.Index = out.ModifyIndex and watches only that
    allocation, so a blocking read of one allocation ignores changes to the others."""
    sb = fresh_sandbox
    a = healthy_running(sb)
    other = next(
        x
        for x in allocs(sb)
        if x["ClientStatus"] == "running" and x["ID"] != a["ID"] and not sb.world.allocs[x["ID"]].job.client.scenario
    )
    first = get(sb, f"/v1/allocation/{a['ID']}")
    own = int(first.headers["X-Nomad-Index"])
    assert own == first.json()["ModifyIndex"]
    assert post(sb, f"/v1/client/allocation/{other['ID']}/restart").status_code == 200
    quiet = get(sb, f"/v1/allocation/{a['ID']}?index={own}&wait=300ms")
    assert int(quiet.headers["X-Nomad-Index"]) == own  # another allocation's change did not wake it
    result = {}

    def wait():
        r = get(sb, f"/v1/allocation/{a['ID']}?index={own}&wait=20s", timeout=30)
        result["index"] = int(r.headers["X-Nomad-Index"])

    th = threading.Thread(target=wait)
    th.start()
    assert post(sb, f"/v1/client/allocation/{a['ID']}/restart").status_code == 200
    th.join(30)
    assert result["index"] > own
    assert result["index"] == get(sb, f"/v1/allocation/{a['ID']}").json()["ModifyIndex"]


# -------------------------------------------------------------- job children
def test_periodic_parent_has_no_allocations_and_counts_children(sandbox):
    """nomad/job_endpoint.go Allocations reads AllocsByJob for the exact job ID: a periodic
    parent's runs are child jobs with IDs of their own, so the parent lists none; its summary
    counts the runs in Children (nomad/structs JobChildrenSummary), not in the group counts."""
    parent = "northern-leaf-reports"
    assert get(sandbox, f"/v1/job/{parent}/allocations?namespace=northern-leaf").json() == []
    summary = get(sandbox, f"/v1/job/{parent}/summary?namespace=northern-leaf").json()
    assert all(v == 0 for group in summary["Summary"].values() for v in group.values())
    children = [j for j in get(sandbox, "/v1/jobs?namespace=northern-leaf").json() if j.get("ParentID") == parent]
    assert children and summary["Children"] == {"Pending": 0, "Running": 0, "Dead": len(children)}
    child = children[0]["ID"]
    assert get(sandbox, f"/v1/job/{child}/allocations?namespace=northern-leaf").json()


def test_unknown_job_sub_resources_are_empty_not_404(sandbox):
    """command/agent/job_endpoint.go jobAllocations/jobEvaluations/jobDeployments turn a nil
    list into [] and jobLatestDeployment returns the nil deployment (null); only the job itself,
    its versions and its summary are 404s."""
    base = "/v1/job/no-such-job"
    for sub in ("allocations", "evaluations", "deployments"):
        r = get(sandbox, f"{base}/{sub}?namespace=northern-leaf")
        assert (r.status_code, r.json()) == (200, []), sub
    r = get(sandbox, f"{base}/deployment?namespace=northern-leaf")
    assert (r.status_code, r.json()) == (200, None)
    assert (get(sandbox, base + "?namespace=northern-leaf").status_code, get(sandbox, base + "/versions").text) == (
        404,
        "job versions not found",
    )


# ------------------------------------------------------------- new endpoints
def test_evaluation_node_deployment_and_namespace_endpoints(sandbox):
    """command/agent/eval_endpoint.go (evalQuery, evalAllocations), node_endpoint.go
    (nodeAllocations: full allocations), deployment_endpoint.go (deploymentAllocations: stubs),
    namespace_endpoint.go (404 "Namespace not found"), agent_endpoint.go (/v1/agent/members),
    status_endpoint.go (/v1/status/peers)."""
    a = next(x for x in allocs(sandbox) if x["Namespace"] == "northern-leaf")
    ev = get(sandbox, f"/v1/evaluation/{a['EvalID']}")
    assert ev.status_code == 200 and ev.json()["ID"] == a["EvalID"]
    assert int(ev.headers["X-Nomad-Index"]) == ev.json()["ModifyIndex"]
    under_eval = get(sandbox, f"/v1/evaluation/{a['EvalID']}/allocations").json()
    assert a["ID"] in {x["ID"] for x in under_eval} and all(x["EvalID"] == a["EvalID"] for x in under_eval)
    on_node = get(sandbox, f"/v1/node/{a['NodeID']}/allocations").json()
    assert a["ID"] in {x["ID"] for x in on_node} and all(x["NodeID"] == a["NodeID"] for x in on_node)
    assert "Job" in on_node[0]  # full allocations, not stubs
    dep_id = sandbox.world.allocs[a["ID"]].deployment.id
    placed = get(sandbox, f"/v1/deployment/allocations/{dep_id}").json()
    assert a["ID"] in {x["ID"] for x in placed}
    assert all(sandbox.world.allocs[x["ID"]].deployment.id == dep_id for x in placed)
    assert get(sandbox, "/v1/deployment/allocations/00000000-0000-0000-0000-000000000000").json() == []
    ns = get(sandbox, "/v1/namespace/northern-leaf").json()
    assert ns["Name"] == "northern-leaf" and ns["Meta"]["client"] == "northern-leaf"
    missing = get(sandbox, "/v1/namespace/nope")
    assert (missing.status_code, missing.text) == (404, "Namespace not found")
    members = get(sandbox, "/v1/agent/members").json()
    assert members["ServerRegion"] == "global" and {m["Status"] for m in members["Members"]} == {"alive"}
    peers = get(sandbox, "/v1/status/peers").json()
    assert get(sandbox, "/v1/status/leader").json() in peers


@pytest.mark.parametrize("path", ["/v1/evaluation/{e}", "/v1/deployment/{d}", "/v1/node/{n}", "/v1/job/{j}"])
def test_single_objects_carry_their_own_modify_index(sandbox, path):
    """Get* RPCs set reply.Index to the object's ModifyIndex (nomad/*_endpoint.go)."""
    a = next(x for x in allocs(sandbox) if x["Namespace"] == "northern-leaf")
    dep = sandbox.world.allocs[a["ID"]].deployment
    url = path.format(e=a["EvalID"], d=dep.id, n=a["NodeID"], j=a["JobID"]) + "?namespace=northern-leaf"
    r = get(sandbox, url)
    assert r.status_code == 200 and int(r.headers["X-Nomad-Index"]) == r.json()["ModifyIndex"]


def test_connector_words_for_the_real_answers(fresh40):
    """The connector turns Nomad's real answers (above) into plain words a support person reads."""
    from connectors import NomadConnector, NotFound, Unavailable
    from connectors.settings import load

    sb = fresh40
    nomad = NomadConnector(load({"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr}).nomad)
    lost = next(a for a in allocs(sb) if a["ClientStatus"] == "lost")
    with pytest.raises(Unavailable, match="node running this allocation is unreachable"):
        nomad.restart_allocation(lost["ID"])
    live = healthy_running(sb)
    with pytest.raises(NotFound, match="has no task named nope"):
        nomad.restart_allocation(live["ID"], task="nope")
    with pytest.raises(NotFound, match="no allocation with that ID"):
        nomad.restart_allocation("00000000-0000-0000-0000-000000000000")


def test_sub_lists_and_namespaces_come_in_index_order(sandbox):
    """The job sub-lists walk memdb's "job" indexes without sorting (nomad/job_endpoint.go
    Allocations/Evaluations/Deployments; state_store.go AllocsByJob, EvalsByJob,
    DeploymentsByJobID): ID order. Namespace.ListNamespaces walks the table by name, so
    "default" sits among the others alphabetically."""
    q = "?namespace=northern-leaf"
    for sub in ("allocations", "evaluations", "deployments"):
        ids = [x["ID"] for x in get(sandbox, f"/v1/job/northern-leaf-web/{sub}{q}").json()]
        assert len(ids) > 1 and ids == sorted(ids), sub
    names = [n["Name"] for n in get(sandbox, "/v1/namespaces").json()]
    assert "default" in names and names == sorted(names)


def test_restart_reason_names_what_was_asked(fresh40):
    """client/client.go RestartAllocation: the Restart Signaled event says "User requested task
    to restart" (TaskName), "User requested all tasks to restart" (AllTasks) or "User requested
    running tasks to restart" (no body)."""
    sb = fresh40
    a = next(
        x
        for x in allocs(sb)
        if x["ClientStatus"] == "running"
        and len(x["TaskStates"]) > 1
        and not sb.world.allocs[x["ID"]].job.client.scenario
    )
    task = next(iter(a["TaskStates"]))
    url = f"/v1/client/allocation/{a['ID']}/restart"
    for body, reason in (
        ({"TaskName": task}, "User requested task to restart"),
        ({"AllTasks": True}, "User requested all tasks to restart"),
        (None, "User requested running tasks to restart"),
    ):
        assert post(sb, url, body).status_code == 200
        events = get(sb, f"/v1/allocation/{a['ID']}").json()["TaskStates"][task]["Events"]
        signaled = [e for e in events if e["Type"] == "Restart Signaled"]
        assert signaled[-1]["RestartReason"] == reason, body
        sb.clock.advance(10)  # let the restart play out before the next one


def test_filter_sees_go_zero_values_the_json_omits(sandbox):
    """The full Allocation leaves zero fields out of its JSON, but go-bexpr reads the Go struct:
    NextAllocation == "" holds for every allocation that was not replaced, and a nil
    DeploymentStatus is "is nil" (nomad/structs Allocation; go-bexpr evaluate.go)."""
    every = allocs(sandbox)
    fresh = allocs(sandbox, filter='NextAllocation == ""')
    assert fresh and len(fresh) == sum(1 for a in every if not sandbox.world.allocs[a["ID"]].next)
    nil_status = allocs(sandbox, filter="DeploymentStatus is nil")
    assert {a["ID"] for a in nil_status} == {a["ID"] for a in every if a["DeploymentStatus"] is None}


def test_plain_field_filters_agree_with_the_full_object(sandbox):
    """A filter on plain fields takes a shortcut past the full render; it must select exactly
    what the full object selects (the full-object path is forced by also reading Job)."""
    for expr in (
        'ClientStatus == "failed"',
        'JobID matches "-web$" and DesiredStatus != "run"',
        'NextAllocation == "" and CreateIndex != 0',
    ):
        quick = [a["ID"] for a in allocs(sandbox, filter=expr)]
        full = [a["ID"] for a in allocs(sandbox, filter=f"({expr}) and Job is not nil")]
        assert quick and quick == full, expr


def test_job_summary_carries_its_own_index_and_moves_with_its_allocations_statuses(fresh_sandbox):
    """nomad/job_endpoint.go Summary sets reply.Index = out.ModifyIndex, and the state store rewrites
    a job's summary only when one of its allocations is new or changes client status
    (state_store.go updateSummaryWithAlloc): a blocking read of one summary sleeps through a task
    restart (the allocation stays running) and another job's changes, and wakes for a stop. Job.List
    answers max(jobs, job_summary) indexes, so the jobs list sleeps through a restart too."""
    sb = fresh_sandbox
    a = healthy_running(sb)
    url = f"/v1/job/{a['JobID']}/summary?namespace={a['Namespace']}"
    first = get(sb, url)
    own = int(first.headers["X-Nomad-Index"])
    assert own == first.json()["ModifyIndex"]
    jobs_index = int(get(sb, "/v1/jobs?namespace=*").headers["X-Nomad-Index"])
    other = next(
        x
        for x in allocs(sb)
        if x["ClientStatus"] == "running"
        and x["JobID"] != a["JobID"]
        and not sb.world.allocs[x["ID"]].job.client.scenario
    )
    assert post(sb, f"/v1/allocation/{other['ID']}/stop").status_code == 200
    assert post(sb, f"/v1/client/allocation/{a['ID']}/restart").status_code == 200
    sb.clock.advance(10)  # the restart plays out: Terminated, Restarting, Started; still running
    assert int(get(sb, url + f"&index={own}&wait=300ms").headers["X-Nomad-Index"]) == own
    after_stop = int(get(sb, "/v1/jobs?namespace=*").headers["X-Nomad-Index"])
    assert after_stop > jobs_index  # the other job's summary moved with its stop
    assert int(get(sb, f"/v1/jobs?namespace=*&index={after_stop}&wait=300ms").headers["X-Nomad-Index"]) == after_stop
    assert post(sb, f"/v1/allocation/{a['ID']}/stop").status_code == 200
    moved = get(sb, url)
    assert int(moved.headers["X-Nomad-Index"]) == moved.json()["ModifyIndex"] > own


def test_job_versions_keep_six_with_diffs_between_neighbours(sandbox):
    """nomad/state/state_store.go upsertJobVersion keeps structs.JobDefaultTrackedVersions (6)
    versions per job; nomad/job_endpoint.go GetJobVersions answers them newest first and diffs
    each against the next older one it holds (none for the oldest, null when only one)."""
    jobs = [j for j in sandbox.world.jobs.values() if len(j.versions) > 6]
    assert jobs, "the demo has jobs with more than six versions"
    job = jobs[0]
    body = get(sandbox, f"/v1/job/{job.id}/versions", params={"namespace": job.namespace, "diffs": "true"}).json()
    numbers = [v["Version"] for v in body["Versions"]]
    assert len(numbers) == 6 and numbers == sorted(numbers, reverse=True)
    assert numbers[0] == len(job.versions) - 1  # the newest is always kept
    assert len(body["Diffs"]) == 5
    single = next(j for j in sandbox.world.jobs.values() if len(j.versions) == 1)
    one = get(sandbox, f"/v1/job/{single.id}/versions", params={"namespace": single.namespace, "diffs": "true"}).json()
    assert [v["Version"] for v in one["Versions"]] == [0] and one["Diffs"] is None


def test_job_summary_keeps_counting_allocations_the_gc_removed():
    """nomad/state/state_store.go updateSummaryWithAlloc moves a task group's counts on each
    client-status transition and never takes a Failed or Complete one back, so allocations the GC
    has deleted still count in /v1/job/:id/summary while /v1/job/:id/allocations no longer lists them."""
    with Sandbox(clients=40, seed=7, frozen=True, churn=40) as sb:
        for _ in range(20):
            sb.clock.advance(60)
            if any(j.collected for j in sb.world.jobs.values()):
                break
        job = next(j for j in sb.world.jobs.values() if j.collected)
        params = {"namespace": job.namespace}
        summary = get(sb, f"/v1/job/{job.id}/summary", params=params).json()["Summary"][job.role.name]
        listed = get(sb, f"/v1/job/{job.id}/allocations", params=params).json()
        status_of = {"Complete": "complete", "Failed": "failed", "Running": "running", "Lost": "lost"}
        counted = {k: sum(1 for a in listed if a["ClientStatus"] == v) for k, v in status_of.items()}
        assert summary["Running"] == counted["Running"]
        assert summary["Complete"] + summary["Failed"] > counted["Complete"] + counted["Failed"]
