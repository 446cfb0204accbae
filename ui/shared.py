"""Work every session shares: what a page shows, shaped once per snapshot, filters, role and minute.

Forty people watching client health all look at the same snapshot; their pages rerun every few
seconds, mostly to move the ages on the freshness line. Without this, each run of each session
redid the same pandas work (filter, sort, shape, words) on the same frames. Here a page's shaped
tables are built by the first session that needs them and handed to every other one, process-wide,
until the snapshot changes (or the minute turns, for the "5 min ago" words inside tables).

- Keys name everything the result depends on: the snapshot (cluster and build time), the
  dashboard configuration (path and modification time), the page's filters, the person's view (roles and the pages they may open: link columns and support-only
  columns differ by role, so two roles never share an entry) and a time bucket.
- Bounded: at most ``MAX_ENTRIES`` entries and about ``MAX_BYTES`` of frames, least recently used
  first out; a result bigger than a quarter of that is handed back without being kept.
- Thread-safe, and one build per key: sessions asking for a key that is being built wait for that
  build instead of starting their own (a new snapshot reaches 40 sessions at once).
- Builders are pure shaping: no Streamlit calls, no reads of one person's data.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 512
MAX_BYTES = 256 * 2**20
WAIT_SECONDS = 30.0  # how long a session waits for another session's build before building itself


def _size(value: Any, depth: int = 0) -> int:
    """Roughly how many bytes ``value`` holds (DataFrames counted cell by cell, once, on insert)."""
    try:
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return int(value.memory_usage(index=True, deep=True).sum())
        if isinstance(value, pd.Series):
            return int(value.memory_usage(index=True, deep=True))
    except Exception:  # an odd frame: count its shell only
        return sys.getsizeof(value)
    if depth < 3:
        if isinstance(value, (tuple, list, set, frozenset)):
            return sys.getsizeof(value) + sum(_size(v, depth + 1) for v in value)
        if isinstance(value, dict):
            return sys.getsizeof(value) + sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in value.items())
        if is_dataclass(value) and not isinstance(value, type):
            return sys.getsizeof(value) + sum(_size(getattr(value, f.name), depth + 1) for f in fields(value))
    return sys.getsizeof(value)


class SharedCache:
    """A bounded, thread-safe, least-recently-used map with one build per missing key."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._building: dict[Hashable, threading.Event] = {}
        self._bytes = 0
        self.hits = 0
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return found[0]
            event = self._building.get(key)
            mine = event is None
            if mine:
                event = self._building[key] = threading.Event()
        if not mine:
            event.wait(WAIT_SECONDS)
            with self._lock:
                found = self._data.get(key)
                if found is not None:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return found[0]
            return build()  # that build failed or is too big to keep: do it here (not kept)
        try:
            value = build()
        except BaseException:
            with self._lock:
                self._building.pop(key, None)
            event.set()
            raise
        size = _size(value)
        with self._lock:
            self.builds += 1
            if size <= self.max_bytes // 4:
                old = self._data.pop(key, None)
                if old is not None:
                    self._bytes -= old[1]
                self._data[key] = (value, size)
                self._bytes += size
                while self._data and (len(self._data) > self.max_entries or self._bytes > self.max_bytes):
                    _, (_, dropped) = self._data.popitem(last=False)
                    self._bytes -= dropped
            self._building.pop(key, None)
        event.set()
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def bytes(self) -> int:
        return self._bytes


CACHE = SharedCache()


def snapshot_key(snap) -> tuple:
    """What identifies a snapshot's frames: its cluster(s) and when its frames were built.
    (The dashboard configuration is part of page_key: a role mapping or policy edit shows at once.)"""
    return (snap.cluster, snap.built_at)


def minute(now: float | None = None, seconds: int = 60) -> int:
    """The time bucket for ages shown inside tables ("5 min ago"): they move once a minute."""
    return int((time.time() if now is None else now) // seconds)


def view_key() -> tuple:
    """What of the person changes what a page shows: their roles and the pages they may open
    (link columns become plain text without the page; support-only columns need the role)."""
    import streamlit as st

    principal = st.session_state.get("principal")
    roles = tuple(sorted(getattr(principal, "roles", ()) or ()))
    return roles, tuple(sorted(st.session_state.get("allowed_pages", ())))


def page_key(page: str, snap, filters: tuple = (), *, per_view: bool = True, bucket: int = 60) -> tuple:
    """The key of what ``page`` shows for ``snap`` and ``filters``: per view (roles, pages) unless
    ``per_view=False``, and per time bucket of ``bucket`` seconds (0: none). Make it once per run
    and use it for every piece of that run, so all of them name the same minute."""
    from ui import runtime

    view = view_key() if per_view else None
    when = minute(seconds=bucket) if bucket else 0
    return (page, snapshot_key(snap), runtime.config_version(), filters, view, when)


def cached(key: tuple, build: Callable[[], T]) -> T:
    """``build()`` once per ``key`` (which must name everything the result depends on), process-wide."""
    return CACHE.get(key, build)
