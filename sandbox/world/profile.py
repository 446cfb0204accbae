"""What makes one sandbox cluster differ from another: its datacenters, region and clients.

The default profile is the single cluster the sandbox always served (its world, digests and
tests are unchanged). ``cluster_profiles(n, clients, seed)`` lays out ``n`` independent (not
federated) clusters, as a company runs for geographic redundancy: each has its own Canadian
datacenters plus one outside Canada, and neighbouring clusters share a few clients (a client
whose deployments span two clusters).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..names import client_names


@dataclass(frozen=True)
class ClusterProfile:
    name: str = "default"
    region: str = "global"  # the Nomad region (each non-federated cluster has its own)
    home: tuple[str, ...] = ("ca-tor-1", "ca-mtl-1")  # Canadian datacenters, where clients run
    abroad: str = "us-east-1"  # where a few clients also run (the residency checks' material)
    shares: tuple[float, ...] = (0.45, 0.4, 0.15)  # of the nodes, per datacenter of ``datacenters``
    names: tuple[tuple[str, str], ...] | None = None  # (slug, name) of its clients; None: the seed's
    # Where in SCENARIOS this cluster's seeded trouble starts: a cluster has fewer clients than the
    # default 40, so without an offset no cluster of a small fleet would show an outage.
    scenarios_from: int = 0

    @property
    def datacenters(self) -> tuple[str, ...]:
        return (*self.home, self.abroad)


DEFAULT = ClusterProfile()

# Clusters in the order ``serve --clusters N`` starts them. East keeps the default datacenters.
LAYOUT = (
    ClusterProfile("ca-east", "ca-east", ("ca-tor-1", "ca-mtl-1"), "us-east-1"),
    ClusterProfile("ca-west", "ca-west", ("ca-van-1", "ca-cgy-1"), "us-west-2", scenarios_from=4),
    ClusterProfile("ca-atlantic", "ca-atlantic", ("ca-hfx-1", "ca-mtl-2"), "us-east-2", scenarios_from=2),
)


def cluster_profiles(count: int, clients: int, seed: int) -> list[ClusterProfile]:
    """``count`` profiles sharing one pool of ``clients`` names: cluster k gets its slice of the
    pool plus the last ~third of the previous cluster's slice (those clients span both)."""
    if not 1 <= count <= len(LAYOUT):
        raise ValueError(f"the sandbox serves 1 to {len(LAYOUT)} clusters (got {count})")
    if count == 1:
        return [DEFAULT]
    pool = client_names(clients, seed)
    step = len(pool) / count
    out = []
    for k, base in enumerate(LAYOUT[:count]):
        start = 0 if k == 0 else int(k * step - step / 3)
        stop = round((k + 1) * step)
        out.append(
            ClusterProfile(
                base.name,
                base.region,
                base.home,
                base.abroad,
                base.shares,
                tuple(pool[start:stop]),
                base.scenarios_from,
            )
        )
    return out
