"""Deployment history upserts: idempotent, order-independent, safe from several processes.

Every test runs on a SQLite file and on a real PostgreSQL (the ``store_url`` fixture).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import store
from store import db
from store import deployments as dh

ROOT = Path(__file__).resolve().parents[2]
NS = 10**9

# One deployment's life as Nomad reports it: (ModifyIndex, Status, StatusDescription, healthy)
LIFE = [
    (10, "running", "Deployment is running", 0),
    (12, "running", "Deployment is running", 1),
    (15, "running", "Deployment is running", 2),
    (19, "successful", "Deployment completed successfully", 3),
]
FAILING = [
    (11, "running", "Deployment is running", 0),
    (14, "failed", "Failed due to unhealthy allocations - rolling back to job version 1", 0),
]


def obs(dep_id, index, status, desc, healthy, *, app="", client="acme"):
    return {
        "cluster": "prod",
        "deployment_id": dep_id,
        "client": client,
        "namespace": client,
        "job_id": f"{client}-web",
        "job_type": "service",
        "datacenters": "ca-tor-1",
        "job_version": 2,
        "app_version": app,
        "status": status,
        "status_description": desc,
        "create_ns": 1_700_000_000 * NS,
        "modify_ns": (1_700_000_000 + index * 10) * NS,
        "duration_s": index * 10.0 if status in ("successful", "failed") else None,
        "desired": 3,
        "placed": 3,
        "healthy": healthy,
        "unhealthy": 3 if status == "failed" else 0,
        "canaries": 0,
        "auto_revert": True,
        "groups": {"web": {"desired": 3, "healthy": healthy}},
        "modify_index": index,
    }


def observations(n_deployments=6):
    out = []
    for k in range(n_deployments):
        life = LIFE if k % 3 else FAILING
        out += [obs(f"dep-{k:02d}", *step) for step in life]
    return out


def expected_final(n_deployments=6):
    return {
        f"dep-{k:02d}": ((LIFE if k % 3 else FAILING)[-1][1], (LIFE if k % 3 else FAILING)[-1][0])
        for k in range(n_deployments)
    }


def stored(url):
    return {r["deployment_id"]: (r["status"], r["modify_index"]) for r in dh.read(db.engine_for(url))}


def test_the_same_deployments_in_any_order_many_times_give_one_row_each_with_the_latest_status(migrated_url):
    engine = db.engine_for(migrated_url)
    rng = random.Random(3)
    seen = observations() * 3
    for _ in range(5):
        rng.shuffle(seen)
        # one observation at a time, and in batches holding several versions of one deployment
        for o in seen[:10]:
            dh.upsert(engine, [o])
        dh.upsert(engine, seen[10:])
    assert stored(migrated_url) == expected_final()
    rows = {r["deployment_id"]: r for r in dh.read(engine)}
    assert len(rows) == 6
    failed = rows["dep-00"]
    assert failed["status_description"].endswith("rolling back to job version 1")
    assert failed["unhealthy"] == 3 and failed["duration_s"] == 140.0 and failed["auto_revert"] is True
    assert rows["dep-01"]["groups"] == {"web": {"desired": 3, "healthy": 3}}


def test_an_older_observation_never_takes_the_status_back_but_may_add_the_app_version(migrated_url):
    engine = db.engine_for(migrated_url)
    dh.upsert(engine, [obs("d1", 19, "successful", "Deployment completed successfully", 3)])
    dh.upsert(engine, [obs("d1", 12, "running", "Deployment is running", 1, app="2.4.1")])
    (row,) = dh.read(engine)
    assert (row["status"], row["modify_index"], row["healthy"], row["app_version"]) == ("successful", 19, 3, "2.4.1")
    # a known app version is not replaced by a later, different guess
    dh.upsert(engine, [obs("d1", 25, "successful", "Deployment completed successfully", 3, app="")])
    (row,) = dh.read(engine)
    assert (row["modify_index"], row["app_version"]) == (25, "2.4.1")
    assert dh.missing_app_versions(engine, cluster="prod") == []
    assert dh.known(engine, cluster="prod") == {"d1": (25, True)}


WRITER = """
import json, random, sys
from store import db, deployments as dh
url, seed, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = json.load(open(path))
rng = random.Random(seed)
engine = db.engine_for(url)
for _ in range(4):
    rng.shuffle(seen)
    for start in range(0, len(seen), 7):
        dh.upsert(engine, seen[start:start + 7])
print("ok")
"""


def test_two_processes_writing_the_same_deployments_in_different_orders_agree(migrated_url, tmp_path):
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(observations(12)))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, migrated_url, str(seed), str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in (1, 2)
    ]
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1].decode()[-2000:] for r in results]
    assert stored(migrated_url) == expected_final(12)


def test_read_filters_by_cluster_and_time(migrated_url):
    engine = db.engine_for(migrated_url)
    a = obs("a", 19, "successful", "Deployment completed successfully", 3)
    b = {**obs("b", 19, "failed", "Failed due to progress deadline", 0), "create_ns": a["create_ns"] + 3600 * NS}
    c = {**a, "cluster": "staging"}
    dh.upsert(engine, [a, b, c])
    assert [r["deployment_id"] for r in dh.read(engine, cluster="prod")] == ["a", "b"]
    assert [r["deployment_id"] for r in dh.read(engine, cluster="prod", since_ns=a["create_ns"] + 1)] == ["b"]
    assert [r["deployment_id"] for r in dh.read(engine, until_ns=a["create_ns"] + 1)] == ["a", "a"]
    store.migrate(migrated_url)  # idempotent with revision 0002 in place


def test_the_stamp_moves_with_every_write_a_page_must_show_and_only_then(migrated_url):
    """The Deployments page redraws when ``stamp`` moves: a new row, a newer status and an app version
    learnt later must each move it; an older observation (ignored by upsert) and another cluster's
    rows must not."""
    engine = db.engine_for(migrated_url)
    empty = dh.stamp(engine, clusters=["prod"])
    dh.upsert(engine, [obs("d1", 12, "running", "Deployment is running", 1)])
    first = dh.stamp(engine, clusters=["prod"])
    dh.upsert(engine, [obs("d1", 19, "successful", "Deployment completed successfully", 3)])
    newer = dh.stamp(engine, clusters=["prod"])
    dh.upsert(engine, [obs("d1", 15, "running", "Deployment is running", 2, app="2.4.1")])
    learnt = dh.stamp(engine, clusters=["prod"])
    assert len({empty, first, newer, learnt}) == 4
    dh.upsert(engine, [obs("d1", 12, "running", "Deployment is running", 1)])  # old news: ignored
    dh.upsert(engine, [{**obs("d2", 30, "failed", "Failed due to progress deadline", 0), "cluster": "staging"}])
    assert dh.stamp(engine, clusters=["prod"]) == learnt
    assert dh.stamp(engine) != learnt  # every cluster: staging's row counts
