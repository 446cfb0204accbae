"""Nomad's jobs and services lists, kept by re-reading only what the event stream says changed.

Events cannot be turned into these lists' items the way an allocation is (``snapshot.events``):
a job's list stub embeds its JobSummary, which has no topic of its own, and the services list is
a per-namespace union of tags. So an event only marks what it touched as *dirty*; after the frame,
the follower reads each dirty item again with the list endpoint's own request (the same params,
so the answer is the very stub a whole list would hold) and puts it in place. The pure half is
here: which items an event dirties, and keeping the lists in the list endpoints' order.

Jobs (nomad/job_endpoint.go ``Job.List``: the list's index is max(jobs, job_summary); stubs are
``Job.Stub(summary)``; namespace ``*`` walks the jobs table's ``id`` index, (Namespace, ID)):

* Job topic (nomad/state/events.go: every write of the jobs table in a transaction with an event
  type, so JobRegistered, JobDeregistered, JobBatchDeregistered, and also a status change that an
  allocation update or plan makes, ``setJobStatus`` in nomad/state/state_store.go, typed after that
  transaction) dirties the job and its parent (a child's status moves the parent's
  ``Children`` summary: ``setJobSummary``; a child deleted too: ``DeleteJobTxn``);
* Allocation topic: ``updateSummaryWithAlloc`` rewrites the summary only for a new allocation or a
  new client status, so such an event dirties the allocation's job (a task restart does not);
* Evaluation topic: ``nestedUpsertEval`` sets a task group's ``Queued`` to the evaluation's
  ``QueuedAllocations``, so an evaluation whose count differs from the stub held dirties its job.

A job that the re-read no longer finds is gone (deregistered or collected) and is removed.

Services (nomad/service_registration_endpoint.go ``List``: with namespace ``*`` one
``{"Namespace", "Services": [{"ServiceName", "Tags"}]}`` per namespace that has registrations, built
from Go maps, so Nomad itself promises no order): a Service event (ServiceRegistration,
ServiceDeregistration; payload ``Service`` with its Namespace) dirties that namespace, whose entry is
replaced by the list read for it alone (absent when it has none left). Entries keep the order they
were loaded in; a new namespace goes before the first one named after it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["JobKey", "JobList", "ServiceList"]

JobKey = tuple[str, str]  # (namespace, job ID)


def job_key(stub: Mapping[str, Any]) -> JobKey:
    return (str(stub.get("Namespace") or ""), str(stub.get("ID") or ""))


class JobList:
    """The jobs list (JobListStub, meta=true) in Job.List order, and the jobs events dirtied."""

    def __init__(self, items: Iterable[Any] | None):
        kept = [x for x in items or () if isinstance(x, dict) and x.get("ID")]
        kept.sort(key=job_key)
        self._items: list[dict] = kept
        self._keys: list[JobKey] = [job_key(x) for x in kept]
        self.dirty: set[JobKey] = set()

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[dict]:
        return list(self._items)

    def find(self, namespace: Any, job_id: Any) -> dict | None:
        key = (str(namespace or ""), str(job_id or ""))
        i = bisect.bisect_left(self._keys, key)
        return self._items[i] if i < len(self._keys) and self._keys[i] == key else None

    def mark(self, namespace: Any, job_id: Any) -> None:
        if isinstance(namespace, str) and namespace and isinstance(job_id, str) and job_id:
            self.dirty.add((namespace, job_id))

    # ------------------------------------------------------------ what events dirty

    def on_job(self, job: Mapping[str, Any]) -> None:
        ns = job.get("Namespace")
        self.mark(ns, job.get("ID"))
        self.mark(ns, job.get("ParentID"))

    def on_alloc(self, alloc: Mapping[str, Any], old: Mapping[str, Any] | None) -> None:
        """``old``: the allocation's list stub before this event (None: a new allocation)."""
        if old is None or old.get("ClientStatus") != alloc.get("ClientStatus"):
            self.mark(alloc.get("Namespace"), alloc.get("JobID"))

    def on_eval(self, ev: Mapping[str, Any]) -> None:
        queued = ev.get("QueuedAllocations")
        if not isinstance(queued, Mapping) or not queued:
            return
        ns, job_id = ev.get("Namespace"), ev.get("JobID")
        stub = self.find(ns, job_id)
        if stub is None:  # not (yet) held: a registration's Job event comes too; read it anyway
            self.mark(ns, job_id)
            return
        summary = (stub.get("JobSummary") or {}).get("Summary") or {}
        for group, n in queued.items():
            tg = summary.get(group)
            # A group the summary lacks is logged and skipped by nestedUpsertEval.
            if isinstance(tg, Mapping) and tg.get("Queued", 0) != n:
                self.mark(ns, job_id)
                return

    # ------------------------------------------------------------ re-read answers

    def take(self) -> list[JobKey]:
        """The dirty jobs, in list order; they are no longer dirty (``mark`` again on a failure)."""
        out = sorted(self.dirty)
        self.dirty.clear()
        return out

    def put(self, key: JobKey, stub: dict | None) -> bool:
        """The re-read stub of ``key`` (None: Nomad has no such job any more); True if the list changed."""
        i = bisect.bisect_left(self._keys, key)
        here = i < len(self._keys) and self._keys[i] == key
        if stub is None:
            if not here:
                return False
            del self._keys[i], self._items[i]
            return True
        if here:
            if self._items[i] == stub:
                return False
            self._items[i] = stub
        else:
            self._keys.insert(i, key)
            self._items.insert(i, stub)
        return True


class ServiceList:
    """Nomad's services list (/v1/services?namespace=*): one entry per namespace."""

    def __init__(self, items: Iterable[Any] | None):
        self._items: list[dict] = [x for x in items or () if isinstance(x, dict) and x.get("Namespace")]
        self.dirty: set[str] = set()

    def items(self) -> list[dict]:
        return list(self._items)

    def on_service(self, reg: Mapping[str, Any]) -> None:
        ns = reg.get("Namespace")
        if isinstance(ns, str) and ns:
            self.dirty.add(ns)

    def take(self) -> list[str]:
        out = sorted(self.dirty)
        self.dirty.clear()
        return out

    def put(self, namespace: str, listed: Iterable[Any] | None) -> bool:
        """The list read for ``namespace`` alone; True if the list changed."""
        entry = next((b for b in listed or () if isinstance(b, dict) and b.get("Namespace") == namespace), None)
        if entry is not None and not entry.get("Services"):
            entry = None
        at = next((k for k, b in enumerate(self._items) if b.get("Namespace") == namespace), None)
        if at is None:
            if entry is None:
                return False
            after = next((k for k, b in enumerate(self._items) if str(b.get("Namespace")) > namespace), None)
            self._items.insert(len(self._items) if after is None else after, entry)
            return True
        if entry is None:
            del self._items[at]
            return True
        if self._items[at] == entry:
            return False
        self._items[at] = entry
        return True
