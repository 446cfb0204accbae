"""Signing in through a real third-party OpenID provider in Chromium, and what each person then sees."""

import json
import re
import time

import pytest
from conftest import nav_paths, sign_in_button, wait_for_app
from itsdangerous import URLSafeTimedSerializer

pytestmark = pytest.mark.browser

SUPPORT_PAGES = ["health", "client", "allocation", "nodes", "versions", "residency", "deployments", "rollouts", "audit"]
MANAGER_PAGES = ["health", "client", "versions", "residency", "deployments", "rollouts", "audit"]


def test_signed_out_deep_link_shows_sign_in_and_no_page(page, dashboard):
    # First in this file on purpose: while no run has called st.navigation yet, Streamlit treats a
    # pages/ folder beside the entry script as old-style pages and would run pages/nodes.py directly,
    # without the gate. This catches that on a freshly started server.
    page.goto(f"{dashboard.url}/nodes")
    wait_for_app(page)
    assert sign_in_button(page).count() == 1
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def test_support_signs_in_and_sees_the_support_pages(page, login, dashboard):
    login(page, "support")
    assert nav_paths(page, dashboard.url) == SUPPORT_PAGES
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert re.search(r"Signed in as Sol Support, until", sidebar.inner_text())
    sidebar.get_by_role("button", name="Sign out").wait_for(state="visible")  # a live page may be redrawing


def test_manager_sees_only_the_manager_pages_and_no_action_controls(page, login, dashboard):
    login(page, "manager")
    assert nav_paths(page, dashboard.url) == MANAGER_PAGES
    for path in MANAGER_PAGES:
        page.goto(f"{dashboard.url}/{'' if path == 'health' else path}")
        wait_for_app(page)
        assert page.get_by_role("button", name=re.compile("restart", re.I)).count() == 0
    # A deep link to a page the manager may not open does not add it.
    page.goto(f"{dashboard.url}/nodes")
    wait_for_app(page)
    assert nav_paths(page, dashboard.url) == MANAGER_PAGES


def test_a_person_without_a_dashboard_group_sees_no_access(page, login):
    login(page, "nobody")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "No access" in main and "dash-viewers" in main
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def test_sign_out_ends_the_session(page, login, dashboard, oidc):
    login(page, "support")
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    # Streamlit clears its identity cookie and sends the browser to the provider's end-session page.
    page.wait_for_url(re.compile(re.escape(oidc.issuer) + r"/session/end"))
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    assert sign_in_button(page).count() == 1
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert not [c for c in page.context.cookies(dashboard.url) if c["name"].startswith("_streamlit_user")]


def test_a_cookie_saved_before_sign_out_no_longer_opens_the_dashboard(page, login, dashboard, oidc, browser):
    login(page, "support")
    saved = [c for c in page.context.cookies(dashboard.url) if c["name"].startswith("_streamlit_user")]
    assert saved, "signed in with an identity cookie"
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(oidc.issuer) + r"/session/end"))

    replay = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        replay.add_cookies(saved)
        again = replay.new_page()
        again.goto(dashboard.url + "/")
        wait_for_app(again)
        main = again.locator('[data-testid="stMain"]').inner_text()
        assert "You signed out" in main
        assert sign_in_button(again).count() == 1
        assert again.locator('[data-testid="stSidebarNav"]').count() == 0
    finally:
        replay.close()


def test_an_identity_cookie_issued_in_the_future_is_refused(page, dashboard):
    future = identity_cookie(dashboard.cookie_secret, dashboard.url, groups=["dash-admins"], age_hours=-2)
    open_with_cookie(page, dashboard, future)
    assert "cannot be used" in page.locator('[data-testid="stMain"]').inner_text()
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def identity_cookie(secret: str, origin: str, *, groups, age_hours: float = 0) -> str:
    issued = int(time.time() - age_hours * 3600)
    claims = {
        "sub": "forged",
        "name": "Forged Admin",
        "email": "forged@example.test",
        "groups": groups,
        "iat": issued,
        "auth_time": issued,
        "origin": origin,
        "is_logged_in": True,
        "provider": "default",
    }
    return URLSafeTimedSerializer(secret, salt="_streamlit_user").dumps(json.dumps(claims))


def open_with_cookie(page, dashboard, value: str) -> None:
    page.context.add_cookies([{"name": "_streamlit_user", "value": value, "url": dashboard.url}])
    page.goto(dashboard.url + "/")
    wait_for_app(page)


def test_identity_cookie_signed_with_a_wrong_secret_is_rejected(page, dashboard):
    forged = identity_cookie("not-the-cookie-secret-" + "x" * 20, dashboard.url, groups=["dash-admins"])
    open_with_cookie(page, dashboard, forged)
    assert sign_in_button(page).count() == 1
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def test_identity_cookie_older_than_the_maximum_session_age_must_sign_in_again(page, dashboard):
    # Signed with the right secret (so it is accepted as authentic) but issued 9 hours ago.
    old = identity_cookie(dashboard.cookie_secret, dashboard.url, groups=["dash-admins"], age_hours=9)
    open_with_cookie(page, dashboard, old)
    assert "Your session expired" in page.locator('[data-testid="stMain"]').inner_text()
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def test_a_deep_link_survives_sign_in(page, dashboard, oidc):
    wanted = "/client?client=northern-leaf&status=failed"
    page.goto(dashboard.url + wanted)
    wait_for_app(page)
    sign_in_button(page).first.click()
    page.wait_for_url(re.compile(re.escape(oidc.issuer) + r"/interaction/"))
    page.fill('input[name="login"]', "support")
    page.fill('input[name="password"]', "any-password")
    page.click('button[type="submit"]')
    # The provider returns to the app's root; the remembered page and query open from there.
    page.wait_for_url(re.compile(re.escape(dashboard.url + wanted) + "$"))
    wait_for_app(page)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().endswith("northern-leaf")


def test_opening_the_app_at_127_0_0_1_explains_where_to_sign_in(page, dashboard):
    """The identity cookie belongs to the redirect URI's host (localhost): at 127.0.0.1 sign-in would loop."""
    page.goto(dashboard.url.replace("localhost", "127.0.0.1") + "/")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "another address than the one sign-in returns to" in main
    link = page.locator('[data-testid="stMain"] a', has_text="Open http://localhost:")
    assert link.get_attribute("href").startswith(dashboard.url)
    assert sign_in_button(page).count() == 0


def theme_choice(page, name: str):
    """One of the menu's System / Light / Dark choices (each reads "<icon name> <label>")."""
    popover = page.locator('[data-testid="stMainMenuPopover"]')
    for _ in range(5):  # the first click can land while the app still reruns
        if popover.is_visible():
            break
        page.locator('[data-testid="stMainMenu"] button, [data-testid="stMainMenu"]').first.click()
        page.wait_for_timeout(500)
    popover.wait_for()
    return (
        popover.locator("button, [role=radio], [role=button], [role=menuitem]")
        .filter(has_text=re.compile(rf"{name}$"))
        .last
    )


def test_light_and_dark_can_be_switched_from_the_menu(page, login):
    """The app menu (toolbarMode "viewer"; "minimal" hid it) offers System / Light / Dark."""
    login(page, "support")
    background = "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
    theme_choice(page, "Dark").click()
    page.wait_for_function(f"() => ({background})() === 'rgb(15, 20, 25)'")  # [theme.dark] #0f1419
    theme_choice(page, "Light").click()
    page.wait_for_function(f"() => ({background})() === 'rgb(255, 255, 255)'")  # [theme.light] #ffffff
