"""Versions and residency from the sandbox's real HTTP answers (fetched with requests, as the connectors do).

Each expectation is read straight from the raw JSON (Consul catalog entries, job stubs, full jobs,
nodes), not from our frames, so a wrong join between allocations, services and jobs shows.
"""

from __future__ import annotations

import pytest
import requests

import config
import views
from tests.contract.test_views_sandbox import fetch_raw
from views import residency, versions


@pytest.fixture(scope="module")
def raw(sandbox):
    return fetch_raw(sandbox.nomad_addr, sandbox.consul_addr)


@pytest.fixture(scope="module")
def frames(raw):
    return views.build_frames(raw, cluster="sandbox", identity="namespace")


def _running(raw):
    return [a for a in raw["allocations"] if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"]


def test_consul_registered_allocations_read_their_own_instance_meta_version(raw, frames):
    by_alloc = {}
    for entries in raw["consul_services"].values():
        for e in entries:
            aid = (e.get("ServiceMeta") or {}).get("alloc_id")
            if aid:
                by_alloc[(aid, e["ServiceName"])] = e["ServiceMeta"]["version"]
    inst = versions.build_instances(frames)
    got = {
        (a, s): v
        for a, s, v, src in zip(inst["alloc_id"], inst["service"], inst["version"], inst["source"])
        if src == "consul_meta"
    }
    running = {a["ID"] for a in _running(raw)}
    expected = {k: v for k, v in by_alloc.items() if k[0] in running}
    assert got == expected and len(expected) > 50


def test_allocations_without_consul_services_fall_back_to_their_jobs_meta(raw, frames):
    meta = {(j["Namespace"], j["ID"]): (j.get("Meta") or {}).get("version", "") for j in raw["jobs"]}
    inst = versions.build_instances(frames)
    by_meta = inst[inst["source"] == "job_meta"]
    assert len(by_meta) > 10
    for ns, jid, v in zip(by_meta["namespace"], by_meta["job_id"], by_meta["version"]):
        assert v == meta[(ns, jid)]
    assert (inst["version"] != "").all()  # the sandbox gives every running allocation a version


def test_image_tags_from_full_jobs(sandbox, raw, frames):
    s = requests.Session()
    wanted = sorted({(a["Namespace"], a["JobID"]) for a in _running(raw)})[:12]
    specs = {
        (ns, jid): s.get(f"{sandbox.nomad_addr}/v1/job/{jid}", params={"namespace": ns}, timeout=15).json()
        for ns, jid in wanted
    }
    inst = versions.build_instances(frames, sources=["image"], job_specs=specs)
    mine = inst[[(ns, j) in specs for ns, j in zip(inst["namespace"], inst["job_id"])]]
    assert len(mine) >= 12
    for ns, jid, group, v, src in zip(
        mine["namespace"], mine["job_id"], mine["task_group"], mine["version"], mine["source"]
    ):
        spec = specs[(ns, jid)]
        tg = next(g for g in spec["TaskGroups"] if g["Name"] == group)
        image = tg["Tasks"][0]["Config"]["image"]
        assert v == image.rsplit(":", 1)[1] and src == "image"


def test_the_fleet_matrix_covers_every_client_with_running_work(raw, frames):
    m = versions.build_matrix(versions.build_instances(frames))
    clients = {a["Namespace"] for a in _running(raw)}
    assert set(m["client"]) == clients
    assert set(m["cluster"]) == {"sandbox"}
    counts = versions.build_counts(versions.build_instances(frames))
    for svc, g in m.groupby("service"):
        top = g["newest"].iloc[0]
        assert top == versions.newest_of([v for vs in g["versions"] for v in vs])
        assert counts[(counts["service"] == svc) & (counts["version"] == top)]["clients"].iloc[0] >= 1


def test_the_shipped_policy_finds_exactly_the_placements_in_forbidden_datacenters(raw, frames):
    policy = config.load().residency_policy
    dc_of = {n["ID"]: n["Datacenter"] for n in raw["nodes"]}
    expected = {
        a["ID"]
        for a in raw["allocations"]
        if a["ClientStatus"] in ("running", "pending")
        and a["DesiredStatus"] == "run"
        and a.get("NodeID")
        and dc_of.get(a["NodeID"]) not in policy.for_client(a["Namespace"]).datacenters
    }
    v = residency.violations(frames, policy)
    assert set(v[v["kind"] == "allocation"]["alloc_id"]) == expected and expected
    assert set(v["verdict"]) == {"forbidden"}
    # the job check warns about the same client before any new placement happens
    w = residency.job_warnings(frames, policy)
    assert set(w["client"]) == set(v["client"])
