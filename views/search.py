"""Global search over the frames: one box finds allocations, jobs, clients and nodes.

``search(frames, text, limit=20) -> list[Match]``. Pure and forgiving: the text
is taken literally (regex metacharacters are just characters), case does not
matter, and empty or absurd input returns ``[]`` instead of raising.

What matches, best first:

=====  ==============================================================
alloc  full UUID; 8-char short ID; any ID prefix of >= 4 characters
job    job ID exactly, then job IDs starting with / containing the text
client client name exactly, then names starting with / containing it
node   node name or node ID (exactly, or prefix of >= 4 characters)
=====  ==============================================================

Each ``Match`` carries ``params``: the query parameters a page link needs,
e.g. ``{"alloc": "<uuid>"}``, ``{"client": "northern-leaf"}``,
``{"client": "...", "job": "..."}``, ``{"node": "<node id>"}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_QUERY = 200
MIN_PREFIX = 4

# rank of how well a match fits (lower is better)
_EXACT, _PREFIX, _CONTAINS = 0, 1, 2
_KIND_ORDER = {"alloc": 0, "client": 1, "job": 2, "node": 3}


@dataclass(frozen=True)
class Match:
    kind: str  # alloc | job | client | node
    id: str
    label: str
    params: dict = field(default_factory=dict)
    score: int = 0  # 0 exact, 1 prefix, 2 contains


def _col(df: Any, name: str) -> np.ndarray:
    if df is None or name not in getattr(df, "columns", ()):
        return np.empty(0, dtype=object)
    return df[name].to_numpy(dtype=object)


def _lower(arr: np.ndarray) -> np.ndarray:
    return np.array([v.lower() if isinstance(v, str) else "" for v in arr], dtype=object)


def _find(values: np.ndarray, q: str, *, contains: bool, min_prefix: int = 1) -> list[tuple[int, int]]:
    """(row, score) for exact / prefix / contains matches of lower-cased q."""
    if not len(values):
        return []
    low = _lower(values)
    out = [(int(i), _EXACT) for i in np.flatnonzero(low == q)]
    seen = {i for i, _ in out}
    if len(q) >= min_prefix:
        for i, v in enumerate(low):
            if i in seen or not v:
                continue
            if v.startswith(q):
                out.append((i, _PREFIX))
            elif contains and q in v:
                out.append((i, _CONTAINS))
    return out


def search(frames: Any, text: Any, *, limit: int = 20) -> list[Match]:
    """Matches for ``text`` in ``frames`` (a ``views.Frames`` or anything with those attributes)."""
    if not isinstance(text, str):
        return []
    q = text.strip().lower()
    if not q or len(q) > MAX_QUERY or limit <= 0:
        return []
    matches: list[Match] = []

    allocs = getattr(frames, "allocations", None)
    ids = _col(allocs, "alloc_id")
    if len(ids) and len(q) >= MIN_PREFIX:
        names = _col(allocs, "name")
        clients = _col(allocs, "client")
        statuses = _col(allocs, "client_status")
        for i, score in _find(ids, q, contains=False, min_prefix=MIN_PREFIX):
            aid = ids[i]
            if score == _PREFIX and len(q) == 8:
                score = _EXACT if q == aid[:8] else score  # the short ID is as good as the full one
            matches.append(
                Match("alloc", aid, f"{aid[:8]} {names[i]} ({clients[i]}, {statuses[i]})", {"alloc": aid}, score)
            )

    jobs = getattr(frames, "jobs", None)
    jids = _col(jobs, "job_id")
    if len(jids):
        jclients = _col(jobs, "client")
        jns = _col(jobs, "namespace")
        for i, score in _find(jids, q, contains=True, min_prefix=2):
            params = {"job": jids[i], "namespace": jns[i]}
            if jclients[i]:
                params["client"] = jclients[i]
            matches.append(Match("job", jids[i], f"{jids[i]} ({jclients[i] or jns[i]})", params, score))

    clients_df = getattr(frames, "clients", None)
    cn = _col(clients_df, "client")
    if len(cn):
        cst = _col(clients_df, "status")
        for i, score in _find(cn, q, contains=True, min_prefix=2):
            label = f"{cn[i]} ({cst[i]})" if len(cst) else cn[i]
            matches.append(Match("client", cn[i], label, {"client": cn[i]}, score))

    nodes = getattr(frames, "nodes", None)
    nid = _col(nodes, "node_id")
    if len(nid):
        nname = _col(nodes, "name")
        ndc = _col(nodes, "datacenter")
        hits: dict[int, int] = {}
        for i, score in _find(nname, q, contains=True, min_prefix=2):
            hits[i] = score
        if len(q) >= MIN_PREFIX:
            for i, score in _find(nid, q, contains=False, min_prefix=MIN_PREFIX):
                hits[i] = min(score, hits.get(i, score))
        for i, score in hits.items():
            matches.append(Match("node", nid[i], f"{nname[i]} ({ndc[i]}, {nid[i][:8]})", {"node": nid[i]}, score))

    matches.sort(key=lambda m: (m.score, _KIND_ORDER.get(m.kind, 9), m.id))
    # one entry per (kind, id)
    seen: set[tuple[str, str]] = set()
    out = []
    for m in matches:
        k = (m.kind, m.id)
        if k in seen:
            continue
        seen.add(k)
        out.append(m)
        if len(out) >= limit:
            break
    return out
