"""Data residency rules (views.residency) and their [residency] config: allowed, forbidden, unknown, not placed.

Raw inputs use the real API shapes (allocation and job stubs; Consul catalog entries). A job stub's
``Datacenters`` is part of JobListStub (reference/structs/nomad.json, from Nomad v1.11.3's
nomad/structs/structs.go); Nomad matches those entries with ryanuber/go-glob, where only ``*`` is
a wildcard (nomad/structs/structs.go, ``Node.IsInAnyDC``).
"""

from __future__ import annotations

import pandas as pd
import pytest

import config
import views
from config import ConfigError
from views import residency as R

NOW = pd.Timestamp("2026-01-01T12:00:00Z")
HOUR = 3600 * 10**9
NODES = {
    "tor": ("11111111-0000-4000-8000-000000000001", "nomad-tor1-001", "ca-tor-1"),
    "mtl": ("11111111-0000-4000-8000-000000000002", "nomad-mtl1-001", "ca-mtl-1"),
    "use": ("11111111-0000-4000-8000-000000000003", "nomad-east1-001", "us-east-1"),
}
CANADA = R.Allowed(datacenters=("ca-tor-1", "ca-mtl-1"))


def _aid(n: int) -> str:
    return f"{n:08d}-0000-4000-8000-00000000aaaa"


def _alloc(n, ns, node, *, status="running", created_h=1, desired="run"):
    node_id, node_name, _ = NODES.get(node, (node, "", ""))
    return {
        "ID": _aid(n),
        "Namespace": ns,
        "JobID": f"{ns}-web",
        "TaskGroup": "web",
        "Name": f"{ns}-web.web[{n}]",
        "ClientStatus": status,
        "DesiredStatus": desired,
        "NodeID": node_id,
        "NodeName": node_name,
        "CreateTime": NOW.value - created_h * HOUR,
        "TaskStates": {},
    }


def _job(ns, datacenters, *, stop=False):
    return {
        "ID": f"{ns}-web",
        "Name": "web",
        "Namespace": ns,
        "Type": "service",
        "Status": "running",
        "Stop": stop,
        "Datacenters": datacenters,
        "JobSummary": {"Namespace": ns, "Summary": {"web": {"Running": 1}}},
    }


def _frames(jobs, allocs, consul=()):
    services: dict[str, list] = {}
    for e in consul:
        services.setdefault(e["ServiceName"], []).append(e)
    raw = {
        "jobs": jobs,
        "allocations": allocs,
        "nodes": [{"ID": i, "Name": n, "Datacenter": dc, "Status": "ready"} for i, n, dc in NODES.values()],
        "namespaces": [{"Name": ns} for ns in sorted({j["Namespace"] for j in jobs})],
        "consul_services": services,
    }
    return views.build_frames(raw, cluster="prod", identity="namespace", now=NOW)


@pytest.mark.parametrize(
    "allowed,datacenter,region,verdict",
    [
        (CANADA, "ca-tor-1", "", R.ALLOWED),
        (CANADA, "us-east-1", "", R.FORBIDDEN),
        (CANADA, "", "", R.UNKNOWN),  # a node the snapshot does not know
        (R.Allowed(regions=("ca",)), "ca-tor-1", "ca", R.ALLOWED),
        (R.Allowed(regions=("ca",)), "us-east-1", "us", R.FORBIDDEN),
        (R.Allowed(regions=("ca",)), "ca-tor-1", "", R.UNKNOWN),  # region-only rule, region not known
        (R.Allowed(datacenters=("ca-tor-1",), regions=("ca",)), "ca-tor-1", "", R.ALLOWED),
    ],
)
def test_one_placement(allowed, datacenter, region, verdict):
    assert allowed.judge(datacenter, region) == verdict


def test_forbidden_allocations_services_and_nodes_are_listed_with_since_when():
    f = _frames(
        [_job("acme", ["ca-tor-1", "us-east-1"]), _job("birch", ["ca-tor-1"])],
        [
            _alloc(1, "acme", "tor"),
            _alloc(2, "acme", "use", created_h=30),
            _alloc(3, "acme", "use", created_h=5, status="pending"),
            _alloc(4, "acme", "use", status="complete", desired="stop"),  # gone: not a placement any more
            _alloc(5, "birch", "tor"),
        ],
        [
            {
                "ServiceName": "web",
                "ServiceID": f"_nomad-task-{_aid(2)}-web-web-http",
                "Node": "nomad-east1-001",
                "Datacenter": "us-east-1",
                "ServiceMeta": {"client": "acme"},
            }
        ],
    )
    v = R.violations(f, R.Policy(default=CANADA))
    assert list(v.columns) == list(R.VIOLATION_COLUMNS) and set(v["cluster"]) == {"prod"}
    assert v[["kind", "client", "alloc_id", "datacenter", "verdict"]].values.tolist() == [
        ["allocation", "acme", _aid(2), "us-east-1", "forbidden"],
        ["allocation", "acme", _aid(3), "us-east-1", "forbidden"],
        ["service", "acme", _aid(2), "us-east-1", "forbidden"],
        ["node", "acme", "", "us-east-1", "forbidden"],
    ]
    assert v["since"].tolist()[:3] == [NOW - pd.Timedelta(hours=30), NOW - pd.Timedelta(hours=5)] + [
        NOW - pd.Timedelta(hours=30)
    ]
    assert v.iloc[3]["since"] == NOW - pd.Timedelta(hours=30)  # the node: its first forbidden allocation
    assert v.iloc[0]["allowed"] == "ca-tor-1, ca-mtl-1"
    flags = R.client_flags(v, R.unpoliced(f, R.Policy(default=CANADA)))
    assert flags == {("prod", "acme"): ("forbidden", "residency: 2 allocations in us-east-1 (not allowed)")}


def test_a_client_rule_overrides_the_default():
    f = _frames([_job("acme", ["us-east-1"])], [_alloc(1, "acme", "use")])
    policy = R.Policy(clients={"acme": R.Allowed(datacenters=("ca-tor-1", "us-east-1"))}, default=CANADA)
    assert len(R.violations(f, policy)) == 0 and len(R.job_warnings(f, policy)) == 0


def test_not_yet_placed_allocations_are_not_judged_but_their_job_is_warned_about():
    f = _frames([_job("acme", ["us-east-1"])], [_alloc(1, "acme", "", status="pending")])
    policy = R.Policy(default=CANADA)
    assert len(R.violations(f, policy)) == 0
    w = R.job_warnings(f, policy)
    assert w[["client", "job_id", "forbidden"]].values.tolist() == [["acme", "acme-web", ["us-east-1"]]]


def test_an_allocation_on_an_unknown_node_is_listed_as_unknown_after_the_forbidden_ones():
    f = _frames(
        [_job("acme", ["ca-tor-1"])],
        [_alloc(1, "acme", "deadbeef-0000-4000-8000-000000000009"), _alloc(2, "acme", "use")],
    )
    v = R.violations(f, R.Policy(default=CANADA))
    assert v[v["kind"] == "allocation"][["alloc_id", "verdict"]].values.tolist() == [
        [_aid(2), "forbidden"],
        [_aid(1), "unknown"],
    ]
    assert len(R.violations(f, R.Policy(default=CANADA), include_unknown=False).query("verdict == 'unknown'")) == 0


def test_region_rules_use_the_clusters_region_label():
    f = _frames([_job("acme", ["us-east-1"])], [_alloc(1, "acme", "use")])
    policy = R.Policy(default=R.Allowed(regions=("ca-central",)))
    assert R.violations(f, policy, regions={"prod": "ca-central"}).empty
    assert R.violations(f, policy, regions={"prod": "us-east"})["verdict"].tolist() == ["forbidden", "forbidden"]
    assert R.violations(f, policy)["verdict"].tolist() == ["unknown", "unknown"]  # region not known


@pytest.mark.parametrize(
    "datacenters,forbidden",
    [
        (["ca-tor-1", "ca-mtl-1"], []),
        (["*"], ["us-east-1"]),  # Nomad's default: every datacenter, including the US one
        (["ca-*"], []),
        (["us-*", "ca-tor-1"], ["us-east-1"]),
        (["eu-west-1"], ["eu-west-1"]),  # a literal forbidden name, even with no node there yet
        (["us-east-?"], ["us-east-?"]),  # go-glob: "?" is a literal character, not a wildcard
    ],
)
def test_job_datacenter_patterns_that_allow_a_forbidden_datacenter(datacenters, forbidden):
    f = _frames([_job("acme", datacenters)], [])
    w = R.job_warnings(f, R.Policy(default=CANADA))
    assert (w["forbidden"].tolist() or [[]])[0] == forbidden


def test_stopped_jobs_are_not_warned_about():
    f = _frames([_job("acme", ["us-east-1"], stop=True)], [])
    assert R.job_warnings(f, R.Policy(default=CANADA)).empty


def test_clients_without_a_policy_are_listed_only_when_there_is_no_default():
    f = _frames([_job("acme", ["us-east-1"]), _job("birch", ["ca-tor-1"])], [_alloc(1, "acme", "use")])
    only_birch = R.Policy(clients={"birch": CANADA})
    u = R.unpoliced(f, only_birch)
    assert u[["client", "jobs"]].values.tolist() == [["acme", 1]]
    assert R.violations(f, only_birch).empty  # acme has no rule to break
    assert R.client_flags(R.violations(f, only_birch), u) == {
        ("prod", "acme"): ("no policy", "residency: no policy for this client")
    }
    assert R.unpoliced(f, R.Policy(default=CANADA)).empty


# ------------------------------------------------------------------ config


def test_the_shipped_policy_keeps_clients_in_canada_by_default():
    policy = config.load().residency_policy
    # the demo clusters' Canadian datacenters: ca-east's and ca-west's
    assert policy.default is not None
    assert policy.default.datacenters == ("ca-tor-1", "ca-mtl-1", "ca-van-1", "ca-cgy-1")
    assert policy.for_client("any-new-client") == policy.default


def test_policy_from_config():
    cfg = config.parse(
        {
            "residency": {
                "default": {"datacenters": ["ca-tor-1"]},
                "clients": {"acme": {"datacenters": ["ca-tor-1", "us-east-1"], "regions": ["ca"]}},
            }
        }
    )
    assert cfg.residency_policy.for_client("acme") == R.Allowed(("ca-tor-1", "us-east-1"), ("ca",))
    assert cfg.residency_policy.for_client("birch") == R.Allowed(("ca-tor-1",))
    assert config.parse({}).residency_policy.for_client("acme") is None


@pytest.mark.parametrize(
    "section,where",
    [
        ({"default": {"datacenter": ["ca-tor-1"]}}, r"\[residency\] default has unknown key\(s\) \['datacenter'\]"),
        ({"default": {"datacenters": "ca-tor-1"}}, r"\[residency\] default datacenters must be a list"),
        ({"default": {}}, r"\[residency\] default must list at least one"),
        ({"clients": {"acme": {"datacenters": ["", "x"]}}}, r"\[residency.clients\] 'acme' datacenters must be a list"),
        ({"clients": {"acme": ["ca-tor-1"]}}, r"\[residency.clients\] 'acme' must be a table"),
        ({"clients": ["acme"]}, r"\[residency.clients\] must be a table"),
        ({"defaults": {}}, r"\[residency\] has unknown key\(s\) \['defaults'\]"),
    ],
)
def test_bad_policies_name_the_key(section, where):
    with pytest.raises(ConfigError, match=where):
        config.parse({"residency": section})


@pytest.mark.parametrize(
    "section,where",
    [
        ({"sources": ["consul_meta", "git"]}, r"\[versions\] sources names unknown source\(s\) \['git'\]"),
        ({"sources": ["tag", "tag"]}, r"\[versions\] sources must list each source at most once"),
        ({"sources": []}, r"\[versions\] sources must list"),
        ({"sources": "tag"}, r"\[versions\] sources must be a list"),
        ({"meta_keys": []}, r"\[versions\] meta_keys must name at least one"),
        ({"order": ["tag"]}, r"\[versions\] has unknown key\(s\) \['order'\]"),
    ],
)
def test_bad_version_settings_name_the_key(section, where):
    with pytest.raises(ConfigError, match=where):
        config.parse({"versions": section})


def test_version_settings_are_kept():
    cfg = config.parse({"versions": {"sources": ["job_meta", "image"], "meta_keys": ["app_version", "version"]}})
    assert cfg.version_sources == ("job_meta", "image") and cfg.version_meta_keys == ("app_version", "version")
    assert config.parse({}).version_sources == ("consul_meta", "tag", "nomad_tags", "job_meta", "image")
