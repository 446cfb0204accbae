"""Services: Consul catalog entries (/v1/catalog/service/:name, with their checks rolled up) -> the
``services`` frame; Nomad's own service registrations (/v1/services) -> ``nomad_services``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from . import columns as col
from .identity import ClientIdentity
from .schema import empty
from .status import CHECK_RANK


def _tag_lists(values: Iterable[Any]) -> list[list]:
    """Each row's tags as a list, one list per distinct set of string tags (frames are read-only;
    62,000 instances at 100,000 allocations carry a few hundred distinct ones)."""
    memo: dict[tuple, list] = {}
    out = []
    for v in values:
        tags = col.list_of(v)
        if tags and all(t.__class__ is str for t in tags):
            tags = memo.setdefault(tuple(tags), tags)
        out.append(tags)
    return out


def parse_nomad_service_alloc(service_id: str) -> str:
    """Alloc ID from Nomad's Consul service ID ``_nomad-task-<alloc-uuid>-...`` ('' otherwise)."""
    if service_id and service_id.startswith("_nomad-task-") and len(service_id) >= 48:
        cand = service_id[12:48]
        if cand[8] == "-" and cand[13] == "-" and cand[18] == "-" and cand[23] == "-":
            return cand
    return ""


def build_services(
    consul_services: Any,
    checks: pd.DataFrame,
    *,
    cluster: str,
    identity: ClientIdentity,
    alloc_client: Mapping[str, str],
) -> pd.DataFrame:
    entries: list[dict] = []
    if isinstance(consul_services, Mapping):
        for name, lst in consul_services.items():
            for e in col.records(lst):
                if not e.get("ServiceName"):
                    e = {**e, "ServiceName": name}
                entries.append(e)
    elif isinstance(consul_services, list):  # tolerate a flat list of catalog entries
        entries = col.records(consul_services)
    if not entries:
        return empty("services")
    n = len(entries)
    metas = [m if (m := e.get("ServiceMeta")).__class__ is dict else {} for e in entries]
    sids = [e.get("ServiceID") or "" for e in entries]
    nodes = [e.get("Node") or "" for e in entries]
    alloc_ids = [parse_nomad_service_alloc(s) or col.text(m.get("alloc_id")) for s, m in zip(sids, metas)]
    clients = instance_clients(metas, alloc_ids, identity=identity, alloc_client=alloc_client)

    health, tot, npass, nwarn, ncrit, failing, outputs = check_rollup(nodes, sids, checks)
    return col.frame(
        "services",
        {
            "cluster": [cluster] * n,
            "service": [e.get("ServiceName") or "" for e in entries],
            "service_id": sids,
            "client": clients,
            "version": [col.text(m.get("version")) for m in metas],
            "node": nodes,
            "datacenter": [e.get("Datacenter") or "" for e in entries],
            "address": [e.get("ServiceAddress") or e.get("Address") or "" for e in entries],
            "port": [e.get("ServicePort") or 0 for e in entries],
            "tags": col.objs(_tag_lists(e.get("ServiceTags") for e in entries)),
            "meta": col.objs(metas),
            "alloc_id": alloc_ids,
            "health": health,
            "checks_total": tot,
            "checks_passing": npass,
            "checks_warning": nwarn,
            "checks_critical": ncrit,
            "failing_checks": failing,
            "check_output": outputs,
        },
    )


def instance_clients(
    metas: list[dict], alloc_ids: list[str], *, identity: ClientIdentity, alloc_client: Mapping[str, str]
) -> list[str]:
    """Each service instance's client: its Meta's, else its allocation's (``views.checkpatch`` asks
    again for the instances of an allocation the Nomad lists did not have yet)."""
    meta_key = identity.key if identity.kind == "meta" else "client"
    clients = []
    for m, aid in zip(metas, alloc_ids):
        c = m.get(meta_key) or m.get("client")
        if not c and aid:
            c = alloc_client.get(aid, "")
        clients.append(col.text(c))
    return clients


def check_rollup(nodes: list[str], sids: list[str], checks: pd.DataFrame) -> tuple[list, ...]:
    """Per service instance (its node and service ID): health, checks_total, checks_passing,
    checks_warning, checks_critical, failing_checks, check_output from its own checks and its
    node's (node checks count for every service on the node), in ``checks``' order. Rows of
    ``checks`` for other instances and nodes change nothing (``views.checkpatch`` passes a few)."""
    by_svc: dict[tuple[str, str], list] = defaultdict(list)
    by_node: dict[str, list] = defaultdict(list)
    if len(checks):
        for node, sid, name, st, out in zip(
            checks["node"].tolist(),
            checks["service_id"].tolist(),
            checks["name"].tolist(),
            checks["status"].tolist(),
            checks["output"].tolist(),
        ):
            (by_svc[(node, sid)] if sid else by_node[node]).append((CHECK_RANK.get(st, 1), st, name, out))
    health, tot, npass, nwarn, ncrit, failing, outputs = [], [], [], [], [], [], []
    for node, sid in zip(nodes, sids):
        cs = by_svc.get((node, sid))
        if by_node:
            nc = by_node.get(node)
            if nc:
                cs = (cs or []) + nc
        if not cs:
            health.append("passing")
            tot.append(0)
            npass.append(0)
            nwarn.append(0)
            ncrit.append(0)
            failing.append("")
            outputs.append("")
            continue
        if len(cs) == 1:
            w = cs[0]
            p = 1 if w[1] == "passing" else 0
            cr = 1 if w[1] == "critical" else 0
            fl = "" if p else w[2]
        else:
            w = min(cs)
            p = sum(1 for c in cs if c[1] == "passing")
            cr = sum(1 for c in cs if c[1] == "critical")
            fl = ", ".join(c[2] for c in cs if c[1] != "passing")
        health.append(w[1] if w[1] in CHECK_RANK else "warning")
        tot.append(len(cs))
        npass.append(p)
        ncrit.append(cr)
        nwarn.append(len(cs) - p - cr)
        failing.append(fl)
        outputs.append(w[3])
    return health, tot, npass, nwarn, ncrit, failing, outputs


def build_nomad_services(raw: Any, *, cluster: str, identity: ClientIdentity) -> pd.DataFrame:
    rows = []
    for block in col.records(raw):
        ns = col.text(block.get("Namespace"))
        for s in block.get("Services") or ():
            if isinstance(s, dict):
                rows.append((ns, col.text(s.get("ServiceName")), col.list_of(s.get("Tags"))))
    if not rows:
        return empty("nomad_services")
    return col.frame(
        "nomad_services",
        {
            "cluster": [cluster] * len(rows),
            "namespace": [r[0] for r in rows],
            "client": [identity.of_namespace(r[0]) for r in rows],
            "service": [r[1] for r in rows],
            "tags": col.objs([r[2] for r in rows]),
        },
    )
