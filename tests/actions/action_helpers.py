"""Helpers and fixtures shared by the actions tests (imported by each module: a conftest.py here would
shadow the other test folders' ``from conftest import ...``).

Actions against a real sandbox over HTTP and a real store.

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
from datetime import UTC, datetime, timedelta

import pytest

from actions import Environment, Target
from auth.principal import Principal
from config import ActionSettings
from connectors import NomadConnector
from connectors.settings import load
from sandbox import Sandbox
from store import db
from store.audit import AuditStore

ROLE_GROUPS = {"viewer": "dash-viewers", "support": "dash-support", "manager": "dash-managers", "admin": "dash-admins"}


def make_person(role: str | None, name: str | None = None) -> Principal:
    now = datetime.now(UTC)
    who = name or role or "nobody"
    return Principal(
        subject=f"sub-{who}",
        name=who.title(),
        email=f"{who}@example.test",
        groups=(ROLE_GROUPS[role],) if role else (),
        roles=frozenset({role}) if role else frozenset(),
        signed_in_at=now,
        session_expires_at=now + timedelta(hours=8),
    )


def nomad_for(sb, token: str | None = None) -> NomadConnector:
    env = {"NOMAD_ADDR": sb.nomad_addr, "DASHBOARD_HTTP_TIMEOUT": "10"}
    if token:
        env["NOMAD_TOKEN"] = token
    return NomadConnector(load(env).nomad)


def target_of(alloc: dict, **kw) -> Target:
    return Target(
        namespace=alloc["Namespace"],
        job=alloc["JobID"],
        task_group=alloc["TaskGroup"],
        allocation=alloc["ID"],
        client=alloc["Namespace"],
        observed_at=kw.pop("observed_at", datetime.now(UTC)),
        **kw,
    )


@pytest.fixture
def person():
    return make_person


@pytest.fixture(scope="module")
def world():
    with Sandbox(clients=24, seed=7, frozen=True) as sb:
        sb.used = set()
        yield sb


def _rollout_coming(world, job_id: str) -> bool:
    """The seeded fleet rollout has yet to reach this job (World._rollout_reaches is due, seconds
    after the start): a test that moves the clock (test_rolling's ticking) would see the group's
    allocations replaced in the middle of its action, sooner or later depending on its speed."""
    w = world.world
    with w.lock:
        return any(fn.__name__ == "_rollout_reaches" and args[0].id == job_id for _, _, fn, args in w._timers)


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
            calm = all(not t.get("Restarts") for m in members for t in (m.get("TaskStates") or {}).values())
            if len(members) != size or key in world.used or not calm:  # crash-looping tasks would blur counts
                continue
            if _rollout_coming(world, key[1]):
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
        """{task: restart requests that reached the client}: its Restart Signaled events (Nomad's
        Restarts count only moves seconds later, when the task is actually restarted)."""
        full = nomad_for(world).get_allocation(alloc_id)
        return {
            name: sum(e["Type"] == "Restart Signaled" for e in state["Events"] or ())
            for name, state in full["TaskStates"].items()
        }

    return restarts
