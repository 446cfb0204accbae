"""ui.shared: the process-wide cache of shaped page tables (issue 13, item 4).

What a person notices: a page shaped for one session is the same object every other session gets
(no second pandas pass), a new snapshot or another filter gets its own, memory stays bounded, and
a build that many sessions ask for at once runs once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pandas as pd
import pytest

from ui import shared


def test_one_build_per_key_and_the_same_object_for_every_caller():
    cache = shared.SharedCache()
    calls = []

    def build():
        calls.append(1)
        return pd.DataFrame({"client": ["acme", "birch"]})

    first = cache.get(("health", 1), build)
    again = cache.get(("health", 1), build)
    other = cache.get(("health", 2), build)
    assert again is first and other is not first
    assert len(calls) == 2 and cache.hits == 1


def test_concurrent_sessions_asking_for_a_new_key_wait_for_one_build():
    cache = shared.SharedCache()
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_build():
        calls.append(1)
        started.set()
        release.wait(5)
        return {"rows": 40}

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow_build))) for _ in range(8)]
    threads[0].start()
    assert started.wait(5)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_a_failed_build_is_not_kept_and_the_next_caller_tries_again():
    cache = shared.SharedCache()

    def broken():
        raise ValueError("bad frame")

    with pytest.raises(ValueError):
        cache.get("k", broken)
    assert cache.get("k", lambda: "ok") == "ok"


def test_entries_are_bounded_by_count_least_recently_used_out_first():
    cache = shared.SharedCache(max_entries=3)
    for n in range(3):
        cache.get(n, lambda n=n: n)
    cache.get(0, lambda: "rebuilt")  # 0 used again: 1 is now the oldest
    cache.get(3, lambda: 3)
    assert len(cache) == 3
    assert cache.get(0, lambda: "rebuilt") == 0
    assert cache.get(1, lambda: "rebuilt") == "rebuilt"


def test_entries_are_bounded_by_memory_and_a_huge_result_is_not_kept():
    big = pd.DataFrame({"x": ["y" * 100] * 2000})  # well over 100 kB with its strings
    size = shared._size(big)
    cache = shared.SharedCache(max_entries=100, max_bytes=int(size * 4.5))
    for n in range(6):
        cache.get(n, lambda: big.copy())
    assert len(cache) == 4 and cache.bytes <= cache.max_bytes
    tiny = shared.SharedCache(max_bytes=size)  # a quarter of it is the most one entry may take
    tiny.get("big", lambda: big)
    assert len(tiny) == 0


class _Snap:
    def __init__(self, cluster, built_at):
        self.cluster, self.built_at = cluster, built_at


def test_page_keys_differ_by_snapshot_filters_view_and_minute(monkeypatch):
    monkeypatch.setattr(shared, "view_key", lambda: (("viewer",), ("health",)))
    t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    a = shared.page_key("health", _Snap("default", t), (("down",), "", ""))
    assert a == shared.page_key("health", _Snap("default", t), (("down",), "", ""))
    assert a != shared.page_key("health", _Snap("default", t.replace(second=5)), (("down",), "", ""))
    assert a != shared.page_key("health", _Snap("default", t), ((), "", ""))
    assert a != shared.page_key("health", _Snap("ca-west", t), (("down",), "", ""))
    monkeypatch.setattr(shared, "view_key", lambda: (("support",), ("allocation", "health")))
    assert a != shared.page_key("health", _Snap("default", t), (("down",), "", ""))
    assert shared.minute(now=119.0) == shared.minute(now=60.0) != shared.minute(now=120.0)
