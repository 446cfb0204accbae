"""The connectors' own small set of errors.

Every public connector method raises only these (never a python-nomad,
py-consul or requests exception).  Each error carries `.source` ("Nomad" or
"Consul") and a message a support person can act on.  Messages never contain
a token: anything the server echoes back is scrubbed before it is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BadResponse",
    "ConnectorError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "TimedOut",
    "Unavailable",
    "scrub",
]

_MAX_DETAIL = 300


def scrub(text: object, secrets: Iterable[str | None] = ()) -> str:
    """Shorten server text for a message and blank out any secret in it."""
    s = str(text if text is not None else "")
    for secret in secrets:
        if secret:
            s = s.replace(secret, "<redacted>")
    s = " ".join(s.split())  # one line, no control characters
    if len(s) > _MAX_DETAIL:
        s = s[: _MAX_DETAIL - 1] + "…"
    return s


class ConnectorError(Exception):
    """Base of every error a connector raises.

    Attributes: `source` ("Nomad"/"Consul"), `message` (plain words),
    `status` (HTTP status when the server answered, else None), `detail`
    (what the server said, shortened and scrubbed; may be "").
    """

    kind = "error"

    def __init__(self, source: str, message: str, *, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.source = source
        self.message = message
        self.status = status
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(source={self.source!r}, message={self.message!r}, status={self.status!r})"


class Unavailable(ConnectorError):
    """The server cannot be reached (refused, DNS, TLS) or answered 5xx."""

    kind = "unavailable"


class Forbidden(ConnectorError):
    """The token in use is not allowed to do this (HTTP 401/403)."""

    kind = "forbidden"


class NotFound(ConnectorError):
    """The object does not exist (HTTP 404)."""

    kind = "not_found"


class InvalidInput(NotFound, ValueError):
    """An ID or name that cannot name anything (e.g. `../x`, a short alloc ID).

    Raised before any HTTP request is made.  It is a `NotFound` (so pages
    that handle "no such thing" handle it too) and a `ValueError`.
    """

    kind = "invalid_input"


class TimedOut(ConnectorError):
    """The server did not answer within the request timeout."""

    kind = "timed_out"


class BadResponse(ConnectorError):
    """The server answered with something we cannot use (bad JSON, HTTP 400...)."""

    kind = "bad_response"


# Texts real Nomad (v1.11.3) answers whose status alone misleads (a wrong ID is a 500, a down
# node a 404 like a missing object), mapped to plain words. Sources: go-memdb index.go (ID
# checks), nomad/util.go getAlloc, nomad/client_rpc.go, client/client.go RestartAllocation,
# client/allocrunner/alloc_runner.go, client/fs_endpoint.go, nomad/state/paginator.
_LOOKUP_THINGS = {"alloc": "allocation", "eval": "evaluation", "node": "node", "deployment": "deployment"}
_ID_ERRORS = (
    "UUID must be 36 characters",
    "Input (without hyphens) must be even length",
    "Invalid UUID",
    "UUID should have maximum of 4",
    "Invalid UUID length",
)


def nomad_known_error(status: int, body: str) -> tuple[type[ConnectorError], str] | None:
    """(error class, plain words) for a Nomad answer we recognise, else None."""
    text = " ".join(str(body or "").split())
    low = text.lower()
    if "index error:" in low and any(e.lower() in low for e in _ID_ERRORS):
        head = low.split(" lookup failed", 1)[0] if " lookup failed" in low else ""
        thing = _LOOKUP_THINGS.get(head.strip(), "object")
        return NotFound, f"There is no {thing} with that ID (Nomad needs the full 36-character ID)"
    if text.startswith("Unknown allocation"):
        return NotFound, "There is no allocation with that ID"
    if text == "No path to node":
        return Unavailable, "The node running this allocation is unreachable (it is down or disconnected)"
    if text.startswith("Could not find task runner for task:"):
        task = text.split(":", 1)[1].strip()
        return NotFound, f"The allocation has no task named {task}"
    if text == "Task not running":
        return BadResponse, "That task is not running, so it cannot be restarted"
    if text == "restart of an alloc that should not run":
        return BadResponse, "The allocation has finished, so there is nothing running to restart"
    if text == "task name cannot be set when restarting all tasks":
        return InvalidInput, "Choose either one task or all tasks to restart, not both"
    if low.startswith("task ") and "not started yet" in low:
        return NotFound, "The task has not started yet, so it has no logs"
    if low.startswith("unknown task name"):
        return NotFound, "The allocation has no task with that name"
    if status == 400 and ("failed to read filter expression" in low or "failed to read result page" in low):
        return BadResponse, "Nomad could not use the filter expression"
    return None
