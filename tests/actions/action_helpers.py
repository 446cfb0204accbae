"""Helpers shared by the actions tests (fixtures are in conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actions import Target
from auth.principal import Principal
from connectors import NomadConnector
from connectors.settings import load

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
