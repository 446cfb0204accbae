"""Shared AppTest helpers: a signed-in person per role, the [auth] secrets, and readers for what shows.

Fixtures (use them from any tests/app/ module):

- ``auth_secrets``: an ``[auth]`` table (a fake provider; nothing is contacted in AppTest).
- ``user_claims(role=None, *, groups=None, age_hours=0, **claims)``: the ``at.user`` dict of a
  signed-in person (``is_logged_in: True``) whose ID token was issued ``age_hours`` ago.
- ``run_app(role=None, *, user=None, secrets=..., script=APP, function=None, timeout=30, options=None)``:
  an ``AppTest`` of ``script`` (app.py by default, or ``function``) that has run once as that person,
  with Streamlit config ``options`` patched.
- ``nav_pages(at)``: url_paths of the pages ``st.navigation`` registered in the last run.
- ``page_text(at)``: all text the run rendered (titles, markdown, captions, alerts), one string.
- ``button_labels(at)``: labels of the buttons the run rendered.
- ``cluster_env`` / ``snap``: the environment pointing at the shared ``sandbox`` and its first full snapshot.
- ``open_page(page=None, role="support", **params)``: app.py run as ``role``, switched to ``page``
  (a path under app_pages/) with those query parameters.
- ``open_script(page, principal, *, user=None, **params)``: one page script run on its own with
  ``principal`` already in the session (what a fragment rerun or a hand-crafted request sees).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
ROLE_GROUPS = {"viewer": "dash-viewers", "support": "dash-support", "manager": "dash-managers", "admin": "dash-admins"}
AUTH_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "apptest-cookie-secret-not-used-for-anything",
        "client_id": "nomad-dashboard",
        "client_secret": "apptest-client-secret",
        "server_metadata_url": "https://idp.example.test/.well-known/openid-configuration",
    }
}


def make_user_claims(role: str | None = None, *, groups=None, age_hours: float = 0.0, **claims) -> dict:
    """``at.user`` for a signed-in person. ``role=None`` and no ``groups``: a person in no mapped group."""
    issued = int(time.time() - age_hours * 3600)
    if groups is None:
        groups = [ROLE_GROUPS[role]] if role else ["finance"]
    name = role or "nobody"
    user = {
        "is_logged_in": True,
        "sub": f"test-{name}",
        "name": f"Test {name.title()}",
        "email": f"{name}@example.test",
        "groups": list(groups),
        "iat": issued,
        "auth_time": issued,
        "provider": "default",
    }
    user.update(claims)
    return user


def nav_pages_of(at: AppTest) -> list[str]:
    """The url_paths of the pages st.navigation lists in the last run ([] when the run stopped before it).

    The default page registers an empty url_pathname; its url_path is recovered from its hash
    (st.Page hashes its url_path; app.py names it "home"), so the list reads like the policy's page
    names. Hidden stand-ins (a page outside the role, the /health alias; app.py gives them
    ``ui.access.HIDDEN_ICON``) are not in the navigation and are left out.
    """
    from streamlit.util import calc_hash

    from auth.policy import PAGES
    from ui.access import HIDDEN_ICON

    by_hash = {calc_hash(name): name for name in PAGES} | {calc_hash("home"): "health"}
    names = []
    for page_hash, info in at._registered_pages.items():
        if "url_pathname" not in info or info.get("icon") == HIDDEN_ICON:
            continue
        names.append(str(info["url_pathname"]) or by_hash.get(page_hash, str(info.get("page_name", "")).lower()))
    return names


def page_text_of(at: AppTest) -> str:
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "code",
        "text",
    ):
        parts += [str(getattr(el, "value", "")) for el in getattr(at, kind)]
    return "\n".join(parts)


def button_labels_of(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory):
    """The app's state directory (sign-outs, the store's SQLite file) in a temporary folder, not .run/."""
    path = tmp_path_factory.mktemp("state")
    saved = os.environ.get("DASHBOARD_STATE_DIR")
    os.environ["DASHBOARD_STATE_DIR"] = str(path)
    yield path
    os.environ.pop("DASHBOARD_STATE_DIR", None) if saved is None else os.environ.__setitem__(
        "DASHBOARD_STATE_DIR", saved
    )


@pytest.fixture(autouse=True)
def _no_sign_out_carries_over(_state_dir):
    """A test's sign-out (the test people share subjects like test-support) must not refuse the next test."""
    yield
    (_state_dir / "signouts.json").unlink(missing_ok=True)


@pytest.fixture
def auth_secrets() -> dict:
    return {"auth": dict(AUTH_SECRETS["auth"])}


@pytest.fixture
def user_claims():
    return make_user_claims


@pytest.fixture
def nav_pages():
    return nav_pages_of


@pytest.fixture
def page_text():
    return page_text_of


@pytest.fixture
def button_labels():
    return button_labels_of


@pytest.fixture
def run_app():
    def run(
        role: str | None = None,
        *,
        user: dict | None = None,
        secrets: dict | None = AUTH_SECRETS,
        script: Path | str | None = None,
        function=None,
        timeout: float = 30,
        options: dict | None = None,
    ) -> AppTest:
        at = (
            AppTest.from_function(function, default_timeout=timeout)
            if function
            else AppTest.from_file(str(script or APP), default_timeout=timeout)
        )
        at.user = user if user is not None else make_user_claims(role)
        if secrets:
            at.secrets = {k: dict(v) if isinstance(v, dict) else v for k, v in secrets.items()}
        with patch_config_options(options or {}):
            at.run()
        return at

    return run


@pytest.fixture(scope="module")
def cluster_env(sandbox):
    saved = {k: os.environ.get(k) for k in ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "DASHBOARD_CONFIG", "NOMAD_TOKEN")}
    os.environ.update({"NOMAD_ADDR": sandbox.nomad_addr, "CONSUL_HTTP_ADDR": sandbox.consul_addr})
    os.environ.pop("DASHBOARD_CONFIG", None)
    os.environ.pop("NOMAD_TOKEN", None)
    yield sandbox
    # The app's refreshers keep long-polling; stop them so they do not outlive the module.
    import streamlit as st

    from snapshot.refresher import _reset_registry

    st.cache_resource.clear()
    _reset_registry()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def snap(cluster_env):
    """The snapshot the app reads: the process-wide refresher for these settings, after its first full build."""
    import snapshot
    from connectors import settings as cluster_settings

    ref = snapshot.get_refresher(cluster_settings.load(), "namespace")

    def built_from_every_source(s) -> bool:
        # A source's status says it answered before the build that uses its data has run (the
        # event stream's follower loads its lists one after another): wait for the frames too.
        return (
            s.has_data
            and all(x.has_data for x in s.sources.values())
            and len(s.frames.allocations) > 0
            and len(s.frames.jobs) > 0
        )

    return ref.wait_for(built_from_every_source, timeout=20)


@pytest.fixture
def open_page(cluster_env, snap):
    def open_(page: str | None = None, role: str = "support", **params) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.user = make_user_claims(role)
        at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
        at.run()
        if page:
            at.switch_page(page)
        at.query_params.clear()
        at.query_params.update(params)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return open_


def make_principal(role: str | None = "support", *, age_hours: float = 0.0, max_session_hours: float = 12.0):
    """A Principal as auth.gate builds it, for a sign-in ``age_hours`` ago."""
    from auth.principal import principal_from_claims

    return principal_from_claims(
        make_user_claims(role, age_hours=age_hours),
        groups_claim="groups",
        group_roles={g: [r] for r, g in ROLE_GROUPS.items()},
        max_session_hours=max_session_hours,
    )


@pytest.fixture
def principal_for():
    return make_principal


@pytest.fixture
def open_script(cluster_env, snap):
    def open_(page: str, principal, *, user: dict | None = None, allowed=None, **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=30)
        at.user = (
            user if user is not None else make_user_claims(sorted(principal.roles)[0] if principal.roles else None)
        )
        at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
        at.session_state["principal"] = principal
        if allowed is not None:
            at.session_state["allowed_pages"] = frozenset(allowed)
        at.query_params.update(params)
        at.run()
        return at

    return open_
