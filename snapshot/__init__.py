"""Snapshot model, the one-per-process Refresher, and cached on-demand queries.

from snapshot import get_refresher, get_queries
snap = get_refresher(settings, identity).current()   # cheap, lock-free
snap.frames, snap.sources, snap.problems(), snap.age_seconds()
"""

from .model import SOURCE_LABELS, Snapshot, SourceStatus
from .queries import Queries, TTLCache, get_queries
from .refresher import CONSUL_SOURCES, NOMAD_SOURCES, Refresher, get_refresher

__all__ = [
    "CONSUL_SOURCES",
    "NOMAD_SOURCES",
    "SOURCE_LABELS",
    "Queries",
    "Refresher",
    "Snapshot",
    "SourceStatus",
    "TTLCache",
    "get_queries",
    "get_refresher",
]
