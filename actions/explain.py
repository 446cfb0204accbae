"""Nomad's refusals of a write, in words a support person can act on.

Nomad's own answers (command/agent/alloc_endpoint.go, client/alloc_endpoint.go and
nomad/client_rpc.go in hashicorp/nomad): 403 "Permission denied" without alloc-lifecycle,
404 "Unknown allocation" / "No path to node", 500 "Task not running" and
"restart of an alloc that should not run".
"""

from __future__ import annotations

from connectors.errors import ConnectorError, Forbidden, NotFound, TimedOut


def refusal(err: ConnectorError, *, verb: str, short: str, namespace: str, personal: bool) -> tuple[str, bool]:
    """(message, definite): definite is False when it is unknown whether Nomad acted."""
    said = f" (Nomad said: {err.detail})" if err.detail else ""
    what = f"allocation {short}"
    detail = (err.detail or "").lower()
    if isinstance(err, Forbidden):
        whose = "Your" if personal else "The dashboard's"
        return (
            f"{whose} Nomad token lacks alloc-lifecycle in namespace {namespace}, so Nomad refused to {verb} "
            f"{what}. Nothing was done{said}. Ask a Nomad administrator for that permission.",
            True,
        )
    if isinstance(err, NotFound):
        if "no path to node" in detail:
            return (
                f"Nomad cannot reach the node running {what} (it is down or disconnected), so nothing was "
                f"done{said}. Stopping the allocation lets Nomad place it on another node.",
                True,
            )
        if "unknown task" in detail:
            return f"{what.capitalize()} has no such task, so nothing was done{said}.", True
        return f"Nomad no longer knows {what} (it was removed or garbage-collected). Nothing was done{said}.", True
    if "should not run" in detail:
        return (
            f"{what.capitalize()} is stopped or being replaced, so Nomad will not {verb} it. Nothing was done{said}. "
            "Open its replacement instead.",
            True,
        )
    if "task not running" in detail:
        return f"Nothing is running in {what} to {verb}, so nothing was done{said}.", True
    if isinstance(err, TimedOut) or err.status is None or err.status >= 500:
        return (
            f"Nomad did not answer in time or could not be reached while asked to {verb} {what}: it is not "
            f"known whether it happened. Check the allocation's task events before trying again{said}.",
            False,
        )
    return f"Nomad refused to {verb} {what} (HTTP {err.status}){said}. Nothing was done.", True
