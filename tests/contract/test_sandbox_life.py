"""The simulated platform over real HTTP as simulated time moves: restarts, crash loops, a calm demo.

Sequences follow HashiCorp's Nomad v1.11.3 client: client/client.go (RestartAllocation: the
Restart Signaled reasons), client/allocrunner/taskrunner/lifecycle.go (restartImpl: the event,
then the kill) and task_runner.go (shouldRestart: Terminated, then Restarting, then Started).
"""

from __future__ import annotations

import pandas as pd
import requests
from test_views_sandbox import fetch_raw

import views
from sandbox import Sandbox


def nomad(sb, path):
    r = requests.get(sb.nomad_addr + path, timeout=10)
    r.raise_for_status()
    return r.json()


def checks_of(sb, alloc_id):
    r = requests.get(f"{sb.consul_addr}/v1/health/state/any", timeout=10)
    r.raise_for_status()
    return [c for c in r.json() if alloc_id in c["ServiceID"]]


def restart(sb, alloc_id, body=None):
    r = requests.post(f"{sb.nomad_addr}/v1/client/allocation/{alloc_id}/restart", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r


def consul_alloc(sb, role="api"):
    """A running allocation of a healthy client whose service has a Consul check."""
    for a in nomad(sb, "/v1/allocations?namespace=*"):
        rec = sb.world.allocs[a["ID"]]
        healthy = a["ClientStatus"] == "running" and not rec.job.client.scenario
        if healthy and rec.job.role.name == role and checks_of(sb, a["ID"]):
            return a
    raise AssertionError("the seeded sandbox has a healthy client with an api service")


def test_a_restart_plays_out_over_seconds_and_the_check_recovers(fresh_sandbox):
    """client/allocrunner/taskrunner/service_hook.go: PreKilling and Exited deregister the task's
    services, Poststart registers them again; a new check is critical until it first passes."""
    sb = fresh_sandbox
    a = consul_alloc(sb)
    task = next(iter(a["TaskStates"]))
    restarts_before = a["TaskStates"][task]["Restarts"]
    restart(sb, a["ID"], {"TaskName": task})

    now = nomad(sb, f"/v1/allocation/{a['ID']}")["TaskStates"][task]
    signal = now["Events"][-1]
    assert signal["Type"] == "Restart Signaled" and signal["RestartReason"] == "User requested task to restart"
    assert now["State"] == "running" and now["Restarts"] == restarts_before  # nothing has exited yet

    sb.clock.advance(2.6)  # the task exits on its kill signal; the restart tracker restarts it at once
    mid = nomad(sb, f"/v1/allocation/{a['ID']}")["TaskStates"][task]
    assert [e["Type"] for e in mid["Events"][-3:]] == ["Restart Signaled", "Terminated", "Restarting"]
    assert mid["Events"][-1]["StartDelay"] == 0
    assert mid["State"] == "pending" and mid["Restarts"] == restarts_before + 1 and mid["LastRestart"]
    assert checks_of(sb, a["ID"]) == []  # out of the catalogue while it is down

    sb.clock.advance(3.5)
    up = nomad(sb, f"/v1/allocation/{a['ID']}")["TaskStates"][task]
    assert up["Events"][-1]["Type"] == "Started" and up["State"] == "running"
    assert {c["Status"] for c in checks_of(sb, a["ID"])} == {"critical"}  # registered again, not yet checked
    times = [e["Time"] for e in up["Events"][-4:]]
    assert times == sorted(times) and 1e9 < times[-1] - times[0] < 6e9  # over a few seconds, in order

    sb.clock.advance(15)
    assert {c["Status"] for c in checks_of(sb, a["ID"])} == {"passing"}


def test_restarting_a_crash_looping_task_does_not_fix_it(fresh_sandbox):
    sb = fresh_sandbox
    looping = [a for a in sb.world.alloc_list if a.crash and not a.terminal]
    assert looping, "seed 7 seeds a crash loop"
    alloc_id = looping[0].id
    sb.clock.advance(60)  # let it reach a running moment between crashes
    task = looping[0].tasks[0].name
    for _ in range(30):
        if nomad(sb, f"/v1/allocation/{alloc_id}")["TaskStates"][task]["State"] == "running":
            break
        sb.clock.advance(2)
    restart(sb, alloc_id, {"TaskName": task})
    seen = len(nomad(sb, f"/v1/allocation/{alloc_id}")["TaskStates"][task]["Events"])
    sb.clock.advance(90)

    events = nomad(sb, f"/v1/allocation/{alloc_id}")["TaskStates"][task]["Events"][seen - 1 :]
    kinds = [e["Type"] for e in events]
    assert kinds[:4] == ["Restart Signaled", "Terminated", "Restarting", "Started"]
    crashed = [e for e in events[4:] if e["Type"] == "Terminated"]
    assert crashed and crashed[0]["ExitCode"] == 1 and "connection refused" in crashed[0]["Details"]["exit_message"]
    assert "Restart within policy" in [e["RestartReason"] for e in events[4:]]
    assert {c["Status"] for c in checks_of(sb, alloc_id)} == {"critical"}


def test_half_an_hour_of_the_demo_shows_the_seeded_trouble_and_little_else():
    """Issue 8 item 6 / issue 9 item 10: a real fleet is mostly healthy with a few clear problems."""
    with Sandbox(clients=40, seed=7, frozen=True, start_time=1_700_000_000) as sb:
        for _ in range(900):  # 30 simulated minutes, in the live ticker's 2 s steps
            sb.clock.advance(2)
        raw = fetch_raw(sb.nomad_addr, sb.consul_addr)
        now = pd.Timestamp(sb.clock.now_ns(), unit="ns", tz="UTC")
        clients = views.build_frames(raw, cluster="sandbox", identity="namespace", now=now).clients
        seeded = {c.slug for c in sb.world.clients if c.scenario}
        residency = [c for c in sb.world.clients if set(c.datacenters) - set(c.allowed_datacenters)]

    trouble = clients[clients.status.isin(["down", "degraded"])]
    assert set(trouble.client) >= seeded, "every seeded problem is still there"
    assert (clients.status == "down").sum() == 1  # the one full outage
    assert len(set(trouble.client) - seeded) <= 3, trouble[~trouble.client.isin(seeded)][["client", "reason"]]
    assert (clients.status == "healthy").sum() >= 40 - len(seeded) - 3
    assert len(residency) == 1  # and the one client running where it may not


def test_churn_is_served_and_each_change_is_visible_at_its_index():
    """Issue 13 item 3: a benchmark learns when each change was applied and at which index."""
    with Sandbox(clients=8, seed=7, frozen=True, churn=10, start_time=1_700_000_000) as sb:
        for _ in range(30):  # three simulated seconds
            sb.clock.advance(0.1)
        r = requests.get(f"{sb.nomad_addr}/_sandbox/churn", timeout=10)
        r.raise_for_status()
        churn = r.json()
        assert churn["rate"] == 10 and 25 <= churn["applied"] <= 30
        assert churn == sb.churn()
        later = requests.get(f"{sb.nomad_addr}/_sandbox/churn", params={"since": churn["changes"][-1][0]}, timeout=10)
        assert later.json()["changes"] == []
        allocs = {a["ID"]: a for a in nomad(sb, "/v1/allocations?namespace=*")}
        checks = requests.get(f"{sb.consul_addr}/v1/health/state/any", timeout=10)
        check_index = {c["ServiceID"]: c["ModifyIndex"] for c in checks.json()}
        for _, alloc_id, at in churn["changes"]:
            # an allocation change shows in the allocation's ModifyIndex, a flap in its check's
            seen = [allocs[alloc_id]["ModifyIndex"]] + [i for sid, i in check_index.items() if alloc_id in sid]
            assert max(seen) >= at


def test_weeks_of_deployment_history_are_served(sandbox):
    """Issue 11 item 4: /v1/deployments and the job versions carry weeks of history on a fresh start."""
    deployments = nomad(sandbox, "/v1/deployments?namespace=*")
    created = [d["CreateTime"] for d in deployments]
    assert (max(created) - min(created)) / 1e9 / 86400 > 35
    descriptions = {d["StatusDescription"] for d in deployments}
    assert any("- rolling back to job version" in x for x in descriptions)
    assert {"Deployment completed successfully", "Deployment marked as failed"} <= descriptions
    assert all(d["ModifyTime"] >= d["CreateTime"] for d in deployments)
    versions = nomad(sandbox, "/v1/job/northern-leaf-web/versions?namespace=northern-leaf")["Versions"]
    assert len(versions) >= 4


def test_auto_revert_in_a_deployment_says_whether_its_group_reverts(sandbox):
    """DeploymentState.AutoRevert (nomad/structs/deployment.go) is copied from the group's update
    block: a deployment failed by hand or left failed was not set to revert; one that rolled back was."""
    deployments = nomad(sandbox, "/v1/deployments?namespace=*")

    def reverts(d):
        return {g["AutoRevert"] for g in d["TaskGroups"].values()}

    rolled_back = [d for d in deployments if "- rolling back to job version" in d["StatusDescription"]]
    by_hand = [d for d in deployments if d["StatusDescription"] == "Deployment marked as failed"]
    assert rolled_back and by_hand
    assert all(reverts(d) == {True} for d in rolled_back)
    assert all(reverts(d) == {False} for d in by_hand)
