"""Who may do what: actions are data, and the role -> actions table is written once.

``ensure(principal, action, resource)`` is the one enforcement call (it raises
``Forbidden``); ``can`` answers the same question for hiding and showing
controls; ``pages_for`` lists the pages a person may open, in navigation order.
A hidden button is never the guard: the actions layer calls ``ensure`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from auth.principal import Principal

# Every action the dashboard knows. Pages are actions too ("page:<url_path>").
PAGE_HEALTH = "page:health"
PAGE_CLIENT = "page:client"
PAGE_ALLOCATION = "page:allocation"
PAGE_NODES = "page:nodes"
PAGE_DEPLOYMENTS = "page:deployments"
PAGE_ROLLOUTS = "page:rollouts"
PAGE_AUDIT = "page:audit"
PAGE_VERSIONS = "page:versions"
PAGE_RESIDENCY = "page:residency"
LOGS_READ = "logs:read"
ALLOC_READ = "alloc:read"
ALLOC_RESTART = "alloc:restart"
ALLOC_RAW = "alloc:raw"
ALLOC_STOP = "alloc:stop"
GROUP_RESTART = "group:rolling_restart"
AUDIT_ALL = "audit:all"

ACTIONS: dict[str, str] = {
    PAGE_HEALTH: "open the client health page",
    PAGE_CLIENT: "open a client's page",
    PAGE_ALLOCATION: "open an allocation's page",
    PAGE_NODES: "open the nodes page",
    PAGE_DEPLOYMENTS: "open the deployment analytics page",
    PAGE_ROLLOUTS: "open the fleet rollouts page",
    PAGE_AUDIT: "open the audit trail",
    PAGE_VERSIONS: "open the service versions page",
    PAGE_RESIDENCY: "open the data residency page",
    LOGS_READ: "read allocation logs",
    ALLOC_READ: "read an allocation's details (resources, task events)",
    ALLOC_RESTART: "restart an allocation",
    ALLOC_RAW: "see an allocation's raw JSON (secrets removed)",
    ALLOC_STOP: "stop an allocation (Nomad reschedules it elsewhere)",
    GROUP_RESTART: "restart a task group one allocation at a time",
    AUDIT_ALL: "see everyone's audit records (without it: only one's own)",
}

# Pages in navigation order, named by their st.Page url_path.
PAGES: tuple[str, ...] = (
    "health",
    "client",
    "allocation",
    "nodes",
    "versions",
    "residency",
    "deployments",
    "rollouts",
    "audit",
)

_VIEWER = frozenset({PAGE_HEALTH, PAGE_CLIENT, PAGE_ALLOCATION, PAGE_NODES, PAGE_VERSIONS, PAGE_RESIDENCY, ALLOC_READ})

# The table. A person with several roles may do the union of their actions.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "viewer": _VIEWER,
    # support may view the deployment history and rollouts too (read-only pages)
    "support": _VIEWER
    | {LOGS_READ, ALLOC_RESTART, ALLOC_RAW, GROUP_RESTART, PAGE_AUDIT, PAGE_DEPLOYMENTS, PAGE_ROLLOUTS},
    "manager": frozenset(
        {
            PAGE_HEALTH,
            PAGE_CLIENT,
            PAGE_DEPLOYMENTS,
            PAGE_ROLLOUTS,
            PAGE_AUDIT,
            AUDIT_ALL,
            PAGE_VERSIONS,
            PAGE_RESIDENCY,
        }
    ),
    "admin": frozenset(ACTIONS),
}


class Forbidden(PermissionError):
    """The person's roles do not allow the action. The message can be shown as is."""

    def __init__(self, action: str, subject: str, roles: frozenset[str], resource: str | None = None):
        self.action = action
        self.subject = subject
        self.roles = roles
        self.resource = resource
        held = ", ".join(sorted(roles)) or "no role"
        where = f" in {resource}" if resource else ""
        super().__init__(f"Not allowed to {ACTIONS.get(action, action)} ({action}){where} with {held}.")


def _check_known(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; known actions: {sorted(ACTIONS)}")


def actions_for(roles: frozenset[str] | set[str]) -> frozenset[str]:
    allowed: set[str] = set()
    for role in roles:
        allowed |= ROLE_ACTIONS.get(role, frozenset())
    return frozenset(allowed)


def can(principal: Principal, action: str) -> bool:
    """Whether ``principal`` may do ``action``. An unknown action is a bug: ValueError."""
    _check_known(action)
    return action in actions_for(principal.roles)


def ensure(principal: Principal, action: str, resource: str | None = None) -> None:
    """Raise ``Forbidden`` unless ``principal`` may do ``action``: the one enforcement call.

    ``resource`` names what the action touches (``"namespace acme"``); reads call this themselves
    (``snapshot.queries``), so no caller can skip the check. Roles are granted cluster-wide today,
    so the resource only appears in the message; per-client grants can decide on it later.
    """
    if principal is None or not can(principal, action):
        raise Forbidden(action, getattr(principal, "subject", ""), getattr(principal, "roles", frozenset()), resource)


def pages_for(principal: Principal) -> list[str]:
    """The url_paths of the pages ``principal`` may open, in navigation order.

    The list can name pages the app does not have yet ("deployments", "audit"):
    the app shows the intersection with the pages it has.
    """
    allowed = actions_for(principal.roles)
    return [page for page in PAGES if f"page:{page}" in allowed]
