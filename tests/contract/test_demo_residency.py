"""The shipped residency policy (config/dashboard.toml) against the demo's sandbox clusters (issue 12):
with one cluster and with two (what `make run` serves), the only findings are the seeded placements
outside Canada, i.e. the clients the sandbox itself allows Canadian datacenters only that also run abroad.
Each cluster's placements carry its region label (the `[[clusters]]` region)."""

from __future__ import annotations

import pytest

import config
from connectors.settings import load_all
from sandbox import MultiSandbox
from snapshot import Refresher
from views import residency
from views.fleet_merge import combine_frames


@pytest.mark.parametrize("clusters", [1, 2])
def test_the_demo_policy_finds_only_the_seeded_out_of_canada_placements(clusters):
    policy = config.load(config.DEFAULT_PATH).residency_policy
    with MultiSandbox(clusters=clusters, clients=40, seed=7, frozen=True) as group:
        entries = [
            {
                "name": sb.name,
                "region": sb.world.profile.region,
                "nomad_address": sb.nomad_addr,
                "consul_address": sb.consul_addr,
            }
            for sb in group
        ]
        frames, regions = {}, {}
        for s in load_all(entries, {"DASHBOARD_HTTP_TIMEOUT": "10"}):
            ref = Refresher(s, "namespace")
            ref.refresh_once()
            frames[s.name], regions[s.name] = ref.current().frames, s.region or ""
        # The sandbox's own record of where each client may run: the seeded violators run abroad anyway.
        seeded = {
            (sb.name, c.slug, sb.world.profile.abroad)
            for sb in group
            for c in sb.world.clients
            if sb.world.profile.abroad in c.datacenters and sb.world.profile.abroad not in c.allowed_datacenters
        }
    fleet = combine_frames(frames)
    found = residency.violations(fleet, policy, regions=regions)
    assert seeded and len(seeded) == clusters  # one per cluster
    assert set(found["verdict"]) == {"forbidden"}
    assert set(zip(found["cluster"], found["client"], found["datacenter"])) == seeded
    assert not len(residency.unpoliced(fleet, policy))
