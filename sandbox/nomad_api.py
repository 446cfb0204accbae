"""Nomad HTTP API emulation: routes and their semantics over the shared World."""

from __future__ import annotations

import re
import time

from . import logs
from .acl import Acl
from .filters import compile_filter
from .http import HTTPError, Reply, Request, Route, dumps, json_reply
from .nomad_shapes import (
    alloc_full,
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
)
from .world import Alloc, World

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class NomadApi:
    def __init__(self, world: World, acl: Acl):
        self.w, self.acl = world, acl
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
    def _paginate(req: Request, items: list, token_of) -> tuple[list, str | None]:
        """Nomad's per_page/next_token: the token names the first item of the next page."""
        if req.flag("reverse"):
            items = items[::-1]
        start = 0
        token = req.params.get("next_token")
        if token:
            start = next((i for i, it in enumerate(items) if token_of(it) == token), len(items))
        try:
            per_page = int(req.params.get("per_page") or 0)
        except ValueError as exc:
            raise HTTPError(400, "per_page must be an integer") from exc
        if per_page <= 0:
            return items[start:], None
        page = items[start : start + per_page]
        nxt = items[start + per_page] if start + per_page < len(items) else None
        return page, (token_of(nxt) if nxt is not None else None)

    def _list_reply(self, req: Request, objs: list, token_of, render) -> Reply:
        flt = compile_filter(req.params.get("filter"))
        if flt is not None:
            rendered = [(o, d) for o in objs if flt(d := render(o))]
            page, nxt = self._paginate(req, rendered, lambda od: token_of(od[0]))
            reply = json_reply([d for _, d in page])
        else:
            page, nxt = self._paginate(req, objs, token_of)
            reply = json_reply([render(o) for o in page])
        if nxt:
            reply.headers["X-Nomad-NextToken"] = nxt
        return reply

    def _job(self, req: Request):
        job = self.w.job(self._ns(req), req.args["id"])
        if job is None:
            raise HTTPError(404, "job not found")
        return job

    def _alloc(self, alloc_id: str, full_only: bool = False) -> Alloc:
        a = self.w.allocs.get(alloc_id)
        if a is None and not full_only and 1 <= len(alloc_id) < 36:
            hits = [x for x in self.w.alloc_list if x.id.startswith(alloc_id)]
            a = hits[0] if len(hits) == 1 else None
        if a is None:
            raise HTTPError(404, "alloc not found")
        return a

    # ---------------------------------------------------------------- jobs
    def jobs(self, req: Request):
        in_ns, prefix, meta = self._in_ns(req), req.params.get("prefix", ""), req.flag("meta")
        objs = [j for j in self.w.job_list if in_ns(j.namespace) and j.id.startswith(prefix)]
        return self._list_reply(req, objs, lambda j: f"{j.namespace}.{j.id}", lambda j: job_stub(self.w, j, meta))

    def job(self, req: Request):
        return job_full(self.w, self._job(req))

    def job_versions(self, req: Request):
        job = self._job(req)
        versions = [job_full(self.w, job, v.number) for v in reversed(job.versions)]
        diffs = None
        if req.flag("diffs"):
            diffs = [job_diff(self.w, job, v.number - 1, v.number) for v in reversed(job.versions) if v.number > 0]
        return {"Diffs": diffs, "Index": job.modify_index, "KnownLeader": True, "LastContact": 0, "Versions": versions}

    def job_allocations(self, req: Request):
        job = self._job(req)
        allocs = job.allocs if not job.children else [a for c in job.children for a in c.allocs]
        return [alloc_stub(self.w, a) for a in allocs]

    def job_deployments(self, req: Request):
        return [deployment_dict(d) for d in reversed(self._job(req).deployments)]

    def job_deployment(self, req: Request):
        job = self._job(req)
        return deployment_dict(job.deployments[-1]) if job.deployments else None

    def job_summary(self, req: Request):
        return job_summary(self.w, self._job(req))

    def job_evaluations(self, req: Request):
        return [eval_dict(e) for e in reversed(self._job(req).evals)]

    # ---------------------------------------------------------- allocations
    def allocations(self, req: Request):
        in_ns, prefix = self._in_ns(req), req.params.get("prefix", "")
        task_states, resources = req.flag("task_states", True), req.flag("resources")
        objs = [a for a in self.w.alloc_list if in_ns(a.job.namespace) and a.id.startswith(prefix)]
        if req.params.get("filter"):
            return self._list_reply(
                req, objs, self._alloc_token, lambda a: alloc_stub(self.w, a, task_states, resources)
            )
        page, nxt = self._paginate(req, objs, self._alloc_token)
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

    @staticmethod
    def _alloc_token(a: Alloc) -> str:
        return f"{a.create_index}.{a.id}"

    def allocation(self, req: Request):
        return alloc_full(self.w, self._alloc(req.args["id"]))

    def allocation_stop(self, req: Request):
        a = self._alloc(req.args["id"])
        ev = self.w.stop(a)
        return Reply(dumps({"EvalID": ev.id, "Index": ev.create_index}), index=ev.create_index)

    def allocation_restart(self, req: Request):
        alloc_id = req.args["id"]
        if not _UUID.match(alloc_id):
            raise HTTPError(400, "invalid allocation ID: must be a full UUID")
        a = self._alloc(alloc_id, full_only=True)
        body = req.json_body() or {}
        if not isinstance(body, dict):
            raise HTTPError(400, "Request body must be a JSON object")
        task, all_tasks = body.get("TaskName") or "", bool(body.get("AllTasks"))
        if task and all_tasks:
            raise HTTPError(400, "task name cannot be set when restarting all tasks")
        if a.terminal:
            # The client's alloc runner has nothing running to restart.
            raise HTTPError(500, "Task not running")
        if task:
            ts = next((t for t in a.tasks if t.name == task), None)
            if ts is None:
                raise HTTPError(404, f'Unknown task name "{task}"')
            if ts.state != "running" and not all_tasks:
                raise HTTPError(500, "Task not running")
        self.w.restart(a, task or None, all_tasks)
        return {}

    # --------------------------------------------------------------- logs
    def logs(self, req: Request):
        alloc_id = req.args["id"]
        task, kind = req.params.get("task", ""), req.params.get("type", "")
        if not task:
            raise HTTPError(400, "must provide task name")
        if kind not in ("stdout", "stderr"):
            raise HTTPError(400, "must provide log type (stdout/stderr)")
        if not _UUID.match(alloc_id):
            raise HTTPError(400, "alloc lookup failed: the log API needs the full allocation ID")
        a = self._alloc(alloc_id, full_only=True)
        ts = next((t for t in a.tasks if t.name == task), None)
        if ts is None:
            raise HTTPError(400, f'unknown task name "{task}"')
        data = logs.task_log(a, ts, kind)
        try:
            offset = int(req.params.get("offset") or 0)
        except ValueError as exc:
            raise HTTPError(400, "offset must be an integer") from exc
        origin = req.params.get("origin") or "start"
        if origin not in ("start", "end"):
            raise HTTPError(400, "origin must be start or end")
        start = max(0, len(data) - offset) if origin == "end" else min(len(data), max(0, offset))
        follow = req.flag("follow")
        if req.flag("plain"):
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
        objs = sorted(
            (d for d in self.w.deployments.values() if in_ns(d.job.namespace) and d.id.startswith(prefix)),
            key=lambda d: d.create_index,
        )
        return self._list_reply(req, objs, lambda d: f"{d.create_index}.{d.id}", deployment_dict)

    def deployment(self, req: Request):
        d = self.w.deployments.get(req.args["id"])
        if d is None:
            raise HTTPError(404, "deployment not found")
        return deployment_dict(d)

    def evaluations(self, req: Request):
        in_ns, prefix = self._in_ns(req), req.params.get("prefix", "")
        job_id, status = req.params.get("job"), req.params.get("status")
        objs = sorted(
            (
                e
                for e in self.w.evals.values()
                if in_ns(e.job.namespace)
                and e.id.startswith(prefix)
                and (not job_id or e.job.id == job_id)
                and (not status or e.status == status)
            ),
            key=lambda e: e.create_index,
        )
        return self._list_reply(req, objs, lambda e: f"{e.create_index}.{e.id}", eval_dict)

    def nodes(self, req: Request):
        prefix = req.params.get("prefix", "")
        objs = [n for n in self.w.nodes if n.id.startswith(prefix)]
        res, os_ = req.flag("resources"), req.flag("os")
        return self._list_reply(req, objs, lambda n: n.id, lambda n: node_stub(self.w, n, res, os_))

    def node(self, req: Request):
        node_id = req.args["id"]
        n = self.w.node_by_id.get(node_id)
        if n is None and len(node_id) < 36:
            hits = [x for x in self.w.nodes if x.id.startswith(node_id)]
            n = hits[0] if len(hits) == 1 else None
        if n is None:
            raise HTTPError(404, "node not found")
        return node_full(self.w, n)

    def namespaces(self, req: Request):
        prefix = req.params.get("prefix", "")
        default = default_namespace()
        out = [default] + [namespace_dict(c) for c in sorted(self.w.clients, key=lambda c: c.slug)]
        return [n for n in out if n["Name"].startswith(prefix)]

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
        in_ns, name = self._in_ns(req), req.args["name"]
        objs = sorted(
            (s for s in self.w.nomad_services() if s.name == name and in_ns(s.alloc.job.namespace)),
            key=lambda s: s.create_index,
        )
        return self._list_reply(req, objs, lambda s: f"{s.create_index}.{s.alloc.id}", service_registration)

    # ----------------------------------------------------------- cluster
    def regions(self, req: Request):
        return ["global"]

    def leader(self, req: Request):
        return "10.10.0.2:4647"

    def agent_self(self, req: Request):
        return {
            "config": {
                "Region": "global",
                "Datacenter": "ca-tor-1",
                "NodeName": "nomad-server-1",
                "Version": {"Version": "1.11.1", "VersionPrerelease": "", "Revision": "sandbox"},
                "ACL": {"Enabled": self.acl.enabled},
                "Server": {"Enabled": True},
                "Client": {"Enabled": False},
            },
            "member": {
                "Addr": "10.10.0.2",
                "Name": "nomad-server-1.global",
                "Port": 4648,
                "Status": "alive",
                "Tags": {"region": "global", "dc": "ca-tor-1", "role": "nomad", "build": "1.11.1"},
            },
            "stats": {
                "nomad": {"server": "true", "leader": "true", "leader_addr": "10.10.0.2:4647", "known_regions": "1"},
                "raft": {"state": "Leader", "applied_index": str(self.w.index)},
            },
        }

    def token_self(self, req: Request):
        if not self.acl.enabled:
            raise HTTPError(400, "ACL support disabled")
        tok = self.acl.nomad_token(req.headers)
        if tok is None:
            raise HTTPError(403, "ACL token not found")
        return tok.as_json()

    def auth_methods(self, req: Request):
        return self.acl.auth_methods()

    def login(self, req: Request):
        if not self.acl.enabled:
            raise HTTPError(400, "ACL support disabled")
        return self.acl.login(req.json_body(), self.w.touch("acl"))

    # ---------------------------------------------------------------- routes
    def routes(self) -> list[Route]:
        J = r"/v1/job/(?P<id>.+)"  # job IDs may contain "/" (periodic children)
        jobs_tables = ("jobs", "allocs")  # stubs embed JobSummary, which moves with allocations
        r = []

        def add(template, handler, tables=(), cap=None, methods=("GET",), blocking=True, cache=False, pattern=None):
            route = Route(methods, template, handler, tables, blocking and bool(tables), cache, cap)
            if pattern:
                route.regex = re.compile(f"^{pattern}$")
            r.append(route)

        add("/v1/jobs", self.jobs, jobs_tables, "list-jobs", cache=True)
        add("/v1/job/:id/versions", self.job_versions, ("jobs",), "read-job", pattern=J + "/versions")
        add("/v1/job/:id/allocations", self.job_allocations, ("allocs",), "read-job", pattern=J + "/allocations")
        add("/v1/job/:id/deployments", self.job_deployments, ("deployments",), "read-job", pattern=J + "/deployments")
        add("/v1/job/:id/deployment", self.job_deployment, ("deployments",), "read-job", pattern=J + "/deployment")
        add("/v1/job/:id/summary", self.job_summary, jobs_tables, "read-job", pattern=J + "/summary")
        add("/v1/job/:id/evaluations", self.job_evaluations, ("evals",), "read-job", pattern=J + "/evaluations")
        add("/v1/job/:id", self.job, ("jobs",), "read-job", pattern=J)
        add("/v1/allocations", self.allocations, ("allocs",), "read-job", cache=True)
        add("/v1/allocation/:id/stop", self.allocation_stop, (), "alloc-lifecycle", ("POST", "PUT"))
        add("/v1/allocation/:id", self.allocation, ("allocs",), "read-job")
        add("/v1/client/allocation/:id/restart", self.allocation_restart, (), "alloc-lifecycle", ("POST", "PUT"))
        add("/v1/client/fs/logs/:id", self.logs, (), "read-logs")
        add("/v1/deployments", self.deployments, ("deployments",), "read-job", cache=True)
        add("/v1/deployment/:id", self.deployment, ("deployments",), "read-job")
        add("/v1/evaluations", self.evaluations, ("evals",), "read-job", cache=True)
        add("/v1/nodes", self.nodes, ("nodes",), "node:read", cache=True)
        add("/v1/node/:id", self.node, ("nodes",), "node:read")
        add("/v1/namespaces", self.namespaces, ("namespaces",), "namespace:read")
        add("/v1/services", self.services, ("services",), "read-job")
        add("/v1/service/:name", self.service, ("services",), "read-job")
        add("/v1/regions", self.regions)
        add("/v1/status/leader", self.leader)
        add("/v1/agent/self", self.agent_self, (), "agent:read")
        add("/v1/acl/token/self", self.token_self, ("acl",), blocking=False)
        add("/v1/acl/auth-methods", self.auth_methods, ("acl",))
        add("/v1/acl/login", self.login, (), None, ("POST", "PUT"))
        return r
