"""Lossless-for-readers slimming of the raw JSON the refresher keeps between builds.

At 100,000 allocations the parsed /v1/allocations body is the biggest thing
in the process (~900 MB), and most of it is task events: dicts of ~25 keys
of which ~14 are empty strings or `{}`.  Rebuilding each event without its
empty-string / empty-dict / null values keeps every value a reader can see
through `.get(key)` (absent -> None, which the views treat like "") while
holding far less memory.  Numbers and booleans (0, False) are always kept:
`Healthy: false` is not the same as unknown.

`tests/contract/test_snapshot_slim.py` checks that the views build exactly
the same frames from slimmed and from full raw JSON.
"""

from __future__ import annotations

from typing import Any, Dict, List

__all__ = ["slim_allocations", "slim_consul_services", "SLIMMERS"]


def _slim_dict(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != "" and v != {}}


def slim_allocations(allocs: List[Any]) -> List[Any]:
    """Drop empty values from every task event of every allocation stub (in place, returns the list)."""
    for a in allocs:
        if a.__class__ is not dict:
            continue
        states = a.get("TaskStates")
        if not states or states.__class__ is not dict:
            continue
        for st in states.values():
            if st.__class__ is not dict:
                continue
            evs = st.get("Events")
            if evs and evs.__class__ is list:
                st["Events"] = [_slim_dict(e) if e.__class__ is dict else e for e in evs]
    return allocs


def slim_consul_services(services: Dict[str, Any]) -> Dict[str, Any]:
    """Drop empty values from each catalog entry (top level only)."""
    for name, entries in services.items():
        if entries.__class__ is list:
            services[name] = [_slim_dict(e) if e.__class__ is dict else e for e in entries]
    return services


SLIMMERS = {
    "allocations": slim_allocations,
    "consul_services": slim_consul_services,
}
