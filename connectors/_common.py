"""Pieces shared by the Nomad and Consul connectors: Listing, error mapping, timeouts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions

from .errors import (
    BadResponse,
    ConnectorError,
    Forbidden,
    NotFound,
    TimedOut,
    Unavailable,
    nomad_known_error,
    scrub,
)

USER_AGENT = "nomad-consul-dashboard"
# Nomad and Consul add up to wait/16 of jitter to a blocking query.
BLOCKING_MARGIN = 1.0 / 16


@dataclass(frozen=True)
class Listing:
    """A list endpoint's body plus the index header for the next blocking query."""

    data: Any
    index: int

    def __repr__(self) -> str:  # keep logs short: never dump 100k allocations
        size = len(self.data) if hasattr(self.data, "__len__") else "?"
        return f"Listing(index={self.index}, items={size})"


def new_session(pool: int = 32) -> requests.Session:
    """A pooled session that ignores proxy/netrc variables: the settings alone decide where requests go."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


def parse_index(value: str | None) -> int:
    try:
        return max(int(value), 0) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def wait_string(wait: float) -> str:
    """Seconds -> a Go duration ("30s", "1500ms")."""
    ms = int(round(float(wait) * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def request_timeout(timeout: float, wait: float | None) -> tuple[float, float]:
    """(connect, read) for requests; a blocking query may legitimately hold for wait + jitter."""
    if wait:
        return (timeout, timeout + wait * (1 + BLOCKING_MARGIN))
    return (timeout, timeout)


def check_blocking(index: int | None, wait: float | None) -> tuple[int | None, float | None]:
    """Normalise index/wait: block only for index >= 1 (index 0 never blocks), wait 1ms..10min."""
    if index is None or int(index) < 1:
        return None, None
    if wait is None:
        wait = 60.0
    wait = float(wait)
    if not 0 < wait <= 600:
        raise ValueError("wait must be between 0 and 600 seconds")
    return int(index), wait


_REASONS = [
    (
        re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", re.I),
        "its TLS certificate could not be verified",
    ),
    (
        re.compile(r"hostname mismatch|doesn't match|does not match", re.I),
        "its TLS certificate is for a different host name",
    ),
    (
        re.compile(r"WRONG_VERSION_NUMBER|wrong version number|record layer failure", re.I),
        "it does not speak TLS on that port (check http:// vs https://)",
    ),
    (re.compile(r"SSL|TLS", re.I), "the TLS handshake failed"),
    (re.compile(r"Connection refused|actively refused|Errno 111", re.I), "connection refused"),
    (
        re.compile(
            r"Name or service not known|nodename nor servname|Temporary failure in name resolution|getaddrinfo failed|No address associated",
            re.I,
        ),
        "the host name could not be resolved",
    ),
    (re.compile(r"Network is unreachable|No route to host", re.I), "no network route to the host"),
    (
        re.compile(r"reset by peer|RemoteDisconnected|closed connection|Connection aborted", re.I),
        "the connection was dropped",
    ),
]


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for pattern, reason in _REASONS:
        if pattern.search(text):
            return reason
    return "the connection failed"


def _is_read_timeout(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        inner = exc.args[0]
        if isinstance(inner, urllib3.exceptions.ReadTimeoutError):
            return True
        if isinstance(inner, urllib3.exceptions.MaxRetryError) and isinstance(
            inner.reason, urllib3.exceptions.ReadTimeoutError
        ):
            return True
    return False


@dataclass
class Context:
    """What a call was doing, for the error message."""

    source: str  # "Nomad" / "Consul"
    addr: str  # the configured address (no credentials in it)
    doing: str  # "list allocations in all namespaces"
    missing: str | None = None  # "allocation 5456bd7a-..." for a 404
    whose: str = "The dashboard's"  # whose token: "The dashboard's" / "Your"
    has_token: bool = True
    timeout: float = 15.0
    secrets: Sequence[str | None] = ()

    @property
    def env_var(self) -> str:
        return "NOMAD" if self.source == "Nomad" else "CONSUL"


def from_exception(ctx: Context, exc: BaseException) -> ConnectorError:
    """Map a requests/urllib3 failure (no HTTP status) to a ConnectorError."""
    detail = scrub(exc, ctx.secrets)
    src = ctx.source
    if _is_read_timeout(exc):
        return TimedOut(
            src,
            f"{src} at {ctx.addr} did not answer within {ctx.timeout:g} seconds while trying to {ctx.doing}.",
            detail=detail,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Unavailable(
            src, f"{src} at {ctx.addr} cannot be reached (no connection within {ctx.timeout:g} seconds).", detail=detail
        )
    if isinstance(
        exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)
    ):
        var = "NOMAD_ADDR" if src == "Nomad" else "CONSUL_HTTP_ADDR"
        return Unavailable(
            src, f"{src} at {ctx.addr} cannot be reached: the address is not valid (check {var}).", detail=detail
        )
    if isinstance(exc, requests.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        reason = _reason(exc)
        hint = f" If it uses a private CA, set {ctx.env_var}_CACERT to that CA's certificate file."
        return Unavailable(src, f"{src} at {ctx.addr} cannot be reached securely: {reason}.{hint}", detail=detail)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return Unavailable(
            src, f"{src} at {ctx.addr} dropped the connection while trying to {ctx.doing}.", detail=detail
        )
    if isinstance(exc, (requests.exceptions.ConnectionError, OSError, urllib3.exceptions.HTTPError)):
        return Unavailable(src, f"{src} at {ctx.addr} cannot be reached ({_reason(exc)}).", detail=detail)
    if isinstance(exc, ValueError):  # JSON decoding
        return bad_json(ctx, exc)
    return Unavailable(
        src, f"{src} at {ctx.addr} could not be asked to {ctx.doing} ({type(exc).__name__}).", detail=detail
    )


def from_status(ctx: Context, status: int, body: Any) -> ConnectorError:
    """Map an HTTP error status (with the server's text) to a ConnectorError."""
    detail = scrub(body, ctx.secrets) or f"HTTP {status}"
    src = ctx.source
    known = nomad_known_error(status, detail) if src == "Nomad" else None
    if known is not None:
        cls, words = known
        return cls(src, f"{words} ({src} said: {detail})", status=status, detail=detail)
    if status in (401, 403):
        if not ctx.has_token:
            return Forbidden(
                src,
                f"The dashboard has no {src} token and is not allowed to {ctx.doing} "
                f"({src} said: {detail}). Set {ctx.env_var}{'_HTTP' if src == 'Consul' else ''}_TOKEN.",
                status=status,
                detail=detail,
            )
        return Forbidden(
            src,
            f"{ctx.whose} {src} token is not allowed to {ctx.doing} ({src} said: {detail})",
            status=status,
            detail=detail,
        )
    if status == 404:
        if ctx.missing:
            return NotFound(src, f"{src} has no {ctx.missing} ({src} said: {detail})", status=status, detail=detail)
        return NotFound(
            src,
            f"{src} could not find what was needed to {ctx.doing} ({src} said: {detail})",
            status=status,
            detail=detail,
        )
    if status == 408 or status == 504:
        return TimedOut(
            src,
            f"{src} at {ctx.addr} timed out while trying to {ctx.doing} (HTTP {status}: {detail})",
            status=status,
            detail=detail,
        )
    if status >= 500:
        return Unavailable(
            src,
            f"{src} at {ctx.addr} answered with an error while trying to {ctx.doing} (HTTP {status}: {detail})",
            status=status,
            detail=detail,
        )
    return BadResponse(
        src, f"{src} rejected the request to {ctx.doing} (HTTP {status}: {detail})", status=status, detail=detail
    )


def bad_json(ctx: Context, exc: BaseException) -> BadResponse:
    """The one message for a body that is not valid JSON (also used by from_exception)."""
    return BadResponse(
        ctx.source,
        f"{ctx.source} at {ctx.addr} sent a response the dashboard cannot read while trying to {ctx.doing} (it is not valid JSON).",
        detail=scrub(exc, ctx.secrets),
    )
