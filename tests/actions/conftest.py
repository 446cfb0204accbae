"""Actions against a real sandbox over HTTP and a real store.

- ``world``: a module-wide frozen sandbox (24 clients). Tests mutate it (restarts, stops), so each
  takes allocations of its own through ``pick``.
- ``pick(kind="pair" | "single", n=1)``: running allocations nobody in this module used yet, in a group with
  two running allocations ("pair") or in a group with only one ("single").
- ``make_env(url=None, **overrides)``: an ``actions.Environment`` on the world's Nomad and the store at ``url``
  (default: a fresh SQLite file), polling fast.
- ``person(role)``: a signed-in Principal with that role.
- ``restarts(alloc_id)``: {task: restart count} as Nomad reports it now.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from action_helpers import make_person, nomad_for

from actions import Environment
from config import ActionSettings
from connectors import NomadConnector
from sandbox import Sandbox
from store import db
from store.audit import AuditStore


@pytest.fixture
def person():
    return make_person


@pytest.fixture(scope="module")
def world():
    with Sandbox(clients=24, seed=7, frozen=True) as sb:
        sb.used = set()
        yield sb


@pytest.fixture
def pick(world):
    def pick(kind: str = "pair", n: int = 1) -> list[dict]:
        allocs = nomad_for(world).list_allocations().data
        groups = defaultdict(list)
        for a in allocs:
            if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run":
                groups[(a["Namespace"], a["JobID"], a["TaskGroup"])].append(a)
        size = 2 if kind == "pair" else 1
        out = []
        for key, members in sorted(groups.items()):
            if len(members) != size or key in world.used:
                continue
            world.used.add(key)
            out.append(members[0])
            if len(out) == n:
                return out
        raise AssertionError(f"the sandbox has no more unused {kind} groups")

    return pick


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    yield url
    db.dispose(url)


@pytest.fixture
def make_env(world, sqlite_url):
    def make(url: str | None = None, *, nomad: NomadConnector | None = None, **overrides) -> Environment:
        settings = overrides.pop("settings", ActionSettings(rate_limit=100))
        return Environment(
            audit=AuditStore(url or sqlite_url),
            nomad=nomad or nomad_for(world),
            cluster="default",
            settings=settings,
            poll_seconds=overrides.pop("poll_seconds", 0.05),
            **overrides,
        )

    return make


@pytest.fixture
def restarts(world):
    def restarts(alloc_id: str) -> dict[str, int]:
        # Restart requests that reached the client: its Restart Signaled events (Nomad's Restarts
        # count only moves seconds later, when the task is actually restarted).
        full = nomad_for(world).get_allocation(alloc_id)
        return {
            name: sum(e["Type"] == "Restart Signaled" for e in state["Events"] or ())
            for name, state in full["TaskStates"].items()
        }

    return restarts
