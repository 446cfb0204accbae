"""Follow Nomad's /v1/event/stream for the refresher: cost that follows the rate of change.

By default (``DASHBOARD_NOMAD_EVENTS=0`` or ``Refresher(events=False)`` turn it off), the allocations,
deployments, nodes, jobs and Nomad services sources are no longer blocking queries on whole lists.
One thread:

1. loads the five lists once (the refresher's own fetchers: slimmed, element by element);
2. follows the stream from the first list's index (topics Allocation, Deployment, Node, Job,
   Evaluation, Service; namespace *), applying each frame with ``snapshot.events.EventState``,
   then reading again the job stubs and namespaces' services the frame dirtied
   (``snapshot.rereads``), and handing the changed lists to the refresher, which rebuilds frames
   as for any changed source. The lists are loaded one after another while the cluster moves on,
   so the stream starts after the FIRST list's index: a change made during the load is applied
   even if a later list already shows it (an event carries the whole object, a re-read the
   current stub: applying it again is harmless). A re-read that fails keeps the old item, leaves
   it dirty for the next frame or heartbeat, and says so on its source's status meanwhile;
3. after a cut, resumes with ``index=`` the last frame it applied. Nomad starts a subscription
   at the closest index it still keeps, silently later when that one is gone
   (nomad/stream/event_buffer.go), so the follower asks for that very index again: the first
   frame is the one it already has when the buffer still holds it; a later one means events
   were lost (a gap), and the lists are loaded again, once;
4. when the stream is refused (403/404/405, or a stream that closes before sending a single
   line: the agent has already sent 200 when the server refuses, nomad/event_endpoint.go), it
   hands the five sources back to the refresher's blocking queries and says so in each
   source's ``mode`` (shown on the freshness line).

Nomad's garbage collection writes no event (nomad/state/events.go), so collected allocations
and deployments would stay: the lists are loaded again every ``reload_every`` seconds (an hour
by default, ``Refresher(events_reload_every=)``: at 100,000 allocations one load is ~340 MB),
checked after every frame and heartbeat, so an open stream does not put it off.

The one gap a resume cannot see: a cut before the first frame after a load. The lists' index need
not be a frame's (a write to another table), so the follower resumes after it without proof; had
more changes than Nomad's event buffer keeps (``event_buffer_size``, 100 by default) happened while
it was away, the subscription would start silently later and those changes stay unseen until the
periodic reload. Treating every such resume as a gap instead would reload the whole lists after
each cut on a quiet cluster (a proxy cutting long responses every few minutes), the costliest case
for the rarest loss (a busy cluster sends a frame within moments, a quiet one has little to lose);
so it is left to the reload, and tests/contract/test_event_follower.py shows the reload healing it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from connectors import ConnectorError

from .events import FOLLOWED_SOURCES, TOPICS, EventState

__all__ = ["MODE_BLOCKING", "MODE_REFUSED", "MODE_STREAM", "StreamFollower", "events_enabled"]

log = logging.getLogger(__name__)

MODE_STREAM = "event stream"
MODE_BLOCKING = "blocking queries"
MODE_REFUSED = "blocking queries (event stream refused)"
REFUSED_STATUS = frozenset({403, 404, 405, 501})
BATCH = 200  # frames applied before one hand-over at most, when more have already arrived


def events_enabled(environ: Mapping[str, str]) -> bool:
    """DASHBOARD_NOMAD_EVENTS: the event stream unless 0/false/no/off (then blocking queries)."""
    return str(environ.get("DASHBOARD_NOMAD_EVENTS", "")).strip().lower() not in ("0", "false", "no", "off")


class StreamFollower:
    """The one event-stream thread of a Refresher (see the module docstring)."""

    def __init__(
        self,
        refresher: Any,
        *,
        idle_timeout: float = 45.0,
        reconnect_pause: float = 1.0,
        max_backoff: float = 30.0,
        reload_every: float = 3600.0,
    ):
        self.ref = refresher
        self.nomad = refresher.nomad
        self.idle_timeout = float(idle_timeout)
        self.reconnect_pause = float(reconnect_pause)
        self.max_backoff = float(max_backoff)
        self.reload_every = float(reload_every)
        self.sources = FOLLOWED_SOURCES
        self.reread_errors: dict[str, ConnectorError] = {}  # source -> its last failed re-read, until none is left
        self.state: EventState | None = None
        self.refused = False
        self.loads = 0  # full loads of the lists (tests, benchmark)
        self.gaps = 0  # resumes that found events missing
        self.resumes = 0  # reconnects that resumed without a load
        self._loaded_at = 0.0
        self._proven = False  # state.index is the index of a frame applied (not only a load's)
        self._stream: Any = None  # the open subscription, closed by interrupt()

    def interrupt(self) -> None:
        """The refresher stops: close the open stream so its reader wakes now, not at the next line."""
        stream = self._stream
        if stream is not None:
            stream.close()

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        stop = self.ref._stop
        backoff = self.reconnect_pause
        while not stop.is_set():
            try:
                if self.state is None or time.monotonic() - self._loaded_at >= self.reload_every:
                    if not self._load():
                        stop.wait(backoff)
                        backoff = min(backoff * 2, self.max_backoff)
                        continue
                    fresh = True
                else:
                    fresh = False
                outcome = self._follow(fresh)
            except Exception:  # a bug must not kill the thread or blank the data
                log.exception("event stream follower failed")
                outcome = "error"
            if outcome == "refused":
                self._hand_back()
                stop.wait()  # stays alive (a dead thread would read as a dead refresher), idle
                return
            if outcome == "gap":
                self.gaps += 1
                self.state = None
                continue
            if outcome == "ok":
                backoff = self.reconnect_pause
            stop.wait(backoff)
            if outcome == "error":
                backoff = min(backoff * 2, self.max_backoff)

    def _load(self) -> bool:
        """Load the five lists once (the refresher's fetchers); False when one failed (its error is
        on its status, its last good data kept)."""
        ref = self.ref
        for name in self.sources:
            # The stream moved the source's index to its last frame: a list at that very index (a
            # gap, or a GC that is not in the index yet) must still be compared, not skipped.
            with ref._state_lock:
                ref._sources[name].index = 0
            ref._fetch_source(ref._sources[name], None, None)
            if not ref._sources[name].status.ok:
                self._not_read_after(name)
                return False
        with ref._state_lock:
            raw = {n: ref._sources[n].raw for n in self.sources}
            index = ref._sources[self.sources[0]].index  # the first list loaded (see the module doc)
        self.state = EventState(raw, slim=ref.slim_raw, lookup=self._lookup)
        self.state.index = index
        self.reread_errors = {}
        self._proven = False  # a list index need not be a frame's: resume after it, not at it
        self.loads += 1
        self._loaded_at = time.monotonic()
        self._set_mode(MODE_STREAM)
        ref._dirty.set()
        return True

    def _lookup(self, alloc_id: str) -> dict | None:
        try:
            return self.nomad.allocation_stub(alloc_id)
        except ConnectorError as err:
            log.warning("event stream: could not look up allocation %s: %s", alloc_id, err)
            return None

    def _reread(self) -> set[str]:
        """Read the dirty job stubs and namespaces' services again; the sources that changed."""
        state = self.state
        assert state is not None
        nomad = self.nomad
        done = state.reread(
            nomad.job_stub,
            lambda ns: nomad.list_services(namespace=ns).data,
            whole_jobs=lambda: nomad.list_jobs().data,
        )
        for name in ("jobs", "nomad_services"):
            if name in done.errors:
                log.warning("event stream: could not read %s again: %s", name, done.errors[name])
                self.reread_errors[name] = done.errors[name]
            elif name in self.reread_errors:
                kept = state.job_list if name == "jobs" else state.service_list
                if kept is None or not kept.dirty:
                    del self.reread_errors[name]
        if done.errors and not done.changed:
            self._confirm()  # the failure shows on the source's status now
        return done.changed

    def _follow(self, fresh: bool) -> str:
        """One subscription: 'ok' (it ended, resume), 'gap', 'refused', 'error' (retry later)."""
        state = self.state
        assert state is not None
        # After a load everything after its index is new. On a resume from a frame already
        # applied, ask for that frame again: getting it first proves nothing in between was dropped.
        check = not fresh and self._proven
        start = state.index if check else state.index + 1
        if not fresh:
            self.resumes += 1
        lines = 0
        stream = self._stream = self.nomad.stream_events(
            TOPICS, start, "*", idle_timeout=self.idle_timeout, heartbeats=True
        )
        if self.ref._stop.is_set():  # stopped between the check and the subscription
            stream.close()
        # Frames that have already arrived behind the one in hand are applied first, then the
        # dirty items read again and the lists handed over once: a follower behind the server (the
        # replay after a load of 100,000 allocations: thousands of frames) catches up at the rate
        # it reads, not at one re-read and one hand-over per frame.
        # At most BATCH frames at once: the Consul follower looks up the allocations they changed
        # (more than its overflow, 2,000, would be a full read of Consul: 91 MB at 100,000).
        more = getattr(stream, "pending", None) or (lambda: False)
        held: set[str] = set()  # sources applied, not handed over yet
        due, batch = False, 0  # something to hand over or confirm once no frame is waiting
        try:
            for frame in stream:
                lines += 1
                if self.ref._stop.is_set():
                    return "ok"
                if time.monotonic() - self._loaded_at >= self.reload_every:
                    return "ok"  # the periodic reload is due (GC deletions write no event)
                index = frame.get("Index") if frame else None
                if not frame:  # heartbeat: the data is confirmed current (and failed re-reads retried)
                    due = True
                elif isinstance(index, int):
                    if check:
                        check = False
                        if index > state.index:
                            log.info("event stream: index %s is gone (first frame %s): loading the lists", start, index)
                            return "gap"
                    if index > state.index:  # else already applied (the resume frame; Nomad's closest past the end)
                        held |= state.apply(frame)
                        self._proven = due = True
                        batch += 1
                if due and (batch >= BATCH or not more()):
                    # The lists the frames changed go first: the re-reads (a request per dirty job
                    # stub, slow on a busy server) held each change back by seconds at 100,000.
                    if held:
                        self._publish(held)
                    changed = self._reread() if state.stale else set()
                    if changed:
                        self._publish(changed)
                    elif not held:
                        self._confirm()
                    held, due, batch = set(), False, 0
        except ConnectorError as err:
            if self.ref._stop.is_set():
                return "ok"
            if err.status in REFUSED_STATUS:
                self._refuse(str(err))
                return "refused"
            self._fail(str(err), err.kind)
            return "error"
        finally:
            stream.close()
            self._stream = None
            if held and not self.ref._stop.is_set():  # applied: the refresher must have them
                self._publish(held)
        if self.ref._stop.is_set():
            return "ok"
        if lines == 0:  # closed before even the first heartbeat: the server refused it
            self._refuse("Nomad closed the event stream at once (no permission to read events?)")
            return "refused"
        return "ok"

    # ------------------------------------------------------------------ refresher state

    def _publish(self, changed: set[str]) -> None:
        ref, state = self.ref, self.state
        assert state is not None
        lists = {n: state.list(n) for n in changed}
        now = ref._clock()
        with ref._state_lock:
            for name, data in lists.items():
                src = ref._sources[name]
                src.raw, src.index = data, state.index
                ref._moved.add(name)
            self._update_status(now, index=state.index)
        for name, data in lists.items():
            for listener in list(ref._listeners):
                try:
                    listener(name, data)
                except Exception:
                    log.exception("refresher listener failed on %s", name)
        ref._dirty.set()

    def _update_status(self, now, **extra: Any) -> None:
        ref = self.ref
        until = now + timedelta(seconds=self.idle_timeout)
        for name in self.sources:
            src = ref._sources[name]
            failed = self.reread_errors.get(name)
            if failed is not None:  # its dirty items are not current: say so, keep their age
                src.status = replace(
                    src.status,
                    ok=False,
                    error=f"{failed} Some of it may be out of date; trying again.",
                    error_kind=failed.kind,
                    last_attempt=now,
                    watching_until=None,
                    mode=MODE_STREAM,
                    **extra,
                )
                continue
            src.status = replace(
                src.status,
                ok=True,
                error=None,
                error_kind=None,
                last_success=now,
                last_attempt=now,
                watching_until=until,
                mode=MODE_STREAM,
                **extra,
            )

    def _confirm(self) -> None:
        with self.ref._state_lock:
            self._update_status(self.ref._clock())
        self.ref._publish_status()

    def _set_mode(self, mode: str) -> None:
        ref = self.ref
        with ref._state_lock:
            for name in self.sources:
                src = ref._sources[name]
                src.status = replace(src.status, mode=mode)
        ref._publish_status()

    def _fail(self, message: str, kind: str | None) -> None:
        ref = self.ref
        now = ref._clock()
        with ref._state_lock:
            for name in self.sources:
                src = ref._sources[name]
                src.status = replace(
                    src.status, ok=False, error=message, error_kind=kind, last_attempt=now, watching_until=None
                )
        ref._publish_status()

    def _not_read_after(self, failed: str) -> None:
        """A load stops at the first list that fails; the lists after it that were never read say
        so (an attempt, not "waiting for the first answer"): otherwise every page run would wait
        for their first answer (ui.runtime.snapshot) while Nomad is down."""
        ref = self.ref
        now = ref._clock()
        with ref._state_lock:
            cause = ref._sources[failed].status
            for name in self.sources[self.sources.index(failed) + 1 :]:
                src = ref._sources[name]
                if src.status.last_attempt is None:
                    src.status = replace(
                        src.status,
                        ok=False,
                        error=f"not read yet, because reading {cause.label} failed first.",
                        error_kind=cause.error_kind,
                        last_attempt=now,
                    )
        ref._publish_status()

    def _refuse(self, message: str) -> None:
        self.refused = True
        log.warning("%s: following the lists with blocking queries instead", message)

    def _hand_back(self) -> None:
        """The stream is refused: the refresher's blocking-query watchers take the sources back."""
        ref = self.ref
        self._set_mode(MODE_REFUSED)
        ref._start_watchers(self.sources)
