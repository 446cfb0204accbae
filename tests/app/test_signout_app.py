"""Sign-out through the real app: the identity a browser held before "Sign out" no longer opens it.

AppTest cannot keep a cookie, so a run with the same ``st.user`` claims stands for a browser that
saved the identity cookie before signing out (tests/browser/test_login.py does it with a real one).
"""

from __future__ import annotations

import time

import pytest

from tests.app.conftest import make_user_claims


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path))
    return tmp_path


def test_signing_out_refuses_the_identity_issued_before_it(cluster_env, snap, state_dir, run_app, nav_pages):
    saved = make_user_claims("support", iat=int(time.time()) - 30)
    at = run_app(user=dict(saved))
    assert nav_pages(at)  # signed in: the pages are there
    at.sidebar.button(key="auth_sidebar_signout").click().run()
    assert (state_dir / "signouts.json").is_file()

    again = run_app(user=dict(saved))  # the same identity cookie, replayed
    text = "\n".join(x.value for x in [*again.title, *again.subheader, *again.info])
    assert "You signed out" in text and not nav_pages(again)
    assert [b.label for b in again.button] == ["Sign in with single sign-on"]

    fresh = run_app(user=make_user_claims("support", iat=int(time.time()) + 1))  # a new sign-in, after the sign-out
    assert nav_pages(fresh)


def test_an_identity_issued_in_the_future_is_refused(cluster_env, snap, state_dir, run_app, nav_pages):
    at = run_app(user=make_user_claims("admin", iat=int(time.time()) + 3600))
    text = "\n".join(x.value for x in [*at.subheader, *at.warning])
    assert "cannot be used" in text and "issued in the future" in text
    assert not nav_pages(at)
    assert nav_pages(run_app(user=make_user_claims("admin", iat=int(time.time()) + 20)))  # small skew is fine


def test_a_sign_out_in_another_tab_stops_this_one_at_its_next_refresh(
    cluster_env, snap, state_dir, open_script, principal_for
):
    """A fragment rerun does not pass the gate: it checks the sign-out record itself."""
    from auth import signouts

    principal = principal_for("support", age_hours=1 / 60)  # signed in a minute ago
    at = open_script("health", principal)
    assert at.dataframe, "the page showed data before the sign-out"
    signouts.record_signout(principal.subject, signouts.default_store())
    at = open_script("health", principal)
    assert not at.dataframe and "Sign in first" in at.warning[0].value
