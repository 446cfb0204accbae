"""On-demand reads that are not in the snapshot, cached and shared by all sessions.

One allocation (with resources and task events), a job and its versions: results (and errors)
are cached for `ttl` seconds (30) keyed by the arguments (and a hash of the per-person token,
when one is given), and concurrent identical requests share one HTTP call. A task's log comes
from the one follower of that stream (``snapshot.logfollow``). So the API load does not grow
with the number of people looking at the same page.

Every method returns data or raises connectors.ConnectorError (or auth.policy.Forbidden for a
person whose role lacks the right: the reads check the policy themselves).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from auth import policy
from connectors import NomadConnector
from connectors.errors import TimedOut
from connectors.settings import ClusterSettings, NomadSettings

from .logfollow import FOLLOW_SECONDS, IDLE_SECONDS, LogFollowers, LogTail

if TYPE_CHECKING:  # pragma: no cover
    from auth.principal import Principal

__all__ = ["Queries", "TTLCache", "get_queries"]

# Allocation details (resources, ports) barely change; task events come with the snapshot.
DEFAULT_TTL = 30.0


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.interrupted = False  # the loading thread was interrupted: a waiter loads again
        self.waiters = 0


class LoadTimedOut(TimeoutError):
    """Waited `wait_timeout` seconds for another reader's load of the same key."""


class TTLCache:
    """A small thread-safe TTL cache with single-flight loading.

    The outcome of a load is always published: a value or an ``Exception`` is cached for ``ttl``
    seconds and handed to every reader waiting for it; a ``BaseException`` that is not an
    ``Exception`` (Streamlit's rerun and stop interrupt a script that way, and so does Ctrl-C) is
    not cached: it goes on up the loading thread, and the waiters load again themselves. Waiters
    give up after ``wait_timeout`` seconds (``LoadTimedOut``), so one stuck load cannot hang a key
    for the whole process.
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        max_entries: int = 512,
        clock: Callable[[], float] = time.monotonic,
        wait_timeout: float = 60.0,
    ):
        self.ttl = ttl
        self.max_entries = max_entries
        self.wait_timeout = wait_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any, BaseException | None]] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self.loads = 0  # how many times a loader actually ran

    def get(self, key: Hashable, loader: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            with self._lock:
                now = self._clock()
                hit = self._entries.get(key)
                if hit is not None and hit[0] > now:
                    self._entries.move_to_end(key)
                    if hit[2] is not None:
                        raise hit[2]
                    return hit[1]
                found = self._pending.get(key)
                owner = found is None
                if found is None:
                    pending = self._pending[key] = _Pending()
                else:
                    pending = found
                    pending.waiters += 1
            if not owner:
                if not pending.done.wait(max(0.0, deadline - time.monotonic())):
                    raise LoadTimedOut(f"still loading after {self.wait_timeout:g} s")
                if pending.interrupted:
                    continue  # the loading thread was interrupted: load again (or join a newer load)
                if pending.error is not None:
                    raise pending.error
                return pending.value
            self.loads += 1
            try:
                value, error = loader(), None
            except Exception as err:  # cached too: a 404/403 is not retried by every viewer
                value, error = None, err
            except BaseException:
                with self._lock:
                    del self._pending[key]
                pending.interrupted = True
                pending.done.set()
                raise
            with self._lock:
                self._entries[key] = (self._clock() + self.ttl, value, error)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                del self._pending[key]
            pending.value, pending.error = value, error
            pending.done.set()
            if error is not None:
                raise error
            return value

    def waiting(self, key: Hashable) -> int:
        """How many readers are waiting for the load of `key` in flight (0 when none is)."""
        with self._lock:
            pending = self._pending.get(key)
            return pending.waiters if pending is not None else 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _token_key(token: str | None) -> str | None:
    if token is None:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _shared(cache: TTLCache, key: Hashable, loader: Callable[[], Any]) -> Any:
    """cache.get, with a waiter's timeout said as a connector error (every read raises only those)."""
    try:
        return cache.get(key, loader)
    except LoadTimedOut:
        raise TimedOut(
            "Nomad", f"Nomad has not answered another reader's identical request within {cache.wait_timeout:g} s"
        ) from None


def _where(namespace: str | None) -> str:
    return f"namespace {namespace or 'default'}"


class Queries:
    """On-demand Nomad reads for one cluster, cached `ttl` seconds and shared.

    The reads a role decides on check the policy themselves (``auth.policy.ensure(principal,
    action, "namespace <ns>")``, before any cache or request), so no caller can skip the check:
    ``allocation`` needs ``alloc:read``, ``log_tail`` needs ``logs:read``. A person who lacks the
    right gets ``auth.policy.Forbidden``. ``job`` and ``job_versions`` are the dashboard's own
    reads for data it derives once for everyone (image versions, deployment history); no page
    shows what they return as such, so they take no principal.
    """

    def __init__(
        self,
        nomad: NomadConnector,
        *,
        ttl: float = DEFAULT_TTL,
        log_interval: float = FOLLOW_SECONDS,
        log_idle_after: float = IDLE_SECONDS,
    ):
        self.nomad = nomad
        self.cache = TTLCache(ttl)
        self.logs = LogFollowers(nomad.logs, interval=log_interval, idle_after=log_idle_after)

    def allocation(
        self, alloc_id: str, *, principal: Principal, namespace: str | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The full allocation: resources, task states and events."""
        policy.ensure(principal, policy.ALLOC_READ, _where(namespace))
        key = ("alloc", alloc_id, namespace, _token_key(token))
        return _shared(self.cache, key, lambda: self.nomad.get_allocation(alloc_id, namespace=namespace, token=token))

    def log_tail(
        self,
        alloc_id: str,
        task: str,
        kind: str = "stdout",
        *,
        principal: Principal,
        namespace: str | None = None,
        token: str | None = None,
    ) -> LogTail:
        """The newest 64 KiB of a task's stdout/stderr, from the one follower of that stream
        (see ``snapshot.logfollow``): many viewers, one fetch per follow interval."""
        policy.ensure(principal, policy.LOGS_READ, _where(namespace))
        return self.logs.tail(alloc_id, task, kind, namespace=namespace, token=token)

    def job(self, job_id: str, *, namespace: str | None = None, token: str | None = None) -> dict[str, Any]:
        key = ("job", job_id, namespace, _token_key(token))
        return _shared(self.cache, key, lambda: self.nomad.get_job(job_id, namespace=namespace, token=token))

    def job_versions(
        self, job_id: str, *, namespace: str | None = None, diffs: bool = False, token: str | None = None
    ) -> dict[str, Any]:
        key = ("versions", job_id, namespace, diffs, _token_key(token))
        return _shared(
            self.cache, key, lambda: self.nomad.job_versions(job_id, namespace=namespace, diffs=diffs, token=token)
        )

    def login(self, method: str, jwt: str) -> dict[str, Any]:
        """Exchange a person's ID token for their own Nomad ACL token (never cached here)."""
        return self.nomad.login_jwt(method, jwt)

    def clear(self) -> None:
        self.cache.clear()

    def close(self) -> None:
        """Stop following logs (tests; the process's Queries live as long as it does)."""
        self.logs.stop_all()


_REGISTRY: dict[NomadSettings, Queries] = {}
_LOCK = threading.Lock()


def get_queries(
    cluster_settings: ClusterSettings | None = None, *, nomad: NomadConnector | None = None, ttl: float = DEFAULT_TTL
) -> Queries:
    """The process-wide Queries for this cluster (shared by all sessions)."""
    if cluster_settings is None:
        from connectors.settings import load

        cluster_settings = load()
    with _LOCK:
        q = _REGISTRY.get(cluster_settings.nomad)
        if q is None:
            q = _REGISTRY[cluster_settings.nomad] = Queries(nomad or NomadConnector(cluster_settings.nomad), ttl=ttl)
        return q
