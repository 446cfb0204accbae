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

import pandas as pd

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
    job_specs: Mapping[tuple[str, str], Any] | None = None,
) -> pd.DataFrame:
    """One row per version instance (columns ``INSTANCE_COLUMNS``), version '' when no source has one.

    ``frames`` is a ``views.Frames`` (allocations, services, jobs, nomad_services, nodes are read).
    ``job_specs`` maps (namespace, job_id) to a full job (GET /v1/job/:id) for the ``image`` source.
    """
    sources = check_sources(sources)
    specs = job_specs or {}
    allocs = frames.allocations
    services = frames.services
    jobs = frames.jobs
    job_info: dict[tuple[str, str], tuple[dict, int]] = {}
    if len(jobs):
        for ns, jid, meta, jv in zip(
            jobs["namespace"].tolist(), jobs["job_id"].tolist(), jobs["meta"].tolist(), jobs["job_version"].tolist()
        ):
            job_info[(ns, jid)] = (meta or {}, int(jv))
    nomad_tags: dict[tuple[str, str], list] = {}
    nomad_rows: list[tuple[str, str, str, list]] = []
    ns_frame = frames.nomad_services
    if len(ns_frame):
        for cl, ns, client, svc, tags in zip(
            ns_frame["cluster"].tolist(),
            ns_frame["namespace"].tolist(),
            ns_frame["client"].tolist(),
            ns_frame["service"].tolist(),
            ns_frame["tags"].tolist(),
        ):
            nomad_tags[(ns, svc)] = tags or []
            nomad_rows.append((cl, ns, client, svc, tags or []))

    by_alloc: dict[str, list[dict]] = defaultdict(list)
    svc_records = services.to_dict("records") if len(services) else []
    for s in svc_records:
        if s["alloc_id"]:
            by_alloc[s["alloc_id"]].append(s)

    def job_version(ns: str, jid: str, alloc_jv: int) -> str:
        meta, jv = job_info.get((ns, jid), ({}, -1))
        if jv >= 0 and alloc_jv >= 0 and jv != alloc_jv:
            return UNKNOWN  # the job's meta describes a newer (or older) job version than this alloc runs
        return version_from_meta(meta, meta_keys)

    def image_version(ns: str, jid: str, group: str, alloc_jv: int) -> str:
        spec = specs.get((ns, jid))
        if not isinstance(spec, Mapping):
            return UNKNOWN
        spec_v = spec.get("Version")
        if isinstance(spec_v, int) and alloc_jv >= 0 and spec_v != alloc_jv:
            return UNKNOWN
        return version_from_image(images_of_job(spec).get(group, ""))

    def resolve(svc: dict | None, ns: str, name: str, jid: str, group: str, alloc_jv: int) -> tuple[str, str]:
        for src in sources:
            if src == "consul_meta":
                v = version_from_meta(svc["meta"], meta_keys) if svc else UNKNOWN
            elif src == "tag":
                v = version_from_tags(svc["tags"]) if svc else UNKNOWN
            elif src == "nomad_tags":
                v = version_from_tags(nomad_tags.get((ns, name))) if ns else UNKNOWN
            elif src == "job_meta":
                v = job_version(ns, jid, alloc_jv) if jid else UNKNOWN
            else:  # image
                v = image_version(ns, jid, group, alloc_jv) if jid else UNKNOWN
            if v:
                return v, src
        return UNKNOWN, ""

    rows: list[dict] = []
    covered: set[tuple[str, str]] = set()  # (namespace, service) seen through an allocation
    running_ids: set[str] = set()
    if len(allocs):
        live = allocs[(allocs["client_status"] == "running") & (allocs["desired_status"] == "run")]
        cols = ("cluster", "client", "namespace", "job_id", "task_group", "alloc_id", "node_name", "datacenter")
        created = list(live["create_time"])
        for i, vals in enumerate(zip(*(live[c].tolist() for c in cols), live["job_version"].tolist())):
            a = dict(zip(cols, vals))
            a["job_version"], a["create_time"] = vals[-1], created[i]
            running_ids.add(a["alloc_id"])
            regs = by_alloc.get(a["alloc_id"]) or [None]
            for s in regs:
                name = s["service"] if s else a["task_group"]
                version, src = resolve(s, a["namespace"], name, a["job_id"], a["task_group"], int(a["job_version"]))
                covered.add((a["namespace"], name))
                rows.append(
                    {
                        "cluster": a["cluster"],
                        "client": a["client"],
                        "service": name,
                        "version": version,
                        "source": src,
                        "namespace": a["namespace"],
                        "job_id": a["job_id"],
                        "task_group": a["task_group"],
                        "alloc_id": a["alloc_id"],
                        "node": a["node_name"],
                        "datacenter": a["datacenter"],
                        "since": a["create_time"],
                    }
                )
    known_allocs = set(allocs["alloc_id"].tolist()) if len(allocs) else set()
    for s in svc_records:
        aid = s["alloc_id"]
        if aid and aid in known_allocs:
            continue  # running ones are above; a stopped allocation's leftover registration says nothing
        if not s["client"]:
            continue
        version, src = resolve(s, "", s["service"], "", "", -1)
        rows.append(
            {
                "cluster": s["cluster"],
                "client": s["client"],
                "service": s["service"],
                "version": version,
                "source": src,
                "namespace": "",
                "job_id": "",
                "task_group": "",
                "alloc_id": aid,
                "node": s["node"],
                "datacenter": s["datacenter"],
                "since": pd.NaT,
            }
        )
    for cl, ns, client, svc, tags in nomad_rows:
        if (ns, svc) in covered or not client or "nomad_tags" not in sources:
            continue
        version = version_from_tags(tags)
        rows.append(
            {
                "cluster": cl,
                "client": client,
                "service": svc,
                "version": version,
                "source": "nomad_tags" if version else "",
                "namespace": ns,
                "job_id": "",
                "task_group": "",
                "alloc_id": "",
                "node": "",
                "datacenter": "",
                "since": pd.NaT,
            }
        )
    return _rows_frame(rows, INSTANCE_COLUMNS)


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


_NAT = pd.NaT.value


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
