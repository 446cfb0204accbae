"""Which version each client runs, per service (pure; no streamlit import).

A *version instance* is one running allocation and one service it provides
(or its task group when it registers no Consul service), plus Consul service
instances outside Nomad and Nomad-native services Nomad lists without an
allocation. Its version is read from the first source, in the configured order
(``[versions] sources`` in dashboard.toml), that has one:

=============  ================================================================
``consul_meta`` the Consul service instance's ``Meta`` (keys ``[versions] meta_keys``, default ``version``)
``tag``         a Consul service tag ``version=1.2.3`` / ``version:1.2.3`` or ``v1.2.3``
``nomad_tags``  the same tag forms on the Nomad-native service of that name in the job's namespace
``job_meta``    the job's meta (only for allocations of the job's current version, when both are known)
``image``       the tag of the task group's first container image, from full job specs (``job_specs``)
=============  ================================================================

Reading one value and ordering versions live in ``views.version_values``.
"Newest" and "behind" are only decided for a service whose versions all look
like semantic versions (git hashes or dates cannot be ordered honestly).

Every frame here carries ``cluster`` first, so frames from several clusters
concatenate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from common import gcpause

from .version_values import (
    DEFAULT_META_KEYS,
    UNKNOWN,
    images_of_job,
    newest_of,
    sort_versions,
    version_from_image,
    version_from_meta,
    version_from_tags,
    version_key,
)

SOURCES: tuple[str, ...] = ("consul_meta", "tag", "nomad_tags", "job_meta", "image")
DEFAULT_SOURCES = SOURCES

INSTANCE_COLUMNS = (
    "cluster",
    "client",
    "service",
    "version",
    "source",
    "namespace",
    "job_id",
    "task_group",
    "alloc_id",
    "node",
    "datacenter",
    "since",
)
MATRIX_COLUMNS = (
    "cluster",
    "client",
    "service",
    "versions",
    "instances",
    "unknown",
    "newest",
    "behind",
    "mixed",
    "mixed_since",
    "sources",
)
COUNT_COLUMNS = ("service", "version", "clients", "instances", "newest")
_NAT = pd.NaT.value  # NaT as int64 nanoseconds

# ---------------------------------------------------------------- instances


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=_DTYPES.get(c, "object")) for c in columns})


_DTYPES = {
    "since": "datetime64[ns, UTC]",
    "mixed_since": "datetime64[ns, UTC]",
    "instances": "int64",
    "unknown": "int64",
    "clients": "int64",
    "behind": "bool",
    "mixed": "bool",
}


def _rows_frame(rows: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return _empty(columns)
    df = pd.DataFrame(rows, columns=list(columns))
    for c in columns:
        dt = _DTYPES.get(c)
        if dt and dt.startswith("datetime"):
            df[c] = pd.to_datetime(df[c], utc=True)
        elif dt:
            df[c] = df[c].astype(dt)
    return df


def check_sources(sources: Iterable[str]) -> tuple[str, ...]:
    """The sources as a tuple; ValueError naming an unknown one."""
    out = tuple(str(s) for s in sources)
    bad = [s for s in out if s not in SOURCES]
    if bad:
        raise ValueError(f"unknown version source(s) {bad}; known sources: {list(SOURCES)}")
    return out


def build_instances(
    frames: Any,
    *,
    sources: Sequence[str] = DEFAULT_SOURCES,
    meta_keys: Sequence[str] = DEFAULT_META_KEYS,
    job_specs: Mapping[tuple, Any] | None = None,
) -> pd.DataFrame:
    """One row per version instance (columns ``INSTANCE_COLUMNS``), version '' when no source has one.

    ``frames`` is a ``views.Frames`` (allocations, services, jobs, nomad_services are read).
    ``job_specs`` maps (cluster, namespace, job_id), or (namespace, job_id) for any cluster, to a
    full job (GET /v1/job/:id) for the ``image`` source.
    """
    sources = check_sources(sources)
    with gcpause.paused():  # hundreds of thousands of small tuples; nothing here forms cycles
        return _instances(frames, sources, tuple(meta_keys), job_specs or {})


def _instances(frames: Any, sources: tuple[str, ...], meta_keys: tuple[str, ...], specs: Mapping) -> pd.DataFrame:
    allocs, services, jobs = frames.allocations, frames.services, frames.jobs
    # Keys carry the cluster: the same job (or service) in two clusters can be at different versions.
    job_info: dict[tuple[str, str, str], tuple[dict, int]] = {}
    if len(jobs):
        for cl, ns, jid, meta, jv in zip(
            jobs["cluster"].tolist(),
            jobs["namespace"].tolist(),
            jobs["job_id"].tolist(),
            jobs["meta"].tolist(),
            jobs["job_version"].tolist(),
        ):
            job_info[(cl, ns, jid)] = (meta or {}, int(jv))
    nomad_tags: dict[tuple[str, str, str], list] = {}
    nomad_rows: list[tuple] = []
    nsv = frames.nomad_services
    if len(nsv):
        for cl, ns, client, svc, tags in zip(
            nsv["cluster"].tolist(),
            nsv["namespace"].tolist(),
            nsv["client"].tolist(),
            nsv["service"].tolist(),
            nsv["tags"].tolist(),
        ):
            nomad_tags[(cl, ns, svc)] = tags or []
            nomad_rows.append((cl, ns, client, svc, tags or []))

    # Consul instances as (cluster, service, client, alloc_id, node, datacenter, meta, tags) tuples.
    svc_rows: list[tuple] = []
    if len(services):
        svc_rows = list(
            zip(
                *(
                    services[c].tolist()
                    for c in ("cluster", "service", "client", "alloc_id", "node", "datacenter", "meta", "tags")
                )
            )
        )
    by_alloc: dict[str, list[tuple]] = defaultdict(list)
    for r in svc_rows:
        if r[3]:
            by_alloc[r[3]].append(r)
    job_meta_cache: dict[tuple[str, str, str, int], str] = {}
    image_cache: dict[tuple[str, str, str, str, int], str] = {}

    def job_version(cl: str, ns: str, jid: str, alloc_jv: int) -> str:
        key = (cl, ns, jid, alloc_jv)
        v = job_meta_cache.get(key)
        if v is None:
            meta, jv = job_info.get((cl, ns, jid), ({}, -1))
            # the job's meta describes its newest version: not an allocation still on an older one
            stale = jv >= 0 and alloc_jv >= 0 and jv != alloc_jv
            v = job_meta_cache[key] = UNKNOWN if stale else version_from_meta(meta, meta_keys)
        return v

    def image_version(cl: str, ns: str, jid: str, group: str, alloc_jv: int) -> str:
        key = (cl, ns, jid, group, alloc_jv)
        v = image_cache.get(key)
        if v is None:
            spec = specs.get((cl, ns, jid), specs.get((ns, jid)))
            v = UNKNOWN
            if isinstance(spec, Mapping):
                spec_v = spec.get("Version")
                if not (isinstance(spec_v, int) and alloc_jv >= 0 and spec_v != alloc_jv):
                    v = version_from_image(images_of_job(spec).get(group, ""))
            image_cache[key] = v
        return v

    def resolve(svc: tuple | None, cl: str, ns: str, name: str, jid: str, group: str, alloc_jv: int) -> tuple[str, str]:
        for src in sources:
            if src == "consul_meta":
                v = version_from_meta(svc[6], meta_keys) if svc else UNKNOWN
            elif src == "tag":
                v = version_from_tags(svc[7]) if svc else UNKNOWN
            elif src == "nomad_tags":
                v = version_from_tags(nomad_tags.get((cl, ns, name))) if ns else UNKNOWN
            elif src == "job_meta":
                v = job_version(cl, ns, jid, alloc_jv) if jid else UNKNOWN
            else:  # image
                v = image_version(cl, ns, jid, group, alloc_jv) if jid else UNKNOWN
            if v:
                return v, src
        return UNKNOWN, ""

    cols: dict[str, list] = {c: [] for c in INSTANCE_COLUMNS}
    since: list[int] = []

    def add(cl, client, svc, version, src, ns, jid, group, aid, node, dc, t) -> None:
        for c, v in zip(INSTANCE_COLUMNS[:-1], (cl, client, svc, version, src, ns, jid, group, aid, node, dc)):
            cols[c].append(v)
        since.append(t)

    covered: set[tuple[str, str, str]] = set()  # (cluster, namespace, service) seen through an allocation
    known_allocs: set[str] = set()
    if len(allocs):
        known_allocs = set(allocs["alloc_id"].tolist())
        live = allocs[(allocs["client_status"] == "running") & (allocs["desired_status"] == "run")]
        names = ("cluster", "client", "namespace", "job_id", "task_group", "alloc_id", "node_name", "datacenter")
        created = live["create_time"].array.asi8.tolist()
        for (cl, client, ns, jid, group, aid, node, dc), jv, t in zip(
            zip(*(live[c].tolist() for c in names)), live["job_version"].tolist(), created
        ):
            for s in by_alloc.get(aid) or (None,):
                name = s[1] if s else group
                version, src = resolve(s, cl, ns, name, jid, group, jv)
                covered.add((cl, ns, name))
                add(cl, client, name, version, src, ns, jid, group, aid, node, dc, t)
    for s in svc_rows:
        # Running allocations' instances are above; a stopped allocation's leftover registration says nothing.
        if (s[3] and s[3] in known_allocs) or not s[2]:
            continue
        version, src = resolve(s, s[0], "", s[1], "", "", -1)
        add(s[0], s[2], s[1], version, src, "", "", "", s[3], s[4], s[5], _NAT)
    if "nomad_tags" in sources:
        for cl, ns, client, svc, tags in nomad_rows:
            if (cl, ns, svc) in covered or not client:
                continue
            version = version_from_tags(tags)
            add(cl, client, svc, version, "nomad_tags" if version else "", ns, "", "", "", "", "", _NAT)
    if not since:
        return _empty(INSTANCE_COLUMNS)
    data = {c: np.array(cols[c], dtype=object) for c in INSTANCE_COLUMNS[:-1]}
    data["since"] = pd.DatetimeIndex(np.array(since, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")
    return pd.DataFrame(data)


# ---------------------------------------------------------------- roll-ups


def build_matrix(instances: pd.DataFrame) -> pd.DataFrame:
    """One row per (cluster, client, service): versions newest first, newest in the fleet, behind, mixed.

    ``behind``: the client's newest version of the service is older than the fleet's newest.
    ``mixed``: two or more versions run at once; ``mixed_since`` is when the latest of them
    started running (its first allocation's create time) while the others still ran.
    """
    if not len(instances):
        return _empty(MATRIX_COLUMNS)
    # Plain dicts over the columns: one pass, no per-group pandas work (thousands of clients).
    groups: dict[tuple[str, str, str], list] = {}
    by_service: dict[str, set[str]] = defaultdict(set)
    since_ns = instances["since"].array.asi8 if len(instances) else []
    for cl, client, svc, version, src, t in zip(
        instances["cluster"].tolist(),
        instances["client"].tolist(),
        instances["service"].tolist(),
        instances["version"].tolist(),
        instances["source"].tolist(),
        since_ns,
    ):
        g = groups.get((cl, client, svc))
        if g is None:
            g = groups[(cl, client, svc)] = [{}, 0, 0, set()]  # version -> first seen ns, instances, unknown, sources
        g[1] += 1
        if src:
            g[3].add(src)
        if version == UNKNOWN:
            g[2] += 1
            continue
        by_service[svc].add(version)
        seen = g[0].get(version)
        if seen is None or (t != _NAT and (seen == _NAT or t < seen)):
            g[0][version] = t  # the first allocation running this version
    newest = {svc: newest_of(vs) for svc, vs in by_service.items()}
    rows = []
    for (cl, client, svc), (first_seen, n, unknown, srcs) in sorted(groups.items()):
        versions = sort_versions(first_seen)
        mixed = len(versions) > 1
        known_times = [t for t in first_seen.values() if t != _NAT]
        since = pd.Timestamp(max(known_times), tz="UTC") if mixed and known_times else pd.NaT
        top = newest.get(svc, UNKNOWN)
        rows.append(
            {
                "cluster": cl,
                "client": client,
                "service": svc,
                "versions": versions,
                "instances": n,
                "unknown": unknown,
                "newest": top,
                "behind": bool(top and versions and version_key(versions[0]) < version_key(top)),
                "mixed": mixed,
                "mixed_since": since,
                "sources": sorted(srcs),
            }
        )
    return _rows_frame(rows, MATRIX_COLUMNS)


def build_counts(instances: pd.DataFrame) -> pd.DataFrame:
    """Per service and version across the fleet: clients running it and instances; newest first."""
    if not len(instances):
        return _empty(COUNT_COLUMNS)
    per: dict[str, dict[str, list]] = defaultdict(dict)  # service -> version -> [clients set, instances]
    for cl, client, svc, version in zip(
        instances["cluster"].tolist(),
        instances["client"].tolist(),
        instances["service"].tolist(),
        instances["version"].tolist(),
    ):
        c = per[svc].get(version)
        if c is None:
            c = per[svc][version] = [set(), 0]
        c[0].add((cl, client))
        c[1] += 1
    rows = []
    for svc in sorted(per):
        vs = per[svc]
        top = newest_of(vs)
        order = sort_versions(vs) + ([UNKNOWN] if UNKNOWN in vs else [])
        for version in order:
            rows.append(
                {
                    "service": svc,
                    "version": version,
                    "clients": len(vs[version][0]),
                    "instances": vs[version][1],
                    "newest": top,
                }
            )
    return _rows_frame(rows, COUNT_COLUMNS)


def version_label(versions: Sequence[str]) -> str:
    return " + ".join(versions) if versions else "unknown"


def client_versions(matrix: pd.DataFrame, client: str, cluster: str | None = None) -> list[tuple[str, str]]:
    """[(service, "1.4.2" or "1.4.1 + 1.4.2")] for one client, services in name order."""
    if not len(matrix):
        return []
    m = matrix[matrix["client"] == client]
    if cluster is not None:
        m = m[m["cluster"] == cluster]
    return [(s, version_label(v)) for s, v in zip(m["service"].tolist(), m["versions"].tolist())]


def behind_reasons(matrix: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(cluster, client) -> 'behind: web 1.2.0 (newest 1.4.0), api 2.0.1 (newest 2.1.0)' for clients behind."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    if len(matrix):
        m = matrix[matrix["behind"]]
        for cl, client, svc, versions, top in zip(
            m["cluster"].tolist(), m["client"].tolist(), m["service"].tolist(), m["versions"].tolist(), m["newest"]
        ):
            out[(cl, client)].append(f"{svc} {versions[0]} (newest {top})")
    return {k: "behind: " + ", ".join(v) for k, v in out.items()}
