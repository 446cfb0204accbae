"""Apply Nomad events to the refresher's raw lists: the pure half of following /v1/event/stream.

The refresher keeps, per source, the list body Nomad's list endpoint gave (allocations slimmed by
``connectors.slim``).  An event carries the FULL object that changed (nomad/state/events.go), so
each one is turned into the list stub Nomad itself would list, then kept in place of the old one:

* Allocation -> AllocListStub as ``Allocation.Stub`` makes it (nomad/structs/alloc.go) with task
  states, then slimmed like the list.  The event's allocation has no Job (events.go sets
  ``alloc.Job = nil``), and the stub's JobType/JobVersion come from it: a known allocation keeps
  its own unless the server rewrote it (a PlanResult for an allocation that still runs may be an
  in-place update to a new job version); a new or rewritten one takes them from its deployment,
  its predecessor and the jobs list when they agree, else one small request (``lookup``).
* Node -> NodeListStub as ``Node.Stub`` makes it (nomad/structs/structs.go); NodeDeregistration
  removes it.
* Deployment: /v1/deployments lists full deployments, so the payload is kept as it is (slimmed
  like the list: ``connectors.slim.slim_deployment``).
* Job, Evaluation, Service (and Allocation again): they mark jobs and namespaces dirty, whose
  list stubs are then read again one by one (``snapshot.rereads``, ``EventState.reread``).

Nomad sends the full object with omitempty encoding (zero fields left out), so missing stub
fields get their Go zero value, as the list would show them.  Nothing is deleted by an
Allocation or Deployment event: Nomad's garbage collection writes no event (no GC message type in
events.go's MsgTypeEvents), so the follower reloads the lists now and then (see
``snapshot.follower``).  Lists come out in the order the list endpoints give (allocations and
deployments by create index, nodes by ID), so ``views.build_frames`` builds the very same frames as from a
full reload of the same state (tests/unit/test_event_apply.py, a property test).
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connectors import ConnectorError
from connectors.slim import slim_allocation, slim_deployment

from .rereads import JobList, ServiceList

__all__ = [
    "EVENT_SOURCES",
    "FOLLOWED_SOURCES",
    "REREAD_SOURCES",
    "TOPICS",
    "TOPIC_SOURCE",
    "EventState",
    "Reread",
    "alloc_stub",
    "node_stub",
]

# The topics whose payloads become list items, and the raw source each one feeds.
TOPIC_SOURCE = {"Allocation": "allocations", "Deployment": "deployments", "Node": "nodes"}
EVENT_SOURCES = tuple(TOPIC_SOURCE.values())
# The lists kept by re-reading what events dirty (snapshot.rereads), and every topic followed.
REREAD_SOURCES = ("jobs", "nomad_services")
FOLLOWED_SOURCES = EVENT_SOURCES + REREAD_SOURCES
TOPICS = (*TOPIC_SOURCE, "Job", "Evaluation", "Service")
# More dirty jobs than this after one frame (a fleet-wide rollout): one read of the whole list.
WHOLE_JOBS_OVER = 200

# AllocListStub fields (nomad/structs/alloc.go) and the Go zero value each has when omitted.
_ALLOC_STUB_ZERO: tuple[tuple[str, Any], ...] = (
    ("ID", ""),
    ("EvalID", ""),
    ("Name", ""),
    ("Namespace", ""),
    ("NodeID", ""),
    ("NodeName", ""),
    ("JobID", ""),
    ("JobType", ""),
    ("JobVersion", 0),
    ("TaskGroup", ""),
    ("DeploymentStatus", None),
    ("DesiredStatus", ""),
    ("DesiredDescription", ""),
    ("DesiredTransition", None),
    ("ClientStatus", ""),
    ("ClientDescription", ""),
    ("FollowupEvalID", ""),
    ("NextAllocation", ""),
    ("PreemptedAllocations", None),
    ("PreemptedByAllocation", ""),
    ("RescheduleTracker", None),
    ("CreateIndex", 0),
    ("ModifyIndex", 0),
    ("CreateTime", 0),
    ("ModifyTime", 0),
    ("TaskStates", None),
)
# Desired statuses of an allocation that is no longer meant to run (structs.AllocDesiredStatus*).
_STOPPED = frozenset({"stop", "evict"})

MEMO_LIMIT = 200_000

Lookup = Callable[[str], Mapping[str, Any] | None]  # alloc ID -> its list stub (JobType, JobVersion)


def alloc_stub(alloc: Mapping[str, Any], job_type: str, job_version: int) -> dict[str, Any]:
    """Allocation.Stub(task_states=true) of a full allocation whose Job was left out."""
    out = {k: alloc.get(k, zero) for k, zero in _ALLOC_STUB_ZERO}
    out["JobType"] = job_type
    out["JobVersion"] = job_version
    # AllocatedResources only with ?resources=true, which the refresher does not ask for.
    out["AllocatedResources"] = None
    return out


def node_stub(node: Mapping[str, Any]) -> dict[str, Any]:
    """Node.Stub(nil) of a full node: Address is HTTPAddr's host, Version its nomad.version."""
    http_addr = str(node.get("HTTPAddr") or "")
    host = http_addr.rsplit(":", 1)[0] if ":" in http_addr else ""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    raw_attrs = node.get("Attributes")
    attrs: Mapping[str, Any] = raw_attrs if isinstance(raw_attrs, Mapping) else {}
    return {
        "Address": host,
        "ID": node.get("ID", ""),
        "Attributes": None,
        "Datacenter": node.get("Datacenter", ""),
        "Name": node.get("Name", ""),
        "NodePool": node.get("NodePool", ""),
        "NodeClass": node.get("NodeClass", ""),
        "Version": attrs.get("nomad.version", ""),
        "Drain": node.get("DrainStrategy") is not None,
        "SchedulingEligibility": node.get("SchedulingEligibility", ""),
        "Status": node.get("Status", ""),
        "StatusDescription": node.get("StatusDescription", ""),
        "Drivers": node.get("Drivers"),
        "HostVolumes": node.get("HostVolumes"),
        "NodeResources": None,
        "ReservedResources": None,
        "LastDrain": node.get("LastDrain"),
        "CreateIndex": node.get("CreateIndex", 0),
        "ModifyIndex": node.get("ModifyIndex", 0),
    }


def _id_key(item: Any) -> str:
    return str(item.get("ID", "")) if isinstance(item, dict) else ""


# Allocations and deployments are listed by create index (Alloc.List walks the "create" index,
# nomad/alloc_endpoint.go), which a slim stub does not carry: raft indexes only grow, so a new
# object goes last and a known one stays where it is. Nodes are listed by ID.
_BY_ID = frozenset({"nodes"})


class ChangeLog:
    """The IDs of the allocations an EventState changed, in order (bounded): lets a reader of two of
    its lists tell what changed between them without comparing 100,000 items. Sequence numbers
    are consecutive, so only the IDs are kept (the first one's number says the rest's): a
    (number, ID) pair per change was another ~9 MB once the log is full."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self.seq = 0  # the last change's number (the first is 1)
        self._ids: deque[str] = deque()

    def add(self, oid: str) -> None:
        self.seq += 1
        self._ids.append(oid)
        if len(self._ids) > self.limit:
            self._ids.popleft()

    def since(self, start: int, end: int) -> set[str] | None:
        """IDs changed after ``start`` up to ``end``; None when the log no longer reaches back."""
        if start > end:
            return None
        first = self.seq - len(self._ids) + 1  # the number of the oldest ID kept
        if start < end and (not self._ids or first > start + 1):
            return None
        n = len(self._ids)
        lo, hi = max(start + 1, first) - first, min(end, self.seq) - first + 1  # positions in the deque
        # from the newest end: the changes since a recent build are a few at the end of 100,000
        return set(itertools.islice(reversed(self._ids), n - hi, n - lo)) if hi > lo else set()


class AllocList(list):
    """A copy of the allocations list that can say which allocations changed since an earlier copy
    of the same EventState (``changed_since``; None: unknown, compare the items)."""

    seq = 0
    log: ChangeLog | None = None

    def changed_since(self, earlier: Any) -> set[str] | None:
        if self.log is None or not isinstance(earlier, AllocList) or earlier.log is not self.log:
            return None
        return self.log.since(earlier.seq, self.seq)


def _reread_each(kept: Any, read: Callable[[Any], Any], source: str, out: Reread) -> None:
    """Read each dirty key of ``kept`` (a JobList or ServiceList) again and put it; a failed read
    keeps the old item and marks the key dirty again."""
    for key in kept.take():
        try:
            got = read(key)
        except ConnectorError as err:
            kept.dirty.add(key)
            out.errors[source] = err
            continue
        if kept.put(key, got):
            out.changed.add(source)


class EventState:
    """The allocations, deployments and nodes lists, kept current by events.

    Built from the lists of one full load (``EventState(raw)``); ``apply(frame)`` takes one
    stream frame and returns the sources it changed; ``lists()`` gives the lists in the order
    the list endpoints give them. Not thread-safe: one follower owns it.
    """

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        slim: bool = True,
        lookup: Lookup | None = None,
        jobs: Callable[[], list | None] | None = None,
    ):
        self.slim = slim
        self.lookup = lookup
        self.jobs = jobs  # the current jobs list (JobListStub: Type, Version), when one is kept
        self._jobs_seen: Any = None
        self._jobs_by_key: dict[tuple, Mapping[str, Any]] = {}
        self.index = 0  # the last frame index applied
        self.changes = ChangeLog()  # the allocations changed, for AllocList.changed_since
        # Per source: the items in list-endpoint order, and where each ID is in it (create-ordered
        # sources) or the sorted IDs (nodes, for bisect).
        self._lists: dict[str, list] = {}
        self._where: dict[str, dict[str, int]] = {}
        self._ids: dict[str, list[str]] = {}
        self._memo: dict[Any, Any] = {}
        for source in EVENT_SOURCES:
            items = [x for x in raw.get(source) or [] if isinstance(x, dict) and _id_key(x)]
            if source in _BY_ID:
                items.sort(key=_id_key)
                self._ids[source] = [_id_key(x) for x in items]
            else:
                self._where[source] = {_id_key(x): i for i, x in enumerate(items)}
            self._lists[source] = items
        # Jobs and Nomad's services, when the load gave them: followed by re-reads.
        self.job_list = JobList(raw.get("jobs")) if raw.get("jobs") is not None else None
        self.service_list = ServiceList(raw.get("nomad_services")) if raw.get("nomad_services") is not None else None

    # -------------------------------------------------------------- applying

    def apply(self, frame: Mapping[str, Any]) -> set[str]:
        """Apply one stream frame; the names of the sources whose list changed."""
        changed: set[str] = set()
        events = frame.get("Events") if isinstance(frame, Mapping) else None
        for ev in events if isinstance(events, list) else ():
            if isinstance(ev, Mapping):
                source = self.apply_event(ev)
                if source:
                    changed.add(source)
        index = frame.get("Index") if isinstance(frame, Mapping) else None
        if isinstance(index, int) and index > self.index:
            self.index = index
        return changed

    def apply_event(self, ev: Mapping[str, Any]) -> str | None:
        """Apply one event; the source it changed, None when it is not for these lists."""
        topic = ev.get("Topic")
        payload = ev.get("Payload")
        if not isinstance(topic, str) or not isinstance(payload, Mapping):
            return None
        obj = payload.get(topic)
        if not isinstance(obj, Mapping) or not obj.get("ID") or not isinstance(obj.get("ID"), str):
            return None
        source = TOPIC_SOURCE.get(topic)
        if source is None:  # marks only: the lists change when the dirty items are read again
            if topic == "Job" and self.job_list is not None:
                self.job_list.on_job(obj)
            elif topic == "Evaluation" and self.job_list is not None:
                self.job_list.on_eval(obj)
            elif topic == "Service" and self.service_list is not None:
                self.service_list.on_service(obj)
            return None
        if topic == "Node":
            if ev.get("Type") == "NodeDeregistration":
                return source if self._remove(source, str(obj["ID"])) else None
            self._put(source, node_stub(obj))
        elif topic == "Deployment":
            self._put(source, slim_deployment(dict(obj), self._memo) if self.slim else dict(obj))
        else:
            old = self._find(source, str(obj["ID"]))
            if self.job_list is not None:
                self.job_list.on_alloc(obj, old)
            self._put(source, self._alloc(obj, old, ev.get("Type")))
            self.changes.add(str(obj["ID"]))
        return source

    def _find(self, source: str, oid: str) -> dict | None:
        items = self._lists[source]
        if source in _BY_ID:
            ids = self._ids[source]
            i = bisect.bisect_left(ids, oid)
            return items[i] if i < len(ids) and ids[i] == oid else None
        at = self._where[source].get(oid)
        return None if at is None else items[at]

    def _put(self, source: str, item: dict) -> None:
        oid, items = _id_key(item), self._lists[source]
        if source in _BY_ID:
            ids = self._ids[source]
            i = bisect.bisect_left(ids, oid)
            if i < len(ids) and ids[i] == oid:
                items[i] = item
            else:
                ids.insert(i, oid)
                items.insert(i, item)
            return
        where = self._where[source]
        at = where.get(oid)
        if at is None:
            where[oid] = len(items)
            items.append(item)
        else:
            items[at] = item

    def _remove(self, source: str, oid: str) -> bool:
        """Only nodes are ever removed by an event (NodeDeregistration)."""
        ids, items = self._ids[source], self._lists[source]
        i = bisect.bisect_left(ids, oid)
        if i < len(ids) and ids[i] == oid:
            del ids[i], items[i]
            return True
        return False

    def _alloc(self, alloc: Mapping[str, Any], old: dict | None, etype: Any) -> dict[str, Any]:
        job_type, job_version = self._job_of(alloc, old, etype)
        stub = alloc_stub(alloc, job_type or "", job_version if isinstance(job_version, int) else 0)
        if len(self._memo) > MEMO_LIMIT:  # shared strings: bounded, whatever the stream sends
            self._memo = {}
        return slim_allocation(stub, self._memo) if self.slim else stub

    def _job_of(self, alloc: Mapping[str, Any], old: dict | None, etype: Any) -> tuple[Any, Any]:
        """JobType and JobVersion for the stub, without a request when the state can tell:

        * a known allocation the server did not rewrite keeps its own;
        * one placed or updated in place by a deployment this state knows runs that deployment's
          JobVersion (Deployment.JobVersion: the job version the deployment rolls out);
        * a replacement (PreviousAllocation known) runs its predecessor's version when that is also
          the job's current one (the jobs list): a plan places the current job;
        * otherwise (or no type known) one small request (``lookup``)."""
        rewritten = etype == "PlanResult" and alloc.get("DesiredStatus") not in _STOPPED
        if old is not None and not rewritten:
            return old.get("JobType"), old.get("JobVersion")
        dep = self._find("deployments", str(alloc.get("DeploymentID") or "")) if alloc.get("DeploymentID") else None
        prev_id = alloc.get("PreviousAllocation")
        prev = old or (self._find("allocations", str(prev_id)) if prev_id else None)
        job = self._job(alloc)
        job_type = (prev or {}).get("JobType") or (job or {}).get("Type")
        version = None
        if dep is not None and isinstance(dep.get("JobVersion"), int):
            version = dep["JobVersion"]
        elif prev is not None and job is not None and prev.get("JobVersion") == job.get("Version"):
            version = prev.get("JobVersion")
        if job_type and version is not None:
            return job_type, version
        found = self.lookup(str(alloc["ID"])) if self.lookup is not None else None
        if found is not None:
            return found.get("JobType"), found.get("JobVersion")
        return job_type, version if version is not None else (prev or {}).get("JobVersion")

    def _job(self, alloc: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if self.job_list is not None:
            return self.job_list.find(alloc.get("Namespace"), alloc.get("JobID"))
        jobs = self.jobs() if self.jobs is not None else None
        if not jobs:
            return None
        if self._jobs_seen is not jobs:  # the refresher replaced its jobs list: index it again
            self._jobs_seen = jobs
            self._jobs_by_key = {(j.get("Namespace"), j.get("ID")): j for j in jobs if isinstance(j, dict)}
        return self._jobs_by_key.get((alloc.get("Namespace"), alloc.get("JobID")))

    def apply_all(self, frames: Iterable[Mapping[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for f in frames:
            changed |= self.apply(f)
        return changed

    # -------------------------------------------------------------- re-reading

    @property
    def stale(self) -> bool:
        """Some job or namespace is dirty: ``reread`` has something to read."""
        return bool((self.job_list and self.job_list.dirty) or (self.service_list and self.service_list.dirty))

    def reread(
        self,
        job_stub: Callable[[str, str], dict | None],
        services_of: Callable[[str], list],
        whole_jobs: Callable[[], list] | None = None,
    ) -> Reread:
        """Read every dirty job's stub (``job_stub(namespace, id)``, None when gone) and every dirty
        namespace's services (``services_of(namespace)``) and put them in the lists. A read that
        fails (ConnectorError) keeps the old item and leaves it dirty for the next call; more than
        ``WHOLE_JOBS_OVER`` dirty jobs are read as one whole list (``whole_jobs``) instead."""
        out = Reread()
        jl, sl = self.job_list, self.service_list
        if jl is not None and jl.dirty:
            if whole_jobs is not None and len(jl.dirty) > WHOLE_JOBS_OVER:
                keys = jl.take()
                try:
                    self.job_list = JobList(whole_jobs())
                    out.changed.add("jobs")
                except ConnectorError as err:
                    jl.dirty.update(keys)
                    out.errors["jobs"] = err
            else:
                _reread_each(jl, lambda key: job_stub(*key), "jobs", out)
        if sl is not None and sl.dirty:
            _reread_each(sl, services_of, "nomad_services", out)
        return out

    # -------------------------------------------------------------- reading

    def lists(self) -> dict[str, list]:
        """Each source's list in list-endpoint order: copies (the builder may read them while
        the next events are applied)."""
        out = {source: list(items) for source, items in self._lists.items()}
        if self.job_list is not None:
            out["jobs"] = self.job_list.items()
        if self.service_list is not None:
            out["nomad_services"] = self.service_list.items()
        return out

    def list(self, source: str) -> list:
        if source == "jobs" and self.job_list is not None:
            return self.job_list.items()
        if source == "nomad_services" and self.service_list is not None:
            return self.service_list.items()
        if source == "allocations":
            out = AllocList(self._lists[source])
            out.seq, out.log = self.changes.seq, self.changes
            return out
        return list(self._lists[source])


class Reread:
    """What ``EventState.reread`` did: the sources whose list changed, and per source the last
    read that failed (its items kept, still dirty)."""

    __slots__ = ("changed", "errors")

    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.errors: dict[str, ConnectorError] = {}
