"""Loads config/dashboard.toml (or the file named by DASHBOARD_CONFIG) into typed settings."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

DEFAULT_PATH = Path(__file__).with_name("dashboard.toml")
ROLES = ("viewer", "support", "manager", "admin")


class ConfigError(ValueError):
    """The dashboard configuration file is invalid; the message says where."""


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

    def links_for(self, client: str) -> dict[str, str]:
        """The client's links: defaults with {client} filled in, then its overrides."""
        links = {name: url.replace("{client}", client) for name, url in self.links.items()}
        links.update(self.link_overrides.get(client, {}))
        return links


def load(path: str | os.PathLike | None = None, env: Mapping[str, str] = os.environ) -> DashboardConfig:
    path = Path(path or env.get("DASHBOARD_CONFIG") or DEFAULT_PATH)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the dashboard configuration {path.name}: {exc}") from exc
    config = parse(data)
    if env.get("DASHBOARD_NOMAD_AUTH_METHOD") is not None:
        config = replace(config, nomad_auth_method=env["DASHBOARD_NOMAD_AUTH_METHOD"].strip())
    return config


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
    return DashboardConfig(
        identify_by=str(data.get("clients", {}).get("identify_by", "namespace")),
        links={str(k): str(v) for k, v in links.items()},
        link_overrides={str(c): dict(v) for c, v in overrides.items()},
        groups_claim=str(auth.get("groups_claim", "groups")),
        max_session_hours=float(auth.get("max_session_hours", 8)),
        nomad_auth_method=str(auth.get("nomad_auth_method", "")).strip(),
        group_roles=group_roles,
        page_refresh_seconds=int(refresh.get("page_seconds", 10)),
        blocking_wait_seconds=int(refresh.get("blocking_wait_seconds", 30)),
    )
