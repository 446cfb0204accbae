"""Views built from HashiCorp's documented sample responses (../shared/reference), not our own data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import views
from views import schema

NOW = pd.Timestamp("2021-11-05T00:00:00Z")


def _load(ref, rel):
    with open(ref / rel, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def raw(reference_dir):
    return {
        "jobs": _load(reference_dir, "nomad-api/GET_v1_jobs.json"),
        "allocations": _load(reference_dir, "nomad-api/GET_v1_allocations.json"),
        "deployments": _load(reference_dir, "nomad-api/GET_v1_deployments.json"),
        "nodes": _load(reference_dir, "nomad-api/GET_v1_nodes.json"),
        "namespaces": _load(reference_dir, "nomad-api/GET_v1_namespaces.json"),
        "nomad_services": _load(reference_dir, "nomad-api/GET_v1_services.json"),
        "consul_services": {"web": _load(reference_dir, "consul-api/GET_v1_catalog_service_service.json")},
        "consul_checks": _load(reference_dir, "consul-api/GET_v1_health_state_state.json"),
    }


@pytest.fixture(scope="module")
def frames(raw):
    return views.build_frames(raw, cluster="docs", identity="namespace", now=NOW)


def test_every_frame_has_the_schema_columns_and_dtypes(frames):
    for name, df in frames.as_dict().items():
        assert list(df.columns) == schema.columns(name), name
        for col, dtype in schema.SCHEMAS[name].items():
            assert str(df[col].dtype) == dtype, (name, col)
        assert (df["cluster"] == "docs").all()


def test_allocation_sample_rows(frames):
    a = frames.allocations
    assert a["alloc_id"].tolist() == ["5457f16d-0f87-8e6b-5e91-0c7da3a41eb7"]
    row = a.iloc[0]
    assert row.short_id == "5457f16d"
    assert (row.client, row.namespace, row.job_id, row.task_group) == ("default", "default", "example", "cache")
    assert (row.client_status, row.desired_status) == ("running", "run")
    assert row.restarts == 0 and row.tasks == 1 and not row.failed
    assert row.last_event_type == "Started" and row.last_event_message == "Task started by client"
    assert row.create_time == pd.Timestamp(1636017249798459000, unit="ns", tz="UTC")
    assert str(row.create_time.tz) == "UTC"
    assert row.age == NOW - row.create_time
    assert bool(row.healthy) is True
    # the node sample is a different node: no datacenter to join
    assert row.datacenter == ""


def test_task_events_sample(frames):
    ev = frames.task_events
    assert ev["type"].tolist() == ["Received", "Task Setup", "Started"]
    assert ev["message"].tolist() == ["Task received by client", "Building Task Directory", "Task started by client"]
    assert ev["task"].unique().tolist() == ["redis"]
    assert ev["time"].is_monotonic_increasing
    assert (ev["severity"] == "info").all()
    assert str(ev["time"].dt.tz) == "UTC"


def test_job_sample_uses_summary_namespace_and_counts(frames):
    j = frames.jobs.iloc[0]
    assert (j.job_id, j.namespace, j.client, j.type, j.status, j.priority) == (
        "example",
        "default",
        "default",
        "service",
        "pending",
        50,
    )
    assert (j.queued, j.complete, j.running) == (1, 1, 0)
    assert j.task_groups == ["cache"]
    # A job stub has no Version: it comes from the allocations sample's JobVersion (0).
    assert j.job_version == 0 and pd.isna(j.submit_time)


def test_deployment_sample(frames):
    d = frames.deployments.iloc[0]
    assert d.deployment_id == "70638f62-5c19-193e-30d6-f9d6e689ab8e"
    assert (d.status, d.job_version, d.desired_total, d.desired_canaries, d.placed) == ("running", 1, 3, 1, 1)
    assert d.active and d.is_latest and not d.promoted


def test_job_desired_takes_the_latest_deployment_total(frames):
    # the deployment sample has no Namespace; the job sample neither at top level
    assert frames.jobs.iloc[0].desired >= 1


def test_nodes_sample(frames):
    n = frames.nodes.iloc[0]
    assert (n.node_id, n["name"], n.datacenter, n.node_pool, n.status, n.eligibility, n.version) == (
        "f7476465-4d6e-c0de-26d0-e383c49be941",
        "nomad-4",
        "dc1",
        "default",
        "ready",
        "eligible",
        "0.8.0-rc1",
    )
    assert n.drain is False or n.drain == False  # noqa: E712


def test_namespaces_sample_null_meta_becomes_empty(frames):
    ns = frames.namespaces.set_index("namespace")
    assert ns.loc["default", "meta"] == {}
    assert ns.loc["staging", "meta"] == {"type": "dev", "contact": "helpdesk@example.com"}
    assert ns.loc["staging", "client"] == "staging"


def test_nomad_services_sample(frames):
    s = frames.nomad_services.iloc[0]
    assert (s.namespace, s.service, s.tags) == ("default", "example-cache-redis", ["cache", "db"])


def test_catalog_service_sample_keeps_meta(frames):
    s = frames.services.iloc[0]
    assert (s.service, s.service_id, s.node, s.address, s.port) == (
        "web",
        "32a2a47f7992:nodea:5000",
        "t2.320",
        "172.17.0.3",
        5000,
    )
    assert s.meta == {"web_meta_value": "baz"} and s.tags == ["prod"]
    assert s.client == "" and s.alloc_id == ""  # not a Nomad-registered service
    assert s.health == "passing" and s.checks_total == 0


def test_health_state_sample_yields_checks(frames):
    c = frames.checks
    assert c["check_id"].tolist() == ["serfHealth", "service:redis"]
    assert c["status"].tolist() == ["passing", "passing"]
    assert c["service_id"].tolist() == ["", "redis"]
    assert c["node"].tolist() == ["foobar", "foobar"]


def test_job_summary_sample_counts(reference_dir):
    summ = _load(reference_dir, "nomad-api/GET_v1_job_jobid_summary.json")
    stub = {"ID": summ["JobID"], "Namespace": "default", "Type": "service", "JobSummary": summ}
    f = views.build_frames({"jobs": [stub]}, cluster="docs", now=NOW)
    assert f.jobs.iloc[0].running == 1 and f.jobs.iloc[0].desired == 1
