"""The role x page matrix through the REAL app.py against the sandbox: each role's navigation holds
exactly its pages, a person with no mapped role sees the no-access page, and a deep link to a page
outside the role (switch_page or a URL with query parameters) does not render that page.

(``test_roles_gate.py`` checks the login gate itself with a small script that follows app.py's contract.)
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, AUTH_SECRETS, make_user_claims

# app.py's pages, per role.
EXPECTED = {
    "viewer": ["health", "client", "allocation", "nodes", "versions", "residency"],
    "support": ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"],
    "manager": ["health", "client", "versions", "residency", "deployments", "rollouts", "audit"],
    "admin": ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"],
}


def _app(role) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = make_user_claims(role)
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    return at


@pytest.mark.parametrize("role", list(EXPECTED))
def test_real_app_navigation_per_role(role, cluster_env, snap, nav_pages, page_text):
    at = _app(role)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert nav_pages(at) == EXPECTED[role]
    text = page_text(at)
    assert "Client health" in [t.value for t in at.title][0]  # the default page rendered
    assert "Data as of" in text
    assert f"Signed in as **Test {role.title()}**, until" in text


def test_real_app_no_role_sees_no_access_and_no_data(cluster_env, snap, nav_pages, page_text):
    at = _app(None)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    text = page_text(at)
    assert "No access" in text and "dash-viewers" in text
    assert nav_pages(at) == [] and not at.dataframe and "Data as of" not in text
    assert not any(c in text for c in snap.frames.clients["client"].head(5))


@pytest.mark.parametrize(
    "page,params",
    [
        ("app_pages/allocation.py", "alloc"),
        ("app_pages/nodes.py", None),
    ],
)
def test_manager_deep_link_outside_the_role_does_not_render(page, params, cluster_env, snap, nav_pages, page_text):
    from pathlib import Path

    from streamlit.util import calc_hash

    at = _app("manager")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)  # not in the manager's navigation at all
    # What a browser sends for a bookmarked /allocation or /nodes URL: that page's hash (st.Page hashes
    # its url_path). AppTest.switch_page refuses unknown pages, so the request is set directly.
    at._page_hash = calc_hash(Path(page).stem)
    if params:
        at.query_params[params] = snap.frames.allocations["alloc_id"].iloc[0]
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # The URL answers with a stand-in that says so and whom to ask, not "Page not found"; no page code runs.
    text = page_text(at)
    assert "You do not have access to this page" in text and "dash-support" in text
    assert "Tasks and events" not in text and "Logs" not in [s.value for s in at.subheader]
    assert not at.dataframe and "Data as of" not in text
    assert nav_pages(at) == EXPECTED["manager"]


def test_a_query_parameter_for_a_forbidden_page_on_an_allowed_page_shows_no_more(cluster_env, snap, page_text):
    # ?alloc=<id> on the health page (all a manager may open) renders the health page only.
    at = _app("manager")
    at.query_params["alloc"] = snap.frames.allocations["alloc_id"].iloc[0]
    at.run()
    assert not at.exception
    assert [t.value for t in at.title][0].endswith("Client health")
    assert "Tasks and events" not in [s.value for s in at.subheader]
