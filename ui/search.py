"""Global search, pure: a typed value -> the pages it names (no Streamlit import).

Finds an allocation by full ID or ID prefix (the 8-character short form, or any
prefix of 4+ hex characters), a job by ID, a client by name, a node by name or
ID. Exact matches win: when exactly one thing is named exactly, the sidebar goes
straight there; otherwise it lists the matches.

    >>> hits = search(frames, "3f9a1c2e")
    >>> hits[0].page, hits[0].params
    ('allocation', {'alloc': '3f9a1c2e-...'})
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

MAX_RESULTS = 20
_HEX_PREFIX = re.compile(r"^[0-9a-f][0-9a-f-]{3,35}$")


@dataclass(frozen=True)
class Match:
    kind: str            # "allocation" | "client" | "job" | "node"
    label: str           # what the person reads
    page: str            # page name in app.PAGES
    params: dict = field(default_factory=dict, hash=False, compare=False)
    exact: bool = False
    detail: str = field(default="", compare=False)  # shown as a tooltip

    @property
    def key(self) -> tuple:
        return (self.kind, self.page, tuple(sorted(self.params.items())))


def _col(df: pd.DataFrame | None, name: str) -> pd.Series:
    if df is None or name not in df.columns:
        return pd.Series([], dtype=object)
    return df[name]


def search(frames, query, limit: int = MAX_RESULTS) -> list[Match]:
    """Matches for ``query`` in a ``views.Frames``: exact ones first, then partial, at most ``limit``."""
    q = ("" if query is None else str(query)).strip()
    if not q or len(q) > 200:
        return []
    ql = q.lower()
    exact: list[Match] = []
    partial: list[Match] = []

    clients = frames.clients
    allocs = frames.allocations
    jobs = frames.jobs
    nodes = frames.nodes

    # allocations: full ID, short ID, or hex prefix of 4+ characters
    if _HEX_PREFIX.match(ql) and len(allocs):
        ids = allocs["alloc_id"]
        hit = allocs[ids.str.startswith(ql)]
        for row in hit.head(limit).itertuples(index=False):
            is_exact = row.alloc_id == ql or (len(ql) == 8 and row.short_id == ql)
            m = Match("allocation", f"{row.short_id} {row.job_id}", "allocation", {"alloc": row.alloc_id}, is_exact,
                      f"Allocation {row.alloc_id} of job {row.job_id} ({row.client_status})")
            (exact if is_exact else partial).append(m)

    # clients
    names = _col(clients, "client")
    if len(names):
        low = names.str.lower()
        for name in names[low == ql].tolist():
            exact.append(Match("client", name, "client", {"client": name}, True, f"Client {name}"))
        for name in names[(low != ql) & low.str.contains(ql, regex=False)].head(limit).tolist():
            partial.append(Match("client", name, "client", {"client": name}, False, f"Client {name}"))

    # jobs -> the client's page, allocations filtered to the job
    if len(jobs):
        low = jobs["job_id"].str.lower()
        j_exact = jobs[low == ql]
        j_part = jobs[(low != ql) & low.str.contains(ql, regex=False)].head(limit)
        for rows, bucket, is_exact in ((j_exact, exact, True), (j_part, partial, False)):
            for row in rows.itertuples(index=False):
                if not row.client:
                    continue
                bucket.append(Match("job", row.job_id, "client", {"client": row.client, "job": row.job_id}, is_exact,
                                    f"Job {row.job_id} of client {row.client}"))

    # nodes: name, full ID, short ID
    if len(nodes):
        low = nodes["name"].str.lower()
        n_exact = nodes[(low == ql) | (nodes["node_id"] == ql) | (nodes["short_id"] == ql)]
        n_part = nodes[~nodes.index.isin(n_exact.index)
                       & (low.str.contains(ql, regex=False) | nodes["node_id"].str.startswith(ql))].head(limit)
        for rows, bucket, is_exact in ((n_exact, exact, True), (n_part, partial, False)):
            for row in rows.itertuples(index=False):
                bucket.append(Match("node", row.name, "nodes", {"node": row.node_id}, is_exact,
                                    f"Node {row.name} in {row.datacenter} ({row.status})"))

    out: list[Match] = []
    seen: set = set()
    for m in exact + partial:
        if m.key not in seen:
            seen.add(m.key)
            out.append(m)
    return out[:limit]


def destination(matches: list[Match]) -> Match | None:
    """Where to go straight away: the only exact match, or the only match at all; else None (list them)."""
    exact = [m for m in matches if m.exact]
    if len(exact) == 1:
        return exact[0]
    if not exact and len(matches) == 1:
        return matches[0]
    return None
