"""The parsers on bodies shaped like Nomad 1.11's and Consul's Go structs, not like the sandbox.

Every body here is built from ``../shared/reference/structs/`` with ``structs_check.skeleton``
(every key a release build sends, zero values, then the values under test) and is checked to
be faithful before the views read it. So these tests say what the dashboard shows against a
real cluster: the job version comes from allocations and deployments (a /v1/jobs stub has no
``Version``), deployment times from ``CreateTime``/``ModifyTime``, and Go's zero time
("0001-01-01T00:00:00Z") reads as "never", not as year 1.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from structs_check import Reference, check_endpoint, check_item, skeleton

import views
from ui.tables import client_jobs
from views.resources import ports

NOW = pd.Timestamp("2026-03-01T12:00:00Z")
NS = 10**9
T0 = int(NOW.value) - 3600 * NS  # an hour ago, in ns
ZERO = "0001-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def nomad(reference_dir):
    return Reference(json.loads((reference_dir / "structs" / "nomad.json").read_text()))


@pytest.fixture(scope="module")
def consul(reference_dir):
    return Reference(json.loads((reference_dir / "structs" / "consul.json").read_text()))


def _job(ref, jid, **kw):
    summary = skeleton(
        ref, "JobSummary", JobID=jid, Namespace="acme", Summary={"web": skeleton(ref, "TaskGroupSummary", Running=2)}
    )
    return skeleton(
        ref,
        "JobListStub",
        ID=jid,
        Name=jid,
        Namespace="acme",
        Type="service",
        Status="running",
        Datacenters=["dc1"],
        JobSummary=summary,
        Meta={"version": "2.4.0"},
        SubmitTime=T0,
        **kw,
    )


def _task_state(ref, **kw):
    return skeleton(ref, "TaskState", State="running", StartedAt="2026-03-01T11:00:00Z", Events=[], **kw)


def _alloc(ref, aid, jid, version, status="running", **kw):
    kw.setdefault("TaskStates", {"web": _task_state(ref)})
    return skeleton(
        ref,
        "AllocListStub",
        ID=aid,
        Name=f"{jid}.web[0]",
        Namespace="acme",
        JobID=jid,
        JobType="service",
        JobVersion=version,
        TaskGroup="web",
        NodeID="n1",
        NodeName="node-1",
        DesiredStatus="run" if status == "running" else "stop",
        ClientStatus=status,
        CreateTime=T0,
        ModifyTime=T0,
        **kw,
    )


def _deployment(ref, did, jid, version, create, modify):
    group = skeleton(ref, "DeploymentState", DesiredTotal=2, PlacedAllocs=2, HealthyAllocs=2)
    group["RequireProgressBy"] = "2026-03-01T13:00:00Z"  # a deadline, in the future
    return skeleton(
        ref,
        "Deployment",
        ID=did,
        Namespace="acme",
        JobID=jid,
        JobVersion=version,
        Status="successful",
        StatusDescription="Deployment completed successfully",
        TaskGroups={"web": group},
        CreateTime=create,
        ModifyTime=modify,
    )


A1, A2, A3 = ("aaaaaaaa-0000-0000-0000-00000000000" + c for c in "123")


@pytest.fixture(scope="module")
def raw(nomad, consul):
    jobs = [_job(nomad, "acme-web"), _job(nomad, "acme-api"), _job(nomad, "acme-new")]
    allocations = [
        _alloc(nomad, A1, "acme-web", 3),
        _alloc(nomad, A2, "acme-web", 2, status="complete"),
        _alloc(nomad, A3, "acme-api", 7, TaskStates={"web": _task_state(nomad, LastRestart="2026-03-01T11:30:00Z")}),
    ]
    deployments = [
        _deployment(nomad, "d1", "acme-web", 3, T0, T0 + 90 * NS),
        _deployment(nomad, "d2", "acme-web", 2, T0 - 86400 * NS, T0 - 86000 * NS),
    ]
    nodes = [
        skeleton(nomad, "NodeListStub", ID="n1", Name="node-1", Datacenter="dc1", Status="ready", Version="1.11.3")
    ]
    entry = skeleton(
        consul,
        "ServiceNode",
        Node="node-1",
        Address="10.0.0.1",
        Datacenter="dc1",
        ServiceID=f"_nomad-task-{A1}-web-web-http",
        ServiceName="web",
        ServiceTags=["http"],
        ServiceAddress="10.0.0.1",
        ServicePort=8080,
        ServiceMeta={"client": "acme", "version": "2.4.0"},
        ServiceTaggedAddresses={"lan_ipv4": {"Address": "10.0.0.1", "Port": 8080}},
        ServiceProxy={"Mode": "", "MeshGateway": {}, "Expose": {}},
        ServiceConnect={},
    )
    check = skeleton(
        consul,
        "HealthCheck",
        Node="node-1",
        CheckID="c1",
        Name="web check",
        Status="passing",
        ServiceID=entry["ServiceID"],
        ServiceName="web",
        ServiceTags=[],
        Definition={},
    )
    return {
        "jobs": jobs,
        "allocations": allocations,
        "deployments": deployments,
        "nodes": nodes,
        "consul_services": {"web": [entry]},
        "consul_checks": [check],
    }


def test_the_bodies_are_faithful_to_the_structs(nomad, consul, raw):
    checks = [
        (nomad, "GET /v1/jobs", raw["jobs"], ("meta=true",)),
        (nomad, "GET /v1/allocations", raw["allocations"], ()),
        (nomad, "GET /v1/deployments", raw["deployments"], ()),
        (nomad, "GET /v1/nodes", raw["nodes"], ()),
        (consul, "GET /v1/catalog/service/:service", raw["consul_services"]["web"], ()),
        (consul, "GET /v1/health/state/:state", raw["consul_checks"], ()),
    ]
    for ref, name, body, flags in checks:
        assert [str(p) for p in check_endpoint(ref, name, body, flags)] == [], name


@pytest.fixture(scope="module")
def frames(raw):
    return views.build_frames(raw, cluster="c", now=NOW)


@pytest.mark.parametrize(
    ("job", "version"),
    [
        ("acme-web", 3),  # newest of its allocations (3, 2) and deployments (3, 2)
        ("acme-api", 7),  # from its allocation alone
        ("acme-new", -1),  # never placed: unknown, not 0
    ],
)
def test_job_version_comes_from_allocations_and_deployments(frames, job, version):
    jobs = frames.jobs.set_index("job_id")
    assert jobs.loc[job, "job_version"] == version


def test_client_jobs_table_shows_the_version_real_nomad_implies(frames):
    table = client_jobs(frames.jobs, "acme").set_index("job")
    assert table.loc["acme-web", "version"] == "3"
    assert table.loc["acme-new", "version"] == "–"  # never placed: no version to show (not "None")


def test_deployment_times_are_create_and_modify_time(frames):
    d = frames.deployments.set_index("deployment_id")
    assert d.loc["d1", "create_time"] == pd.Timestamp(T0, unit="ns", tz="UTC")
    assert d.loc["d1", "modify_time"] == pd.Timestamp(T0 + 90 * NS, unit="ns", tz="UTC")
    assert bool(d.loc["d1", "is_latest"]) and not bool(d.loc["d2", "is_latest"])


@pytest.mark.parametrize(("alloc", "restart"), [(A1, None), (A3, "2026-03-01T11:30:00Z")])
def test_zero_time_means_never(frames, alloc, restart):
    row = frames.allocations.set_index("alloc_id").loc[alloc]
    if restart is None:
        assert pd.isna(row["last_restart"])
    else:
        assert row["last_restart"] == pd.Timestamp(restart)


def test_nodes_and_consul_frames_read_the_struct_shapes(frames):
    assert frames.nodes.set_index("node_id").loc["n1", "version"] == "1.11.3"
    svc = frames.services.iloc[0]
    assert (svc["service"], svc["address"], svc["port"], svc["alloc_id"]) == ("web", "10.0.0.1", 8080, A1)
    assert frames.checks.iloc[0]["status"] == "passing"


def test_ports_leave_out_what_the_codec_left_out(nomad):
    """AllocatedPortMapping drops zero fields: a port without a mapping has no To."""
    shared = skeleton(nomad, "AllocatedSharedResources", Ports=[{"Label": "http", "Value": 24000}])
    alloc = {"AllocatedResources": skeleton(nomad, "AllocatedResources", Shared=shared)}
    assert check_item(nomad, alloc["AllocatedResources"], "AllocatedResources") == []
    assert ports(alloc) == ["http: 24000"]
