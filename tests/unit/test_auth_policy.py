"""The role -> actions table, as a person would notice it: which pages and controls each role gets."""

from datetime import UTC, datetime

import pytest

from auth import policy
from auth.policy import Forbidden, can, ensure, pages_for
from auth.principal import Principal

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def person(*roles):
    return Principal(
        subject="s", name="n", email="e", groups=(), roles=frozenset(roles), signed_in_at=T0, session_expires_at=T0
    )


@pytest.mark.parametrize(
    "roles, pages",
    [
        (("viewer",), ["health", "client", "allocation", "nodes", "versions", "residency"]),
        # support may view the deployment history and rollouts (read-only)
        (
            ("support",),
            ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"],
        ),
        (("manager",), ["health", "client", "versions", "residency", "deployments", "rollouts", "audit"]),
        (
            ("admin",),
            ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"],
        ),
        ((), []),
        (
            ("support", "manager"),
            ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"],
        ),
    ],
)
def test_pages_for_each_role_in_navigation_order(roles, pages):
    assert pages_for(person(*roles)) == pages


@pytest.mark.parametrize(
    "roles, logs, restart",
    [
        (("viewer",), False, False),
        (("support",), True, True),
        (("manager",), False, False),
        (("admin",), True, True),
        ((), False, False),
    ],
)
def test_logs_and_restart(roles, logs, restart):
    p = person(*roles)
    assert can(p, "logs:read") is logs
    assert can(p, "alloc:restart") is restart


def test_ensure_raises_forbidden_with_a_readable_message():
    with pytest.raises(Forbidden) as caught:
        ensure(person("manager"), "alloc:restart")
    assert caught.value.action == "alloc:restart"
    assert "restart an allocation" in str(caught.value)
    assert "manager" in str(caught.value)
    assert isinstance(caught.value, PermissionError)
    ensure(person("support"), "alloc:restart")  # allowed: no exception


def test_no_role_may_do_nothing():
    for action in policy.ACTIONS:
        assert not can(person(), action)


def test_admin_may_do_everything_and_every_action_is_described():
    assert all(can(person("admin"), action) for action in policy.ACTIONS)
    assert all(policy.ACTIONS[a] for a in policy.ACTIONS)
    assert {f"page:{p}" for p in policy.PAGES} <= set(policy.ACTIONS)


def test_unknown_action_is_a_bug_not_a_silent_deny():
    with pytest.raises(ValueError, match="Unknown action"):
        can(person("admin"), "alloc:restrat")
    with pytest.raises(ValueError):
        ensure(person("admin"), "page:nope")


@pytest.mark.parametrize(
    "roles, stop, rolling, audit_all",
    [
        (("viewer",), False, False, False),
        (("support",), False, True, False),
        (("manager",), False, False, True),
        (("admin",), True, True, True),
    ],
)
def test_stop_is_admin_only_and_managers_see_the_whole_audit_trail(roles, stop, rolling, audit_all):
    p = person(*roles)
    assert can(p, policy.ALLOC_STOP) is stop
    assert can(p, policy.GROUP_RESTART) is rolling
    assert can(p, policy.AUDIT_ALL) is audit_all
