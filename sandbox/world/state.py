"""The ``World``: the simulated platform's state, its per-table indexes and lookups.

Every change goes through a ``World`` method that bumps the per-table index
like Nomad's state store, which is what wakes blocking queries.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import threading
from collections.abc import Callable

from ..clock import SimClock
from .generation import Generation
from .jobflow import JobFlow
from .lifecycle import Lifecycle
from .profile import DEFAULT, ClusterProfile
from .records import (
    CONSUL_TABLES,
    NOMAD_TABLES,
    SUMMARY_KEYS,
    Alloc,
    Client,
    ConsulService,
    Deployment,
    Evaluation,
    Job,
    Node,
    Registry,
)
from .simulation import Simulation


class World(Generation, Lifecycle, Simulation, JobFlow):
    def __init__(
        self,
        clients=40,
        seed=7,
        jobs_per_client=4,
        allocs_per_group=None,
        clock: SimClock | None = None,
        churn: float = 0,
        profile: ClusterProfile = DEFAULT,
    ):
        self.seed = seed
        self.profile = profile  # datacenters, region and clients of this cluster
        self.clock = clock or SimClock()
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.on_change = None  # set by the Sandbox: called by touch() with (index, changed objects)
        self.changed = threading.Condition(self.lock)
        self.index = 10
        self.tables = {t: 1 for t in NOMAD_TABLES + CONSUL_TABLES}
        self.clients: list[Client] = []
        self.client_by_slug: dict[str, Client] = {}
        self.nodes: list[Node] = []
        self.node_by_id: dict[str, Node] = {}
        self.jobs: dict[tuple[str, str], Job] = {}
        self.job_list: list[Job] = []  # sorted by (namespace, id), the order Nomad lists them
        self.allocs: dict[str, Alloc] = {}
        self.alloc_list: list[Alloc] = []  # in creation order
        self.deployments: dict[str, Deployment] = {}
        self.evals: dict[str, Evaluation] = {}
        self.consul_services = Registry()
        self.consul_by_alloc: dict[str, list[ConsulService]] = {}
        self.service_gone: dict[str, int] = {}  # lower-cased service name -> index of its last deregistration
        self.kv: dict[str, tuple[bytes, int, int]] = {}
        self._step_rng = random.Random(f"live-{seed}")
        self._steps = 0
        self._timers: list[tuple[int, int, Callable, tuple]] = []
        self._timer_seq = 0
        self._generate(clients, jobs_per_client, allocs_per_group)
        for a in self.alloc_list:  # the summaries as generated; from here on they follow transitions
            a.summary_status = a.client_status
            a.job.summary_modify = max(a.job.summary_modify, a.modify_index)
        self._init_simulation(churn)
        self.clock.on_advance(self._on_advance)

    # ------------------------------------------------------------------ ids
    def uuid(self) -> str:
        h = "%032x" % self.rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _next_index(self) -> int:
        self.index += 1
        return self.index

    @staticmethod
    def consul_tables(services) -> tuple[str, ...]:
        """Consul's tables a (de)registration of these services (or (service, kind) pairs) writes:
        none unless one of them is in Consul's catalog (a Nomad-provider service is not). A write
        that changes nothing moves no index (consul agent/consul/state/catalog.go ensureServiceTxn
        returns before writing an unchanged service; catalog_ce.go catalogInsertService moves the
        services table's index and deleteServiceTxn the checks' and services')."""
        for s in services:
            s = s[0] if isinstance(s, tuple) else s
            if s.alloc.job.role.provider == "consul":
                return ("consul_services", "consul_checks")
        return ()

    def touch(self, *tables: str, changed=()) -> int:
        """Record a change in ``tables`` (caller holds the lock) and wake waiters. ``changed``:
        the objects it touched (or (object, event Type) pairs), for the event stream."""
        idx = self._next_index()
        for t in tables:
            self.tables[t] = idx
        for item in changed:
            a = item[0] if isinstance(item, tuple) else item
            if isinstance(a, Alloc) and a.summary_status != a.client_status:
                # updateSummaryWithAlloc rewrites the summary only for a new allocation or a new
                # client status (nomad/state/state_store.go): a task restart does not move it.
                a.summary_status = a.client_status
                a.job.summary_modify = self.tables["job_summary"] = idx
        if changed and self.on_change is not None:
            self.on_change(idx, changed)
        self.changed.notify_all()
        return idx

    def at(self, when_ns: int, fn: Callable, *args) -> None:
        """Run ``fn(when_ns, *args)`` once the simulated clock reaches ``when_ns`` (caller holds the lock)."""
        self._timer_seq += 1
        heapq.heappush(self._timers, (when_ns, self._timer_seq, fn, args))

    def _run_timers(self, until_ns: int) -> None:
        timers = self._timers
        while timers and timers[0][0] <= until_ns:
            when, _seq, fn, args = heapq.heappop(timers)
            fn(when, *args)

    # ------------------------------------------------------------- lookups
    def job(self, namespace: str, job_id: str) -> Job | None:
        return self.jobs.get((namespace, job_id))

    def summary(self, job: Job) -> dict[str, int]:
        """JobSummary counts: each allocation in the bin of its client status, plus the allocations
        the GC has removed, which Nomad's summary keeps counting. (Nomad moves the counts on each
        transition; the sandbox's allocations go through the same states, so counting them by their
        present status gives the same numbers.) A periodic parent has no allocations of its own:
        its runs count in Children."""
        counts = {"Queued": 0, "Complete": 0, "Failed": 0, "Running": 0, "Starting": 0, "Lost": 0, "Unknown": 0}
        for a in job.allocs:
            key = SUMMARY_KEYS.get(a.client_status)
            if key:
                counts[key] += 1
        for key, n in job.collected.items():
            counts[key] += n
        counts["Queued"] = job.queued
        return counts

    # -------------------------------------------------------------- summary
    def describe(self) -> dict:
        return {
            "clients": len(self.clients),
            "jobs": len(self.jobs),
            "allocations": len(self.allocs),
            "deployments": len(self.deployments),
            "nodes": len(self.nodes),
            "unhealthy": {c.slug: c.scenario for c in self.clients if c.scenario},
            "us_east_clients": [c.slug for c in self.clients if self.profile.abroad in c.datacenters],
        }

    def digest(self) -> str:
        """A fingerprint of everything the APIs serve: equal digests mean equal worlds.

        Lets a test compare two processes (say, with different PYTHONHASHSEED).
        """
        h = hashlib.sha256()
        with self.lock:
            h.update(repr((self.index, sorted(self.tables.items()))).encode())
            for j in self.job_list:
                h.update(
                    repr(
                        (j.id, j.status, j.modify_index, [(v.number, v.app_version, v.stable) for v in j.versions])
                    ).encode()
                )
            for a in self.alloc_list:
                tasks = [(t.name, t.state, t.restarts, t.events) for t in a.tasks]
                h.update(
                    repr(
                        (a.id, a.client_status, a.desired_status, a.modify_index, a.version, a.healthy, tasks)
                    ).encode()
                )
            for d in self.deployments.values():
                h.update(repr((d.id, d.status, d.description, d.modify_index, d.create_ns)).encode())
            for s in self.consul_services:
                h.update(repr((s.id, s.check_status, s.check_output, s.check_modify_index)).encode())
        return h.hexdigest()
