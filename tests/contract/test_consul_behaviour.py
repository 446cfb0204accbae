"""Consul query options as Consul's source handles them, over real HTTP to the sandbox.

Each test names the file of hashicorp/consul its behaviour comes from.
"""

from __future__ import annotations

import pytest
import requests


def get(sb, path, **params):
    return requests.get(sb.consul_addr + path, params=params, timeout=10)


def ids(body):
    return sorted(e["ServiceID"] if "ServiceID" in e else e["Service"]["ID"] for e in body)


def test_service_names_match_case_insensitively(sandbox):
    """agent/consul/state/indexer.go indexFromQuery lower-cases the looked-up name, so
    /v1/catalog/service/WEB and /v1/health/service/Web find the "web" instances."""
    lower = get(sandbox, "/v1/catalog/service/web").json()
    assert lower
    assert ids(get(sandbox, "/v1/catalog/service/WEB").json()) == ids(lower)
    assert ids(get(sandbox, "/v1/health/service/Web").json()) == ids(lower)
    assert len(get(sandbox, "/v1/health/checks/WEB").json()) == len(lower)


def test_tags_match_case_insensitively(sandbox):
    """agent/consul/state/catalog.go serviceTagFilter compares lower-cased tags."""
    tagged = get(sandbox, "/v1/health/service/web", tag="http").json()
    assert tagged
    assert ids(get(sandbox, "/v1/health/service/web", tag="HTTP").json()) == ids(tagged)
    assert ids(get(sandbox, "/v1/catalog/service/web", tag="Http").json()) == ids(tagged)
    assert get(sandbox, "/v1/catalog/service/web", tag="nope").json() == []


def _dcs(sb):
    return sorted({n["Datacenter"] for n in get(sb, "/v1/catalog/nodes").json()})


@pytest.mark.parametrize(
    "path",
    [
        "/v1/catalog/nodes",
        "/v1/catalog/service/web",
        "/v1/health/service/web",
        "/v1/health/checks/web",
        "/v1/health/state/any",
    ],
)
def test_node_meta_filters_every_endpoint_that_takes_it(sandbox, path):
    """?node-meta=key:value keeps only nodes whose Meta holds the pair (agent/http.go
    parseMetaFilter, used by agent/catalog_endpoint.go and agent/health_endpoint.go)."""
    nodes = {n["Node"]: n["Meta"]["nomad-dc"] for n in get(sandbox, "/v1/catalog/nodes").json()}
    dc = _dcs(sandbox)[0]
    everything = get(sandbox, path).json()
    body = get(sandbox, path, **{"node-meta": f"nomad-dc:{dc}"}).json()

    def node_of(e):
        return e["Node"]["Node"] if isinstance(e["Node"], dict) else e["Node"]

    assert body and len(body) < len(everything)
    assert {nodes[node_of(e)] for e in body} == {dc}
    assert get(sandbox, path, **{"node-meta": "nomad-dc:nowhere"}).json() == []


def test_node_meta_filters_catalog_services(sandbox):
    everything = get(sandbox, "/v1/catalog/services").json()
    assert get(sandbox, "/v1/catalog/services", **{"node-meta": "nomad-dc:nowhere"}).json() == {}
    some = get(sandbox, "/v1/catalog/services", **{"node-meta": f"nomad-dc:{_dcs(sandbox)[0]}"}).json()
    assert some and set(some) <= set(everything)


@pytest.mark.parametrize(("value", "status"), [("maybe", 400), ("yes", 400), ("2", 400), ("T", 200), ("0", 200)])
def test_passing_is_a_go_bool(sandbox, value, status):
    """?passing goes through strconv.ParseBool; anything else is 400 "Invalid value for
    ?passing" (agent/health_endpoint.go getBoolQueryParam)."""
    r = get(sandbox, "/v1/health/service/web", passing=value)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.text == "Invalid value for ?passing"


def test_passing_drops_instances_with_any_failing_check(fresh_sandbox):
    """filterNonPassing (agent/health_endpoint.go): an instance with one non-passing check goes."""
    every = get(fresh_sandbox, "/v1/health/service/web").json()
    bad = [e for e in every if any(c["Status"] != "passing" for c in e["Checks"])]
    if not bad:  # make one instance fail, as a real failing check would
        a = next(x for x in fresh_sandbox.world.consul_services if x.name == "web")
        a.check_status = "critical"
        every = get(fresh_sandbox, "/v1/health/service/web").json()
        bad = [e for e in every if any(c["Status"] != "passing" for c in e["Checks"])]
    assert bad
    for flag in ("", "true", "1"):
        passing = get(fresh_sandbox, "/v1/health/service/web", passing=flag).json()
        assert len(passing) == len(every) - len(bad)
    assert len(get(fresh_sandbox, "/v1/health/service/web", passing="false").json()) == len(every)


def test_catalog_node_lists_its_services_and_is_null_when_unknown(sandbox):
    """agent/catalog_endpoint.go CatalogNodeServices: {Node, Services}; the RPC returns a nil
    NodeServices for an unknown node, sent as null with 200. Node names are case-insensitive."""
    node = next(s.node for s in sandbox.world.consul_services)
    body = get(sandbox, f"/v1/catalog/node/{node.name.upper()}").json()
    assert body["Node"]["Node"] == node.name
    want = sorted(s.id for s in sandbox.world.consul_services if s.node is node)
    assert sorted(body["Services"]) == want
    assert all(svc["Tags"] is not None for svc in body["Services"].values())
    r = get(sandbox, "/v1/catalog/node/no-such-node")
    assert r.status_code == 200 and r.json() is None


def test_health_node_lists_serf_and_service_checks(sandbox):
    """agent/health_endpoint.go HealthNodeChecks: every check of the node, [] when unknown."""
    node = next(s.node for s in sandbox.world.consul_services)
    checks = get(sandbox, f"/v1/health/node/{node.name}").json()
    assert {c["Node"] for c in checks} == {node.name}
    assert "serfHealth" in {c["CheckID"] for c in checks}
    assert sorted(c["ServiceID"] for c in checks if c["ServiceID"]) == sorted(
        s.id for s in sandbox.world.consul_services if s.node is node
    )
    assert get(sandbox, "/v1/health/node/no-such-node").json() == []


def test_agent_checks_members_peers_and_coordinates(sandbox):
    """agent/agent_endpoint.go AgentChecks / AgentMembers, agent/status_endpoint.go StatusPeers,
    agent/coordinate_endpoint.go CoordinateNodes."""
    checks = get(sandbox, "/v1/agent/checks").json()
    assert checks and all(k == c["CheckID"] for k, c in checks.items())
    members = get(sandbox, "/v1/agent/members").json()
    names = {m["Name"] for m in members}
    assert {n.name for n in sandbox.world.nodes} <= names
    down = {n.name for n in sandbox.world.nodes if n.status == "down"}
    assert {m["Name"] for m in members if m["Status"] != 1} == down
    assert get(sandbox, "/v1/status/peers").json() == ["10.10.0.3:8300"]
    coords = get(sandbox, "/v1/coordinate/nodes").json()
    assert {c["Node"] for c in coords} == {n.name for n in sandbox.world.nodes}
    assert all(len(c["Coord"]["Vec"]) == 8 for c in coords)


FILTERED = [
    # (path, a filter keeping part of the answer, how to read what was kept, what it must be)
    ("/v1/catalog/nodes", 'Meta["nomad-dc"] == "{dc}"', lambda b: {e["Datacenter"] for e in b}, "dc"),
    ("/v1/catalog/service/web", 'Datacenter == "{dc}"', lambda b: {e["Datacenter"] for e in b}, "dc"),
    ("/v1/health/service/web", 'Node.Datacenter == "{dc}"', lambda b: {e["Node"]["Datacenter"] for e in b}, "dc"),
    ("/v1/health/state/any", 'Node == "{node}"', lambda b: {e["Node"] for e in b}, "node"),
    ("/v1/health/checks/web", 'Node == "{node}"', lambda b: {e["Node"] for e in b}, "node"),
    ("/v1/agent/services", 'Service == "{svc}"', lambda b: {e["Service"] for e in b.values()}, "svc"),
    ("/v1/agent/checks", 'ServiceName == "{svc}"', lambda b: {e["ServiceName"] for e in b.values()}, "svc"),
    ("/v1/catalog/services", 'ServiceName == "{svc}"', set, "svc"),
]


@pytest.mark.parametrize(("path", "expr", "read", "want"), FILTERED)
def test_filter_applies_on_every_endpoint_that_takes_it(sandbox, path, expr, read, want):
    """?filter= is parsed by agent/http.go parseFilter on every query endpoint and run over the
    result items by the RPC (agent/consul/catalog_endpoint.go, health_endpoint.go; the agent's
    own lists in agent/agent_endpoint.go)."""
    local = [s for s in sandbox.world.consul_services if s.node is sandbox.world.nodes[0]]
    values = {
        "dc": _dcs(sandbox)[0],
        "node": next(s.node.name for s in sandbox.world.consul_services if s.name == "web"),
        "svc": local[0].name,
    }
    expr = expr.format(**values)
    everything = get(sandbox, path).json()
    r = get(sandbox, path, filter=expr)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body and len(body) < len(everything), expr
    assert read(body) == {values[want]}


@pytest.mark.parametrize("path", [f[0] for f in FILTERED] + ["/v1/catalog/node/{node}", "/v1/health/node/{node}"])
def test_a_bad_filter_is_an_error_with_consuls_text(sandbox, path):
    """A filter go-bexpr cannot parse, or a selector the result struct does not have, fails
    the request. Consul returns bexpr's error from the RPC and agent/http.go sends it as a 500
    (no typed error makes it a 400; hashicorp/consul#7338 and #9441 show the 500 and the text).
    The sandbox checks selectors when it evaluates, so an unknown one errors on a non-empty
    answer, as go-bexpr's pointerstructure lookup does."""
    node = next(s.node.name for s in sandbox.world.consul_services if s.name == "web")
    path = path.format(node=node)
    r = get(sandbox, path, filter="Status ==")
    assert r.status_code == 500
    assert r.text.startswith("Failed to create boolean expression evaluator: 1:10 (9): no match found")
    r = get(sandbox, path, filter='NoSuchField == "x"')
    assert r.status_code == 500
    assert 'struct field with name "NoSuchField"' in r.text
