"""The Snapshot: everything pages read, built by the one Refresher of the process.

A Snapshot is immutable; the refresher swaps in a new one, so readers never
lock and never see half an update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from views.words import ago_words

__all__ = ["SOURCE_LABELS", "Snapshot", "SourceStatus", "utcnow"]

SOURCE_LABELS: dict[str, str] = {
    "jobs": "Nomad jobs",
    "allocations": "Nomad allocations",
    "deployments": "Nomad deployments",
    "nodes": "Nomad client nodes",
    "namespaces": "Nomad namespaces",
    "nomad_services": "Nomad services",
    "consul_services": "Consul services",
    "consul_checks": "Consul health checks",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SourceStatus:
    """How one source (e.g. "allocations") is doing.

    ok: the last attempt succeeded.  error: that attempt's message (plain words) or None.
    last_success / last_attempt: tz-aware UTC datetimes, None if never.
    """

    name: str
    ok: bool
    error: str | None
    last_success: datetime | None
    last_attempt: datetime | None
    system: str = "Nomad"  # "Nomad" | "Consul"
    error_kind: str | None = None  # ConnectorError.kind, e.g. "unavailable"
    index: int = 0  # last X-Nomad-Index / X-Consul-Index seen
    # While a blocking query is held by the server, nothing changed since the last answer: the
    # data is confirmed current until this time (the query's wait plus jitter), None otherwise.
    watching_until: datetime | None = None
    # How the source is followed: "blocking queries", "event stream" or "blocking queries (event
    # stream refused)" (snapshot.follower); said on the freshness line.
    mode: str = "blocking queries"

    @property
    def label(self) -> str:
        return SOURCE_LABELS.get(self.name, self.name)

    @property
    def has_data(self) -> bool:
        return self.last_success is not None

    def confirmed_at(self, now: datetime | None = None) -> datetime | None:
        """Up to when this source's data is known to be current: now while a blocking query is
        held (the server answers at once on a change), else its last answer; None if never."""
        now = now or utcnow()
        if self.last_success is None:
            return None
        if self.ok and self.watching_until is not None and now <= self.watching_until:
            return now
        return self.last_success

    def age_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds since this source's data was last known current, None if it never answered."""
        now = now or utcnow()
        confirmed = self.confirmed_at(now)
        return None if confirmed is None else (now - confirmed).total_seconds()


@dataclass(frozen=True)
class Snapshot:
    cluster: str
    frames: Any  # views.Frames
    sources: dict[str, SourceStatus]
    built_at: datetime | None  # when `frames` were built (None: nothing fetched yet)
    build_error: str | None = None
    generation: int = 0  # bumps on every publish (frames or statuses)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources.values()) and self.build_error is None

    @property
    def has_data(self) -> bool:
        return self.built_at is not None and any(s.has_data for s in self.sources.values())

    def age_seconds(self, now: datetime | None = None) -> float | None:
        """How old the oldest part of the data is (the least recently confirmed source), None if no data."""
        confirmed = self.confirmed_at(now)
        return None if confirmed is None else ((now or utcnow()) - confirmed).total_seconds()

    def confirmed_at(self, now: datetime | None = None) -> datetime | None:
        """Up to when all the data is known current (the least recently confirmed source)."""
        times = [t for t in (s.confirmed_at(now) for s in self.sources.values()) if t is not None]
        return min(times) if times else None

    def failing(self) -> list[SourceStatus]:
        return [s for s in self.sources.values() if not s.ok and s.last_attempt is not None]

    def problems(self, now: datetime | None = None) -> list[str]:
        """Current problems in plain words, one line each (empty list = all fine)."""
        now = now or utcnow()
        out: list[str] = []
        for s in self.sources.values():
            if s.ok:
                continue
            if s.last_attempt is None:
                out.append(f"{s.label}: waiting for the first answer from {s.system}.")
                continue
            if s.last_success is None:
                tail = "No data from it yet."
            else:
                tail = f"Showing the data from {ago_words((now - s.last_success).total_seconds())}."
            out.append(f"{s.label}: {s.error or 'the last update failed.'} {tail}")
        if self.build_error:
            out.append(
                f"The dashboard could not process the latest data ({self.build_error}); showing the previous view."
            )
        return out
