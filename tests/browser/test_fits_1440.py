"""What support reads first fits a 1440 x 900 laptop screen, light and dark (screenshots in
test-output/; ``DASHBOARD_SCREENSHOTS=docs/screenshots`` also writes the README's pictures there).

A table fits when its grid needs no sideways scrolling (glide-data-grid's scroller is no wider
than its box); text that would be cut wraps (a row height above 4rem lets Streamlit wrap cells).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, OUTPUT, TIMEOUT_MS, wait_for_app  # noqa: F401

pytestmark = pytest.mark.browser

SCROLL = """g => { const s = g.querySelector('.dvn-scroller'); return s ? [s.scrollWidth, s.clientWidth] : [0, 0]; }"""


def save(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))
    docs = os.environ.get("DASHBOARD_SCREENSHOTS")
    if docs:
        Path(docs).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(docs) / f"{name}.png"))


@pytest.fixture(params=["light", "dark"])
def laptop(request, browser, dashboard, oidc):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=request.param)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.goto(dashboard.url + "/")
    pg.get_by_role("button", name=re.compile(r"^Sign in with ")).first.click()
    pg.wait_for_url(re.compile(re.escape(oidc.issuer) + r"/interaction/"))
    pg.fill('input[name="login"]', "support")
    pg.fill('input[name="password"]', "any-password")
    pg.click('button[type="submit"]')
    pg.wait_for_url(re.compile(re.escape(dashboard.url) + r"/?$"))
    wait_for_app(pg)
    yield pg, request.param
    context.close()


def grids(page):
    page.wait_for_selector('[data-testid="stDataFrame"] .dvn-scroller')
    page.wait_for_timeout(500)
    return page.locator('[data-testid="stDataFrame"]')


def assert_fits(grid, what: str) -> None:
    scroll_width, width = grid.evaluate(SCROLL)
    assert scroll_width <= width + 1, f"{what}: {scroll_width} px of columns in a {width} px table"


def test_client_health_fits_without_sideways_scrolling(laptop, dashboard):
    page, theme = laptop
    table = grids(page).first
    assert_fits(table, "client health")
    headers = table.locator('[role="columnheader"]').all_inner_texts()
    assert {"Reason", "Last deployment", "Datacenters", "Versions"} <= {h.strip() for h in headers}
    save(page, f"health-{theme}")


def test_client_page_allocations_fit_with_their_last_event(laptop, dashboard):
    page, theme = laptop
    page.goto(dashboard.url + "/client?client=fundy-cultivation")
    wait_for_app(page)
    tables = grids(page)
    for i in range(min(tables.count(), 2)):  # jobs, allocations
        assert_fits(tables.nth(i), f"client page table {i}")
    save(page, f"client-{theme}")


def failed_allocation(cluster, namespace: str) -> str:
    import json
    from urllib.request import urlopen

    with urlopen(f"{cluster['NOMAD_ADDR']}/v1/allocations?namespace={namespace}", timeout=10) as r:
        allocs = json.load(r)
    return next(a["ID"] for a in allocs if a["ClientStatus"] == "failed")


def test_allocation_events_wrap_so_the_error_is_readable(laptop, dashboard, cluster):
    page, theme = laptop
    page.goto(f"{dashboard.url}/allocation?alloc={failed_allocation(cluster, 'fundy-cultivation')}")
    wait_for_app(page)
    events = grids(page)
    for i in range(min(events.count(), 2)):
        assert_fits(events.nth(i), f"task events table {i}")
    save(page, f"allocation-{theme}")


def test_one_node_page_fits_with_its_allocations(laptop, dashboard):
    page, theme = laptop
    page.goto(dashboard.url + "/nodes?node=nomad-mtl1-002")  # failed, pending, running and complete ones
    wait_for_app(page)
    table = grids(page).first
    assert_fits(table, "node allocations")
    headers = {h.strip() for h in table.locator('[role="columnheader"]').all_inner_texts()}
    assert {"Allocation", "Status", "Client", "Last event"} <= headers, headers
    save(page, f"node-{theme}")
