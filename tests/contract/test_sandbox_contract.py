"""Fidelity: every sandbox response with an upstream sample has the sample's keys and JSON types.

The rule, applied recursively: every key of HashiCorp's documented sample must be in the
sandbox's answer with the same JSON type. A null in the sample allows anything. Lists are
compared element-wise against the sample's first element. Maps keyed by IDs or names
(TaskStates, Summary, agent/services...) are compared value-by-value, not key-by-key.

Documented allowances (where the real server sends something other than the doc sample):
- NULLABLE: Go pointers and nil slices that Nomad/Consul encode as null when unset
  (Periodic, ParameterizedJob, Lifecycle, Templates... in nomad/structs), so the sandbox may send
  null where the sample shows a filled block.
- ZERO_TIME: the old 0.x samples show "0001-01-01T00:00:00Z" for unset times; Nomad's JSON codec
  writes a zero time.Time as null, as the newer /v1/allocations sample shows (LastRestart: null).
- OPAQUE: driver `Config` and event `Details` are free-form maps; the agent/self `config` and
  `stats` blocks change with every Nomad version (the sample is from 0.5.5), so only their presence
  is checked.
- SOURCE: a sample key the sandbox leaves out is fine when the Go struct of Nomad 1.11 / Consul
  CE does not send it: the key is not in the struct any more (TaskState.TaskHandle,
  AllocListStub.PreviousAllocation), or it is omitempty and zero (Evaluation, NetworkResource,
  Port and Allocation leave out every zero field; Consul CE sends no Namespace). The struct of
  each sample comes from ``../shared/reference/structs/`` (SAMPLE_KINDS below); the key sets
  themselves are held in both directions by test_structs_contract.py.
- Extra keys the sandbox sends beyond a sample are checked there too, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

NULLABLE = {
    "Periodic",
    "ParameterizedJob",
    "DispatchPayload",
    "Lifecycle",
    "Templates",
    "Artifacts",
    "Constraints",
    "Affinities",
    "Services",
    "RescheduleTracker",
    "Networks",
    "Env",
    "Meta",
    "ReservedPorts",
    "DrainStrategy",
    "HostVolumes",
    "HostNetworks",
    "Devices",
    "LastDrain",
    "Attributes",
    "PlacedCanaries",
    "DeploymentStatus",
    "Diffs",
    "Fields",
    "Objects",
    "Update",
    "Vault",
    "Payload",
}
ZERO_TIME = {"FinishedAt", "LastRestart", "StartedAt"}
OPAQUE = {"Config", "Details", "GetterOptions"}
MAPS = {
    "TaggedAddresses",
    "ServiceTaggedAddresses",
    "TaskStates",
    "Summary",
    "TaskGroups",
    "Meta",
    "Env",
    "Attributes",
    "Drivers",
    "HostVolumes",
    "HostNetworks",
    "TaskResources",
    "Scores",
    "NodesAvailable",
    "QueuedAllocations",
    "ServiceMeta",
    "NodeMeta",
    "Tags",
    "Links",
    "Options",
    "ChrootEnv",
    "HTTPAPIResponseHeaders",
    "<services>",
    "<agent-services>",
}
# Fields of the 0.x-era samples that modern Nomad no longer has (VaultToken left the Job in 1.9;
# spreads live on jobs and groups, not tasks).
LEGACY = {".Job.VaultToken", "Tasks[].Spreads"}
PARTIAL = {"GET_v1_agent_self.json": {"config", "member", "stats"}}


def _type(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


# The Go type of each sample body (kinds as in the structs files).
SAMPLE_KINDS = {
    "GET_v1_jobs.json": "array:object:JobListStub",
    "GET_v1_job_jobid.json": "object:Job",
    "GET_v1_job_jobid_versions.json": {"Versions": "array:object:Job"},
    "GET_v1_job_jobid_versions_diffs.json": {"Versions": "array:object:Job"},
    "GET_v1_job_jobid_allocations.json": "array:object:AllocListStub",
    "GET_v1_job_jobid_evaluations.json": "array:object:Evaluation",
    "GET_v1_job_jobid_deployments.json": "array:object:Deployment",
    "GET_v1_job_jobid_deployment.json": "object:Deployment",
    "GET_v1_job_jobid_summary.json": "object:JobSummary",
    "GET_v1_allocations.json": "array:object:AllocListStub",
    "GET_v1_allocation_allocid.json": "object:Allocation",
    "GET_v1_deployments.json": "array:object:Deployment",
    "GET_v1_deployment_deploymentid.json": "object:Deployment",
    "GET_v1_evaluations.json": "array:object:Evaluation",
    "GET_v1_nodes.json": "array:object:NodeListStub",
    "GET_v1_node_nodeid.json": "object:Node",
    # nomad/structs Events{Index, Events []Event}; a Node event's payload is NodeStreamEvent{Node}
    "GET_v1_event_stream_message.json": {"Events": [{"Payload": {"Node": "object:Node"}}]},
    "GET_v1_namespaces.json": "array:object:Namespace",
    "GET_v1_services.json": "array:object:ServiceRegistrationListStub",
    "GET_v1_service_servicename.json": "array:object:ServiceRegistration",
    "GET_v1_acl_token_self.json": "object:ACLToken",
    "POST_v1_acl_login.json": "object:ACLToken",
    "consul:GET_v1_agent_services.json": "map:object:api.AgentService",
    "consul:GET_v1_catalog_nodes.json": "array:object:Node",
    "consul:GET_v1_catalog_service_service.json": "array:object:ServiceNode",
    "consul:GET_v1_health_checks_service.json": "array:object:HealthCheck",
    "consul:GET_v1_health_service_service.json": "array:object:CheckServiceNode",
    "consul:GET_v1_health_state_state.json": "array:object:HealthCheck",
}


class Source:
    """The Go struct at one point of a sample: which keys it sends and which may be left out."""

    def __init__(self, types: dict, kind):
        self.types, self.kind = types, kind

    def _fields(self):
        if isinstance(self.kind, dict):
            return None
        if not (isinstance(self.kind, str) and self.kind.startswith("object:")):
            return None
        t = self.types.get(self.kind[7:])
        if t is None:
            return None
        for alt in ("marshal", "extension"):
            if t.get(alt, {}).get("encoded_fields"):
                return {f["key"]: f for f in t[alt]["encoded_fields"]}
        return {f["key"]: f for f in t.get("fields", [])}

    def child(self, key):
        if isinstance(self.kind, dict):
            return Source(self.types, self.kind.get(key))
        fields = self._fields()
        if fields is not None:
            return Source(self.types, fields[key]["kind"] if key in fields else None)
        return Source(self.types, None)

    def element(self):
        k = self.kind
        if isinstance(k, list):  # [element kind], for lists of objects given key by key
            return Source(self.types, k[0])
        if isinstance(k, str) and (k.startswith("array:") or k.startswith("map:")):
            return Source(self.types, k.split(":", 1)[1])
        return Source(self.types, None)

    def may_omit(self, key) -> bool:
        fields = self._fields()
        return fields is not None and (key not in fields or fields[key].get("omitempty", False))


def compare(sample, ours, path="", key="", problems=None, src=None):
    problems = [] if problems is None else problems
    src = src or Source({}, None)
    if sample is None or key in OPAQUE:
        return problems
    if ours is None and (key in NULLABLE or key in ZERO_TIME):
        return problems
    if isinstance(sample, dict):
        if not isinstance(ours, dict):
            problems.append(f"{path or '/'}: expected object, got {_type(ours)}")
        elif key in MAPS and not (key == "TaskGroups" and "Name" in sample):
            if sample:
                first = next(iter(sample.values()))
                for k, v in list(ours.items())[:5]:
                    compare(first, v, f"{path}[{k}]", "", problems, src.element())
        else:
            for k, sv in sample.items():
                if k not in ours:
                    if any(f"{path}.{k}".replace("[0]", "[]").replace("[1]", "[]").endswith(x) for x in LEGACY):
                        continue
                    if src.may_omit(k):
                        continue  # SOURCE: the Go struct does not send it, or omits it when zero
                    problems.append(f"{path}.{k}: missing")
                else:
                    compare(sv, ours[k], f"{path}.{k}", k, problems, src.child(k))
    elif isinstance(sample, list):
        if not isinstance(ours, list):
            problems.append(f"{path}: expected list, got {_type(ours)}")
        elif sample and ours:
            for i, item in enumerate(ours[:5]):
                compare(sample[0], item, f"{path}[{i}]", key, problems, src.element())
    elif _type(sample) != _type(ours) and src.kind != {"str": "string"}.get(_type(ours), _type(ours)):
        # (a kind the Go source gives, e.g. ACLToken.MarshalJSON's ExpirationTTL string, wins)
        problems.append(f"{path}: expected {_type(sample)}, got {_type(ours)} ({ours!r:.40})")
    return problems


def load(reference_dir, name):
    folder = "consul-api" if name.startswith("consul:") else "nomad-api"
    return json.loads((reference_dir / folder / name.split(":")[-1]).read_text())


def check(reference_dir, name, ours):
    sample = load(reference_dir, name)
    key = (
        "<agent-services>"
        if name.endswith("agent_services.json")
        else ("<services>" if name.endswith("catalog_services.json") else "")
    )
    if name in PARTIAL:
        missing = PARTIAL[name] - set(ours)
        assert not missing, f"{name}: missing {missing}"
        return
    product = "consul" if name.startswith("consul:") else "nomad"
    types = json.loads((reference_dir / "structs" / f"{product}.json").read_text())["types"]
    problems = compare(sample, ours, key=key, src=Source(types, SAMPLE_KINDS.get(name)))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems[:30])


NS = "northern-leaf"
NOMAD_GETS = {
    "GET_v1_jobs.json": "/v1/jobs?namespace=*",
    "GET_v1_job_jobid.json": f"/v1/job/{NS}-reports?namespace={NS}",
    "GET_v1_job_jobid_versions.json": f"/v1/job/{NS}-web/versions?namespace={NS}",
    "GET_v1_job_jobid_versions_diffs.json": f"/v1/job/{NS}-web/versions?namespace={NS}&diffs=true",
    "GET_v1_job_jobid_allocations.json": f"/v1/job/{NS}-web/allocations?namespace={NS}",
    "GET_v1_job_jobid_evaluations.json": f"/v1/job/{NS}-web/evaluations?namespace={NS}",
    "GET_v1_job_jobid_deployments.json": f"/v1/job/{NS}-web/deployments?namespace={NS}",
    "GET_v1_job_jobid_deployment.json": f"/v1/job/{NS}-web/deployment?namespace={NS}",
    "GET_v1_job_jobid_summary.json": f"/v1/job/{NS}-web/summary?namespace={NS}",
    "GET_v1_allocations.json": "/v1/allocations?namespace=*",
    "GET_v1_deployments.json": "/v1/deployments?namespace=*",
    "GET_v1_evaluations.json": "/v1/evaluations?namespace=*",
    "GET_v1_nodes.json": "/v1/nodes",
    "GET_v1_namespaces.json": "/v1/namespaces",
    "GET_v1_services.json": "/v1/services?namespace=*",
    "GET_v1_service_servicename.json": f"/v1/service/worker?namespace={NS}",
    "GET_v1_regions.json": "/v1/regions",
    "GET_v1_status_leader.json": "/v1/status/leader",
    "GET_v1_agent_self.json": "/v1/agent/self",
}
CONSUL_GETS = {
    "GET_v1_agent_services.json": "/v1/agent/services",
    "GET_v1_catalog_datacenters.json": "/v1/catalog/datacenters",
    "GET_v1_catalog_nodes.json": "/v1/catalog/nodes",
    "GET_v1_catalog_service_service.json": "/v1/catalog/service/web",
    "GET_v1_catalog_services.json": "/v1/catalog/services",
    "GET_v1_health_checks_service.json": "/v1/health/checks/web",
    "GET_v1_health_service_service.json": "/v1/health/service/web",
    "GET_v1_health_state_state.json": "/v1/health/state/any",
    "GET_v1_kv_key.json": f"/v1/kv/dashboard/clients/{NS}",
    "GET_v1_kv_key_keys.json": "/v1/kv/dashboard/?keys=true&separator=/",
    "GET_v1_status_leader.json": "/v1/status/leader",
}


@pytest.mark.parametrize("name", sorted(NOMAD_GETS))
def test_nomad_get_matches_sample(sandbox, reference_dir, name):
    r = requests.get(sandbox.nomad_addr + NOMAD_GETS[name], timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body not in ([], {}), "an empty answer would make the shape check vacuous"
    check(reference_dir, name, body)


@pytest.mark.parametrize("name", sorted(CONSUL_GETS))
def test_consul_get_matches_sample(sandbox, reference_dir, name):
    r = requests.get(sandbox.consul_addr + CONSUL_GETS[name], timeout=10)
    assert r.status_code == 200, r.text
    assert "X-Consul-Default-ACL-Policy" in r.headers
    body = r.json()
    assert body not in ([], {})
    check(reference_dir, "consul:" + name, body)


def _first_alloc(sb, status="running"):
    allocs = requests.get(f"{sb.nomad_addr}/v1/allocations?namespace=*&task_states=false", timeout=10).json()
    return next(a for a in allocs if a["ClientStatus"] == status)


def test_allocation_matches_sample_and_has_one_previous_allocation(sandbox, reference_dir):
    # A replacement allocation: the full Allocation sends PreviousAllocation only when set.
    allocs = requests.get(f"{sandbox.nomad_addr}/v1/allocations?namespace=*&task_states=false", timeout=10).json()
    olds = {a["NextAllocation"] for a in allocs if a["NextAllocation"]}
    alloc_id = next(a["ID"] for a in allocs if a["ID"] in olds)
    r = requests.get(f"{sandbox.nomad_addr}/v1/allocation/{alloc_id}", timeout=10)
    check(reference_dir, "GET_v1_allocation_allocid.json", r.json())
    assert r.text.count('"PreviousAllocation"') == 1  # the doc sample repeats the key; real JSON does not


def test_deployment_and_node_match_samples(sandbox, reference_dir):
    deps = requests.get(f"{sandbox.nomad_addr}/v1/deployments?namespace=*", timeout=10).json()
    check(
        reference_dir,
        "GET_v1_deployment_deploymentid.json",
        requests.get(f"{sandbox.nomad_addr}/v1/deployment/{deps[0]['ID']}", timeout=10).json(),
    )
    nodes = requests.get(f"{sandbox.nomad_addr}/v1/nodes", timeout=10).json()
    check(
        reference_dir,
        "GET_v1_node_nodeid.json",
        requests.get(f"{sandbox.nomad_addr}/v1/node/{nodes[0]['ID']}", timeout=10).json(),
    )


def test_log_frames_match_sample(sandbox, reference_dir):
    a = _first_alloc(sandbox)
    task = a["Name"].split(".")[0]
    full = requests.get(f"{sandbox.nomad_addr}/v1/allocation/{a['ID']}", timeout=10).json()
    task = next(iter(full["TaskStates"]))
    r = requests.get(
        f"{sandbox.nomad_addr}/v1/client/fs/logs/{a['ID']}", params={"task": task, "type": "stdout"}, timeout=10
    )
    dec, text, pos, frames = json.JSONDecoder(), r.text, 0, []
    while pos < len(text):
        frame, pos = dec.raw_decode(text, pos)
        frames.append(frame)
    assert frames
    check(reference_dir, "GET_v1_client_fs_logs_allocid_frames.json", frames)


def test_stop_and_restart_match_samples(fresh_sandbox, reference_dir):
    a = _first_alloc(fresh_sandbox)
    r = requests.post(f"{fresh_sandbox.nomad_addr}/v1/client/allocation/{a['ID']}/restart", timeout=10)
    # The doc sample is {}; the source answers structs.GenericResponse, i.e. {"Index":0}.
    assert r.json() == {"Index": 0} and load(reference_dir, "POST_v1_client_allocation_allocid_restart.json") == {}
    r = requests.post(f"{fresh_sandbox.nomad_addr}/v1/allocation/{a['ID']}/stop", timeout=10)
    check(reference_dir, "POST_v1_allocation_allocid_stop.json", r.json())
    assert int(r.headers["X-Nomad-Index"]) == r.json()["Index"]


def test_token_self_matches_sample(acl_sandbox, reference_dir):
    r = requests.get(
        f"{acl_sandbox.nomad_addr}/v1/acl/token/self", headers={"X-Nomad-Token": acl_sandbox.tokens["read"]}, timeout=10
    )
    check(reference_dir, "GET_v1_acl_token_self.json", r.json())


@pytest.fixture(scope="module")
def jwt_sandbox():
    """ACL sandbox whose JWT auth method trusts the demo identity provider."""
    from sandbox import Sandbox
    from sandbox.oidc_provider import DemoIdentityProvider

    idp = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=["http://localhost/oauth2callback"])
    idp.start()
    sb = Sandbox(clients=4, frozen=True, acl=True, jwt_jwks=idp.jwks).start()
    yield sb, idp
    sb.stop()
    idp.stop()


def test_jwt_auth_method_and_login_match_samples(jwt_sandbox, reference_dir):
    sb, idp = jwt_sandbox
    r = requests.get(f"{sb.nomad_addr}/v1/acl/auth-methods", timeout=10)
    check(reference_dir, "GET_v1_acl_auth_methods.json", r.json())
    method = r.json()[0]["Name"]
    body = {"AuthMethodName": method, "LoginToken": idp.id_token_for("support")}
    assert set(body) == set(load(reference_dir, "POST_v1_acl_login_request.json"))
    r = requests.post(f"{sb.nomad_addr}/v1/acl/login", json=body, timeout=10)
    check(reference_dir, "POST_v1_acl_login.json", r.json())
    # The new token is a working Nomad token, and a forged JWT is refused.
    secret = r.json()["SecretID"]
    assert requests.get(f"{sb.nomad_addr}/v1/jobs", headers={"X-Nomad-Token": secret}, timeout=10).ok
    forged = body["LoginToken"][:-4] + ("AAAA" if not body["LoginToken"].endswith("AAAA") else "BBBB")
    r = requests.post(f"{sb.nomad_addr}/v1/acl/login", json={**body, "LoginToken": forged}, timeout=10)
    assert r.status_code == 403


# Samples the sandbox does not serve, each with the reason. Everything else in
# ../shared/reference/ must be checked by a test in this module.
NOT_EMULATED = {
    "POST_v1_client_allocation_allocid_restart_request.json": "a request body (restart tests send it)",
}


def test_every_reference_sample_is_checked_or_explained(reference_dir):
    source = Path(__file__).read_text(encoding="utf-8")
    # structs/ is the source-level key list (its own contract), not response samples.
    samples = sorted(p.name for d in ("nomad-api", "consul-api") for p in (Path(reference_dir) / d).glob("*.json"))
    assert samples, "no reference samples found"
    unchecked = [name for name in samples if name not in NOT_EMULATED and source.count(name) < 1]
    assert unchecked == []
