"""Reading the ``[auth]`` table of Streamlit's secrets: is sign-in configured, and with which providers.

Pure (takes the table as a mapping), so the setup page's advice is unit-tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_LABELS = {
    "okta": "Okta",
    "microsoft": "Microsoft",
    "entra": "Microsoft Entra ID",
    "azure": "Microsoft Entra ID",
    "keycloak": "Keycloak",
    "google": "Google",
    "auth0": "Auth0",
    "demo": "the demo identity provider",
}


@dataclass(frozen=True)
class Provider:
    name: str  # what st.login() takes: "default" for the unnamed [auth] provider
    label: str  # shown on the button: "Sign in with <label>"


def to_plain(value: Any) -> Any:
    """Streamlit's AttrDict (or any nested mapping) as plain dicts."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


def _label(name: str, section: Mapping[str, Any]) -> str:
    shown = section.get("display_name")
    if isinstance(shown, str) and shown.strip():
        return shown.strip()
    return _LABELS.get(name.lower(), name.replace("-", " ").title())


def providers(auth: Mapping[str, Any] | None) -> list[Provider]:
    """Providers with a complete section, in file order: the unnamed one first, then ``[auth.<name>]``."""
    if not auth:
        return []
    found: list[Provider] = []
    if all(auth.get(key) for key in PROVIDER_KEYS):
        shown = auth.get("display_name")
        found.append(
            Provider("default", shown.strip() if isinstance(shown, str) and shown.strip() else "single sign-on")
        )
    for name, section in auth.items():
        if isinstance(section, Mapping) and "_" not in name and all(section.get(key) for key in PROVIDER_KEYS):
            found.append(Provider(str(name), _label(str(name), section)))
    return found


def missing_settings(auth: Mapping[str, Any] | None) -> list[str]:
    """What is missing for sign-in to work, as ``[auth]`` keys a person can add. Empty: configured."""
    if not auth:
        return ["[auth] table in .streamlit/secrets.toml"]
    missing = [f"[auth] {key}" for key in SHARED_KEYS if not auth.get(key)]
    if not providers(auth):
        partial = [name for name, s in auth.items() if isinstance(s, Mapping)]
        if partial:
            for name in partial:
                section = auth[name]
                missing += [f"[auth.{name}] {key}" for key in PROVIDER_KEYS if not section.get(key)]
                if "_" in name:
                    missing.append(f"[auth.{name}]: a provider name without underscores")
        else:
            missing += [f"[auth] {key}" for key in PROVIDER_KEYS if not auth.get(key)]
    redirect = auth.get("redirect_uri")
    if isinstance(redirect, str) and redirect and not redirect.rstrip("/").endswith("/oauth2callback"):
        missing.append("[auth] redirect_uri ending in /oauth2callback")
    return missing
