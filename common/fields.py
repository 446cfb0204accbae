"""The fields of Nomad's and Consul's list responses the dashboard reads: written once.

``connectors.slim`` keeps only these keys when it slims a big list body, and the views
(``views.allocations``, ``views.deployments``, ``views.services``, ``views.checks``) read exactly these keys, so a field
the views start reading cannot be silently dropped by the connector: add it here and both follow.
tests/contract/test_snapshot_slim.py checks that slimmed and full bodies build the same frames.
"""

from __future__ import annotations

# Allocation stub (/v1/allocations?task_states=true), besides DeploymentStatus and TaskStates:
# (key, shared?)  shared values repeat across allocations (statuses, namespaces, node IDs, the
# evaluation that placed them, creation times), so the connector shares one object per response;
# IDs unique to one allocation are not worth sharing.
ALLOC_SCALAR_FIELDS: tuple[tuple[str, bool], ...] = (
    ("ID", False),
    ("Namespace", True),
    ("JobID", True),
    ("TaskGroup", True),
    ("ClientStatus", True),
    ("NodeID", True),
    ("Name", False),
    ("JobType", True),
    ("JobVersion", False),
    ("NodeName", True),
    ("ClientDescription", True),
    ("DesiredStatus", True),
    ("DesiredDescription", True),
    ("CreateTime", True),
    ("ModifyTime", True),
    ("EvalID", True),
    ("NextAllocation", False),
)
# Of DeploymentStatus only "Healthy" is read.
ALLOC_FIELDS: tuple[str, ...] = tuple(k for k, _ in ALLOC_SCALAR_FIELDS) + ("DeploymentStatus", "TaskStates")
# TaskStates[task]
TASK_STATE_FIELDS: tuple[str, ...] = ("State", "Failed", "Restarts", "LastRestart", "Events")
# TaskStates[task].Events[i]. The slimmed list keeps a task's events as one flat tuple of these
# values, in this order, event after event (None where Nomad left a field out), not as dicts:
# 56 bytes an event against ~270 (and ~100 as a tuple per event), ~550,000 events at 100,000
# allocations. Readers of raw events take every form (``event_rows``).
EVENT_FIELDS: tuple[str, ...] = ("Time", "Type", "DisplayMessage", "Message", "ExitCode", "Signal", "FailsTask")
EV_TIME, EV_TYPE, EV_DISPLAY, EV_MESSAGE = 0, 1, 2, 3  # positions in an event row


def event_rows(events: object) -> list[tuple]:
    """A task's ``Events`` as ``EVENT_FIELDS`` rows: slimmed (one flat tuple of values), a list of
    rows, or as Nomad sent them (dicts); anything else in a list is left out."""
    w = len(EVENT_FIELDS)
    if events.__class__ is tuple and len(events) % w == 0:
        return [events[i : i + w] for i in range(0, len(events), w)]
    if isinstance(events, list):
        return [row for e in events if (row := event_row(e)) is not None]
    return []


def event_row(e: object) -> tuple | None:
    """A task event as its ``EVENT_FIELDS`` tuple, whether slimmed (a tuple) or as Nomad sent it (a
    dict); None for anything else."""
    if e.__class__ is tuple:
        return e
    if isinstance(e, dict):
        return tuple(map(e.get, EVENT_FIELDS))
    return None


# Deployments (/v1/deployments lists whole Deployment objects, nomad/structs/deployment.go): what
# views.deployments and the deployment history (views.deploy_history, history.recorder) read, and
# of each TaskGroups[group] (DeploymentState) the counts and flags they read.
DEPLOYMENT_FIELDS: tuple[str, ...] = (
    "ID",
    "Namespace",
    "JobID",
    "JobVersion",
    "TaskGroups",
    "Status",
    "StatusDescription",
    "CreateIndex",
    "ModifyIndex",
    "CreateTime",
    "ModifyTime",
)
DEPLOYMENT_GROUP_FIELDS: tuple[str, ...] = (
    "DesiredTotal",
    "DesiredCanaries",
    "PlacedAllocs",
    "HealthyAllocs",
    "UnhealthyAllocs",
    "Promoted",
    "AutoRevert",
)
# Consul /v1/catalog/service/:name entries (ServiceMeta is kept whole: the client key is configurable).
CATALOG_FIELDS: tuple[str, ...] = (
    "ServiceName",
    "ServiceID",
    "Node",
    "Datacenter",
    "ServiceAddress",
    "Address",
    "ServicePort",
    "ServiceTags",
    "ServiceMeta",
)
# Consul /v1/health/state/:state checks.
CHECK_FIELDS: tuple[str, ...] = ("Node", "CheckID", "Name", "Status", "Output", "Notes", "ServiceID", "ServiceName")
