"""Several sandbox clusters at once, over real HTTP: each its own Nomad + Consul pair, datacenters
and region, some clients in two clusters, a few placements outside Canada; one stopping leaves
the other serving. The default single cluster is the world it always was.

Nomad's region and datacenter fields follow command/agent/region_endpoint.go (/v1/regions) and
api/nodes.go (NodeListStub.Datacenter) of Nomad v1.11.3.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from sandbox import MultiSandbox, Sandbox


def get(addr, path):
    r = requests.get(addr + path, timeout=10)
    r.raise_for_status()
    return r.json()


@pytest.fixture(scope="module")
def group():
    with MultiSandbox(clusters=2, clients=40, frozen=True) as g:
        yield g


def test_each_cluster_serves_its_own_datacenters_and_region(group):
    east, west = group["ca-east"], group["ca-west"]
    assert east.nomad_addr != west.nomad_addr and east.consul_addr != west.consul_addr
    assert get(east.nomad_addr, "/v1/regions") == ["ca-east"]
    assert get(west.nomad_addr, "/v1/regions") == ["ca-west"]
    east_dcs = {n["Datacenter"] for n in get(east.nomad_addr, "/v1/nodes")}
    west_dcs = {n["Datacenter"] for n in get(west.nomad_addr, "/v1/nodes")}
    assert east_dcs == {"ca-tor-1", "ca-mtl-1", "us-east-1"}
    assert west_dcs == {"ca-van-1", "ca-cgy-1", "us-west-2"}
    assert get(west.consul_addr, "/v1/catalog/datacenters") == sorted(west_dcs)
    job = get(west.nomad_addr, "/v1/jobs?namespace=*")[0]
    full = get(west.nomad_addr, f"/v1/job/{job['ID']}?namespace={job['Namespace']}")
    assert full["Region"] == "ca-west"


def test_some_clients_run_in_both_clusters(group):
    shared = group.shared_clients()
    assert 3 <= len(shared) <= 12
    for sb in group:
        namespaces = {j["Namespace"] for j in get(sb.nomad_addr, "/v1/jobs?namespace=*")}
        assert set(shared) <= namespaces
    # The first cluster keeps the seed's first client, the stable example of the docs.
    assert "northern-leaf" in {c.slug for c in group["ca-east"].world.clients}
    assert "northern-leaf" not in {c.slug for c in group["ca-west"].world.clients}


def test_the_clusters_together_seed_every_kind_of_trouble(group):
    """Each cluster has fewer clients than the single demo, so each starts at another place in
    the list of seeded problems: together the demo still shows an outage (a client down) and a
    pending allocation, and a shared client can be in trouble in one cluster only."""
    from sandbox.world.records import SCENARIOS

    seeded = {c.scenario for sb in group for c in sb.world.clients if c.scenario}
    assert seeded == set(SCENARIOS)
    down = next(c.slug for c in group[1].world.clients if c.scenario == "outage")
    east = next(c for c in group[0].world.clients if c.slug == down) if down in group[0].world.client_by_slug else None
    assert east is None or east.scenario != "outage"


def test_a_few_placements_are_outside_canada(group):
    for sb in group:
        nodes = {n["ID"]: n["Datacenter"] for n in get(sb.nomad_addr, "/v1/nodes")}
        allocs = get(sb.nomad_addr, "/v1/allocations?namespace=*")
        abroad = [a for a in allocs if not nodes[a["NodeID"]].startswith("ca-")]
        assert 0 < len(abroad) < len(allocs) / 4, sb.name
        # At least one of them belongs to a client whose own record allows Canada only.
        kv = {c.slug: c.allowed_datacenters for c in sb.world.clients}
        assert any(not any(d.startswith("us-") for d in kv[a["Namespace"]]) for a in abroad), sb.name


def test_one_cluster_stopped_leaves_the_other_serving():
    with MultiSandbox(clusters=2, clients=12, frozen=True) as g:
        east = g["ca-east"].nomad_addr
        g["ca-east"].stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(east + "/v1/jobs", timeout=5)
        assert get(g["ca-west"].nomad_addr, "/v1/jobs?namespace=*")


def test_the_default_single_cluster_is_unchanged():
    single = Sandbox(clients=10, frozen=True, start_time=1_700_000_000)
    one = MultiSandbox(clusters=1, clients=10, frozen=True, start_time=1_700_000_000)
    assert len(one) == 1 and one[0].name == "default"
    assert one[0].world.digest() == single.world.digest()
    assert single.world.profile.region == "global"
    assert {n.dc for n in single.world.nodes} == {"ca-tor-1", "ca-mtl-1", "us-east-1"}


def test_serve_clusters_prints_each_clusters_addresses():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--clusters",
            "2",
            "--clients",
            "8",
            "--frozen",
            "--nomad-port",
            "0",
            "--consul-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("# ready"):
                break
        addrs = [line.split("=", 1)[1].strip() for line in lines if line.startswith("NOMAD_ADDR=")]
        assert len(addrs) == 2 and addrs[0] != addrs[1]
        assert [get(a, "/v1/regions") for a in addrs] == [["ca-east"], ["ca-west"]]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
