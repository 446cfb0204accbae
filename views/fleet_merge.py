"""One fleet view out of several clusters' frames (issue 12, "several clusters").

Every frame already carries ``cluster``; the frames of each cluster are concatenated as they
are, except ``clients``: a client whose deployments span clusters appears once, made of its
parts. Its status is its worst part's, its counts are summed, its lists united, and each part
that is not healthy says which cluster it is in ("ca-west: ..."); ``cluster`` lists every
cluster it runs in, comma-separated, in the order the clusters were given.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from . import Frames, schema

__all__ = ["combine_frames", "in_cluster"]

_SUMMED = (
    "jobs",
    "desired",
    "running",
    "failed_allocs",
    "lost_allocs",
    "restarts_24h",
    "checks_critical",
    "checks_warning",
)
_UNITED = ("namespaces", "versions", "datacenters")
SEPARATOR = ", "


def in_cluster(values: pd.Series, cluster: str) -> pd.Series:
    """Rows whose ``cluster`` value names ``cluster`` (a merged client lists several)."""
    return values.map(lambda v: cluster in str(v).split(SEPARATOR))


def _merge_client(parts: pd.DataFrame) -> dict:
    order = parts.sort_values(["rank", "severity"], kind="stable")
    row = order.iloc[0].to_dict()
    row["cluster"] = SEPARATOR.join(parts["cluster"].tolist())
    for col in _SUMMED:
        row[col] = int(parts[col].sum())
    for col in _UNITED:
        row[col] = sorted({v for values in parts[col] for v in (values or ())})
    row["deploying"] = bool(parts["deploying"].any())
    reasons = [f"{p.cluster}: {p.reason}" for p in order.itertuples() if p.status != "healthy" and p.reason]
    row["reason"] = "; ".join(reasons) if reasons else row["reason"]
    dated = parts.dropna(subset=["last_deployment_time"])
    if len(dated):
        latest = dated.sort_values("last_deployment_time").iloc[-1]
        row["last_deployment_status"] = latest["last_deployment_status"]
        row["last_deployment_time"] = latest["last_deployment_time"]
    return row


def _clients(frames: list[pd.DataFrame]) -> pd.DataFrame:
    both = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    if both is None:
        return schema.empty("clients")
    counts = both["client"].value_counts()
    if (counts <= 1).all():
        return schema.conform(both.sort_values(["rank", "severity", "client"], kind="stable"), "clients")
    rows = [
        _merge_client(group) if len(group) > 1 else group.iloc[0].to_dict()
        for _, group in both.groupby("client", sort=False)
    ]
    out = pd.DataFrame(rows, columns=both.columns)
    return schema.conform(out.sort_values(["rank", "severity", "client"], kind="stable", ignore_index=True), "clients")


def combine_frames(per_cluster: Mapping[str, Frames]) -> Frames:
    """One Frames for the whole fleet from each cluster's (in the given order)."""
    parts = list(per_cluster.values())
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Frames.empty()
    out = {}
    for name in Frames.empty().as_dict():
        frames = [getattr(p, name) for p in parts]
        if name == "clients":
            out[name] = _clients(frames)
        else:
            non_empty = [f for f in frames if len(f)]
            out[name] = (
                schema.conform(pd.concat(non_empty, ignore_index=True), name) if non_empty else schema.empty(name)
            )
    return Frames(**out)
