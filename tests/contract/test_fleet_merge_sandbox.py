"""One fleet view out of two real sandbox clusters (views.fleet_merge, snapshot.combined): every
row keeps its cluster, a client in both clusters is one client-health row made of its parts, and a
cluster that cannot be reached is named once instead of blanking the view."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from test_views_sandbox import fetch_raw

import views
from sandbox import MultiSandbox
from snapshot.combined import combine, unreachable
from snapshot.model import Snapshot, SourceStatus, utcnow
from views.fleet_merge import combine_frames, in_cluster


@pytest.fixture(scope="module")
def group():
    with MultiSandbox(clusters=2, clients=24, frozen=True) as g:
        yield g


@pytest.fixture(scope="module")
def per_cluster(group):
    now = group[0].clock.now()
    return {
        sb.name: views.build_frames(fetch_raw(sb.nomad_addr, sb.consul_addr), cluster=sb.name, now=now) for sb in group
    }


def test_every_row_keeps_its_cluster_and_nothing_is_lost(per_cluster):
    fleet = combine_frames(per_cluster)
    for name in ("allocations", "jobs", "nodes", "services", "deployments"):
        total = sum(len(getattr(f, name)) for f in per_cluster.values())
        assert len(getattr(fleet, name)) == total, name
        assert set(getattr(fleet, name)["cluster"]) == set(per_cluster), name
    west_nodes = fleet.nodes[fleet.nodes["cluster"] == "ca-west"]
    assert set(west_nodes["datacenter"]) == {"ca-van-1", "ca-cgy-1", "us-west-2"}


def test_a_client_in_both_clusters_is_one_row_made_of_its_parts(group, per_cluster):
    fleet = combine_frames(per_cluster)
    clients = fleet.clients
    assert clients["client"].is_unique
    shared = group.shared_clients()
    assert shared
    east, west = (per_cluster[n].clients.set_index("client") for n in ("ca-east", "ca-west"))
    for slug in shared:
        row = clients[clients["client"] == slug].iloc[0]
        assert row["cluster"] == "ca-east, ca-west"
        assert row["jobs"] == east.loc[slug, "jobs"] + west.loc[slug, "jobs"]
        assert row["running"] == east.loc[slug, "running"] + west.loc[slug, "running"]
        assert set(row["datacenters"]) == set(east.loc[slug, "datacenters"]) | set(west.loc[slug, "datacenters"])
        # Its status is its worst part's; an unhealthy part says which cluster it is in.
        assert row["rank"] == min(east.loc[slug, "rank"], west.loc[slug, "rank"])
        for name, part in (("ca-east", east), ("ca-west", west)):
            if part.loc[slug, "status"] != "healthy":
                assert f"{name}: {part.loc[slug, 'reason']}" in row["reason"]
    assert len(clients) == len(set(east.index) | set(west.index))
    # The cluster filter finds a shared client under either cluster.
    assert in_cluster(clients["cluster"], "ca-west").sum() == len(west)


def _snap(name, frames, *, ok=True):
    now = utcnow()
    status = SourceStatus(
        "jobs",
        ok,
        None if ok else "Nomad at http://127.0.0.1:1 cannot be reached (connection refused).",
        now - timedelta(seconds=90),
        now,
        error_kind=None if ok else "unavailable",
    )
    return Snapshot(name, frames, {"jobs": status}, now - timedelta(seconds=90))


def test_an_unreachable_cluster_is_named_once_and_keeps_its_last_data(per_cluster):
    east = _snap("ca-east", per_cluster["ca-east"])
    west = _snap("ca-west", per_cluster["ca-west"], ok=False)
    fleet = combine({"ca-east": east, "ca-west": west})
    assert unreachable({"ca-east": east, "ca-west": west}) == ["ca-west"]
    problems = fleet.problems()
    assert len(problems) == 1
    assert problems[0].startswith("Cluster ca-west is not answering (Nomad at http://127.0.0.1:1 cannot be reached")
    assert "Showing its data from" in problems[0]
    assert set(fleet.frames.allocations["cluster"]) == {"ca-east", "ca-west"}
    # A cluster that never answered adds no rows and blanks nothing.
    never = replace(west, built_at=None, sources={"jobs": replace(west.sources["jobs"], last_success=None)})
    fleet = combine({"ca-east": east, "ca-west": never})
    assert set(fleet.frames.allocations["cluster"]) == {"ca-east"}
    assert fleet.has_data and "No data from it yet" in fleet.problems()[0]


def test_search_spans_every_cluster(group, per_cluster):
    from views.search import search

    fleet = combine_frames(per_cluster)
    east = {c.slug for c in group["ca-east"].world.clients}
    west_only = next(c for c in group["ca-west"].world.clients if c.slug not in east)
    west_node = group["ca-west"].world.nodes[0]
    assert any(m.kind == "client" and west_only.slug in str(m.params) for m in search(fleet, west_only.slug))
    assert any(m.kind == "node" for m in search(fleet, west_node.name))
    assert not search(per_cluster["ca-east"], west_node.name)
