"""Principal from ID-token claims, and the maximum session age."""

from datetime import UTC, datetime, timedelta

import pytest

import config
from auth.principal import principal_from_claims, session_expired, session_expires_at, session_started_at, signed_in_at

CFG = config.load()
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def ts(dt):
    return int(dt.timestamp())


def make(claims):
    return principal_from_claims(
        claims, groups_claim=CFG.groups_claim, group_roles=CFG.group_roles, max_session_hours=CFG.max_session_hours
    )


def test_principal_carries_identity_groups_roles_and_times():
    iat = NOW - timedelta(hours=1)
    auth_time = NOW - timedelta(hours=3)
    p = make(
        {
            "sub": "u-1",
            "name": "Sam Support",
            "email": "sam@example.com",
            "groups": ["dash-support"],
            "iat": ts(iat),
            "auth_time": ts(auth_time),
        }
    )
    assert (p.subject, p.name, p.email) == ("u-1", "Sam Support", "sam@example.com")
    assert p.groups == ("dash-support",) and p.roles == {"support"}
    assert p.signed_in_at == auth_time
    assert p.session_expires_at == iat + timedelta(hours=CFG.max_session_hours)


def test_principal_is_frozen():
    p = make({"sub": "x", "iat": ts(NOW)})
    with pytest.raises(AttributeError):  # dataclasses.FrozenInstanceError
        p.roles = frozenset({"admin"})


def test_signed_in_at_falls_back_to_iat():
    assert signed_in_at({"iat": ts(NOW)}) == NOW
    assert signed_in_at({}) is None


@pytest.mark.parametrize("age_hours, expired", [(0, False), (7.9, False), (8, True), (30 * 24, True)])
def test_session_older_than_max_hours_has_expired(age_hours, expired):
    claims = {"iat": ts(NOW - timedelta(hours=age_hours))}
    assert session_expired(claims, 8, NOW) is expired


def test_session_age_counts_from_this_sign_in_not_an_older_provider_session():
    # The provider's own SSO session began long ago (auth_time) but this sign-in is fresh (iat).
    claims = {"iat": ts(NOW - timedelta(minutes=5)), "auth_time": ts(NOW - timedelta(days=2))}
    assert session_started_at(claims) == NOW - timedelta(minutes=5)
    assert not session_expired(claims, 8, NOW)


def test_session_without_any_time_is_treated_as_expired():
    assert session_expires_at({}, 8) is None
    assert session_expired({}, 8, NOW)
    assert session_expired({"iat": "garbage"}, 8, NOW)


def test_only_auth_time_is_enough():
    assert not session_expired({"auth_time": ts(NOW - timedelta(hours=1))}, 8, NOW)
