"""The one-per-process Refresher: blocking-query watchers -> last good raw JSON -> frames.

* One watcher thread per source does blocking queries (index + wait), never
  more often than `min_interval` seconds, backing off on errors.
* Each source keeps its last good raw JSON; an error marks only that source
  (message + time) and keeps its data, so one failing source never blanks
  another.  With `slim_raw` (the default) the big lists (allocations, Consul
  catalog entries and checks) are parsed element by element keeping only the
  fields the views read (`connectors.slim`); a source's old raw is dropped as
  soon as its new one has arrived (the last good frames stay until new ones
  are built).
* When any source changed, frames are rebuilt (debounced) by one builder
  thread (`views.incremental.FrameBuilder`: patched from the rows that changed), paced: after
  a build from scratch (seconds at 100,000 allocations) a pause of half its length, so those
  cannot keep a core busy; after a patch a pause of a fifth of it (`patch_pause_share`: a
  change waits for the build in progress, the pause and its own build, and at 100,000 a patch
  takes most of a second), and at least `min_build_interval` between builds.  On a quiet
  cluster they are also rebuilt from the kept raw JSON once they are
  `max_frame_age` seconds old (no API request), so time-windowed health
  ("failed in the last 6h", "restarts in 24h") ages out.
* Blocking indexes follow Consul/Nomad guidance: an index that goes backwards
  resets to 0, index 0 never blocks, and for a server that sends no index (0)
  the body is compared with the last one, so an unchanged body rebuilds nothing.
* `current()` is one attribute read: lock-free and cheap for any number of
  readers.  API load depends on the number of sources (and Consul service
  *names*), never on the number of readers.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from common import gcpause
from connectors import ConnectorError, ConsulConnector, Listing, NomadConnector
from connectors.settings import ClusterSettings
from connectors.settings import load as load_settings

from .consul_follow import MODE_FOLLOW, MODE_LISTS, AllocChanges, ConsulFollow, consul_follow_enabled
from .follower import StreamFollower, events_enabled
from .model import SOURCE_LABELS, Snapshot, SourceStatus, utcnow

__all__ = ["CONSUL_SOURCES", "NOMAD_SOURCES", "Refresher", "RefresherOwner", "get_refresher"]

log = logging.getLogger(__name__)

NOMAD_SOURCES = ("jobs", "allocations", "deployments", "nodes", "namespaces", "nomad_services")
CONSUL_SOURCES = ("consul_services", "consul_checks")

BuildFn = Callable[..., Any]
CONSUL_DELTA_INTERVAL = 0.5  # s between the Consul follower's checks reads (2 s for whole lists)


def _frame_builder(cluster: str, identity: Any, *, max_frame_age: float, keep_allocations: bool) -> Any:
    """``views.incremental.FrameBuilder``: frames patched from the rows that changed (equal to
    ``views.build_frames`` of the same raw). The allocations list is kept between builds only when
    the event stream feeds it (a blocking query's old body would otherwise live on beside the new)."""
    from views.incremental import ROW_SOURCES, FrameBuilder  # lazily: views imports pandas

    keep = ROW_SOURCES if keep_allocations else tuple(n for n in ROW_SOURCES if n != "allocations")
    return FrameBuilder(cluster=cluster, identity=identity, clients_max_age=max_frame_age, keep=keep)


@dataclass
class _Source:
    name: str
    system: str
    fetch: Callable[[int | None, float | None], Listing]  # (index, wait) -> Listing
    min_interval: float
    raw: Any = None
    index: int = 0
    status: SourceStatus = None  # type: ignore[assignment]
    # The fetcher hands back its held object while nothing changed and a new one when something did,
    # also at the same index (snapshot.consul_follow: a lookup can find a change the index already had).
    by_identity: bool = False


class Refresher:
    """Keeps a Snapshot of one cluster fresh.  One per process (see get_refresher)."""

    def __init__(
        self,
        cluster_settings: ClusterSettings,
        identity: Any = None,
        *,
        wait: float = 30.0,
        min_interval: float = 2.0,
        min_intervals: dict[str, float] | None = None,
        debounce: float = 0.1,
        min_build_interval: float = 0.1,
        build_pause_share: float = 0.5,
        patch_pause_share: float = 0.2,
        max_backoff: float = 30.0,
        max_frame_age: float = 60.0,
        idle_poll: float = 1.0,
        slim_raw: bool = True,
        build: BuildFn | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] | None = None,
        nomad: NomadConnector | None = None,
        consul: ConsulConnector | None = None,
        events: bool | None = None,
        events_reload_every: float = 3600.0,
        consul_delta: bool | None = None,
    ):
        self.settings = cluster_settings
        self.identity = identity
        self.wait = float(wait)
        self.debounce = float(debounce)
        self.min_build_interval = float(min_build_interval)
        self.build_pause_share = float(build_pause_share)  # pause after a full build: at least this x its length
        self.patch_pause_share = float(patch_pause_share)  # and after a patch
        self.max_backoff = float(max_backoff)
        self.max_frame_age = float(max_frame_age)
        self.idle_poll = float(idle_poll)
        self.slim_raw = bool(slim_raw)
        self._build_fn: BuildFn | None = build  # None: the incremental frame builder
        self._clock = clock  # timestamps and frame age (injectable for tests)
        self._monotonic = monotonic  # watcher pacing (injectable with `sleep` for tests)
        self._sleep_fn = sleep
        self.nomad = nomad or NomadConnector(cluster_settings.nomad)
        self.consul = consul
        if self.consul is None and cluster_settings.consul is not None:
            self.consul = ConsulConnector(cluster_settings.consul)

        intervals = dict(min_intervals or {})
        n = self.nomad
        # slim: the big lists are parsed element by element keeping only what the views read
        # (connectors.slim); the kept raw stays valid input for views.build_frames.
        slim = self.slim_raw
        fetchers: list[tuple[str, str, Callable]] = [
            ("jobs", "Nomad", lambda i, w: n.list_jobs(index=i, wait=w)),
            ("allocations", "Nomad", lambda i, w: n.list_allocations(index=i, wait=w, slim=slim)),
            ("deployments", "Nomad", lambda i, w: n.list_deployments(index=i, wait=w, slim=slim)),
            ("nodes", "Nomad", lambda i, w: n.list_nodes(index=i, wait=w)),
            ("namespaces", "Nomad", lambda i, w: n.list_namespaces(index=i, wait=w)),
            ("nomad_services", "Nomad", lambda i, w: n.list_services(index=i, wait=w)),
        ]
        # Consul by its follower (snapshot.consul_follow, issue 13 item 2; DASHBOARD_CONSUL_DELTA=0
        # turns it off) or by whole lists. The follower is told which allocations changed.
        delta = consul_follow_enabled(os.environ) if consul_delta is None else bool(consul_delta)
        # lookup_wait=0: a checks call never waits for a lookup of changed allocations (a flap shows
        # while one runs; a finished one is applied by the next call).
        c = self.consul
        self.consul_follow = ConsulFollow(c, slim=slim, lookup_wait=0) if delta and c is not None else None
        consul_mode = MODE_FOLLOW if self.consul_follow is not None else MODE_LISTS
        if self.consul_follow is not None:
            # Its wakes read only the checks that are not passing: paced closer, a flap shows sooner.
            intervals.setdefault("consul_checks", min(min_interval, CONSUL_DELTA_INTERVAL))
            fetchers += [
                ("consul_services", "Consul", self.consul_follow.services),
                ("consul_checks", "Consul", self.consul_follow.checks),
            ]
        elif self.consul is not None:
            c = self.consul
            fetchers += [
                ("consul_services", "Consul", self._fetch_consul_services),
                ("consul_checks", "Consul", lambda i, w: c.health_state("any", index=i, wait=w, slim=slim)),
            ]
        self._sources: dict[str, _Source] = {}
        for name, system, fetch in fetchers:
            src = _Source(name, system, fetch, float(intervals.get(name, min_interval)))
            src.status = SourceStatus(name, False, None, None, None, system=system)
            if system == "Consul":
                src.by_identity = self.consul_follow is not None
                src.status = replace(src.status, mode=consul_mode)
            self._sources[name] = src

        self._state_lock = threading.Lock()  # raw/status updates
        self._publish_lock = threading.Lock()  # snapshot swaps
        self._refresh_lock = threading.Lock()  # one refresh_once at a time
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._generation = 0
        self._frames = self._safe_build({}, empty=True)
        self._built_at: datetime | None = None
        self._build_attempted_at: datetime | None = None  # success or failure: paces age rebuilds
        self._build_error: str | None = None
        self._builds = 0
        self._last_patched = False  # the last build patched the one before (paced less)
        self._listeners: list[Callable[[str, Any], None]] = []
        if self.consul_follow is not None:
            self._listeners.append(self._allocations_to_consul(self.consul_follow))
        self._moved: set[str] = set()  # sources whose raw changed since the last build
        self._snapshot = self._make_snapshot()
        # --- event stream (issue 13): allocations/deployments/nodes follow /v1/event/stream unless off
        self.events = events_enabled(os.environ) if events is None else bool(events)
        self.follower = StreamFollower(self, reload_every=events_reload_every) if self.events else None
        self.frame_builder = (
            _frame_builder(
                cluster_settings.name, identity, max_frame_age=self.max_frame_age, keep_allocations=self.events
            )
            if build is None
            else None
        )

    def __repr__(self) -> str:
        return f"Refresher(cluster={self.settings.name!r}, sources={list(self._sources)}, running={self.running})"

    # ------------------------------------------------------------------ readers

    def current(self) -> Snapshot:
        """The latest Snapshot (lock-free: a single attribute read)."""
        return self._snapshot

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    @property
    def stopped(self) -> bool:
        """stop() was called: this refresher is done (its threads end as their requests return)."""
        return self._stop.is_set()

    @property
    def died(self) -> bool:
        """Started, not stopped, yet a thread is no longer alive (its data would freeze)."""
        return bool(self._threads) and not self._stop.is_set() and not all(t.is_alive() for t in self._threads)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` for every thread to end; True when none is left."""
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not self.running

    @property
    def builds(self) -> int:
        """How many times frames were built (for tests and the benchmark)."""
        return self._builds

    def raw(self) -> dict[str, Any]:
        """A shallow copy of the last good raw JSON per source (for debugging and tests)."""
        with self._state_lock:
            return {n: s.raw for n, s in self._sources.items() if s.raw is not None}

    def add_listener(self, listener: Callable[[str, Any], None]) -> None:
        """Call ``listener(source name, new raw JSON)`` from the watcher thread whenever a source's
        data changed (the deployment history recorder). It must return quickly and not raise."""
        self._listeners.append(listener)

    @staticmethod
    def _allocations_to_consul(follow: ConsulFollow) -> Callable[[str, Any], None]:
        """The listener that tells the Consul follower which allocations changed (from the event
        stream's lists or the blocking query's, whichever feeds the allocations source)."""
        changes = AllocChanges()

        def listener(source: str, data: Any) -> None:
            if source == "allocations":
                follow.allocations_changed(changes(data))

        return listener

    # ------------------------------------------------------------------ fetching

    def _fetch_consul_services(self, index: int | None, wait: float | None) -> Listing:
        """catalog/services (blocking); on a new index, catalog/service/:name for each NAME."""
        assert self.consul is not None
        names = self.consul.catalog_services(index=index, wait=wait)
        src = self._sources["consul_services"]
        if index and names.index == index and src.raw is not None:
            return Listing(src.raw, names.index)  # nothing changed: no per-name requests
        per_name = {}
        for name in sorted(names.data):
            per_name[name] = self.consul.catalog_service(name, slim=self.slim_raw).data
        return Listing(per_name, names.index)

    def _fetch_source(self, src: _Source, index: int | None, wait: float | None) -> bool:
        """Fetch one source; update raw/status.  Returns True if its data changed."""
        attempt = self._clock()
        if index and wait:
            # The server holds this query until something changes (or wait + wait/16 jitter).
            with self._state_lock:
                src.status = replace(src.status, watching_until=attempt + timedelta(seconds=wait * 17 / 16))
            self._publish_status()
        try:
            listing = src.fetch(index, wait)
        except ConnectorError as err:
            with self._state_lock:
                src.status = replace(
                    src.status, ok=False, error=str(err), error_kind=err.kind, last_attempt=attempt, watching_until=None
                )
            log.warning("%s: %s", SOURCE_LABELS.get(src.name, src.name), err)
            self._publish_status()
            return False
        except Exception as err:  # a bug must not kill the watcher or blank the data
            log.exception("unexpected error fetching %s", src.name)
            with self._state_lock:
                src.status = replace(
                    src.status,
                    ok=False,
                    error=f"Unexpected error while reading {SOURCE_LABELS.get(src.name, src.name)}: {type(err).__name__}",
                    error_kind="internal",
                    last_attempt=attempt,
                    watching_until=None,
                )
            self._publish_status()
            return False
        done = self._clock()
        with self._state_lock:
            new_index = listing.index
            if src.raw is None:
                changed = True
            elif src.index > 0 and new_index > src.index:
                changed = True  # the normal case: the index moved on
            elif src.index > 0 and new_index == src.index:
                changed = src.by_identity and listing.data is not src.raw
            else:
                # No index from the server (0), an index that went backwards, or the first answer
                # after a reset: only the body can tell (a C-level comparison, far cheaper than a build).
                changed = listing.data != src.raw
            if changed:
                # The old raw goes now (only the new one is needed from here on); it was kept
                # during the fetch so that a failed fetch still leaves the last good data.
                src.raw = listing.data
                self._moved.add(src.name)
            # An index that goes backwards (server restore/restart) resets to 0: the next
            # request does not block and adopts whatever index the server then reports.
            src.index = 0 if new_index < src.index else new_index
            src.status = replace(
                src.status,
                ok=True,
                error=None,
                error_kind=None,
                last_success=done,
                last_attempt=attempt,
                index=listing.index,
                watching_until=None,
            )
        if not changed:  # statuses (last_success) still move on; frames stay
            self._publish_status()
        for listener in list(self._listeners) if changed else ():
            try:
                listener(src.name, listing.data)
            except Exception:  # a listener's bug must not stop the watcher
                log.exception("refresher listener failed on %s", src.name)
        return changed

    # ------------------------------------------------------------------ building

    def _build(self, raw: dict[str, Any], now: datetime, moved: set[str] | None) -> Any:
        self._last_patched = False
        if self._build_fn is not None:
            return self._build_fn(raw, cluster=self.settings.name, identity=self.identity, now=now)
        if not raw:  # the empty frames before the first answer: nothing to keep
            import views

            return views.build_frames({}, cluster=self.settings.name, identity=self.identity, now=now)
        fb = self.frame_builder
        assert fb is not None
        full = fb.full_builds
        frames = fb.build(raw, now=now, changed=moved)
        self._last_patched = fb.full_builds == full
        if not self._last_patched:
            gcpause.freeze_survivors()
        return frames

    def _safe_build(self, raw: dict[str, Any], *, empty: bool = False) -> Any:
        try:
            return self._build(raw, self._clock(), None)
        except Exception as err:
            if empty:
                log.exception("could not build empty frames")
                return None
            raise err

    def _make_snapshot(self) -> Snapshot:
        with self._state_lock:
            statuses = {n: s.status for n, s in self._sources.items()}
        self._generation += 1
        return Snapshot(
            cluster=self.settings.name,
            frames=self._frames,
            sources=statuses,
            built_at=self._built_at,
            build_error=self._build_error,
            generation=self._generation,
        )

    def _publish_status(self) -> None:
        with self._publish_lock:
            self._snapshot = self._make_snapshot()

    def _build_and_publish(self) -> Snapshot:
        with self._state_lock:
            raw = {n: s.raw for n, s in self._sources.items() if s.raw is not None}
            moved, self._moved = self._moved, set()
        built_at = self._build_attempted_at = self._clock()
        try:
            frames = self._build(raw, built_at, moved)
            error = None
        except Exception as err:  # keep the previous frames
            log.exception("building frames failed")
            frames, error = None, f"{type(err).__name__}: {err}"[:300]
            with self._state_lock:
                self._moved |= moved  # still to build
        with self._publish_lock:
            if error is None:
                self._frames, self._built_at = frames, built_at
                self._builds += 1
            self._build_error = error
            self._snapshot = self._make_snapshot()
            return self._snapshot

    # ------------------------------------------------------------------ synchronous

    def refresh_once(self) -> Snapshot:
        """Fetch every source once (no blocking) and build the frames; returns the new Snapshot."""
        with self._refresh_lock:
            for src in self._sources.values():
                self._fetch_source(src, None, None)
            self._dirty.clear()
            return self._build_and_publish()

    # ------------------------------------------------------------------ background

    def start(self) -> Refresher:
        """Start the watcher threads and the builder (idempotent)."""
        if self.running:
            return self
        self._stop.clear()
        streamed = set(self.follower.sources) if self.follower is not None else set()
        self._threads = [
            threading.Thread(target=self._watch, args=(src,), name=f"refresher-{src.name}", daemon=True)
            for src in self._sources.values()
            if src.name not in streamed
        ]
        if self.follower is not None:
            self._threads.append(threading.Thread(target=self.follower.run, name="refresher-events", daemon=True))
        self._threads.append(threading.Thread(target=self._builder, name="refresher-build", daemon=True))
        for t in self._threads:
            t.start()
        return self

    def _start_watchers(self, names) -> None:
        """Blocking-query watchers for these sources (the event stream follower hands them back)."""
        for name in names:
            t = threading.Thread(target=self._watch, args=(self._sources[name],), name=f"refresher-{name}", daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the threads to stop; waits up to `timeout` (a watcher inside a blocking query ends when it returns)."""
        self._stop.set()
        self._dirty.set()
        if self.follower is not None:
            self.follower.interrupt()  # its open stream would hold the thread until the next line
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Refresher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _pause(self, seconds: float) -> None:
        if self._sleep_fn is not None:
            self._sleep_fn(seconds)
        else:
            self._stop.wait(seconds)

    def _watch(self, src: _Source) -> None:
        backoff = src.min_interval
        while not self._stop.is_set():
            started = self._monotonic()
            # Block only on an index >= 1 (index 0 never blocks).
            index = src.index if src.raw is not None and src.status.ok and src.index > 0 else None
            changed = self._fetch_source(src, index, self.wait if index else None)
            if self._stop.is_set():
                break
            if changed:
                self._dirty.set()
            if src.status.ok:
                backoff = src.min_interval
                pause = src.min_interval - (self._monotonic() - started)
            else:
                pause = backoff
                backoff = min(max(backoff * 2, 0.5), self.max_backoff)
            if pause > 0:
                self._pause(pause)

    def _all_answered(self) -> bool:
        with self._state_lock:
            return all(src.raw is not None for src in self._sources.values())

    def frames_stale(self) -> bool:
        """True when the last build (or failed build attempt) is older than max_frame_age, by the
        injectable clock; a build that keeps failing is retried at that pace, not every poll."""
        attempted = self._build_attempted_at
        return (
            self._built_at is not None
            and attempted is not None
            and (self._clock() - attempted).total_seconds() >= self.max_frame_age
        )

    def _builder(self) -> None:
        last_build, took = 0.0, 0.0  # when the last build ended, how long it took
        while not self._stop.is_set():
            if not self._dirty.wait(timeout=self.idle_poll):
                # Nothing changed: rebuild from the kept raw anyway once the frames are old,
                # so time windows move on (no API request is made for this).
                if self.frames_stale() and not self._stop.is_set():
                    started = time.monotonic()
                    self._build_and_publish()
                    last_build = time.monotonic()
                    took = last_build - started
                continue
            if self._stop.is_set():
                break
            # Debounce: let other sources that changed at the same moment land first (at start
            # every source answers at about the same time: wait longer until each has).
            self._stop.wait(self.debounce if self._all_answered() else 3 * self.debounce)
            share = self.patch_pause_share if self._last_patched else self.build_pause_share
            gap = max(self.min_build_interval, share * took) - (time.monotonic() - last_build)
            if gap > 0:
                self._stop.wait(gap)
            if self._stop.is_set():
                break
            self._dirty.clear()
            started = time.monotonic()
            self._build_and_publish()
            last_build = time.monotonic()
            took = last_build - started

    def wait_for(self, predicate: Callable[[Snapshot], bool], timeout: float = 10.0, poll: float = 0.05) -> Snapshot:
        """Wait until predicate(current()) is true (tests, the launcher's first paint)."""
        deadline = time.monotonic() + timeout
        while True:
            snap = self._snapshot
            if predicate(snap):
                return snap
            if time.monotonic() > deadline:
                raise TimeoutError(f"snapshot condition not met within {timeout} s")
            time.sleep(poll)


# ---------------------------------------------------------------------- process-wide owner


def _key(value: Any) -> Hashable:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(Refresher.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
}


class RefresherOwner:
    """Owns the one Refresher per cluster (by name) in this process.

    ``get`` hands out the cluster's refresher if it was made for exactly these settings (token
    included), identity and options; on any difference (a config edit, another blocking wait, a
    rotated token) it stops the old one and makes a new one, so two never poll the same cluster
    side by side. A refresher that was stopped, or whose threads died, is never handed out again.
    The old one stops at once unless a watcher is inside a blocking query: that thread ends when
    the server answers (within the blocking wait) and makes no further request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[Hashable, Refresher]] = {}

    def get(
        self, cluster_settings: ClusterSettings, identity: Any = None, *, start: bool = True, **options: Any
    ) -> Refresher:
        unknown = set(options) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown Refresher options: {sorted(unknown)}")
        made_for = (cluster_settings, _key(identity), _key(tuple(sorted({**_DEFAULTS, **options}.items()))))
        old = None
        with self._lock:
            entry = self._held.get(cluster_settings.name)
            if entry is None or entry[0] != made_for or entry[1].stopped or entry[1].died:
                old = entry[1] if entry else None
                entry = self._held[cluster_settings.name] = (made_for, Refresher(cluster_settings, identity, **options))
            ref = entry[1]
            if start:
                ref.start()
        if old is not None:
            old.stop(timeout=0.1)
        return ref

    def held(self) -> list[Refresher]:
        with self._lock:
            return [ref for _, ref in self._held.values()]

    def stop_all(self, timeout: float = 0.1) -> None:
        with self._lock:
            refs = [ref for _, ref in self._held.values()]
            self._held.clear()
        for r in refs:
            r.stop(timeout=timeout)


_OWNER = RefresherOwner()


def get_refresher(
    cluster_settings: ClusterSettings | None = None, identity: Any = None, *, start: bool = True, **kwargs: Any
) -> Refresher:
    """The process-wide Refresher for this cluster (see ``RefresherOwner.get``): created, and started,
    on first use; replaced (the old one stopped) when settings, identity or options change."""
    settings = cluster_settings if cluster_settings is not None else load_settings()
    return _OWNER.get(settings, identity, start=start, **kwargs)


def _reset_registry() -> None:
    """Stop and forget every refresher (tests)."""
    _OWNER.stop_all()
