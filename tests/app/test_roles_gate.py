"""The login gate and the role x page matrix, through AppTest with a script that follows app.py's contract:
``ui.login.gate`` -> ``st.navigation`` of ``auth.policy.pages_for`` -> ``ui.login.render_identity``.

(``test_roles_app.py`` runs the role x page matrix through the real app.py against the sandbox, with
deep links to pages outside a role.)
"""

import pytest
from streamlit.testing.v1.util import patch_config_options

from auth import policy

ALL = list(policy.PAGES)


def contract_app():
    import streamlit as st

    import auth.policy
    import config
    from ui import login

    principal = login.gate(config.load(), demo=False)

    def page(name):
        def render():
            st.header(f"PAGE {name}")
            st.write("client northern-leaf: 3 allocations failing")  # stands in for data

        return render

    pages = [
        st.Page(page(n), title=n.title(), url_path=n, default=(n == auth.policy.pages_for(principal)[0]))
        for n in auth.policy.pages_for(principal)
    ]
    nav = st.navigation(pages)
    login.render_identity(principal)
    nav.run()


EXPECTED = {
    "viewer": ["health", "client", "allocation", "nodes", "versions", "residency"],
    "support": ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"],
    "manager": ["health", "client", "versions", "residency", "deployments", "rollouts", "audit"],
    "admin": ALL,
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_exactly_its_pages(role, run_app, nav_pages, page_text, button_labels):
    at = run_app(role, function=contract_app)
    assert not at.exception
    assert nav_pages(at) == EXPECTED[role]
    text = page_text(at)
    assert "PAGE health" in text
    assert f"Signed in as **Test {role.title()}**, until" in text
    assert "Sign out" in button_labels(at)


def test_a_person_in_no_mapped_group_sees_no_access_and_no_data(run_app, nav_pages, page_text, button_labels):
    at = run_app(None, function=contract_app)
    assert not at.exception and not at.error
    text = page_text(at)
    assert "No access" in text
    assert "Ask your administrator to add you to group `dash-viewers`" in text
    for group in ("dash-support", "dash-managers", "dash-admins"):
        assert group in text
    assert "Your groups: `finance`" in text
    assert nav_pages(at) == [] and "PAGE" not in text and "northern-leaf" not in text
    assert button_labels(at) == ["Sign out"]


def test_no_groups_claim_at_all_says_so(run_app, page_text, user_claims):
    user = user_claims(None)
    del user["groups"]
    at = run_app(user=user, function=contract_app)
    assert "carried no groups (claim `groups`)" in page_text(at)


def test_signed_out_person_sees_the_sign_in_button_and_no_data(run_app, nav_pages, page_text, button_labels):
    at = run_app(user={"is_logged_in": False}, function=contract_app)
    assert not at.exception
    assert button_labels(at) == ["Sign in with single sign-on"]
    assert nav_pages(at) == [] and "PAGE" not in page_text(at) and "northern-leaf" not in page_text(at)


def test_named_providers_get_one_button_each(run_app, button_labels, auth_secrets):
    shared = {k: auth_secrets["auth"][k] for k in ("redirect_uri", "cookie_secret")}
    provider = {k: auth_secrets["auth"][k] for k in ("client_id", "client_secret", "server_metadata_url")}
    secrets = {"auth": {**shared, "okta": provider, "keycloak": {**provider, "display_name": "Company SSO"}}}
    at = run_app(user={"is_logged_in": False}, secrets=secrets, function=contract_app)
    assert button_labels(at) == ["Sign in with Okta", "Sign in with Company SSO"]


def test_session_older_than_the_maximum_age_must_sign_in_again(
    run_app, nav_pages, page_text, button_labels, user_claims
):
    at = run_app(user=user_claims("admin", age_hours=8.5), function=contract_app)
    text = page_text(at)
    assert "Your session expired" in text and "at most 8 hours" in text
    assert "Sign in with single sign-on" in button_labels(at)
    assert nav_pages(at) == [] and "PAGE" not in text


def test_expired_session_sign_out_ends_it(run_app, user_claims, page_text):
    at = run_app(user=user_claims("support", age_hours=9), function=contract_app)
    at.button(key="auth_expired_signout").click().run()
    assert at.user.get("is_logged_in") is False
    assert "Sign in with single sign-on" in [b.label for b in at.button]


def test_a_fresh_session_with_an_old_provider_login_is_still_valid(run_app, nav_pages, user_claims):
    import time

    user = user_claims("support", auth_time=int(time.time() - 3 * 86400))
    at = run_app(user=user, function=contract_app)
    assert nav_pages(at) == EXPECTED["support"]


def test_not_configured_and_not_demo_shows_setup_and_no_data(run_app, nav_pages, page_text, button_labels):
    at = run_app("admin", secrets=None, function=contract_app)
    text = page_text(at)
    assert "Sign-in is not configured" in text
    assert "[auth] table in .streamlit/secrets.toml" in text
    assert "server_metadata_url" in text
    assert nav_pages(at) == [] and "PAGE" not in text and "northern-leaf" not in text
    assert button_labels(at) == []


def test_partly_configured_names_the_missing_keys(run_app, page_text, auth_secrets):
    del auth_secrets["auth"]["cookie_secret"]
    at = run_app("admin", secrets=auth_secrets, function=contract_app)
    assert "`[auth] cookie_secret`" in page_text(at)


def test_sidebar_sign_out_ends_the_session(run_app, nav_pages):
    at = run_app("support", function=contract_app)
    at.sidebar.button(key="auth_sidebar_signout").click().run()
    assert at.user.get("is_logged_in") is False
    assert "PAGE health" not in [h.value for h in at.header]  # nothing more rendered in that run
    at.run()
    assert nav_pages(at) == [] and [b.label for b in at.button] == ["Sign in with single sign-on"]


def demo_app():
    import streamlit as st

    import auth.policy
    import config
    from ui import login

    principal = login.gate(config.load(), demo=True)
    st.header("PAGES " + ",".join(auth.policy.pages_for(principal)))
    login.render_identity(principal)


@patch_config_options({"server.address": "localhost"})
def test_demo_on_loopback_without_a_provider_still_shows_setup_and_no_way_in(run_app, page_text):
    at = run_app(user={}, secrets=None, function=demo_app)
    assert "Sign-in is not configured" in page_text(at)
    assert "make run" in page_text(at)
    assert "PAGES" not in page_text(at)
    assert [b.label for b in at.button] == []  # no role picker, no bypass


def test_demo_flag_without_loopback_still_shows_setup(run_app, page_text):
    at = run_app(user={}, secrets=None, function=demo_app, options={"server.address": "0.0.0.0"})
    assert "Sign-in is not configured" in page_text(at)
    assert "PAGES" not in page_text(at)
