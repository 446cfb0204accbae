"""Rolling restart: server-side, one allocation at a time, one per group across instances, cancellable,
and never silently lost when its process dies (shown as interrupted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from action_helpers import make_env, make_person, person, pick, restarts, sqlite_url, target_of, world  # noqa: F401  (fixtures)

from actions import GROUP_ROLLING_RESTART, ROLLING_CANCEL, perform
from actions.rolling import status, sweep
from config import ActionSettings
from store.rolling import RollingStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ticking(world):
    """Simulated time moves on (1 s every 20 ms of real time) while a test waits for the worker."""
    stop = threading.Event()

    def tick():
        while not stop.wait(0.02):
            world.clock.advance(1)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


def group_allocs(env, alloc):
    return sorted(
        a["ID"]
        for a in env.nomad.job_allocations(alloc["JobID"], namespace=alloc["Namespace"])
        if a["TaskGroup"] == alloc["TaskGroup"] and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    )


def total_restarts(env, alloc_id):
    return sum(s["Restarts"] for s in env.nomad.get_allocation(alloc_id)["TaskStates"].values())


def test_rolling_restart_restarts_each_allocation_in_turn_and_records_it(make_env, pick, ticking):
    env = make_env()
    alloc = pick("pair")[0]
    ids = group_allocs(env, alloc)
    before = {i: total_restarts(env, i) for i in ids}
    outcome = perform(make_person("support"), GROUP_ROLLING_RESTART, target_of(alloc), "new config", env=env)
    assert outcome.status == "started" and "2 allocations" in outcome.message
    assert env.get_runner().wait(outcome.request_id, 60)
    row = RollingStore(env.audit).get(outcome.request_id)
    assert row["status"] == "succeeded" and row["done"] == 2, row["message"]  # why, should it ever stop
    assert [s["status"] for s in row["steps"]] == ["healthy", "healthy"]
    # The run restarts the group's allocations as they are when it starts: with simulated time
    # moving, the demo's rollout may have replaced the picked ones meanwhile (those start at 0).
    restarted = [s["allocation"] for s in row["steps"]]
    assert sorted(restarted) == group_allocs(env, alloc)
    assert all(total_restarts(env, i) > before.get(i, 0) for i in restarted)
    assert [r["event"] for r in env.audit.events(request_id=outcome.request_id)] == ["requested", "succeeded"]
    assert env.audit.verify().ok


def test_one_rolling_restart_per_group_and_cancel(make_env, pick, ticking):
    healthy = threading.Event()  # the checks stay failing until the test says so: the first run waits
    env = make_env(checks=lambda alloc_id: healthy.is_set())
    alloc = pick("pair")[0]
    first = perform(make_person("support"), GROUP_ROLLING_RESTART, target_of(alloc), "first", env=env)
    assert first.status == "started"
    second = perform(make_person("support", "colleague"), GROUP_ROLLING_RESTART, target_of(alloc), "again", env=env)
    assert second.status == "denied" and second.guard == "lease" and "already running" in second.message
    progress = status(env, namespace=alloc["Namespace"], job=alloc["JobID"])
    assert progress[0]["status"] == "running" and progress[0]["request_id"] == first.request_id
    cancelled = perform(make_person("support", "colleague"), ROLLING_CANCEL, target_of(alloc), "wrong group", env=env)
    assert cancelled.ok, cancelled.message
    assert env.get_runner().wait(first.request_id, 30)
    row = RollingStore(env.audit).get(first.request_id)
    assert row["status"] == "cancelled" and "Cancelled" in row["message"]
    assert row["steps"][1]["status"] == "pending"  # the second allocation was never touched
    events = [r["event"] for r in env.audit.events(request_id=first.request_id)]
    assert events == ["requested", "cancelled"]
    third = perform(make_person("support"), GROUP_ROLLING_RESTART, target_of(alloc), "now", env=env)
    assert third.status == "started"  # the lease was released
    healthy.set()
    assert env.get_runner().wait(third.request_id, 60)


def test_rolling_restart_stops_at_the_first_allocation_that_is_not_healthy_in_time(make_env, pick, ticking):
    env = make_env(
        checks=lambda alloc_id: False, settings=ActionSettings(rate_limit=100, rolling_health_timeout_seconds=0.5)
    )
    alloc = pick("pair")[0]
    ids = group_allocs(env, alloc)
    outcome = perform(make_person("support"), GROUP_ROLLING_RESTART, target_of(alloc), "try", env=env)
    assert env.get_runner().wait(outcome.request_id, 30)
    row = RollingStore(env.audit).get(outcome.request_id)
    assert row["status"] == "failed"
    assert f"Stopped at allocation {row['steps'][0]['allocation'][:8]} (1 of 2)" in row["message"]
    assert row["steps"][1]["status"] == "pending"
    second = row["steps"][1]["allocation"]
    assert second in ids
    failed = env.audit.events(request_id=outcome.request_id)[-1]
    assert failed["event"] == "failed" and "Stopped at" in json.loads(failed["detail"])["message"]


def test_a_run_whose_process_died_is_shown_interrupted(make_env, pick, sqlite_url, ticking):
    """A worker process is killed mid-run; another process sees the run as interrupted, in the audit too."""
    env = make_env(lease_seconds=1)
    alloc = pick("pair")[0]
    code = (
        "import sys, time\n"
        "from action_helpers import make_person, nomad_for, target_of\n"
        "from actions import Environment, GROUP_ROLLING_RESTART, perform\n"
        "from config import ActionSettings\n"
        "from connectors import NomadConnector\n"
        "from connectors.settings import load\n"
        "from store.audit import AuditStore\n"
        "import json\n"
        "alloc = json.loads(sys.argv[3])\n"
        "nomad = NomadConnector(load({'NOMAD_ADDR': sys.argv[2]}).nomad)\n"
        "env = Environment(audit=AuditStore(sys.argv[1]), nomad=nomad, settings=ActionSettings(rolling_health_timeout_seconds=600),\n"
        "                  poll_seconds=0.05, lease_seconds=1, checks=lambda a: False)\n"
        "o = perform(make_person('support'), GROUP_ROLLING_RESTART, target_of(alloc), 'dies', env=env)\n"
        "print(o.status, o.request_id, flush=True)\n"
        "time.sleep(600)\n"
    )
    env_vars = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests' / 'actions'}")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, sqlite_url, env.nomad.settings.addr, json.dumps(alloc)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env=env_vars,
        text=True,
    )
    try:
        started, request_id = proc.stdout.readline().split()
        assert started == "started"
        row = RollingStore(env.audit).get(request_id)
        assert row["status"] == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    deadline = time.monotonic() + 30
    while not sweep(env) and time.monotonic() < deadline:
        time.sleep(0.2)
    row = RollingStore(env.audit).get(request_id)
    assert row["status"] == "interrupted" and "Interrupted" in row["message"]
    assert [r["event"] for r in env.audit.events(request_id=request_id)] == ["requested", "interrupted"]
    again = perform(make_person("support"), GROUP_ROLLING_RESTART, target_of(alloc), "resume", env=env)
    assert again.status == "started"  # the dead process's lease ran out
    assert env.get_runner().wait(again.request_id, 60)
