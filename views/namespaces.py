"""Nomad namespaces (/v1/namespaces) -> the ``namespaces`` frame (with jobs per namespace)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import columns as col
from .identity import ClientIdentity
from .schema import empty


def build_namespaces(
    namespaces: Any, *, cluster: str, identity: ClientIdentity, job_counts: Mapping[str, int]
) -> pd.DataFrame:
    ns = col.records(namespaces)
    if not ns:
        return empty("namespaces")
    names = [col.text(x.get("Name")) for x in ns]
    return col.frame(
        "namespaces",
        {
            "cluster": [cluster] * len(ns),
            "namespace": names,
            "description": [col.text(x.get("Description")) for x in ns],
            "client": [identity.of_namespace(x) for x in names],
            "meta": col.objs([col.dict_of(x.get("Meta")) for x in ns]),
            "jobs": [job_counts.get(x, 0) for x in names],
        },
    )
