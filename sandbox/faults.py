"""Run-time fault injection: latency, error status, connection drop, malformed JSON."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Fault:
    server: str  # "nomad" | "consul"
    path: str | None = None  # a path template ("/v1/job/:id"), an exact path, or None for every path
    latency: float = 0.0  # seconds added before answering
    status: int | None = None  # answer with this status instead of the real response
    body: str = ""  # body sent with ``status`` (text/plain)
    down: bool = False  # reset the connection without answering
    malformed: bool = False  # answer 200 with a truncated JSON body

    def matches(self, server: str, template: str | None, path: str) -> bool:
        return self.server == server and (self.path is None or self.path in (template, path))


class Faults:
    def __init__(self, on_inject: Callable[[Fault], None] | None = None):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._on_inject = on_inject

    def inject(
        self,
        server: str,
        path: str | None = None,
        *,
        latency: float = 0.0,
        status: int | None = None,
        body: str = "",
        down: bool = False,
        malformed: bool = False,
    ) -> Fault:
        if server not in ("nomad", "consul"):
            raise ValueError("server must be 'nomad' or 'consul'")
        fault = Fault(server, path, float(latency or 0), status, body, bool(down), bool(malformed))
        with self._lock:
            self._faults.append(fault)
        if self._on_inject is not None:
            self._on_inject(fault)
        return fault

    def clear(self, server: str | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if server is not None and f.server != server]

    def matching(self, server: str, template: str | None, path: str) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.matches(server, template, path)]

    def as_json(self, server: str | None = None) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults if server is None or f.server == server]
