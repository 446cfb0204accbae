"""Pure page helpers for the versions and residency pages (no Streamlit import).

Every function takes frames from views.versions / views.residency and returns a new DataFrame;
nothing here mutates its input. Client and allocation links are relative (ui.tables).
"""

from __future__ import annotations

import pandas as pd

from ui.tables import alloc_links, client_link, join_list
from views import versions as V

BEHIND_MARK = "▼"  # plain Unicode symbols, not emoji: they show in any font
MIXED_MARK = "⇄"
SHOW = ("all", "behind", "mixed")


def filter_matrix(matrix: pd.DataFrame, *, services=(), client: str = "", show: str = "all") -> pd.DataFrame:
    m = matrix
    if services:
        m = m[m["service"].isin(list(services))]
    if client:
        m = m[m["client"] == client]
    if show == "behind":
        m = m[m["behind"]]
    elif show == "mixed":
        m = m[m["mixed"]]
    return m


def cell_label(versions: list, behind: bool, mixed: bool) -> str:
    text = V.version_label(versions)
    if mixed:
        return f"{MIXED_MARK} {text}"
    if behind:
        return f"{BEHIND_MARK} {text}"
    return text


def matrix_table(matrix: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """client x service grid of version labels; ({column key: (service, newest)}) for the headers.

    Column keys are ``svc_<n>`` so a service named like another column cannot collide with it.
    """
    services = sorted(set(matrix["service"].tolist())) if len(matrix) else []
    keys = {svc: f"svc_{i}" for i, svc in enumerate(services)}
    newest = dict(zip(matrix["service"].tolist(), matrix["newest"].tolist())) if len(matrix) else {}
    rows: dict[tuple[str, str], dict] = {}
    for cl, client, svc, versions, behind, mixed in zip(
        matrix["cluster"].tolist(),
        matrix["client"].tolist(),
        matrix["service"].tolist(),
        matrix["versions"].tolist(),
        matrix["behind"].tolist(),
        matrix["mixed"].tolist(),
    ):
        row = rows.setdefault((client, cl), {"client": client_link(client), "cluster": cl})
        row[keys[svc]] = cell_label(versions, behind, mixed)
    cols = ["client", "cluster", *keys.values()]
    df = pd.DataFrame([rows[k] for k in sorted(rows)], columns=cols).fillna("–")
    return df, {key: (svc, newest.get(svc, "")) for svc, key in keys.items()}


def counts_table(counts: pd.DataFrame, *, services=()) -> pd.DataFrame:
    c = counts[counts["service"].isin(list(services))] if services else counts
    return pd.DataFrame(
        {
            "service": c["service"],
            "version": c["version"].where(c["version"] != "", "unknown"),
            "newest": (c["version"] == c["newest"]) & (c["version"] != ""),
            "clients": c["clients"],
            "instances": c["instances"],
        }
    ).reset_index(drop=True)


def mixed_table(matrix: pd.DataFrame) -> pd.DataFrame:
    m = matrix[matrix["mixed"]].sort_values("mixed_since", kind="stable")
    return pd.DataFrame(
        {
            "client": m["client"].map(client_link),
            "service": m["service"],
            "versions": m["versions"].map(V.version_label),
            "instances": m["instances"],
            "since": m["mixed_since"],
            "for": m["mixed_since"],
        }
    ).reset_index(drop=True)


def matrix_export(matrix: pd.DataFrame) -> pd.DataFrame:
    """The long form for CSV: one row per cluster, client and service."""
    return pd.DataFrame(
        {
            "cluster": matrix["cluster"],
            "client": matrix["client"],
            "service": matrix["service"],
            "versions": matrix["versions"].map(lambda v: " + ".join(v)),
            "newest_in_fleet": matrix["newest"],
            "behind": matrix["behind"],
            "two_versions": matrix["mixed"],
            "two_versions_since": matrix["mixed_since"],
            "instances": matrix["instances"],
            "instances_without_version": matrix["unknown"],
            "sources": matrix["sources"].map(join_list),
        }
    ).reset_index(drop=True)


# ------------------------------------------------------------------ residency

VERDICT_BADGES = {"forbidden": "✖ forbidden", "unknown": "? unknown"}
KINDS = ("allocation", "service", "node")


def filter_violations(v: pd.DataFrame, *, client: str = "", kinds=()) -> pd.DataFrame:
    if client:
        v = v[v["client"] == client]
    if kinds:
        v = v[v["kind"].isin(list(kinds))]
    return v


def violations_table(v: pd.DataFrame) -> pd.DataFrame:
    """Placements outside policy; what a compliance reader scans first (who, where, since) comes first
    (with several clusters, which cluster each is in)."""
    where = {"cluster": v["cluster"]} if "cluster" in v.columns and v["cluster"].nunique() > 1 else {}
    return pd.DataFrame(
        {
            **where,
            "client": v["client"].map(client_link),
            "verdict": v["verdict"].map(lambda s: VERDICT_BADGES.get(s, s)),
            "kind": v["kind"],
            "datacenter": v["datacenter"],
            "since": v["since"],
            "node": v["node"],
            # One column for what is placed: the job (allocation and node rows) or the Consul
            # service (service rows have no job), so the table fits beside the sidebar.
            "job": v["job_id"].where(v["kind"] != "service", v["service"]),
            "allocation": alloc_links(v).fillna(""),
            "allowed": v["allowed"],
        }
    ).reset_index(drop=True)


def warnings_table(w: pd.DataFrame, *, client: str = "") -> pd.DataFrame:
    if client:
        w = w[w["client"] == client]
    return pd.DataFrame(
        {
            "client": w["client"].map(client_link),
            "job": w["job_id"],
            "namespace": w["namespace"],
            "datacenters": w["datacenters"].map(join_list),
            "forbidden": w["forbidden"].map(join_list),
            "allowed": w["allowed"],
        }
    ).reset_index(drop=True)


def unpoliced_table(u: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"client": u["client"].map(client_link), "datacenters": u["datacenters"].map(join_list), "jobs": u["jobs"]}
    ).reset_index(drop=True)
