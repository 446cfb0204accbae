"""One log follower per allocation, task and stream for the whole process, however many people look.

``LogFollowers.tail(alloc_id, task, kind, ...)`` returns the newest ``tail_bytes`` of that stream
as a ``LogTail``. The first reader starts a follower thread that fetches the tail every
``interval`` seconds while anyone keeps reading it; every other reader gets the same text from
memory, so N viewers cost one fetch per interval, not N. A follower nobody has read for
``idle_after`` seconds stops and forgets its text. The buffer is bounded: the newest ``tail_bytes``
of the stream (64 KiB), and at most ``max_followers`` streams are followed at once (the one read
least recently makes room). A failed fetch keeps the last good text with its time and says why.

With per-person Nomad identity the token is part of the key (Nomad checks each person's own
rights), so the cost is one follower per person and stream; with the dashboard's own token it is
one per stream.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors import ConnectorError

__all__ = ["LogFollowers", "LogTail"]

FOLLOW_SECONDS = 3.0
IDLE_SECONDS = 60.0
FIRST_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class LogTail:
    """What a follower holds: the newest text, when it was fetched, and the last error (if the
    latest fetch failed: the text is then the last good one)."""

    text: str | None = None
    fetched_at: datetime | None = None  # UTC, of the text
    error: ConnectorError | None = None
    error_at: datetime | None = None
    fetches: int = 0


class _Follower:
    def __init__(self, fetch: Callable[[], str], *, interval: float, idle_after: float, on_exit: Callable):
        self._fetch = fetch
        self.interval = interval
        self.idle_after = idle_after
        self._on_exit = on_exit
        self._tail = LogTail()
        self._first = threading.Event()
        self._stop = threading.Event()
        self.last_read = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="log-follower", daemon=True)

    def read(self, first_wait: float) -> LogTail:
        self.last_read = time.monotonic()
        self._first.wait(first_wait)
        return self._tail

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if time.monotonic() - self.last_read > self.idle_after:
                    break  # nobody looked for a while
                try:
                    text = self._fetch()
                    t = self._tail
                    self._tail = LogTail(text, datetime.now(UTC), None, None, t.fetches + 1)
                except ConnectorError as err:
                    t = self._tail
                    self._tail = LogTail(t.text, t.fetched_at, err, datetime.now(UTC), t.fetches + 1)
                except Exception as err:  # a bug must not leave readers waiting for a first answer
                    t = self._tail
                    wrapped = ConnectorError("Nomad", f"Unexpected error while reading the log: {type(err).__name__}")
                    self._tail = LogTail(t.text, t.fetched_at, wrapped, datetime.now(UTC), t.fetches + 1)
                self._first.set()
                self._stop.wait(self.interval)
        finally:
            self._stop.set()
            self._first.set()
            self._on_exit(self)


def _token_key(token: str | None) -> str | None:
    return None if token is None else hashlib.sha256(token.encode()).hexdigest()[:16]


class LogFollowers:
    """The process's log followers for one cluster (see the module docstring)."""

    def __init__(
        self,
        fetch: Callable[..., str],
        *,
        interval: float = FOLLOW_SECONDS,
        idle_after: float = IDLE_SECONDS,
        tail_bytes: int = 64 * 1024,
        max_followers: int = 32,
        first_wait: float = FIRST_WAIT_SECONDS,
    ):
        self._fetch = fetch  # (alloc_id, task, kind, tail_bytes, namespace=, token=) -> text
        self.interval = interval
        self.idle_after = idle_after
        self.tail_bytes = tail_bytes
        self.max_followers = max_followers
        self.first_wait = first_wait
        self._lock = threading.Lock()
        self._followers: dict[tuple, _Follower] = {}

    def tail(
        self, alloc_id: str, task: str, kind: str, *, namespace: str | None = None, token: str | None = None
    ) -> LogTail:
        key = (alloc_id, task, kind, namespace, _token_key(token))
        evicted = None
        with self._lock:
            f = self._followers.get(key)
            if f is None or f.stopped:
                if len(self._followers) >= self.max_followers:
                    oldest = min(self._followers, key=lambda k: self._followers[k].last_read)
                    evicted = self._followers.pop(oldest)
                n = self.tail_bytes

                def fetch() -> str:
                    return self._fetch(alloc_id, task, kind, n, namespace=namespace, token=token)

                f = self._followers[key] = _Follower(
                    fetch, interval=self.interval, idle_after=self.idle_after, on_exit=self._forget(key)
                )
                f.thread.start()
            f.last_read = time.monotonic()
        if evicted is not None:
            evicted.stop()
        return f.read(self.first_wait)

    def _forget(self, key: tuple) -> Callable[[_Follower], None]:
        def forget(f: _Follower) -> None:
            with self._lock:
                if self._followers.get(key) is f:
                    del self._followers[key]

        return forget

    def following(self) -> int:
        """How many streams are followed right now."""
        with self._lock:
            return sum(1 for f in self._followers.values() if not f.stopped)

    def stop_all(self) -> None:
        with self._lock:
            fs = list(self._followers.values())
            self._followers.clear()
        for f in fs:
            f.stop()
