"""An audited restart in Chromium: support signs in through the identity provider, restarts an
allocation with a reason through the confirmation dialog, sees the outcome, and finds the event on
the audit page; a manager sees no action controls."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import OUTPUT, wait_for_app

from connectors import NomadConnector
from connectors.settings import load

pytestmark = pytest.mark.browser
REASON = "browser test: customer reports 502s"


def a_running_pair_alloc(cluster) -> dict:
    """A running allocation whose group has another one running (a plain restart is allowed)."""
    nomad = NomadConnector(load(cluster).nomad)
    allocs = [
        a for a in nomad.list_allocations().data if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    ]
    groups = Counter((a["Namespace"], a["JobID"], a["TaskGroup"]) for a in allocs)
    return next(a for a in allocs if groups[(a["Namespace"], a["JobID"], a["TaskGroup"])] >= 2)


def signaled(cluster, alloc_id) -> int:
    full = NomadConnector(load(cluster).nomad).get_allocation(alloc_id)
    return sum(e["Type"] == "Restart Signaled" for s in full["TaskStates"].values() for e in s["Events"] or ())


def test_support_restarts_with_a_reason_and_finds_it_on_the_audit_page(page, login, dashboard, cluster):
    alloc = a_running_pair_alloc(cluster)
    short = alloc["ID"][:8]
    before = signaled(cluster, alloc["ID"])
    login(page, "support")
    page.goto(f"{dashboard.url}/allocation?alloc={short}")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Restart allocation")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"This restarts allocation {short}", exact=False).wait_for()
    go = dialog.get_by_role("button", name="Restart", exact=True)
    assert go.is_disabled()
    dialog.get_by_label(re.compile("Type the allocation's short ID")).fill(short)
    dialog.get_by_label(re.compile("Reason")).fill(REASON)
    dialog.get_by_label(re.compile("Ticket ID")).fill("SUP-1234")
    dialog.get_by_label(re.compile("Ticket ID")).press("Tab")  # widgets report their value on blur
    page.wait_for_function(
        "() => { const b = [...document.querySelectorAll('[role=dialog] button')]"
        ".find(b => b.innerText.trim() === 'Restart'); return b && !b.disabled; }"
    )
    go.click()
    page.get_by_text(re.compile(rf"Allocation {short} .* is restarting its running tasks")).wait_for()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "actions-1-restarted.png"))
    assert signaled(cluster, alloc["ID"]) > before  # the restart really reached the Nomad client

    page.goto(f"{dashboard.url}/audit")
    wait_for_app(page)
    page.wait_for_function(
        't => [...document.querySelectorAll(\'[data-testid="stDataFrame"] [role="gridcell"]\')]'
        ".some(c => c.innerText.includes(t))",
        arg=REASON,
    )
    row = next(
        r for r in page.locator('[data-testid="stDataFrame"] [role="row"]').all() if REASON in (r.text_content() or "")
    )
    text = row.text_content() or ""
    assert "succeeded" in text and "alloc.restart" in text and "Sol Support" in text
    assert page.get_by_text(re.compile("The audit chain is intact")).count() == 1
    page.screenshot(path=str(OUTPUT / "actions-2-audit.png"))


def test_manager_sees_no_action_controls_on_a_client(page, login, dashboard, cluster):
    alloc = a_running_pair_alloc(cluster)
    login(page, "manager")
    page.goto(f"{dashboard.url}/client?client={alloc['Namespace']}")
    wait_for_app(page)
    page.get_by_text("Allocations", exact=True).first.wait_for()
    page.locator('[data-testid="stMain"] [data-testid="stDataFrame"] [role="gridcell"]').first.wait_for(
        state="attached"
    )
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_role("button", name=re.compile("restart|stop", re.I)).count() == 0
    assert "Rolling restart" not in main.inner_text()
