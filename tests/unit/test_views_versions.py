"""Version extraction (views.versions), table-tested on HashiCorp's documented samples and small raw inputs.

The raw inputs below use the real API shapes: allocation stubs (/v1/allocations), job stubs
(/v1/jobs?meta=true), Consul catalog entries (/v1/catalog/service/:name), Nomad service stubs
(/v1/services) and a full job (/v1/job/:id, for image tags). Key names follow
reference/structs/nomad.json and consul.json (from Nomad v1.11.3's nomad/structs/structs.go).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import views
from views import versions as V

NOW = pd.Timestamp("2026-01-01T12:00:00Z")
HOUR = 3600 * 10**9
N1 = "99999999-8888-7777-6666-555555555555"


def _load(ref, rel):
    with open(ref / rel, encoding="utf-8") as fh:
        return json.load(fh)


# ------------------------------------------------------------------ one value, on the upstream samples


def test_consul_catalog_sample_has_no_version_unless_its_meta_key_is_configured(reference_dir):
    """consul-api/GET_v1_catalog_service_service.json: ServiceMeta {web_meta_value: baz}, tags [prod]."""
    entry = _load(reference_dir, "consul-api/GET_v1_catalog_service_service.json")[0]
    assert V.version_from_meta(entry["ServiceMeta"]) == ""
    assert V.version_from_tags(entry["ServiceTags"]) == ""  # "prod" is not a version
    assert V.version_from_meta(entry["ServiceMeta"], ["version", "web_meta_value"]) == "baz"


def test_consul_agent_and_health_samples_read_a_configured_meta_key(reference_dir):
    """consul-api/GET_v1_agent_services.json and GET_v1_health_service_service.json carry Meta redis_version 4.0."""
    agent = _load(reference_dir, "consul-api/GET_v1_agent_services.json")["redis"]
    health = _load(reference_dir, "consul-api/GET_v1_health_service_service.json")[0]["Service"]
    for meta in (agent["Meta"], health["Meta"]):
        assert V.version_from_meta(meta) == ""
        assert V.version_from_meta(meta, ["version", "redis_version"]) == "4.0"
    assert V.version_from_tags(health["Tags"]) == ""  # ["primary"]


def test_nomad_service_and_catalog_tag_samples_have_no_version(reference_dir):
    """nomad-api/GET_v1_services.json (tags cache, db) and consul-api/GET_v1_catalog_services.json."""
    stubs = _load(reference_dir, "nomad-api/GET_v1_services.json")
    assert [V.version_from_tags(s["Tags"]) for s in stubs[0]["Services"]] == [""]
    catalog = _load(reference_dir, "consul-api/GET_v1_catalog_services.json")
    assert {name: V.version_from_tags(tags) for name, tags in catalog.items()} == {
        "consul": "",
        "redis": "",
        "postgresql": "",
    }


def test_full_job_sample_images_give_no_version_for_latest_or_untagged(reference_dir):
    """nomad-api/GET_v1_job_jobid.json: images "alpine" and "redis:latest" say nothing about a version."""
    job = _load(reference_dir, "nomad-api/GET_v1_job_jobid.json")
    images = V.images_of_job(job)
    assert images and set(images.values()) <= {"alpine", "redis:latest"}
    assert {V.version_from_image(i) for i in images.values()} == {""}


@pytest.mark.parametrize(
    "tags,expected",
    [
        (["http", "version=1.4.2"], "1.4.2"),
        (["version:2.0.0-rc.1"], "2.0.0-rc.1"),
        (["app_version=3.1"], "3.1"),
        (["v1.2.3", "canary"], "v1.2.3"),
        (["v1.2.3", "version=1.2.4"], "1.2.4"),  # the explicit key wins over a bare v-tag
        (["prod", "v2"], ""),  # "v2" alone is too short to be read as a version
        (None, ""),
        ([None, 3, "http"], ""),
    ],
)
def test_version_tags(tags, expected):
    assert V.version_from_tags(tags) == expected


@pytest.mark.parametrize(
    "image,expected",
    [
        ("registry.example.ca/acme/web:1.4.2", "1.4.2"),
        ("registry.example.ca:5000/acme/web:2.0.1", "2.0.1"),  # a registry port is not a tag
        ("registry.example.ca:5000/acme/web", ""),
        ("web@sha256:abcdef", ""),
        ("web:1.0@sha256:abcdef", "1.0"),
        ("redis:latest", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_image_tags(image, expected):
    assert V.version_from_image(image) == expected


# ------------------------------------------------------------------ ordering


@pytest.mark.parametrize(
    "older,newer",
    [
        ("1.9.3", "1.10.0"),
        ("1.2.0-rc.1", "1.2.0"),
        ("1.2.0-rc.2", "1.2.0-rc.10"),
        ("v1.99.0", "2.0.0"),
        ("1.2", "1.2.1"),
        ("2024.1.9", "2024.1.10"),
        ("abc123", "0.0.1"),  # anything semantic sorts above a non-semantic string
        ("build-9", "build-10"),  # non-semantic strings in natural order
    ],
)
def test_version_order(older, newer):
    assert V.version_key(older) < V.version_key(newer)
    assert V.sort_versions([older, newer]) == [newer, older]


def test_newest_is_only_decided_when_every_version_is_semantic():
    assert V.newest_of(["1.9.3", "1.10.0", "1.10.0-rc.1"]) == "1.10.0"
    assert V.newest_of(["1.9.3", "3f2a9c1"]) == ""  # a git hash cannot be ordered against 1.9.3
    assert V.newest_of(["", ""]) == ""


# ------------------------------------------------------------------ instances from raw JSON


def _job(jid, ns, version, *, job_version=3):
    return {
        "ID": jid,
        "Name": jid,
        "Namespace": ns,
        "Type": "service",
        "Status": "running",
        "Datacenters": ["ca-tor-1"],
        "Meta": {"client": ns, "version": version} if version else None,
        "Version": job_version,
        "JobSummary": {"Namespace": ns, "Summary": {"web": {"Running": 1}}},
    }


def _alloc(aid, jid, ns, *, group="web", created_h=1, job_version=3, status="running"):
    return {
        "ID": aid,
        "Namespace": ns,
        "JobID": jid,
        "TaskGroup": group,
        "Name": f"{jid}.{group}[0]",
        "ClientStatus": status,
        "DesiredStatus": "run",
        "NodeID": N1,
        "NodeName": "nomad-tor1-001",
        "JobVersion": job_version,
        "CreateTime": NOW.value - created_h * HOUR,
        "TaskStates": {},
    }


def _consul(aid, name, *, meta=None, tags=("http",)):
    return {
        "ServiceName": name,
        "ServiceID": f"_nomad-task-{aid}-{name}-http",
        "Node": "nomad-tor1-001",
        "Datacenter": "ca-tor-1",
        "ServiceTags": list(tags),
        "ServiceMeta": meta or {},
    }


def _aid(n: int) -> str:
    return f"{n:08d}-0000-4000-8000-000000000000"


def _frames(jobs, allocs, consul=(), nomad_services=None, cluster="prod"):
    services: dict[str, list] = {}
    for e in consul:
        services.setdefault(e["ServiceName"], []).append(e)
    raw = {
        "jobs": jobs,
        "allocations": allocs,
        "nodes": [{"ID": N1, "Name": "nomad-tor1-001", "Datacenter": "ca-tor-1", "Status": "ready"}],
        "consul_services": services,
        "nomad_services": nomad_services or [],
    }
    return views.build_frames(raw, cluster=cluster, identity="namespace", now=NOW)


def test_sources_are_read_in_the_configured_order():
    a = _aid(1)
    f = _frames(
        [_job("acme-web", "acme", "1.0.0")],
        [_alloc(a, "acme-web", "acme")],
        [_consul(a, "web", meta={"version": "1.0.1"}, tags=("version=1.0.2",))],
    )
    pick = {
        ("consul_meta", "tag", "job_meta"): ("1.0.1", "consul_meta"),
        ("tag", "consul_meta", "job_meta"): ("1.0.2", "tag"),
        ("job_meta", "consul_meta"): ("1.0.0", "job_meta"),
        ("nomad_tags", "image"): ("", ""),
    }
    for order, (version, source) in pick.items():
        inst = V.build_instances(f, sources=order)
        assert inst[["service", "version", "source"]].values.tolist() == [["web", version, source]], order
        assert inst["cluster"].tolist() == ["prod"]


def test_allocations_without_consul_services_fall_back_to_job_meta_then_image_by_task_group():
    a, b = _aid(1), _aid(2)
    spec = {
        "ID": "acme-worker",
        "Version": 3,
        "TaskGroups": [{"Name": "worker", "Tasks": [{"Config": {"image": "r/acme/worker:4.2.0"}}]}],
    }
    f = _frames(
        [_job("acme-worker", "acme", ""), _job("acme-api", "acme", "2.0.0")],
        [_alloc(a, "acme-worker", "acme", group="worker"), _alloc(b, "acme-api", "acme", group="api")],
    )
    inst = V.build_instances(f, job_specs={("acme", "acme-worker"): spec}).sort_values("service")
    assert inst[["service", "version", "source", "alloc_id"]].values.tolist() == [
        ["api", "2.0.0", "job_meta", b],
        ["worker", "4.2.0", "image", a],
    ]
    without = V.build_instances(f, sources=["job_meta"]).sort_values("service")
    assert without["version"].tolist() == ["2.0.0", ""]  # no source knows the worker's version


def test_the_same_job_in_two_clusters_reads_each_clusters_own_meta_and_image():
    """A client's job runs in two clusters that deploy on their own schedule: each allocation's
    version comes from its own cluster's job, never from the other cluster's."""
    from views.fleet_merge import combine_frames

    east, west = _aid(1), _aid(2)

    def frames(cluster, aid, version):
        return _frames(
            [_job("acme-api", "acme", version)], [_alloc(aid, "acme-api", "acme", group="api")], cluster=cluster
        )

    both = combine_frames({"east": frames("east", east, "2.0.0"), "west": frames("west", west, "2.1.0")})
    inst = V.build_instances(both, sources=["job_meta"]).sort_values("cluster")
    assert inst[["cluster", "version"]].values.tolist() == [["east", "2.0.0"], ["west", "2.1.0"]]

    def spec(tag):
        return {"ID": "acme-api", "Version": 3, "TaskGroups": [{"Name": "api", "Tasks": [{"Config": {"image": tag}}]}]}

    specs = {
        ("east", "acme", "acme-api"): spec("r/acme/api:2.0.0"),
        ("west", "acme", "acme-api"): spec("r/acme/api:2.1.0"),
    }
    inst = V.build_instances(both, sources=["image"], job_specs=specs).sort_values("cluster")
    assert inst[["cluster", "version"]].values.tolist() == [["east", "2.0.0"], ["west", "2.1.0"]]


def test_job_meta_does_not_speak_for_allocations_of_an_older_job_version():
    old, new = _aid(1), _aid(2)
    f = _frames(
        [_job("acme-api", "acme", "2.1.0", job_version=4)],
        [
            _alloc(old, "acme-api", "acme", group="api", job_version=3),
            _alloc(new, "acme-api", "acme", group="api", job_version=4),
        ],
    )
    inst = V.build_instances(f, sources=["job_meta"]).set_index("alloc_id")
    assert inst.at[new, "version"] == "2.1.0" and inst.at[old, "version"] == ""


def test_stopped_allocations_and_their_leftover_registrations_are_not_versions():
    run, done = _aid(1), _aid(2)
    f = _frames(
        [_job("acme-web", "acme", "")],
        [_alloc(run, "acme-web", "acme"), _alloc(done, "acme-web", "acme", status="complete")],
        [_consul(run, "web", meta={"version": "1.1.0"}), _consul(done, "web", meta={"version": "1.0.0"})],
    )
    inst = V.build_instances(f)
    assert inst[["alloc_id", "version"]].values.tolist() == [[run, "1.1.0"]]


def test_nomad_native_service_with_a_version_tag_and_consul_services_outside_nomad():
    ext = {
        "ServiceName": "billing",
        "ServiceID": "billing-1",
        "Node": "vm-7",
        "Datacenter": "ca-tor-1",
        "ServiceTags": ["v3.2.1"],
        "ServiceMeta": {"client": "acme"},
    }
    f = _frames(
        [],
        [],
        [ext],
        nomad_services=[{"Namespace": "acme", "Services": [{"ServiceName": "worker", "Tags": ["version=0.9.0"]}]}],
    )
    inst = V.build_instances(f).sort_values("service")
    assert inst[["client", "service", "version", "source", "node"]].values.tolist() == [
        ["acme", "billing", "v3.2.1", "tag", "vm-7"],
        ["acme", "worker", "0.9.0", "nomad_tags", ""],
    ]


def test_unknown_source_in_the_order_is_an_error():
    with pytest.raises(ValueError, match="unknown version source"):
        V.build_instances(_frames([], []), sources=["consul_meta", "git"])


# ------------------------------------------------------------------ matrix, counts, behind, mixed


def _fleet():
    """Three clients on service web: acme mid-rollout (1.4.0 + 1.5.0), birch on 1.5.0, cedar behind on 1.3.2."""
    rows = []
    n = 0
    for ns, versions in {
        "acme": [("1.4.0", 30), ("1.5.0", 2)],
        "birch": [("1.5.0", 5)],
        "cedar": [("1.3.2", 40)],
    }.items():
        for version, hours in versions:
            n += 1
            rows.append((ns, _aid(n), version, hours))
    jobs = [_job(f"{ns}-web", ns, "") for ns in ("acme", "birch", "cedar")]
    allocs = [_alloc(a, f"{ns}-web", ns, created_h=h) for ns, a, _, h in rows]
    consul = [_consul(a, "web", meta={"version": v}) for _, a, v, _ in rows]
    return _frames(jobs, allocs, consul)


def test_matrix_flags_clients_behind_the_newest_and_clients_running_two_versions():
    full = V.build_matrix(V.build_instances(_fleet()))
    assert list(full.columns) == list(V.MATRIX_COLUMNS)
    m = full.set_index("client")
    assert m.loc["acme", "versions"] == ["1.5.0", "1.4.0"]
    assert m["newest"].tolist() == ["1.5.0"] * 3
    assert m["behind"].to_dict() == {"acme": False, "birch": False, "cedar": True}
    assert m["mixed"].to_dict() == {"acme": True, "birch": False, "cedar": False}
    # two versions since the 1.5.0 allocation started (2 h ago), not since the old one (30 h)
    assert m.loc["acme", "mixed_since"] == NOW - pd.Timedelta(hours=2)
    assert pd.isna(m.loc["birch", "mixed_since"])


def test_counts_per_version_across_the_fleet_newest_first():
    c = V.build_counts(V.build_instances(_fleet()))
    assert c[["service", "version", "clients", "instances"]].values.tolist() == [
        ["web", "1.5.0", 2, 2],
        ["web", "1.4.0", 1, 1],
        ["web", "1.3.2", 1, 1],
    ]


def test_behind_reasons_and_client_labels():
    m = V.build_matrix(V.build_instances(_fleet()))
    assert V.behind_reasons(m) == {("prod", "cedar"): "behind: web 1.3.2 (newest 1.5.0)"}
    assert V.client_versions(m, "acme") == [("web", "1.5.0 + 1.4.0")]
    assert V.client_versions(m, "nobody") == []


def test_non_semantic_versions_are_listed_but_nobody_is_behind():
    a, b = _aid(1), _aid(2)
    f = _frames(
        [_job("acme-web", "acme", ""), _job("birch-web", "birch", "")],
        [_alloc(a, "acme-web", "acme"), _alloc(b, "birch-web", "birch")],
        [_consul(a, "web", meta={"version": "3f2a9c1"}), _consul(b, "web", meta={"version": "1.0.0"})],
    )
    m = V.build_matrix(V.build_instances(f))
    assert m["newest"].tolist() == ["", ""] and not m["behind"].any()


def test_empty_frames_give_empty_tables_with_the_columns():
    inst = V.build_instances(views.Frames.empty())
    assert list(inst.columns) == list(V.INSTANCE_COLUMNS) and len(inst) == 0
    assert list(V.build_matrix(inst).columns) == list(V.MATRIX_COLUMNS)
    assert list(V.build_counts(inst).columns) == list(V.COUNT_COLUMNS)
