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
