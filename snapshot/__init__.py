"""Snapshot model, the one-per-process Refresher, and cached on-demand queries.

from snapshot import get_refresher, get_queries
snap = get_refresher(settings, identity).current()   # cheap, lock-free
snap.frames, snap.sources, snap.problems(), snap.age_seconds()
"""

from .logfollow import FOLLOW_SECONDS as LOG_FOLLOW_SECONDS
from .logfollow import LogFollowers, LogTail
from .model import SOURCE_LABELS, Snapshot, SourceStatus
from .queries import Queries, TTLCache, get_queries
from .refresher import CONSUL_SOURCES, NOMAD_SOURCES, Refresher, get_refresher

__all__ = [
    "CONSUL_SOURCES",
    "LOG_FOLLOW_SECONDS",
    "NOMAD_SOURCES",
    "SOURCE_LABELS",
    "LogFollowers",
    "LogTail",
    "Queries",
    "Refresher",
    "Snapshot",
    "SourceStatus",
    "TTLCache",
    "get_queries",
    "get_refresher",
]
