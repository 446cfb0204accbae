"""What ``perform`` works with: the audit store, a Nomad connector, the guardrail settings, the worker.

One ``Environment`` per process and cluster (``get_environment``): the store, the connector and the
rolling-restart runner are shared; settings can be swapped per call (a config edit applies at once).
Several clusters (``get_fleet``): a ``Fleet`` holds every configured cluster's Environment over one
audit store, and ``perform`` sends each action to the Environment of the cluster its target names.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from config import ActionSettings
from connectors import NomadConnector
from connectors import settings as cluster_settings
from connectors.settings import ClusterSettings
from store import database_url
from store.audit import AuditStore

# This process, as lease holder and rolling-restart owner (never reused after a restart).
INSTANCE = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Environment:
    audit: AuditStore
    nomad: NomadConnector
    cluster: str = "default"
    settings: ActionSettings = field(default_factory=ActionSettings)
    identity: str = "namespace"  # views.ClientIdentity spec: which field names the client
    instance: str = INSTANCE
    # How often a rolling restart looks at the allocation it waits for, and how long its lease lives
    # without a heartbeat (a process that dies lets it go after this).
    poll_seconds: float = 2.0
    lease_seconds: float = 60.0
    # Consul/Nomad checks of an allocation: True passing, False failing, None unknown (not waited for).
    checks: Callable[[str], bool | None] | None = None
    runner: object = None  # actions.rolling.Runner, made on first use

    def with_settings(self, settings: ActionSettings, identity: str | None = None) -> Environment:
        return replace(self, settings=settings, identity=identity or self.identity)

    def get_runner(self):
        from actions.rolling import Runner

        with _LOCK:
            if self.runner is None:
                self.runner = Runner(self)
        return self.runner


_ENVIRONMENTS: dict[tuple, Environment] = {}
_LOCK = threading.RLock()


def get_environment(
    settings: ActionSettings | None = None,
    identity: str = "namespace",
    *,
    url: str | None = None,
    cluster: ClusterSettings | None = None,
) -> Environment:
    """The process's environment for ``cluster`` (default: HashiCorp's variables) and the database
    (built once per both)."""
    cluster = cluster or cluster_settings.load()
    url = url or database_url()
    key = (url, cluster)
    with _LOCK:
        env = _ENVIRONMENTS.get(key)
        if env is None:
            env = Environment(audit=_audit_store(url), nomad=NomadConnector(cluster.nomad), cluster=cluster.name)
            _ENVIRONMENTS[key] = env
    env.get_runner()  # made on the shared base, so every copy below uses the same worker
    return env if settings is None else env.with_settings(settings, identity)


_STORES: dict[str, AuditStore] = {}


def _audit_store(url: str) -> AuditStore:
    """One AuditStore per database for the process: every cluster's actions chain into the same trail."""
    with _LOCK:
        found = _STORES.get(url)
        if found is None:
            found = _STORES[url] = AuditStore(url)
        return found


@dataclass
class Fleet:
    """Every configured cluster's Environment (in the configured order), sharing one audit store.

    ``perform`` picks the one of the cluster its target names; a target naming no configured
    cluster is refused in words (``unknown_cluster``).
    """

    environments: dict[str, Environment]

    def __post_init__(self) -> None:
        if not self.environments:
            raise ValueError("a Fleet needs at least one cluster")

    @property
    def audit(self) -> AuditStore:
        return next(iter(self.environments.values())).audit

    @property
    def names(self) -> list[str]:
        return list(self.environments)

    def get(self, name: str) -> Environment | None:
        return self.environments.get(name)

    def for_target(self, cluster: str) -> Environment | None:
        """The Environment of ``cluster``; with one cluster configured, an empty name means it."""
        if not cluster and len(self.environments) == 1:
            return next(iter(self.environments.values()))
        return self.environments.get(cluster)


def unknown_cluster(cluster: str, known: Sequence[str]) -> str:
    """Why an action naming ``cluster`` cannot be sent anywhere (plain words)."""
    names = ", ".join(known) or "none"
    if not cluster:
        return (
            f"The page did not say which cluster holds the target (configured: {names}): reload the page and "
            "try again. Nothing was done."
        )
    shown = cluster if len(cluster) <= 64 else cluster[:64] + "..."
    return f"Cluster {shown!r} is not configured in this dashboard (configured: {names}). Nothing was done."


def get_fleet(
    settings: ActionSettings | None = None,
    identity: str = "namespace",
    *,
    clusters: Sequence[ClusterSettings],
    url: str | None = None,
) -> Fleet:
    """Every listed cluster's environment (one per process, cluster and database), one audit store."""
    return Fleet({c.name: get_environment(settings, identity, url=url, cluster=c) for c in clusters})
