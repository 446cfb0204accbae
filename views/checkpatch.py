"""Consul's checks changed, its catalog did not: the checks and services frames patched, not rebuilt.

Following Consul (``snapshot.consul_follow``), each answer is the last full read's check dicts with
the few that are not passing in front, freshly parsed; so a check kept from the last build is the
same object, and only the others are parsed again. What a full build would give for the new list:

* ``checks``: the old rows of the checks still there, in the new list's order, and the new ones
  built by ``views.checks.build_checks`` (their client from the services frame, as a build finds it);
* ``services``: the roll-up columns (health, counts, failing checks, output) again for the service
  instances whose own or node checks are among those that came or went (``check_rollup``);
* which clients' assessment can move: those whose checks that are not passing (the only checks
  ``views.clients.client_rows`` reads) differ, by ``signature``;
* an allocation new in Nomad's list that Consul already named (a full read of Consul can be
  ahead of the event stream): its rows take their client again (``reclient``), the rest stands.

Pure functions; ``views.incremental`` keeps the state and decides when this applies.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from . import checks as checks_mod
from . import columns as col
from . import rowpatch
from . import services as services_mod
from .identity import ClientIdentity
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


def _take(frame: pd.DataFrame, perm: np.ndarray) -> pd.DataFrame:
    """``frame``'s rows in the order ``perm`` gives (column by column: a third of DataFrame.take)."""
    if all(isinstance(d, np.dtype) for d in frame.dtypes):
        return pd.DataFrame({c: frame[c].to_numpy().take(perm) for c in frame.columns}, copy=False)
    return frame.take(perm).reset_index(drop=True)


def _by_identity(old: list, new: list, old_frame: pd.DataFrame, build: Callable[[list], pd.DataFrame]) -> Any:
    """``new``'s frame from ``old``'s (one row per item): the rows of items still there (the same
    objects) reused, the others built by ``build``. (frame, positions of built rows in it, old rows
    gone, built rows); None when too many items are new or one is not a dict."""
    if len(old_frame) != len(old):
        return None  # the old list held something that is not an item: rows are not items
    # Identity is only meaningful while the old list holds its items (it does: the caller keeps it).
    where = dict(zip(map(id, old), range(len(old))))  # C loops: ~10 ms at 100,000
    pos = np.fromiter(map(where.get, map(id, new), repeat(-1)), dtype=np.int64, count=len(new))
    # A full read again (every item another object, most of them equal): an item equal to the old
    # one at its position keeps that row too, compared in C (rebuilding both frames took 60% of a
    # refresh's build at 10,000 allocations; the comparison ~5 ms).
    other = np.flatnonzero(pos[: len(old)] < 0)
    if len(other):
        same = np.fromiter(
            map(operator.eq, map(old.__getitem__, other.tolist()), map(new.__getitem__, other.tolist())),
            dtype=bool,
            count=len(other),
        )
        pos[other[same]] = other[same]
    fresh_at = np.flatnonzero(pos < 0)
    if len(fresh_at) > max(16, MAX_FRESH_SHARE * len(new)):
        return None
    fresh = [new[i] for i in fresh_at.tolist()]
    if not all(isinstance(x, dict) for x in fresh):
        return None
    gone = np.ones(len(old), dtype=bool)
    gone[pos[pos >= 0]] = False
    built = build(fresh) if fresh else old_frame.iloc[:0]
    if not fresh and not gone.any() and np.array_equal(pos, np.arange(len(old))):
        return old_frame, fresh_at, old_frame.iloc[:0], built
    if len(old_frame) and (not fresh or rowpatch.same_columns(old_frame, built)):
        # Column by column: the kept rows taken, the built ones set in (no concatenation first).
        kept = np.where(pos < 0, 0, pos)
        arrays = {}
        for c in old_frame.columns:
            out = rowpatch.array_of(old_frame[c]).take(kept)
            if fresh:
                out[fresh_at] = rowpatch.array_of(built[c])
            arrays[c] = out
        return rowpatch.from_arrays(old_frame.columns, arrays), fresh_at, old_frame[gone], built
    pos[fresh_at] = len(old_frame) + np.arange(len(fresh_at))
    both = pd.concat([old_frame, built], ignore_index=True) if fresh else old_frame
    return _take(both, pos), fresh_at, old_frame[gone], built


def _entries(raw: Any) -> list | None:
    """The catalog entries in the order ``build_services`` reads them (None: not a name -> list map)."""
    if not isinstance(raw, Mapping) or not all(isinstance(v, list) for v in raw.values()):
        return None
    return [e for lst in raw.values() for e in lst]


def _at(frame: pd.DataFrame, pairs: set, nodes: set | frozenset = frozenset()) -> np.ndarray:
    """Rows of a checks or services frame for these (node, service ID) pairs, or on these nodes."""
    if not len(frame) or not (pairs or nodes):
        return np.empty(0, dtype=np.int64)
    sid, node = frame["service_id"].to_numpy(), frame["node"].to_numpy()
    cand = np.flatnonzero(frame["service_id"].isin({p[1] for p in pairs}).to_numpy())
    hit = {i for i in cand.tolist() if (node[i], sid[i]) in pairs}
    if nodes:
        hit |= set(np.flatnonzero(frame["node"].isin(nodes).to_numpy()).tolist())
    return np.asarray(sorted(hit), dtype=np.int64)


def _pairs(frame: pd.DataFrame) -> tuple[set, set]:
    """(node, service ID) of a frame's service rows; nodes of its node checks (no service ID)."""
    sid, node = frame["service_id"].to_numpy(), frame["node"].to_numpy()
    return set(zip(node[sid != ""].tolist(), sid[sid != ""].tolist())), set(node[sid == ""].tolist())


def patch(
    old_raw: Mapping[str, Any],
    raw: Mapping[str, Any],
    old_checks: pd.DataFrame,
    old_services: pd.DataFrame,
    *,
    alloc_client: Mapping[str, str],
    cluster: str,
    identity: ClientIdentity,
) -> tuple[pd.DataFrame, pd.DataFrame, set, set] | None:
    """(checks, services, allocation IDs their new rows name, clients whose services came or went)
    for ``raw``'s consul_checks and consul_services, from the last build's (``old_raw``) and frames;
    None when a full build is needed (not the shapes a build reads, too many new objects)."""
    o_chk, n_chk = old_raw.get("consul_checks"), raw.get("consul_checks")
    o_svc, n_svc = _entries(old_raw.get("consul_services")), _entries(raw.get("consul_services"))
    if not isinstance(o_chk, list) or not isinstance(n_chk, list) or not n_chk or o_svc is None or not n_svc:
        return None
    if n_chk is o_chk:
        checks, chk_at, chk_moved = old_checks, np.empty(0, dtype=np.int64), old_checks.iloc[:0]
    else:
        got = _by_identity(o_chk, n_chk, old_checks, lambda items: checks_mod.build_checks(items, cluster=cluster))
        if got is None:
            return None
        checks, chk_at, chk_gone, chk_built = got
        chk_moved = pd.concat([chk_built, chk_gone], ignore_index=True)
    chk_pairs, chk_nodes = _pairs(chk_moved)

    def build_services(items: list) -> pd.DataFrame:
        named = [e if e.get("ServiceName") else None for e in items]
        if None in named:
            return pd.DataFrame()  # build_services names them by their key: not patched
        pairs = {(col.text(e.get("Node")), col.text(e.get("ServiceID"))) for e in items}
        sub = checks.iloc[_at(checks, pairs, {p[0] for p in pairs})]
        return services_mod.build_services(items, sub, cluster=cluster, identity=identity, alloc_client=alloc_client)

    if raw.get("consul_services") is old_raw.get("consul_services"):
        services, svc_moved = old_services, old_services.iloc[:0]
    else:
        got = _by_identity(o_svc, n_svc, old_services, build_services)
        if got is None or len(got[3]) != len(got[1]):
            return None
        services, _, svc_gone, svc_built = got
        svc_moved = pd.concat([svc_built, svc_gone], ignore_index=True)
    svc_pairs, _ = _pairs(svc_moved)
    # Check rows whose client may move: the new ones, and those of service instances that came or went.
    again = np.union1d(chk_at, _at(checks, svc_pairs))
    if len(again):
        sub = checks.iloc[again].reset_index(drop=True)
        sub_svc = services.iloc[_at(services, _pairs(sub)[0])]
        checks_mod.fill_check_clients(sub, sub_svc, alloc_client)
        checks = checks.copy(deep=False)
        column = checks["client"].to_numpy().copy()
        column[again] = sub["client"].to_numpy()
        checks["client"] = column
    # Service instances whose checks came or went (or whose node's did): their roll-up again.
    hit = _at(services, chk_pairs, chk_nodes)
    if len(hit):
        h_node, h_sid = services["node"].to_numpy()[hit].tolist(), services["service_id"].to_numpy()[hit].tolist()
        rolled = check_rollup(h_node, h_sid, checks.iloc[_at(checks, set(zip(h_node, h_sid)), set(h_node))])
        services = services.copy(deep=False)
        for name, values in zip(ROLLUP, rolled):
            column = services[name].to_numpy().copy()
            column[hit] = values
            services[name] = column
    named = set(chk_moved["alloc_id"].tolist()) | set(svc_moved["alloc_id"].tolist())
    return checks, services, named - {""}, set(svc_moved["client"].tolist()) - {""}


def _set_column(frame: pd.DataFrame, name: str, at: np.ndarray, values: list) -> tuple[pd.DataFrame, set]:
    """``frame`` with ``name`` at rows ``at`` set to ``values`` (a new frame when any differs), and
    the old and new values of the rows that differ."""
    old = frame[name].to_numpy()
    new = np.empty(len(values), dtype=object)
    new[:] = values
    diff = old[at] != new
    if not diff.any():
        return frame, set()
    moved = set(old[at][diff].tolist()) | set(new[diff].tolist())
    column = old.copy()
    column[at] = new
    frame = frame.copy(deep=False)
    frame[name] = column
    return frame, moved


def reclient(
    checks: pd.DataFrame,
    services: pd.DataFrame,
    allocs: set,
    *,
    alloc_client: Mapping[str, str],
    identity: ClientIdentity,
) -> tuple[pd.DataFrame, pd.DataFrame, set]:
    """(checks, services, clients whose rows moved) with the client found again for the rows naming
    ``allocs``: allocations new in Nomad's list whose instances Consul already listed at the last
    build (a full read of Consul can be ahead of the event stream), so their rows could not take
    the allocation's client then. What a full build gives; rebuilding both frames instead costs
    seconds at 100,000 allocations."""
    moved: set = set()
    pairs: set = set()  # the instances of those rows: their checks take the instance's client
    if len(services):
        at = np.flatnonzero(services["alloc_id"].isin(allocs).to_numpy())
        if len(at):
            pairs = _pairs(services.iloc[at])[0]
            clients = services_mod.instance_clients(
                services["meta"].to_numpy()[at].tolist(),
                services["alloc_id"].to_numpy()[at].tolist(),
                identity=identity,
                alloc_client=alloc_client,
            )
            services, moved = _set_column(services, "client", at, clients)
    if len(checks):
        at = np.union1d(np.flatnonzero(checks["alloc_id"].isin(allocs).to_numpy()), _at(checks, pairs))
        if len(at):
            sub = checks.iloc[at].reset_index(drop=True)
            checks_mod.fill_check_clients(sub, services.iloc[_at(services, _pairs(sub)[0])], alloc_client)
            checks, more = _set_column(checks, "client", at, sub["client"].tolist())
            moved |= more
    moved.discard("")
    return checks, services, moved


def follow(
    old_raw: Mapping[str, Any],
    raw: Mapping[str, Any],
    checks: pd.DataFrame,
    services: pd.DataFrame,
    *,
    check_sig: Any,
    consul_allocs: set,
    new_allocs: set,
    alloc_client: Mapping[str, str],
    cluster: str,
    identity: ClientIdentity,
) -> tuple[pd.DataFrame, pd.DataFrame, set, Any, set, bool] | None:
    """The Consul frames of a patch (``views.incremental``): the last build's, with the rows of the
    allocations new in Nomad's list that Consul already named given their client (``reclient``)
    and Consul's own changes patched in (``patch``). (checks, services, allocation IDs their rows
    name, ``signature``, clients to assess again, whether ``patch`` ran); None when they must be
    built from scratch."""
    moved: set = set()
    named_new = new_allocs & consul_allocs
    if named_new:
        checks, services, moved = reclient(checks, services, named_new, alloc_client=alloc_client, identity=identity)
    consul_moved = any(raw.get(n) is not old_raw.get(n) for n in ("consul_services", "consul_checks"))
    if consul_moved:
        got = patch(old_raw, raw, checks, services, alloc_client=alloc_client, cluster=cluster, identity=identity)
        if got is None:
            return None
        checks, services, named, svc_clients = got
        consul_allocs = consul_allocs | named if named else consul_allocs
        moved |= svc_clients
    if consul_moved or named_new:
        sig = signature(checks)
        moved |= touched_clients(check_sig, sig, services)
        check_sig = sig
    return checks, services, consul_allocs, check_sig, moved, consul_moved
