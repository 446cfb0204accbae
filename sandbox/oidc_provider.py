"""A demo OpenID Connect provider for the sandbox: real discovery, JWKS, login form and code flow.

It serves the authorization-code flow the way Streamlit's ``st.login`` (Authlib)
uses it: discovery document, JWKS, an authorization endpoint with a username +
password form, a token endpoint (``client_secret_basic`` and
``client_secret_post``; PKCE ``S256`` or ``plain`` when the client sends a
``code_challenge``), RS256 ID tokens with iss/aud/exp/iat/auth_time/nonce/sub/
name/email/groups, and a userinfo endpoint. Signing uses ``joserfc``, the JOSE
library Authlib 1.9 depends on and points to in place of its deprecated
``authlib.jose``.

Demo only: it binds to loopback addresses and nothing else (``ValueError``
otherwise), its accounts and their passwords are generated when it is created
and listed on its sign-in page, and it keeps everything in memory.

    idp = DemoIdentityProvider(host="127.0.0.1", port=0,
                               redirect_uris=["http://localhost:8501/oauth2callback"])
    idp.start()
    idp.issuer, idp.metadata_url, idp.client_id, idp.client_secret, idp.jwks(), idp.users
    auth = idp.streamlit_auth_section(redirect_uri, cookie_secret)  # the [auth] table
    idp.stop()
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import ipaddress
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

SCOPES = ("openid", "profile", "email", "groups")
CODE_TTL = 120  # seconds an authorization code stays usable
DEFAULT_CLIENT_ID = "nomad-dashboard"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str = field(repr=False)
    name: str
    email: str
    groups: tuple[str, ...]

    @property
    def subject(self) -> str:
        return f"demo-{self.username}"


def _default_users() -> dict[str, DemoUser]:
    people = [
        ("viewer", "Vic Viewer", ("dash-viewers",)),
        ("support", "Sam Support", ("dash-support",)),
        ("manager", "Morgan Manager", ("dash-managers",)),
        ("admin", "Ada Admin", ("dash-admins",)),
        ("nobody", "Noor Nobody", ("finance",)),  # signs in, but no group the dashboard maps
    ]
    return {
        username: DemoUser(username, f"{username}-{secrets.token_hex(3)}", name, f"{username}@demo.example", groups)
        for username, name, groups in people
    }


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ::1; never for 0.0.0.0 or a hostname."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _require_loopback(host: str) -> None:
    if not is_loopback(host):
        raise ValueError(f"The demo identity provider binds to loopback addresses only, not {host!r}.")


def _b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest()).rstrip(b"=").decode()


class DemoIdentityProvider:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        redirect_uris: list[str] | tuple[str, ...] = (),
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | None = None,
        users: dict[str, DemoUser] | None = None,
        id_token_ttl: int = 3600,
    ):
        _require_loopback(host)
        self.host = host
        self.port = port
        self.redirect_uris = tuple(redirect_uris)
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.users: dict[str, DemoUser] = dict(users) if users is not None else _default_users()
        self.id_token_ttl = id_token_ttl
        self._kid = secrets.token_hex(8)
        self._key = RSAKey.generate_key(2048, parameters={"kid": self._kid, "use": "sig", "alg": "RS256"})
        self._codes: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> DemoIdentityProvider:
        _require_loopback(self.host)
        if self._server is not None:
            return self
        self._server = ThreadingHTTPServer((self.host.strip("[]"), self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-oidc", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoIdentityProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- public facts ----------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def jwks(self) -> dict:
        """The public keys that verify this provider's ID tokens (a JWKS document)."""
        return {"keys": [dict(self._key.as_dict(private=False))]}

    def metadata(self) -> dict:
        iss = self.issuer
        return {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "userinfo_endpoint": f"{iss}/userinfo",
            "jwks_uri": f"{iss}/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "scopes_supported": list(SCOPES),
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "name",
                "preferred_username",
                "email",
                "email_verified",
                "groups",
            ],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
        }

    def streamlit_auth_section(self, redirect_uri: str, cookie_secret: str) -> dict:
        """The ``[auth]`` table of a secrets.toml that signs in to the dashboard with this provider."""
        if redirect_uri not in self.redirect_uris:
            self.redirect_uris = (*self.redirect_uris, redirect_uri)
        return {
            "redirect_uri": redirect_uri,
            "cookie_secret": cookie_secret,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "server_metadata_url": self.metadata_url,
            "display_name": "the demo identity provider",
            "client_kwargs": {"scope": "openid profile email groups", "prompt": "login"},
        }

    def id_token_for(
        self,
        username: str,
        *,
        nonce: str | None = None,
        auth_time: int | None = None,
        scope: str = "openid profile email groups",
        now: int | None = None,
    ) -> str:
        """Sign an ID token for a demo user (the token endpoint uses this; tests may too)."""
        now = int(time.time()) if now is None else now
        claims = self._claims(self.users[username], scope.split())
        claims.update(
            {
                "iss": self.issuer,
                "aud": self.client_id,
                "iat": now,
                "exp": now + self.id_token_ttl,
                "auth_time": now if auth_time is None else auth_time,
            }
        )
        if nonce:
            claims["nonce"] = nonce
        header = {"alg": "RS256", "kid": self._kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key)

    # -- protocol --------------------------------------------------------------------------

    @staticmethod
    def _claims(user: DemoUser, scopes: list[str]) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": user.subject}
        if "profile" in scopes:
            claims.update(name=user.name, preferred_username=user.username)
        if "email" in scopes:
            claims.update(email=user.email, email_verified=True)
        if "groups" in scopes:
            claims["groups"] = list(user.groups)
        return claims

    def _check_authorize(self, params: dict[str, str]) -> tuple[str | None, str | None, str | None]:
        """Returns (fatal message shown to the person, redirect error code, redirect error description)."""
        if params.get("client_id") != self.client_id:
            return "Unknown client_id.", None, None
        if params.get("redirect_uri") not in self.redirect_uris:
            return "This redirect_uri is not registered for the client.", None, None
        if params.get("response_type") != "code":
            return None, "unsupported_response_type", "Only response_type=code is supported."
        if "openid" not in params.get("scope", "").split():
            return None, "invalid_scope", "The openid scope is required."
        method = params.get("code_challenge_method", "plain" if params.get("code_challenge") else "")
        if params.get("code_challenge") and method not in ("S256", "plain"):
            return None, "invalid_request", "Unsupported code_challenge_method."
        if params.get("prompt") == "none":
            return None, "login_required", "The demo provider keeps no session; sign in interactively."
        return None, None, None

    def _issue_code(self, params: dict[str, str], user: DemoUser) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "username": user.username,
                "nonce": params.get("nonce"),
                "scope": params.get("scope", "openid"),
                "code_challenge": params.get("code_challenge"),
                "code_challenge_method": params.get("code_challenge_method") or "plain",
                "auth_time": int(time.time()),
                "expires": time.time() + CODE_TTL,
            }
        return code

    def _client_authenticated(self, headers, form: dict[str, str]) -> bool:
        client_id = client_secret = None
        header = headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
                raw_id, _, raw_secret = decoded.partition(":")
                client_id, client_secret = unquote(raw_id), unquote(raw_secret)
            except (ValueError, UnicodeDecodeError):
                return False
        elif "client_secret" in form:
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        return (
            client_id == self.client_id
            and client_secret is not None
            and hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        )

    def _exchange_code(self, headers, form: dict[str, str]) -> tuple[int, dict]:
        if not self._client_authenticated(headers, form):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed."}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use, even when it then fails
        if grant is None or grant["expires"] < time.time():
            return 400, {"error": "invalid_grant", "error_description": "Unknown, used or expired code."}
        if grant["client_id"] != self.client_id or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match."}
        challenge = grant["code_challenge"]
        if challenge:
            verifier = form.get("code_verifier", "")
            derived = _b64url_sha256(verifier) if grant["code_challenge_method"] == "S256" else verifier
            if not verifier or not hmac.compare_digest(derived, challenge):
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed."}
        id_token = self.id_token_for(
            grant["username"], nonce=grant["nonce"], auth_time=grant["auth_time"], scope=grant["scope"]
        )
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access_tokens[access_token] = {
                "username": grant["username"],
                "scope": grant["scope"],
                "expires": time.time() + self.id_token_ttl,
            }
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.id_token_ttl,
            "id_token": id_token,
            "scope": grant["scope"],
        }

    def _userinfo(self, headers) -> tuple[int, dict]:
        header = headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        with self._lock:
            grant = self._access_tokens.get(token)
        if not grant or grant["expires"] < time.time():
            return 401, {"error": "invalid_token"}
        return 200, self._claims(self.users[grant["username"]], grant["scope"].split())

    def _login_page(self, params: dict[str, str], error: str = "") -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("username", "password")
        )
        rows = "".join(
            f"<tr><td><code>{html.escape(u.username)}</code></td><td><code>{html.escape(u.password)}</code></td>"
            f"<td>{html.escape(u.name)}</td><td>{html.escape(', '.join(u.groups))}</td></tr>"
            for u in self.users.values()
        )
        err = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;background:#f3f5f8;color:#1d2430;margin:0}}
main{{max-width:34rem;margin:4rem auto;background:#fff;border:1px solid #d5dae1;border-radius:.6rem;padding:2rem 2.2rem}}
h1{{font-size:1.4rem;margin-top:0}} p{{color:#4a5568}}
label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}
input{{width:100%;box-sizing:border-box;padding:.5rem .6rem;border:1px solid #c3cad4;border-radius:.4rem;font-size:1rem}}
button{{margin-top:1.2rem;width:100%;padding:.6rem;border:0;border-radius:.4rem;background:#1f5fa8;color:#fff;font-size:1rem}}
.error{{color:#b00020;font-weight:600}}
table{{border-collapse:collapse;margin-top:2rem;width:100%;font-size:.9rem}}
caption{{text-align:left;color:#4a5568;margin-bottom:.4rem}}
td,th{{padding:.3rem .5rem;text-align:left;border-bottom:1px solid #eef1f5}}
@media (prefers-color-scheme: dark){{body{{background:#0f1419;color:#e6e9ee}}
main{{background:#1a2129;border-color:#2e3843}} p,caption{{color:#aab4c0}} td,th{{border-color:#2e3843}}
input{{background:#0f1419;color:#e6e9ee;border-color:#2e3843}}}}
</style>
</head><body><main>
<h1>Demo identity provider</h1>
<p>Sign in to the Nomad support dashboard. Demo accounts only; never use this provider for real people.</p>
{err}
<form method="post" action="/authorize">{hidden}
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<table><caption>Demo accounts (generated when the provider started)</caption>
<tr><th>Username</th><th>Password</th><th>Name</th><th>Groups</th></tr>{rows}</table>
</main></body></html>"""


def _handler_for(idp: DemoIdentityProvider):
    class Handler(BaseHTTPRequestHandler):
        server_version = "DemoOIDC/1"

        def log_message(self, format, *args):
            pass

        def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict, extra: dict | None = None) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json", extra)

        def _html(self, status: int, page: str) -> None:
            self._send(status, page.encode(), "text/html; charset=utf-8")

        def _redirect(self, url: str) -> None:
            self._send(302, b"", "text/plain", {"Location": url})

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

        def _authorize(self, params: dict[str, str], *, submitted: bool) -> None:
            fatal, error, description = idp._check_authorize(params)
            if fatal:
                self._html(400, f"<!doctype html><h1>Sign-in request refused</h1><p>{html.escape(fatal)}</p>")
                return
            redirect_uri = params["redirect_uri"]
            sep = "&" if urlsplit(redirect_uri).query else "?"
            state = {"state": params["state"]} if "state" in params else {}
            if error:
                self._redirect(
                    redirect_uri + sep + urlencode({"error": error, "error_description": description, **state})
                )
                return
            if not submitted:
                self._html(200, idp._login_page(params))
                return
            user = idp.users.get(params.get("username", ""))
            if user is None or not hmac.compare_digest(user.password.encode(), params.get("password", "").encode()):
                self._html(401, idp._login_page(params, "Wrong username or password."))
                return
            code = idp._issue_code(params, user)
            self._redirect(redirect_uri + sep + urlencode({"code": code, **state, "iss": idp.issuer}))

        def do_GET(self):
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, idp.metadata())
            elif url.path == "/jwks":
                self._json(200, idp.jwks())
            elif url.path == "/authorize":
                self._authorize(params, submitted=False)
            elif url.path == "/userinfo":
                status, payload = idp._userinfo(self.headers)
                extra = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
                self._json(status, payload, extra)
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self):
            url = urlsplit(self.path)
            form = self._form()
            if url.path == "/authorize":
                self._authorize(form, submitted=True)
            elif url.path == "/token":
                status, payload = idp._exchange_code(self.headers, form)
                extra = {"WWW-Authenticate": "Basic"} if status == 401 else None
                self._json(status, payload, extra)
            elif url.path == "/userinfo":
                status, payload = idp._userinfo(self.headers)
                self._json(status, payload)
            else:
                self._json(404, {"error": "not_found"})

    return Handler


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description="Run the demo OpenID provider on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redirect-uri", action="append", default=[])
    args = parser.parse_args(argv)
    idp = DemoIdentityProvider(args.host, args.port, args.redirect_uri or ["http://localhost:8501/oauth2callback"])
    idp.start()
    print(f"issuer {idp.issuer}\nclient_id {idp.client_id}\nclient_secret {idp.client_secret}")
    for user in idp.users.values():
        print(f"user {user.username} password {user.password} groups {','.join(user.groups)}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        idp.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
