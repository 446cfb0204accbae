"""Several independent sandbox clusters at once (``python -m sandbox serve --clusters N``).

Each cluster is a whole ``Sandbox`` (its own World, clock, Nomad and Consul on their own
loopback ports) laid out by ``world.profile.cluster_profiles``: its own datacenters and region,
some clients shared with its neighbour. They are not federated, as at the company: nothing one
cluster serves mentions another.
"""

from __future__ import annotations

from .core import Sandbox
from .world.profile import cluster_profiles


class MultiSandbox:
    def __init__(
        self, clusters: int = 2, clients: int = 40, seed: int = 7, nomad_port: int = 0, consul_port: int = 0, **kwargs
    ):
        """``nomad_port``/``consul_port``: the first cluster's ports, the k-th gets +10*k (0: free ports).
        Other keyword arguments go to every ``Sandbox``; cluster k's seed is ``seed + k``."""
        profiles = cluster_profiles(clusters, clients, seed)
        self.clusters: list[Sandbox] = [
            Sandbox(
                clients=clients,
                seed=seed + k,
                nomad_port=nomad_port and nomad_port + 10 * k,
                consul_port=consul_port and consul_port + 10 * k,
                profile=profile,
                **kwargs,
            )
            for k, profile in enumerate(profiles)
        ]

    def __getitem__(self, name_or_index: str | int) -> Sandbox:
        if isinstance(name_or_index, int):
            return self.clusters[name_or_index]
        return next(sb for sb in self.clusters if sb.name == name_or_index)

    def __iter__(self):
        return iter(self.clusters)

    def __len__(self) -> int:
        return len(self.clusters)

    def start(self) -> MultiSandbox:
        for sb in self.clusters:
            sb.start()
        return self

    def stop(self) -> None:
        for sb in self.clusters:
            sb.stop()

    def __enter__(self) -> MultiSandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def shared_clients(self) -> list[str]:
        """Slugs of clients with deployments in more than one cluster."""
        seen: dict[str, int] = {}
        for sb in self.clusters:
            for c in sb.world.clients:
                seen[c.slug] = seen.get(c.slug, 0) + 1
        return sorted(slug for slug, n in seen.items() if n > 1)

    def describe(self) -> dict:
        return {
            sb.name: dict(sb.describe(), region=sb.world.profile.region, datacenters=list(sb.world.profile.datacenters))
            for sb in self.clusters
        }
