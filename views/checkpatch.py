"""Consul's checks changed, its catalog did not: the checks and services frames patched, not rebuilt.

Following Consul (``snapshot.consul_follow``), each answer is the last full read's check dicts with
the few that are not passing in front, freshly parsed; so a check kept from the last build is the
same object, and only the others are parsed again. What a full build would give for the new list:

* ``checks``: the old rows of the checks still there, in the new list's order, and the new ones
  built by ``views.checks.build_checks`` (their client from the services frame, as a build finds it);
* ``services``: the roll-up columns (health, counts, failing checks, output) again for the service
  instances whose own or node checks are among those that came or went (``check_rollup``);
* which clients' assessment can move: those whose checks that are not passing (the only checks
  ``views.clients.client_rows`` reads) differ, by ``signature``.

Pure functions; ``views.incremental`` keeps the state and decides when this applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from . import checks as checks_mod
from .services import check_rollup

# Above this share of checks that are new objects, the frames are built again from scratch.
MAX_FRESH_SHARE = 0.2
ROLLUP = (
    "health",
    "checks_total",
    "checks_passing",
    "checks_warning",
    "checks_critical",
    "failing_checks",
    "check_output",
)


def signature(checks: pd.DataFrame) -> tuple[dict, frozenset]:
    """What client assessment reads of the checks: per client, its service checks that are not
    passing (name, service, status, in order); the node checks that are not passing."""
    per_client: dict[str, list] = {}
    node_checks = set()
    if len(checks):
        live = checks[checks["status"].to_numpy() != "passing"]
        for c, name, svc, st, nd, sid in zip(
            live["client"].tolist(),
            live["name"].tolist(),
            live["service"].tolist(),
            live["status"].tolist(),
            live["node"].tolist(),
            live["service_id"].tolist(),
        ):
            if not sid:
                node_checks.add((nd, name, st))
            elif c:
                per_client.setdefault(c, []).append((name, svc, st))
    return {c: tuple(v) for c, v in per_client.items()}, frozenset(node_checks)


def touched_clients(old_sig: tuple[dict, frozenset], new_sig: tuple[dict, frozenset], services: pd.DataFrame) -> set:
    """The clients whose assessment the change of signature can move."""
    (old_c, old_n), (new_c, new_n) = old_sig, new_sig
    out = {c for c in old_c.keys() | new_c.keys() if old_c.get(c) != new_c.get(c)}
    nodes = {n[0] for n in old_n ^ new_n}
    if nodes and len(services):
        out |= set(services["client"].to_numpy()[services["node"].isin(nodes).to_numpy()].tolist())
    out.discard("")
    return out


def patch(
    old_list: Any,
    new_list: Any,
    old_checks: pd.DataFrame,
    services: pd.DataFrame,
    alloc_client: Mapping[str, str],
    cluster: str,
) -> tuple[pd.DataFrame, pd.DataFrame, set] | None:
    """(checks, services, allocation IDs the new check rows name) for ``new_list``, from the last
    build's ``old_list`` and frames; None when a full build is needed (not lists of dicts, the old
    frame not one row per item, too many new objects)."""
    if not isinstance(old_list, list) or not isinstance(new_list, list) or not new_list:
        return None
    if len(old_checks) != len(old_list):
        return None  # the old list held something that is not a check: rows are not items
    # Identity is only meaningful while the old list holds its items (it does: the caller keeps it).
    where = dict(zip(map(id, old_list), range(len(old_list))))  # C loops: ~10 ms at 100,000
    pos = np.fromiter(map(where.get, map(id, new_list), repeat(-1)), dtype=np.int64, count=len(new_list))
    fresh_at = np.flatnonzero(pos < 0)
    if len(fresh_at) > max(16, MAX_FRESH_SHARE * len(new_list)):
        return None
    fresh = [new_list[i] for i in fresh_at.tolist()]
    if not all(isinstance(c, dict) for c in fresh):
        return None
    gone = np.ones(len(old_list), dtype=bool)
    gone[pos[pos >= 0]] = False
    if not len(fresh) and not gone.any():
        if np.array_equal(pos, np.arange(len(old_list))):
            return old_checks, services, set()
        return old_checks.take(pos).reset_index(drop=True), services, set()

    built = checks_mod.build_checks(fresh, cluster=cluster)
    if len(built):
        sub = services[services["service_id"].isin(set(built["service_id"].tolist())).to_numpy()]
        checks_mod.fill_check_clients(built, sub, alloc_client)
    perm = pos.copy()
    perm[fresh_at] = len(old_checks) + np.arange(len(fresh_at))
    both = pd.concat([old_checks, built], ignore_index=True) if len(built) else old_checks
    checks = both.take(perm).reset_index(drop=True)

    # Service instances whose checks came or went: (node, service ID), or every one on a node
    # whose node check came or went.
    moved = pd.concat([built, old_checks[gone]], ignore_index=True) if gone.any() else built
    if not len(services) or not len(moved):
        return checks, services, set(built["alloc_id"].tolist()) - {""}
    m_sid, m_node = moved["service_id"].to_numpy(), moved["node"].to_numpy()
    pairs = set(zip(m_node[m_sid != ""].tolist(), m_sid[m_sid != ""].tolist()))
    nodes = set(m_node[m_sid == ""].tolist())
    s_sid, s_node = services["service_id"].to_numpy(), services["node"].to_numpy()
    cand = np.flatnonzero(services["service_id"].isin({p[1] for p in pairs}).to_numpy())
    hit = [i for i in cand.tolist() if (s_node[i], s_sid[i]) in pairs]
    if nodes:
        hit = sorted(set(hit) | set(np.flatnonzero(services["node"].isin(nodes).to_numpy()).tolist()))
    if hit:
        at = np.asarray(hit, dtype=np.int64)
        h_node, h_sid = s_node[at].tolist(), s_sid[at].tolist()
        c_sid = checks["service_id"].to_numpy()
        mine = checks["service_id"].isin(set(h_sid)).to_numpy() | (
            (c_sid == "") & checks["node"].isin(set(h_node)).to_numpy()
        )
        rolled = check_rollup(h_node, h_sid, checks[mine])
        services = services.copy(deep=False)
        for name, values in zip(ROLLUP, rolled):
            column = services[name].to_numpy().copy()
            column[at] = values
            services[name] = column
    return checks, services, set(built["alloc_id"].tolist()) - {""}
