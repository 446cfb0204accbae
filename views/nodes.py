"""Nomad nodes (/v1/nodes) -> the ``nodes`` frame; allocation counts per node."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import columns as col
from .schema import empty


def build_nodes(nodes: Any, *, cluster: str) -> pd.DataFrame:
    ns = col.records(nodes)
    if not ns:
        return empty("nodes")
    ids = [col.text(n.get("ID")) for n in ns]
    n = len(ns)
    return col.frame(
        "nodes",
        {
            "cluster": [cluster] * n,
            "node_id": ids,
            "short_id": [i[:8] for i in ids],
            "name": [col.text(x.get("Name")) for x in ns],
            "datacenter": [col.text(x.get("Datacenter")) for x in ns],
            "node_pool": [col.text(x.get("NodePool")) for x in ns],
            "node_class": [col.text(x.get("NodeClass")) for x in ns],
            "status": [col.text(x.get("Status")) for x in ns],
            "eligibility": [col.text(x.get("SchedulingEligibility")) for x in ns],
            "drain": [bool(x.get("Drain")) for x in ns],
            "version": [col.text(x.get("Version")) for x in ns],
            "address": [col.text(x.get("Address")) for x in ns],
            "allocs_running": np.zeros(n, dtype=np.int64),
            "allocs_total": np.zeros(n, dtype=np.int64),
        },
    )


def fill_node_counts(nodes: pd.DataFrame, allocations: pd.DataFrame) -> None:
    if not len(nodes) or not len(allocations):
        return
    nid = allocations["node_id"]
    total = nid.value_counts()
    running = nid[allocations["client_status"].to_numpy() == "running"].value_counts()
    nodes["allocs_total"] = nodes["node_id"].map(total).fillna(0).astype("int64")
    nodes["allocs_running"] = nodes["node_id"].map(running).fillna(0).astype("int64")
