"""Two people watching client health in Chromium while nothing changes (issue 13, item 4).

The browser suite's sandbox is frozen, so the snapshot stays the same and the pages' tables come
from the shaping shared by every session (ui.shared); the freshness line must still move on its
own (the page's timed fragment rerun), in both sessions, with the table still there.
"""

from __future__ import annotations

import pytest
from conftest import TIMEOUT_MS, wait_for_app

pytestmark = pytest.mark.browser

FRESHNESS = """() => {
  for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
    if (el.textContent.includes('Data as of')) return el.textContent;
  }
  return null;
}"""


def client_cells(page) -> list[str]:
    """The client names of the visible rows (first cell of each row of the accessible grid)."""
    return page.eval_on_selector_all(
        '[data-testid="stDataFrame"] [role="row"]',
        "rows => rows.map(r => r.querySelector('[role=\"gridcell\"]')).filter(c => c).map(c => c.innerText.trim())",
    )


def test_the_freshness_line_moves_on_an_unchanged_snapshot_in_two_sessions(browser, dashboard, login):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        first = context.new_page()
        login(first, "support")
        second = context.new_page()  # the same person in a second tab: a second Streamlit session
        second.goto(dashboard.url + "/")
        wait_for_app(second)
        for page in (first, second):
            page.wait_for_selector('[data-testid="stDataFrame"] [role="gridcell"]', state="attached")
        lines = {id(p): p.evaluate(FRESHNESS) for p in (first, second)}
        tables = {id(p): client_cells(p) for p in (first, second)}
        assert all(lines.values()) and all(tables.values())
        for page in (first, second):
            # The page reruns its data part every page_refresh_seconds (10 s): wait for that, not a time.
            page.wait_for_function(f"(old) => ({FRESHNESS})() !== null && ({FRESHNESS})() !== old", arg=lines[id(page)])
            assert "ago" in page.evaluate(FRESHNESS)
            page.wait_for_selector('[data-testid="stDataFrame"] [role="gridcell"]', state="attached")
            assert client_cells(page) == tables[id(page)]  # the same clients, still shown
    finally:
        context.close()
