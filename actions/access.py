"""Access events: reading regulated data (task logs, raw allocation JSON) is recorded too.

Like an action, the record comes first: when it cannot be written, the data is not shown.
"""

from __future__ import annotations

from actions import catalog
from actions.environment import Environment, Fleet, get_environment
from actions.model import Target
from auth.principal import Principal
from store.audit import Entry, new_request_id
from store.db import StoreUnavailable

KINDS = (catalog.LOGS_READ, catalog.ALLOC_RAW)
UNAVAILABLE = "The audit trail is unavailable, so this cannot be shown (reading it must be recorded)."


def record_access(
    principal: Principal,
    what: str,
    target: Target,
    *,
    detail: dict | None = None,
    env: Environment | Fleet | None = None,
) -> str | None:
    """Record that ``principal`` read ``what`` of ``target``; None when recorded, else why not (in words)."""
    from actions.perform import actor

    if what not in KINDS:
        raise ValueError(f"unknown access kind {what!r}; known: {KINDS}")
    try:
        env = env or get_environment()
        fields = target.fields()
        if not fields["cluster"]:  # a page of one cluster: that one
            names = env.names if isinstance(env, Fleet) else [env.cluster]
            fields["cluster"] = names[0] if len(names) == 1 else ""
        env.audit.append(Entry(new_request_id(), "accessed", actor(principal), what, fields, detail=detail or {}))
    except StoreUnavailable:
        return UNAVAILABLE
    return None
