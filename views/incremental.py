"""Frames kept up to date from the rows that changed: ``FrameBuilder.build(raw, now)`` gives the
very frames ``views.build_frames(raw, ...)`` would, at a cost that follows the change.

Following Nomad's event stream, the refresher hands over lists holding the same dict for every
item that did not change (``snapshot.events.EventState`` replaces a changed item's dict, appends
new ones, keeps the list endpoints' order), so one pass by identity (else equality) finds the
changed rows (``views.rowpatch``), and only those are parsed again:

* ``allocations`` / ``task_events``, ``jobs``, ``deployments``: the changed rows, built by the
  frame's own builder, replace the old ones (new ones appended), task events by allocation block;
* whole-frame columns again for what the change touched (job desired counts and versions, node
  counts), or for all, vectorised (allocation age, each job's latest deployment);
* ``checks`` and ``services`` when only Consul's checks changed: ``views.checkpatch``;
* ``clients``: only the changed rows' clients are assessed again (``client_rows`` on their rows),
  merged and sorted as a full build sorts; every client at least every ``clients_max_age`` s, in a
  rolling pass (a share per patch) while builds come often.

Anything else (nodes, which client a job belongs to, Consul's catalog, lists that shrank or changed
mostly) is built from scratch. Incremental == full build for the same ``now``:
tests/contract/test_event_apply.py (Nomad's events), tests/contract/test_check_patch.py (Consul's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from common import gcpause

from . import allocations as _allocations
from . import checkpatch, rolling
from . import clients as _clients
from . import columns as col
from . import deployments as _deployments
from . import jobs as _jobs
from . import namespaces as _namespaces
from . import nodes as _nodes
from . import rowpatch as rp
from . import services as _services
from .health import DEFAULT_RULES, HealthRules
from .identity import ClientIdentity

__all__ = ["FrameBuilder"]

ROW_SOURCES = ("jobs", "allocations", "deployments")  # patched row by row
RAW_NAMES = ROW_SOURCES + ("nodes", "namespaces", "nomad_services", "consul_services", "consul_checks")


@dataclass
class _State:
    raw: dict[str, Any] = field(default_factory=dict)  # source -> the raw value last built from
    job_client: dict = field(default_factory=dict)  # and node_dc, alloc_client: the builders' maps
    job_pos: dict = field(default_factory=dict)  # (namespace, job ID) -> row in jobs_base
    node_dc: dict = field(default_factory=dict)
    alloc_client: dict = field(default_factory=dict)
    consul_allocs: set = field(default_factory=set)  # allocation IDs Consul rows name
    check_sig: Any = None  # what client assessment reads of the checks (views.checkpatch.signature)
    jobs_base: Any = None  # before the fills
    nodes_base: Any = None
    allocations: Any = None
    task_events: Any = None
    ev_counts: Any = None  # task events per allocation row
    deployments: Any = None
    checks: Any = None
    services: Any = None
    namespaces: Any = None
    nomad_services: Any = None
    clients: Any = None
    findings: dict = field(default_factory=dict)  # client -> findings (the clients sort)
    roll: rolling.RollingPass = field(default_factory=rolling.RollingPass)  # its start: the last whole assessment
    frames: Any = None


class FrameBuilder:
    """``build(raw, now)`` == ``views.build_frames(raw, cluster=, identity=, now=, rules=)``, patching the last
    build (``patching``: one holding every list is kept). One per refresher, not thread-safe; ``full_builds``,
    ``patches``, ``whole_reasons`` say what it did (tests, benchmark)."""

    patching = property(lambda self: self._s is not None)

    def __init__(
        self,
        *,
        cluster: str,
        identity: ClientIdentity | str | None = None,
        rules: HealthRules = DEFAULT_RULES,
        clients_max_age: float = 60.0,
        keep: tuple[str, ...] = ROW_SOURCES,
    ):
        self.cluster = cluster or ""
        self.identity = identity if isinstance(identity, ClientIdentity) else ClientIdentity.parse(identity)
        self.rules = rules
        self.clients_max_age_ns = int(clients_max_age * 1e9)
        self.keep = frozenset(keep)  # lists kept to diff the next; one not kept is built whole (old bodies live on)
        self._s: _State | None = None
        self.full_builds = self.patches = 0
        self.check_patches = 0  # builds whose Consul frames were patched, not rebuilt (tests, benchmark)
        self.consul_rebuilds = 0  # patches that built the Consul frames from scratch (a few seconds at 100,000)
        self.why_whole, self.whole_reasons = "", dict[str, int]()

    def _whole(self, why: str) -> None:
        self.why_whole = why  # the last reason a patch would not do (tests, benchmark)
        self.whole_reasons[why] = self.whole_reasons.get(why, 0) + 1

    def build(self, raw: Mapping[str, Any] | None, *, now: Any = None, changed: Any = None) -> Any:
        """``changed``: the sources changed since the last build (for those not kept; None: all)."""
        raw = raw or {}
        now_ts = col.utc_now(now)
        with gcpause.paused():
            prev = self._s
            try:
                out = self._patch(prev, raw, now_ts, changed) if prev is not None else None
            except _Whole as why:
                self._whole(str(why))
                out = None
            except Exception as err:  # never worse than a full build
                out = None
                self._whole(f"patch failed: {type(err).__name__}")
            if out is None:
                self._s = None  # a failed build keeps nothing half made
                out = self._full(raw, now_ts)
                self.full_builds += 1
            else:
                self.patches += 1
            return out

    # ------------------------------------------------------------------ full

    def _full(self, raw: Mapping[str, Any], now_ts: pd.Timestamp) -> Any:
        s = _State()
        cluster, identity = self.cluster, self.identity
        for name in RAW_NAMES:
            s.raw[name] = raw.get(name)
            if name in ROW_SOURCES and name not in self.keep:
                s.raw[name] = None  # not kept: ``changed`` says when it moved
        rows = {name: col.records(raw.get(name)) for name in ROW_SOURCES}
        s.job_client = _jobs.job_client_map(rows["jobs"], identity)
        s.nodes_base = _nodes.build_nodes(raw.get("nodes"), cluster=cluster)
        s.node_dc = rp.node_dc(s.nodes_base)
        s.jobs_base = _jobs.build_jobs(rows["jobs"], cluster=cluster, job_client=s.job_client)
        s.allocations, s.task_events = _allocations.build_allocations(
            rows["allocations"],
            cluster=cluster,
            identity=identity,
            job_client=s.job_client,
            node_dc=s.node_dc,
            now=now_ts,
        )
        s.ev_counts = rp.event_counts(s.allocations, s.task_events)
        s.deployments = _deployments.build_deployments(
            rows["deployments"], cluster=cluster, identity=identity, job_client=s.job_client
        )
        s.job_pos = rp.job_positions(s.jobs_base)
        s.alloc_client = rp.alloc_client(s.allocations)
        self._consul(s, raw)
        s.namespaces = self._namespaces(s, raw)
        s.nomad_services = _services.build_nomad_services(raw.get("nomad_services"), cluster=cluster, identity=identity)
        jobs, nodes = self._fills(s)
        self._assess_all(s, jobs, now_ts)
        s.frames = _frames(s, jobs, nodes)
        # Patching needs lists of objects, one row per ID (per job key): else always built whole.
        ids = s.allocations["alloc_id"].tolist() if len(s.allocations) else []
        patchable = (
            all(isinstance(raw.get(n), list) and rows[n] is raw.get(n) for n in ROW_SOURCES)
            and len(set(ids)) == len(ids)
            and len(s.job_pos) == len(s.jobs_base)
        )
        self._s = s if patchable else None
        return s.frames

    def _consul(self, s: _State, raw: Mapping[str, Any]) -> None:
        s.checks, s.services, s.consul_allocs = rp.consul_frames(raw, self.cluster, self.identity, s.alloc_client)
        s.check_sig = checkpatch.signature(s.checks)

    def _namespaces(self, s: _State, raw: Mapping[str, Any]) -> pd.DataFrame:
        counts = s.jobs_base["namespace"].value_counts().to_dict() if len(s.jobs_base) else {}
        return _namespaces.build_namespaces(
            raw.get("namespaces"), cluster=self.cluster, identity=self.identity, job_counts=counts
        )

    def _fills(self, s: _State) -> tuple[pd.DataFrame, pd.DataFrame]:
        jobs = s.jobs_base.copy()
        _jobs.fill_job_desired(jobs, s.allocations, s.deployments)
        _jobs.fill_job_versions(jobs, s.allocations, s.deployments)
        nodes = s.nodes_base.copy()
        _nodes.fill_node_counts(nodes, s.allocations)
        return jobs, nodes

    def _assess(self, s: _State, jobs: pd.DataFrame, now_ts: pd.Timestamp, only: set | None) -> tuple:
        frames = {
            "jobs": jobs,
            "allocations": s.allocations,
            "deployments": s.deployments,
            "services": s.services,
            "checks": s.checks,
            "namespaces": s.namespaces,
            "task_events": s.task_events,
        }
        if only is not None:
            frames = rp.for_clients(only, event_counts=s.ev_counts, **frames)
        return _clients.client_rows(
            cluster=self.cluster, identity=self.identity, now=now_ts, rules=self.rules, **frames
        )

    def _assess_all(self, s: _State, jobs: pd.DataFrame, now_ts: pd.Timestamp) -> None:
        df, found = self._assess(s, jobs, now_ts, None)
        s.findings = dict(zip(df["client"].tolist(), found)) if len(df) else {}
        s.clients = _clients.sort_clients(df, found)
        s.roll = rolling.RollingPass(now_ts.value)

    def _rolling(self, s: _State, now_ns: int) -> set:
        """The clients due again in the rolling pass over half of ``clients_max_age`` (each is then
        assessed at least every ``clients_max_age`` s while builds come often; else the whole
        assessment when that is up)."""

        names = s.clients["client"].tolist if s.clients is not None and len(s.clients) else list  # at a start
        s.roll, due = rolling.advance(s.roll, now_ns, self.clients_max_age_ns // 2, names)
        return due

    # ------------------------------------------------------------------ patch

    def _patch(self, prev: _State, raw: Mapping[str, Any], now_ts: pd.Timestamp, moved_sources: Any) -> Any:
        """The frames from ``prev`` and the rows that changed; None when only a full build will do."""
        small = set()  # small lists that changed: their frames are built again whole
        for name in ("nodes", "namespaces", "nomad_services"):
            new = raw.get(name)
            if new is not prev.raw[name]:
                if new != prev.raw[name]:
                    small.add(name)
                else:
                    prev.raw[name] = new  # an equal fresh body: the frames stand
        if now_ts.value < prev.roll.started:
            return self._whole("the clock went back")
        for name in ROW_SOURCES:
            if name not in self.keep:
                if moved_sources is None or name in moved_sources:
                    return self._whole(f"{name} changed (not kept)")
                prev.raw[name] = raw.get(name)  # unchanged: the patch below sees the same object
        s = _State(**{k: getattr(prev, k) for k in prev.__dataclass_fields__})
        s.raw = dict(prev.raw)
        touched: set = set()  # clients to assess again
        jobs_hit: set = set()  # (namespace, job ID) whose desired count / version may move
        nodes_hit: set = set()  # node IDs whose allocation counts may move
        cluster, identity = self.cluster, self.identity
        for name in small:
            s.raw[name] = raw.get(name)
        if "nomad_services" in small:  # no other frame reads it
            s.nomad_services = _services.build_nomad_services(
                raw.get("nomad_services"), cluster=cluster, identity=identity
            )
        if "nodes" in small:
            s.nodes_base = _nodes.build_nodes(raw.get("nodes"), cluster=cluster)
            if rp.node_dc(s.nodes_base) != prev.node_dc:
                return self._whole("a node's datacenter changed")  # every allocation's datacenter

        # ---- jobs (which client each job is: if that moves, every frame naming clients moves)
        new_jobs: Any = raw.get("jobs")
        jobs_rows_changed = False
        if step := _rows(prev, s, raw, "jobs"):
            changed, n0, subset = step
            job_client = rp.job_clients(prev.raw["jobs"], new_jobs, changed, n0, subset, prev.job_client, identity)
            if isinstance(job_client, str):
                return self._whole(job_client)
            rows = _jobs.build_jobs(subset, cluster=cluster, job_client=job_client)
            s.jobs_base = rp.patch_rows(prev.jobs_base, rows, changed, n0)
            if len(new_jobs) > n0:
                s.job_pos = rp.job_positions(s.jobs_base)
            s.job_client = job_client
            touched |= set(rows["client"].tolist()) | rp.clients_of(prev.jobs_base, changed)
            jobs_hit |= rp.keys_of(rows, range(len(rows)))
            jobs_rows_changed = len(new_jobs) > n0

        # ---- allocations and their task events
        new_alloc_ids: set = set()
        if step := _rows(prev, s, raw, "allocations"):
            changed, n0, subset = step
            rows, events = _allocations.build_allocations(
                subset, cluster=cluster, identity=identity, job_client=s.job_client, node_dc=s.node_dc, now=now_ts
            )
            new_alloc_ids = set(rows["alloc_id"].tolist()[len(changed) :])
            if len(new_alloc_ids) != len(rows) - len(changed) or new_alloc_ids & prev.alloc_client.keys():
                return self._whole("an allocation ID twice")
            counts = rp.event_counts(rows, events)
            s.allocations = rp.patch_rows(prev.allocations, rows, changed, n0)
            s.task_events = rp.patch_events(prev.task_events, prev.ev_counts, events, counts, changed, n0)
            ev_counts = prev.ev_counts.copy()
            ev_counts[np.asarray(changed, dtype=np.int64)] = counts[: len(changed)]
            s.ev_counts = np.concatenate([ev_counts, counts[len(changed) :]])
            touched |= set(rows["client"].tolist()) | rp.clients_of(prev.allocations, changed)
            jobs_hit |= rp.keys_of(rows, range(len(rows))) | rp.keys_of(prev.allocations, changed)
            nodes_hit |= set(rows["node_id"].tolist()) | rp.values_of(prev.allocations, "node_id", changed)
            if new_alloc_ids:
                s.alloc_client = {**prev.alloc_client, **rp.alloc_client(rows.iloc[len(changed) :])}
        if len(s.allocations):
            s.allocations = s.allocations.copy(deep=False) if s.allocations is prev.allocations else s.allocations
            s.allocations["age"] = rp.ages(s.allocations["create_time"], now_ts.value)

        # ---- deployments (each job's latest is computed again over the whole frame)
        if step := _rows(prev, s, raw, "deployments"):
            changed, n0, subset = step
            rows = _deployments.build_deployments(subset, cluster=cluster, identity=identity, job_client=s.job_client)
            deps = rp.patch_rows(prev.deployments, rows, changed, n0)
            deps["is_latest"] = _deployments.latest_flags(
                deps["namespace"].tolist(),
                deps["job_id"].tolist(),
                deps["job_version"].tolist(),
                deps["create_index"].tolist(),
            )
            flipped = np.flatnonzero(deps["is_latest"].to_numpy()[:n0] != prev.deployments["is_latest"].to_numpy())
            s.deployments = deps
            touched |= set(rows["client"].tolist()) | rp.clients_of(prev.deployments, changed)
            touched |= rp.clients_of(deps, flipped.tolist())
            jobs_hit |= rp.keys_of(deps, changed + flipped.tolist() + list(range(n0, len(deps))))

        # ---- Consul: patched (views.checkpatch.follow), else built whole
        got = checkpatch.follow(
            prev.raw,
            raw,
            prev.checks,
            prev.services,
            check_sig=prev.check_sig,
            consul_allocs=prev.consul_allocs,
            new_allocs=new_alloc_ids,
            alloc_client=s.alloc_client,
            cluster=cluster,
            identity=identity,
        )
        consul_changed = got is None
        if got is None:
            self.consul_rebuilds += 1
            self._consul(s, raw)
        else:
            s.checks, s.services, s.consul_allocs, s.check_sig, moved, patched = got
            touched |= moved
            self.check_patches += patched
        for name in ("consul_services", "consul_checks"):
            s.raw[name] = raw.get(name)
        if jobs_rows_changed or "namespaces" in small:
            s.namespaces = self._namespaces(s, raw)

        if jobs_rows_changed or not len(prev.allocations):
            jobs, nodes = self._fills(s)
        else:
            jobs, moved = rp.fill_jobs_for(
                s.jobs_base, s.job_pos, prev.frames.jobs, s.allocations, s.deployments, jobs_hit
            )
            touched |= moved
            if "nodes" in small:
                nodes = s.nodes_base.copy()
                _nodes.fill_node_counts(nodes, s.allocations)
            else:
                nodes = rp.fill_nodes_for(prev.frames.nodes, s.allocations, nodes_hit)
        prev_jobs = prev.frames.jobs
        if (
            consul_changed
            or jobs_rows_changed
            or "namespaces" in small
            or len(jobs) != len(prev_jobs)
            or now_ts.value - prev.roll.started >= self.clients_max_age_ns
        ):
            self._assess_all(s, jobs, now_ts)
        elif touched := touched | self._rolling(s, now_ts.value):
            touched.discard("")
            df, found = self._assess(s, jobs, now_ts, touched)
            s.clients, s.findings = rp.merge_clients(prev.clients, prev.findings, df, found, touched)
        s.frames = _frames(s, jobs, nodes)
        for name in ROW_SOURCES:
            if name not in self.keep:
                s.raw[name] = prev.raw[name] = None
        self._s = s
        return s.frames


class _Whole(Exception):
    """A patch will not do: build from scratch (the message says why)."""


def _rows(prev: _State, s: _State, raw: Mapping[str, Any], name: str) -> tuple[list[int], int, list] | None:
    """The rows of list source ``name`` to build again: (positions that changed, the old list's length,
    those items then the appended ones), None for none; the new list goes to ``s.raw``. _Whole: not
    the old list updated in place and appended to, or changed mostly."""
    old, new = prev.raw[name], raw.get(name)
    if new is old:
        return None
    if not isinstance(new, list) or (d := rp.diff(old, new)) is None:
        raise _Whole(f"{name} changed mostly")
    changed, n0 = d
    s.raw[name] = new
    return (changed, n0, [new[i] for i in changed] + new[n0:]) if changed or len(new) > n0 else None


def _frames(s: _State, jobs: pd.DataFrame, nodes: pd.DataFrame) -> Any:
    from . import Frames  # views/__init__ is loaded first: this module is imported after it

    kept = ("clients", "allocations", "task_events", "deployments", "services", "checks", "namespaces")
    return Frames(jobs=jobs, nodes=nodes, nomad_services=s.nomad_services, **{k: getattr(s, k) for k in kept})
