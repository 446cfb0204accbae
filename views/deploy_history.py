"""Deployment history rows: raw Nomad deployments (+ the job list) -> one flat record per deployment.

The recorder stores these records; the deployments and rollouts pages read them back as a
DataFrame with the columns below (``HISTORY_COLUMNS``; written once, here).

Nomad keeps finished deployments for about an hour (``deployment_gc_threshold``) and only a few
job versions, so the record carries everything the pages need: the job's type and datacenters
and the application version are captured when the deployment is seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .identity import ClientIdentity

# (column, pandas dtype, meaning)
HISTORY_COLUMNS: list[tuple[str, str, str]] = [
    ("cluster", "object", "cluster name"),
    ("deployment_id", "object", "Nomad deployment UUID"),
    ("client", "object", "client (customer) name, from the configured ClientIdentity"),
    ("namespace", "object", "Nomad namespace"),
    ("job_id", "object", "Nomad job ID"),
    ("job_type", "object", "service | batch | system | sysbatch ('' when the job was gone when seen)"),
    ("datacenters", "object", "the job's datacenters, comma separated"),
    ("job_version", "int64", "job version deployed"),
    ("app_version", "object", "application version: job meta `version` of that job version ('' unknown)"),
    ("status", "object", "Nomad deployment status (latest seen)"),
    ("status_description", "object", "Nomad's StatusDescription (latest seen)"),
    ("create_time", "datetime64[ns, UTC]", "Nomad CreateTime"),
    ("modify_time", "datetime64[ns, UTC]", "Nomad ModifyTime (latest seen)"),
    ("duration_s", "float64", "modify - create time in seconds, for finished deployments (NaN while running)"),
    ("desired", "int64", "sum of DesiredTotal over task groups"),
    ("placed", "int64", "sum of PlacedAllocs"),
    ("healthy", "int64", "sum of HealthyAllocs"),
    ("unhealthy", "int64", "sum of UnhealthyAllocs"),
    ("canaries", "int64", "sum of DesiredCanaries"),
    ("auto_revert", "bool", "some task group has AutoRevert"),
    ("groups", "object", "per task group {desired, placed, healthy, unhealthy, canaries, auto_revert}"),
    ("modify_index", "int64", "Nomad ModifyIndex of the latest version seen (the upsert guard)"),
]
HISTORY_DTYPES: dict[str, str] = {c: t for c, t, _ in HISTORY_COLUMNS}

FINISHED_STATUSES = frozenset({"successful", "failed", "cancelled"})
NS = 10**9


def _ns(value: Any) -> int:
    """Nomad's CreateTime/ModifyTime (int ns since the epoch); 0 when absent or unusable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return int(value) if value > 0 else 0


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def job_index(jobs: Any) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(namespace, job ID) -> job list stub, from /v1/jobs?namespace=*&meta=true."""
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for j in jobs or ():
        if isinstance(j, Mapping):
            out[(str(j.get("Namespace") or "default"), str(j.get("ID") or ""))] = j
    return out


def record(
    d: Mapping[str, Any],
    *,
    cluster: str,
    identity: ClientIdentity,
    job: Mapping[str, Any] | None = None,
    app_version: str = "",
) -> dict[str, Any] | None:
    """One history record for one deployment (as /v1/deployments sends it); None if it has no ID.

    Times stay integers (ns) so the record is storable as is; ``to_frame`` converts them.
    """
    dep_id = str(d.get("ID") or "")
    if not dep_id:
        return None
    ns = str(d.get("Namespace") or "default")
    job_id = str(d.get("JobID") or "")
    meta = (job or {}).get("Meta") or {}
    groups: dict[str, dict[str, Any]] = {}
    for name, g in (d.get("TaskGroups") or {}).items():
        g = g or {}
        groups[str(name)] = {
            "desired": _int(g.get("DesiredTotal")),
            "placed": _int(g.get("PlacedAllocs")),
            "healthy": _int(g.get("HealthyAllocs")),
            "unhealthy": _int(g.get("UnhealthyAllocs")),
            "canaries": _int(g.get("DesiredCanaries")),
            "auto_revert": bool(g.get("AutoRevert")),
        }
    status = str(d.get("Status") or "")
    create_ns, modify_ns = _ns(d.get("CreateTime")), _ns(d.get("ModifyTime"))
    duration = (modify_ns - create_ns) / NS if status in FINISHED_STATUSES and create_ns and modify_ns else None
    jv = d.get("JobVersion")
    return {
        "cluster": cluster,
        "deployment_id": dep_id,
        "client": identity.of_job(ns, job_id, meta if isinstance(meta, Mapping) else None),
        "namespace": ns,
        "job_id": job_id,
        "job_type": str((job or {}).get("Type") or ""),
        "datacenters": ",".join(str(x) for x in ((job or {}).get("Datacenters") or ())),
        "job_version": _int(jv) if jv is not None else -1,
        "app_version": app_version,
        "status": status,
        "status_description": str(d.get("StatusDescription") or ""),
        "create_ns": create_ns,
        "modify_ns": modify_ns,
        "duration_s": duration,
        "desired": sum(g["desired"] for g in groups.values()),
        "placed": sum(g["placed"] for g in groups.values()),
        "healthy": sum(g["healthy"] for g in groups.values()),
        "unhealthy": sum(g["unhealthy"] for g in groups.values()),
        "canaries": sum(g["canaries"] for g in groups.values()),
        "auto_revert": any(g["auto_revert"] for g in groups.values()),
        "groups": groups,
        "modify_index": _int(d.get("ModifyIndex")),
    }


def to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Stored records -> the history DataFrame (columns and dtypes of ``HISTORY_COLUMNS``)."""
    rows = list(records)
    cols = [c for c, _, _ in HISTORY_COLUMNS]
    if not rows:
        df = pd.DataFrame({c: pd.Series(dtype=t) for c, t, _ in HISTORY_COLUMNS})
        return df[cols]
    df = pd.DataFrame(rows)
    for c, t in (("create_time", "create_ns"), ("modify_time", "modify_ns")):
        if c not in df.columns:
            vals = pd.to_numeric(df[t], errors="coerce").fillna(0).astype("int64")
            df[c] = pd.to_datetime(vals.where(vals > 0), unit="ns", utc=True)
    for c, t, _ in HISTORY_COLUMNS:
        if c not in df.columns:
            df[c] = "" if t == "object" else 0
        if t == "object":
            if c != "groups":
                df[c] = df[c].fillna("").astype(str)
        elif t == "int64":
            df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
        elif t == "float64":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif t == "bool":
            df[c] = df[c].fillna(False).astype(bool)
    return df[cols].reset_index(drop=True)
