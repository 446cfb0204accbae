"""Several clusters from a list of plain tables (dashboard.toml's ``[[clusters]]``).

``parse_clusters(entries)`` checks the list's shape without reading any secret (errors name the
key, e.g. ``clusters[2] (ca-west): nomad_address ...``); ``load_all(entries, env)`` then reads
each cluster's tokens from the environment variables the entry names. The file holds variable
*names* only, never a token. An empty list means the single cluster of HashiCorp's own
variables (``settings.load(env)``), as before.

One entry::

    name = "ca-west"                      # unique, shown in the dashboard
    region = "ca-west"                    # region label (residency rules may list regions)
    nomad_address = "https://nomad.west.example.com:4646"
    nomad_token_env = "NOMAD_TOKEN_CA_WEST"    # optional: the variable holding its Nomad token
    nomad_region = "west"                 # optional: sent as ?region= (federated Nomad only)
    nomad_namespace = "default"           # optional
    consul_address = "https://consul.west.example.com:8501"   # optional
    consul_token_env = "CONSUL_TOKEN_CA_WEST"                 # optional
    tls = { ca_cert = "...", client_cert = "...", client_key = "...", skip_verify = false }
    consul_tls = { ... }                  # optional: Consul's own TLS (default: the same as tls)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .settings import (
    ClusterSettings,
    ConsulSettings,
    NomadSettings,
    SettingsError,
    http_timeout,
    load,
    normalise_addr,
)

__all__ = ["ClusterSpec", "load_all", "parse_clusters"]

_KEYS = {
    "name",
    "region",
    "nomad_address",
    "nomad_token_env",
    "nomad_region",
    "nomad_namespace",
    "consul_address",
    "consul_token_env",
    "tls",
    "consul_tls",
}
_TLS_KEYS = {"ca_cert", "client_cert", "client_key", "skip_verify"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class _Tls:
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    skip_verify: bool = False


@dataclass(frozen=True)
class ClusterSpec:
    """One checked ``[[clusters]]`` entry: addresses and variable names, no secret."""

    name: str
    region: str | None
    nomad_address: str
    nomad_token_env: str | None
    nomad_region: str | None
    nomad_namespace: str | None
    consul_address: str | None
    consul_token_env: str | None
    tls: _Tls
    consul_tls: _Tls


def _text(where: str, entry: Mapping, key: str, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise SettingsError(f"{where}: {key} is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where}: {key} must be a non-empty text, not {value!r}")
    return value.strip()


def _env_name(where: str, entry: Mapping, key: str) -> str | None:
    name = _text(where, entry, key)
    if name is not None and not _ENV_NAME.match(name):
        # Most likely the token itself was pasted here: never echo it.
        raise SettingsError(
            f"{where}: {key} must be the NAME of an environment variable (like NOMAD_TOKEN_CA_WEST), "
            "not a token; put the token in that variable"
        )
    return name


def _tls(where: str, value: object) -> _Tls:
    if value is None:
        return _Tls()
    if not isinstance(value, Mapping):
        raise SettingsError(f'{where} must be a table like {{ ca_cert = "/path/ca.pem" }}')
    unknown = sorted(set(value) - _TLS_KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {unknown}; known: {sorted(_TLS_KEYS)}")
    skip = value.get("skip_verify", False)
    if not isinstance(skip, bool):
        raise SettingsError(f"{where}.skip_verify must be true or false, not {skip!r}")
    files = {k: _text(where, value, k) for k in ("ca_cert", "client_cert", "client_key")}
    if bool(files["client_cert"]) != bool(files["client_key"]):
        missing = "client_key" if files["client_cert"] else "client_cert"
        raise SettingsError(f"{where}: client_cert and client_key must be set together ({missing} is missing)")
    return _Tls(skip_verify=skip, **files)


def parse_clusters(entries: object) -> list[ClusterSpec]:
    """Check the ``[[clusters]]`` list (None or empty: no list). Reads no environment variable."""
    if entries is None:
        return []
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        raise SettingsError("clusters must be a list of tables ([[clusters]] sections)")
    specs: list[ClusterSpec] = []
    for i, entry in enumerate(entries, start=1):
        where = f"clusters[{i}]"
        if not isinstance(entry, Mapping):
            raise SettingsError(f"{where} must be a table ([[clusters]] section)")
        name = _text(where, entry, "name", required=True) or ""  # required: never None here
        if not _NAME.match(name):
            raise SettingsError(f"{where}: name {name!r} may hold only letters, digits, '.', '_' and '-'")
        where = f"clusters[{i}] ({name})"
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {unknown}; known: {sorted(_KEYS)}")
        if any(s.name == name for s in specs):
            raise SettingsError(f"{where}: another cluster already has the name {name!r}")
        tls = _tls(f"{where}.tls", entry.get("tls"))
        consul_tls = _tls(f"{where}.consul_tls", entry["consul_tls"]) if "consul_tls" in entry else tls
        nomad_address = normalise_addr(
            _text(where, entry, "nomad_address", required=True) or "", f"{where}: nomad_address"
        )
        consul_raw = _text(where, entry, "consul_address")
        consul_address = normalise_addr(consul_raw, f"{where}: consul_address") if consul_raw else None
        if consul_address is None and "consul_token_env" in entry:
            raise SettingsError(f"{where}: consul_token_env is set but consul_address is missing")
        specs.append(
            ClusterSpec(
                name=name,
                region=_text(where, entry, "region"),
                nomad_address=nomad_address,
                nomad_token_env=_env_name(where, entry, "nomad_token_env"),
                nomad_region=_text(where, entry, "nomad_region"),
                nomad_namespace=_text(where, entry, "nomad_namespace"),
                consul_address=consul_address,
                consul_token_env=_env_name(where, entry, "consul_token_env"),
                tls=tls,
                consul_tls=consul_tls,
            )
        )
    return specs


def _token(where: str, key: str, var: str | None, env: Mapping[str, str]) -> str | None:
    if var is None:
        return None
    value = (env.get(var) or "").strip()
    if not value:
        raise SettingsError(f"{where}: {key} names the variable {var}, which is not set")
    return value


def load_all(entries: object = None, env: Mapping[str, str] | None = None) -> list[ClusterSettings]:
    """Every configured cluster's settings, in the file's order; without a list, the one cluster of
    HashiCorp's variables (NOMAD_ADDR, CONSUL_HTTP_ADDR, ...), exactly as ``settings.load``."""
    import os

    if env is None:
        env = os.environ
    specs = entries if isinstance(entries, list) and all(isinstance(e, ClusterSpec) for e in entries) else None
    if specs is None:
        specs = parse_clusters(entries)
    if not specs:
        return [load(env)]
    timeout = http_timeout(env)
    out = []
    for i, s in enumerate(specs, start=1):
        where = f"clusters[{i}] ({s.name})"
        nomad = NomadSettings(
            addr=s.nomad_address,
            token=_token(where, "nomad_token_env", s.nomad_token_env, env),
            region=s.nomad_region,
            namespace=s.nomad_namespace,
            ca_cert=s.tls.ca_cert,
            client_cert=s.tls.client_cert,
            client_key=s.tls.client_key,
            skip_verify=s.tls.skip_verify,
            timeout=timeout,
        )
        consul = None
        if s.consul_address:
            consul = ConsulSettings(
                addr=s.consul_address,
                token=_token(where, "consul_token_env", s.consul_token_env, env),
                ca_cert=s.consul_tls.ca_cert,
                client_cert=s.consul_tls.client_cert,
                client_key=s.consul_tls.client_key,
                ssl_verify=not s.consul_tls.skip_verify,
                timeout=timeout,
            )
        out.append(ClusterSettings(name=s.name, nomad=nomad, consul=consul, region=s.region))
    return out
