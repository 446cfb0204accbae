"""Client health aggregation: the built frames -> one row per client (see ``views.schema``).

``build_clients`` folds the allocation, task event, deployment, service and check frames
that the per-resource builders (``views.jobs``, ``views.allocations``, ...) parsed from the raw
JSON into one row per client, worst first, with the status and reason the rules in
``views.health`` give (compared with ``jobs.desired``, set by ``views.jobs.fill_job_desired``).
Same approach as the builders: vectorised counts and dict look-ups, no per-row pandas work.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from . import columns as col
from . import health as _health
from .identity import ClientIdentity
from .schema import SCHEMAS, empty
from .status import ACTIVE_DEPLOYMENT_STATUSES, STATUS_RANK

# ---------------------------------------------------------------- check labels


def check_label(name: str, service: str) -> str:
    """How a reason names a check: Nomad's default name ('service: "api" check') says no more
    than the service, so it becomes “api”; a named check keeps its name and service. Quotes, not
    Markdown backticks: reasons are shown as plain text in tables."""
    if not service:
        return f"“{name}”"
    if name == f'service: "{service}" check':
        return f"“{service}”"
    return f"“{name}” on {service}"


def node_check_label(node: str, name: str) -> str:
    """How a node-level Consul check is named in reasons: "node nomad-tor1-003 “serfHealth”"."""
    return f"node {node} “{name}”" if node else f"“{name}”"


# -------------------------------------------------------------------- clients


def _group_sum(keys_a: np.ndarray, keys_b: np.ndarray, values: np.ndarray) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    if not len(values):
        return out
    s = pd.Series(values).groupby([keys_a, keys_b], sort=False).sum()
    return {k: int(v) for k, v in zip(s.index.tolist(), s.tolist()) if v}


def build_clients(
    *,
    cluster: str,
    identity: ClientIdentity,
    jobs: pd.DataFrame,
    allocations: pd.DataFrame,
    deployments: pd.DataFrame,
    services: pd.DataFrame,
    checks: pd.DataFrame,
    namespaces: pd.DataFrame,
    now: pd.Timestamp,
    rules: _health.HealthRules = _health.DEFAULT_RULES,
    task_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    df, findings = client_rows(
        cluster=cluster,
        identity=identity,
        jobs=jobs,
        allocations=allocations,
        deployments=deployments,
        services=services,
        checks=checks,
        namespaces=namespaces,
        now=now,
        rules=rules,
        task_events=task_events,
    )
    return sort_clients(df, findings)


def sort_clients(df: pd.DataFrame, findings: Any) -> pd.DataFrame:
    """Worst first: by status, then by the worst finding within the status (a critical check before a
    restart count), then the client with more findings, then by name (unique: the order is total,
    so rows from several ``client_rows`` calls sort the same as from one)."""
    if not len(df):
        return df if len(df.columns) else empty("clients")
    df = df.assign(_n=-np.asarray(findings, dtype=np.int64))
    return df.sort_values(["rank", "severity", "_n", "client"], kind="stable", ignore_index=True).drop(columns="_n")


def client_rows(
    *,
    cluster: str,
    identity: ClientIdentity,
    jobs: pd.DataFrame,
    allocations: pd.DataFrame,
    deployments: pd.DataFrame,
    services: pd.DataFrame,
    checks: pd.DataFrame,
    namespaces: pd.DataFrame,
    now: pd.Timestamp,
    rules: _health.HealthRules = _health.DEFAULT_RULES,
    task_events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[int]]:
    """One unsorted row per client (by name) and how many findings each has (``sort_clients``)."""
    now_ns = now.value
    # ---- per (client, job) counts from allocations, vectorised
    a_client = allocations["client"].to_numpy()
    a_job = allocations["job_id"].to_numpy()
    cs = allocations["client_status"].to_numpy()
    running_mask = (cs == "running") & (allocations["desired_status"].to_numpy() == "run")
    mod = (
        allocations["modify_time"].to_numpy(dtype="M8[ns]").view(np.int64)
        if len(allocations)
        else np.empty(0, np.int64)
    )
    recent = mod >= now_ns - int(rules.failed_window.total_seconds() * 1e9)
    failed_recent = allocations["failed"].to_numpy() & recent & (cs != "lost")
    lost_recent = (cs == "lost") & recent
    run_by = _group_sum(a_client, a_job, running_mask.astype(np.int64))
    fail_by = _group_sum(a_client, a_job, failed_recent.astype(np.int64))
    lost_by = _group_sum(a_client, a_job, lost_recent.astype(np.int64))
    # Restarts in the window: the `Restarting` task events whose time is inside it (an
    # allocation's lifetime Restarts count says nothing about when they happened).
    rst_by: dict[tuple[str, str], int] = {}
    if task_events is not None and len(task_events):
        et = task_events["time"].to_numpy(dtype="M8[ns]").view(np.int64)
        rmask = (
            (task_events["type"] == "Restarting").to_numpy()  # a categorical: compared by its codes
            & (et >= now_ns - int(rules.restart_window.total_seconds() * 1e9))
            & (et != col.INAT)
        )
        # Only those rows count (a zero sum is left out): grouping all 550,000 events at 100,000
        # allocations held tens of MB for a moment, the peak of every full assessment.
        hit = task_events.iloc[np.flatnonzero(rmask)]
        rst_by = _group_sum(hit["client"].to_numpy(), hit["job_id"].to_numpy(), np.ones(len(hit), dtype=np.int64))
    total_by = _group_sum(a_client, a_job, np.ones(len(allocations), dtype=np.int64))

    # ---- latest deployment per job
    dep_active: dict[tuple[str, str], bool] = {}
    dep_failed: dict[tuple[str, str], bool] = {}
    last_dep: dict[str, tuple[int, int, str]] = {}  # client -> (time_ns, create_index, status)
    if len(deployments):
        dwin = now_ns - int(rules.deployment_window.total_seconds() * 1e9)
        mt = deployments["modify_time"].to_numpy(dtype="M8[ns]").view(np.int64)
        ct = deployments["create_time"].to_numpy(dtype="M8[ns]").view(np.int64)
        t = np.where(mt == col.INAT, ct, mt)
        for c, j, st, lat, tt, ci in zip(
            deployments["client"].tolist(),
            deployments["job_id"].tolist(),
            deployments["status"].tolist(),
            deployments["is_latest"].tolist(),
            t.tolist(),
            deployments["create_index"].tolist(),
        ):
            if lat:
                dep_active[(c, j)] = st in ACTIVE_DEPLOYMENT_STATUSES
                dep_failed[(c, j)] = st == "failed" and (tt == col.INAT or tt >= dwin)
            prev = last_dep.get(c)
            if prev is None or (tt, ci) > prev[:2]:
                last_dep[c] = (tt, ci, st)

    # ---- checks per client
    crit: dict[str, list[str]] = defaultdict(list)
    warn: dict[str, list[str]] = defaultdict(list)
    if len(checks):
        # A node-level check (serfHealth: no ServiceID) makes every service on that node
        # critical/warning in build_services, so it counts for those services' clients too.
        node_clients: dict[str, set] = defaultdict(set)
        if len(services):
            for nd, sc in zip(services["node"].tolist(), services["client"].tolist()):
                if sc:
                    node_clients[nd].add(sc)
        for c, name, svc, st, nd, sid in zip(
            checks["client"].tolist(),
            checks["name"].tolist(),
            checks["service"].tolist(),
            checks["status"].tolist(),
            checks["node"].tolist(),
            checks["service_id"].tolist(),
        ):
            if st == "passing":
                continue
            if not sid:
                label = node_check_label(nd, name)
                for nc in sorted(node_clients.get(nd, ())):
                    (crit if st == "critical" else warn)[nc].append(label)
                continue
            if not c:
                continue
            label = check_label(name, svc)
            (crit if st == "critical" else warn)[c].append(label)

    # ---- per-client sets
    ns_of: dict[str, set] = defaultdict(set)
    versions: dict[str, set] = defaultdict(set)
    dcs: dict[str, set] = defaultdict(set)
    job_rows: dict[str, list] = defaultdict(list)
    for c, ns, j, d, av in zip(
        jobs["client"].tolist(),
        jobs["namespace"].tolist(),
        jobs["job_id"].tolist(),
        jobs["desired"].tolist(),
        jobs["app_version"].tolist(),
    ):
        if not c:
            continue
        ns_of[c].add(ns)
        if av:
            versions[c].add(av)
        job_rows[c].append((j, d))
    if len(services):
        for c, v in zip(services["client"].tolist(), services["version"].tolist()):
            if c and v:
                versions[c].add(v)
    placed: dict[str, set] = defaultdict(set)  # a client with nothing running: where it was placed
    if len(allocations):
        pairs = pd.DataFrame({"c": a_client, "d": allocations["datacenter"].to_numpy(), "r": running_mask})
        pairs = pairs[pairs["d"].to_numpy() != ""].drop_duplicates()
        for c, d, r in zip(pairs["c"].tolist(), pairs["d"].tolist(), pairs["r"].tolist()):
            (dcs if r else placed)[c].add(d)
    # allocation-only jobs (job not in the jobs list) still count
    for c, j in total_by:
        if c and all(j != x[0] for x in job_rows.get(c, ())):
            job_rows[c].append((j, 0))
            ns_of[c]  # touch
    names = set(job_rows)
    if identity.by_namespace and len(namespaces):
        for ns, nj in zip(namespaces["namespace"].tolist(), namespaces["jobs"].tolist()):
            if ns and (nj or ns != "default"):
                names.add(ns)
                ns_of[ns].add(ns)
    names.update(c for c in crit)
    names.update(c for c in warn)
    names.discard("")
    if not names:
        return empty("clients"), []

    order = sorted(names)
    nfound: list[int] = []
    cols: dict[str, Any] = {k: [] for k in SCHEMAS["clients"]}
    for c in order:
        jhs = []
        tot_des = tot_run = tot_fail = tot_lost = tot_rst = 0
        deploying = False
        for j, d in job_rows.get(c, ()):
            k = (c, j)
            run = run_by.get(k, 0)
            jh = _health.JobHealth(
                job_id=j,
                label=_health.job_label(j, c),
                desired=int(d),
                running=run,
                failed=fail_by.get(k, 0),
                lost=lost_by.get(k, 0),
                restarts=rst_by.get(k, 0),
                deploying=dep_active.get(k, False),
                deployment_failed=dep_failed.get(k, False),
            )
            jhs.append(jh)
            tot_des += jh.desired
            tot_run += run
            tot_fail += jh.failed
            tot_lost += jh.lost
            tot_rst += jh.restarts
            deploying |= jh.deploying
        verdict = _health.assess(
            _health.ClientHealth(tuple(jhs), tuple(crit.get(c, ())), tuple(warn.get(c, ()))), rules
        )
        status, reason = verdict.status, verdict.reason
        ld = last_dep.get(c)
        cols["cluster"].append(cluster)
        cols["client"].append(c)
        cols["status"].append(status)
        cols["rank"].append(STATUS_RANK.get(status, len(STATUS_RANK)))
        cols["severity"].append(verdict.severity)
        nfound.append(verdict.findings)
        cols["reason"].append(reason)
        cols["namespaces"].append(sorted(ns_of.get(c, ())))
        cols["jobs"].append(len(jhs))
        cols["desired"].append(tot_des)
        cols["running"].append(tot_run)
        cols["failed_allocs"].append(tot_fail)
        cols["lost_allocs"].append(tot_lost)
        cols["restarts_24h"].append(tot_rst)
        cols["checks_critical"].append(len(crit.get(c, ())))
        cols["checks_warning"].append(len(warn.get(c, ())))
        cols["deploying"].append(deploying)
        cols["last_deployment_status"].append(ld[2] if ld else "")
        cols["last_deployment_time"].append(ld[0] if ld else 0)
        cols["versions"].append(sorted(versions.get(c, ())))
        cols["datacenters"].append(sorted(dcs.get(c) or placed.get(c) or ()))
    cols["namespaces"] = col.objs(cols["namespaces"])
    cols["versions"] = col.objs(cols["versions"])
    cols["datacenters"] = col.objs(cols["datacenters"])
    cols["last_deployment_time"] = col.times([0 if v == col.INAT else v for v in cols["last_deployment_time"]])
    return col.frame("clients", cols), nfound
