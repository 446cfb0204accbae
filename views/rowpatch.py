"""Row patching for ``views.incremental``: find the rows of a list that changed, put freshly built
rows in place of old ones (and a changed allocation's task events in place of its old block),
and compute the whole-frame columns again for only the jobs and nodes the change touched.
Pure functions over lists and frames; nothing here keeps state.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pandas as pd

from . import checks as checks_mod
from . import columns as col
from . import jobs as jobs_mod
from . import services as services_mod
from .clients import sort_clients
from .schema import empty

# Above this share of changed rows a frame is built again from scratch (patching costs more).
MAX_CHANGED_SHARE = 0.2


def diff(old: list, new: list) -> tuple[list[int], int] | None:
    """Positions (< len(old)) whose item is another object now, and len(old) (the rest of
    ``new`` is appended); None when ``new`` is not ``old`` updated in place and appended to,
    or when so much changed that a full build is cheaper."""
    n0 = len(old)
    if not n0 and not new:
        return [], 0
    if len(new) < n0 or not n0:
        return None
    # Kept by events, an unchanged item is the same object; from a fresh body it is an equal one.
    # The identity pass runs in C (a Python loop over 100,000 items took ~30 ms per build).
    other = np.flatnonzero(np.fromiter(map(operator.is_not, old, new), dtype=bool, count=n0))
    if len(other) == n0:  # a fresh body (blocking queries, a reload): every item compared, in C too
        changed = np.flatnonzero(np.fromiter(map(operator.ne, old, new), dtype=bool, count=n0)).tolist()
    else:
        changed = [i for i in other.tolist() if old[i] != new[i]]
    if len(changed) + len(new) - n0 > max(16, MAX_CHANGED_SHARE * n0):
        return None
    for i in changed:
        if not isinstance(new[i], dict) or old[i].get("ID") != new[i].get("ID"):
            return None
    if not all(isinstance(x, dict) for x in new[n0:]):
        return None
    return changed, n0


# Column types patched array by array (others: pd.concat of the pieces, as a build's frames may hold).
_FAST_DTYPES = (np.dtype, pd.DatetimeTZDtype, pd.BooleanDtype)


def array_of(s: pd.Series) -> Any:
    return s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array


def _joined(parts: list) -> Any:
    return np.concatenate(parts) if isinstance(parts[0], np.ndarray) else type(parts[0])._concat_same_type(parts)


def same_columns(old: pd.DataFrame, rows: pd.DataFrame) -> bool:
    """Both frames have the same columns with the same types, all of them patchable array by array."""
    return (
        old.columns.is_unique
        and old.columns.equals(rows.columns)
        and isinstance(old.index, pd.RangeIndex)
        and all(a == b and isinstance(a, _FAST_DTYPES) for a, b in zip(old.dtypes, rows.dtypes))
    )


def from_arrays(columns: pd.Index, arrays: dict) -> pd.DataFrame:
    # copy=False: the arrays are new already (not consolidated: another copy of every column)
    return pd.DataFrame(arrays, columns=columns, copy=False)


def patch_rows(old: pd.DataFrame, rows: pd.DataFrame, changed: list[int], n0: int) -> pd.DataFrame:
    """``old`` with its rows at ``changed`` replaced by the first len(changed) rows of ``rows``
    and the rest of ``rows`` appended, in that order (a new frame: ``old`` may be a published one)."""
    if not changed and len(rows) == 0:
        return old
    k = len(changed)
    if len(old) == n0 and same_columns(old, rows):
        # Array by array: one copy of each column, then the changed positions set (pd.concat of
        # 2k+1 pieces costs a frame per piece).
        where = np.asarray(changed, dtype=np.int64)
        arrays = {}
        for c in old.columns:
            a, b = array_of(old[c]), array_of(rows[c])
            out = _joined([a, b[k:]]) if len(rows) > k else a.copy()
            if k:
                out[where] = b[:k]
            arrays[c] = out
        return from_arrays(old.columns, arrays)
    pieces, at = [], 0
    for k, p in enumerate(changed):
        if p > at:
            pieces.append(old.iloc[at:p])
        pieces.append(rows.iloc[k : k + 1])
        at = p + 1
    if at < n0:
        pieces.append(old.iloc[at:n0])
    if len(rows) > len(changed):
        pieces.append(rows.iloc[len(changed) :])
    return pd.concat(pieces, ignore_index=True)


def ages(create: pd.Series, now_ns: int) -> np.ndarray:
    cr = create.to_numpy(dtype="M8[ns]").view(np.int64)
    return np.where(cr == col.INAT, col.INAT, now_ns - cr).view("m8[ns]")


def clients_of(frame: pd.DataFrame, positions: list[int] | range) -> set:
    if not len(frame) or not len(positions):
        return set()
    return set(frame["client"].to_numpy()[np.asarray(list(positions), dtype=np.int64)].tolist())


def fill_jobs_for(
    jobs_base: pd.DataFrame,
    job_pos: dict,
    prev_jobs: pd.DataFrame,
    allocations: pd.DataFrame,
    deployments: pd.DataFrame,
    hit: set,
) -> tuple[pd.DataFrame, set]:
    """jobs.desired and jobs.job_version again for the jobs in ``hit`` only (each job's come from
    its own rows); the clients of the jobs whose values moved."""
    jobs = jobs_base.copy()
    desired = prev_jobs["desired"].to_numpy().copy()
    version = prev_jobs["job_version"].to_numpy().copy()
    pos = sorted(job_pos[k] for k in hit if k in job_pos)
    moved: set = set()
    if pos:
        sub = jobs.iloc[pos].reset_index(drop=True)
        keys = set(zip(sub["namespace"].tolist(), sub["job_id"].tolist()))
        jids = list({k[1] for k in keys})

        def rows_of(frame: pd.DataFrame) -> pd.DataFrame:
            if not len(frame):
                return frame
            frame = frame[frame["job_id"].isin(jids).to_numpy()]
            mine = [k in keys for k in zip(frame["namespace"].tolist(), frame["job_id"].tolist())]
            return frame[np.asarray(mine, dtype=bool)] if len(frame) else frame

        sub_allocs, sub_deps = rows_of(allocations), rows_of(deployments)
        jobs_mod.fill_job_desired(sub, sub_allocs, sub_deps)
        jobs_mod.fill_job_versions(sub, sub_allocs, sub_deps)
        at = np.asarray(pos, dtype=np.int64)
        new_d, new_v = sub["desired"].to_numpy(), sub["job_version"].to_numpy()
        diff = (desired[at] != new_d) | (version[at] != new_v)
        moved = set(sub["client"].to_numpy()[diff].tolist())
        desired[at], version[at] = new_d, new_v
    jobs["desired"] = desired
    jobs["job_version"] = version
    return jobs, moved


def fill_nodes_for(prev_nodes: pd.DataFrame, allocations: pd.DataFrame, hit: set) -> pd.DataFrame:
    """nodes.allocs_total / allocs_running again for the nodes in ``hit`` only."""
    hit = hit - {""}
    if not hit or not len(prev_nodes) or not len(allocations):
        return prev_nodes
    nodes = prev_nodes.copy()
    sub = allocations[allocations["node_id"].isin(list(hit)).to_numpy()]
    nid = sub["node_id"]
    total = nid.value_counts()
    running = nid[sub["client_status"].to_numpy() == "running"].value_counts()
    mine = nodes["node_id"].isin(list(hit)).to_numpy()
    ids = nodes["node_id"][mine]
    for column, counts in (("allocs_total", total), ("allocs_running", running)):
        values = nodes[column].to_numpy().copy()
        values[mine] = ids.map(counts).fillna(0).astype("int64").to_numpy()
        nodes[column] = values
    return nodes


def job_clients(
    old: list, new: list, changed: list[int], n0: int, subset: list, job_client: dict, identity: Any
) -> dict | str:
    """``job_client`` (the builders' (namespace, job ID) -> client) with the changed and new jobs
    (``subset``: ``new``'s items at ``changed``, then from ``n0``); a string, why not, when a changed
    job changed its key or client or a new job belongs to a client its namespace does not name
    (every frame naming clients would move: built whole)."""
    sub_client = jobs_mod.job_client_map(subset, identity)
    out = dict(job_client)
    for i in changed:
        k_old = (jobs_mod.job_namespace(old[i]), col.text(old[i].get("ID")))
        k_new = (jobs_mod.job_namespace(new[i]), col.text(new[i].get("ID")))
        if k_old != k_new or sub_client[k_new] != job_client.get(k_old):
            return "a job changed its client"
    for j in new[n0:]:
        k = (jobs_mod.job_namespace(j), col.text(j.get("ID")))
        if k in out or sub_client[k] != identity.of_job(k[0], k[1], None):
            return "a new job of another client"
        out[k] = sub_client[k]
    return out


def merge_clients(
    prev: pd.DataFrame, prev_findings: dict, df: pd.DataFrame, found: list[int], touched: set
) -> tuple[pd.DataFrame, dict]:
    """The clients frame (sorted as a full build sorts) and findings with the ``touched`` clients'
    rows replaced by ``df``'s (``client_rows`` of those clients; one that is gone has none)."""
    keep = prev[~prev["client"].isin(touched).to_numpy()]
    findings = {c: n for c, n in prev_findings.items() if c not in touched}
    if len(df):
        findings.update(zip(df["client"].tolist(), found))
        merged = pd.concat([keep, df], ignore_index=True) if len(keep) else df
    else:
        merged = keep.reset_index(drop=True)
    return sort_clients(merged, [findings[c] for c in merged["client"].tolist()]), findings


def node_dc(nodes: pd.DataFrame) -> dict:
    return dict(zip(nodes["node_id"].tolist(), nodes["datacenter"].tolist())) if len(nodes) else {}


def job_positions(jobs: pd.DataFrame) -> dict:
    if not len(jobs):
        return {}
    return {k: i for i, k in enumerate(zip(jobs["namespace"].tolist(), jobs["job_id"].tolist()))}


def keys_of(frame: pd.DataFrame, positions: Any) -> set:
    positions = list(positions)
    if not len(frame) or not positions:
        return set()
    at = np.asarray(positions, dtype=np.int64)
    return set(zip(frame["namespace"].to_numpy()[at].tolist(), frame["job_id"].to_numpy()[at].tolist()))


def values_of(frame: pd.DataFrame, column: str, positions: list[int]) -> set:
    if not len(frame) or not positions:
        return set()
    return set(frame[column].to_numpy()[np.asarray(positions, dtype=np.int64)].tolist())


def alloc_client(allocations: pd.DataFrame) -> dict:
    if not len(allocations):
        return {}
    return dict(zip(allocations["alloc_id"].tolist(), allocations["client"].tolist()))


def event_counts(allocations: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Task events per allocation row (a build lists each allocation's events together, in
    allocation order)."""
    n = len(allocations)
    if not n or not len(events):
        return np.zeros(n, dtype=np.int64)
    where = pd.Index(allocations["alloc_id"].to_numpy()).get_indexer(events["alloc_id"].to_numpy())
    return np.bincount(where, minlength=n).astype(np.int64)


def patch_events(
    old: pd.DataFrame, old_counts: np.ndarray, rows: pd.DataFrame, counts: np.ndarray, changed: list[int], n0: int
) -> pd.DataFrame:
    """The task events of the allocations at ``changed`` replaced by their new ones, the new
    allocations' appended (the order a full build gives)."""
    if not changed and not len(rows):
        return old
    starts = np.concatenate([[0], np.cumsum(old_counts)])
    new_starts = np.concatenate([[0], np.cumsum(counts)])
    runs = _runs(starts, new_starts, changed, len(old), len(rows))
    if not runs:
        return empty("task_events")  # what a build gives for no events at all
    if len(old) and len(rows) and same_columns(old, rows):
        return _stitch(old, rows, runs)
    return col.gather(old, rows, runs)  # categorical columns (views.schema CAT) as a build makes them


def _runs(starts: np.ndarray, new_starts: np.ndarray, changed: list[int], n_old: int, n_rows: int) -> list:
    """patch_events' order as runs (0: old's rows, 1: rows'; start, stop), empty runs left out."""
    runs, at, k = [], 0, len(changed)
    for j, p in enumerate(changed):
        runs += [(0, at, int(starts[p])), (1, int(new_starts[j]), int(new_starts[j + 1]))]
        at = int(starts[p + 1])
    runs += [(0, at, n_old), (1, int(new_starts[k]), n_rows)]
    return [r for r in runs if r[2] > r[1]]


def _stitch(old: pd.DataFrame, rows: pd.DataFrame, runs: list) -> pd.DataFrame:
    """A frame of these runs of ``old``'s and ``rows``' rows: one copy of each column (pd.concat
    builds a frame per piece first)."""
    arrays = {}
    for c in old.columns:
        src = (array_of(old[c]), array_of(rows[c]))
        arrays[c] = _joined([src[s][a:b] for s, a, b in runs])
    return from_arrays(old.columns, arrays)


def for_clients(
    only: set, *, event_counts: np.ndarray | None = None, **frames: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The rows of these frames (``views.clients.client_rows``' inputs) that can change the
    assessment of the clients in ``only``. ``event_counts``: task events per allocation row (a
    build lists them in allocation order, with the allocation's client): the task events' rows
    follow from the allocations' (no pass over the biggest frame)."""
    out: dict[str, pd.DataFrame] = {}
    alloc_mine = None
    for name, frame in frames.items():
        if not len(frame):
            out[name] = frame
        elif (
            name == "task_events"
            and alloc_mine is not None
            and event_counts is not None
            and len(event_counts) == len(alloc_mine)
            and int(event_counts.sum()) == len(frame)
        ):
            out[name] = frame[np.repeat(alloc_mine, event_counts)]
        elif name == "allocations":
            alloc_mine = frame["client"].isin(only).to_numpy()
            out[name] = frame[alloc_mine]
        elif name == "checks":
            # a passing check says nothing; a node-level one (no service) counts for the node's clients
            # (few are not passing: only those are looked at)
            live = np.flatnonzero(frame["status"].to_numpy() != "passing")
            client, sid = frame["client"].to_numpy()[live], frame["service_id"].to_numpy()[live]
            mine = [c in only or s == "" for c, s in zip(client.tolist(), sid.tolist())]
            out[name] = frame.iloc[live[np.asarray(mine, dtype=bool)]] if len(live) else frame.iloc[:0]
        elif name == "namespaces":
            out[name] = frame[frame["namespace"].isin(only).to_numpy()]
        else:
            out[name] = frame[frame["client"].isin(only).to_numpy()]
    return out


def consul_frames(raw: Any, cluster: str, identity: Any, alloc_client: dict) -> tuple[pd.DataFrame, pd.DataFrame, set]:
    """The checks and services frames (as ``views.build_frames`` makes them) and the allocation IDs
    their rows name (a new allocation among them changes their client column)."""
    checks = checks_mod.build_checks(raw.get("consul_checks"), cluster=cluster)
    services = services_mod.build_services(
        raw.get("consul_services"), checks, cluster=cluster, identity=identity, alloc_client=alloc_client
    )
    checks_mod.fill_check_clients(checks, services, alloc_client)
    named = {a for f in (services, checks) if len(f) for a in f["alloc_id"].tolist()} - {""}
    return checks, services, named
