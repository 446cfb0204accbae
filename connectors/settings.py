"""Cluster settings from HashiCorp's own environment variables.

`load(env=os.environ) -> ClusterSettings`.  TLS is verified unless the user
turns it off (NOMAD_SKIP_VERIFY=true, CONSUL_HTTP_SSL_VERIFY=false); a CA
file (NOMAD_CACERT / CONSUL_CACERT) replaces the system trust store.  Tokens
never show up in repr()/str() of these objects.

Extra (dashboard-specific) variables:
  DASHBOARD_CLUSTER_NAME       the cluster's display name (default "default")
  DASHBOARD_HTTP_TIMEOUT       seconds per request, connect and read (default 15)
Consul is optional: without CONSUL_HTTP_ADDR, `consul` is None.

`load_all(entries, env) -> list[ClusterSettings]`: several clusters from dashboard.toml's
[[clusters]] list (connectors.cluster_list); without a list, `[load(env)]`.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ClusterSettings", "ConsulSettings", "NomadSettings", "SettingsError", "load", "load_all"]

DEFAULT_NOMAD_ADDR = "http://127.0.0.1:4646"
DEFAULT_TIMEOUT = 15.0

_TRUE = {"1", "t", "true", "yes", "y", "on"}
_FALSE = {"0", "f", "false", "no", "n", "off"}


class SettingsError(ValueError):
    """A setting from the environment cannot be used (message names the variable)."""


def _redacted(token: str | None) -> str:
    return "None" if not token else "'<redacted>'"


def _parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is not a true/false value (use true or false)")


def _clean(env: Mapping[str, str], name: str) -> str | None:
    v = env.get(name)
    if v is None:
        return None
    v = v.strip()
    return v or None


def _normalise_addr(raw: str, name: str, *, https: bool = False) -> str:
    addr = raw.strip()
    if "://" not in addr:
        addr = ("https://" if https else "http://") + addr
    parts = urllib.parse.urlsplit(addr)
    if "@" in parts.netloc:
        # Never echo the value: it holds a password.  Nomad and Consul take credentials from
        # their own variables (NOMAD_TOKEN / CONSUL_HTTP_TOKEN, NOMAD_HTTP_AUTH / CONSUL_HTTP_AUTH).
        token_var = "CONSUL_HTTP_TOKEN" if name.startswith("CONSUL") else "NOMAD_TOKEN"
        raise SettingsError(
            f"{name} contains a user name or password (user:pass@host); remove it from the address "
            f"and give credentials with {token_var} instead"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={raw!r} is not an address like http://host:port")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as err:
        raise SettingsError(f"{name}={raw!r} has an invalid port") from err
    if https and parts.scheme == "http":
        parts = parts._replace(scheme="https")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class _TLS:
    """`verify=` and `cert=` for requests, shared by both settings classes (which hold the fields)."""

    ca_cert: str | None
    client_cert: str | None
    client_key: str | None

    @property
    def _verify_off(self) -> bool:  # each product names its "do not verify" variable differently
        raise NotImplementedError

    @property
    def verify(self) -> bool | str:
        """What to give requests' `verify=`: False only when the user said so."""
        if self._verify_off:
            return False
        return self.ca_cert or True

    @property
    def cert(self) -> tuple[str, str] | None:
        if self.client_cert and self.client_key:
            return (self.client_cert, self.client_key)
        return None


@dataclass(frozen=True, repr=False)
class NomadSettings(_TLS):
    addr: str = DEFAULT_NOMAD_ADDR
    token: str | None = None
    region: str | None = None
    namespace: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    skip_verify: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @property
    def _verify_off(self) -> bool:
        return self.skip_verify

    def __repr__(self) -> str:
        return (
            f"NomadSettings(addr={self.addr!r}, token={_redacted(self.token)}, region={self.region!r}, "
            f"namespace={self.namespace!r}, ca_cert={self.ca_cert!r}, client_cert={self.client_cert!r}, "
            f"client_key={self.client_key!r}, skip_verify={self.skip_verify!r}, timeout={self.timeout!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class ConsulSettings(_TLS):
    addr: str = "http://127.0.0.1:8500"
    token: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    ssl_verify: bool = True
    timeout: float = DEFAULT_TIMEOUT

    @property
    def _verify_off(self) -> bool:
        return not self.ssl_verify

    def __repr__(self) -> str:
        return (
            f"ConsulSettings(addr={self.addr!r}, token={_redacted(self.token)}, ca_cert={self.ca_cert!r}, "
            f"client_cert={self.client_cert!r}, client_key={self.client_key!r}, "
            f"ssl_verify={self.ssl_verify!r}, timeout={self.timeout!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class ClusterSettings:
    name: str = "default"
    nomad: NomadSettings = NomadSettings()
    consul: ConsulSettings | None = None
    region: str | None = None  # the region label (residency rules may list regions)


def _cert_pair(env: Mapping[str, str], cert_var: str, key_var: str) -> tuple[str | None, str | None]:
    cert, key = _clean(env, cert_var), _clean(env, key_var)
    if bool(cert) != bool(key):
        missing = key_var if cert else cert_var
        raise SettingsError(f"{cert_var} and {key_var} must be set together ({missing} is missing)")
    return cert, key


def _timeout(env: Mapping[str, str]) -> float:
    raw = _clean(env, "DASHBOARD_HTTP_TIMEOUT")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError as err:
        raise SettingsError(f"DASHBOARD_HTTP_TIMEOUT={raw!r} is not a number of seconds") from err
    if not 0 < value <= 600:
        raise SettingsError("DASHBOARD_HTTP_TIMEOUT must be between 0 and 600 seconds")
    return value


# For connectors.cluster_list: the same address and timeout rules for every configured cluster.
normalise_addr = _normalise_addr
http_timeout = _timeout


def load(env: Mapping[str, str] | None = None) -> ClusterSettings:
    """Read the cluster settings from `env` (default: the process environment)."""
    if env is None:
        env = os.environ
    timeout = _timeout(env)
    n_cert, n_key = _cert_pair(env, "NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY")
    nomad = NomadSettings(
        addr=_normalise_addr(_clean(env, "NOMAD_ADDR") or DEFAULT_NOMAD_ADDR, "NOMAD_ADDR"),
        token=_clean(env, "NOMAD_TOKEN"),
        region=_clean(env, "NOMAD_REGION"),
        namespace=_clean(env, "NOMAD_NAMESPACE"),
        ca_cert=_clean(env, "NOMAD_CACERT"),
        client_cert=n_cert,
        client_key=n_key,
        skip_verify=_parse_bool(env, "NOMAD_SKIP_VERIFY", False),
        timeout=timeout,
    )
    consul = None
    consul_addr = _clean(env, "CONSUL_HTTP_ADDR")
    if consul_addr:
        c_cert, c_key = _cert_pair(env, "CONSUL_CLIENT_CERT", "CONSUL_CLIENT_KEY")
        consul = ConsulSettings(
            addr=_normalise_addr(consul_addr, "CONSUL_HTTP_ADDR", https=_parse_bool(env, "CONSUL_HTTP_SSL", False)),
            token=_clean(env, "CONSUL_HTTP_TOKEN"),
            ca_cert=_clean(env, "CONSUL_CACERT"),
            client_cert=c_cert,
            client_key=c_key,
            ssl_verify=_parse_bool(env, "CONSUL_HTTP_SSL_VERIFY", True),
            timeout=timeout,
        )
    name = _clean(env, "DASHBOARD_CLUSTER_NAME") or "default"
    return ClusterSettings(name=name, nomad=nomad, consul=consul, region=nomad.region)


def load_all(entries: object = None, env: Mapping[str, str] | None = None) -> list[ClusterSettings]:
    """Every configured cluster (dashboard.toml's [[clusters]]); without a list, ``[load(env)]``.
    See ``connectors.cluster_list``."""
    from .cluster_list import load_all as _load_all

    return _load_all(entries, env)
