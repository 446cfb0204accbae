"""Nomad HTTP API emulation: routes and their semantics over the shared World."""

from __future__ import annotations

import json
import re
import time
from itertools import pairwise

from . import logs
from .acl import ANONYMOUS, Acl
from .events import TOPICS, EventJournal, parse_topics
from .filters import compile_filter, selector_roots
from .http import HTTPError, Reply, Request, Route, dumps, json_reply
from .nomad_shapes import (
    ALLOC_PLAIN_FIELDS,
    NOMAD_VERSION,
    alloc_full,
    alloc_plain,
    alloc_stub,
    default_namespace,
    deployment_dict,
    eval_dict,
    job_diff,
    job_full,
    job_stub,
    job_summary,
    namespace_dict,
    node_full,
    node_stub,
    service_registration,
    summary_index,
)
from .world import Alloc, Deployment, Evaluation, Node, World
from .world.records import tracked_versions

_HEX = frozenset("0123456789abcdefABCDEF")

# Nomad's paginator wraps filter errors differently for parsing and for evaluation (400 both).
_PARSE_PREFIX = "failed to create result paginator: failed to read filter expression: "
_EVAL_PREFIX = "failed to read result page: "


def uuid_index_error(value: str, exact: bool) -> str | None:
    """go-memdb's UUIDFieldIndex check (index.go parseString): what Nomad answers for a bad ID."""
    n = len(value)
    if exact and n != 36:
        return "UUID must be 36 characters"
    if n > 36:
        return f"Invalid UUID length. UUID have 36 characters; got {n}"
    hyphens = value.count("-")
    if hyphens > 4:
        return f'UUID should have maximum of 4 "-"; got {hyphens}'
    bare = value.replace("-", "")
    if len(bare) % 2:
        return "Input (without hyphens) must be even length"
    bad = next((c for c in bare if c not in _HEX), None)
    if bad is not None:
        return f"Invalid UUID: encoding/hex: invalid byte: U+{ord(bad):04X} {bad!r}"
    return None


def go_bool(value: str) -> bool | None:
    """strconv.ParseBool; None when Go would refuse it."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _cmp(a, b) -> int:
    return (a > b) - (a < b)


def id_token(obj_id: str, target: str) -> tuple[str, int]:
    """paginator.IDTokenizer."""
    return obj_id, _cmp(obj_id, target)


def create_token(create_index: int, obj_id: str, target: str) -> tuple[str, int]:
    """paginator.CreateIndexAndIDTokenizer: "<CreateIndex>.<ID>", compared by number then ID."""
    token = f"{create_index}.{obj_id}"
    head, dot, tail = target.partition(".")
    if not dot or not head.isdigit():
        return token, _cmp(token, target)
    by_index = _cmp(create_index, int(head))
    return token, by_index if by_index else _cmp(obj_id, tail)


class NomadApi:
    def __init__(self, world: World, acl: Acl, events: EventJournal | None = None):
        self.w, self.acl = world, acl
        self.events = events if events is not None else EventJournal(world)
        # Serialized alloc stubs keyed by (id, task_states, resources) -> (ModifyIndex, bytes):
        # a list of 100k allocs re-renders only what changed since the last request.
        self._alloc_frags: dict[tuple, tuple[int, bytes]] = {}

    # ------------------------------------------------------------ plumbing
    def authenticate(self, req: Request, route: Route) -> None:
        req.auth = self.acl.nomad_check(req.headers, route.capability)

    @staticmethod
    def decorate(reply: Reply, index: int | None) -> None:
        if index is not None:
            reply.headers["X-Nomad-Index"] = index
            reply.headers["X-Nomad-KnownLeader"] = "true"
            reply.headers["X-Nomad-LastContact"] = "0"

    @staticmethod
    def _ns(req: Request) -> str:
        return req.params.get("namespace") or "default"

    def _in_ns(self, req: Request):
        ns = self._ns(req)
        return (lambda n: True) if ns == "*" else (lambda n: n == ns)

    @staticmethod
    def _paginate(req: Request, items, tokenizer, full=None, root=None) -> tuple[list, str]:
        """nomad/state/paginator: skip items whose token sorts before next_token, filter the
        full object with go-bexpr, stop after per_page; the next token is the token of the
        first item left out ("" when the listing is complete)."""
        raw = req.params.get("per_page", "")
        per_page = 0
        if raw:
            if not re.fullmatch(r"[+-]?\d+", raw) or not -(2**31) <= int(raw) < 2**31:
                raise HTTPError(400, "Expect a number for `per_page` query string parameter")
            per_page = int(raw)
        flt = compile_filter(req.params.get("filter"), root=root, parse_prefix=_PARSE_PREFIX, eval_prefix=_EVAL_PREFIX)
        reverse = req.params.get("reverse") == "true"
        if reverse:
            items = list(items)[::-1]
        target = req.params.get("next_token", "")
        found, out = not target, []
        for it in items:
            token, order = tokenizer(it, target)
            if not found and order == (1 if reverse else -1):
                continue
            if flt is not None and not flt(full(it)):
                continue
            found = True
            if per_page and len(out) + 1 > per_page:
                return out, token
            out.append(it)
        return out, ""

    def _list_reply(self, req: Request, objs, tokenizer, render, full=None, root=None) -> Reply:
        page, nxt = self._paginate(req, objs, tokenizer, full or render, root)
        reply = json_reply([render(o) for o in page])
        if nxt:
            reply.headers["X-Nomad-NextToken"] = nxt
        return reply

    @staticmethod
    def _prefix(label: str, prefix: str):
        """A UUID-indexed prefix scan (go-memdb id_prefix): bad prefixes are 500s with memdb's text."""
        err = uuid_index_error(prefix, exact=False)
        if err:
            raise HTTPError(500, f"{label}index error: {err}")
        bare = prefix.replace("-", "").lower()
        return lambda obj_id: obj_id.replace("-", "").startswith(bare)

    @staticmethod
    def _exact(label: str, obj_id: str) -> str:
        """An exact UUID lookup (go-memdb id index): anything but 36 characters is a 500."""
        err = uuid_index_error(obj_id, exact=True)
        if err:
            raise HTTPError(500, f"{label} lookup failed: index error: {err}")
        return obj_id.lower()

    def _job(self, req: Request):
        job = self.w.job(self._ns(req), req.args["id"])
        if job is None:
            raise HTTPError(404, "job not found")
        return job

    def _alloc(self, alloc_id: str, missing: str = "alloc not found") -> Alloc:
        a = self.w.allocs.get(self._exact("alloc", alloc_id))
        if a is None:
            raise HTTPError(404, missing)
        return a

    # ---------------------------------------------------------------- jobs
    def jobs(self, req: Request):
        # Job.List: by (namespace, ID), tokens "<namespace>.<ID>" (NamespaceIDTokenizer).
        in_ns, prefix, meta = self._in_ns(req), req.params.get("prefix", ""), req.flag("meta")
        objs = (j for j in self.w.job_list if in_ns(j.namespace) and j.id.startswith(prefix))
        return self._list_reply(
            req,
            objs,
            lambda j, t: ((tok := f"{j.namespace}.{j.id}"), _cmp(tok, t)),
            lambda j: job_stub(self.w, j, meta),
            lambda j: job_full(self.w, j),
            "Job",
        )

    def job(self, req: Request):
        return job_full(self.w, self._job(req))

    def job_delete(self, req: Request):
        # Job.Deregister (nomad/job_endpoint.go; command/agent/job_endpoint.go jobDelete): only a
        # purge is modelled (a plain stop would register a new, stopped job version).
        job = self.w.job(self._ns(req), req.args["id"])
        if job is None:
            raise HTTPError(404, "job not found")
        if not req.flag("purge"):
            raise HTTPError(501, "sandbox: only DELETE /v1/job/:id?purge=true is modelled")
        ev, index = self.w.deregister(job)
        body = {"EvalID": ev.id, "EvalCreateIndex": ev.create_index, "JobModifyIndex": index, "VolumeEvalID": ""}
        body |= {"VolumeEvalIndex": 0, "Index": index, "LastContact": 0, "KnownLeader": False, "NextToken": ""}
        return Reply(dumps(body), index=index)

    def job_versions(self, req: Request):
        job = self.w.job(self._ns(req), req.args["id"])
        if job is None:
            raise HTTPError(404, "job versions not found")
        # Job.GetJobVersions: the versions still tracked, newest first; each diff is against the
        # next older tracked version (not necessarily number - 1), none for the oldest.
        kept = tracked_versions(job.versions)
        versions = [job_full(self.w, job, v.number) for v in kept]
        diffs = None
        if req.flag("diffs"):
            diffs = [job_diff(self.w, job, old.number, new.number) for new, old in pairwise(kept)] or None
        return {"Diffs": diffs, "Index": job.modify_index, "KnownLeader": True, "LastContact": 0, "Versions": versions}

    def job_allocations(self, req: Request):
        # Job.Allocations reads AllocsByJob for this exact job ID: an unknown job is 200 [],
        # and a periodic parent has no allocations of its own (its runs are child jobs).
        job = self.w.job(self._ns(req), req.args["id"])
        # (memdb's "job" index: ordered by allocation ID within the job)
        return [alloc_stub(self.w, a) for a in sorted(job.allocs, key=lambda a: a.id)] if job else []

    def job_deployments(self, req: Request):
        job = self.w.job(self._ns(req), req.args["id"])
        # DeploymentsByJobID walks the "job" index (deployment ID order); Job.Deployments does not sort.
        return [deployment_dict(d) for d in sorted(job.deployments, key=lambda d: d.id)] if job else []

    def job_deployment(self, req: Request):
        job = self.w.job(self._ns(req), req.args["id"])
        return deployment_dict(job.deployments[-1]) if job and job.deployments else None

    def job_summary(self, req: Request):
        return job_summary(self.w, self._job(req))

    def job_evaluations(self, req: Request):
        job = self.w.job(self._ns(req), req.args["id"])
        # EvalsByJob walks the "job" index: evaluation ID order.
        return [eval_dict(e) for e in sorted(job.evals, key=lambda e: e.id)] if job else []

    # ---------------------------------------------------------- allocations
    def allocations(self, req: Request):
        # Alloc.List: with prefix= an ID-ordered prefix scan (IDTokenizer), otherwise by
        # CreateIndex (CreateIndexAndIDTokenizer); the filter sees the full Allocation.
        in_ns, prefix = self._in_ns(req), req.params.get("prefix", "")
        task_states, resources = req.flag("task_states", True), req.flag("resources")
        if prefix:
            match = self._prefix("alloc lookup failed: ", prefix)
            objs = sorted((a for a in self.w.alloc_list if match(a.id) and in_ns(a.job.namespace)), key=lambda a: a.id)
            tokenizer = lambda a, t: id_token(a.id, t)  # noqa: E731
        else:
            objs = (a for a in self.w.alloc_list if in_ns(a.job.namespace))
            tokenizer = lambda a, t: create_token(a.create_index, a.id, t)  # noqa: E731
        full = lambda a: alloc_full(self.w, a)  # noqa: E731
        if (selected := selector_roots(req.params.get("filter"))) is not None and selected <= ALLOC_PLAIN_FIELDS:
            full = alloc_plain  # the filter reads only plain fields: skip the 0.4 ms full render
        page, nxt = self._paginate(req, objs, tokenizer, full, "Allocation")
        frags = self._alloc_frags
        parts = []
        for a in page:
            key = (a.id, task_states, resources)
            hit = frags.get(key)
            if hit is None or hit[0] != a.modify_index:
                hit = (a.modify_index, dumps(alloc_stub(self.w, a, task_states, resources)))
                frags[key] = hit
            parts.append(hit[1])
        reply = Reply(b"[" + b",".join(parts) + b"]")
        if nxt:
            reply.headers["X-Nomad-NextToken"] = nxt
        return reply

    def _alloc_index(self, req: Request) -> int | None:
        """Alloc.GetAlloc answers with the allocation's own ModifyIndex (table index if unknown)."""
        a = self.w.allocs.get(self._exact("alloc", req.args["id"]))
        return a.modify_index if a else None

    # Single objects answer with their own ModifyIndex, so a blocking read of one object waits
    # until that object changes (nomad/*_endpoint.go Get*: reply.Index = out.ModifyIndex).
    def _job_index(self, req: Request) -> int | None:
        job = self.w.job(self._ns(req), req.args["id"])
        return job.modify_index if job else None

    def _summary_index(self, req: Request) -> int | None:
        job = self.w.job(self._ns(req), req.args["id"])
        return summary_index(job) if job else None

    def _deployment_index(self, req: Request) -> int | None:
        d = self._deployment(req)
        return d.modify_index if d else None

    def _eval_index(self, req: Request) -> int | None:
        e = self._eval(req)
        return e.modify_index if e else None

    def _node_index(self, req: Request) -> int | None:
        n = self._node(req)
        return n.modify_index if n else None

    def allocation(self, req: Request):
        return alloc_full(self.w, self._alloc(req.args["id"]))

    def allocation_stop(self, req: Request):
        a = self._alloc(req.args["id"], missing="allocation not found")
        ev = self.w.stop(a)
        return Reply(dumps({"EvalID": ev.id, "Index": ev.create_index}), index=ev.create_index)

    def _client_alloc(self, alloc_id: str) -> Alloc:
        """What the server does before it forwards a client RPC (nomad/util.go getAlloc,
        nomad/client_rpc.go findNodeConnAndForward): exact lookup, then a node connection."""
        a = self.w.allocs.get(self._exact("alloc", alloc_id))
        if a is None:
            raise HTTPError(404, f'Unknown allocation "{alloc_id}"')
        return a

    @staticmethod
    def _reachable(a: Alloc) -> None:
        if a.node.status == "down":
            raise HTTPError(404, "No path to node")

    def allocation_restart(self, req: Request):
        a = self._client_alloc(req.args["id"])
        if req.auth is not None and not req.auth.allows("alloc-lifecycle"):
            raise HTTPError(403, "Permission denied")
        self._reachable(a)
        try:
            body = json.loads(req.body) if req.body.strip() else {}
        except ValueError as exc:
            raise HTTPError(500, str(exc)) from None  # the handler returns the decode error as is
        if not isinstance(body, dict):
            raise HTTPError(500, "json: cannot unmarshal into Go value of type struct")
        task, all_tasks = body.get("TaskName") or "", bool(body.get("AllTasks"))
        # client/client.go RestartAllocation and client/allocrunner/alloc_runner.go.
        if task and all_tasks:
            raise HTTPError(500, "task name cannot be set when restarting all tasks")
        if task:
            ts = next((t for t in a.tasks if t.name == task), None)
            if ts is None:
                raise HTTPError(500, f"Could not find task runner for task: {task}")
            if ts.state != "running" or a.terminal:
                raise HTTPError(500, "Task not running")
        elif a.terminal:
            raise HTTPError(500, "restart of an alloc that should not run")
        self.w.restart(a, task or None, all_tasks)
        return {"Index": 0}

    # --------------------------------------------------------------- logs
    def logs(self, req: Request):
        # command/agent/fs_endpoint.go Logs checks the query first, in this order.
        alloc_id = req.args["id"]
        task, kind = req.params.get("task", ""), req.params.get("type", "")
        if not task:
            raise HTTPError(400, "must provide task name")
        flags = {}
        for name in ("follow", "plain"):
            raw = req.params.get(name, "")
            flags[name] = False
            if raw:
                val = go_bool(raw)
                if val is None:
                    raise HTTPError(
                        400,
                        f'failed to parse {name} field to boolean: strconv.ParseBool: parsing "{raw}": invalid syntax',
                    )
                flags[name] = val
        if kind not in ("stdout", "stderr"):
            raise HTTPError(400, "must provide log type (stdout/stderr)")
        raw_offset = req.params.get("offset", "")
        offset = 0
        if raw_offset:
            if not re.fullmatch(r"[+-]?\d+", raw_offset):
                raise HTTPError(400, f'error parsing offset: strconv.ParseInt: parsing "{raw_offset}": invalid syntax')
            offset = int(raw_offset)
        origin = req.params.get("origin") or "start"
        if origin not in ("start", "end"):
            raise HTTPError(400, "origin must be start or end")
        # nomad/client_fs_endpoint.go logs: alloc lookup, read-logs, node connection.
        a = self._client_alloc(alloc_id)
        if req.auth is not None and not req.auth.allows("read-logs"):
            raise HTTPError(500, "Permission denied")  # a stream error without a code is a 500
        self._reachable(a)
        # client/fs_endpoint.go logs: the task must exist and have started.
        ts = next((t for t in a.tasks if t.name == task), None)
        if ts is None:
            raise HTTPError(400, f'unknown task name "{task}"')
        if not ts.started_ns:
            raise HTTPError(404, f'task "{task}" not started yet. No logs available')
        data = logs.task_log(a, ts, kind)
        start = max(0, len(data) - offset) if origin == "end" else min(len(data), max(0, offset))
        follow = flags["follow"]
        if flags["plain"]:
            body = data[start:]
            if follow:
                return Reply(stream=iter([body]), content_type="text/plain; charset=utf-8")
            return Reply(body, content_type="text/plain; charset=utf-8")
        chunks = logs.frames(data, f"alloc/logs/{task}.{kind}.0", start)
        if follow:
            # Stay open a little with heartbeat frames, then close: enough to test a follower.
            def stream():
                yield from chunks
                for _ in range(2):
                    time.sleep(0.5)
                    yield b"{}"

            return Reply(stream=stream())
        return Reply(b"".join(chunks))

    # ------------------------------------------------------- deployments etc.
    def deployments(self, req: Request):
        in_ns, prefix = self._in_ns(req), req.params.get("prefix", "")
        objs = (d for d in self.w.deployments.values() if in_ns(d.job.namespace))
        if prefix:
            match = self._prefix("", prefix)  # DeploymentsByIDPrefix does not wrap the error
            objs = sorted((d for d in objs if match(d.id)), key=lambda d: d.id)
            tokenizer = lambda d, t: id_token(d.id, t)  # noqa: E731
        else:
            objs = sorted(objs, key=lambda d: (d.create_index, d.id))
            tokenizer = lambda d, t: create_token(d.create_index, d.id, t)  # noqa: E731
        return self._list_reply(req, objs, tokenizer, deployment_dict, root="Deployment")

    def _deployment(self, req: Request) -> Deployment | None:
        return self.w.deployments.get(self._exact("deployment", req.args["id"]))

    def deployment(self, req: Request):
        d = self._deployment(req)
        if d is None:
            raise HTTPError(404, "deployment not found")
        return deployment_dict(d)

    def deployment_allocations(self, req: Request):
        # Deployment.Allocations reads AllocsByDeployment (a string index: no UUID check); [] if unknown.
        d = self.w.deployments.get(req.args["id"])
        if d is None:
            return []
        return [alloc_stub(self.w, a) for a in sorted(d.job.allocs, key=lambda a: a.id) if a.deployment is d]

    def evaluations(self, req: Request):
        in_ns, prefix = self._in_ns(req), req.params.get("prefix", "")
        job_id, status = req.params.get("job"), req.params.get("status")
        objs = (
            e
            for e in self.w.evals.values()
            if in_ns(e.job.namespace) and (not job_id or e.job.id == job_id) and (not status or e.status == status)
        )
        if prefix:
            match = self._prefix("eval lookup failed: ", prefix)
            objs = sorted((e for e in objs if match(e.id)), key=lambda e: e.id)
            tokenizer = lambda e, t: id_token(e.id, t)  # noqa: E731
        else:
            objs = sorted(objs, key=lambda e: (e.create_index, e.id))
            tokenizer = lambda e, t: create_token(e.create_index, e.id, t)  # noqa: E731
        return self._list_reply(req, objs, tokenizer, eval_dict, root="Evaluation")

    def _eval(self, req: Request) -> Evaluation | None:
        return self.w.evals.get(self._exact("eval", req.args["id"]))

    def evaluation(self, req: Request):
        e = self._eval(req)
        if e is None:
            raise HTTPError(404, "eval not found")
        return eval_dict(e)

    def evaluation_allocations(self, req: Request):
        # Eval.Allocations reads AllocsByEval (a string index: no UUID check); [] if unknown.
        e = self.w.evals.get(req.args["id"])
        if e is None:
            return []
        return [alloc_stub(self.w, a) for a in sorted(e.job.allocs, key=lambda a: a.id) if a.eval_id == e.id]

    def nodes(self, req: Request):
        # Node.List: ID order (the nodes table's id index), IDTokenizer.
        prefix = req.params.get("prefix", "")
        match = self._prefix("node lookup failed: ", prefix) if prefix else (lambda _id: True)
        objs = sorted((n for n in self.w.nodes if match(n.id)), key=lambda n: n.id)
        res, os_ = req.flag("resources"), req.flag("os")
        return self._list_reply(
            req,
            objs,
            lambda n, t: id_token(n.id, t),
            lambda n: node_stub(self.w, n, res, os_),
            lambda n: node_full(self.w, n),
            "Node",
        )

    def _node(self, req: Request) -> Node | None:
        return self.w.node_by_id.get(self._exact("node", req.args["id"]))

    def node(self, req: Request):
        n = self._node(req)
        if n is None:
            raise HTTPError(404, "node not found")
        return node_full(self.w, n)

    def node_allocations(self, req: Request):
        # Node.GetAllocs reads AllocsByNode (a string index): full allocations, [] if unknown.
        n = self.w.node_by_id.get(req.args["id"])
        if n is None:
            return []
        return [
            alloc_full(self.w, a) for a in sorted((a for a in self.w.alloc_list if a.node is n), key=lambda a: a.id)
        ]

    def _namespace_list(self) -> list[dict]:
        # Namespace.ListNamespaces walks the namespaces table by name ("default" among the others).
        out = [default_namespace()] + [namespace_dict(c) for c in self.w.clients]
        return sorted(out, key=lambda n: n["Name"])

    def namespaces(self, req: Request):
        prefix = req.params.get("prefix", "")
        return [n for n in self._namespace_list() if n["Name"].startswith(prefix)]

    def namespace(self, req: Request):
        hit = next((n for n in self._namespace_list() if n["Name"] == req.args["name"]), None)
        if hit is None:
            raise HTTPError(404, "Namespace not found")
        return hit

    def services(self, req: Request):
        in_ns = self._in_ns(req)
        grouped: dict[str, dict[str, set]] = {}
        for s in self.w.nomad_services():
            ns = s.alloc.job.namespace
            if in_ns(ns):
                grouped.setdefault(ns, {}).setdefault(s.name, set()).update(s.tags)
        return [
            {"Namespace": ns, "Services": [{"ServiceName": n, "Tags": sorted(t)} for n, t in sorted(svcs.items())]}
            for ns, svcs in sorted(grouped.items())
        ]

    def service(self, req: Request):
        # ServiceRegistration.GetService: NamespaceIDTokenizer over the registrations.
        in_ns, name = self._in_ns(req), req.args["name"]
        regs = [
            service_registration(s) for s in self.w.nomad_services() if s.name == name and in_ns(s.alloc.job.namespace)
        ]
        regs.sort(key=lambda r: (r["Namespace"], r["ServiceName"], r["ID"]))
        return self._list_reply(
            req,
            regs,
            lambda r, t: ((tok := f"{r['Namespace']}.{r['ID']}"), _cmp(tok, t)),
            dict,
            root="ServiceRegistration",
        )

    # ----------------------------------------------------------- cluster
    def regions(self, req: Request):
        return [self.w.profile.region]

    def leader(self, req: Request):
        return "10.10.0.2:4647"

    def agent_self(self, req: Request):
        return {
            "config": {
                "Region": self.w.profile.region,
                "Datacenter": self.w.profile.home[0],
                "NodeName": "nomad-server-1",
                "Version": {"Version": NOMAD_VERSION, "VersionPrerelease": "", "Revision": "sandbox"},
                "ACL": {"Enabled": self.acl.enabled},
                "Server": {"Enabled": True},
                "Client": {"Enabled": False},
            },
            "member": {
                "Addr": "10.10.0.2",
                "Name": f"nomad-server-1.{self.w.profile.region}",
                "Port": 4648,
                "Status": "alive",
                "Tags": {
                    "region": self.w.profile.region,
                    "dc": self.w.profile.home[0],
                    "role": "nomad",
                    "build": NOMAD_VERSION,
                },
            },
            "stats": {
                "nomad": {"server": "true", "leader": "true", "leader_addr": "10.10.0.2:4647", "known_regions": "1"},
                "raft": {"state": "Leader", "applied_index": str(self.w.index)},
            },
        }

    def token_self(self, req: Request):
        return self.acl.token_self(req.headers)

    def agent_members(self, req: Request):
        # /v1/agent/members: api.ServerMembers {ServerName, ServerRegion, ServerDC, Members}.
        return {
            "ServerName": "nomad-server-1",
            "ServerRegion": self.w.profile.region,
            "ServerDC": self.w.profile.home[0],
            "Members": [
                {
                    "Name": f"nomad-server-{i}.{self.w.profile.region}",
                    "Addr": f"10.10.0.{i + 1}",
                    "Port": 4648,
                    "Tags": {
                        "build": NOMAD_VERSION,
                        "dc": self.w.profile.home[0],
                        "expect": "3",
                        "id": f"0000000{i}-5e1f-4a9a-9c71-000000000000",
                        "port": "4647",
                        "raft_vsn": "3",
                        "region": self.w.profile.region,
                        "role": "nomad",
                        "rpc_addr": f"10.10.0.{i + 1}",
                        "vsn": "1",
                    },
                    "Status": "alive",
                    "ProtocolMin": 1,
                    "ProtocolMax": 5,
                    "ProtocolCur": 2,
                    "DelegateMin": 2,
                    "DelegateMax": 5,
                    "DelegateCur": 4,
                }
                for i in (1, 2, 3)
            ],
        }

    def status_peers(self, req: Request):
        return [f"10.10.0.{i + 1}:4647" for i in (1, 2, 3)]

    # --------------------------------------------------------------- events
    def event_stream(self, req: Request):
        """command/agent/event_endpoint.go EventStream and nomad/event_endpoint.go stream."""
        raw = req.params.get("index") or "0"
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise HTTPError(400, f'Unable to parse index: strconv.Atoi: parsing "{raw}": invalid syntax')
        try:
            topics = parse_topics([v for k, v in req.multi if k == "topic"])
        except ValueError as exc:
            raise HTTPError(400, f"Invalid topic query: {exc}") from None
        ns = req.params.get("namespace") or "default"
        names = [n["Name"] for n in self._namespace_list()] if ns == "*" else [ns]
        headers = {"Cache-Control": "no-cache"}
        if not self._events_allowed(req, topics):
            # The agent has already hijacked the connection and sent 200 before the server
            # refuses (403 "Permission denied" on the RPC): the client sees an empty stream.
            return Reply(stream=iter(()), headers=headers)
        return Reply(stream=self.events.stream(int(raw), topics, names, lambda: False), headers=headers)

    def _events_allowed(self, req: Request, topics: dict) -> bool:
        """validateNsOp: read-job for the job-ish topics, node:read for Node, management for
        "*" and anything else; a secret that does not authenticate is refused."""
        if not self.acl.enabled:
            return True
        kind, tok = self.acl.resolve(req.headers)
        if kind != "ok":
            return False
        tok = tok or ANONYMOUS
        for topic in topics:
            if topic in TOPICS - {"Node"}:
                ok = tok.allows("read-job")
            elif topic == "Node":
                ok = tok.allows("node:read")
            else:
                ok = tok.type == "management"
            if not ok:
                return False
        return True

    def auth_methods(self, req: Request):
        return self.acl.auth_methods()

    def login(self, req: Request):
        if not self.acl.enabled:
            raise HTTPError(400, "ACL support disabled")
        return self.acl.login(req.json_body(), self.w.touch("acl"))

    # ---------------------------------------------------------------- routes
    def routes(self) -> list[Route]:
        J = r"/v1/job/(?P<id>.+)"  # job IDs may contain "/" (periodic children)
        # Job.List answers max(jobs, job_summary) (nomad/job_endpoint.go): the stubs embed JobSummary.
        jobs_tables = ("jobs", "job_summary")
        r = []

        def add(
            template,
            handler,
            tables=(),
            cap=None,
            methods=("GET",),
            blocking=True,
            cache=False,
            pattern=None,
            index_of=None,
        ):
            route = Route(methods, template, handler, tables, blocking and bool(tables), cache, cap, index_of=index_of)
            if pattern:
                route.regex = re.compile(f"^{pattern}$")
            r.append(route)

        add("/v1/jobs", self.jobs, jobs_tables, "list-jobs", cache=True)
        add("/v1/job/:id/versions", self.job_versions, ("jobs",), "read-job", pattern=J + "/versions")
        add("/v1/job/:id/allocations", self.job_allocations, ("allocs",), "read-job", pattern=J + "/allocations")
        add("/v1/job/:id/deployments", self.job_deployments, ("deployments",), "read-job", pattern=J + "/deployments")
        add("/v1/job/:id/deployment", self.job_deployment, ("deployments",), "read-job", pattern=J + "/deployment")
        add(
            "/v1/job/:id/summary",
            self.job_summary,
            jobs_tables,
            "read-job",
            pattern=J + "/summary",
            index_of=self._summary_index,
        )
        add("/v1/job/:id/evaluations", self.job_evaluations, ("evals",), "read-job", pattern=J + "/evaluations")
        add("/v1/job/:id", self.job, ("jobs",), "read-job", pattern=J, index_of=self._job_index)
        add("/v1/job/:id", self.job_delete, (), "submit-job", ("DELETE",), pattern=J)
        add("/v1/allocations", self.allocations, ("allocs",), "read-job", cache=True)
        add("/v1/allocation/:id/stop", self.allocation_stop, (), "alloc-lifecycle", ("POST", "PUT"))
        add("/v1/allocation/:id", self.allocation, ("allocs",), "read-job", index_of=self._alloc_index)
        # Client RPCs look the allocation up before they check the capability: "" = authenticate only.
        add("/v1/client/allocation/:id/restart", self.allocation_restart, (), "", ("POST", "PUT"))
        add("/v1/client/fs/logs/:id", self.logs, (), "")
        add("/v1/deployments", self.deployments, ("deployments",), "read-job", cache=True)
        add("/v1/deployment/allocations/:id", self.deployment_allocations, ("allocs",), "read-job")
        add("/v1/deployment/:id", self.deployment, ("deployments",), "read-job", index_of=self._deployment_index)
        add("/v1/evaluations", self.evaluations, ("evals",), "read-job", cache=True)
        add("/v1/evaluation/:id/allocations", self.evaluation_allocations, ("allocs",), "read-job")
        add("/v1/evaluation/:id", self.evaluation, ("evals",), "read-job", index_of=self._eval_index)
        add("/v1/nodes", self.nodes, ("nodes",), "node:read", cache=True)
        add("/v1/node/:id/allocations", self.node_allocations, ("allocs",), "node:read")
        add("/v1/node/:id", self.node, ("nodes",), "node:read", index_of=self._node_index)
        add("/v1/namespaces", self.namespaces, ("namespaces",), "namespace:read")
        add("/v1/namespace/:name", self.namespace, ("namespaces",), "namespace:read")
        add("/v1/services", self.services, ("services",), "read-job")
        add("/v1/service/:name", self.service, ("services",), "read-job")
        add("/v1/regions", self.regions)
        add("/v1/status/leader", self.leader)
        add("/v1/status/peers", self.status_peers)
        add("/v1/agent/self", self.agent_self, (), "agent:read")
        add("/v1/agent/members", self.agent_members, (), "node:read")
        add("/v1/acl/token/self", self.token_self, ("acl",), blocking=False)
        add("/v1/event/stream", self.event_stream)
        add("/v1/acl/auth-methods", self.auth_methods, ("acl",))
        add("/v1/acl/login", self.login, (), None, ("POST", "PUT"))
        return r
