"""Simulated time for the sandbox.

Everything the emulator shows (task events, deployment times, check output)
is stamped from this clock, so a frozen sandbox is fully reproducible and a
test can move time on purpose with ``advance``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

NS = 1_000_000_000


class SimClock:
    """Simulated wall clock in Unix nanoseconds.

    It never moves on its own: the live ticker (or a test) calls ``advance``,
    which also lets the world play out whatever happens in that span.
    """

    def __init__(self, start: float | None = None):
        # Whole seconds keep generated timestamps stable within one run.
        start = time.time() if start is None else start
        self._now_ns = int(start) * NS
        self._lock = threading.Lock()
        self._listeners: list[Callable[[int, int], None]] = []

    def now_ns(self) -> int:
        return self._now_ns

    def now(self) -> float:
        return self._now_ns / NS

    def on_advance(self, listener: Callable[[int, int], None]) -> None:
        """Register ``listener(old_ns, new_ns)``, called after each advance."""
        self._listeners.append(listener)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            old = self._now_ns
            self._now_ns = old + int(seconds * NS)
            new = self._now_ns
        for listener in self._listeners:
            listener(old, new)
