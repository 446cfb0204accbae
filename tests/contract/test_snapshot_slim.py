"""Slimming the raw JSON at parse time must not change a single cell of any frame."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from common.fields import DEPLOYMENT_FIELDS, DEPLOYMENT_GROUP_FIELDS, event_row, event_rows
from connectors import BadResponse, ConsulConnector, NomadConnector
from connectors.settings import load
from connectors.slim import ALLOC_FIELDS, CATALOG_FIELDS, CHECK_FIELDS, EVENT_FIELDS, TASK_STATE_FIELDS
from snapshot import Refresher
from views import ClientIdentity

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _subset(slim, full, path="$"):
    """`slim` is `full` with some dict keys left out (same values, same types, same order of list items);
    a task's events are one flat tuple of their EVENT_FIELDS values (common.fields: the same values)."""
    if isinstance(slim, tuple) and isinstance(full, list) and path.endswith(".Events"):
        rows = event_rows(slim)
        assert len(rows) == len(full) and rows == [event_row(e) for e in full], path
        for row, e in zip(rows, full):
            assert [type(v) for v in row] == [type(e.get(k)) for k in EVENT_FIELDS], path
        return
    assert type(slim) is type(full), path
    if isinstance(full, dict):
        for k, v in slim.items():
            assert k in full, f"{path}.{k} is not in the API JSON"
            _subset(v, full[k], f"{path}.{k}")
    elif isinstance(full, list):
        assert len(slim) == len(full), path
        for i, (a, b) in enumerate(zip(slim, full)):
            _subset(a, b, f"{path}[{i}]")
    else:
        assert slim == full, path


@pytest.fixture(scope="module")
def refreshed(sandbox):
    settings = load({"NOMAD_ADDR": sandbox.nomad_addr, "CONSUL_HTTP_ADDR": sandbox.consul_addr})
    full_ref = Refresher(settings, ClientIdentity(), slim_raw=False, clock=lambda: NOW)
    slim_ref = Refresher(settings, ClientIdentity(), slim_raw=True, clock=lambda: NOW)
    return full_ref, full_ref.refresh_once(), slim_ref, slim_ref.refresh_once()


def test_frames_identical_with_and_without_slimming(refreshed):
    _, full, _, slim = refreshed
    assert full.ok and slim.ok
    for name, frame in full.frames.as_dict().items():
        assert len(frame) or name in ("nomad_services",), f"frame {name} is empty: the test proves nothing"
        pd.testing.assert_frame_equal(frame, getattr(slim.frames, name), obj=f"frame {name}")


def test_slim_raw_is_a_subset_of_the_api_json(refreshed):
    full_ref, _, slim_ref, _ = refreshed
    full, slim = full_ref.raw(), slim_ref.raw()
    for name in ("allocations", "deployments", "consul_services", "consul_checks", "jobs", "nodes"):
        _subset(slim[name], full[name], name)


def test_slim_raw_keeps_only_what_the_views_read(refreshed):
    _, _, slim_ref, _ = refreshed
    raw = slim_ref.raw()
    events = 0
    for a in raw["allocations"]:
        assert set(a) <= set(ALLOC_FIELDS)
        assert set(a.get("DeploymentStatus") or {}) <= {"Healthy"}
        for st in (a.get("TaskStates") or {}).values():
            assert set(st) <= set(TASK_STATE_FIELDS)
            evs = st.get("Events") or ()
            assert isinstance(evs, tuple) and len(evs) % len(EVENT_FIELDS) == 0  # flat: the views' fast path
            events += len(event_rows(evs))
    assert events
    assert raw["deployments"]
    for d in raw["deployments"]:
        assert set(d) <= set(DEPLOYMENT_FIELDS)
        assert all(set(g) <= set(DEPLOYMENT_GROUP_FIELDS) for g in d["TaskGroups"].values())
    entries = [e for lst in raw["consul_services"].values() for e in lst]
    assert entries and all(set(e) <= set(CATALOG_FIELDS) for e in entries)
    assert raw["consul_checks"] and all(set(c) <= set(CHECK_FIELDS) for c in raw["consul_checks"])


def test_repeated_strings_are_shared(refreshed):
    _, _, slim_ref, _ = refreshed
    allocs = slim_ref.raw()["allocations"]
    statuses = {}
    for a in allocs:
        statuses.setdefault(a["ClientStatus"], set()).add(id(a["ClientStatus"]))
    assert all(len(ids) == 1 for ids in statuses.values())


def test_slim_reads_report_bad_json_like_the_full_ones(fresh_sandbox):
    settings = load({"NOMAD_ADDR": fresh_sandbox.nomad_addr, "CONSUL_HTTP_ADDR": fresh_sandbox.consul_addr})
    nomad, consul = NomadConnector(settings.nomad), ConsulConnector(settings.consul)
    assert nomad.list_allocations(slim=True).data and consul.health_state("any", slim=True).data
    fresh_sandbox.faults.inject("nomad", "/v1/allocations", malformed=True)
    fresh_sandbox.faults.inject("consul", "/v1/health/state/any", malformed=True)
    try:
        with pytest.raises(BadResponse):
            nomad.list_allocations(slim=True)
        with pytest.raises(BadResponse):
            consul.health_state("any", slim=True)
    finally:
        fresh_sandbox.faults.clear()


def test_slim_consul_reads_send_the_token(acl_sandbox, monkeypatch):
    from connectors import Forbidden

    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "bogus-from-the-process-env")
    env = {
        "NOMAD_ADDR": acl_sandbox.nomad_addr,
        "CONSUL_HTTP_ADDR": acl_sandbox.consul_addr,
        "CONSUL_HTTP_TOKEN": acl_sandbox.consul_tokens["read"],
    }
    consul = ConsulConnector(load(env).consul)
    name = next(n for n in sorted(consul.catalog_services().data) if consul.catalog_service(n).data)
    assert consul.catalog_service(name, slim=True).data and consul.health_state("any", slim=True).data
    with pytest.raises(Forbidden) as info:
        consul.health_state("any", token="bogus-per-request", slim=True)
    assert "bogus-per-request" not in str(info.value)
