"""The Sandbox: one World served by a Nomad and a Consul emulator on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from .acl import Acl
from .clock import SimClock
from .consul_api import ConsulApi
from .events import BUFFER_SIZE, HEARTBEAT_SECONDS, EventJournal
from .faults import Faults
from .http import ApiServer
from .nomad_api import NomadApi
from .world import World
from .world.profile import DEFAULT, ClusterProfile

# Allocations per client in the sized layout: 3 service groups x 16 + 2 nightly report runs.
_SIZED_GROUP = 16
_SIZED_PER_CLIENT = 3 * _SIZED_GROUP + 2


class Sandbox:
    def __init__(
        self,
        clients: int = 40,
        seed: int = 7,
        acl: bool = False,
        frozen: bool = False,
        jobs_per_client: int = 4,
        allocs_per_group: int | None = None,
        nomad_port: int = 0,
        consul_port: int = 0,
        *,
        jwt_jwks: Callable[[], dict] | dict | None = None,
        tick_seconds: float | None = None,
        start_time: float | None = None,
        churn: float = 0,
        event_heartbeat: float = HEARTBEAT_SECONDS,
        event_buffer: int = BUFFER_SIZE,
        profile: ClusterProfile = DEFAULT,
    ):
        """``churn``: about that many allocation changes per simulated second (see ``World.churn_state``).
        ``event_heartbeat``: seconds between ``{}`` frames on /v1/event/stream (Nomad: 30);
        ``event_buffer``: how many changes the event journal keeps (Nomad: 100 raft indexes);
        ``profile``: which cluster this is (datacenters, region, clients; see ``world.profile``)."""
        self.clock = SimClock(start_time)
        self.world = World(clients, seed, jobs_per_client, allocs_per_group, self.clock, churn=churn, profile=profile)
        self.events = EventJournal(self.world, event_buffer, event_heartbeat)
        self.world.on_change = self.events.publish
        self.faults = Faults(on_inject=self._fault_injected)
        self.acl = Acl(acl, seed, jwt_jwks)
        self.frozen = frozen
        # Churn wants a smooth stream of changes, not a burst every 2 s.
        self.tick_seconds = tick_seconds if tick_seconds is not None else (0.1 if churn else 2.0)
        self._ports = (nomad_port, consul_port)
        self._servers: dict[str, ApiServer] = {}
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def sized(cls, allocs: int = 100_000, **kwargs) -> Sandbox:
        """About ``allocs`` allocations: allocs/50 clients, 4 jobs each, groups of 16."""
        kwargs.setdefault("clients", max(1, round(allocs / _SIZED_PER_CLIENT)))
        kwargs.setdefault("allocs_per_group", _SIZED_GROUP)
        return cls(**kwargs)

    # ---------------------------------------------------------------- tokens
    @property
    def tokens(self) -> dict[str, str]:
        """Nomad secrets by role (management, support, read); empty without ACLs."""
        return dict(self.acl.tokens) if self.acl.enabled else {}

    @property
    def consul_tokens(self) -> dict[str, str]:
        return dict(self.acl.consul_tokens) if self.acl.enabled else {}

    # ----------------------------------------------------------- lifecycle
    def _fault_injected(self, fault) -> None:
        """A Nomad that goes down drops the connections it has open, the event streams too (a
        new request alone would not notice: a stream is one long answer)."""
        if fault.server == "nomad" and fault.down and fault.path in (None, "/v1/event/stream"):
            self.events.cut()

    def start(self) -> Sandbox:
        if self._servers:
            return self
        nomad, consul = NomadApi(self.world, self.acl, self.events), ConsulApi(self.world, self.acl)
        for name, api, port in (("nomad", nomad, self._ports[0]), ("consul", consul, self._ports[1])):
            server = ApiServer(
                name,
                self.world,
                api.routes(),
                self.faults,
                authenticate=api.authenticate,
                decorate=api.decorate,
                port=port,
            )
            server.start()
            self._servers[name] = server
        if not self.frozen:
            self._ticker = threading.Thread(target=self._tick, name="sandbox-ticker", daemon=True)
            self._ticker.start()
        return self

    def _tick(self):
        while not self._stop.wait(self.tick_seconds):
            self.clock.advance(self.tick_seconds)

    def stop(self) -> None:
        self._stop.set()
        self.events.close()  # ends open event streams
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses
    @property
    def name(self) -> str:
        """The cluster's name ("default" for the single sandbox)."""
        return self.world.profile.name

    @property
    def nomad_addr(self) -> str:
        return self._servers["nomad"].addr

    @property
    def consul_addr(self) -> str:
        return self._servers["consul"].addr

    @property
    def nomad_port(self) -> int:
        return self._servers["nomad"].port

    @property
    def consul_port(self) -> int:
        return self._servers["consul"].port

    def stats(self, server: str = "nomad") -> dict:
        """Request counts per "METHOD /path/:template" plus "total" (as GET /_sandbox/stats)."""
        return json.loads(json.dumps(self._servers[server].stats.snapshot()))

    def reset_stats(self, server: str | None = None) -> None:
        for name, s in self._servers.items():
            if server in (None, name):
                s.stats.reset()

    def describe(self) -> dict:
        return self.world.describe()

    def churn(self, since: float | None = None) -> dict:
        """Applied churn changes (as GET /_sandbox/churn): rate, count, [monotonic time, alloc ID, index]."""
        return self.world.churn_state(since)
