"""Pure views: raw Nomad/Consul JSON -> pandas DataFrames (no streamlit import).

    frames = views.build_frames(raw, cluster="prod", identity=ClientIdentity.parse("namespace"), now=now)
    frames.clients            # one row per client, worst first, with status and reason

Columns and dtypes: ``views.schema``. Raw JSON parsing: one module per resource
(``views.jobs``, ``views.allocations``, ``views.deployments``, ``views.nodes``, ``views.services``,
``views.checks``, ``views.namespaces``; shared column helpers in ``views.columns``); the per-client
health roll-up: ``views.clients``. Health rules: ``views.health``. Status
colours and icons: ``views.status``. Search: ``views.search``. Logs: ``views.logs``;
an allocation's resources and ports: ``views.resources``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from common import gcpause

from . import allocations as _allocations
from . import checks as _checks
from . import clients as _clients
from . import columns as col
from . import deployments as _deployments
from . import jobs as _jobs
from . import namespaces as _namespaces
from . import nodes as _nodes
from . import services as _services
from .health import DEFAULT_RULES, HealthRules
from .identity import ClientIdentity
from .schema import FRAME_NAMES, SCHEMAS, conform, empty, plain

__all__ = [
    "FRAME_NAMES",
    "RAW_KEYS",
    "SCHEMAS",
    "ClientIdentity",
    "Frames",
    "HealthRules",
    "build_frames",
    "conform",
    "empty",
    "plain",
]

RAW_KEYS = (
    "jobs",
    "allocations",
    "deployments",
    "nodes",
    "namespaces",
    "nomad_services",
    "consul_services",
    "consul_checks",
)


@dataclass(frozen=True)
class Frames:
    """One DataFrame per frame name in ``views.schema`` (treat them as read-only)."""

    clients: pd.DataFrame
    jobs: pd.DataFrame
    allocations: pd.DataFrame
    task_events: pd.DataFrame
    deployments: pd.DataFrame
    services: pd.DataFrame
    checks: pd.DataFrame
    nodes: pd.DataFrame
    namespaces: pd.DataFrame
    nomad_services: pd.DataFrame

    @classmethod
    def empty(cls) -> Frames:
        return cls(**{f.name: empty(f.name) for f in fields(cls)})

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def build_frames(
    raw: Mapping[str, Any] | None,
    *,
    cluster: str,
    identity: ClientIdentity | str | None = None,
    now: Any = None,
    rules: HealthRules = DEFAULT_RULES,
) -> Frames:
    """Build every frame from the raw API JSON.

    ``raw`` maps source name (``RAW_KEYS``) to the decoded JSON body; a missing
    or None key gives empty frames with the right columns. ``identity`` is a
    ``ClientIdentity`` or its config string (default: namespace). ``now`` is
    a datetime/Timestamp (naive = UTC; None = the current time) used for ages
    and health windows. The raw dicts are read, never modified.
    """
    raw = raw or {}
    if not isinstance(identity, ClientIdentity):
        identity = ClientIdentity.parse(identity)
    with gcpause.paused():  # building is CPU work on fresh, acyclic containers (see common.gcpause)
        return _build(raw, cluster=cluster, identity=identity, now=now, rules=rules)


def _build(raw: Mapping[str, Any], *, cluster: str, identity: ClientIdentity, now: Any, rules: HealthRules) -> Frames:
    now_ts = col.utc_now(now)
    cluster = cluster or ""

    jobs_raw = col.records(raw.get("jobs"))
    job_client = _jobs.job_client_map(jobs_raw, identity)

    nodes = _nodes.build_nodes(raw.get("nodes"), cluster=cluster)
    node_dc = dict(zip(nodes["node_id"].tolist(), nodes["datacenter"].tolist())) if len(nodes) else {}

    jobs = _jobs.build_jobs(jobs_raw, cluster=cluster, job_client=job_client)
    allocations, task_events = _allocations.build_allocations(
        raw.get("allocations"), cluster=cluster, identity=identity, job_client=job_client, node_dc=node_dc, now=now_ts
    )
    deployments = _deployments.build_deployments(
        raw.get("deployments"), cluster=cluster, identity=identity, job_client=job_client
    )
    _jobs.fill_job_desired(jobs, allocations, deployments)
    _jobs.fill_job_versions(jobs, allocations, deployments)
    _nodes.fill_node_counts(nodes, allocations)

    alloc_client = (
        dict(zip(allocations["alloc_id"].tolist(), allocations["client"].tolist())) if len(allocations) else {}
    )
    checks = _checks.build_checks(raw.get("consul_checks"), cluster=cluster)
    services = _services.build_services(
        raw.get("consul_services"), checks, cluster=cluster, identity=identity, alloc_client=alloc_client
    )
    _checks.fill_check_clients(checks, services, alloc_client)

    job_counts = jobs["namespace"].value_counts().to_dict() if len(jobs) else {}
    namespaces = _namespaces.build_namespaces(
        raw.get("namespaces"), cluster=cluster, identity=identity, job_counts=job_counts
    )
    nomad_services = _services.build_nomad_services(raw.get("nomad_services"), cluster=cluster, identity=identity)

    clients = _clients.build_clients(
        cluster=cluster,
        identity=identity,
        jobs=jobs,
        allocations=allocations,
        deployments=deployments,
        services=services,
        checks=checks,
        namespaces=namespaces,
        now=now_ts,
        rules=rules,
        task_events=task_events,
    )
    return Frames(
        clients=clients,
        jobs=jobs,
        allocations=allocations,
        task_events=task_events,
        deployments=deployments,
        services=services,
        checks=checks,
        nodes=nodes,
        namespaces=namespaces,
        nomad_services=nomad_services,
    )
