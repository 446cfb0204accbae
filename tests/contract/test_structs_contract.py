"""Source-level contract: every endpoint the sandbox serves, held against the Go structs.

``../shared/reference/structs/{nomad,consul}.json`` list, from Nomad v1.11.3's and Consul's Go
source, every JSON key a release build sends for the response types of the read endpoints
(see its README). Each served endpoint is fetched over real HTTP, without and with each query
flag the file lists (and all of them together), and every item is checked recursively in both
directions by ``tests/structs_check.py``: a missing key, an extra key, a wrong kind, a null the
Go type cannot hold, and a zero value for a key the encoder omits are all failures.

Single-object endpoints are checked on a varied sample of objects (one per distinct status,
type, and with/without a previous allocation...), not just the first.

Deliberate differences are listed in ``ALLOWED`` below, each with its reason, and nowhere else.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import pytest
import requests
from structs_check import Reference, check_endpoint, check_item, check_value, drop_allowed

from sandbox.consul_api import ConsulApi
from sandbox.nomad_api import NomadApi

# (Type, key) -> why the sandbox differs from the struct. Keep this short.
ALLOWED: dict[tuple[str, str], str] = {}

# Endpoints of the structs files the sandbox may not serve, with the reason. An endpoint listed
# here is still checked as soon as the sandbox routes it (see _served).
NOT_SERVED: dict[str, str] = {}

SERF_MEMBER = {
    "Name": str,
    "Addr": str,
    "Port": int,
    "Tags": dict,
    "Status": int,
    "ProtocolMin": int,
    "ProtocolMax": int,
    "ProtocolCur": int,
    "DelegateMin": int,
    "DelegateMax": int,
    "DelegateCur": int,
}
# agent/structs/structs.go type Coordinate {Node, Segment, Partition omitempty (CE: ""), Coord
# *coordinate.Coordinate}; serf/coordinate/coordinate.go {Vec []float64, Error, Adjustment, Height}
COORDINATE = {"Node": str, "Segment": str, "Coord": dict}
COORD = {"Vec": list, "Error": float, "Adjustment": float, "Height": float}

# Lists below the item that a handler replaces with [] when nil (the endpoint's `nonnull` names
# only the item's own keys): agent/health_endpoint.go healthServiceNodes sets Service.Tags and
# each check's ServiceTags.
DEEP_NONNULL = {
    "GET /v1/health/service/:service": (
        lambda e: [e["Service"]["Tags"]],
        lambda e: [c["ServiceTags"] for c in e["Checks"]],
    ),
}

# Served GET routes that the structs files do not list, held to a struct they return or to a
# JSON kind (``check_value``), with where that comes from.
OTHER_ROUTES = {
    "nomad": {
        # command/agent/job_endpoint.go jobVersions: {Diffs, Index, KnownLeader, LastContact, Versions []*Job}
        "/v1/job/:id/versions": ("versions", None),
        # jobLatestDeployment: a *Deployment, null when the job has none
        "/v1/job/:id/deployment": ("object", "Deployment"),
        # Eval.Allocations / Deployment.Allocations: []*AllocListStub from Stub(nil)
        "/v1/evaluation/:id/allocations": ("list", "AllocListStub"),
        "/v1/deployment/allocations/:id": ("list", "AllocListStub"),
        # namespace_endpoint.go namespaceQuery: a *Namespace
        "/v1/namespace/:name": ("object", "Namespace"),
        "/v1/regions": ("kind", "array:string"),
        "/v1/status/leader": ("kind", "string"),
        "/v1/status/peers": ("kind", "array:string"),
    },
    "consul": {
        # agent/catalog_endpoint.go CatalogNodes: structs.Nodes ([]*Node)
        "/v1/catalog/nodes": ("list", "Node"),
        # CatalogNodeServices: *structs.NodeServices {Node *Node, Services map[string]*NodeService}
        "/v1/catalog/node/:node": ("node-services", None),
        # HealthNodeChecks: structs.HealthChecks
        "/v1/health/node/:node": ("list", "HealthCheck"),
        # agent/agent_endpoint.go AgentChecks: map[types.CheckID]*structs.HealthCheck
        "/v1/agent/checks": ("map", "HealthCheck"),
        # AgentMembers: []serf.Member; serf is not in the structs file, keys from hashicorp/serf
        # serf/serf.go type Member (Addr a net.IP, Status a MemberStatus int)
        "/v1/agent/members": ("keys", SERF_MEMBER),
        "/v1/coordinate/nodes": ("keys", COORDINATE),
        "/v1/catalog/datacenters": ("kind", "array:string"),
        "/v1/status/leader": ("kind", "string"),
        "/v1/status/peers": ("kind", "array:string"),
    },
}
# Served GET routes with no struct in the reference files at all, and why.
OUTSIDE = {
    "nomad": {
        "/v1/agent/self": "agent config/stats: free-form maps that change with every Nomad version",
        "/v1/acl/auth-methods": "ACLAuthMethodStub is not in the structs file (doc sample in test_sandbox_contract)",
        "/v1/client/fs/logs/:id": "log frames, not a struct of nomad/structs (doc sample in test_sandbox_contract)",
        "/v1/acl/token/self": "checked against ACLToken below with an ACL sandbox",
        "/v1/agent/members": "api.ServerMembers / api.AgentMember are not in the structs file",
        "/v1/event/stream": "ndjson frames (structs.Events); the doc sample is checked in test_event_stream",
    },
    "consul": {
        "/v1/agent/self": "agent config/stats: free-form maps",
        "/v1/kv/*key": "KVPair is not in the structs file (doc sample in test_sandbox_contract)",
    },
}


def _refs() -> dict[str, Reference] | None:
    # The same place as conftest's reference_dir (../shared/reference beside the project); read
    # here too because the parametrisation needs the endpoint list at collection time.
    ref = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
    if not ref.is_dir():
        return None
    return {p: Reference(json.loads((ref / "structs" / f"{p}.json").read_text())) for p in ("nomad", "consul")}


REFS = _refs()


@pytest.fixture(scope="module")
def refs(reference_dir):
    return {
        p: Reference(json.loads((reference_dir / "structs" / f"{p}.json").read_text())) for p in ("nomad", "consul")
    }


def _norm(template: str) -> str:
    """Route templates name their parameters :id / :name / :job_id...; compare them as :id."""
    return "/".join(":id" if p.startswith(":") and p != ":state" else p for p in template.split("/"))


def _served(product: str) -> set[str]:
    """Normalised GET route templates of the emulator (its route table, no server needed)."""
    api = NomadApi(None, None) if product == "nomad" else ConsulApi(None, None)
    return {_norm(r.template) for r in api.routes() if "GET" in r.methods}


def _cases():
    """(product, endpoint, flags) for every served endpoint and flag of the structs files."""
    if REFS is None:
        return [pytest.param("nomad", "GET /v1/jobs", (), id="reference-missing")]
    out = []
    for product, ref in REFS.items():
        served = _served(product)
        for name, ep in ref.endpoints.items():
            if _norm(name.split(" ", 1)[1]) not in served or name == "GET /v1/acl/token/self":
                continue
            flags = list(ep.get("flags", {}))
            combos = [()] + [(f,) for f in flags] + ([tuple(flags)] if len(flags) > 1 else [])
            for combo in combos:
                out.append(pytest.param(product, name, combo, id=f"{name}{'?' + '&'.join(combo) if combo else ''}"))
    return out


def _addr(sb, product):
    return sb.nomad_addr if product == "nomad" else sb.consul_addr


def _get(sb, product, path, params=None):
    r = requests.get(_addr(sb, product) + path, params=params, timeout=30)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"
    return r.json()


def _dig(item, path):
    for part in path.split("."):
        item = item[int(part)] if isinstance(item, list) else item[part]
    return item


def _signature(x) -> tuple:
    """What makes two list items worth checking separately (different status, kind, links)."""
    if not isinstance(x, dict):
        return ()
    keys = ("Status", "ClientStatus", "DesiredStatus", "Type", "JobType", "TriggeredBy", "SchedulingEligibility")
    links = ("ParentID", "NextAllocation", "DeploymentStatus", "FollowupEvalID", "Periodic")
    return tuple(x.get(k) for k in keys) + tuple(bool(x.get(k)) for k in links)


def _sample(items, limit=12):
    seen, out = set(), []
    for x in items:
        sig = _signature(x)
        if sig not in seen:
            seen.add(sig)
            out.append(x)
    return out[:limit]


def _requests(sb, product, ref, name, flags):
    """(path, params) to fetch for endpoint ``name``: the list itself, or one per sampled object."""
    ep = ref.endpoints[name]
    template = name.split(" ", 1)[1]
    params = {}
    for f in flags:
        k, _, v = f.partition("=")
        params[k] = v or "true"
    if ep.get("namespaced"):
        params["namespace"] = "*"
    spec = ep.get("params")
    if not spec:
        return [(template, params)]
    if "from" not in spec:
        path = template
        for k, v in spec["path"].items():
            path = path.replace(f":{k}", v)
        return [(path, params)]
    src_ep = ref.endpoints[spec["from"]]
    src = _get(sb, product, spec["from"].split(" ", 1)[1], {"namespace": "*"} if src_ep.get("namespaced") else None)
    items = list(src) if isinstance(src, list) else [{"@key": k} for k in src]
    out = []
    for item in _sample(items):
        path, q = template, dict(params)
        for k, field in spec["path"].items():
            value = item["@key"] if field == "@key" else _dig(item, field)
            path = path.replace(f":{k}", requests.utils.quote(str(value), safe=""))
        for k, field in spec.get("query", {}).items():
            q[k] = _dig(item, field)
        out.append((path, q))
    return out


@pytest.mark.parametrize(("product", "name", "flags"), _cases())
def test_endpoint_matches_the_go_structs(sandbox, refs, product, name, flags):
    ref = refs[product]
    checked = 0
    for path, params in _requests(sandbox, product, ref, name, flags):
        body = _get(sandbox, product, path, params)
        problems = drop_allowed(check_endpoint(ref, name, body, flags), ALLOWED)
        assert not problems, f"{path} {params}:\n  " + "\n  ".join(str(p) for p in islice(problems, 30))
        for item in body if isinstance(body, list) else []:
            for getter in DEEP_NONNULL.get(name, ()):
                assert all(v is not None for v in getter(item)), f"{path}: a nil list sent as null"
        checked += len(body) if isinstance(body, (list, dict)) and ref.endpoints[name]["shape"] != "object" else 1
    assert checked, f"{name}: nothing to check (an empty answer makes the contract vacuous)"


@pytest.mark.parametrize("product", ["nomad", "consul"])
def test_every_served_get_route_is_held_to_the_reference(refs, product):
    served = _served(product)
    listed = {_norm(n.split(" ", 1)[1]) for n in refs[product].endpoints}
    other = {_norm(t) for t in list(OTHER_ROUTES[product]) + list(OUTSIDE[product])}
    assert sorted(served - listed - other) == [], "served but neither in the structs file nor explained here"
    explained = {_norm(n.split(" ", 1)[1]) for n in NOT_SERVED}
    assert sorted(listed - served - explained) == [], "in the structs file but not served (say why in NOT_SERVED)"


def test_other_nomad_routes_hold_their_struct(sandbox, refs):
    ref = refs["nomad"]
    job = next(j for j in _get(sandbox, "nomad", "/v1/jobs", {"namespace": "*"}) if j["Type"] == "service")
    q = {"namespace": job["Namespace"]}
    versions = _get(sandbox, "nomad", f"/v1/job/{job['ID']}/versions", q)
    assert set(versions) == {"Diffs", "Index", "KnownLeader", "LastContact", "Versions"}
    problems = [p for v in versions["Versions"] for p in check_item(ref, v, "Job")]
    problems += check_item(ref, _get(sandbox, "nomad", f"/v1/job/{job['ID']}/deployment", q), "Deployment")
    served = _served("nomad")
    lists = {
        "/v1/evaluation/:id/allocations": ("/v1/evaluations", "ID"),
        "/v1/deployment/allocations/:id": ("/v1/deployments", "ID"),
        "/v1/namespace/:name": ("/v1/namespaces", "Name"),
    }
    for template, (src, key) in lists.items():
        if _norm(template) not in served:
            continue
        items = _get(sandbox, "nomad", src, {"namespace": "*"})
        shape, type_name = OTHER_ROUTES["nomad"][template]
        for item in _sample(items, 4):
            path = template.rsplit(":", 1)[0] + requests.utils.quote(item[key], safe="")
            if template.endswith("/allocations"):
                path = template.replace(":id", requests.utils.quote(item[key], safe=""))
            body = _get(sandbox, "nomad", path, {"namespace": item.get("Namespace") or "default"})
            for x in body if shape == "list" else [body]:
                problems += check_item(ref, x, type_name, path)
    for path in ("/v1/regions", "/v1/status/leader", "/v1/status/peers"):
        if _norm(path) in served:
            kind = OTHER_ROUTES["nomad"][path][1]
            check_value(ref, _get(sandbox, "nomad", path), {"kind": kind, "nullable": False}, path, "", problems)
    assert [str(p) for p in drop_allowed(problems, ALLOWED)] == []


def _keys(obj, want: dict, path: str) -> list[str]:
    out = [] if set(obj) == set(want) else [f"{path}: keys {sorted(obj)} != {sorted(want)}"]
    for k, t in want.items():
        if (k in obj and not isinstance(obj[k], t)) or isinstance(obj.get(k), bool):
            out.append(f"{path}.{k}: expected {t.__name__}, got {obj.get(k)!r:.30}")
    return out


def test_other_consul_routes_hold_their_struct(sandbox, refs):
    ref = refs["consul"]
    nodes = _get(sandbox, "consul", "/v1/catalog/nodes")
    problems = [p for n in nodes for p in check_item(ref, n, "Node")]
    for n in nodes[:3]:
        ns = _get(sandbox, "consul", f"/v1/catalog/node/{n['Node']}")
        assert set(ns) == {"Node", "Services"} and ns["Services"], ns
        problems += check_item(ref, ns["Node"], "Node", ".Node")
        problems += [p for k, v in ns["Services"].items() for p in check_item(ref, v, "NodeService", f".Services[{k}]")]
        problems += [
            p
            for c in _get(sandbox, "consul", f"/v1/health/node/{n['Node']}")
            for p in check_item(ref, c, "HealthCheck")
        ]
    checks = _get(sandbox, "consul", "/v1/agent/checks")
    assert checks
    problems += [p for k, c in checks.items() for p in check_item(ref, c, "HealthCheck", f"[{k}]")]
    for path in ("/v1/catalog/datacenters", "/v1/status/leader", "/v1/status/peers"):
        kind = OTHER_ROUTES["consul"][path][1]
        check_value(ref, _get(sandbox, "consul", path), {"kind": kind, "nullable": False}, path, "", problems)
    assert [str(p) for p in drop_allowed(problems, ALLOWED)] == []
    members = _get(sandbox, "consul", "/v1/agent/members")
    coords = _get(sandbox, "consul", "/v1/coordinate/nodes")
    assert members and coords
    shape = [e for m in members for e in _keys(m, SERF_MEMBER, "member")]
    shape += [e for c in coords for e in _keys(c, COORDINATE, "coordinate") + _keys(c["Coord"], COORD, "coord")]
    assert shape == []


def test_acl_token_self_holds_acl_token_marshal_json(acl_sandbox, refs):
    """ACLToken.MarshalJSON (nomad/structs/acl.go) encodes through encoding/json: json tags
    apply and ExpirationTTL is a duration string ("" when zero)."""
    r = requests.get(
        f"{acl_sandbox.nomad_addr}/v1/acl/token/self", headers={"X-Nomad-Token": acl_sandbox.tokens["read"]}, timeout=10
    )
    assert r.status_code == 200, r.text
    problems = check_endpoint(refs["nomad"], "GET /v1/acl/token/self", r.json())
    assert [str(p) for p in drop_allowed(problems, ALLOWED)] == []
