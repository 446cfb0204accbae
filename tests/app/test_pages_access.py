"""Each page guards itself: the policy check, the session age and sign-out hold on the page, not only in
app.py's gate and navigation (a fragment rerun runs the page's fragment without app.py)."""
from __future__ import annotations

import pytest

PAGES = ["health", "client", "allocation", "nodes"]


@pytest.mark.parametrize("page", ["allocation", "nodes"])
def test_page_refuses_a_role_the_policy_does_not_allow(page, open_script, principal_for, page_text):
    at = open_script(page, principal_for("manager"))
    assert not at.exception
    text = page_text(at)
    assert "Your role cannot open this page." in text
    assert not at.dataframe and "Data as of" not in text


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_for_an_allowed_role(page, open_script, principal_for, page_text, snap):
    params = {"allocation": {"alloc": snap.frames.allocations["alloc_id"].iloc[0]},
              "client": {"client": snap.frames.clients["client"].iloc[0]}}.get(page, {})
    at = open_script(page, principal_for("admin"), **params)
    assert not at.exception
    assert "Your role cannot open this page." not in page_text(at)
