"""Across processes: two dashboard processes restarting the same allocation give exactly one restart;
a process that dies between ``requested`` and the Nomad call leaves a ``requested`` the audit page flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from action_helpers import make_env, make_person, person, pick, restarts, sqlite_url, target_of, world  # noqa: F401  (fixtures)

from actions import ALLOC_RESTART, perform
from actions.records import audit_view

ROOT = Path(__file__).resolve().parents[2]
PERFORM = """
import json, os, sys, time
from action_helpers import make_person, target_of
from action_helpers import make_env, person, pick, restarts, sqlite_url, world  # noqa: F401  (fixtures)
from actions import ALLOC_RESTART, Environment, perform
from config import ActionSettings
from connectors import NomadConnector
from connectors.settings import load
from store.audit import AuditStore

url, addr, alloc, mode = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]


class DiesBeforeNomad(NomadConnector):
    def restart_allocation(self, *args, **kwargs):
        os._exit(3)  # the process is killed after 'requested' was committed, before Nomad is asked


cls = DiesBeforeNomad if mode == "die" else NomadConnector
env = Environment(audit=AuditStore(url), nomad=cls(load({"NOMAD_ADDR": addr}).nomad), settings=ActionSettings())
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # both processes go at once
o = perform(make_person("support", sys.argv[5]), ALLOC_RESTART, target_of(alloc), "from a process", env=env)
print(json.dumps({"status": o.status, "message": o.message}))
"""


def spawn(url, addr, alloc, mode, who):
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests' / 'actions'}")
    proc = subprocess.Popen(
        [sys.executable, "-c", PERFORM, url, addr, json.dumps(alloc), mode, who],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def test_two_processes_restart_the_same_allocation_exactly_once(migrated_url, world, make_env, pick, restarts):
    env = make_env(migrated_url)
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    procs = [spawn(migrated_url, world.nomad_addr, alloc, "run", who) for who in ("ann", "raj")]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["status"] for r in results) == ["denied", "succeeded"]
    assert all(v == before[k] + 1 for k, v in restarts(alloc["ID"]).items())
    assert [r["event"] for r in env.audit.events()].count("succeeded") == 1
    assert env.audit.verify().ok


def test_a_crash_between_requested_and_nomad_leaves_a_flagged_request(sqlite_url, world, make_env, pick, restarts):
    env = make_env(sqlite_url)
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    proc = spawn(sqlite_url, world.nomad_addr, alloc, "die", "ann")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    proc.communicate(timeout=120)
    assert proc.returncode == 3
    assert restarts(alloc["ID"]) == before
    rows = env.audit.events()
    assert [r["event"] for r in rows] == ["requested"]
    view = audit_view(make_person("admin"), env=env)
    flagged = [r for r in view.rows if r["request_id"] == rows[0]["request_id"]]
    assert flagged and flagged[0]["outcome"] == "outcome unknown: check Nomad"
    # The allocation stays in its cooldown: nobody knows whether the restart happened.
    again = perform(make_person("support", "raj"), ALLOC_RESTART, target_of(alloc), "retry", env=env)
    assert again.status == "denied" and again.guard == "cooldown"
