"""Actions in the real pages (AppTest on a sandbox of this module's own, which they mutate):
the confirmation dialog, the outcome, who sees which controls, and the audit page."""

from __future__ import annotations

import pytest

from connectors import NomadConnector
from connectors.settings import load
from sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox():
    """Overrides the session's read-only sandbox for this module: these tests restart allocations."""
    with Sandbox(clients=8, seed=7, frozen=True) as sb:
        yield sb


def nomad(sb) -> NomadConnector:
    return NomadConnector(load({"NOMAD_ADDR": sb.nomad_addr}).nomad)


def pair_alloc(snap, index: int = 0) -> dict:
    a = snap.frames.allocations
    running = a[(a["client_status"] == "running") & (a["desired_status"] == "run")]
    counts = running.groupby(["namespace", "job_id", "task_group"]).size()
    pairs = [k for k, n in counts.items() if n >= 2]
    ns, job, group = pairs[index]
    return running[(running["namespace"] == ns) & (running["job_id"] == job) & (running["task_group"] == group)].iloc[0]


def restarts(sb, alloc_id) -> int:
    return sum(s["Restarts"] for s in nomad(sb).get_allocation(alloc_id)["TaskStates"].values())


def texts(at, kind) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def test_support_restarts_through_the_dialog_and_sees_the_outcome(open_page, snap, sandbox, page_text):
    a = pair_alloc(snap, 0)
    before = restarts(sandbox, a["alloc_id"])
    at = open_page("app_pages/allocation.py", role="support", alloc=a["short_id"])
    at.button(key="allocation_restart").click().run()
    assert "restarts allocation " + a["short_id"] in page_text(at).replace("\\", "")
    go = at.button(key="restart_go")
    assert go.disabled  # nothing typed yet
    at.text_input(key="restart_confirm").input(a["short_id"]).run()
    assert at.button(key="restart_go").disabled  # a reason is still missing
    at.text_area(key="restart_reason").input("customer reports 502s").run()
    at.text_input(key="restart_ticket").input("SUP-7").run()
    at.button(key="restart_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "is restarting its running tasks" in texts(at, "success").replace("\\", "")
    sandbox.clock.advance(10)  # the time a restart takes on a Nomad client (signal, exit, start)
    assert restarts(sandbox, a["alloc_id"]) > before
    audit = open_page("app_pages/audit.py", role="support")
    table = audit.dataframe[0].value
    row = table[table["reason"] == "customer reports 502s"].iloc[0]
    assert (row["outcome"], row["ticket"], row["action"]) == ("succeeded", "SUP-7", "alloc.restart")
    assert "intact" in texts(audit, "success")


def test_a_second_restart_is_refused_with_a_clear_message(open_page, snap, sandbox):
    a = pair_alloc(snap, 1)
    for attempt in range(2):
        at = open_page("app_pages/allocation.py", role="support", alloc=a["short_id"])
        at.button(key="allocation_restart").click().run()
        at.text_input(key="restart_confirm").input(a["short_id"]).run()
        at.text_area(key="restart_reason").input(f"try {attempt}").run()
        at.button(key="restart_go").click().run()
    assert "just done by" in texts(at, "warning")


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_viewers_and_managers_get_no_action_controls(role, open_page, open_script, principal_for, snap):
    a = pair_alloc(snap, 2)
    labels = []
    if role == "viewer":
        at = open_page("app_pages/allocation.py", role=role, alloc=a["short_id"], confirm=a["short_id"], go="1")
        labels += [b.label for b in at.button]
    at = open_page("app_pages/client.py", role=role, client=a["client"])
    labels += [b.label for b in at.button]
    assert not [label for label in labels if "estart" in label or "Stop" in label]


def test_admin_can_stop_and_support_cannot(open_page, snap, sandbox):
    a = pair_alloc(snap, 3)
    support = open_page("app_pages/allocation.py", role="support", alloc=a["short_id"])
    assert "allocation_stop" not in [b.key for b in support.button]
    at = open_page("app_pages/allocation.py", role="admin", alloc=a["short_id"])
    at.button(key="allocation_stop").click().run()
    at.text_input(key="stop_confirm").input(a["short_id"]).run()
    at.text_area(key="stop_reason").input("node is flaky").run()
    at.button(key="stop_go").click().run()
    assert "is stopping" in texts(at, "success")
    assert nomad(sandbox).get_allocation(a["alloc_id"])["DesiredStatus"] == "stop"


def test_rolling_restart_from_the_client_page(open_page, snap, sandbox):
    a = pair_alloc(snap, 4)
    at = open_page("app_pages/client.py", role="support", client=a["client"])
    at.selectbox(key="rolling_group").select(f"{a['job_id']} / {a['task_group']}").run()
    at.button(key="rolling_open").click().run()
    at.text_input(key="rolling_confirm").input(a["task_group"]).run()
    at.text_area(key="rolling_reason").input("config reload").run()
    at.button(key="rolling_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Rolling restart of group" in texts(at, "success")
    from ui import actions as ui_actions

    outcome = at.session_state["_action_outcome"][1]
    runner = ui_actions.environment().get(a["cluster"]).get_runner()
    for _ in range(100):  # simulated time moves on until the worker has seen both allocations restarted
        if runner.wait(outcome.request_id, 0.2):
            break
        sandbox.clock.advance(2)
    assert runner.wait(outcome.request_id, 0)
    manager = open_page("app_pages/client.py", role="manager", client=a["client"])
    assert "Rolling restarts" in texts(manager, "subheader")  # others see it (in progress or done)


def test_audit_page_filters_from_the_url_and_flags_an_unknown_outcome(open_page):
    """A request recorded with no outcome (its process died) is flagged; ?outcome= filters the rows."""
    from store import database_url
    from store.audit import Actor, AuditStore, Entry, new_request_id

    AuditStore(database_url()).request(
        Entry(
            new_request_id(),
            "requested",
            Actor("sub-crashed", "crashed@example.test", "Crashed Support", ("dash-support",), ("support",)),
            "alloc.restart",
            {"namespace": "acme", "client": "acme", "job": "acme-web", "allocation": "b" * 36},
            reason="left without outcome",
        )
    )
    at = open_page("app_pages/audit.py", role="manager")
    assert "outcome unknown: check Nomad" in texts(at, "warning")
    table = at.dataframe[0].value
    assert table[table["reason"] == "left without outcome"].iloc[0]["outcome"] == "outcome unknown: check Nomad"
    only = open_page("app_pages/audit.py", role="manager", outcome="denied")
    assert set(only.dataframe[0].value["outcome"]) <= {"denied"}
    assert "left without outcome" not in set(only.dataframe[0].value["reason"])
    own = open_page("app_pages/audit.py", role="support")  # support sees only their own records
    assert "left without outcome" not in set(own.dataframe[0].value["reason"])
