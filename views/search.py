"""Global search over the frames: one box finds allocations, jobs, clients and nodes.

``search(frames, text, limit=20) -> list[Match]`` and ``destination(matches)``.
Pure and forgiving: the text is taken literally (regex metacharacters are just
characters), case and surrounding blanks do not matter, and empty, absurd or
non-string input returns ``[]`` instead of raising.

What matches, best first (exact, then prefix, then contains):

==========  ==============================================================
allocation  full UUID; 8-char short ID (exact); any ID prefix of >= 4 characters
client      client name exactly, then names starting with / containing the text
job         job ID exactly, then job IDs starting with / containing it
            (only jobs that belong to a client: their page is the client's)
node        node name (exactly / prefix / contains); node ID exactly, its
            8-char short ID (exact), or an ID prefix of >= 4 characters
==========  ==============================================================

Each ``Match`` names the page to open and the query parameters it needs:
``allocation`` ``{"alloc": "<uuid>"}``; ``client`` ``{"client": "northern-leaf"}``;
``client`` ``{"client": ..., "job": ..., "namespace": ...}`` for a job;
``nodes`` ``{"node": "<node id>"}``. ``label`` is short (a link text), ``detail``
says more (a tooltip).

``destination`` decides whether the sidebar goes straight to a page: the only
exact match, or the only match at all; otherwise (e.g. a short ID shared by two
allocations) it returns None and the matches are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from views.ids import SHORT_ID_LEN, is_uuid

MAX_RESULTS = 20
MAX_QUERY = 200
MIN_PREFIX = 4  # IDs: at least this many characters before a prefix counts
SHORT_ID = SHORT_ID_LEN

# how well a match fits (lower is better)
_EXACT, _PREFIX, _CONTAINS = 0, 1, 2
_KIND_ORDER = {"allocation": 0, "client": 1, "job": 2, "node": 3}


@dataclass(frozen=True)
class Match:
    kind: str  # allocation | client | job | node
    id: str  # allocation ID, client name, job ID, node ID
    label: str  # short: the link text
    page: str  # page name (app.PAGES key): allocation | client | nodes
    params: dict = field(default_factory=dict, hash=False)
    score: int = _EXACT  # 0 exact, 1 prefix, 2 contains
    detail: str = field(default="", compare=False)  # a sentence for the tooltip

    @property
    def exact(self) -> bool:
        return self.score == _EXACT


def _col(df: Any, name: str) -> np.ndarray:
    if df is None or name not in getattr(df, "columns", ()):
        return np.empty(0, dtype=object)
    return df[name].to_numpy(dtype=object)


def _lower(arr: np.ndarray) -> np.ndarray:
    return np.array([v.lower() if isinstance(v, str) else "" for v in arr], dtype=object)


def _find(values: np.ndarray, q: str, *, contains: bool, min_prefix: int = 1) -> dict[int, int]:
    """{row: score} for exact / prefix / (contains) matches of the lower-cased ``q``."""
    if not len(values):
        return {}
    low = _lower(values)
    out = {int(i): _EXACT for i in np.flatnonzero(low == q)}
    if len(q) >= min_prefix:
        for i, v in enumerate(low):
            if i in out or not v:
                continue
            if v.startswith(q):
                out[i] = _PREFIX
            elif contains and q in v:
                out[i] = _CONTAINS
    return out


def _short_is_exact(q: str, full: str, score: int) -> int:
    """The 8-character short form of an ID is as good as the full ID."""
    return _EXACT if score == _PREFIX and len(q) == SHORT_ID and full[:SHORT_ID] == q else score


def _clusters_of(df: Any, n: int) -> np.ndarray:
    """The rows' clusters ('' when the frame has none): links say which cluster holds the thing, as an
    allocation ID is unique per cluster only and the same job can run in two clusters."""
    cl = _col(df, "cluster")
    return cl if len(cl) == n else np.full(n, "", dtype=object)


def search(frames: Any, text: Any, *, limit: int = MAX_RESULTS) -> list[Match]:
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
        jobs_of = _col(allocs, "job_id")
        clients_of = _col(allocs, "client")
        statuses = _col(allocs, "client_status")
        acl = _clusters_of(allocs, len(ids))
        # a full UUID can only match exactly: skip the prefix scan over every allocation
        hits = (
            {int(i): _EXACT for i in np.flatnonzero(ids == q)}
            if is_uuid(q)
            else _find(ids, q, contains=False, min_prefix=MIN_PREFIX)
        )
        for i, score in hits.items():
            aid = ids[i]
            matches.append(
                Match(
                    "allocation",
                    aid,
                    f"{aid[:SHORT_ID]} {jobs_of[i]}".strip(),
                    "allocation",
                    {"alloc": aid} | ({"cluster": acl[i]} if acl[i] else {}),
                    _short_is_exact(q, aid, score),
                    f"Allocation {aid} of job {jobs_of[i]}, client {clients_of[i]} ({statuses[i]})",
                )
            )

    clients = getattr(frames, "clients", None)
    names = _col(clients, "client")
    if len(names):
        cstatus = _col(clients, "status")
        for i, score in _find(names, q, contains=True).items():
            status = cstatus[i] if len(cstatus) else ""
            matches.append(
                Match(
                    "client",
                    names[i],
                    names[i],
                    "client",
                    {"client": names[i]},
                    score,
                    f"Client {names[i]}" + (f" ({status})" if status else ""),
                )
            )

    jobs = getattr(frames, "jobs", None)
    jids = _col(jobs, "job_id")
    if len(jids):
        jclients = _col(jobs, "client")
        jns = _col(jobs, "namespace")
        jcl = _clusters_of(jobs, len(jids))
        for i, score in _find(jids, q, contains=True).items():
            if not jclients[i]:  # no client, no page to open it on
                continue
            params = {"client": jclients[i], "job": jids[i]}
            if len(jns) and jns[i]:
                params["namespace"] = jns[i]
            if jcl[i]:
                params["cluster"] = jcl[i]
            matches.append(
                Match("job", jids[i], jids[i], "client", params, score, f"Job {jids[i]} of client {jclients[i]}")
            )

    nodes = getattr(frames, "nodes", None)
    nids = _col(nodes, "node_id")
    if len(nids):
        nname = _col(nodes, "name")
        ndc = _col(nodes, "datacenter")
        nstatus = _col(nodes, "status")
        hits = _find(nname, q, contains=True)
        if len(q) >= MIN_PREFIX:
            for i, score in _find(nids, q, contains=False, min_prefix=MIN_PREFIX).items():
                hits[i] = min(_short_is_exact(q, nids[i], score), hits.get(i, _CONTAINS))
        for i, score in hits.items():
            where = f" in {ndc[i]}" if len(ndc) and ndc[i] else ""
            state = f", {nstatus[i]}" if len(nstatus) and nstatus[i] else ""
            matches.append(
                Match(
                    "node",
                    nids[i],
                    nname[i] or nids[i][:SHORT_ID],
                    "nodes",
                    {"node": nids[i]},
                    score,
                    f"Node {nname[i]}{where} ({nids[i][:SHORT_ID]}{state})",
                )
            )

    matches.sort(key=lambda m: (m.score, _KIND_ORDER.get(m.kind, 9), m.id))
    seen: set = set()
    out: list[Match] = []
    for m in matches:
        key = (m.kind, m.page, tuple(sorted(m.params.items())))
        if key in seen:
            continue
        seen.add(key)
        out.append(m)
        if len(out) >= limit:
            break
    return out


def destination(matches: list[Match]) -> Match | None:
    """Where to go straight away: the only exact match, or the only match at all; else None (list them)."""
    exact = [m for m in matches if m.exact]
    if len(exact) == 1:
        return exact[0]
    if not exact and len(matches) == 1:
        return matches[0]
    return None
