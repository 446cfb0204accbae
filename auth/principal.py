"""The signed-in person, built from the ID-token claims Streamlit puts in ``st.user``.

Pure (no Streamlit import): ``principal_from_claims`` and the session-age rule
are unit-tested directly; ``ui.login.gate`` feeds them ``st.user``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from auth.roles import parse_groups, roles_for


@dataclass(frozen=True)
class Principal:
    subject: str
    name: str
    email: str
    groups: tuple[str, ...]
    roles: frozenset[str]
    signed_in_at: datetime
    session_expires_at: datetime
    issued_at: datetime | None = None  # the ID token's iat: a sign-out refuses identities issued before it

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.subject


def epoch(value: Any) -> datetime | None:
    """A claim in epoch seconds as a UTC datetime; None when absent or unusable."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def signed_in_at(claims: Mapping[str, Any]) -> datetime | None:
    """When the person authenticated: ``auth_time`` if the provider sent it, else ``iat``."""
    return epoch(claims.get("auth_time")) or epoch(claims.get("iat"))


def session_started_at(claims: Mapping[str, Any]) -> datetime | None:
    """When this dashboard sign-in happened: the ID token's ``iat`` (else ``auth_time``).

    The session age counts from ``iat``, the moment the provider issued the
    token for this sign-in. ``auth_time`` can be much older when the provider
    keeps its own single-sign-on session: counting from it would send a person
    whose provider signs them in silently back to the sign-in page forever.
    """
    return epoch(claims.get("iat")) or epoch(claims.get("auth_time"))


def session_expires_at(claims: Mapping[str, Any], max_session_hours: float) -> datetime | None:
    started = session_started_at(claims)
    if started is None:
        return None
    return started + timedelta(hours=max_session_hours)


def session_expired(claims: Mapping[str, Any], max_session_hours: float, now: datetime) -> bool:
    """True when the sign-in is older than the maximum age, or its age is unknown (no iat)."""
    expires = session_expires_at(claims, max_session_hours)
    return expires is None or now >= expires


def principal_from_claims(
    claims: Mapping[str, Any], *, groups_claim: str, group_roles: Mapping, max_session_hours: float
) -> Principal:
    """A Principal from ID-token claims. Roles may be empty: the caller decides what that means."""
    groups = parse_groups(claims, groups_claim)
    started = session_started_at(claims) or datetime.fromtimestamp(0, tz=UTC)
    return Principal(
        subject=str(claims.get("sub") or claims.get("email") or ""),
        name=str(claims.get("name") or claims.get("preferred_username") or ""),
        email=str(claims.get("email") or ""),
        groups=groups,
        roles=roles_for(groups, group_roles),
        signed_in_at=signed_in_at(claims) or started,
        session_expires_at=started + timedelta(hours=max_session_hours),
        issued_at=epoch(claims.get("iat")),
    )
