"""Loads config/dashboard.toml (or the file named by DASHBOARD_CONFIG) into typed settings."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_PATH = Path(__file__).with_name("dashboard.toml")
ROLES = ("viewer", "support", "manager", "admin")


class ConfigError(ValueError):
    """The dashboard configuration file is invalid; the message says where."""


@dataclass(frozen=True)
class ActionSettings:
    """Guardrails of the audited actions ([actions] in dashboard.toml)."""

    rate_limit: int = 10  # actions per person...
    rate_window_minutes: float = 10  # ...in this many minutes
    cooldown_seconds: float = 120  # the same allocation is not acted on again sooner
    stale_after_seconds: float = 120  # refuse when the page's data is older than this
    rolling_health_timeout_seconds: float = 300  # each allocation of a rolling restart must be healthy within


@dataclass(frozen=True)
class DashboardConfig:
    identify_by: str = "namespace"
    links: Mapping[str, str] = field(default_factory=dict)
    link_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    groups_claim: str = "groups"
    max_session_hours: float = 8.0
    nomad_auth_method: str = ""
    group_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    page_refresh_seconds: int = 10
    blocking_wait_seconds: int = 30
    # [versions]: where a service's running version is read from, in order (views.versions.SOURCES).
    version_sources: tuple[str, ...] = ("consul_meta", "tag", "nomad_tags", "job_meta", "image")
    version_meta_keys: tuple[str, ...] = ("version",)
    # [residency]: a views.residency.Policy (None: no [residency] section, so no client has a policy).
    residency: Any = None
    # [actions]: guardrails of the audited actions.
    actions: ActionSettings = field(default_factory=ActionSettings)
    # [[clusters]]: one plain table per cluster, checked and read by connectors.settings.load_all
    # (config imports no connector); empty: HashiCorp's variables, one cluster.
    clusters: tuple[Mapping[str, Any], ...] = ()

    @property
    def residency_policy(self):
        """The residency policy (an empty one when the file has no [residency] section)."""
        from views.residency import NO_POLICY

        return self.residency if self.residency is not None else NO_POLICY

    def links_for(self, client: str) -> dict[str, str]:
        """The client's links: defaults with {client} filled in (URL-encoded), then its overrides."""
        links = {name: url for name, template in self.links.items() if (url := fill_link(template, client))}
        links.update(self.link_overrides.get(client, {}))
        return links


def fill_link(template: str, client: str) -> str | None:
    """``template`` with every ``{client}`` replaced by the client's name, percent-encoded so it stays
    one path segment, one query value or the fragment wherever it lands (under ``meta:`` identity any
    job author picks the name: ``../../admin``, ``?x=``, ``#`` must not change the URL's shape).
    None when the name would be a ``.``/``..`` path segment: browsers resolve those even encoded."""
    encoded = quote(client, safe="")
    path_end = min((i for i in (template.find("?"), template.find("#")) if i >= 0), default=len(template))
    if "{client}" in template[:path_end] and client in (".", ".."):
        return None
    return template.replace("{client}", encoded)


def load(path: str | os.PathLike | None = None, env: Mapping[str, str] = os.environ) -> DashboardConfig:
    path = Path(path or env.get("DASHBOARD_CONFIG") or DEFAULT_PATH)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the dashboard configuration {path.name}: {exc}") from exc
    config = parse(data)
    extra = env.get("DASHBOARD_CLUSTERS_FILE")
    if extra and not config.clusters:
        # The demo's generated [[clusters]] list (launcher.py); a list in the main file wins.
        try:
            listed = tomllib.loads(Path(extra).read_text(encoding="utf-8")).get("clusters")
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read the clusters file {Path(extra).name}: {exc}") from exc
        config = replace(config, clusters=_clusters(listed))
    if env.get("DASHBOARD_NOMAD_AUTH_METHOD") is not None:
        config = replace(config, nomad_auth_method=env["DASHBOARD_NOMAD_AUTH_METHOD"].strip())
    return config


MAX_SESSION_HOURS = 24 * 30  # a month; more (or inf) is a typo and would overflow timedelta
MIN_PAGE_SECONDS = 2
WAIT_RANGE = (1, 600)  # Nomad and Consul cap a blocking query's wait at 10 minutes


def _number(section: str, key: str, value: object, kind: type) -> float:
    """value as int/float, or ConfigError naming [section] key."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"[{section}] {key} must be a number, not {value!r}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ConfigError(f"[{section}] {key} must be a whole number, not {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(
            f"[{section}] {key} must be a{'n whole' if kind is int else ''} number, not {value!r}"
        ) from None
    if kind is float and number != number:  # NaN
        raise ConfigError(f"[{section}] {key} must be a number, not {value!r}")
    return number


def _identity(value: object) -> str:
    spec = str(value)
    # Imported here: views pulls in pandas, which the config loader itself does not need.
    from views.identity import ClientIdentity

    try:
        ClientIdentity.parse(spec)
    except ValueError as exc:
        raise ConfigError(f"[clients] identify_by: {exc}") from None
    return spec


def _names(where: str, value: object) -> tuple[str, ...]:
    """A list of non-empty strings, or ConfigError naming where it is."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f'{where} must be a list of names in quotes, e.g. ["ca-tor-1"], not {value!r}')
    return tuple(v.strip() for v in value)


def _versions(section: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from views.versions import DEFAULT_META_KEYS, SOURCES

    if not isinstance(section, Mapping):
        raise ConfigError(f"[versions] must be a table, not {section!r}")
    unknown = sorted(set(section) - {"sources", "meta_keys"})
    if unknown:
        raise ConfigError(f"[versions] has unknown key(s) {unknown}; known keys: ['meta_keys', 'sources']")
    sources = _names("[versions] sources", section.get("sources", list(SOURCES)))
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise ConfigError(f"[versions] sources names unknown source(s) {bad}; known sources: {list(SOURCES)}")
    if not sources or len(set(sources)) != len(sources):
        raise ConfigError(
            f"[versions] sources must list each source at most once and at least one, not {list(sources)}"
        )
    meta_keys = _names("[versions] meta_keys", section.get("meta_keys", list(DEFAULT_META_KEYS)))
    if not meta_keys:
        raise ConfigError('[versions] meta_keys must name at least one meta key, e.g. ["version"]')
    return sources, meta_keys


def _allowed(where: str, rule: object):
    from views.residency import Allowed

    if not isinstance(rule, Mapping):
        raise ConfigError(f'{where} must be a table like {{ datacenters = ["ca-tor-1"] }}, not {rule!r}')
    unknown = sorted(set(rule) - {"datacenters", "regions"})
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {unknown}; known keys: ['datacenters', 'regions']")
    allowed = Allowed(
        datacenters=_names(f"{where} datacenters", rule.get("datacenters", [])),
        regions=_names(f"{where} regions", rule.get("regions", [])),
    )
    if not allowed.datacenters and not allowed.regions:
        raise ConfigError(f"{where} must list at least one of datacenters or regions")
    return allowed


def _residency(section: object):
    from views.residency import Policy

    if not isinstance(section, Mapping):
        raise ConfigError(f"[residency] must be a table, not {section!r}")
    unknown = sorted(set(section) - {"default", "clients"})
    if unknown:
        raise ConfigError(f"[residency] has unknown key(s) {unknown}; known keys: ['clients', 'default']")
    default = _allowed("[residency] default", section["default"]) if "default" in section else None
    clients = section.get("clients", {})
    if not isinstance(clients, Mapping):
        raise ConfigError(f"[residency.clients] must be a table of client = {{ datacenters = [...] }}, not {clients!r}")
    rules = {str(c): _allowed(f"[residency.clients] {c!r}", r) for c, r in clients.items()}
    return Policy(clients=rules, default=default)


def parse(data: Mapping) -> DashboardConfig:
    links = dict(data.get("links", {}))
    overrides = links.pop("overrides", {})
    group_roles = {}
    for group, roles in data.get("roles", {}).items():
        roles = (roles,) if isinstance(roles, str) else tuple(roles)
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ConfigError(f"[roles] group {group!r} names unknown role(s) {unknown}; known roles: {list(ROLES)}")
        group_roles[str(group)] = roles
    auth = data.get("auth", {})
    refresh = data.get("refresh", {})
    max_hours = _number("auth", "max_session_hours", auth.get("max_session_hours", 8), float)
    if not 0 < max_hours <= MAX_SESSION_HOURS:
        raise ConfigError(
            f"[auth] max_session_hours must be more than 0 and at most {MAX_SESSION_HOURS} (30 days), not {max_hours:g}"
        )
    page_seconds = _number("refresh", "page_seconds", refresh.get("page_seconds", 10), int)
    if page_seconds < MIN_PAGE_SECONDS:
        raise ConfigError(f"[refresh] page_seconds must be at least {MIN_PAGE_SECONDS}, not {page_seconds}")
    wait = _number("refresh", "blocking_wait_seconds", refresh.get("blocking_wait_seconds", 30), int)
    if not WAIT_RANGE[0] <= wait <= WAIT_RANGE[1]:
        raise ConfigError(
            f"[refresh] blocking_wait_seconds must be between {WAIT_RANGE[0]} and {WAIT_RANGE[1]}, not {wait}"
        )
    sources, meta_keys = _versions(data.get("versions", {}))
    residency = _residency(data["residency"]) if "residency" in data else None
    actions = _actions(data.get("actions", {}))
    return DashboardConfig(
        actions=actions,
        clusters=_clusters(data.get("clusters")),
        identify_by=_identity(data.get("clients", {}).get("identify_by", "namespace")),
        links={str(k): str(v) for k, v in links.items()},
        link_overrides={str(c): dict(v) for c, v in overrides.items()},
        groups_claim=str(auth.get("groups_claim", "groups")),
        max_session_hours=max_hours,
        nomad_auth_method=str(auth.get("nomad_auth_method", "")).strip(),
        group_roles=group_roles,
        page_refresh_seconds=page_seconds,
        blocking_wait_seconds=wait,
        version_sources=sources,
        version_meta_keys=meta_keys,
        residency=residency,
    )


def _clusters(entries: object) -> tuple[Mapping[str, Any], ...]:
    """The [[clusters]] tables as they are; connectors.settings.load_all checks each key."""
    if entries is None:
        return ()
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise ConfigError("clusters must be a list of [[clusters]] tables (name, nomad_address, ...)")
    return tuple(dict(e) for e in entries)


def _actions(section: Mapping) -> ActionSettings:
    defaults = ActionSettings()
    values = {}
    for key, kind, low, high in (
        ("rate_limit", int, 1, 1000),
        ("rate_window_minutes", float, 0.1, 24 * 60),
        ("cooldown_seconds", float, 0, 24 * 3600),
        ("stale_after_seconds", float, 5, 24 * 3600),
        ("rolling_health_timeout_seconds", float, 5, 3600),
    ):
        value = _number("actions", key, section.get(key, getattr(defaults, key)), kind)
        if not low <= value <= high:
            raise ConfigError(f"[actions] {key} must be between {low:g} and {high:g}, not {value:g}")
        values[key] = value
    return ActionSettings(**values)
