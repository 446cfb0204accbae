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


def next_refresh(page) -> None:
    """Wait for the page's next timed rerun (page_refresh_seconds: conftest.PAGE_SECONDS): its freshness line moves."""
    moved(page, page.evaluate(FRESHNESS))


def moved(page, old: str | None) -> None:
    """Wait until the page's freshness line is no longer ``old``."""
    page.wait_for_function(f"(old) => ({FRESHNESS})() !== null && ({FRESHNESS})() !== old", arg=old)


def settled_cells(page, tries: int = 6) -> list[str]:
    """The clients shown once two refreshes in a row show the same: a dashboard server that has just
    started may first draw from a snapshot that does not have every source yet (all healthy)."""
    page.wait_for_selector('[data-testid="stDataFrame"] [role="gridcell"]', state="attached")
    cells = client_cells(page)
    for _ in range(tries):
        next_refresh(page)
        again = client_cells(page)
        if again == cells:
            return cells
        cells = again
    return cells


def test_the_freshness_line_moves_on_an_unchanged_snapshot_in_two_sessions(browser, dashboard, login):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        first = context.new_page()
        login(first, "support")
        second = context.new_page()  # the same person in a second tab: a second Streamlit session
        second.goto(dashboard.url + "/")
        wait_for_app(second)
        tables = {id(p): settled_cells(p) for p in (first, second)}
        assert all(tables.values())
        # The page reruns its data part every page_refresh_seconds (conftest.PAGE_SECONDS): wait for that, not a time;
        # both sessions' lines read first, so their refreshes are waited for side by side.
        shown = {id(p): p.evaluate(FRESHNESS) for p in (first, second)}
        for page in (first, second):
            moved(page, shown[id(page)])
            assert "ago" in page.evaluate(FRESHNESS)
            page.wait_for_selector('[data-testid="stDataFrame"] [role="gridcell"]', state="attached")
            now_cells = client_cells(page)
            assert now_cells == tables[id(page)], (now_cells, tables[id(page)])  # the same clients, still shown
    finally:
        context.close()


ROW_OF = """(client) => {
  const grid = document.querySelector('[data-testid="stDataFrame"]');
  if (!grid) return null;
  const heads = [...grid.querySelectorAll('[role="columnheader"]')].map(h => h.innerText.trim());
  for (const r of grid.querySelectorAll('[role="row"]')) {
    const cells = [...r.querySelectorAll('[role="gridcell"]')].map(c => c.innerText.trim());
    if (cells.length && cells[0] === client) {
      const out = {};
      heads.slice(heads.length - cells.length).forEach((h, i) => { out[h] = cells[i]; });
      return out;
    }
  }
  return null;
}"""


def test_a_change_reaches_an_open_page_without_a_reload(browser, dashboard, cluster, login):
    """The tables are drawn once per page run and the timed check redraws the page only when what it
    shows changed (ui.live): an allocation stopped meanwhile must still show in the open page's
    Running column ("3 / 5" after "4 / 5") within a refresh or two, in the same page (no reload)."""
    import requests

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, "support")
        for client in settled_cells(page):  # the first client shown with a running allocation
            allocs = requests.get(
                cluster["NOMAD_ADDR"] + "/v1/allocations", params={"namespace": client.split("client=")[-1]}, timeout=10
            ).json()
            running = next((a for a in allocs if a["ClientStatus"] == "running"), None)
            if running is not None:
                break
        assert running is not None
        before = page.evaluate(ROW_OF, client)
        assert before and "Running" in before, before
        page.evaluate("() => { window.__stillTheSamePage = true; }")  # gone if the page were reloaded
        resp = requests.post(cluster["NOMAD_ADDR"] + f"/v1/allocation/{running['ID']}/stop", timeout=10)
        assert resp.status_code == 200, resp.text
        up, of = (int(x) for x in before["Running"].split("/"))
        want = f"{up - 1} / {of}"
        page.wait_for_function(
            f"([c, n]) => {{ const r = ({ROW_OF})(c); return r !== null && r['Running'] === n; }}",
            arg=[client, want],
            timeout=60_000,
        )
        assert page.evaluate("() => window.__stillTheSamePage === true")
    finally:
        context.close()


METRIC = """(label) => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const l = m.querySelector('[data-testid="stMetricLabel"]');
    const v = m.querySelector('[data-testid="stMetricValue"]');
    if (l && v && l.innerText.trim() === label) return v.innerText.trim();
  }
  return null;
}"""


def test_a_change_reaches_an_open_client_page_without_a_reload(browser, dashboard, cluster, login):
    """A client's page draws its header and tables once per page run too (ui.live.follow): an
    allocation of that client stopped meanwhile must show in the open page's "Running / desired"
    ("2 / 3" after "3 / 3") within a refresh or two, in the same page (no reload)."""
    import requests

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, "support")
        for cell in reversed(settled_cells(page)):  # not the client the test above changed
            client = cell.split("client=")[-1]
            allocs = requests.get(cluster["NOMAD_ADDR"] + "/v1/allocations", params={"namespace": client}, timeout=10)
            running = [a for a in allocs.json() if a["ClientStatus"] == "running"]
            if len(running) >= 2:
                break
        assert len(running) >= 2
        page.goto(dashboard.url + f"/client?client={client}")
        page.wait_for_function(f"() => ({METRIC})('Running / desired') !== null")
        next_refresh(page)  # a page run on a settled snapshot
        before = page.evaluate(METRIC, "Running / desired")
        page.evaluate("() => { window.__stillTheSamePage = true; }")  # gone if the page were reloaded
        resp = requests.post(cluster["NOMAD_ADDR"] + f"/v1/allocation/{running[0]['ID']}/stop", timeout=10)
        assert resp.status_code == 200, resp.text
        up, of = (int(x) for x in before.split("/"))
        page.wait_for_function(f"(n) => ({METRIC})('Running / desired') === n", arg=f"{up - 1} / {of}", timeout=60_000)
        assert page.evaluate("() => window.__stillTheSamePage === true")
        assert "ago" in page.evaluate(FRESHNESS)
    finally:
        context.close()


GRID_CELLS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] [role="gridcell"]')]
  .map(c => c.innerText.trim())"""


def test_a_change_reaches_an_open_allocation_page_without_a_reload(browser, dashboard, cluster, login):
    """The allocation page draws its header, task events and details once per page run too
    (ui.live.follow): a restart of the allocation asked of Nomad meanwhile (as another person's
    action would) must show its "Restart Signaled" task event in the open page within a refresh or
    two, in the same page (no reload). The sandbox is frozen, so the restart stays at that event
    (the task's exit and start are due later in simulated time) and no other test sees it move."""
    import requests

    nomad = cluster["NOMAD_ADDR"]

    def signaled(alloc_id: str) -> bool:
        full = requests.get(nomad + f"/v1/allocation/{alloc_id}", timeout=10).json()
        events = [e for ts in (full.get("TaskStates") or {}).values() for e in ts.get("Events") or []]
        return any(e.get("Type") == "Restart Signaled" for e in events)

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, "support")
        cells = settled_cells(page)
        # A client from the middle of the list: the tests above change the first and the last ones.
        for cell in cells[len(cells) // 2 :] + cells[: len(cells) // 2]:
            allocs = requests.get(
                nomad + "/v1/allocations", params={"namespace": cell.split("client=")[-1]}, timeout=10
            ).json()
            running = next((a for a in allocs if a["ClientStatus"] == "running" and not signaled(a["ID"])), None)
            if running is not None:
                break
        assert running is not None
        page.goto(dashboard.url + f"/allocation?alloc={running['ID']}")
        page.wait_for_function(f"() => ({GRID_CELLS})().includes('Started')")  # its task events are shown
        next_refresh(page)  # a page run on a settled snapshot
        assert "Restart Signaled" not in page.evaluate(GRID_CELLS)
        page.evaluate("() => { window.__stillTheSamePage = true; }")  # gone if the page were reloaded
        resp = requests.put(nomad + f"/v1/client/allocation/{running['ID']}/restart", json={}, timeout=10)
        assert resp.status_code == 200, resp.text
        page.wait_for_function(f"() => ({GRID_CELLS})().includes('Restart Signaled')", timeout=60_000)
        assert page.evaluate("() => window.__stillTheSamePage === true")
        assert "ago" in page.evaluate(FRESHNESS)
    finally:
        context.close()


ALLOC_STATUS = """(id) => {
  const grid = document.querySelector('[data-testid="stDataFrame"]');
  if (!grid) return null;
  const heads = [...grid.querySelectorAll('[role="columnheader"]')].map(h => h.innerText.trim());
  for (const r of grid.querySelectorAll('[role="row"]')) {
    const cells = [...r.querySelectorAll('[role="gridcell"]')].map(c => c.innerText.trim());
    const row = {};
    heads.slice(heads.length - cells.length).forEach((h, i) => { row[h] = cells[i]; });
    if ((row['Allocation'] || '').includes('alloc=' + id)) return row['Status'];  // the link's URL
  }
  return null;
}"""


def test_a_change_reaches_an_open_node_page_without_a_reload(browser, dashboard, cluster, login):
    """One node's page (?node=) draws its header and allocations' table once per page run too
    (ui.live.follow): an allocation on that node stopped meanwhile (as another person's action
    would) must show as complete in the open page's table within a refresh or two, in the same page
    (no reload). The node is one with few allocations, so every row of its table is on screen."""
    import requests

    nomad = cluster["NOMAD_ADDR"]
    candidates = []
    for node in requests.get(nomad + "/v1/nodes", timeout=10).json():
        allocs = requests.get(nomad + f"/v1/node/{node['ID']}/allocations", timeout=10).json()
        running = [a for a in allocs if a["ClientStatus"] == "running"]
        if node["Status"] == "ready" and running and len(allocs) <= 6:
            candidates.append((len(allocs), node["Name"], running[0]["ID"]))
    assert candidates
    _, name, alloc_id = min(candidates)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, "support")
        page.goto(dashboard.url + f"/nodes?node={name}")
        page.wait_for_function(f"(a) => (({ALLOC_STATUS})(a) || '').endsWith('running')", arg=alloc_id)
        next_refresh(page)  # a page run on a settled snapshot
        page.evaluate("() => { window.__stillTheSamePage = true; }")  # gone if the page were reloaded
        resp = requests.post(nomad + f"/v1/allocation/{alloc_id}/stop", timeout=10)
        assert resp.status_code == 200, resp.text
        page.wait_for_function(f"(a) => (({ALLOC_STATUS})(a) || '').endsWith('complete')", arg=alloc_id, timeout=60_000)
        assert page.evaluate("() => window.__stillTheSamePage === true")
        assert "ago" in page.evaluate(FRESHNESS)
    finally:
        context.close()
