"""The demo OpenID provider: loopback only, and a spec-correct authorization-code flow over real HTTP."""

import base64
import hashlib
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from sandbox.oidc_provider import DemoIdentityProvider

REDIRECT = "http://localhost:8501/oauth2callback"


@pytest.fixture(scope="module")
def idp():
    provider = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=[REDIRECT])
    provider.start()
    yield provider
    provider.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "dashboard.example.com", ""])
def test_refuses_any_non_loopback_address(host):
    with pytest.raises(ValueError, match="loopback"):
        DemoIdentityProvider(host=host, port=0, redirect_uris=[REDIRECT])


def test_start_rechecks_the_host():
    provider = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=[REDIRECT])
    provider.host = "0.0.0.0"
    with pytest.raises(ValueError):
        provider.start()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses_are_accepted(host):
    DemoIdentityProvider(host=host, port=0, redirect_uris=[REDIRECT])


def test_one_demo_user_per_role_and_one_without_a_dashboard_group(idp):
    groups = {name: user.groups for name, user in idp.users.items()}
    assert groups == {
        "viewer": ("dash-viewers",),
        "support": ("dash-support",),
        "manager": ("dash-managers",),
        "admin": ("dash-admins",),
        "nobody": ("finance",),
    }
    assert all(user.password not in repr(user) for user in idp.users.values())


def test_discovery_document(idp):
    meta = requests.get(idp.metadata_url, timeout=5).json()
    assert meta["issuer"] == idp.issuer
    assert meta["jwks_uri"].startswith(idp.issuer)
    assert "S256" in meta["code_challenge_methods_supported"]
    assert set(meta["token_endpoint_auth_methods_supported"]) >= {"client_secret_basic", "client_secret_post"}
    assert requests.get(meta["jwks_uri"], timeout=5).json() == idp.jwks()


def test_streamlit_auth_section(idp):
    section = idp.streamlit_auth_section(REDIRECT, "c" * 32)
    assert section["server_metadata_url"] == idp.metadata_url
    assert (section["client_id"], section["client_secret"]) == (idp.client_id, idp.client_secret)
    assert "groups" in section["client_kwargs"]["scope"].split()
    assert section["redirect_uri"] == REDIRECT and section["cookie_secret"] == "c" * 32


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(idp, username, *, challenge=None, password=None, nonce="n-0S6", state="st-1"):
    meta = requests.get(idp.metadata_url, timeout=5).json()
    params = {
        "response_type": "code",
        "client_id": idp.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile email groups",
        "state": state,
        "nonce": nonce,
        "prompt": "select_account",
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    form_page = requests.get(meta["authorization_endpoint"], params=params, timeout=5)
    assert form_page.status_code == 200 and 'name="password"' in form_page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_page.text))
    assert hidden["state"] == state
    password = idp.users[username].password if password is None else password
    return requests.post(
        meta["authorization_endpoint"],
        data={**hidden, "username": username, "password": password},
        allow_redirects=False,
        timeout=5,
    )


def code_from(response):
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def test_full_code_flow_with_pkce_and_basic_auth(idp):
    verifier, challenge = pkce()
    code = code_from(authorize(idp, "support", challenge=challenge))
    token = requests.post(
        f"{idp.issuer}/token",
        auth=(idp.client_id, idp.client_secret),
        timeout=5,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer"

    keys = KeySet.import_key_set(requests.get(f"{idp.issuer}/jwks", timeout=5).json())
    token = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idp.issuer},
        aud={"essential": True, "value": idp.client_id},
        nonce={"essential": True, "value": "n-0S6"},
        exp={"essential": True},
    ).validate(token.claims)
    assert token.header["alg"] == "RS256" and token.header["kid"] == idp.jwks()["keys"][0]["kid"]
    claims = token.claims
    assert claims["sub"] == "demo-support" and claims["name"] == "Sam Support"
    assert claims["email"] == "support@demo.example"
    assert claims["groups"] == ["dash-support"]
    now = time.time()
    assert claims["iat"] <= now < claims["exp"] and claims["auth_time"] <= now

    info = requests.get(
        f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5
    )
    assert info.json()["groups"] == ["dash-support"]


def test_client_secret_post_and_single_use_codes(idp):
    code = code_from(authorize(idp, "manager"))
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
    }
    first = requests.post(f"{idp.issuer}/token", data=form, timeout=5)
    assert first.status_code == 200
    again = requests.post(f"{idp.issuer}/token", data=form, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(idp):
    code = code_from(authorize(idp, "viewer"))
    resp = requests.post(
        f"{idp.issuer}/token",
        auth=(idp.client_id, "not-the-secret"),
        timeout=5,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_pkce_verifier_must_match(idp):
    _, challenge = pkce()
    code = code_from(authorize(idp, "admin", challenge=challenge))
    resp = requests.post(
        f"{idp.issuer}/token",
        auth=(idp.client_id, idp.client_secret),
        timeout=5,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "wrong" * 10,
        },
    )
    assert resp.status_code == 400 and "PKCE" in resp.json()["error_description"]


def test_wrong_password_shows_the_form_again(idp):
    resp = authorize(idp, "support", password="guess")
    assert resp.status_code == 401 and "Wrong username or password" in resp.text


def test_unregistered_redirect_uri_is_refused_without_redirecting(idp):
    resp = requests.get(
        f"{idp.issuer}/authorize",
        allow_redirects=False,
        timeout=5,
        params={
            "response_type": "code",
            "client_id": idp.client_id,
            "redirect_uri": "http://evil.example/cb",
            "scope": "openid",
        },
    )
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_nobody_signs_in_with_groups_the_dashboard_does_not_map(idp):
    code = code_from(authorize(idp, "nobody"))
    body = requests.post(
        f"{idp.issuer}/token",
        auth=(idp.client_id, idp.client_secret),
        timeout=5,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    ).json()
    claims = jwt.decode(body["id_token"], KeySet.import_key_set(idp.jwks())).claims
    assert claims["groups"] == ["finance"]


def test_a_token_signed_by_another_key_does_not_verify(idp):
    other = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=[REDIRECT])
    forged = other.id_token_for("admin")
    with pytest.raises(JoseError):
        jwt.decode(forged, KeySet.import_key_set(idp.jwks()))
