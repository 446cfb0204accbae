"""Nomad deployments (/v1/deployments) -> the ``deployments`` frame (``TaskGroups`` group -> counts;
times from CreateTime/ModifyTime; which one is each job's latest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import columns as col
from .identity import ClientIdentity
from .schema import empty
from .status import ACTIVE_DEPLOYMENT_STATUSES


def latest_flags(nss: list, jids: list, jv: list, cidx: list) -> np.ndarray:
    """Which deployment is each job's latest: the highest (job_version, create_index)."""
    best: dict[tuple[str, str], tuple[int, int, int]] = {}
    for i, k in enumerate(zip(nss, jids)):
        key = (jv[i], cidx[i], i)
        b = best.get(k)
        if b is None or key > b:
            best[k] = key
    latest = np.zeros(len(nss), dtype=bool)
    latest[[b[2] for b in best.values()]] = True
    return latest


def build_deployments(
    deps: Any, *, cluster: str, identity: ClientIdentity, job_client: Mapping[tuple[str, str], str]
) -> pd.DataFrame:
    ds = col.records(deps)
    if not ds:
        return empty("deployments")
    n = len(ds)
    nss = [col.text(d.get("Namespace")) for d in ds]
    jids = [col.text(d.get("JobID")) for d in ds]
    ids = [col.text(d.get("ID")) for d in ds]
    of = identity.of_job
    tot = [0] * n
    can = [0] * n
    placed = [0] * n
    hl = [0] * n
    uh = [0] * n
    ngroups = [0] * n
    promoted = [True] * n
    for i, d in enumerate(ds):
        tg = d.get("TaskGroups")
        if not tg:
            continue
        ngroups[i] = len(tg)
        for g in tg.values():
            if not g:
                continue
            tot[i] += g.get("DesiredTotal") or 0
            c = g.get("DesiredCanaries") or 0
            can[i] += c
            placed[i] += g.get("PlacedAllocs") or 0
            hl[i] += g.get("HealthyAllocs") or 0
            uh[i] += g.get("UnhealthyAllocs") or 0
            if c and not g.get("Promoted"):
                promoted[i] = False
    status = [col.text(d.get("Status")) for d in ds]
    jv = [-1 if (v := d.get("JobVersion")) is None else v for d in ds]
    cidx = [d.get("CreateIndex") or 0 for d in ds]
    latest = latest_flags(nss, jids, jv, cidx)
    return col.frame(
        "deployments",
        {
            "cluster": [cluster] * n,
            "client": [c if (c := job_client.get(k)) is not None else of(k[0], k[1], None) for k in zip(nss, jids)],
            "namespace": nss,
            "job_id": jids,
            "deployment_id": ids,
            "short_id": [x[:8] for x in ids],
            "job_version": jv,
            "status": status,
            "status_description": [col.text(d.get("StatusDescription")) for d in ds],
            "active": [s in ACTIVE_DEPLOYMENT_STATUSES for s in status],
            "is_latest": latest,
            "create_time": col.times([d.get("CreateTime") or 0 for d in ds]),
            # int64 ns in Nomad 1.11 (nomad/structs/deployment.go); RequireProgressBy is a deadline,
            # not a time anything happened, so it is never used in their place.
            "modify_time": col.times([d.get("ModifyTime") or 0 for d in ds]),
            "create_index": cidx,
            "task_groups": ngroups,
            "desired_total": tot,
            "desired_canaries": can,
            "placed": placed,
            "healthy": hl,
            "unhealthy": uh,
            "promoted": promoted,
        },
    )
