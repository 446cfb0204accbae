"""Nomad job stubs (/v1/jobs?meta=true) -> the ``jobs`` frame; which client each job belongs to;
how many allocations each job should run (``fill_job_desired``, compared by the health rules).

``JobSummary.Summary`` maps task group -> counts per allocation state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import columns as col
from .identity import ClientIdentity
from .schema import empty


def job_namespace(j: dict) -> str:
    """Job namespace; the stub's JobSummary also carries it (older doc samples omit the top-level one)."""
    ns = j.get("Namespace")
    if not ns:
        js = j.get("JobSummary")
        ns = js.get("Namespace") if isinstance(js, dict) else None
    return col.text(ns)


def job_client_map(jobs: list, identity: ClientIdentity) -> dict[tuple[str, str], str]:
    of = identity.of_job
    out = {}
    for j in jobs:
        ns, jid = job_namespace(j), col.text(j.get("ID"))
        out[(ns, jid)] = of(ns, jid, j.get("Meta"))
    return out


_SUMMARY_KEYS = ("Running", "Starting", "Queued", "Failed", "Lost", "Complete", "Unknown")


def build_jobs(jobs: Any, *, cluster: str, job_client: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    js = col.records(jobs)
    if not js:
        return empty("jobs")
    n = len(js)
    nss = [job_namespace(j) for j in js]
    ids = [col.text(j.get("ID")) for j in js]
    metas = [col.dict_of(j.get("Meta")) for j in js]
    sums = {k: [0] * n for k in _SUMMARY_KEYS}
    groups = []
    for i, j in enumerate(js):
        summ = col.dict_of(col.dict_of(j.get("JobSummary")).get("Summary"))
        groups.append(list(summ))
        for g in summ.values():
            if not g:
                continue
            for k in _SUMMARY_KEYS:
                v = g.get(k)
                if v:
                    sums[k][i] += v
    return col.frame(
        "jobs",
        {
            "cluster": [cluster] * n,
            "client": [job_client.get(k, "") for k in zip(nss, ids)],
            "namespace": nss,
            "job_id": ids,
            "name": [col.text(j.get("Name")) for j in js],
            "parent_id": [col.text(j.get("ParentID")) for j in js],
            "type": [col.text(j.get("Type")) for j in js],
            "status": [col.text(j.get("Status")) for j in js],
            "status_description": [col.text(j.get("StatusDescription")) for j in js],
            "stop": [bool(j.get("Stop")) for j in js],
            "priority": [j.get("Priority") or 0 for j in js],
            # JobListStub has no Version (nomad/structs/structs.go): fill_job_versions sets it.
            "job_version": np.full(n, -1, dtype=np.int64),
            "app_version": [col.text(m.get("version")) for m in metas],
            "datacenters": col.objs([col.list_of(j.get("Datacenters")) for j in js]),
            "periodic": [bool(j.get("Periodic")) for j in js],
            "parameterized": [bool(j.get("ParameterizedJob")) for j in js],
            "desired": np.zeros(n, dtype=np.int64),  # filled by build_frames
            "running": sums["Running"],
            "starting": sums["Starting"],
            "queued": sums["Queued"],
            "failed": sums["Failed"],
            "lost": sums["Lost"],
            "complete": sums["Complete"],
            "unknown": sums["Unknown"],
            "task_groups": col.objs(groups),
            "submit_time": col.times([j.get("SubmitTime") or 0 for j in js]),
            "meta": col.objs(metas),
        },
    )


def fill_job_desired(jobs: pd.DataFrame, allocations: pd.DataFrame, deployments: pd.DataFrame) -> None:
    """Set jobs.desired in place (see the schema for the rule)."""
    if not len(jobs):
        return
    key_ns = jobs["namespace"].to_numpy()
    key_j = jobs["job_id"].to_numpy()
    keys = list(zip(key_ns.tolist(), key_j.tolist()))
    summ = jobs["running"].to_numpy() + jobs["starting"].to_numpy() + jobs["queued"].to_numpy()
    by_names: dict = {}
    by_sys: dict = {}
    if len(allocations):
        a = allocations
        live = a["desired_status"].to_numpy() == "run"
        sub = pd.DataFrame(
            {
                "ns": a["namespace"].to_numpy()[live],
                "j": a["job_id"].to_numpy()[live],
                "n": a["name"].to_numpy()[live],
                "cs": a["client_status"].to_numpy()[live],
            }
        )
        if len(sub):
            names = sub.groupby(["ns", "j"], sort=False)["n"].nunique()
            by_names = dict(zip(names.index.tolist(), names.tolist()))
            nonterm = sub[sub["cs"] != "complete"].groupby(["ns", "j"], sort=False).size()
            by_sys = dict(zip(nonterm.index.tolist(), nonterm.tolist()))
    dep_tot: dict = {}
    if len(deployments):
        d = deployments[deployments["is_latest"].to_numpy()]
        dep_tot = dict(zip(zip(d["namespace"].tolist(), d["job_id"].tolist()), d["desired_total"].tolist()))
    types = jobs["type"].tolist()
    stop = jobs["stop"].tolist()
    per = jobs["periodic"].to_numpy() | jobs["parameterized"].to_numpy()
    out = np.zeros(len(jobs), dtype=np.int64)
    for i, k in enumerate(keys):
        t = types[i]
        if stop[i] or per[i] or t in ("batch", "sysbatch"):
            continue
        if t == "system":
            out[i] = max(int(summ[i]), by_sys.get(k, 0))
        else:
            out[i] = max(int(summ[i]), by_names.get(k, 0), dep_tot.get(k, 0))
    jobs["desired"] = out


def fill_job_versions(jobs: pd.DataFrame, allocations: pd.DataFrame, deployments: pd.DataFrame) -> None:
    """Set jobs.job_version in place: the newest JobVersion Nomad reports for the job, from its
    allocations' ``JobVersion`` and its deployments' ``JobVersion`` (the /v1/jobs stub carries no
    version). -1 when neither has one (a job never placed, a periodic or parameterized parent)."""
    if not len(jobs):
        return
    best: dict[tuple[str, str], int] = {}
    for frame in (allocations, deployments):
        if not len(frame):
            continue
        for ns, jid, v in zip(frame["namespace"].tolist(), frame["job_id"].tolist(), frame["job_version"].tolist()):
            if v > best.get((ns, jid), -1):
                best[(ns, jid)] = int(v)
    keys = zip(jobs["namespace"].tolist(), jobs["job_id"].tolist())
    jobs["job_version"] = np.array([best.get(k, -1) for k in keys], dtype=np.int64)
