"""Jobs coming and going, and allocations that find no room: the changes that move the jobs list
beyond an allocation's own summary bin.

Each step is its own raft index, as in Nomad (the write and the scheduler's answer are separate
applies), so a follower of the event stream sees what each one changed:

* ``launch_periodic``: the periodic dispatcher registers a child job (nomad/periodic.go; the job
  pending, its parent's ``Children`` counting it: nomad/state/state_store.go setJobStatus,
  setJobSummary), then the plan places its allocations (the child running: a Job event in the
  PlanResult's transaction, nomad/state/events.go), and the run finishes (the child dead, in the
  allocations' client update);
* ``deregister(purge=True)``: the job is deleted (JobDeregistered with ``Deleted``, nomad/structs/
  event.go JobEvent), then the scheduler stops its allocations;
* ``reschedule_blocked``: an allocation fails and, a second later, the scheduler finds no room for
  its replacement: the evaluation completes with the group still queued (nestedUpsertEval sets the summary's
  ``Queued`` from ``QueuedAllocations``: an index with no allocation in it) and a blocked
  evaluation waits; when room appears the replacement is placed (updateSummaryWithAlloc takes one
  off ``Queued``).

None of these run in the background life or the churn (their draws would change every seeded
world); tests and callers of the sandbox's API drive them.
"""

from __future__ import annotations

import bisect

from ..clock import NS
from .records import Alloc, Evaluation, Job, Version

SCHEDULER_DELAY = NS  # from an evaluation to the scheduler's answer
BLOCKED_FOR = 120 * NS  # until room appears for a blocked evaluation's allocation
RUN_SECONDS = 60  # a periodic run's length


class JobFlow:
    """Mixin of ``World``."""

    # ------------------------------------------------------------ periodic runs
    def launch_periodic(self, at: int, parent: Job) -> Job | None:
        """A run of periodic ``parent`` launched at ``at`` (None: one was launched that second)."""
        child = Job(f"{parent.id}/periodic-{at // NS}", parent.client, parent.role, parent=parent)
        if not parent.role.periodic or parent.parent is not None or self.job(child.namespace, child.id):
            return None
        child.versions.append(Version(0, at, parent.version.app_version, False, 0))
        child.launch_ns, child.status = at, "pending"
        self.jobs[(child.namespace, child.id)] = child
        bisect.insort(self.job_list, child, key=lambda j: (j.namespace, j.id))  # Job.List's order
        parent.children.append(child)
        ev = self._add_eval(child, "periodic-job", at, status="pending")
        ev.queued = None
        self._gc_objects.append(ev)
        idx = self.touch("jobs", "job_summary", "evals", changed=[(child, "JobRegistered"), (ev, "JobRegistered")])
        child.create_index = child.modify_index = child.summary_modify = child.versions[0].index = idx
        ev.create_index = ev.modify_index = idx
        # The plan: its allocations placed, the job running (setJobStatus in the same transaction).
        placed = [self._new_alloc(child, i, child.version, ev.id, at, child.client) for i in range(parent.role.count)]
        for a in placed:
            self._pending(a, at, "Downloading image")
        ev.status, ev.queued = "complete", 0
        child.status = "running"
        changed = [*((a, "PlanResult") for a in placed), (ev, "PlanResult"), (child, "PlanResult")]
        idx = self.touch("jobs", "job_summary", "allocs", "evals", changed=changed)
        child.modify_index = ev.modify_index = idx
        for a in placed:
            a.modify_index = idx
            self.at(at + (5 + a.log_seed % 10) * NS, self._placed_starts, a)
        self.at(at + RUN_SECONDS * NS, self._run_finishes, child)
        return child

    def _run_finishes(self, at: int, child: Job) -> None:
        if self.job(child.namespace, child.id) is not child or child.status == "dead":
            return
        done = [a for a in child.allocs if not a.terminal]
        for a in done:
            for ts in a.tasks:
                self._terminate(ts, at, 0, "")
                ts.state, ts.finished_ns = "dead", at
            a.client_status, a.client_description = "complete", "All tasks have completed"
            a.modify_ns = at
        child.status = "dead"  # every allocation terminal, no evaluation pending (getJobStatus)
        idx = self.touch(
            "allocs", "jobs", changed=[*((a, "AllocationUpdated") for a in done), (child, "AllocationUpdated")]
        )
        child.modify_index = idx
        for a in done:
            a.modify_index = idx

    # ------------------------------------------------------------ deregistration
    def deregister(self, job: Job) -> tuple[Evaluation, int]:
        """DELETE /v1/job/:id?purge=true: the job goes; the scheduler then stops its allocations.
        Returns the evaluation and the deregistration's index."""
        now = self.clock.now_ns()
        ev = self._add_eval(job, "job-deregister", now)
        ev.queued = None
        self._gc_objects.append(ev)
        del self.jobs[(job.namespace, job.id)]
        self.job_list.remove(job)
        if job.parent is not None and job in job.parent.children:
            job.parent.children.remove(job)  # DeleteJobTxn takes it off the parent's Children
        index = self.touch("jobs", "job_summary", "evals", changed=[(job, "JobDeregistered"), (ev, "JobDeregistered")])
        job.modify_index = ev.create_index = ev.modify_index = index
        live = [a for a in job.allocs if not a.terminal]
        gone = []
        for a in live:
            a.desired_status, a.desired_description = "stop", "alloc not needed due to job update"
            self._kill_tasks(a, now, "")
            a.client_status, a.client_description = "complete", "All tasks have completed"
            a.modify_ns = now
            gone += [(s, "ServiceDeregistration") for s in self.consul_by_alloc.get(a.id, ())]
            self._deregister_services(a)
        if live:
            tables = ("allocs", "consul_services", "consul_checks", "services")
            idx = self.touch(*tables, changed=[*((a, "PlanResult") for a in live), *gone])
            for a in live:
                a.modify_index = a.alloc_modify_index = idx
            for s, _kind in gone:
                self.service_gone[s.name.lower()] = idx
        return ev, index

    # ------------------------------------------------------------ no room
    def reschedule_blocked(self, at: int, a: Alloc, code: int, message: str) -> Evaluation:
        """The allocation fails for good and its replacement finds no room until BLOCKED_FOR later."""
        job = a.job
        self._fail_for_good(a, at, code, message)
        ev = self._add_eval(job, "alloc-failure", at, status="pending")
        ev.queued = None
        self._gc_objects.append(ev)
        gone = [(s, "ServiceDeregistration") for s in self.consul_by_alloc.get(a.id, ())]
        self._deregister_services(a)
        self._retire(a)
        tables = ("allocs", "evals", "consul_services", "consul_checks", "services")
        idx = self.touch(*tables, changed=[(a, "AllocationUpdated"), (ev, "AllocationUpdated"), *gone])
        a.modify_index = a.alloc_modify_index = ev.create_index = ev.modify_index = idx
        for s, _kind in gone:
            self.service_gone[s.name.lower()] = idx
        self.at(at + SCHEDULER_DELAY, self._no_room, ev, a)
        return ev

    def _no_room(self, at: int, ev: Evaluation, a: Alloc) -> None:
        """The scheduler's answer: nothing placed, one still queued, a blocked evaluation waits."""
        job = a.job
        if self.job(job.namespace, job.id) is not job:
            return
        # The scheduler places the whole job: its count is every allocation of the group it could
        # not place (an earlier blocked one too), and nestedUpsertEval sets Queued to it.
        job.queued += 1
        ev.status, ev.queued = "complete", job.queued
        blocked = self._add_eval(job, "queued-allocs", at, status="blocked")
        blocked.queued, blocked.previous = None, ev.id
        self._gc_objects.append(blocked)
        idx = self.touch("evals", "job_summary", changed=[(ev, "EvaluationUpdated"), (blocked, "EvaluationUpdated")])
        ev.modify_index = blocked.create_index = blocked.modify_index = job.summary_modify = idx
        self.at(at + BLOCKED_FOR, self._unblocked, blocked, a)

    def _unblocked(self, at: int, blocked: Evaluation, a: Alloc) -> None:
        job = blocked.job
        if blocked.status != "blocked" or self.job(job.namespace, job.id) is not job:
            return
        new = self._new_alloc(job, a.index, job.versions[a.version], blocked.id, at, job.client)
        new.previous = a.id
        new.deployment = a.deployment
        self._pending(new, at, "Downloading image")
        registered = self._register_services(new, "critical")
        job.queued = max(0, job.queued - 1)  # updateSummaryWithAlloc: a new pending allocation leaves the queue
        blocked.status, blocked.queued = "complete", job.queued
        changed = [(new, "PlanResult"), (blocked, "PlanResult"), *((s, "ServiceRegistration") for s in registered)]
        # upsertAllocsImpl (nomad/state/state_store.go) writes the previous allocation's
        # NextAllocation and ModifyIndex in the same transaction, unless it was collected meanwhile.
        previous = self.allocs.get(a.id) is a
        if previous:
            a.next = new.id
            changed.append((a, "PlanResult"))
        tables = ("allocs", "evals", "job_summary", "consul_services", "consul_checks", "services")
        idx = self.touch(*tables, changed=changed)
        new.modify_index = blocked.modify_index = idx
        if previous:
            a.modify_index = idx
        self.at(at + (5 + new.log_seed % 10) * NS, self._placed_starts, new)
