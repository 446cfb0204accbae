"""Consul health checks (/v1/health/state/any) -> the ``checks`` frame; which client each check is for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from common.fields import CHECK_FIELDS

from . import columns as col
from .schema import empty
from .services import parse_nomad_service_alloc


def build_checks(checks: Any, *, cluster: str) -> pd.DataFrame:
    cs = col.records(checks)
    if not cs:
        return empty("checks")
    n = len(cs)
    cols = dict(zip(CHECK_FIELDS, zip(*[tuple(map(c.get, CHECK_FIELDS)) for c in cs])))
    sids = col.strcol(cols["ServiceID"])
    return col.frame(
        "checks",
        {
            "cluster": col.filled(n, cluster),
            "node": col.strcol(cols["Node"]),
            "check_id": col.strcol(cols["CheckID"]),
            "name": col.strcol(cols["Name"]),
            "status": col.strcol(cols["Status"]),
            "output": col.strcol(cols["Output"]),
            "notes": col.strcol(cols["Notes"]),
            "service_id": sids,
            "service": col.strcol(cols["ServiceName"]),
            "client": col.filled(n, ""),  # filled by build_frames from services
            "alloc_id": [parse_nomad_service_alloc(x) if x else "" for x in sids.tolist()],
        },
    )


def fill_check_clients(checks: pd.DataFrame, services: pd.DataFrame, alloc_client: Mapping[str, str]) -> None:
    if not len(checks):
        return
    m: dict[tuple[str, str], str] = {}
    if len(services):
        m = dict(zip(zip(services["node"].tolist(), services["service_id"].tolist()), services["client"].tolist()))
    out = []
    for node, sid, aid in zip(checks["node"].tolist(), checks["service_id"].tolist(), checks["alloc_id"].tolist()):
        c = m.get((node, sid)) if sid else ""
        if not c and aid:
            c = alloc_client.get(aid, "")
        out.append(c or "")
    checks["client"] = np.array(out, dtype=object)
