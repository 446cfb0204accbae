"""Consul HTTP API emulation (catalog, health, agent, status, KV) over the shared World."""

from __future__ import annotations

import base64
import hashlib
import re

from .acl import Acl
from .filters import compile_filter
from .http import HTTPError, Reply, Request, Route, json_reply
from .world import ConsulService, Node, World

# Consul query endpoints that a token without rights answers with an empty,
# filtered result rather than a 403 (default-deny ACLs).
_FILTERED = "filtered"

# ConnectProxyConfig.MarshalJSON of a plain (non-proxy) service: every omitempty field left out,
# Mode (no omitempty) and the struct values MeshGateway and Expose always sent
# (agent/structs/connect_proxy_config.go).
_PLAIN_PROXY = {"Mode": "", "MeshGateway": {}, "Expose": {}}

# JSON objects that are Go maps in Consul's structs (agent/structs/structs.go): a missing key
# there is "not present"; every other object is a struct, where an unknown field is an error.
CONSUL_MAP_KEYS = frozenset(
    {"Meta", "NodeMeta", "ServiceMeta", "TaggedAddresses", "ServiceTaggedAddresses", "Header", "Config"}
)
_FILTER_ERROR = "Failed to create boolean expression evaluator: "
_RAFT_SELECTOR = re.compile(r"\b(?:Create|Modify)Index\b")
# The dashboard's lookup of changed allocations (snapshot.consul_follow.alloc_filter): answered from
# the allocations' own registrations instead of building every entry of the catalog to filter it
# (the filter still runs on what is found: the same rows, in the allocations' order; less work).
_ALLOC_LOOKUP = re.compile(r'ServiceID matches "\^_nomad-task-\(([0-9a-f|-]+)\)-"\Z')


def _without_raft(obj):
    """A result item as bexpr sees it: without the Raft indexes, at any depth."""
    if isinstance(obj, dict):
        return {k: _without_raft(v) for k, v in obj.items() if k not in ("CreateIndex", "ModifyIndex")}
    if isinstance(obj, list):
        return [_without_raft(v) for v in obj]
    return obj


class ConsulApi:
    def __init__(self, world: World, acl: Acl):
        self.w, self.acl = world, acl

    # ------------------------------------------------------------ plumbing
    def authenticate(self, req: Request, route: Route) -> None:
        if not self.acl.enabled:
            req.auth = "management"
            return
        role = self.acl.consul_role(req.headers, req.params.get("token"))
        if route.capability == "agent" and role != "management":
            raise HTTPError(403, "Permission denied: token lacks permission 'agent:read'")
        req.auth = role or _FILTERED

    def decorate(self, reply: Reply, index: int | None) -> None:
        reply.headers["X-Consul-Default-ACL-Policy"] = "deny" if self.acl.enabled else "allow"
        if index is not None:
            reply.headers["X-Consul-Index"] = index
            reply.headers["X-Consul-KnownLeader"] = "true"
            reply.headers["X-Consul-LastContact"] = "0"

    @staticmethod
    def _filtered(req: Request, empty):
        reply = json_reply(empty)
        reply.headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
        return reply

    def _dc_ok(self, req: Request):
        # Simplification: one agent sees every datacenter's catalog; ?dc= narrows to one.
        dc = req.params.get("dc")
        if dc and dc not in self.datacenters(req):
            raise HTTPError(500, "No path to datacenter")
        return (lambda d: True) if not dc else (lambda d: d == dc)

    @staticmethod
    def _node_meta_ok(req: Request):
        """?node-meta=key:value (repeatable): nodes whose Meta has every pair
        (agent/http.go parseMetaFilter, structs.SatisfiesMetaFilters)."""
        pairs = [v.split(":", 1) + [""] for k, v in req.multi if k == "node-meta"]
        want = {p[0]: p[1] for p in pairs}
        if not want:
            return lambda n: True
        return lambda n: all(ConsulApi._node_meta(n).get(k) == v for k, v in want.items())

    def _lookup_ids(self, req: Request) -> list[str] | None:
        m = _ALLOC_LOOKUP.match(req.params.get("filter") or "")
        return m.group(1).split("|") if m else None

    def _services(self, req: Request, name: str | None = None, status: str | None = None) -> list[ConsulService]:
        """Service names and tags match case-insensitively: the state store indexes names
        lower-cased (agent/consul/state/indexer.go indexFromQuery) and the tag filter compares
        lower-cased tags (agent/consul/state/catalog.go serviceTagFilter)."""
        dc_ok, meta_ok = self._dc_ok(req), self._node_meta_ok(req)
        tags = [v.lower() for k, v in req.multi if k == "tag" and v]
        lname = name.lower() if name is not None else None
        ids = self._lookup_ids(req)
        pool = (
            self.w.consul_services
            if ids is None
            else [s for i in ids for s in self.w.consul_by_alloc.get(i, ()) if s in self.w.consul_services]
        )
        if status is not None:  # a check state: by the checks' status index (catalog.go checksInStateTxn)
            pool = [s for s in pool if s.check_status == status]
        out = [s for s in pool if (lname is None or s.name.lower() == lname) and dc_ok(s.node.dc) and meta_ok(s.node)]
        if tags:
            out = [s for s in out if all(t in {x.lower() for x in s.tags} for t in tags)]
        return out

    def _named_node(self, req: Request) -> Node | None:
        """Node names match case-insensitively (indexFromQuery lower-cases them)."""
        name = req.args["node"].lower()
        return next((n for n in self.w.nodes if n.name.lower() == name), None)

    # --------------------------------------------------------------- shapes
    @staticmethod
    def _node_meta(n: Node) -> dict:
        return {"consul-network-segment": "", "nomad-dc": n.dc}

    @staticmethod
    def _node(n: Node) -> dict:
        return {
            "ID": n.id,
            "Node": n.name,
            "Address": n.address,
            "Datacenter": n.dc,
            "TaggedAddresses": {"lan": n.address, "lan_ipv4": n.address, "wan": n.address, "wan_ipv4": n.address},
            "Meta": ConsulApi._node_meta(n),
            "CreateIndex": n.create_index,
            "ModifyIndex": n.modify_index,
        }

    @staticmethod
    def _check(s: ConsulService) -> dict:
        return {
            "Node": s.node.name,
            "CheckID": s.check_id,
            "Name": f'service: "{s.name}" check',
            "Status": s.check_status,
            "Notes": "",
            "Output": s.check_output,
            "ServiceID": s.id,
            "ServiceName": s.name,
            "ServiceTags": list(s.tags),
            "Type": "http",
            "Interval": "10s",
            "Timeout": "2s",
            "ExposedPort": 0,
            "Definition": {},
            "CreateIndex": s.create_index,
            "ModifyIndex": s.check_modify_index,
        }

    def _serf(self, n: Node) -> dict:
        down = n.status == "down"
        return {
            "Node": n.name,
            "CheckID": "serfHealth",
            "Name": "Serf Health Status",
            "Status": "critical" if down else "passing",
            "Notes": "",
            "Output": "Agent not live or unreachable" if down else "Agent alive and reachable",
            "ServiceID": "",
            "ServiceName": "",
            "ServiceTags": [],
            "Type": "",
            "Interval": "",
            "Timeout": "",
            "ExposedPort": 0,
            "Definition": {},
            "CreateIndex": n.create_index,
            "ModifyIndex": n.modify_index,
        }

    @staticmethod
    def _tagged(s: ConsulService) -> dict:
        # structs.ServiceAddress / api.ServiceAddress: capitalised Address and Port.
        return {k: {"Address": s.address, "Port": s.port} for k in ("lan_ipv4", "wan_ipv4")}

    def _service(self, s: ConsulService) -> dict:
        """structs.NodeService (agent/structs/structs.go). A CE build sends no Namespace or
        Partition (acl/enterprisemeta_ce.go); Proxy goes through ConnectProxyConfig.MarshalJSON,
        which always sends Mode, MeshGateway and Expose; PeerName has no omitempty."""
        return {
            "ID": s.id,
            "Service": s.name,
            "Tags": list(s.tags),
            "Address": s.address,
            "TaggedAddresses": self._tagged(s),
            "Meta": dict(s.meta),
            "Port": s.port,
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": False,
            "Proxy": dict(_PLAIN_PROXY),
            "Connect": {},
            "PeerName": "",
            "CreateIndex": s.create_index,
            "ModifyIndex": s.modify_index,
        }

    def _agent_service(self, s: ConsulService) -> dict:
        """api.AgentService as buildAgentService fills it (agent/agent_endpoint.go): no Raft
        indexes, a ContentHash, the agent's Datacenter; no Proxy/Connect for a plain service."""
        digest = hashlib.blake2b(f"{s.id}|{s.modify_index}".encode(), digest_size=8).hexdigest()
        return {
            "ID": s.id,
            "Service": s.name,
            "Tags": list(s.tags),
            "Meta": dict(s.meta),
            "Port": s.port,
            "Address": s.address,
            "TaggedAddresses": self._tagged(s),
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": False,
            "ContentHash": digest,
            "Datacenter": s.node.dc,
        }

    def _catalog_entry(self, s: ConsulService) -> dict:
        """structs.ServiceNode (agent/structs/structs.go), CE build: no Namespace/Partition."""
        n = s.node
        return {
            "ID": n.id,
            "Node": n.name,
            "Address": n.address,
            "Datacenter": n.dc,
            "TaggedAddresses": {"lan": n.address, "lan_ipv4": n.address, "wan": n.address, "wan_ipv4": n.address},
            "NodeMeta": self._node_meta(n),
            "ServiceKind": "",
            "ServiceID": s.id,
            "ServiceName": s.name,
            "ServiceTags": list(s.tags),
            "ServiceAddress": s.address,
            "ServicePort": s.port,
            "ServiceMeta": dict(s.meta),
            "ServiceTaggedAddresses": self._tagged(s),
            "ServiceWeights": {"Passing": 1, "Warning": 1},
            "ServiceSocketPath": "",
            "ServiceEnableTagOverride": False,
            "ServiceProxy": dict(_PLAIN_PROXY),
            "ServiceConnect": {},
            "ServiceLocality": None,
            "CreateIndex": s.create_index,
            "ModifyIndex": s.modify_index,
        }

    def service_index(self, req: Request) -> int | None:
        """The "service.<name>" index of /v1/catalog/service/:name and /v1/health/service/:name
        (agent/consul/state/catalog.go maxIndexAndWatchChForService): moved by a registration or
        deregistration of that name (ensureServiceTxn, deleteServiceTxn), by a changed check of one of
        its instances (ensureCheckTxn -> catalogUpdateServiceIndexes) and by a node check of a node
        running one (updateAllServiceIndexesOfNode); not by other services' writes. A name with no
        instance left answers with the index of its last deregistration, else the tables' (None)."""
        name = req.args["name"].lower()
        idx = self.w.service_gone.get(name, 0)
        for s in self.w.consul_services:
            if s.name.lower() == name:
                idx = max(idx, s.modify_index, s.check_modify_index, s.node.modify_index)
        return idx or None

    @staticmethod
    def _filter(req: Request):
        """?filter= as go-bexpr over each result item (the structs the RPC returns). A parse
        error or a selector the item does not have fails the request: Consul creates the filter
        with bexpr.CreateFilter and returns its error from the RPC, "Failed to create boolean
        expression evaluator: ...", which agent/http.go sends as a 500 (no typed error to make
        it a 400: hashicorp/consul#7338, #9441 show the 500)."""
        try:
            flt = compile_filter(req.params.get("filter"), maps=CONSUL_MAP_KEYS, parse_prefix=_FILTER_ERROR)
        except HTTPError as exc:
            raise HTTPError(500, exc.message) from None
        if flt is None:
            return None
        # Raft indexes are not filterable: structs.RaftIndex tags CreateIndex and ModifyIndex
        # `bexpr:"-"` (agent/structs/structs.go), so a selector on them finds no such field.
        hide = _RAFT_SELECTOR.search(req.params.get("filter") or "") is not None

        def predicate(item: dict) -> bool:
            try:
                return flt(_without_raft(item) if hide else item)
            except HTTPError as exc:
                raise HTTPError(500, exc.message) from None

        return predicate

    def _apply_filter(self, req: Request, items: list[dict]) -> list[dict]:
        flt = self._filter(req)
        return items if flt is None else [i for i in items if flt(i)]

    # -------------------------------------------------------------- catalog
    def catalog_services(self, req: Request):
        if req.auth == _FILTERED:
            return self._filtered(req, {})
        # The server's own "consul" service; its node's meta is not modelled, so a node-meta
        # filter leaves it out.
        out: dict[str, set] = {} if any(k == "node-meta" for k, _ in req.multi) else {"consul": set()}
        flt = self._filter(req)  # over the ServiceNode entries (Catalog.ListServices)
        if flt is not None:
            out = {}
        for s in self._services(req):
            if flt is None or flt(self._catalog_entry(s)):
                out.setdefault(s.name, set()).update(s.tags)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def catalog_service(self, req: Request):
        if req.auth == _FILTERED:
            return self._filtered(req, [])
        return self._apply_filter(req, [self._catalog_entry(s) for s in self._services(req, req.args["name"])])

    def catalog_nodes(self, req: Request):
        if req.auth == _FILTERED:
            return self._filtered(req, [])
        dc_ok, meta_ok = self._dc_ok(req), self._node_meta_ok(req)
        return self._apply_filter(req, [self._node(n) for n in self.w.nodes if dc_ok(n.dc) and meta_ok(n)])

    def catalog_node(self, req: Request):
        """structs.NodeServices {Node, Services: service ID -> NodeService}; an unknown node is
        200 null (agent/catalog_endpoint.go CatalogNodeServices)."""
        if req.auth == _FILTERED:
            return self._filtered(req, None)
        n = self._named_node(req)
        if n is None or not self._dc_ok(req)(n.dc):
            return None
        services = {s.id: self._service(s) for s in self.w.consul_services if s.node is n}
        flt = self._filter(req)
        if flt is not None:
            services = {k: v for k, v in services.items() if flt(v)}
        return {"Node": self._node(n), "Services": services}

    def datacenters(self, req: Request):
        return sorted({n.dc for n in self.w.nodes})

    # --------------------------------------------------------------- health
    def health_service(self, req: Request):
        if req.auth == _FILTERED:
            return self._filtered(req, [])
        out = []
        passing_only = self._passing(req)
        for s in self._services(req, req.args["name"]):
            checks = [self._check(s), self._serf(s.node)]
            if passing_only and any(c["Status"] != "passing" for c in checks):
                continue
            out.append({"Node": self._node(s.node), "Service": self._service(s), "Checks": checks})
        return self._apply_filter(req, out)

    @staticmethod
    def _passing(req: Request) -> bool:
        """?passing is Go's strconv.ParseBool ("" means true); anything else is a 400
        "Invalid value for ?passing" (agent/health_endpoint.go getBoolQueryParam)."""
        if "passing" not in req.params:
            return False
        v = req.params["passing"]
        if v == "":
            return True
        if v in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if v in ("0", "f", "F", "FALSE", "false", "False"):
            return False
        raise HTTPError(400, "Invalid value for ?passing")

    def health_node(self, req: Request):
        """[]HealthCheck of one node: its serfHealth and its services' checks; [] for an unknown
        node (agent/health_endpoint.go HealthNodeChecks; no node-meta on this endpoint)."""
        if req.auth == _FILTERED:
            return self._filtered(req, [])
        n = self._named_node(req)
        if n is None or not self._dc_ok(req)(n.dc):
            return []
        checks = [self._serf(n)] + [self._check(s) for s in self.w.consul_services if s.node is n]
        return self._apply_filter(req, checks)

    def health_checks(self, req: Request):
        if req.auth == _FILTERED:
            return self._filtered(req, [])
        return self._apply_filter(req, [self._check(s) for s in self._services(req, req.args["name"])])

    def health_state(self, req: Request):
        state = req.args["state"]
        if state not in ("any", "passing", "warning", "critical"):
            raise HTTPError(400, f"Bad state: {state!r}")
        if req.auth == _FILTERED:
            return self._filtered(req, [])
        dc_ok, meta_ok = self._dc_ok(req), self._node_meta_ok(req)
        # A state is looked up by the checks' status index (catalog.go checksInStateTxn, indexStatus):
        # only the checks in that state are built.
        want = (lambda status: True) if state == "any" else (lambda status: status == state)
        nodes = [n for n in self.w.nodes if dc_ok(n.dc) and meta_ok(n)]
        checks = [self._serf(n) for n in nodes if want("critical" if n.status == "down" else "passing")]
        # The status first (one attribute per service), then the rest on the few that are in it.
        checks += [self._check(s) for s in self._services(req, status=None if state == "any" else state)]
        return self._apply_filter(req, checks)

    # ---------------------------------------------------------------- agent
    def agent_self(self, req: Request):
        return {
            "Config": {
                "Datacenter": self.w.profile.home[0],
                "NodeName": "consul-server-1",
                "Server": True,
                "Version": "1.22.1",
                "Revision": "sandbox",
                "PrimaryDatacenter": self.w.profile.home[0],
            },
            "Member": {
                "Name": "consul-server-1",
                "Addr": "10.10.0.3",
                "Port": 8301,
                "Status": 1,
                "Tags": {"dc": self.w.profile.home[0], "role": "consul", "build": "1.22.1"},
            },
            "Meta": {"consul-network-segment": ""},
            "Stats": {"consul": {"leader": "true", "server": "true"}},
        }

    def agent_services(self, req: Request):
        # The agent answering is a server with no local services; Nomad clients'
        # agents hold the registrations. Show the first node's, like asking that agent.
        if req.auth == _FILTERED:
            return {}
        node = self.w.nodes[0]
        flt = self._filter(req)
        out = {s.id: self._agent_service(s) for s in self.w.consul_services if s.node is node}
        return out if flt is None else {k: v for k, v in out.items() if flt(v)}

    def agent_checks(self, req: Request):
        """Check ID -> structs.HealthCheck of the answering agent's local checks
        (agent/agent_endpoint.go AgentChecks), like agent/services the first node's."""
        if req.auth == _FILTERED:
            return {}
        node = self.w.nodes[0]
        checks = {s.check_id: self._check(s) for s in self.w.consul_services if s.node is node}
        flt = self._filter(req)
        return checks if flt is None else {k: v for k, v in checks.items() if flt(v)}

    _SERVER = {"Name": "consul-server-1", "Addr": "10.10.0.3", "Port": 8301}

    def agent_members(self, req: Request):
        """The LAN serf members as serf.Member (agent/agent_endpoint.go AgentMembers): the
        server and one client agent per Nomad node; Status 1 alive, 4 failed."""

        def member(name, addr, role, dc, status):
            return {
                "Name": name,
                "Addr": addr,
                "Port": 8301,
                "Tags": {"dc": dc, "role": role, "build": "1.22.1", "segment": ""},
                "Status": status,
                "ProtocolMin": 1,
                "ProtocolMax": 5,
                "ProtocolCur": 2,
                "DelegateMin": 2,
                "DelegateMax": 5,
                "DelegateCur": 4,
            }

        out = [member(self._SERVER["Name"], self._SERVER["Addr"], "consul", self.w.profile.home[0], 1)]
        out += [member(n.name, n.address, "node", n.dc, 4 if n.status == "down" else 1) for n in self.w.nodes]
        return out

    def peers(self, req: Request):
        """Raft peers, "ip:port" strings (agent/status_endpoint.go StatusPeers)."""
        return ["10.10.0.3:8300"]

    def coordinate_nodes(self, req: Request):
        """[]structs.Coordinate {Node, Segment, Coord} (agent/coordinate_endpoint.go
        CoordinateNodes); CE sends no Partition."""
        dc_ok = self._dc_ok(req)
        return [
            {
                "Node": n.name,
                "Segment": "",
                "Coord": {
                    "Vec": [round(((n.create_index * (i + 3)) % 17) / 1e4, 6) for i in range(8)],
                    "Error": 0.2,
                    "Adjustment": 0.0,
                    "Height": 1e-05,
                },
            }
            for n in self.w.nodes
            if dc_ok(n.dc)
        ]

    def leader(self, req: Request):
        return "10.10.0.3:8300"

    # ------------------------------------------------------------------- kv
    def kv(self, req: Request):
        key = req.args["key"]
        if req.auth == _FILTERED:
            raise HTTPError(403, "Permission denied")
        items = sorted(self.w.kv.items())
        if req.flag("keys"):
            sep = req.params.get("separator")
            keys: list[str] = []
            for k, _ in items:
                if not k.startswith(key):
                    continue
                if sep:
                    cut = k.find(sep, len(key))
                    k = k[: cut + len(sep)] if cut >= 0 else k
                if not keys or keys[-1] != k:
                    keys.append(k)
            if not keys:
                return Reply(b"", 404, "text/plain")
            return keys
        if req.flag("recurse"):
            hits = [(k, v) for k, v in items if k.startswith(key)]
        else:
            hits = [(key, self.w.kv[key])] if key in self.w.kv else []
        if not hits:
            return Reply(b"", 404, "text/plain")
        if req.flag("raw") and not req.flag("recurse"):
            return Reply(hits[0][1][0], 200, "text/plain; charset=utf-8")
        return [
            {
                "LockIndex": 0,
                "Key": k,
                "Flags": 0,
                "Value": base64.b64encode(v).decode() if v else None,
                "Session": "",
                "CreateIndex": ci,
                "ModifyIndex": ci,
            }
            for k, (v, ci, _) in hits
        ]

    # --------------------------------------------------------------- routes
    def routes(self) -> list[Route]:
        def route(template, handler, tables=(), cap="read", cache=False, index_of=None):
            return Route(("GET",), template, handler, tables, bool(tables), cache, cap, index_of=index_of)

        svc = ("consul_services",)
        both = ("consul_services", "consul_checks", "consul_nodes")
        return [
            route("/v1/catalog/services", self.catalog_services, svc),
            route("/v1/catalog/service/:name", self.catalog_service, svc, index_of=self.service_index),
            route("/v1/catalog/nodes", self.catalog_nodes, ("consul_nodes",)),
            route("/v1/catalog/node/:node", self.catalog_node, both),
            route("/v1/catalog/datacenters", self.datacenters, cap=None),
            route("/v1/health/service/:name", self.health_service, both, index_of=self.service_index),
            route("/v1/health/checks/:name", self.health_checks, ("consul_checks",)),
            route("/v1/health/node/:node", self.health_node, ("consul_checks", "consul_nodes")),
            route("/v1/health/state/:state", self.health_state, ("consul_checks", "consul_nodes"), cache=True),
            route("/v1/agent/self", self.agent_self, cap="agent"),
            route("/v1/agent/services", self.agent_services, cap=None),
            route("/v1/agent/checks", self.agent_checks, cap=None),
            route("/v1/agent/members", self.agent_members, cap=None),
            route("/v1/status/leader", self.leader, cap=None),
            route("/v1/status/peers", self.peers, cap=None),
            route("/v1/coordinate/nodes", self.coordinate_nodes, ("consul_nodes",)),
            route("/v1/kv/*key", self.kv, ("kv",)),
        ]
