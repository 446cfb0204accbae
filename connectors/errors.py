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
