"""Pure helpers over one allocation's JSON (GET /v1/allocation/:id): resources per task and ports."""

from __future__ import annotations

import pandas as pd

RESOURCE_COLUMNS = ["task", "cpu_mhz", "memory_mb", "memory_max_mb"]


def resources(alloc: dict) -> pd.DataFrame:
    """One row per task: CPU (MHz), memory (MB, and max when oversubscribed); ``attrs["disk_mb"]`` the shared disk."""
    alloc = alloc if isinstance(alloc, dict) else {}
    ar = alloc.get("AllocatedResources")
    rows = []
    if isinstance(ar, dict) and isinstance(ar.get("Tasks"), dict):
        for task, r in ar["Tasks"].items():
            r = r or {}
            mem = r.get("Memory") or {}
            rows.append(
                {
                    "task": task,
                    "cpu_mhz": (r.get("Cpu") or {}).get("CpuShares") or 0,
                    "memory_mb": mem.get("MemoryMB") or 0,
                    "memory_max_mb": mem.get("MemoryMaxMB") or 0,
                }
            )
        disk = (ar.get("Shared") or {}).get("DiskMB") or 0
    else:  # older shape
        for task, r in (alloc.get("TaskResources") or {}).items():
            r = r or {}
            rows.append(
                {"task": task, "cpu_mhz": r.get("CPU") or 0, "memory_mb": r.get("MemoryMB") or 0, "memory_max_mb": 0}
            )
        disk = (alloc.get("Resources") or {}).get("DiskMB") or 0
    df = pd.DataFrame(rows, columns=RESOURCE_COLUMNS)
    df.attrs["disk_mb"] = disk
    return df


def ports(alloc: dict) -> list[str]:
    """Shared network ports as 'label: host-ip:port → container port'.

    AllocatedPortMapping is ``_struct`` omitempty (nomad/structs/structs.go): a zero ``To`` (no
    mapping) or empty ``HostIP`` is left out of the JSON, so neither is shown rather than "None"."""
    ar = (alloc if isinstance(alloc, dict) else {}).get("AllocatedResources") or {}
    out = []
    for p in (ar.get("Shared") or {}).get("Ports") or []:
        host = f"{p['HostIP']}:" if p.get("HostIP") else ""
        to = f" → {p['To']}" if p.get("To") else ""
        out.append(f"{p.get('Label') or ''}: {host}{p.get('Value') or 0}{to}")
    return out
