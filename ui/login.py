"""The login gate and the sidebar identity line (Streamlit): ``ui`` imports ``auth``, never the reverse.

``gate(config, demo=...)`` runs first in app.py. It either returns the signed-in
``Principal`` or renders one of the pages below and calls ``st.stop()``, so no
data is ever rendered for a person without a role:

- sign-in not configured: the setup page (no data, ever);
- not signed in: one "Sign in with <provider>" button per configured provider;
- signed in longer ago than ``max_session_hours``: "your session expired";
- an identity issued before the person's last sign-out (a saved cookie), or issued more than a
  minute in the future: "you signed out" / "this sign-in cannot be trusted" (auth.signouts);
- signed in without a mapped group: "no access, ask to be added to group X".

Every "Sign out" button records the sign-out first (``sign_out``), so the cookie it leaves behind
in a copy of the browser's cookies no longer opens the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import streamlit as st

from auth import settings, signouts
from auth.principal import Principal, principal_from_claims, session_expired
from auth.roles import groups_granting_access
from ui import deeplink
from ui.clock import local
from ui.tables import md_code, md_text

TITLE = "Nomad support dashboard"


def _auth_section() -> dict[str, Any]:
    try:
        section = st.secrets.get("auth")
    except Exception:
        return {}
    return settings.to_plain(section) if isinstance(section, Mapping) else {}


def _user() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:
        return {}


def _md(text) -> str:
    """Names and groups from the identity provider shown literally in Markdown (no links, no formatting)."""
    return md_text(text)


def _md_code(text) -> str:
    return md_code(text, 120)


def _stop() -> NoReturn:
    st.stop()
    raise RuntimeError("unreachable")  # pragma: no cover - st.stop raises


def _sign_in_buttons(providers: list[settings.Provider], *, prefix: str) -> None:
    for provider in providers:
        if st.button(
            f"Sign in with {provider.label}", key=f"auth_{prefix}_{provider.name}", type="primary", width="stretch"
        ):
            st.login(provider.name)


def _setup_page(missing: list[str], *, demo: bool) -> NoReturn:
    st.title(TITLE)
    st.warning("Sign-in is not configured, so the dashboard shows no data.")
    st.markdown(
        "Add these settings to `.streamlit/secrets.toml` (or the file given with "
        "`--secrets.files`) and restart the dashboard:"
    )
    st.markdown("\n".join(f"- `{item}`" for item in missing))
    st.code(
        "[auth]\n"
        'redirect_uri = "https://dashboard.example.com/oauth2callback"\n'
        'cookie_secret = "<a long random string>"\n'
        'client_id = "<from your identity provider>"\n'
        'client_secret = "<from your identity provider>"\n'
        'server_metadata_url = "https://<issuer>/.well-known/openid-configuration"\n'
        'client_kwargs = { scope = "openid profile email groups" }\n',
        language="toml",
    )
    st.markdown(
        "The ID token must carry the person's groups (see `docs/auth.md` for Okta, "
        "Microsoft Entra ID and Keycloak); `config/dashboard.toml` maps groups to roles."
    )
    if demo:
        st.info(
            "For the demo, start the dashboard with `make run`: it starts a demo sign-in "
            "provider beside the sandbox and wires it in."
        )
    _stop()


_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


def _other_address(redirect_uri: str) -> tuple[str, bool] | None:
    """(the address sign-in returns to, whether this one is surely wrong), when this page was opened
    under another host: the identity cookie is set for that address only, so here sign-in loops.
    Surely wrong when both are this machine's names (127.0.0.1 vs localhost); behind a proxy that
    rewrites Host it may be fine, so then it is only a warning."""
    from urllib.parse import urlsplit

    try:
        headers = st.context.headers
        host = str(headers.get("X-Forwarded-Host") or headers.get("Host") or "").split(",")[0].strip()
    except Exception:
        return None
    back = urlsplit(redirect_uri)
    if not host or not back.netloc or host.lower() == back.netloc.lower():
        return None
    name = host.lower().rsplit(":", 1)[0] if not host.endswith("]") else host.lower()
    sure = name in _LOOPBACK_HOSTS and (back.hostname or "") in {"localhost", "127.0.0.1", "::1"}
    return f"{back.scheme}://{back.netloc}", sure


def _sign_in_page(providers: list[settings.Provider], redirect_uri: str = "") -> NoReturn:
    st.title(TITLE)
    st.subheader("Sign in")
    other = _other_address(redirect_uri)
    if other:
        address, sure = other
        st.warning(
            f"This page was opened at another address than the one sign-in returns to ({md_text(address)}), "
            "so signing in here would bring you back to this page. Open the dashboard there instead.",
            icon=":material/link_off:",
        )
        st.link_button(f"Open {address}", address, type="primary", icon=":material/open_in_new:")
        if sure:
            _stop()
    st.write("Sign in with your company account to see client health.")
    deeplink.remember()  # the page and query asked for open again after the sign-in round trip
    _sign_in_buttons(providers, prefix="signin")
    _stop()


def sign_out(subject: str) -> None:
    """Record the sign-out on the server, then let Streamlit clear the cookie and leave."""
    signouts.record_signout(subject, signouts.default_store())
    st.logout()


def _refused_page(providers: list[settings.Provider], reason: str) -> NoReturn:
    st.title(TITLE)
    if reason == signouts.FUTURE:
        st.subheader("This sign-in cannot be used")
        st.warning(
            "Your sign-in says it was issued in the future, so it cannot be trusted. "
            "Sign in again; if this keeps happening, the identity provider's or this server's clock is wrong."
        )
    else:
        st.subheader("You signed out")
        st.info("You signed out of the dashboard since this sign-in. Sign in again to continue.")
    _sign_in_buttons(providers, prefix="refused")
    _stop()


def _expired_page(providers: list[settings.Provider], max_hours: float) -> NoReturn:
    st.title(TITLE)
    st.subheader("Your session expired")
    st.info(f"Sessions last at most {max_hours:g} hours. Sign in again to continue.")
    _sign_in_buttons(providers, prefix="expired")
    if st.button("Sign out", key="auth_expired_signout"):
        sign_out(signouts.subject_of(_user()))
    _stop()


def _no_access_page(principal: Principal, group_roles: Mapping[str, Any], groups_claim: str) -> NoReturn:
    st.title(TITLE)
    st.subheader("No access")
    granting = groups_granting_access(group_roles)
    listed = ", ".join(f"`{g}`" for g in granting) or "(none configured)"
    first = f"`{granting[0]}`" if granting else "a dashboard group"
    st.info(
        f"You are signed in as **{_md(principal.display_name)}**, but your account is in no group "
        f"that gives access to this dashboard. Ask your administrator to add you to group "
        f"{first} (one of: {listed})."
    )
    if principal.groups:
        st.caption("Your groups: " + ", ".join(_md_code(g) for g in principal.groups))
    else:
        st.caption(f"Your sign-in carried no groups (claim `{groups_claim}`).")
    if st.button("Sign out", key="auth_noaccess_signout"):
        sign_out(principal.subject)
    _stop()


def gate(config, *, demo: bool) -> Principal:
    """The signed-in person with at least one role; otherwise render why not and ``st.stop()``.

    ``demo`` is True when the dashboard runs on the embedded sandbox; it only
    changes the setup page's advice. There is no way in without signing in:
    the demo signs in through the demo OpenID provider, like production.
    """
    auth = _auth_section()
    missing = settings.missing_settings(auth)
    now = datetime.now(UTC)
    if missing:
        _setup_page(missing, demo=demo)
    providers = settings.providers(auth)
    claims = _user()
    if claims.get("is_logged_in") is not True:
        _sign_in_page(providers, str(auth.get("redirect_uri") or ""))
    refused = signouts.refusal(claims, signouts.default_store(), now)
    if refused:
        _refused_page(providers, refused)
    if session_expired(claims, config.max_session_hours, now):
        _expired_page(providers, config.max_session_hours)
    principal = principal_from_claims(
        claims,
        groups_claim=config.groups_claim,
        group_roles=config.group_roles,
        max_session_hours=config.max_session_hours,
    )
    if not principal.roles:
        _no_access_page(principal, config.group_roles, config.groups_claim)
    return principal


def _local_time(moment: datetime) -> str:
    shown = local(moment)
    return shown.strftime("%b %d, %H:%M ") + (shown.tzname() or "UTC")


def render_identity(principal: Principal) -> None:
    """Sidebar: "Signed in as <name>, until <time>", the roles, and a Sign-out button."""
    with st.sidebar:
        st.caption(f"Signed in as **{_md(principal.display_name)}**, until {_local_time(principal.session_expires_at)}")
        st.caption("Role: " + _md(", ".join(sorted(principal.roles))))
        if st.button("Sign out", key="auth_sidebar_signout"):
            sign_out(principal.subject)
            st.stop()  # render nothing more while the browser leaves for /auth/logout
