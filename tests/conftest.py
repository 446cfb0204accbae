"""Shared fixtures: sandboxes over real HTTP, and the upstream reference samples.

- ``sandbox``: session-wide, frozen, seed 7, 40 clients, no ACLs. Do not mutate it
  (restart/stop); use ``fresh_sandbox`` for that. Clear any faults you inject.
- ``acl_sandbox``: session-wide, frozen, ACLs on (``.tokens`` / ``.consul_tokens``).
- ``fresh_sandbox``: per test, frozen, small (8 clients): for restarts, stops, faults, clock moves.
- ``reference_dir``: ``../shared/reference`` beside the project (HashiCorp's documented samples).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import Sandbox

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_reference_dir() -> Path | None:
    path = (PROJECT_ROOT.parent / "shared" / "reference").resolve()
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    path = find_reference_dir()
    if path is None:
        reason = "upstream samples not found at ../shared/reference (relative to the project root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(clients=40, seed=7, frozen=True) as sb:
        yield sb


@pytest.fixture(scope="session")
def acl_sandbox():
    with Sandbox(clients=40, seed=7, frozen=True, acl=True) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox():
    with Sandbox(clients=8, seed=7, frozen=True) as sb:
        yield sb
