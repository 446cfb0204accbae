"""Consul health at scale: follow what is not passing at once, everything else by a paced full read.

Why (Consul's source, see bench/README.md "Consul at scale"):

* ``/v1/health/state/:state`` answers with the checks table's index whatever the state or filter
  (agent/consul/state/catalog.go checksInStateTxn -> catalogChecksMaxIndex; the ``filter`` runs
  after the read, agent/consul/health_endpoint.go ChecksInState), so a blocking query on it wakes
  whenever any check anywhere is written.  Asked for ``any``, every wake re-sends every check in
  the cluster; asked for ``warning`` and ``critical`` (looked up through the checks' status index,
  cheaper for Consul than ``any?filter=Status != "passing"``, which scans and filters every check),
  it re-sends only the checks that are not passing -- the ones support acts on, a few hundred
  where the cluster has 100,000.
* Per-service blocking queries (``/v1/health/service/:name``, ``/v1/catalog/service/:name`` on the
  "service.<name>" index, catalog.go maxIndexAndWatchChForService) move with every check write of
  that service (ensureCheckTxn -> catalogUpdateServiceIndexes), and our service names are shared
  by every client (``web``, ``api``...): one flap re-sends a quarter of the cluster.
* No delta read exists over HTTP: Raft indexes are not filterable (agent/structs/structs.go
  RaftIndex has ``bexpr:"-"``; go-bexpr has no ``>`` anyway), and a deregistration leaves no row.

So, per source, with the refresher's fetch signature ``(index, wait) -> Listing``:

* ``checks``: one full read of ``/v1/health/state/any``, then a blocking query on
  ``/v1/health/state/warning`` and, when it answers, a read of ``/critical``.  The list handed out is the non-passing answer (exact, as of its index) plus the last full
  read's other checks as passing: a check that was not passing then and is missing from the answer
  now has recovered (or was deregistered; the next full read tells) and is shown passing with no
  output.  A check registered passing since the full read appears at the next full read.
* ``services``: the catalog per service name, read in full; a blocking query on
  ``/v1/catalog/services`` (the services table's index: it moves on registrations, not on flaps)
  says when that is worth doing: at once when a service name appears or goes, otherwise when a
  full read is due.
* A full read is due ``full_min`` seconds after the last one, or longer when full reads are slow:
  they may take at most ``full_share`` of the time (at 100,000 allocations a full read takes
  seconds).  A quiet cluster makes no full read at all.

Index None (first read, after an error, ``refresh_once``) or an index that went backwards (a
restore, a new leader's snapshot) is a full read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from connectors import ConsulConnector, Listing

__all__ = ["ConsulFollow", "consul_follow_enabled", "merge_checks"]

FULL_MIN = 30.0  # seconds between full reads at least
FULL_SHARE = 0.05  # full reads take at most this share of the time

Key = tuple[str, str]


def consul_follow_enabled(env) -> bool:
    """DASHBOARD_CONSUL_DELTA=1 (or true/yes/on) turns this follower on."""
    return str(env.get("DASHBOARD_CONSUL_DELTA", "")).strip().lower() in ("1", "true", "yes", "on")


def _check_key(c: dict) -> Key:
    return (c.get("Node") or "", c.get("CheckID") or "")


def merge_checks(full: dict[Key, dict], not_passing: list[dict]) -> list[dict]:
    """The check list from the last full read and a newer answer of the non-passing checks (pure).

    Order: the answer's first (each state's list is in a full read's order, so the checks client
    health names come in the order a full read would give), then the full read's other checks."""
    fresh = {_check_key(c): c for c in not_passing}
    out = list(fresh.values())
    for k, c in full.items():
        if k in fresh:
            continue
        if c.get("Status") == "passing":
            out.append(c)
        else:  # recovered since the full read (or deregistered: the next full read tells)
            out.append({**c, "Status": "passing", "Output": ""})
    return out


class ConsulFollow:
    """Consul's checks and services for one refresher: two watcher threads call ``checks`` and
    ``services``, each with its own state."""

    def __init__(
        self,
        consul: ConsulConnector,
        *,
        slim: bool = True,
        full_min: float = FULL_MIN,
        full_share: float = FULL_SHARE,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.consul = consul
        self.slim = slim
        self.full_min = float(full_min)
        self.full_share = float(full_share)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.counts = {"checks_full": 0, "checks_not_passing": 0, "services_full": 0, "services_names": 0}
        self.full_every: dict[str, float] = {}
        self._checks_full: dict[Key, dict] | None = None
        self._checks_list: list[dict] = []
        self._checks_index = 0
        self._checks_due = 0.0
        self._svc: dict[str, list[dict]] | None = None
        self._svc_index = 0
        self._svc_due = 0.0

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def _next_due(self, started: float, source: str) -> float:
        took = self._monotonic() - started
        every = max(self.full_min, took / self.full_share if self.full_share > 0 else 0.0)
        with self._lock:
            self.full_every[source] = every  # for the benchmark: how often a busy cluster is read in full
        return started + every

    # ------------------------------------------------------------------ checks

    def _read_checks(self) -> Listing:
        started = self._monotonic()
        got = self.consul.health_state("any", slim=self.slim)
        self._checks_full = {_check_key(c): c for c in got.data}
        self._checks_list = list(got.data)
        self._checks_index = got.index
        self._checks_due = self._next_due(started, "checks")
        self._count("checks_full")
        return Listing(self._checks_list, got.index)

    def checks(self, index: int | None, wait: float | None) -> Listing:
        """Every check, as ``/v1/health/state/any`` lists them; blocking on ``index``."""
        full = self._checks_full
        if full is None or not index or index != self._checks_index:
            return self._read_checks()
        # Both states answer with the checks table's index: block on one, read the other at once.
        # Consul finds them through its status index, not by scanning every check the way
        # ?filter= on "any" would (catalog.go checksInStateTxn).
        warning = self.consul.health_state("warning", index=index, wait=wait, slim=self.slim)
        if warning.index == index:
            return Listing(self._checks_list, index)  # the wait ended with nothing new
        if warning.index < index or self._monotonic() >= self._checks_due:
            return self._read_checks()
        critical = self.consul.health_state("critical", slim=self.slim)
        self._count("checks_not_passing")
        # A check that went warning -> critical between the two reads is in both: the later wins.
        # One that went critical -> warning is in neither and shows passing until the next answer,
        # which comes at once: the index has moved past the one this answer is filed under.
        self._checks_list = merge_checks(full, warning.data + critical.data)
        self._checks_index = warning.index
        return Listing(self._checks_list, warning.index)

    # ---------------------------------------------------------------- services

    def _read_services(self) -> Listing:
        started = self._monotonic()
        names = self.consul.catalog_services()
        self._svc = {name: self.consul.catalog_service(name, slim=self.slim).data for name in sorted(names.data)}
        self._svc_index = names.index
        self._svc_due = self._next_due(started, "services")
        self._count("services_full")
        return Listing(self._svc, names.index)

    def services(self, index: int | None, wait: float | None) -> Listing:
        """``{service name: its /v1/catalog/service/:name entries}``; blocking on ``index``."""
        held = self._svc
        if held is None or not index or index != self._svc_index:
            return self._read_services()
        names = self.consul.catalog_services(index=index, wait=wait)
        self._count("services_names")
        if names.index == index:
            return Listing(held, index)
        if names.index < index or set(names.data) != set(held) or self._monotonic() >= self._svc_due:
            return self._read_services()
        # Registrations moved the index; the instances are read again when a full read is due.
        # Until then the held index is kept, so the next call (after the refresher's pause) asks again.
        return Listing(held, index)
