"""The actions, as data: what each is called, which policy action it needs, what it targets.

The guards each action runs are listed here too, so the catalogue reads as the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth import policy


@dataclass(frozen=True)
class Action:
    name: str  # as recorded in the audit trail
    label: str  # the button
    policy: str  # the auth.policy action it needs
    target: str  # "allocation" | "group"
    guards: tuple[str, ...]  # checked in this order (see actions.perform)
    verb: str  # "restart" (for messages: "Nomad refused to restart ...")


ALLOC_RESTART = Action(
    "alloc.restart",
    "Restart allocation",
    policy.ALLOC_RESTART,
    "allocation",
    ("policy", "reason", "live_target", "fresh_data", "blast_radius", "rate_limit", "cooldown"),
    "restart",
)
GROUP_ROLLING_RESTART = Action(
    "group.rolling_restart",
    "Rolling restart of the group",
    policy.GROUP_RESTART,
    "group",
    ("policy", "reason", "live_target", "fresh_data", "rate_limit", "lease"),
    "restart",
)
ROLLING_CANCEL = Action(
    "group.rolling_restart.cancel",
    "Cancel the rolling restart",
    policy.GROUP_RESTART,
    "group",
    ("policy", "reason"),
    "cancel",
)
ALLOC_STOP = Action(
    "alloc.stop",
    "Stop allocation (reschedule elsewhere)",
    policy.ALLOC_STOP,
    "allocation",
    ("policy", "reason", "live_target", "fresh_data", "rate_limit", "cooldown"),
    "stop",
)

ACTIONS: dict[str, Action] = {a.name: a for a in (ALLOC_RESTART, GROUP_ROLLING_RESTART, ROLLING_CANCEL, ALLOC_STOP)}
# What the per-person rate limit counts: the actions that change something in Nomad.
RATE_LIMITED = (ALLOC_RESTART.name, GROUP_ROLLING_RESTART.name, ALLOC_STOP.name)
# Access events (regulated data read), recorded but not guarded.
LOGS_READ = "logs.read"
ALLOC_RAW = "alloc.raw_json"


def get(action: Action | str) -> Action:
    if isinstance(action, Action):
        return action
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"Unknown action {action!r}; known: {sorted(ACTIONS)}") from None
