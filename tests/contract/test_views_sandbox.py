"""Frames built from the sandbox's real HTTP responses (fetched with requests, as the connectors would)."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

import views
from views import schema
from views.search import search


def fetch_raw(nomad: str, consul: str) -> dict:
    s = requests.Session()

    def get(url, **params):
        r = s.get(url, params=params, timeout=15)
        r.raise_for_status()
        return r.json()

    raw = {
        "jobs": get(f"{nomad}/v1/jobs", namespace="*", meta="true"),
        "allocations": get(f"{nomad}/v1/allocations", namespace="*"),
        "deployments": get(f"{nomad}/v1/deployments", namespace="*"),
        "nodes": get(f"{nomad}/v1/nodes"),
        "namespaces": get(f"{nomad}/v1/namespaces"),
        "nomad_services": get(f"{nomad}/v1/services", namespace="*"),
        "consul_checks": get(f"{consul}/v1/health/state/any"),
    }
    raw["consul_services"] = {
        name: get(f"{consul}/v1/catalog/service/{name}") for name in get(f"{consul}/v1/catalog/services")
    }
    return raw


@pytest.fixture(scope="module")
def raw(sandbox):
    return fetch_raw(sandbox.nomad_addr, sandbox.consul_addr)


@pytest.fixture(scope="module")
def now(sandbox):
    return pd.Timestamp(sandbox.clock.now_ns(), unit="ns", tz="UTC")


@pytest.fixture(scope="module")
def frames(raw, now):
    return views.build_frames(raw, cluster="sandbox", identity="namespace", now=now)


def test_schema_holds_on_real_responses(frames):
    for name, df in frames.as_dict().items():
        assert list(df.columns) == schema.columns(name), name
        for col, dtype in schema.SCHEMAS[name].items():
            assert str(df[col].dtype) == dtype, (name, col)
        if len(df):
            assert (df["cluster"] == "sandbox").all()


def test_forty_clients_worst_first_and_some_unhealthy(frames):
    cl = frames.clients
    assert len(cl) == 40 and cl.client.is_unique
    assert set(cl.status) <= {"down", "degraded", "deploying", "healthy"}
    assert (cl.status != "healthy").any(), "the sandbox seeds failures; some client must be unhappy"
    assert (cl.status == "healthy").any()
    assert cl["rank"].is_monotonic_increasing
    bad = cl[cl.status.isin(["down", "degraded"])]
    assert (bad.reason.str.len() > 0).all()
    assert (cl.desired > 0).all() and (cl.jobs >= 4).all()


def test_the_demo_shows_every_kind_of_trouble(frames):
    """The demo must give support something to find: a client down, degraded ones, a deployment."""
    cl = frames.clients
    assert {"down", "degraded", "healthy"} <= set(cl.status)
    down = cl[cl.status == "down"].iloc[0]
    assert cl.iloc[0].client == down.client  # worst first
    assert down.running == 0 and "nothing running" in down.reason


def test_every_allocation_has_a_client_job_and_datacenter(frames):
    a = frames.allocations
    assert len(a) > 0 and (a.client != "").all() and (a.datacenter != "").all()
    assert set(a.datacenter) <= {"ca-tor-1", "ca-mtl-1", "us-east-1"}
    assert (a.short_id == a.alloc_id.str[:8]).all()
    assert a.create_time.notna().all() and str(a.create_time.dt.tz) == "UTC"
    # the job's role is its suffix
    assert all(j.startswith(c + "-") for j, c in zip(a.job_id, a.client))
    assert len(frames.task_events) > len(a)


def test_identity_modes_agree_on_sandbox_conventions(raw, now, frames):
    by_meta = views.build_frames(raw, cluster="sandbox", identity="meta:client", now=now)
    assert set(by_meta.clients.client) == set(frames.clients.client)
    rx = r"regex:^(?P<client>[a-z0-9-]+)-(web|api|worker|reports)$"
    by_rx = views.build_frames(raw, cluster="sandbox", identity=rx, now=now)
    assert set(by_rx.clients.client) == set(frames.clients.client)


def test_services_carry_client_version_and_alloc(frames):
    s = frames.services
    assert len(s) > 0 and s.service.nunique() < 10  # names shared across clients
    assert (s.client != "").all() and (s.version != "").all()
    nomad = s[s.service_id.str.startswith("_nomad-task-")]
    assert len(nomad) and nomad.alloc_id.isin(frames.allocations.alloc_id).all()
    c = frames.checks
    assert set(c.status) <= {"passing", "warning", "critical"}
    assert (c[c.service_id != ""].client != "").all()


def test_search_finds_sandbox_objects(frames):
    a = frames.allocations.iloc[0]
    assert search(frames, a.short_id)[0].params == {"alloc": a.alloc_id, "cluster": a.cluster}  # IDs are per cluster
    client = frames.clients.client.iloc[0]
    assert search(frames, client)[0].params == {"client": client}
    assert search(frames, f"{client}-web")[0].kind == "job"
