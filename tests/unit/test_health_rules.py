"""Health rules: table tests of (input -> status, reason)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

import views
from views.health import ClientHealth, HealthRules, JobHealth, assess, evaluate, job_label
from views.status import STATUS_ORDER, badge, color, icon, rank, worst

J = JobHealth


@pytest.mark.parametrize(
    "health, status, reason_parts",
    [
        (ClientHealth(), "healthy", ["nothing scheduled"]),
        (ClientHealth((J("acme-report", "report"),)), "healthy", ["no allocations desired"]),
        (
            ClientHealth((J("w", "web", desired=3, running=3), J("a", "api", desired=2, running=2))),
            "healthy",
            ["all 5 allocations running"],
        ),
        (
            ClientHealth((J("w", "web", desired=3, running=0), J("a", "api", desired=2, running=0))),
            "down",
            ["nothing running: 0 of 5 allocations desired"],
        ),
        (
            ClientHealth((J("w", "web", desired=3, running=0, failed=2),)),
            "down",
            ["nothing running", "2 of 3 web allocations failed in the last 6h"],
        ),
        (
            ClientHealth((J("w", "web", desired=3, running=1, failed=2),), critical_checks=("“http” on web",)),
            "degraded",
            ["2 of 3 web allocations failed in the last 6h", "check “http” on web critical"],
        ),
        (
            ClientHealth((J("w", "web", desired=1, running=0, failed=1), J("a", "api", desired=1, running=1))),
            "degraded",
            ["1 of 1 web allocation failed"],
        ),
        (
            ClientHealth((J("w", "web", desired=2, running=2, lost=1),)),
            "degraded",
            ["1 web allocation lost in the last 6h"],
        ),
        (
            ClientHealth((J("w", "web", desired=3, running=2), J("a", "api", desired=1, running=1))),
            "degraded",
            ["web: 2 of 3 running"],
        ),
        (
            ClientHealth((J("w", "web", desired=2, running=2, restarts=5),)),
            "degraded",
            ["web restarted 5 times in 24h"],
        ),
        (ClientHealth((J("w", "web", desired=2, running=2, restarts=4),)), "healthy", ["all 2 allocations running"]),
        (
            # a warning check is said, never degrades: most demo clients were "degraded" by one
            ClientHealth((J("w", "web", desired=2, running=2),), warning_checks=("“tcp” on api",)),
            "healthy",
            ["all 2 allocations running", "check “tcp” on api warning"],
        ),
        (
            ClientHealth((J("w", "web", desired=5, running=7),)),
            "healthy",
            ["7 running for 5 desired"],  # not "all 5 allocations running" beside Running 7 / 5
        ),
        (
            ClientHealth((J("w", "web", desired=2, running=2, deployment_failed=True),)),
            "degraded",
            ["web deployment failed"],
        ),
        (ClientHealth((J("w", "web", desired=3, running=1, deploying=True),)), "deploying", ["deploying web"]),
        (
            ClientHealth((J("w", "web", desired=3, running=3, deploying=True),), critical_checks=("“http” on web",)),
            "degraded",
            ["check “http” on web critical", "deployment of web in progress"],
        ),
        (
            ClientHealth((J("w", "web", desired=2, running=2),), critical_checks=tuple(f"`c{i}`" for i in range(5))),
            "degraded",
            ["checks `c0`, `c1`, `c2` (+2 more) critical"],
        ),
    ],
)
def test_rules_table(health, status, reason_parts):
    got_status, reason = evaluate(health)
    assert got_status == status
    for part in reason_parts:
        assert part in reason
    # worst finding first
    if status == "down":
        assert reason.startswith("nothing running")


def test_rules_are_configurable():
    h = ClientHealth((J("w", "web", desired=2, running=2, restarts=2),))
    assert evaluate(h)[0] == "healthy"
    assert evaluate(h, HealthRules(restart_threshold=2))[0] == "degraded"
    assert (
        "in the last 1h"
        in evaluate(
            ClientHealth((J("w", "web", desired=2, running=1, failed=1),)),
            HealthRules(failed_window=timedelta(hours=1)),
        )[1]
    )


@pytest.mark.parametrize(
    "job_id, client, label",
    [
        ("northern-leaf-web", "northern-leaf", "web"),
        ("other-web", "northern-leaf", "other-web"),
        ("northern-leaf-", "northern-leaf", "northern-leaf-"),
        ("x", "", "x"),
    ],
)
def test_job_label(job_id, client, label):
    assert job_label(job_id, client) == label


def test_status_palette_order_colours_icons():
    assert STATUS_ORDER == ("down", "degraded", "deploying", "healthy")
    assert [rank(s) for s in STATUS_ORDER] == [0, 1, 2, 3] and rank("???") == 4
    assert color("healthy") == "#2ca02c" and color("down") == "#d62728" and color("nope") == "#7f7f7f"
    assert icon("deploying") == "↻" and badge("degraded") == "▲ degraded"
    assert worst(["healthy", "deploying", "degraded"]) == "degraded" and worst([]) == "healthy"


# --- end to end through build_frames: windows and sort order --------------------------------

NOW = pd.Timestamp("2026-01-01T12:00:00Z")
H = 3600 * 10**9


def _job(jid, ns):
    return {
        "ID": jid,
        "Namespace": ns,
        "Type": "service",
        "Status": "running",
        "JobSummary": {"Summary": {"g": {"Running": 0}}},
    }


def _restart_events(hours_ago):
    return [
        {"Type": "Restarting", "Time": NOW.value - int(h * H), "DisplayMessage": "Task restarting in 15s"}
        for h in sorted(hours_ago, reverse=True)
    ]


def _alloc(i, jid, ns, status, modify_h_ago=1, restarts=0, last_restart=None, restarts_h_ago=()):
    return {
        "ID": f"{i:08d}-0000-0000-0000-000000000000",
        "Namespace": ns,
        "JobID": jid,
        "Name": f"{jid}.g[{i % 10}]",
        "ClientStatus": status,
        "DesiredStatus": "run",
        "CreateTime": NOW.value - 48 * H,
        "ModifyTime": NOW.value - modify_h_ago * H,
        "TaskStates": {
            "t": {"Restarts": restarts, "LastRestart": last_restart, "Events": _restart_events(restarts_h_ago)}
        },
    }


def test_clients_sorted_worst_first_with_windows_applied():
    raw = {
        "jobs": [_job("a-web", "a"), _job("b-web", "b"), _job("c-web", "c"), _job("d-web", "d"), _job("e-web", "e")],
        "allocations": [
            _alloc(10, "a-web", "a", "running"),
            _alloc(11, "a-web", "a", "running"),
            _alloc(20, "b-web", "b", "failed"),  # nothing running -> down
            _alloc(30, "c-web", "c", "running"),
            _alloc(31, "c-web", "c", "failed", modify_h_ago=30),  # old failure: outside 6h, but 1 of 2 running
            _alloc(
                40, "d-web", "d", "running", restarts=9, last_restart="2025-12-30T00:00:00Z", restarts_h_ago=[60] * 9
            ),  # old restarts
            _alloc(
                50, "e-web", "e", "running", restarts=9, last_restart="2026-01-01T10:00:00Z", restarts_h_ago=[2] * 9
            ),
        ],
        "deployments": [{"ID": "dep", "Namespace": "a", "JobID": "a-web", "Status": "running", "JobVersion": 1}],
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    cl = f.clients
    assert cl.client.tolist() == ["b", "c", "e", "a", "d"]
    st = dict(zip(cl.client, cl.status))
    assert st == {"a": "deploying", "b": "down", "c": "degraded", "d": "healthy", "e": "degraded"}
    r = dict(zip(cl.client, cl.reason))
    assert r["b"].startswith("nothing running: 0 of 1 allocation desired")
    assert "1 of 1 web allocation failed in the last 6h" in r["b"]
    assert r["c"] == "web: 1 of 2 running"
    assert r["e"] == "web restarted 9 times in 24h"
    assert r["a"] == "deploying web"
    row = cl.set_index("client").loc["e"]
    assert row.restarts_24h == 9 and row.running == 1 and row.desired == 1
    assert cl.set_index("client").loc["d"].restarts_24h == 0
    assert cl["rank"].is_monotonic_increasing


@pytest.mark.parametrize(
    "restarts, hours_ago, expected",
    [
        (12, [72] * 11 + [1], 1),  # 11 restarts 3 days ago + 1 an hour ago: 1 in 24h, not 12
        (6, [1, 2, 3, 4, 5, 23.9], 6),  # all inside the window
        (6, [24.1] * 6, 0),  # all just outside
        (3, [], 0),  # a Restarts count without events proves nothing about when
        (5, [30, 20, 10, 5, 1], 4),
    ],
)
def test_restarts_24h_counts_restarting_events_inside_the_window(restarts, hours_ago, expected):
    last = (NOW - pd.Timedelta(hours=min(hours_ago))).isoformat() if hours_ago else None
    raw = {
        "jobs": [_job("a-web", "a")],
        "allocations": [
            _alloc(1, "a-web", "a", "running", restarts=restarts, last_restart=last, restarts_h_ago=hours_ago)
        ],
    }
    row = views.build_frames(raw, cluster="c", now=NOW).clients.set_index("client").loc["a"]
    assert row.restarts_24h == expected
    assert ("restarted" in row.reason) == (expected >= 5)


def test_other_event_types_are_not_restarts():
    a = _alloc(1, "a-web", "a", "running", restarts=6, last_restart=NOW.isoformat())
    a["TaskStates"]["t"]["Events"] = [
        {"Type": t, "Time": NOW.value - H}
        for t in ("Not Restarting", "Restart Signaled", "Started", "Terminated", "Killing", "Received")
    ]
    row = views.build_frames({"jobs": [_job("a-web", "a")], "allocations": [a]}, cluster="c", now=NOW).clients.iloc[0]
    assert row.restarts_24h == 0


def test_findings_are_ordered_by_severity_and_the_reason_says_them_worst_first():
    h = ClientHealth(
        (J("w", "web", desired=3, running=3, restarts=9), J("a", "api", desired=2, running=1, failed=1)),
        critical_checks=("“http” on web",),
        warning_checks=("“tcp” on api",),
    )
    a = assess(h)
    assert a.status == "degraded" and a.findings == 4
    assert a.reason.split("; ") == [
        "1 of 2 api allocations failed in the last 6h",
        "check “http” on web critical",
        "web restarted 9 times in 24h",
        "check “tcp” on api warning",
    ]
    assert a.severity < assess(ClientHealth((J("w", "web", desired=3, running=3, restarts=9),))).severity


def _check(node, name, status, service="api", sid="api-1"):
    return {"Node": node, "CheckID": name, "Name": name, "Status": status, "ServiceID": sid, "ServiceName": service}


def _svc(client, node, sid):
    return {"ServiceName": "api", "ServiceID": sid, "Node": node, "ServiceMeta": {"client": client}}


def test_within_a_status_a_critical_check_sorts_before_restarts_whatever_the_names():
    raw = {
        "jobs": [_job("a-web", "a"), _job("z-web", "z"), _job("m-web", "m")],
        "allocations": [
            _alloc(10, "a-web", "a", "running", restarts=9, restarts_h_ago=[1] * 9),
            _alloc(20, "z-web", "z", "running"),
            _alloc(30, "m-web", "m", "running"),
        ],
        "consul_services": {"api": [_svc("z", "n1", "api-z"), _svc("m", "n2", "api-m")]},
        "consul_checks": [_check("n1", "http", "critical", sid="api-z"), _check("n2", "tcp", "warning", sid="api-m")],
    }
    cl = views.build_frames(raw, cluster="c", now=NOW).clients
    assert cl.client.tolist() == ["z", "a", "m"]  # alphabetical would put "a" (restarts) first
    assert cl.status.tolist() == ["degraded", "degraded", "healthy"]
    assert cl.set_index("client").loc["m", "checks_warning"] == 1  # the warning still shows in its row


def test_every_tile_agrees_with_the_rows():
    """A reason says "deploying" only for a client whose status (and so tile) is deploying; a healthy
    reason says "all N running" only when running == desired; a down client shows its datacenters."""
    raw = {
        "jobs": [_job("a-web", "a"), _job("a-api", "a"), _job("b-web", "b"), _job("c-web", "c")],
        "allocations": [
            _alloc(10, "a-web", "a", "failed"),
            _alloc(11, "a-web", "a", "running"),
            _alloc(12, "a-api", "a", "running"),
            _alloc(20, "b-web", "b", "failed"),
            _alloc(30, "c-web", "c", "running"),
            _alloc(31, "c-web", "c", "running"),
        ],
        "deployments": [{"ID": "d1", "Namespace": "a", "JobID": "a-api", "Status": "running", "JobVersion": 1}],
        "nodes": [{"ID": "n1", "Datacenter": "ca-tor-1"}],
    }
    for a in raw["allocations"]:
        a["NodeID"] = "n1"
    cl = views.build_frames(raw, cluster="c", now=NOW).clients.set_index("client")
    assert cl.loc["a", "status"] == "degraded" and cl.loc["a", "deploying"]
    assert "deploying" not in cl.loc["a", "reason"] and "deployment of api in progress" in cl.loc["a", "reason"]
    assert all(("deploying " in r) == (s == "deploying") for r, s in zip(cl.reason, cl.status))
    assert cl.loc["b", "status"] == "down" and cl.loc["b", "datacenters"] == ["ca-tor-1"]
    assert all(run == des for r, run, des in zip(cl.reason, cl.running, cl.desired) if r.startswith("all "))
