"""Sandbox data generation and small parsers, without HTTP."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import urllib.request

import pytest

from sandbox import Sandbox
from sandbox.clock import NS, SimClock
from sandbox.filters import compile_filter
from sandbox.http import HTTPError, parse_wait
from sandbox.world import DAY, HOUR, World


def test_same_seed_same_world_and_conventions():
    a, b = World(40, 7, clock=SimClock(1_700_000_000)), World(40, 7, clock=SimClock(1_700_000_000))
    assert a.describe() == b.describe()
    assert [x.id for x in a.alloc_list] == [x.id for x in b.alloc_list]
    assert a.clients[0].slug == "northern-leaf" and a.clients[0].scenario is None
    assert 0.15 <= len(a.describe()["unhealthy"]) / 40 <= 0.25
    assert {"northern-leaf-web", "northern-leaf-api", "northern-leaf-worker", "northern-leaf-reports"} <= {
        j.id for j in a.jobs.values()
    }
    assert {s.name for s in a.consul_services} == {"web", "api"}  # names do not grow with clients
    assert any("us-east-1" in c.datacenters for c in a.clients)


def test_frozen_world_moves_only_when_told():
    # A ticker every millisecond would move an unfrozen sandbox many times during these reads.
    with Sandbox(clients=8, frozen=True, tick_seconds=0.001, start_time=1_700_000_000) as sb:
        w = sb.world
        deployments = len(w.deployments)
        still = w.digest()
        for _ in range(5):
            with urllib.request.urlopen(f"{sb.nomad_addr}/v1/deployments?namespace=*", timeout=10) as r:
                assert r.status == 200
        assert sb.clock.now() == 1_700_000_000 and w.digest() == still
        before = w.index
        w.clock.advance(75 * 60)  # the rollout under way at start reaches the remaining clients
        assert w.index > before and w.digest() != still
        assert len(w.deployments) > deployments
        assert not [d for d in w.deployments.values() if d.status == "running"]


def _describe_in_process(hash_seed: str) -> dict:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "describe", "--clients", "40", "--seed", "7", "--advance", "1800"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_same_seed_same_world_whatever_the_hash_seed():
    """Issue 9 item 19: str hashes change with PYTHONHASHSEED; the world must not depend on them."""
    fresh = World(40, 7, clock=SimClock(1_700_000_000)).describe()
    a, b = _describe_in_process("1"), _describe_in_process("2")
    # The half hour of simulated time started new deployments (new job versions), so the check covers them.
    assert a["deployments"] > fresh["deployments"]
    assert a == b


def test_parse_wait_and_filters():
    assert parse_wait("30s") == 30 and parse_wait("5m") == 300 and parse_wait("1h") == 600
    assert parse_wait(None) == 300
    with pytest.raises(HTTPError):
        parse_wait("soon")
    f = compile_filter('Meta.client == "a" and Status != "dead"')
    assert f({"Meta": {"client": "a"}, "Status": "running"}) and not f({"Meta": {"client": "b"}})
    with pytest.raises(HTTPError):
        compile_filter("Status ==")  # a parse error (matches is part of go-bexpr)


# Nomad's deployment status descriptions (nomad/structs/deployment.go, DeploymentStatusDescription*).
NOMAD_DESCRIPTIONS = {
    "Deployment is running",
    "Deployment completed successfully",
    "Cancelled because job is stopped",
    "Cancelled due to newer version of job",
    "Failed due to unhealthy allocations",
    "Failed due to progress deadline",
    "Deployment marked as failed",
}
ROLLBACK = re.compile(
    r"^(Failed due to unhealthy allocations|Failed due to progress deadline) - rolling back to job version (\d+)$"
)


def test_deployments_carry_nomads_descriptions_and_real_times():
    w = World(40, 7, clock=SimClock(1_700_000_000))
    now = w.clock.now_ns()
    seen = set()
    for d in w.deployments.values():
        assert 0 < d.create_ns <= d.modify_ns <= now, d.id
        m = ROLLBACK.match(d.description)
        if m:
            seen.add("rollback: " + m.group(1))
            target = d.job.versions[int(m.group(2))]
            assert d.status == "failed" and target.stable and target.number < d.version
            # the rollback is the next version, with the stable version's contents, and it went well
            after = next(x for x in d.job.deployments if x.version == d.version + 1)
            assert d.job.versions[after.version].app_version == target.app_version and after.status == "successful"
        else:
            assert d.description in NOMAD_DESCRIPTIONS, d.description
            seen.add(d.description)
        if d.status == "successful":
            assert d.modify_ns > d.create_ns and d.healthy == d.desired
    assert seen >= NOMAD_DESCRIPTIONS - {"Failed due to unhealthy allocations"} | {
        "rollback: Failed due to progress deadline",
        "rollback: Failed due to unhealthy allocations",
    }


def test_a_deployment_started_by_the_clock_gets_its_times_as_it_goes():
    w = World(8, 7, clock=SimClock(1_700_000_000))
    job = next(j for j in w.job_list if j.role.type == "service" and not j.client.scenario)
    with w.lock:
        d = w._start_deployment(w.clock.now_ns(), job, random.Random(1))
    assert d.status == "running" and d.create_ns == d.modify_ns == w.clock.now_ns()
    w.clock.advance(120)
    assert d.status == "successful" and d.description == "Deployment completed successfully"
    assert d.create_ns < d.modify_ns <= w.clock.now_ns()
    assert job.versions[d.version].stable


def test_six_weeks_of_fleet_rollouts():
    """Issue 11 item 4: each role's releases reach every client within two hours, for weeks back."""
    w = World(40, 7, clock=SimClock(1_700_000_000))
    now = w.clock.now_ns()
    deps = list(w.deployments.values())
    assert now - min(d.create_ns for d in deps) > 5 * 7 * DAY
    for role in ("web", "api", "worker"):
        by_app: dict[str, list] = {}
        for d in deps:
            if d.job.role.name == role and d.job.versions[d.version].submit_ns > now - 42 * DAY:
                by_app.setdefault(d.job.versions[d.version].app_version, []).append(d)
        rollouts = [
            ds for ds in by_app.values() if len({d.job.client.slug for d in ds}) >= 38
        ]  # a fleet rollout: (nearly) every client got it
        assert len(rollouts) >= 3, role
        for ds in rollouts:
            firsts = sorted(min(x.create_ns for x in ds if x.job is j) for j in {d.job for d in ds})
            assert firsts[-1] - firsts[0] <= 2 * HOUR + 60 * NS
    failed = [d for d in deps if d.status == "failed"]
    assert 0.02 * len(deps) <= len(failed) <= 0.15 * len(deps)
    jobs_with_history = [j for j in w.job_list if len(j.deployments) >= 4]
    assert len(jobs_with_history) >= 100
    # the same seed gives the same history
    assert World(40, 7, clock=SimClock(1_700_000_000)).digest() == w.digest()


def test_churn_is_deterministic_and_about_the_rate_asked():
    """Issue 13 item 3: ~R changes per simulated second, the same ones for a seed, each logged."""
    runs = []
    for _ in range(2):
        w = World(40, 7, clock=SimClock(1_700_000_000), churn=20)
        for _ in range(50):  # five simulated seconds in 0.1 s ticks
            w.clock.advance(0.1)
        runs.append(w)
    a, b = runs
    assert 90 <= a.churn_applied <= 100
    assert [e[1:] for e in a.churn_log] == [e[1:] for e in b.churn_log]
    assert a.digest() == b.digest()
    state = a.churn_state()
    assert state["rate"] == 20 and state["applied"] == a.churn_applied == len(state["changes"])
    assert all(alloc_id in a.allocs for _, alloc_id, _ in state["changes"][-10:])
    indexes = [idx for _, _, idx in state["changes"]]
    assert indexes == sorted(indexes) and indexes[-1] <= a.index
    quiet = World(40, 7, clock=SimClock(1_700_000_000))
    for _ in range(50):
        quiet.clock.advance(0.1)
    assert quiet.churn_applied == 0 and not quiet.churn_state()["changes"]


def test_the_demo_opens_in_the_middle_of_a_fleet_rollout():
    """Issue 11: "how far is the current rollout?" has an answer on the first `make run`."""
    w = World(40, 7, clock=SimClock(1_700_000_000))
    role, (started, app) = next((r, p.live) for r, p in w.plans.items() if p.live)
    assert w.clock.now_ns() - started == 50 * 60 * NS
    jobs = [j for j in w.job_list if j.role.name == role and not j.client.scenario]

    def on_new() -> int:
        return sum(j.version.app_version == app and j.deployments[-1].status == "successful" for j in jobs)

    assert 0 < on_new() < len(jobs)
    w.clock.advance(75 * 60)
    assert on_new() == len(jobs)
    assert all(j.version.app_version != app for j in w.job_list if j.role.name == role and j.client.scenario)


def test_filter_fast_path_sees_the_values_a_full_allocation_has():
    """A filter on plain fields is evaluated over alloc_plain instead of the full render: it must
    name exactly the fields it gives and give them the full Allocation's values (a zero the
    full render leaves out reads as zero to go-bexpr too)."""
    from sandbox.nomad_shapes import ALLOC_PLAIN_FIELDS, alloc_full, alloc_plain

    w = World(40, 7, clock=SimClock(1_700_000_000))
    for a in w.alloc_list[:: max(1, len(w.alloc_list) // 25)]:
        plain, full = alloc_plain(a), alloc_full(w, a)
        assert set(plain) == ALLOC_PLAIN_FIELDS
        assert {k: v for k, v in plain.items() if v not in ("", 0, None)} == {
            k: full[k] for k in ALLOC_PLAIN_FIELDS if k in full
        }


def test_tracked_versions_follow_nomads_gc_rule():
    """nomad/state/state_store.go upsertJobVersion: beyond six, the oldest goes, unless it is the
    newest stable version, which then stays in place of the next older one."""
    from sandbox.world.records import Version, tracked_versions

    def numbers(stable):
        vs = [Version(n, 0, "1.0", n in stable, n) for n in range(10)]
        return [v.number for v in tracked_versions(vs)]

    assert numbers({0, 9}) == [9, 8, 7, 6, 5, 4]
    assert numbers({2}) == [9, 8, 7, 6, 5, 2]  # the only stable version survives
    assert numbers(set()) == [9, 8, 7, 6, 5, 4]
