"""Pure helpers for the allocation page: log filtering and the allocation's resources (no Streamlit)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

MAX_PATTERN = 300


@dataclass(frozen=True)
class Filtered:
    text: str
    shown: int
    total: int
    error: str = ""


def filter_lines(text: str, pattern: str, *, ignore_case: bool = True) -> Filtered:
    """Keep the lines that match a regular expression. An invalid pattern keeps every line and says why."""
    lines = (text or "").splitlines()
    pattern = (pattern or "").strip()
    if not pattern:
        return Filtered("\n".join(lines), len(lines), len(lines))
    if len(pattern) > MAX_PATTERN:
        return Filtered("\n".join(lines), len(lines), len(lines),
                        f"The filter is longer than {MAX_PATTERN} characters.")
    try:
        rx = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as err:
        return Filtered("\n".join(lines), len(lines), len(lines),
                        f"“{pattern}” is not a valid regular expression: {err.msg}"
                        + (f" (at position {err.pos})" if err.pos is not None else "") + ".")
    kept = [ln for ln in lines if rx.search(ln)]
    return Filtered("\n".join(kept), len(kept), len(lines))


def resources(alloc: dict) -> pd.DataFrame:
    """One row per task: CPU (MHz), memory (MB, and max when oversubscribed), plus the shared disk."""
    ar = alloc.get("AllocatedResources") if isinstance(alloc, dict) else None
    rows = []
    if isinstance(ar, dict) and isinstance(ar.get("Tasks"), dict):
        for task, r in ar["Tasks"].items():
            r = r or {}
            mem = (r.get("Memory") or {})
            rows.append({"task": task, "cpu_mhz": (r.get("Cpu") or {}).get("CpuShares") or 0,
                         "memory_mb": mem.get("MemoryMB") or 0, "memory_max_mb": mem.get("MemoryMaxMB") or 0})
        disk = (ar.get("Shared") or {}).get("DiskMB") or 0
    else:  # older shape
        for task, r in ((alloc or {}).get("TaskResources") or {}).items():
            r = r or {}
            rows.append({"task": task, "cpu_mhz": r.get("CPU") or 0, "memory_mb": r.get("MemoryMB") or 0,
                         "memory_max_mb": 0})
        disk = ((alloc or {}).get("Resources") or {}).get("DiskMB") or 0
    df = pd.DataFrame(rows, columns=["task", "cpu_mhz", "memory_mb", "memory_max_mb"])
    df.attrs["disk_mb"] = disk
    return df


def ports(alloc: dict) -> list[str]:
    ar = (alloc or {}).get("AllocatedResources") or {}
    out = []
    for p in ((ar.get("Shared") or {}).get("Ports") or []):
        out.append(f"{p.get('Label')}: {p.get('HostIP')}:{p.get('Value')} → {p.get('To')}")
    return out
