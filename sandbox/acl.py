"""ACL tokens for both emulators, and the JWT auth method behind /v1/acl/login."""

from __future__ import annotations

import base64
import hashlib
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .http import HTTPError

READ_CAPS = frozenset({"list-jobs", "read-job", "read-logs", "node:read", "namespace:read"})
SUPPORT_CAPS = READ_CAPS | {"alloc-lifecycle"}

# Nomad policy name -> capabilities granted on every namespace (plus node:read).
POLICIES = {"dash-read": READ_CAPS, "dash-support": SUPPORT_CAPS}

# IdP group -> policy, for tokens minted by /v1/acl/login.
GROUP_POLICIES = {
    "dash-viewers": "dash-read",
    "dash-managers": "dash-read",
    "dash-support": "dash-support",
    "dash-admins": "dash-support",
}

AUTH_METHOD = "dashboard-sso"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LOGIN_TTL = 3600


def _go_duration(seconds: int) -> str:
    """time.Duration.String() for whole seconds ("1h0m0s", "2m30s"); "" for zero, as
    ACLToken.MarshalJSON sends it."""
    if seconds <= 0:
        return ""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    return f"{m}m{s}s" if m else f"{s}s"


def _iso(ts: float | None) -> str:
    if ts is None:
        return "0001-01-01T00:00:00Z"  # Go's zero time.Time
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Token:
    accessor: str
    secret: str
    name: str
    type: str  # management | client
    policies: list[str]
    create_time: float | None
    index: int
    expires: float | None = None
    roles: list[dict] = field(default_factory=list)
    builtin: bool = False  # nomad/structs/acl.go AnonymousACLToken / ACLsDisabledToken

    @property
    def caps(self) -> frozenset | None:
        """None means everything (management)."""
        if self.type == "management":
            return None
        caps: set[str] = set()
        for p in self.policies:
            caps |= POLICIES.get(p, set())
        return frozenset(caps)

    def allows(self, capability: str) -> bool:
        caps = self.caps
        return caps is None or capability in caps

    def as_json(self) -> dict:
        """ACLToken.MarshalJSON (nomad/structs/acl.go): encoding/json over the struct, so every
        key is sent; ExpirationTime null when unset; ExpirationTTL a Go duration string, ""
        when zero; Hash the []byte token hash as base64."""
        digest = hashlib.blake2b(f"{self.accessor}|{self.policies}".encode(), digest_size=32).digest()
        ttl = 0 if self.expires is None else round(self.expires - self.create_time)
        return {
            "AccessorID": self.accessor,
            "SecretID": self.secret,
            "Name": self.name,
            "Type": self.type,
            "Policies": list(self.policies) if self.policies or not self.builtin else None,
            "Roles": list(self.roles) if not self.builtin else None,
            "Global": self.expires is None and not self.builtin,
            "Hash": None if self.builtin else base64.b64encode(digest).decode(),
            "CreateTime": _iso(self.create_time),
            "ExpirationTime": None if self.expires is None else _iso(self.expires),
            "ExpirationTTL": _go_duration(ttl),
            "CreateIndex": self.index,
            "ModifyIndex": self.index,
        }


# The tokens Nomad answers without a secret (ACLs on) and with ACLs off; zero-valued otherwise.
ANONYMOUS = Token("anonymous", "", "Anonymous Token", "client", ["anonymous"], None, 0, builtin=True)
ACLS_DISABLED = Token("acls-disabled", "", "ACLs disabled token", "client", [], None, 0, builtin=True)


class Acl:
    def __init__(self, enabled: bool, seed: int, jwks: Callable[[], dict] | dict | None = None):
        self.enabled = enabled
        self.jwks = jwks
        self._rng = random.Random(f"acl-{seed}")
        self._lock = threading.Lock()
        now = time.time()
        self.nomad: dict[str, Token] = {}
        self.tokens: dict[str, str] = {}
        for role, typ, policies in (
            ("management", "management", []),
            ("support", "client", ["dash-support"]),
            ("read", "client", ["dash-read"]),
        ):
            tok = Token(self._uuid(), self._uuid(), f"dashboard-{role}", typ, policies, now, 20)
            self.nomad[tok.secret] = tok
            self.tokens[role] = tok.secret
        self.consul_tokens = {"management": self._uuid(), "read": self._uuid()}
        self.consul_roles = {v: k for k, v in self.consul_tokens.items()}

    def _uuid(self) -> str:
        h = "%032x" % self._rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # -------------------------------------------------------------- nomad
    @staticmethod
    def _secret(headers: dict) -> str | None:
        secret = headers.get("x-nomad-token")
        auth = headers.get("authorization", "")
        if not secret and auth.lower().startswith("bearer "):
            secret = auth[7:].strip()
        return secret or None

    def nomad_token(self, headers: dict) -> Token | None:
        """The caller's token (None without one); raises like Nomad's data endpoints do:
        nomad/auth/auth.go Authenticate fails for a malformed, unknown or expired secret and
        every RPC then answers structs.ErrPermissionDenied (403 "Permission denied")."""
        kind, tok = self.resolve(headers)
        if kind != "ok":
            raise HTTPError(403, "Permission denied")
        return tok

    def resolve(self, headers: dict) -> tuple[str, Token | None]:
        """("ok", token or None for anonymous) or (malformed | unknown | expired, None)."""
        secret = self._secret(headers)
        if secret is None:
            return "ok", None
        if not _UUID.match(secret):
            return "malformed", None
        tok = self.nomad.get(secret)
        if tok is None:
            return "unknown", None
        if tok.expires is not None and tok.expires < time.time():
            return "expired", None
        return "ok", tok

    def nomad_check(self, headers: dict, capability: str | None) -> Token | None:
        """capability None: no ACL at all; "": authenticate only (the handler checks later)."""
        if not self.enabled or capability is None:
            return None
        tok = self.nomad_token(headers) or ANONYMOUS
        if capability and not tok.allows(capability):
            raise HTTPError(403, "Permission denied")
        return tok

    def token_self(self, headers: dict) -> dict:
        """GET /v1/acl/token/self (ACL.WhoAmI, command/agent/acl_endpoint.go aclTokenSelf)."""
        if not self.enabled:
            return ACLS_DISABLED.as_json()  # resolveSecretToken answers this token for any secret
        kind, tok = self.resolve(headers)
        if kind == "unknown":
            raise HTTPError(403, "Permission denied")
        if kind == "expired":
            raise HTTPError(500, "ACL token expired")  # WhoAmI returns the error as is: no 403 mapping
        if kind == "malformed":
            # Not a UUID: Nomad tries it as a workload identity JWT and returns that error.
            raise HTTPError(
                500, "failed to parse signed token: go-jose/go-jose: compact JWS format must have three parts"
            )
        return (tok or ANONYMOUS).as_json()

    # ------------------------------------------------------------- consul
    def consul_role(self, headers: dict, query_token: str | None) -> str | None:
        """'management', 'read', or None for anonymous; unknown tokens are refused."""
        secret = headers.get("x-consul-token") or query_token
        auth = headers.get("authorization", "")
        if not secret and auth.lower().startswith("bearer "):
            secret = auth[7:].strip()
        if not secret:
            return None
        role = self.consul_roles.get(secret)
        if role is None:
            raise HTTPError(403, "ACL not found")
        return role

    # -------------------------------------------------------------- login
    def auth_methods(self) -> list[dict]:
        if self.jwks is None:
            return []
        return [
            {
                "Name": AUTH_METHOD,
                "Type": "JWT",
                "Default": True,
                "DisplayName": "Dashboard SSO",
                "TokenLocality": "local",
                "MaxTokenTTL": LOGIN_TTL * 10**9,
                "TokenNameFormat": "${auth_method_type}-${auth_method_name}",
                "CreateIndex": 15,
                "ModifyIndex": 15,
            }
        ]

    def login(self, body: dict | None, index: int) -> dict:
        if self.jwks is None:
            raise HTTPError(400, "auth method not found")
        body = body or {}
        if body.get("AuthMethodName") != AUTH_METHOD:
            raise HTTPError(400, f"auth method {body.get('AuthMethodName')!r} not found")
        claims = self._verify(body.get("LoginToken") or "")
        groups = claims.get("groups") or []
        if isinstance(groups, str):
            groups = [groups]
        policies = sorted({GROUP_POLICIES[g] for g in groups if g in GROUP_POLICIES})
        if not policies:
            raise HTTPError(403, "Permission denied: no binding rule matched the token's groups")
        if "dash-support" in policies:
            policies = ["dash-support"]
        now = time.time()
        tok = Token(
            self._uuid(), self._uuid(), f"JWT-{AUTH_METHOD}", "client", policies, now, index, expires=now + LOGIN_TTL
        )
        with self._lock:
            self.nomad[tok.secret] = tok
        return tok.as_json()

    def _verify(self, login_token: str) -> dict:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        keys = self.jwks() if callable(self.jwks) else self.jwks
        try:
            token = jwt.decode(login_token, KeySet.import_key_set(keys), algorithms=["RS256"])
            jwt.JWTClaimsRegistry(leeway=30, exp={"essential": True}).validate(token.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise HTTPError(403, f"Permission denied: invalid login token: {exc}") from exc
        return dict(token.claims)
