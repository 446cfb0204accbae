"""Consul frames patched (views.checkpatch through views.incremental) equal a full build in the cases
the sandbox rarely makes alone: an instance re-registered with another version or client while its
check stays the same object, and a new instance without checks of its own on a node whose node
check fails (tests/contract/test_check_patch.py holds the churn over real HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

import views
from views.incremental import FrameBuilder

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def entry(sid: str, node: str, client: str, version: str) -> dict:
    return {
        "ServiceName": "web",
        "ServiceID": sid,
        "Node": node,
        "Datacenter": "dc1",
        "Address": "10.0.0.1",
        "ServiceAddress": "",
        "ServicePort": 8080,
        "ServiceTags": ["v1"],
        "ServiceMeta": {"client": client, "version": version},
    }


def check(node: str, check_id: str, sid: str, status: str) -> dict:
    return {
        "Node": node,
        "CheckID": check_id,
        "Name": "serfHealth" if not sid else 'service: "web" check',
        "Status": status,
        "Output": "",
        "Notes": "",
        "ServiceID": sid,
        "ServiceName": "web" if sid else "",
    }


def job(ns: str) -> dict:
    return {"ID": "web", "Name": "web", "Namespace": ns, "Type": "service", "Status": "running", "Version": 1}


def base() -> dict:
    return {
        "jobs": [job("acme"), job("globex")],
        "allocations": [],
        "deployments": [],
        "consul_services": {"web": [entry("s1", "n1", "acme", "1.0"), entry("s2", "n2", "globex", "2.0")]},
        "consul_checks": [
            check("n1", "c1", "s1", "passing"),
            check("n2", "c2", "s2", "critical"),
            check("n3", "serfHealth", "", "critical"),
        ],
    }


def replaced(raw: dict, i: int, new: dict) -> dict:
    rows = list(raw["consul_services"]["web"])
    rows[i] = new
    return {**raw, "consul_services": {"web": rows}}


CASES = {
    "another version": lambda r: replaced(r, 0, entry("s1", "n1", "acme", "1.1")),
    "another client": lambda r: replaced(r, 1, entry("s2", "n2", "initech", "2.0")),
    "new instance on a failing node": lambda r: {
        **r,
        "consul_services": {"web": [*r["consul_services"]["web"], entry("s3", "n3", "acme", "1.0")]},
    },
    "instance gone": lambda r: {**r, "consul_services": {"web": r["consul_services"]["web"][:1]}},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_patched_equals_full(case):
    raw = base()
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    first = builder.build(raw, now=NOW)
    new = CASES[case](raw)
    patched = builder.build(new, now=NOW)
    want = views.build_frames(new, cluster="t", identity=views.ClientIdentity(), now=NOW)
    for name, frame in want.as_dict().items():
        pd.testing.assert_frame_equal(getattr(patched, name), frame, obj=f"patched frame {name}")
    assert builder.check_patches == 1 and builder.full_builds == 1, builder.why_whole
    assert not patched.services.equals(first.services)


ALLOC = "5456bd7a-9fc0-c0dd-6131-cbee77f57577"


def nomad_alloc(ns: str, alloc_id: str = ALLOC) -> dict:
    return {
        "ID": alloc_id,
        "Name": "web.web[0]",
        "Namespace": ns,
        "JobID": "web",
        "JobType": "service",
        "TaskGroup": "web",
        "NodeID": "node-1",
        "NodeName": "n4",
        "ClientStatus": "running",
        "DesiredStatus": "run",
        "CreateIndex": 10,
        "ModifyIndex": 10,
        "CreateTime": 1764244800000000000,
        "ModifyTime": 1764244800000000000,
    }


@pytest.mark.parametrize("consul_moves_too", [False, True])
def test_an_instance_listed_before_its_allocation_takes_its_client_when_it_comes(consul_moves_too):
    """A full read of Consul can be ahead of Nomad's event stream: an instance without a client in
    its Meta, registered by an allocation the allocations list does not have yet, has no client
    (its failing check counts for nobody). When the allocation arrives, its rows take the
    allocation's client, as a full build gives, without the Consul frames built from scratch."""
    sid = f"_nomad-task-{ALLOC}-web-web-http"
    raw = base()
    orphan = {**entry(sid, "n4", "", "1.0"), "ServiceMeta": {"version": "1.0"}}
    raw["consul_services"] = {"web": [*raw["consul_services"]["web"], orphan]}
    raw["consul_checks"] = [*raw["consul_checks"], check("n4", "c4", sid, "critical")]
    raw["allocations"] = [nomad_alloc("globex", "0b8c2d1e-1111-2222-3333-444455556666")]
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    first = builder.build(raw, now=NOW)
    assert first.services["client"].tolist()[-1] == ""
    new = {**raw, "allocations": [*raw["allocations"], nomad_alloc("acme")]}
    if consul_moves_too:
        new["consul_checks"] = [
            check("n2", "c2", "s2", "passing"),
            *raw["consul_checks"][:1],
            *raw["consul_checks"][2:],
        ]
    patched = builder.build(new, now=NOW)
    want = views.build_frames(new, cluster="t", identity=views.ClientIdentity(), now=NOW)
    for name, frame in want.as_dict().items():
        pd.testing.assert_frame_equal(getattr(patched, name), frame, obj=f"patched frame {name}")
    assert builder.patches == 1 and builder.full_builds == 1 and builder.consul_rebuilds == 0, builder.why_whole
    assert patched.services["client"].tolist()[-1] == "acme"
    assert "acme" in set(patched.checks.loc[patched.checks["status"] == "critical", "client"])


def fresh_copy(raw: dict) -> dict:
    """The same Consul answers read again: every entry and check another object, equal ones."""
    return {
        **raw,
        "consul_services": {n: [dict(e) for e in rows] for n, rows in raw["consul_services"].items()},
        "consul_checks": [dict(c) for c in raw["consul_checks"]],
    }


@pytest.mark.parametrize("moved", [False, True])
def test_a_full_read_again_keeps_the_rows_of_equal_items(moved):
    """A full read of Consul (a reload, the paced re-read, each refresh of ``python -m bench``) is
    every item another object: the equal ones keep their rows, as the same objects do, so the
    frames are patched (what changed built again), not rebuilt from scratch, and equal a full build."""
    raw = base()  # with more instances than a patch builds again (views.checkpatch.MAX_FRESH_SHARE)
    many = [entry(f"s{i}", f"n{i % 7}", ("acme", "globex")[i % 2], "1.0") for i in range(3, 43)]
    raw["consul_services"] = {"web": [*raw["consul_services"]["web"], *many]}
    raw["consul_checks"] += [check(e["Node"], f"c{e['ServiceID']}", e["ServiceID"], "passing") for e in many]
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity())
    first = builder.build(raw, now=NOW)
    new = fresh_copy(raw)
    if moved:
        new["consul_checks"][1]["Status"] = "passing"
        new["consul_services"]["web"][0]["ServiceMeta"] = {"client": "acme", "version": "1.1"}
    patched = builder.build(new, now=NOW)
    want = views.build_frames(new, cluster="t", identity=views.ClientIdentity(), now=NOW)
    for name, frame in want.as_dict().items():
        pd.testing.assert_frame_equal(getattr(patched, name), frame, obj=f"patched frame {name}")
    assert builder.consul_rebuilds == 0 and builder.full_builds == 1, builder.why_whole
    assert patched.services.equals(first.services) is not moved
