"""A manager in Chromium: sign in, one click to this week's failure share per client and why, one click
to the rollouts, one more to a rollout's per-client board. Screenshots (1440x900, light and dark) go to
test-output/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import requests
from conftest import OUTPUT, wait_for_app
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_support_flow import grid_rows, grid_with, h1, select_row

pytestmark = pytest.mark.browser
NS = 10**9


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"manager-{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def a_rollout(dashboard):
    """A fleet rollout of our own in the dashboard server's database (the sandbox's are all finished):
    checkout 4.2.0 to six of eight shops, one failed and rolled back, one still deploying."""
    from store import db
    from store import deployments as store_deployments

    t0 = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=40)

    def rec(i, client, status, minutes, app, desc=""):
        create = int((t0 + pd.Timedelta(minutes=minutes)).value)
        return {
            "cluster": "default",
            "deployment_id": f"browser-ro-{i:03d}",
            "client": client,
            "namespace": client,
            "job_id": f"{client}-checkout",
            "job_type": "service",
            "datacenters": "ca-tor-1",
            "job_version": i,
            "app_version": app,
            "status": status,
            "status_description": desc,
            "create_ns": create,
            "modify_ns": create + 240 * NS,
            "duration_s": 240.0 if status != "running" else None,
            "modify_index": 50_000 + i,
        }

    recs = [rec(k, f"shop-{k}", "successful", -5000 + k, "4.1.0") for k in range(1, 9)]
    recs += [rec(10 + k, f"shop-{k}", "successful", k * 4, "4.2.0") for k in range(1, 5)]
    recs.append(
        rec(20, "shop-5", "failed", 22, "4.2.0", "Failed due to unhealthy allocations - rolling back to job version 8")
    )
    recs.append(rec(21, "shop-6", "running", 26, "4.2.0"))
    # the server's own state directory (tests/browser/conftest.py gives it one beside its secrets file)
    url = db.database_url({"DASHBOARD_STATE_DIR": str(dashboard.secrets_file.parent / "state")})
    import store

    store.migrate(url)
    store_deployments.upsert(db.engine_for(url), recs)
    return recs


def served(cluster) -> list[dict]:
    resp = requests.get(cluster["NOMAD_ADDR"] + "/v1/deployments", params={"namespace": "*"}, timeout=10)
    resp.raise_for_status()
    return resp.json()


def monday_ns() -> int:
    now = datetime.now(UTC)  # the headless browser's time zone is UTC
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(monday.timestamp()) * NS


def this_week(deployments) -> list[dict]:
    return [d for d in deployments if d["CreateTime"] >= monday_ns()]


def tiles(page) -> dict[str, str]:
    """The headline figures shown ({} while the page says nothing is recorded yet)."""
    try:
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=5000)
    except PlaywrightTimeout:
        return {}
    out = {}
    for m in page.locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def scroll_to(locator, tries: int = 3) -> None:
    """Scroll ``locator`` into view; found again when a redraw replaced it meanwhile (the page
    redraws when the server's recorder has stored more history, and plotly draws after the run)."""
    for attempt in range(tries):
        try:
            locator.scroll_into_view_if_needed()
            return
        except PlaywrightError as err:
            if "not attached" not in str(err) or attempt == tries - 1:
                raise


def nav_click(page, label: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=re.compile(label)).click()
    wait_for_app(page)


def test_a_manager_answers_both_questions_in_two_clicks_each(page, login, dashboard, cluster, a_rollout):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "manager")

    # "What share of deployments failed this week, per client, and why?": one click.
    nav_click(page, "Deployments")
    assert h1(page).endswith("Deployments")
    # The figures match a hand count of the sandbox's deployments (plus the rollout above) once the
    # server's recorder has stored them (it starts with the server's refresher; reload until then).
    week = this_week(served(cluster)) + [{"Status": r["status"]} for r in a_rollout if r["create_ns"] >= monday_ns()]
    want = (len(week), sum(d["Status"] == "failed" for d in week))
    for _ in range(30):
        shown = tiles(page)
        if (shown.get("Deployments"), shown.get("Failed")) == (str(want[0]), str(want[1])):
            break
        page.wait_for_timeout(1000)
        page.reload()
        wait_for_app(page)
    assert (shown.get("Deployments"), shown.get("Failed")) == (str(want[0]), str(want[1]))
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "This week" in main and "previous:" in main
    # the per-client table: one row per client with deployments this week, lowest success rate first
    week_clients = {d["Namespace"] for d in this_week(served(cluster))}
    week_clients |= {r["client"] for r in a_rollout if r["create_ns"] >= monday_ns()}
    per_client = grid_with(page, "shop-5")
    assert {r[0] for r in grid_rows(per_client)} <= week_clients and grid_rows(per_client)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        wait_for_app(page)
        page.get_by_text("Success rate").first.wait_for()
        page.wait_for_timeout(800)  # plotly draws after the run
        shot(page, f"1-deployments-{scheme}")
        scroll_to(page.get_by_text("Why deployments did not succeed").first)
        page.wait_for_timeout(500)
        shot(page, f"1b-deployments-charts-{scheme}")
        scroll_to(grid_with(page, "shop-5"))
        page.wait_for_timeout(500)
        shot(page, f"1c-deployments-per-client-{scheme}")
        page.locator('[data-testid="stMain"]').first.evaluate("el => el.scrollTo(0, 0)")
    page.emulate_media(color_scheme="light")

    # "How far is the current rollout?": one click to the list, one to the board.
    nav_click(page, "Rollouts")
    assert h1(page).endswith("Rollouts")
    grid = grid_with(page, "checkout")
    rows = grid_rows(grid)
    first = rows[0]
    assert "checkout" in first and "4.2.0" in first and "in progress" in first
    shot(page, "2-rollouts-light")
    select_row(page, grid, 0)
    page.wait_for_url(re.compile(r"/rollouts\?rollout="))
    page.locator('[data-testid="stMain"] h1').filter(has_text="checkout 4.2.0").wait_for()
    wait_for_app(page)
    assert h1(page).endswith("checkout 4.2.0")
    board = grid_with(page, "shop-5")
    by_client = {r[0]: r for r in grid_rows(board)}
    assert (
        any("failed" in c for c in by_client["shop-5"])
        and "unhealthy allocations (auto-reverted)" in by_client["shop-5"]
    )
    assert any("not started" in c for c in by_client["shop-7"])
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        wait_for_app(page)
        grid_with(page, "shop-5")
        shot(page, f"3-rollout-board-{scheme}")


def test_an_open_deployments_page_shows_a_new_deployment_without_a_reload(page, login, dashboard, a_rollout):
    """(Last in this module: it adds a deployment the counts above do not expect.)

    A manager leaves the Deployments page open; a deployment recorded meanwhile (here written to the
    server's database, as another dashboard instance would) appears on its own: the page checks the
    history's stamp every page_refresh_seconds and redraws only when it moved."""
    from store import db
    from store import deployments as store_deployments

    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "manager")
    nav_click(page, "Deployments")
    grid_with(page, "shop-5")
    page.evaluate("() => { window.__stillTheSamePage = true; }")  # gone if the page were reloaded
    create = int(pd.Timestamp.now(tz="UTC").value) - 60 * NS
    rec = dict(a_rollout[-2], deployment_id="browser-live-001", client="shop-live", namespace="shop-live")
    rec.update(job_id="shop-live-checkout", status="failed", create_ns=create, modify_ns=create + 30 * NS)
    rec.update(status_description="Failed due to progress deadline", modify_index=90_000)
    url = db.database_url({"DASHBOARD_STATE_DIR": str(dashboard.secrets_file.parent / "state")})
    store_deployments.upsert(db.engine_for(url), [rec])
    grid_with(page, "shop-live", timeout=60_000)  # the lowest success rate comes first
    assert page.evaluate("() => window.__stillTheSamePage === true")
