"""Each page guards itself: the policy check, the session age and sign-out hold on the page, not only in
app.py's gate and navigation (a fragment rerun runs the page's fragment without app.py)."""

from __future__ import annotations

import pytest

PAGES = ["health", "client", "allocation", "nodes", "versions", "residency"]


@pytest.mark.parametrize("page", ["allocation", "nodes"])
def test_page_refuses_a_role_the_policy_does_not_allow(page, open_script, principal_for, page_text):
    at = open_script(page, principal_for("manager"))
    assert not at.exception
    text = page_text(at)
    assert "You do not have access to this page" in text
    assert not at.dataframe and "Data as of" not in text


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_for_an_allowed_role(page, open_script, principal_for, page_text, snap):
    params = {
        "allocation": {"alloc": snap.frames.allocations["alloc_id"].iloc[0]},
        "client": {"client": snap.frames.clients["client"].iloc[0]},
    }.get(page, {})
    at = open_script(page, principal_for("admin"), **params)
    assert not at.exception
    assert "You do not have access to this page" not in page_text(at)


def _params(page, snap):
    return {
        "allocation": {"alloc": snap.frames.allocations["alloc_id"].iloc[0]},
        "client": {"client": snap.frames.clients["client"].iloc[0]},
    }.get(page, {})


@pytest.mark.parametrize("page", PAGES)
def test_fragment_stops_showing_data_once_the_session_is_too_old(page, open_script, principal_for, page_text, snap):
    # Signed in 13 h ago with a 12 h maximum: the page's data fragment must not render, and the
    # whole app reruns (here: the page script on its own finds no principal any more).
    at = open_script(page, principal_for("admin", age_hours=13), **_params(page, snap))
    assert not at.exception, [e.message for e in at.exception]
    text = page_text(at)
    assert "Data as of" not in text and not at.dataframe
    assert "principal" not in at.session_state
    assert "Sign in first" in text


@pytest.mark.parametrize("page", PAGES)
def test_fragment_stops_showing_data_after_sign_out(page, open_script, principal_for, page_text, snap):
    at = open_script(page, principal_for("admin"), user={"is_logged_in": False}, **_params(page, snap))
    assert not at.exception, [e.message for e in at.exception]
    assert "Data as of" not in page_text(at) and not at.dataframe


def test_fresh_session_keeps_its_data(open_script, principal_for, page_text):
    at = open_script("health", principal_for("support", age_hours=11))
    assert "Data as of" in page_text(at) and at.dataframe
