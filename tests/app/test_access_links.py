"""Links and access: /health works, a closed page says so and whom to ask, captions and search match
what the role can open, and a deep link is remembered across sign-in (the browser half is in
tests/browser/test_login.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from tests.app.conftest import APP, AUTH_SECRETS, make_user_claims
from ui import deeplink


def _app(role, **params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = make_user_claims(role)
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    at.run()
    return at


def _open_url_path(at: AppTest, url_path: str, **params) -> AppTest:
    """What a browser sends for /<url_path>?...: that page's hash (st.Page hashes its url_path)."""
    at._page_hash = calc_hash(url_path)
    at.query_params.clear()
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_health_url_opens_client_health_with_its_filters(cluster_env, snap):
    at = _open_url_path(_app("support"), "health", status="down")
    assert [t.value for t in at.title][0].endswith("Client health")
    assert at.session_state["health_status"] == ["down"]  # the query came along


@pytest.mark.parametrize("url_path,role", [("allocation", "manager"), ("nodes", "manager"), ("deployments", "viewer")])
def test_a_page_outside_the_role_says_so_and_whom_to_ask(url_path, role, cluster_env, snap, page_text):
    at = _open_url_path(_app(role), url_path)
    text = page_text(at)
    assert "You do not have access to this page" in text
    assert "Ask your administrator to add you to group" in text and "dash-" in text
    assert not at.dataframe and "Data as of" not in text


def test_a_manager_s_client_page_does_not_offer_to_click_allocations(cluster_env, snap, page_text):
    client = snap.frames.clients["client"].iloc[0]
    at = _app("manager")
    at.switch_page("app_pages/client.py")
    at.query_params["client"] = client
    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert "click the ID" not in captions and "cannot open allocation pages" in captions
    support = _app("support")
    support.switch_page("app_pages/client.py")
    support.query_params["client"] = client
    support.run()
    assert "click the ID" in " ".join(c.value for c in support.caption)


def test_manager_search_says_allocations_exist_that_the_role_cannot_open(cluster_env, snap):
    alloc = snap.frames.allocations["alloc_id"].iloc[0]
    at = _app("manager")
    at.sidebar.text_input(key="sidebar_search").input(alloc[:8]).run()
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Nothing matches" not in captions
    assert "1 allocation matching, which your role (manager) cannot open" in captions


def test_the_sign_in_page_remembers_the_page_asked_for(cluster_env, snap):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {"is_logged_in": False}
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    at.run()
    scripts = [str(el.proto) for el in at.get("iframe")]
    assert any(deeplink.KEY in s and "localStorage.setItem" in s for s in scripts)


@pytest.mark.parametrize(
    "target,safe",
    [
        ("/client?client=northern-leaf&status=failed", True),
        ("/allocation?alloc=5b1f2c3d", True),
        ("//evil.example/x", False),
        ("/x?<script>", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
    ],
)
def test_only_a_path_on_this_origin_is_followed_after_sign_in(target, safe):
    assert deeplink.is_safe_target(target) is safe
