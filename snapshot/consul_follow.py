"""Consul health at scale: what is not passing at once, instances as Nomad's allocations change.

Why (Consul's source, see bench/README.md "Consul at scale"):

* ``/v1/health/state/:state`` answers with the checks table's index whatever the state or filter
  (agent/consul/state/catalog.go checksInStateTxn -> catalogChecksMaxIndex; the ``filter`` runs
  after the read, agent/consul/health_endpoint.go ChecksInState), so a blocking query on it wakes
  whenever any check anywhere is written.  Asked for ``warning`` and ``critical`` (looked up
  through the checks' status index) it re-sends only the checks that are not passing.
* ``/v1/catalog/services`` answers with the services table's index (catalog.go Services ->
  catalogServicesMaxIndex), moved by every instance registration, change or deregistration
  (catalog_ce.go catalogInsertService, catalog.go deleteServiceTxn) and by no check write: it
  says *that* an instance changed, not which.
* Per-name indexes ("service.<name>", catalog.go maxIndexAndWatchChForService) move with every
  check write of the name, and our names are shared by every client: no narrower signal there.
  No delta read exists over HTTP either: Raft indexes are not filterable (agent/structs/structs.go
  RaftIndex has ``bexpr:"-"``) and a deregistration leaves no row.
* But an instance changes because its allocation did, and Nomad names the allocation in each
  registration's ID (``_nomad-task-<alloc ID>-<task>-<service>-<port>``, nomad
  client/serviceregistration/id.go MakeAllocServiceID).  The refresher already follows Nomad's
  allocations, so it tells this follower which allocations changed (``allocations_changed``), and
  the follower reads just their instances and checks: ``?filter=ServiceID matches
  "^_nomad-task-(<id>|<id>...)-"`` on ``/v1/catalog/services`` (which names have them now),
  ``/v1/catalog/service/:name`` and ``/v1/health/checks/:name``.  Consul applies the filter to
  the rows it read (agent/consul/catalog_endpoint.go ListServices and ServiceNodes,
  health_endpoint.go ServiceChecks), so the answer is those allocations' rows only.

So, per source, with the refresher's fetch signature ``(index, wait) -> Listing``:

* ``services``: ``{name: catalog entries}`` read in full once; then a blocking query on
  ``/v1/catalog/services``.  Allocations Nomad reported since the last call are looked up at once
  (no blocking); on a wake, so are those reported in the last ``settle`` seconds that no read has
  shown changed yet (Consul may register an instance after Nomad reports its allocation).  A wake
  that no read explains within ``settle`` seconds (a service Nomad did not register, or a change
  nobody told of) makes a full read due; so does a name that appears without a lookup finding it.
* ``checks``: every check once (``/v1/health/state/any``), then a blocking query on
  ``/v1/health/state/warning`` and a read of ``/critical``; the changed allocations' checks are
  looked up the same way, on a thread of their own (one lookup at a time), so a flap never waits
  for a lookup: while one runs, the not-passing checks are read at once, without blocking, and the
  first call after it ended applies it.  A wake also looks up again those reported in the last
  ``settle`` seconds not seen changed yet.  The list handed out is the non-passing answer plus the
  held checks as passing; a held check that was not passing and is missing from the answer has
  recovered and is shown passing without its output (the one difference from a full read).
* A full read, when due (an unexplained wake on either source, more changed allocations at once
  than ``overflow``, or ``full_max`` seconds since the last while things change), waits for
  ``full_min`` seconds after the last or longer when full reads are slow: they take at most
  ``full_share`` of the time.  A quiet cluster makes none.

What it cannot see before a full read: checks of nodes that joined Consul since (node checks are
not an allocation's), and a service not registered by a Nomad allocation changing at the same
moment as one that is (the wake then counts as explained).

Index None (first read, after an error, ``refresh_once``) or an index that went backwards (a
restore, a new leader's snapshot) is a full read.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from connectors import ConsulConnector, Listing
from connectors.paths import UUID_RE
from connectors.slim import slim_catalog_entry

from .events import AllocList

__all__ = [
    "MODE_FOLLOW",
    "MODE_LISTS",
    "AllocChanges",
    "ConsulFollow",
    "alloc_filter",
    "alloc_of",
    "consul_follow_enabled",
    "merge_again",
    "merge_checks",
]

FULL_MIN = 30.0  # seconds between full reads at least
FULL_SHARE = 0.05  # full reads take at most this share of the time
FULL_MAX = 3600.0  # and one at least this often while things change (what nobody told of)
SETTLE = 5.0  # seconds a reported allocation is still looked for in Consul
BATCH = 64  # allocation IDs per filter (a URL stays a few kB)
OVERFLOW = 2000  # more changed allocations at once than this: a full read instead of lookups

# How each Consul source is followed (SourceStatus.mode, said on the freshness line).
MODE_FOLLOW = "failing checks and changed allocations"
MODE_LISTS = "blocking queries"

Key = tuple[str, str]
_PREFIX = "_nomad-task-"


def _is_alloc_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 36 and UUID_RE.match(value) is not None


def consul_follow_enabled(env) -> bool:
    """On unless DASHBOARD_CONSUL_DELTA is 0/false/no/off (then whole lists, as before)."""
    return str(env.get("DASHBOARD_CONSUL_DELTA", "")).strip().lower() not in ("0", "false", "no", "off")


def alloc_of(service_id: Any) -> str:
    """The allocation ID in a Nomad-registered service ID ('' for any other)."""
    return _alloc_of(service_id) if isinstance(service_id, str) else ""


@functools.lru_cache(maxsize=1 << 18)  # a lookup walks a name's every entry: at 100,000 the regex adds up
def _alloc_of(service_id: str) -> str:
    if service_id.startswith(_PREFIX):
        cand = service_id[len(_PREFIX) : len(_PREFIX) + 36]
        if _is_alloc_id(cand) and service_id[len(_PREFIX) + 36 : len(_PREFIX) + 37] == "-":
            return cand
    return ""


def alloc_filter(ids: Iterable[str]) -> str:
    """go-bexpr for the rows of these allocations (IDs are checked: only UUIDs reach the filter)."""
    ok = sorted(i for i in ids if _is_alloc_id(i))
    return 'ServiceID matches "^' + _PREFIX + "(" + "|".join(ok) + ')-"'


def _add(index: dict[str, tuple], alloc: str, item: Any) -> None:
    """Put ``item`` in the tuple ``index`` holds for ``alloc`` (once): an allocation has one or two
    checks and service names, 62,000 of them at 100,000 allocations."""
    held = index.get(alloc, ())
    if item not in held:
        index[alloc] = (*held, item)


def _check_key(c: dict) -> Key:
    return (c.get("Node") or "", c.get("CheckID") or "")


def merge_checks(full: dict[Key, dict], not_passing: list[dict]) -> list[dict]:
    """The held checks and a newer answer of the non-passing checks (pure).

    Order: the answer's first (each state's list is in a full read's order, so the checks client
    health names come in the order a full read would give), then the held checks."""
    return merge_again(full, not_passing, {})[0]


def merge_again(full: dict[Key, dict], not_passing: list[dict], last: dict[Key, dict]) -> tuple[list, dict]:
    """``merge_checks``, and the checks of its list that are not ``full``'s objects (the answer's,
    the recovered): the next call's ``last``. A check equal to ``last``'s is handed out again, the
    very same object, so the frame builder (views.checkpatch, by identity) builds again only the
    checks that changed, not every one that is not passing (each answer is parsed afresh)."""
    mine: dict[Key, dict] = {}

    def again(k: Key, c: dict) -> dict:
        o = last.get(k)
        mine[k] = c = o if o is not None and o == c else c
        return c

    fresh = {_check_key(c): c for c in not_passing}
    out = [again(k, c) for k, c in fresh.items()]
    for k, c in full.items():
        if k in fresh:
            continue
        if c.get("Status") == "passing":
            out.append(c)
        else:  # recovered since it was read
            out.append(again(k, {**c, "Status": "passing", "Output": ""}))
    return out, mine


def _marks(allocs: list) -> dict[str, tuple]:
    return {
        str(a.get("ID")): (a.get("ModifyIndex"), a.get("ModifyTime"), a.get("ClientStatus"), a.get("DesiredStatus"))
        for a in allocs
        if isinstance(a, dict) and a.get("ID")
    }


class AllocChanges:
    """Which allocations changed from one allocations list to the next (the refresher's listener).

    The event stream hands out lists whose unchanged items are the very same objects (snapshot.events
    replaces a changed item and appends a new one), so a pointer comparison finds the changes; a
    fresh list (blocking queries, a reload) is compared by what each allocation says of itself.
    Returns None when more than ``limit`` changed (a full read is cheaper than the lookups)."""

    def __init__(self, limit: int = OVERFLOW):
        self.limit = int(limit)
        self._prev: list | None = None
        self._marks: dict[str, tuple] | None = None

    def __call__(self, allocs: Any) -> set[str] | None:
        if not isinstance(allocs, list):
            return set()
        prev, self._prev = self._prev, allocs
        if prev is None:  # the first list: the follower's first full reads are its state
            self._marks = None
            return set()
        told = allocs.changed_since(prev) if isinstance(allocs, AllocList) else None
        if told is not None:  # the event state says which: no walk over every allocation
            self._marks = None
            return told if len(told) <= self.limit else None
        n = min(len(prev), len(allocs))
        diff = [i for i, (a, b) in enumerate(zip(prev, allocs)) if a is not b]
        if len(diff) <= self.limit:
            diff = [i for i in diff if prev[i] != allocs[i]]
            self._marks = None
            items = [prev[i] for i in diff] + [allocs[i] for i in diff] + prev[n:] + allocs[n:]
            out = {str(a["ID"]) for a in items if isinstance(a, dict) and a.get("ID")}
        else:
            old = self._marks if self._marks is not None else _marks(prev)
            new = self._marks = _marks(allocs)
            out = {a for a in old.keys() | new.keys() if old.get(a) != new.get(a)}
        return out if len(out) <= self.limit else None


class _Candidates:
    """Allocations Nomad reported changed, for each source to look up (thread-safe)."""

    def __init__(self, monotonic: Callable[[], float], settle: float, sources: tuple[str, ...]):
        self._monotonic = monotonic
        self.settle = settle
        self._lock = threading.Lock()
        self._seq = 0
        self._overflow = 0  # seq of the last report too big to look up
        self._at: dict[str, tuple[int, float]] = {}  # alloc -> (seq, monotonic) of its last report
        self._cursor = dict.fromkeys(sources, 0)
        self._settled: dict[str, dict[str, int]] = {s: {} for s in sources}  # seen changed since that seq

    def add(self, ids: Iterable[str]) -> None:
        now = self._monotonic()
        with self._lock:
            for a in ids:
                if _is_alloc_id(a):
                    self._seq += 1
                    self._at[a] = (self._seq, now)

    def overflow(self) -> None:
        with self._lock:
            self._seq += 1
            self._overflow = self._seq

    def mark(self) -> int:
        with self._lock:
            return self._seq

    def pending(self, source: str) -> bool:
        """Something was reported since this source last took."""
        with self._lock:
            return self._seq > self._cursor[source]

    def covered(self, source: str, seq: int) -> None:
        """A full read that started at ``seq`` holds every report up to it."""
        with self._lock:
            self._cursor[source] = max(self._cursor[source], seq)

    def take(self, source: str) -> tuple[set[str], set[str], bool]:
        """(reported since this source last took, still settling: not yet seen changed, overflowed)."""
        now = self._monotonic()
        with self._lock:
            cur, settled = self._cursor[source], self._settled[source]
            new = {a for a, (s, _t) in self._at.items() if s > cur}
            recent = {a for a, (s, t) in self._at.items() if t >= now - self.settle and settled.get(a) != s}
            over = self._overflow > cur
            self._cursor[source] = self._seq
            low = min(self._cursor.values())
            for a in [a for a, (s, t) in self._at.items() if s <= low and t < now - self.settle]:
                del self._at[a]
                for st in self._settled.values():
                    st.pop(a, None)
            return new, recent | new, over

    def settle_seen(self, source: str, ids: Iterable[str]) -> None:
        """These allocations' change was seen in Consul: no more lookups until Nomad reports them again."""
        with self._lock:
            for a in ids:
                if a in self._at:
                    self._settled[source][a] = self._at[a][0]


def _by_alloc(rows: Iterable[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        a = alloc_of(r.get("ServiceID"))
        if a:
            out.setdefault(a, []).append(r)
    return out


def _same(a: list[dict], b: list[dict]) -> bool:
    key = lambda r: (r.get("Node") or "", r.get("ServiceID") or "", r.get("CheckID") or "")  # noqa: E731
    return sorted(a, key=key) == sorted(b, key=key)


class _Lookup:
    """One lookup on a daemon thread of its own: ``fetch()``'s result or error, once done."""

    def __init__(self, ids: set[str], fetch: Callable[[], dict]):
        self.ids = ids
        self.result: dict | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(fetch,), name="consul-checks-lookup", daemon=True).start()

    def _run(self, fetch: Callable[[], dict]) -> None:
        try:
            self.result = fetch()
        except BaseException as err:  # handed to the checks call that applies it
            self.error = err
        finally:
            self._done.set()

    def wait(self, timeout: float | None) -> bool:
        return self._done.wait(timeout)


class ConsulFollow:
    """Consul's checks and services for one refresher: two watcher threads call ``checks`` and
    ``services``, each with its own state; ``allocations_changed`` may be called from any thread."""

    mode = MODE_FOLLOW

    def __init__(
        self,
        consul: ConsulConnector,
        *,
        slim: bool = True,
        full_min: float = FULL_MIN,
        full_share: float = FULL_SHARE,
        full_max: float = FULL_MAX,
        settle: float = SETTLE,
        lookup_wait: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.consul = consul
        self.slim = slim
        self.full_min = float(full_min)
        self.full_share = float(full_share)
        self.full_max = float(full_max)
        self.settle = float(settle)
        # How long a checks call waits for the lookup an earlier call started: None (direct use,
        # tests) until it ends, so each call's promise holds; the refresher passes 0.
        self.lookup_wait = lookup_wait
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.counts = {
            "checks_full": 0,
            "checks_not_passing": 0,
            "checks_lookups": 0,
            "services_full": 0,
            "services_names": 0,
            "services_lookups": 0,
            "unexplained": 0,
        }
        self.full_every: dict[str, float] = {}
        self.allocs = _Candidates(monotonic, self.settle, ("services", "checks"))
        self._want = {"services": False, "checks": False}  # a full read is wanted (when pacing allows)
        self._last_full = {"services": 0.0, "checks": 0.0}
        self._unexplained_at: float | None = None
        # checks
        self._checks_full: dict[Key, dict] | None = None
        self._checks_allocs: dict[str, tuple[Key, ...]] = {}  # tuples: most hold one (a set is 216 bytes)
        self._checks_list: list[dict] = []
        self._checks_last: dict[Key, dict] = {}  # the last list's checks that are not held objects
        self._checks_index = 0
        self._checks_block = 0
        self._checks_due = 0.0
        self._inflight: _Lookup | None = None  # the checks lookup under way
        # services
        self._svc: dict[str, list[dict]] | None = None
        self._svc_allocs: dict[str, tuple[str, ...]] = {}
        self._svc_index = 0
        self._svc_block = 0
        self._svc_due = 0.0
        self._told_since_wake = False

    # ------------------------------------------------------------------ input

    def allocations_changed(self, ids: Iterable[str] | None) -> None:
        """Nomad says these allocations changed (None: too many to look up; a full read is due)."""
        if ids is None:
            self.allocs.overflow()
        elif ids:
            self.allocs.add(ids)

    # ------------------------------------------------------------------ shared

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def _next_due(self, started: float, source: str) -> float:
        took = self._monotonic() - started
        every = max(self.full_min, took / self.full_share if self.full_share > 0 else 0.0)
        with self._lock:
            self.full_every[source] = every  # for the benchmark: how often a busy cluster is read in full
        return started + every

    def _full_due(self, source: str, due: float, *, moved: bool) -> bool:
        now = self._monotonic()
        if self._unexplained_at is not None and now - self._unexplained_at >= self.settle:
            self._unexplained_at = None
            self._want = {"services": True, "checks": True}
        if self._want[source] and now >= due:
            return True
        return moved and now - self._last_full[source] >= self.full_max

    def _lookup(self, ids: set[str], read: Callable[[str, str], Listing], known: set[str]) -> tuple[dict, int]:
        """``{name: rows}`` of these allocations as Consul has them now, and the highest index seen.
        Names: those already holding their rows and those Consul lists for them now."""
        ordered = sorted(ids)
        filters = [alloc_filter(ordered[i : i + BATCH]) for i in range(0, len(ordered), BATCH)]
        names, index = set(known), 0
        for f in filters:
            got = self.consul.catalog_services(filter=f)  # which names have their rows now
            names |= set(got.data)
            index = max(index, got.index)
        out: dict[str, list[dict]] = {}
        for name in sorted(names):
            rows: list[dict] = []
            for f in filters:
                got = read(name, f)
                rows += got.data
                index = max(index, got.index)
            out[name] = rows
        return out, index

    # ------------------------------------------------------------------ checks

    def _read_checks(self) -> Listing:
        started, seq = self._monotonic(), self.allocs.mark()
        got = self.consul.health_state("any", slim=self.slim)
        self._checks_full = {_check_key(c): c for c in got.data}
        self._inflight = None  # a lookup under way read older rows than these: dropped
        self._checks_allocs = {}
        for k, c in self._checks_full.items():
            a = alloc_of(c.get("ServiceID"))
            if a:
                _add(self._checks_allocs, a, k)
        self._checks_list = list(got.data)
        self._checks_last = {}
        self._checks_index = self._checks_block = got.index
        self._checks_due = self._next_due(started, "checks")
        self._last_full["checks"] = started
        self._want["checks"] = False
        self.allocs.covered("checks", seq)
        self._count("checks_full")
        return Listing(self._checks_list, got.index)

    def _fetch_checks(self, ids: set[str], known: set[str]) -> dict:
        """``{name: check rows}`` of these allocations as Consul has them now (HTTP only: it runs on
        a lookup's own thread and touches no state)."""
        got, _ = self._lookup(ids, lambda n, f: self.consul.health_checks(n, slim=self.slim, filter=f), known)
        self._count("checks_lookups")
        return got

    def _apply_checks(self, ids: set[str], got: dict) -> set[str]:
        """Replace the held checks of these allocations with a lookup's; returns those that differed."""
        full = self._checks_full
        assert full is not None
        fresh = _by_alloc(c for rows in got.values() for c in rows)
        changed = set()
        for a in ids:
            old = [full[k] for k in self._checks_allocs.get(a, ())]
            new = fresh.get(a, [])
            if _same(old, new):
                continue
            changed.add(a)
            for k in self._checks_allocs.pop(a, ()):
                full.pop(k, None)
            for c in new:
                full[_check_key(c)] = c
                _add(self._checks_allocs, a, _check_key(c))
        return changed

    def _start_lookup(self, ids: set[str]) -> None:
        """Look these allocations' checks up on their own thread (the names they hold now are asked
        for too, so a deregistration shows)."""
        full = self._checks_full
        assert full is not None
        known = {full[k].get("ServiceName") or "" for a in ids for k in self._checks_allocs.get(a, ())} - {""}
        self._inflight = _Lookup(ids, functools.partial(self._fetch_checks, ids, known))

    def _finish_lookup(self) -> set[str]:
        """The allocations whose checks a finished lookup found changed, applied (none while it
        runs; ``lookup_wait`` None waits for it). A lookup's error is the call's."""
        job = self._inflight
        if job is None or not job.wait(self.lookup_wait):
            return set()
        self._inflight = None
        if job.error is not None:
            raise job.error
        found = self._apply_checks(job.ids, job.result or {})
        self.allocs.settle_seen("checks", found)
        return found

    def checks(self, index: int | None, wait: float | None) -> Listing:
        """Every check, as ``/v1/health/state/any`` lists them; blocking on ``index``.

        The allocations Nomad reported are looked up on a thread of their own, one lookup at a time,
        and applied by the first call after it finished: at 100,000 on a busy server a lookup takes
        seconds, and a flap must not wait for it. Meanwhile the not-passing checks are read at once,
        without blocking (the refresher paces the calls), so a lookup is applied soon after it ends."""
        if self._checks_full is None or not index or index != self._checks_index:
            return self._read_checks()
        found = self._finish_lookup()
        recent: set[str] = set()
        if self._inflight is None:
            new, recent, over = self.allocs.take("checks")
            if over:
                self._want = {"services": True, "checks": True}
            if new:  # with the earlier ones not seen changed yet
                self._start_lookup(recent)
                recent = set()
        # Both states answer with the checks table's index: block on one, read the other at once.
        block = None if (found or self._inflight is not None) else self._checks_block
        warning = self.consul.health_state("warning", index=block, wait=wait if block else None, slim=self.slim)
        if warning.index < self._checks_block:
            return self._read_checks()
        moved = warning.index != self._checks_block
        if self._full_due("checks", self._checks_due, moved=moved):
            return self._read_checks()
        if not moved and not found:
            return Listing(self._checks_list, self._checks_index)  # the wait ended with nothing new
        critical = self.consul.health_state("critical", slim=self.slim)
        self._count("checks_not_passing")
        if moved and recent and self._inflight is None:
            self._start_lookup(recent)  # reported earlier, not seen changed yet: a registration since?
        self._checks_block = warning.index
        # A check that went warning -> critical between the two reads is in both: the later wins.
        # One that went critical -> warning is in neither and shows passing until the next answer,
        # which comes at once: the index has moved past the one this answer is filed under.
        self._checks_list, self._checks_last = merge_again(
            self._checks_full, warning.data + critical.data, self._checks_last
        )
        self._checks_index = max(self._checks_index, warning.index)
        return Listing(self._checks_list, self._checks_index)

    # ---------------------------------------------------------------- services

    def _read_services(self) -> Listing:
        started, seq = self._monotonic(), self.allocs.mark()
        names = self.consul.catalog_services()
        self._svc = {name: self.consul.catalog_service(name, slim=self.slim).data for name in sorted(names.data)}
        self._svc_allocs = {}
        for name, rows in self._svc.items():
            for a in _by_alloc(rows):
                _add(self._svc_allocs, a, name)
        self._svc_index = self._svc_block = names.index
        self._svc_due = self._next_due(started, "services")
        self._last_full["services"] = started
        self._want["services"] = False
        self._unexplained_at = None
        self.allocs.covered("services", seq)
        self._count("services_full")
        return Listing(self._svc, names.index)

    def _lookup_services(self, ids: set[str], held: dict[str, list[dict]]) -> tuple[dict, set[str], int, int]:
        """``held`` with these allocations' instances as Consul has them now (a new dict when any
        differed), the allocations that differed, the highest index seen, the newest row's
        ModifyIndex (read whole, then slimmed: a re-registration that changed nothing the views
        read still tells which write moved the index)."""
        known = set().union(*(self._svc_allocs.get(a, ()) for a in ids))
        got, index = self._lookup(ids, lambda n, f: self.consul.catalog_service(n, filter=f), known)
        self._count("services_lookups")
        newest = max(
            (r.get("ModifyIndex") or 0 for rows in got.values() for r in rows if isinstance(r, dict)), default=0
        )
        if self.slim:
            got = {n: [slim_catalog_entry(r) for r in rows] for n, rows in got.items()}
        changed: set[str] = set()
        out = dict(held)
        for name, rows in got.items():
            old = held.get(name, [])
            old_by, new_by = _by_alloc(e for e in old if alloc_of(e.get("ServiceID")) in ids), _by_alloc(rows)
            differ = {a for a in ids if not _same(old_by.get(a, []), new_by.get(a, []))}
            if not differ:
                continue
            changed |= differ
            out[name] = [e for e in old if alloc_of(e.get("ServiceID")) not in differ] + [
                e for e in rows if alloc_of(e.get("ServiceID")) in differ
            ]
            for a in differ:
                names = tuple(n for n in self._svc_allocs.get(a, ()) if n != name)
                if new_by.get(a):
                    names += (name,)
                if names:
                    self._svc_allocs[a] = names
                else:
                    self._svc_allocs.pop(a, None)
        return (out if changed else held), changed, index, newest

    def services(self, index: int | None, wait: float | None) -> Listing:
        """``{service name: its /v1/catalog/service/:name entries}``; blocking on ``index``."""
        held = self._svc
        if held is None or not index or index != self._svc_index:
            return self._read_services()
        new, recent, over = self.allocs.take("services")
        if over:
            self._want = {"services": True, "checks": True}
        before = self._svc_block
        # Allocations Nomad just reported are looked up first, then the blocking query (at once when
        # a lookup found a change: it has moved the index, or a change is held that it already had).
        patched, found, seen, newest = self._lookup_services(recent, held) if new else (held, set(), 0, 0)
        block = None if (found or newest > before) else before
        if block and wait and self._unexplained_at is not None:
            wait = min(wait, max(self.settle / 4, 0.5))  # come back soon: a verdict is due
        names = self.consul.catalog_services(index=block, wait=wait if block else None)
        self._count("services_names")
        if names.index < before:
            return self._read_services()
        moved = names.index != before
        if not moved and not found:
            self._told_since_wake = self._told_since_wake or bool(new)
            if self._full_due("services", self._svc_due, moved=False):
                return self._read_services()
            return Listing(held, self._svc_index)
        later = recent if moved and not new else set()  # reported earlier, not seen changed yet
        if later:
            patched, more, seen2, newest2 = self._lookup_services(later, patched)
            found, seen, newest = found | more, max(seen, seen2), max(newest, newest2)
        self.allocs.settle_seen("services", found)
        # Explained: a lookup found the change, or a row written since the last wake, or Nomad
        # reported allocations since then (a registration and deregistration in between leave no
        # trace: the allocation's report is all there is).
        told = bool(new) or self._told_since_wake
        if found or newest > before:
            self._unexplained_at = None
        if moved:
            self._svc_block = names.index
            self._told_since_wake = False
            if not (found or newest > before or told) and self._unexplained_at is None:  # nobody told (yet)
                self._unexplained_at = self._monotonic()
                self._count("unexplained")
        else:
            self._told_since_wake = told
        # A name whose last instance went is no longer listed; one listed that no lookup brought
        # (a service Nomad did not register) needs the full read.
        patched = {n: rows for n, rows in patched.items() if rows or n in names.data}
        if set(patched) != set(names.data) or self._full_due("services", self._svc_due, moved=moved):
            return self._read_services()
        if found:
            self._svc = patched
            self._svc_index = max(self._svc_index, names.index, seen)
        return Listing(self._svc, self._svc_index)
