"""What ``perform`` works with: the audit store, a Nomad connector, the guardrail settings, the worker.

One ``Environment`` per process and cluster (``get_environment``): the store, the connector and the
rolling-restart runner are shared; settings can be swapped per call (a config edit applies at once).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from config import ActionSettings
from connectors import NomadConnector
from connectors import settings as cluster_settings
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
    settings: ActionSettings | None = None, identity: str = "namespace", *, url: str | None = None
) -> Environment:
    """The process's environment for the configured cluster and database (built once)."""
    cluster = cluster_settings.load()
    url = url or database_url()
    key = (url, cluster)
    with _LOCK:
        env = _ENVIRONMENTS.get(key)
        if env is None:
            env = Environment(audit=AuditStore(url), nomad=NomadConnector(cluster.nomad), cluster=cluster.name)
            _ENVIRONMENTS[key] = env
    env.get_runner()  # made on the shared base, so every copy below uses the same worker
    return env if settings is None else env.with_settings(settings, identity)
