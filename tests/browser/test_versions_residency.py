"""The versions and data-residency pages in Chromium at 1440x900, light and dark.

A person signs in as support, opens each page, sees the matrix / the forbidden placements as
table cells, narrows them by a shared link, and finds no link or Markdown made from cluster text
(the only anchors in the page body point back into the dashboard). Screenshots:
test-output/versions-{light,dark}.png and residency-{light,dark}.png.
"""

from __future__ import annotations

import re
import time

import pytest
from conftest import OUTPUT, wait_for_app
from test_support_flow import grid_rows, grid_with, h1

pytestmark = pytest.mark.browser

BRIGHTNESS = (
    "() => { const m = getComputedStyle(document.querySelector('[data-testid=\"stApp\"]'))"
    ".backgroundColor.match(/\\d+/g).map(Number); return (m[0] + m[1] + m[2]) / 3; }"
)


def settled_rows(page, marker: str, ok, timeout_s: float = 20) -> list[list[str]]:
    """The table's rows once they satisfy ``ok`` (a new URL reruns the page: the old table can still
    be on screen for a moment); the last rows seen otherwise, for the assertion to show."""
    deadline = time.monotonic() + timeout_s
    rows = grid_rows(grid_with(page, marker))
    while not (rows and ok(rows)) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        rows = grid_rows(grid_with(page, marker))
    return rows


def violators(cluster) -> set[str]:
    """Clients with a running or starting allocation outside the shipped policy, from Nomad's answers."""
    import requests

    import config

    policy = config.load().residency_policy
    nomad = cluster["NOMAD_ADDR"]
    dc_of = {n["ID"]: n["Datacenter"] for n in requests.get(f"{nomad}/v1/nodes", timeout=15).json()}
    allocs = requests.get(f"{nomad}/v1/allocations", params={"namespace": "*"}, timeout=15).json()
    return {
        a["Namespace"]
        for a in allocs
        if a["ClientStatus"] in ("running", "pending")
        and a["DesiredStatus"] == "run"
        and a.get("NodeID") in dc_of
        and dc_of[a["NodeID"]] not in policy.for_client(a["Namespace"]).datacenters
    }


def foreign_links(page, base: str) -> list[str]:
    hrefs = page.locator('[data-testid="stMain"] a[href]').evaluate_all("els => els.map(e => e.href)")
    return [h for h in hrefs if not h.startswith(base)]


def both_themes(page, name: str, base: str) -> None:
    for scheme, check in (("light", lambda v: v > 200), ("dark", lambda v: v < 60)):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        wait_for_app(page)
        grid_with(page, "client?client=")
        assert check(page.evaluate(BRIGHTNESS)), scheme
        assert foreign_links(page, base) == []
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"{name}-{scheme}.png"))


def test_versions_page_filters_by_link_in_both_themes(page, login, dashboard):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "support")
    page.goto(dashboard.url + "/versions")
    wait_for_app(page)
    assert h1(page).endswith("Versions")
    versions = lambda rows: any(re.fullmatch(r"\S*\d+\.\d+\S*", c) for r in rows for c in r[2:])  # noqa: E731
    rows = settled_rows(page, "client?client=", versions)
    assert len(rows) >= 10 and all(r[0].startswith("client?client=") for r in rows)
    assert versions(rows)  # version numbers in the service columns
    page.goto(dashboard.url + "/versions?service=web&show=behind")
    wait_for_app(page)
    behind = lambda rows: all(len(r) == 3 and r[2].startswith("▼") for r in rows)  # noqa: E731
    rows = settled_rows(page, "client?client=", behind)
    assert rows and behind(rows)  # one service column, every cell behind
    both_themes(page, "versions", dashboard.url)


def test_residency_page_lists_the_forbidden_placements_in_both_themes(page, login, dashboard, cluster):
    expected = violators(cluster)
    assert expected  # the sandbox places a client outside Canada
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "support")
    page.goto(dashboard.url + "/residency")
    wait_for_app(page)
    assert h1(page).endswith("Data residency")
    rows = grid_rows(grid_with(page, "us-east-1"))
    assert rows and {r[0] for r in rows} == {f"client?client={c}" for c in expected}
    assert all("us-east-1" in r for r in rows)
    page.goto(dashboard.url + "/residency?kind=node")
    wait_for_app(page)
    nodes = lambda rows: all(r[2] == "node" for r in rows)  # noqa: E731
    rows = settled_rows(page, "us-east-1", nodes)
    assert rows and nodes(rows)
    both_themes(page, "residency", dashboard.url)
