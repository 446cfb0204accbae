"""Per-person Nomad identity: trade the person's OIDC ID token for a Nomad ACL token.

Optional mode. With ``expose_tokens = "id"`` in the ``[auth]`` secrets, Streamlit
puts the ID token in ``st.user.tokens["id"]``; Nomad's JWT auth method
(``/v1/acl/login``, here through ``NomadConnector.login_jwt("dashboard-sso", jwt)``)
exchanges it for a short-lived ACL token, so Nomad itself enforces the person's
policies. The ACL token is kept for the browser session until shortly before
it expires, then exchanged again.

Neither token is ever displayed or logged: ``NomadSession``'s repr hides the
secret, and errors name no token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

DEFAULT_AUTH_METHOD = "dashboard-sso"
# Exchange again this long before the Nomad token expires.
RENEW_MARGIN = timedelta(seconds=60)
# Used when neither Nomad nor the ID token says how long the token lives.
FALLBACK_TTL = timedelta(minutes=15)
_STATE_KEY = "_auth_nomad_session"


class IdentityUnavailable(RuntimeError):
    """The person's Nomad identity cannot be had (no ID token exposed, or the exchange failed)."""


@dataclass(frozen=True)
class NomadSession:
    secret_id: str = field(repr=False)
    expires_at: datetime
    accessor_id: str = ""
    # A digest of the ID token it was exchanged for (never the token itself).
    id_token_digest: str = field(default="", repr=False)

    def valid_at(self, now: datetime, margin: timedelta = RENEW_MARGIN) -> bool:
        return now + margin < self.expires_at


def _digest(id_token: str) -> str:
    return hashlib.sha256(id_token.encode("utf-8")).hexdigest()


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value and not value.startswith("0001-01-01"):
        text = value.strip().replace("Z", "+00:00")
        # Nomad sends nanoseconds; Python parses at most microseconds.
        if "." in text:
            head, _, rest = text.partition(".")
            digits = "".join(ch for ch in rest if ch.isdigit())
            tail = rest[len(digits) :]
            text = f"{head}.{digits[:6]}{tail}"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _token_exp(id_token: str) -> datetime | None:
    """The ``exp`` of a JWT, read without verifying it (Nomad verifies; this only bounds the cache)."""
    import base64
    import json

    try:
        payload = id_token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
        return datetime.fromtimestamp(float(exp), tz=UTC)
    except Exception:
        return None


def _field(result: Any, *names: str) -> Any:
    for name in names:
        if isinstance(result, Mapping) and name in result:
            return result[name]
        if hasattr(result, name):
            return getattr(result, name)
    return None


def exchange(id_token: str, login_fn: Callable[[str], Any], now: datetime) -> NomadSession:
    """Exchange ``id_token`` for a Nomad ACL token through ``login_fn(id_token)``.

    ``login_fn`` returns Nomad's ACL token (the JSON of ``/v1/acl/login`` as a
    mapping, or an object with ``secret_id``/``expiration_time`` attributes).
    The session expires at Nomad's ``ExpirationTime``; when Nomad sets none,
    at the ID token's ``exp`` (or after ``FALLBACK_TTL`` when that is unreadable).
    """
    if not id_token:
        raise IdentityUnavailable(
            'No ID token is available: set expose_tokens = "id" in the [auth] secrets to use per-person Nomad identity.'
        )
    result = login_fn(id_token)
    secret = _field(result, "SecretID", "secret_id")
    if not secret:
        raise IdentityUnavailable("Nomad's JWT login returned no ACL token.")
    expires = _parse_time(_field(result, "ExpirationTime", "expiration_time", "expires_at"))
    if expires is None:
        expires = _token_exp(id_token) or now + FALLBACK_TTL
    return NomadSession(
        secret_id=str(secret),
        expires_at=expires,
        accessor_id=str(_field(result, "AccessorID", "accessor_id") or ""),
        id_token_digest=_digest(id_token),
    )


def current(
    state: MutableMapping[str, Any],
    id_token: str,
    login_fn: Callable[[str], Any],
    now: datetime,
    *,
    margin: timedelta = RENEW_MARGIN,
) -> NomadSession:
    """The session's Nomad identity: reuse the kept one while valid for the same ID token, else exchange."""
    kept = state.get(_STATE_KEY)
    if isinstance(kept, NomadSession) and kept.id_token_digest == _digest(id_token) and kept.valid_at(now, margin):
        return kept
    state.pop(_STATE_KEY, None)
    fresh = exchange(id_token, login_fn, now)
    state[_STATE_KEY] = fresh
    return fresh


def forget(state: MutableMapping[str, Any]) -> None:
    state.pop(_STATE_KEY, None)


def session_identity(login_fn: Callable[[str], Any], cluster: str = "") -> NomadSession:
    """Thin Streamlit wrapper: the current person's Nomad session, kept in ``st.session_state``.

    ``login_fn`` is e.g. ``lambda jwt: nomad.login_jwt("dashboard-sso", jwt)``. Each cluster has its
    own ACL system (not federated), so ``cluster`` names the one the token is for: one kept per cluster.
    """
    import streamlit as st

    try:
        id_token = st.user.tokens.get("id", "")
    except Exception:
        id_token = ""
    state = cast(MutableMapping[str, Any], st.session_state)  # a mapping in all but name
    return current(cluster_state(state, cluster), id_token, login_fn, datetime.now(UTC))


def cluster_state(state: MutableMapping[str, Any], cluster: str = "") -> MutableMapping[str, Any]:
    """Where ``current`` keeps the Nomad session of ``cluster`` inside a person's session state: one
    per cluster (a token of one cluster means nothing to another); '' the single cluster's place."""
    if not cluster:
        return state
    return cast(MutableMapping[str, Any], state.setdefault(f"{_STATE_KEY}:{cluster}", {}))
