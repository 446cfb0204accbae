"""Per-person Nomad identity: exchange once, keep within the TTL, never show the secret."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from auth.nomad_identity import IdentityUnavailable, current, exchange, forget

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def jwt(exp):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'sub': 'u', 'exp': int(exp.timestamp())})}.c2ln"


class FakeNomad:
    def __init__(self, ttl=timedelta(minutes=30), expiration="auto"):
        self.calls = []
        self.ttl = ttl
        self.expiration = expiration

    def login_jwt(self, method, token):
        self.calls.append((method, token))
        n = len(self.calls)
        exp = (
            (NOW + self.ttl).strftime("%Y-%m-%dT%H:%M:%S.123456789Z") if self.expiration == "auto" else self.expiration
        )
        return {"AccessorID": f"acc-{n}", "SecretID": f"secret-{n}", "ExpirationTime": exp}


def login(nomad):
    return lambda token: nomad.login_jwt("dashboard-sso", token)


def test_exchange_reads_nomads_acl_token_and_expiry():
    nomad = FakeNomad()
    token = jwt(NOW + timedelta(hours=1))
    session = exchange(token, login(nomad), NOW)
    assert session.secret_id == "secret-1" and session.accessor_id == "acc-1"
    assert session.expires_at == NOW + timedelta(minutes=30, microseconds=123456)
    assert nomad.calls == [("dashboard-sso", token)]


def test_without_nomad_expiry_the_id_token_exp_bounds_the_session():
    nomad = FakeNomad(expiration=None)
    session = exchange(jwt(NOW + timedelta(minutes=10)), login(nomad), NOW)
    assert session.expires_at == NOW + timedelta(minutes=10)


def test_secrets_never_appear_in_repr():
    token = jwt(NOW + timedelta(hours=1))
    session = exchange(token, login(FakeNomad()), NOW)
    assert "secret-1" not in repr(session) and token not in repr(session)


def test_kept_for_the_session_and_renewed_near_expiry():
    nomad, state = FakeNomad(ttl=timedelta(minutes=10)), {}
    token = jwt(NOW + timedelta(hours=1))
    first = current(state, token, login(nomad), NOW)
    assert current(state, token, login(nomad), NOW + timedelta(minutes=5)) is first
    assert len(nomad.calls) == 1
    renewed = current(state, token, login(nomad), NOW + timedelta(minutes=9, seconds=30))
    assert renewed.secret_id == "secret-2" and len(nomad.calls) == 2


def test_a_new_id_token_gets_a_new_nomad_token():
    nomad, state = FakeNomad(), {}
    current(state, jwt(NOW + timedelta(hours=1)), login(nomad), NOW)
    again = current(state, jwt(NOW + timedelta(hours=2)), login(nomad), NOW)
    assert again.secret_id == "secret-2"
    forget(state)
    assert state == {}


def test_no_id_token_or_no_secret_is_a_clear_error():
    with pytest.raises(IdentityUnavailable, match="expose_tokens"):
        exchange("", login(FakeNomad()), NOW)
    with pytest.raises(IdentityUnavailable, match="no ACL token"):
        exchange(jwt(NOW), lambda t: {"SecretID": ""}, NOW)


def test_a_failed_exchange_keeps_nothing():
    state = {}

    def refuse(token):
        raise PermissionError("Nomad refused the login")

    with pytest.raises(PermissionError):
        current(state, jwt(NOW + timedelta(hours=1)), refuse, NOW)
    assert state == {}


def test_object_results_work_too():
    class Tok:
        secret_id = "s"
        expiration_time = NOW + timedelta(minutes=1)

    session = exchange(jwt(NOW), lambda t: Tok(), NOW)
    assert (session.secret_id, session.expires_at) == ("s", NOW + timedelta(minutes=1))
