"""Tier-1 support in Chromium: client health -> a client -> one of its allocations -> its logs, filtered.

Tables are canvas grids; the tests read their accessible grid (role=gridcell) and open a row by
clicking its selection checkbox, as a person would. Screenshots go to test-output/.
"""

from __future__ import annotations

import re

import pytest
from conftest import OUTPUT, wait_for_app

pytestmark = pytest.mark.browser

HEADER_PX, ROW_PX = 35, 35  # st.dataframe's default header and row heights


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"support-{name}.png"))


def grid_rows(grid) -> list[list[str]]:
    """The visible rows of a grid as text, from its accessible table (header excluded)."""
    rows = []
    for row in grid.locator('[role="row"]').all()[1:]:
        rows.append([(c.text_content() or "").strip() for c in row.locator('[role="gridcell"]').all()])
    return rows


def grid_with(page, text: str, timeout: float = 20_000):
    """The first table whose cells contain ``text`` (waits for it: tables render after the page title)."""
    page.wait_for_function(
        't => [...document.querySelectorAll(\'[data-testid="stDataFrame"] [role="gridcell"]\')]'
        ".some(c => c.innerText.includes(t))",
        arg=text,
        timeout=timeout,
    )
    grids = page.locator('[data-testid="stDataFrame"]')
    for i in range(grids.count()):
        if text in (grids.nth(i).text_content() or ""):
            return grids.nth(i)
    raise AssertionError(f"no table containing {text!r}")


def select_row(page, grid, index: int) -> None:
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 17, box["y"] + HEADER_PX + ROW_PX * index + ROW_PX / 2)


def h1(page) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text()


def log_lines(page) -> list[str]:
    return [ln for ln in page.locator('[data-testid="stCode"]').first.inner_text().splitlines() if ln.strip()]


def test_support_goes_from_client_health_to_filtered_logs(page, login, dashboard):
    login(page, "support")
    assert h1(page).endswith("Client health")
    health = grid_with(page, "client?client=")
    rows = grid_rows(health)
    assert rows and ("down" in rows[0][1] or "degraded" in rows[0][1])  # the worst client comes first
    client = rows[0][0].split("client=", 1)[1]
    shot(page, "1-health")

    select_row(page, health, 0)
    page.wait_for_url(re.compile(rf"/client\?client={re.escape(client)}$"))
    wait_for_app(page)
    assert h1(page).endswith(client)
    allocs = grid_with(page, "allocation?alloc=")
    rows = grid_rows(allocs)
    # Troubled allocations come first: support reads what the failing task logged.
    running = next(i for i, r in enumerate(rows) if "failed" in r[1] or "running" in r[1])
    failed = "failed" in rows[running][1]
    alloc_id = rows[running][0].split("alloc=", 1)[1]
    shot(page, "2-client")

    select_row(page, allocs, running)
    page.wait_for_url(re.compile(rf"/allocation\?alloc={alloc_id}(&cluster=[A-Za-z0-9_.-]+)?$"))
    wait_for_app(page)
    assert h1(page).endswith(f"Allocation {alloc_id[:8]}")
    restart = page.get_by_role("button", name=re.compile("Restart allocation"))
    assert restart.is_enabled()  # support may restart (tests/browser/test_actions_flow.py does)
    page.get_by_text("Showing", exact=False).first.wait_for()
    lines = log_lines(page)
    assert len(lines) > 3
    if failed:
        assert any("ERROR" in ln for ln in lines), "a failed task's log shows its error"
    shot(page, "3-allocation")

    words = [
        w
        for w in re.findall(r"[A-Za-z]{4,}", "\n".join(lines))
        if 0 < sum(w.lower() in ln.lower() for ln in lines) < len(lines)
    ]
    word = words[0]
    box = page.get_by_role("textbox", name="Filter lines (regular expression, case-insensitive)")
    box.fill(word)
    box.press("Enter")
    page.wait_for_function(
        "n => { const c = document.querySelector('[data-testid=\"stCode\"]');"
        " return c && c.innerText.split('\\n').filter(l => l.trim()).length === n; }",
        arg=sum(word.lower() in ln.lower() for ln in lines),
    )
    assert all(word.lower() in ln.lower() for ln in log_lines(page))
    page.locator('[data-testid="stCode"]').first.scroll_into_view_if_needed()
    shot(page, "4-logs-filtered")

    box.fill("(unclosed")
    box.press("Enter")
    page.get_by_text("is not a valid regular expression").wait_for()


def test_search_by_short_allocation_id_and_both_themes(page, login, dashboard):
    login(page, "support")
    health = grid_with(page, "client?client=")
    client = grid_rows(health)[0][0].split("client=", 1)[1]
    search = page.locator('[data-testid="stSidebar"]').get_by_role("textbox", name="Search")
    search.fill(client)
    search.press("Enter")
    page.wait_for_url(re.compile(rf"/client\?client={re.escape(client)}$"))
    wait_for_app(page)
    alloc_id = grid_rows(grid_with(page, "allocation?alloc="))[0][0].split("alloc=", 1)[1]
    search = page.locator('[data-testid="stSidebar"]').get_by_role("textbox", name="Search")
    search.fill(alloc_id[:8])
    search.press("Enter")
    page.wait_for_url(re.compile(rf"/allocation\?alloc={alloc_id}(&cluster=[A-Za-z0-9_.-]+)?$"))
    wait_for_app(page)
    assert h1(page).endswith(f"Allocation {alloc_id[:8]}")

    # The configured light and dark themes follow the browser's colour scheme.
    brightness = (
        "() => { const m = getComputedStyle(document.querySelector('[data-testid=\"stApp\"]'))"
        ".backgroundColor.match(/\\d+/g).map(Number); return (m[0] + m[1] + m[2]) / 3; }"
    )
    for scheme, check in (("dark", lambda v: v < 60), ("light", lambda v: v > 200)):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        wait_for_app(page)
        assert check(page.evaluate(brightness)), scheme
        shot(page, f"5-allocation-{scheme}")
