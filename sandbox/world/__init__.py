"""The simulated platform: clients, nodes, jobs, allocations, deployments, checks.

``records`` holds the data objects, ``generation`` builds the start state from a
seed, ``lifecycle`` the changes an allocation goes through, ``simulation`` what
happens as simulated time moves, and ``state`` the ``World`` that ties them
together (indexes, lock, lookups).
"""

from .records import (
    CONSUL_TABLES,
    DATACENTERS,
    DAY,
    HOUR,
    NOMAD_TABLES,
    ROLES,
    SCENARIOS,
    Alloc,
    Client,
    ConsulService,
    Deployment,
    Evaluation,
    Job,
    Node,
    Role,
    TaskState,
    Version,
)
from .state import World

__all__ = [
    "CONSUL_TABLES",
    "DATACENTERS",
    "DAY",
    "HOUR",
    "NOMAD_TABLES",
    "ROLES",
    "SCENARIOS",
    "Alloc",
    "Client",
    "ConsulService",
    "Deployment",
    "Evaluation",
    "Job",
    "Node",
    "Role",
    "TaskState",
    "Version",
    "World",
]
