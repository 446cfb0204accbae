"""Time flow: what happens while the simulated clock moves.

Scheduled consequences (a restarted task starting again, a deployment finishing, a check
recovering) are timers on the world (``World.at``), run in time order as the clock passes
them. On top of that, two sources of change:

- background life for the demo, drawn once per 2 s step: rare and short-lived (a check that
  warns for a minute, a task that crashes once and is restarted, a routine deployment), so a
  fleet reads mostly healthy with the seeded problems standing out;
- churn (``World.churn``, changes per simulated second) for benchmarks: crashes and restarts,
  reschedules, deployments and flapping checks on random allocations, each O(1) in the size of
  the platform, each logged with its modify index in ``World.churn_log``.
"""

from __future__ import annotations

import collections
import random
import time

from ..clock import NS
from .lifecycle import CHECK_OK, CHECK_RATE_LIMITED
from .records import (
    DEPLOYMENT_RUNNING,
    DEPLOYMENT_SUCCESSFUL,
    SUMMARY_KEYS,
    Alloc,
    ConsulService,
    Deployment,
    Job,
    Version,
)

# A healthy task's rare crash: (exit code, message), restarted in place by its restart policy.
CRASHES = (
    (137, "OOM Killed"),
    (2, "panic: runtime error: invalid memory address or nil pointer dereference"),
)
MAX_STEPS = 300  # background steps per advance: advancing days stays quick
CHURN_BURST = 10  # at most this many seconds' worth of churn per advance
CHURN_LOG = 10_000  # entries kept in World.churn_log


class Simulation:
    """Mixin of ``World``: reacts to ``SimClock.advance``."""

    STEP = 2 * NS
    # Chance per 2 s step, for a 40-client fleet (scaled with the number of clients).
    P_FLAP = 0.006  # ~ one warning check every 5-6 minutes, lasting 20-90 s
    P_CRASH = 0.003  # ~ one crash-and-restart every 11 minutes
    P_DEPLOY = 0.004  # ~ one routine deployment every 8 minutes, done in 20-90 s

    def _init_simulation(self, churn: float) -> None:
        self._next_step_ns = self.clock.now_ns() + self.STEP
        self._noise = max(1.0, len(self.clients) / 40)
        self.churn = float(churn)
        self._churn_due = 0.0
        self._churn_rng = random.Random(f"churn-{self.seed}")
        # (time.monotonic() when applied, alloc ID, the index it was applied at): a benchmark reads
        # this to measure how long a change takes to show up in the dashboard.
        self.churn_log: collections.deque[tuple[float, str, int]] = collections.deque(maxlen=CHURN_LOG)
        self.churn_applied = 0
        self._gc_allocs: collections.deque[Alloc] = collections.deque()
        self._gc_objects: collections.deque = collections.deque()

    def _on_advance(self, old_ns: int, new_ns: int) -> None:
        with self.lock:
            lag = (new_ns - self._next_step_ns) // self.STEP + 1 - MAX_STEPS
            if lag > 0:  # skip the background life of all but the last MAX_STEPS steps
                self._run_timers(self._next_step_ns + (lag - 1) * self.STEP)
                self._next_step_ns += lag * self.STEP
            while self._next_step_ns <= new_ns:
                self._run_timers(self._next_step_ns)
                self._live_step(self._next_step_ns)
                self._next_step_ns += self.STEP
            self._run_timers(new_ns)
            if self.churn > 0:
                self._churn_for(old_ns, new_ns)

    # ------------------------------------------------------------ background
    def _live_step(self, now: int):
        rng = self._step_rng
        self._steps += 1
        roll = rng.random() / self._noise
        if roll < self.P_FLAP:
            self._flap(now, self._pick(rng))
        elif roll < self.P_FLAP + self.P_CRASH:
            a = self._pick(rng)
            if a is not None and a.tasks[0].state == "running":
                self._crash(now, a, *CRASHES[rng.randrange(len(CRASHES))])
        elif roll < self.P_FLAP + self.P_CRASH + self.P_DEPLOY:
            a = self._pick(rng)
            if a is not None:
                self._start_deployment(now, a.job, rng)

    def _pick(self, rng: random.Random) -> Alloc | None:
        """A random running allocation of a client without seeded trouble (None after a few misses)."""
        for _ in range(4):
            a = self.alloc_list[rng.randrange(len(self.alloc_list))]
            if a.client_status == "running" and not a.terminal and not a.job.client.scenario and not a.crash:
                return a
        return None

    def _flap(self, now: int, a: Alloc | None) -> int | None:
        """One of the allocation's checks warns for a minute or so, then passes again."""
        if a is None:
            return None
        # Consul checks only: Nomad-native services (the worker's) have none here.
        svcs = [
            s for s in self.consul_by_alloc.get(a.id, ()) if s.check_status == "passing" and s in self.consul_services
        ]
        if not svcs:
            return None
        s = svcs[0]
        self._set_check(s, "warning", CHECK_RATE_LIMITED)
        idx = s.check_modify_index = self.touch("consul_checks")
        self.at(now + (20 + a.log_seed % 70) * NS, self._check_recovers, s, a)
        return idx

    def _check_recovers(self, at: int, s: ConsulService, a: Alloc) -> None:
        if s.alloc is a and s.check_status == "warning":
            self._set_check(s, "passing", CHECK_OK)
            s.check_modify_index = self.touch("consul_checks")

    # ----------------------------------------------------------- deployments
    def _start_deployment(self, now: int, job: Job, rng: random.Random) -> Deployment | None:
        """A new job version rolled out to every running allocation of ``job``; succeeds in 20-90 s."""
        if job.role.type != "service" or job.client.scenario:
            return None
        if job.deployments and job.deployments[-1].status == "running":
            return None
        live = [a for a in job.allocs if not a.terminal]
        if not live:
            return None
        v = Version(len(job.versions), now, self.plans[job.role.name].current(now), False, self._next_index())
        job.versions.append(v)
        ev = self._add_eval(job, "job-register", now)
        d = Deployment(self.uuid(), job, v.number, "running", DEPLOYMENT_RUNNING, self._next_index(), len(live), now)
        d.placed = len(live)
        ev.deployment_id = d.id
        self.deployments[d.id] = d
        job.deployments.append(d)
        self._gc_objects.append(ev)
        self._gc_objects.append(d)
        services: list = []
        for a in live:
            new = self._new_alloc(job, a.index, v, ev.id, now, job.client, node=a.node)
            new.deployment, new.healthy, new.previous = d, None, a.id
            a.next = new.id
            self._start_tasks(new, now + 3 * NS)
            self._kill_tasks(a, now + 2 * NS, "alloc is being updated due to job update")
            a.client_status, a.desired_status = "complete", "stop"
            a.desired_description = "alloc is being updated due to job update"
            a.client_description = "All tasks have completed"
            a.modify_ns = now
            services += self._hand_over_services(a, new)
            self._retire(a)
        placed = job.allocs[-len(live) :]
        changed = [job, (ev, "JobRegistered"), *((x, "PlanResult") for x in (d, *live, *placed))]
        changed += services
        idx = self.touch(
            "jobs", "allocs", "deployments", "evals", *self.consul_tables(services), "services", changed=changed
        )
        job.modify_index = d.modify_index = idx
        for a in live + job.allocs[-len(live) :]:  # the stopped ones and their replacements
            a.modify_index = idx
        self.at(now + rng.randint(20, 90) * NS, self._deployment_succeeds, d)
        return d

    def _rollout_reaches(self, at: int, job: Job) -> None:
        """The fleet rollout under way at start gets to this client (tried again if it is busy)."""
        if self._start_deployment(at, job, self._step_rng) is None and not job.client.scenario:
            self.at(at + 5 * 60 * NS, self._rollout_reaches, job)

    def _deployment_succeeds(self, at: int, d: Deployment) -> None:
        if d.status != "running":
            return
        d.status, d.description = "successful", DEPLOYMENT_SUCCESSFUL
        d.placed = d.healthy = d.desired
        d.modify_ns = at
        d.job.versions[d.version].stable = True
        for a in d.job.allocs:
            if a.deployment is d and a.healthy is None:
                a.healthy = True
                a.modify_index = self.touch("allocs", changed=[(a, "DeploymentAllocHealth")])
        d.modify_index = self.touch("deployments", changed=(d,))

    # ------------------------------------------------------------ reschedule
    def _fail_for_good(self, a: Alloc, at: int, code: int, message: str) -> None:
        """The task exits past its restart attempts: the allocation is failed (a reschedule follows)."""
        self._terminate(a.tasks[0], at, code, message)
        self._not_restarting(a, at, 'Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"')
        a.client_status, a.client_description = "failed", "Failed tasks"
        a.healthy = False if a.deployment else a.healthy
        a.modify_ns = at

    def _reschedule(self, at: int, a: Alloc, code: int, message: str) -> Alloc:
        """The allocation fails for good; the scheduler places a replacement that starts seconds later."""
        job = a.job
        self._fail_for_good(a, at, code, message)
        ev = self._add_eval(job, "alloc-failure", at)
        self._gc_objects.append(ev)
        new = self._new_alloc(job, a.index, job.versions[a.version], ev.id, at + NS, job.client)
        new.previous, a.next = a.id, new.id
        new.deployment = a.deployment
        self._pending(new, at + NS, "Downloading image")
        services = self._hand_over_services(a, new, "critical")
        self._retire(a)
        changed = [a, ev, (new, "PlanResult"), *services]
        idx = self.touch("allocs", "evals", *self.consul_tables(services), "services", changed=changed)
        a.modify_index = a.alloc_modify_index = new.modify_index = idx
        self.at(at + (5 + new.log_seed % 10) * NS, self._placed_starts, new)
        return new

    def _delayed_reschedule(self, at: int, a: Alloc, ev) -> None:
        """The follow-up evaluation's wait is over: the scheduler places the replacement."""
        ev.status, ev.description = "complete", ""
        ev.modify_index = self._next_index()
        job = a.job
        new = self._new_alloc(job, a.index, job.versions[a.version], ev.id, at, job.client)
        new.previous, a.next = a.id, new.id
        new.deployment = a.deployment
        self._pending(new, at, "Downloading image")
        registered = self._register_services(new, "critical")
        changed = [a, ev, (new, "PlanResult"), *((s, "ServiceRegistration") for s in registered)]
        idx = self.touch("allocs", "evals", *self.consul_tables(registered), "services", changed=changed)
        a.modify_index = new.modify_index = idx
        self.at(at + (5 + new.log_seed % 10) * NS, self._placed_starts, new)

    def _placed_starts(self, at: int, a: Alloc) -> None:
        if a.terminal:
            return
        for ts in a.tasks:
            ts.events.append(("Started", at, None))
            ts.state, ts.started_ns = "running", at
        a.client_status, a.client_description = "running", "Tasks are running"
        a.healthy = True if a.deployment else a.healthy
        a.modify_ns = at
        a.modify_index = self.touch("allocs", changed=(a,))
        self.at(at + (4 + a.log_seed % 8) * NS, self._checks_pass, a)

    # ------------------------------------------------------------------- gc
    def _retire(self, a: Alloc) -> None:
        """A replaced allocation: kept a while (it shows in lists), then garbage-collected like Nomad's."""
        self._gc_allocs.append(a)
        if len(self._gc_allocs) > max(500, len(self.alloc_list) // 20):
            self._collect()

    def _collect(self) -> None:
        """Drop the older half of retired allocations (and old live evals/deployments) in one pass."""
        gone = {id(self._gc_allocs.popleft()) for _ in range(len(self._gc_allocs) // 2)}
        jobs = {}
        for a in self.alloc_list:
            if id(a) in gone:
                jobs[id(a.job)] = a.job
                self.allocs.pop(a.id, None)
                key = SUMMARY_KEYS.get(a.client_status)
                if key:
                    a.job.collected[key] = a.job.collected.get(key, 0) + 1
        self.alloc_list[:] = [a for a in self.alloc_list if id(a) not in gone]
        for job in jobs.values():
            job.allocs[:] = [a for a in job.allocs if id(a) not in gone]
        tables = {"allocs", "evals"} if jobs else set()
        while len(self._gc_objects) > max(1000, len(self.alloc_list) // 10):
            obj = self._gc_objects.popleft()
            if isinstance(obj, Deployment):
                if obj.status == "running":
                    self._gc_objects.append(obj)
                    continue
                self.deployments.pop(obj.id, None)
                obj.job.deployments.remove(obj)
                tables.add("deployments")
            else:
                self.evals.pop(obj.id, None)
                obj.job.evals.remove(obj)
                tables.add("evals")
        if tables:
            # A raft write that moves the tables' indexes (StateStore.DeleteEval, DeleteDeployment in
            # nomad/state/state_store.go) but sends no event (no GC type in nomad/state/events.go).
            self.touch(*sorted(tables))

    # ----------------------------------------------------------------- churn
    def churn_state(self, since: float | None = None) -> dict:
        """What GET /_sandbox/churn answers: the rate, how many changes so far, the last ones applied.

        ``changes`` are ``[monotonic time, alloc ID, index]``, oldest first, at most 10,000, and only
        those applied after monotonic time ``since`` when given. The index is the Nomad (or, for a
        check, Consul) index the change was written at: a reader has seen it once it holds that index.
        """
        with self.lock:
            log = [list(e) for e in self.churn_log if since is None or e[0] > since]
            return {"rate": self.churn, "applied": self.churn_applied, "changes": log}

    def _churn_for(self, old_ns: int, new_ns: int) -> None:
        seconds = min((new_ns - old_ns) / NS, CHURN_BURST)
        self._churn_due += self.churn * seconds
        n = int(self._churn_due)
        self._churn_due -= n
        for k in range(n):
            self._churn_change(old_ns + (new_ns - old_ns) * (k + 1) // n)

    def _churn_change(self, now: int) -> None:
        """One change to a random allocation: O(1) in the number of allocations.

        A pick that cannot take the drawn change (no check to flap, a task already restarting)
        draws again, a few times at most, so the rate holds unless the platform is saturated.
        """
        rng = self._churn_rng
        for _ in range(8):
            a = self._pick(rng)
            if a is None:
                continue
            roll = rng.random()
            idx: int | None = None
            if roll < 0.4:
                idx = self._flap(now, a)
            elif roll < 0.75:
                if a.tasks[0].state == "running":
                    self._crash(now, a, *CRASHES[rng.randrange(len(CRASHES))])
                    idx = a.modify_index
            elif roll < 0.9:
                a = self._reschedule(now, a, *CRASHES[rng.randrange(len(CRASHES))])
                idx = a.modify_index
            else:
                d = self._start_deployment(now, a.job, rng)
                if d is not None:
                    idx = d.modify_index
            if idx is not None:
                self.churn_applied += 1
                self.churn_log.append((time.monotonic(), a.id, idx))
                return
