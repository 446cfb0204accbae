"""The raw allocation JSON support may read: an ALLOWLIST of the fields support needs (pure).

Anything not named here is left out, so a field Nomad adds tomorrow (or one a job author fills
with a password) is not shown until someone decides it is safe. Every string that is kept has the
credentials taken out of its URLs: ``user:token@`` and the query string (go-getter URLs carry
``?aws_access_key_id=...``, ``?sshkey=...``, signed-URL signatures).

Field names follow Nomad's structs (nomad/structs/structs.go, v1.11.3: Allocation, Job,
TaskGroup, Task, Service, ServiceCheck, TaskArtifact, TaskState, TaskEvent).
"""

from __future__ import annotations

import re
from typing import Any

TREE = "tree"  # keep the value with everything under it (only for parts that hold no free text from job authors)
KEEP = "keep"  # keep a scalar, or a list of scalars
NOTE = "Only the fields support needs are shown; URLs lose their user:password@ and ?query."

_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?(#\S*)?")
_GETTER_USERINFO = re.compile(r"^((?:[a-z0-9]+::)?(?:[a-z][a-z0-9+.-]*://)?)[^/\s?#@]*@", re.IGNORECASE)
REMOVED_QUERY = "?(query removed)"


def strip_url_secrets(text: str) -> str:
    """Every ``scheme://user:pass@host/path?query#frag`` in ``text`` as ``scheme://host/path?(query removed)``."""

    def clean(m: re.Match) -> str:
        return m.group(1) + m.group(3) + (REMOVED_QUERY if m.group(4) else "")

    return _URL.sub(clean, text)


def getter_source(value: Any) -> Any:
    """An artifact source (go-getter: ``s3::bucket/x?aws_access_key_id=..``, ``git::https://tok@host/x``,
    ``github.com/x?ref=..``) without its userinfo and query, whatever its form."""
    if not isinstance(value, str):
        return value
    base, sep, _ = value.partition("?")
    return _GETTER_USERINFO.sub(r"\1", base) + (REMOVED_QUERY if sep else "")


def _scalar(value: Any) -> Any:
    return strip_url_secrets(value) if isinstance(value, str) else value


def _tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tree(v) for v in value]
    return _scalar(value)


def _keep(value: Any) -> Any:
    if isinstance(value, list):
        return [_scalar(v) for v in value if not isinstance(v, (dict, list))]
    return None if isinstance(value, dict) else _scalar(value)


class Each:
    """A map whose keys are names (task names, in TaskStates) with the same shape under each."""

    def __init__(self, spec):
        self.spec = spec


def apply(spec, value: Any) -> Any:
    """``value`` reduced to what ``spec`` allows. A dict spec applies to a dict or to each dict of a list."""
    if value is None:
        return None
    if spec == TREE:
        return _tree(value)
    if spec == KEEP:
        return _keep(value)
    if callable(spec):
        return spec(value)
    if isinstance(spec, Each):
        return {str(k): apply(spec.spec, v) for k, v in value.items()} if isinstance(value, dict) else None
    if isinstance(value, list):
        return [apply(spec, v) for v in value]
    if not isinstance(value, dict):
        return None
    return {k: apply(spec[k], v) for k, v in value.items() if k in spec}


def _fields(*names: str, **nested) -> dict:
    return {**dict.fromkeys(names, KEEP), **nested}


CHECK = _fields(
    "Name",
    "Type",
    "Path",
    "Protocol",
    "PortLabel",
    "AddressMode",
    "Interval",
    "Timeout",
    "InitialStatus",
    "Method",
    "TaskName",
    "GRPCService",
    "GRPCUseTLS",
    "TLSSkipVerify",
    "SuccessBeforePassing",
    "FailuresBeforeCritical",
    "FailuresBeforeWarning",
    "OnUpdate",
    CheckRestart=TREE,
)  # not Command/Args (scripts), Header (Authorization), Body
SERVICE = _fields(
    "Name",
    "TaskName",
    "PortLabel",
    "AddressMode",
    "Address",
    "Tags",
    "CanaryTags",
    "Namespace",
    "OnUpdate",
    "Provider",
    "Cluster",
    "Kind",
    "EnableTagOverride",
    Checks=CHECK,
)  # not Meta, Connect (sidecar env/config), Identity
ARTIFACT = _fields("GetterMode", "RelativeDest", GetterSource=getter_source)  # not GetterOptions/Headers
TASK = _fields(
    "Name",
    "Driver",
    "User",
    "Leader",
    "KillTimeout",
    "KillSignal",
    "ShutdownDelay",
    "Kind",
    Config=_fields("image", "command", "ports"),  # the image, not args, auth, volumes or entrypoint scripts
    Resources=TREE,
    RestartPolicy=TREE,
    Lifecycle=TREE,
    LogConfig=TREE,
    Constraints=TREE,
    Affinities=TREE,
    VolumeMounts=TREE,
    Services=SERVICE,
    Artifacts=ARTIFACT,
)  # not Env, Templates, Vault, Consul, Secrets, Identity/Identities, Meta, DispatchPayload, Actions
GROUP = _fields(
    "Name",
    "Count",
    "ShutdownDelay",
    "StopAfterClientDisconnect",
    "MaxClientDisconnect",
    "PreventRescheduleOnLost",
    Update=TREE,
    Migrate=TREE,
    Constraints=TREE,
    Affinities=TREE,
    Spreads=TREE,
    RestartPolicy=TREE,
    ReschedulePolicy=TREE,
    Disconnect=TREE,
    EphemeralDisk=TREE,
    Networks=TREE,
    Services=SERVICE,
    Tasks=TASK,
)  # not Meta, Consul, Volumes (sources), Scaling policies
JOB = _fields(
    "ID",
    "ParentID",
    "Name",
    "Namespace",
    "Region",
    "Type",
    "Priority",
    "AllAtOnce",
    "Datacenters",
    "NodePool",
    "Status",
    "StatusDescription",
    "Stable",
    "Version",
    "SubmitTime",
    "Stop",
    "Dispatched",
    "CreateIndex",
    "ModifyIndex",
    "JobModifyIndex",
    Constraints=TREE,
    Affinities=TREE,
    Spreads=TREE,
    Update=TREE,
    Periodic=TREE,
    TaskGroups=GROUP,
)  # not Meta, Payload, NomadTokenID, DispatchIdempotencyToken, ConsulNamespace/VaultNamespace, UI
TASK_STATE = _fields(
    "State", "Failed", "Restarts", "LastRestart", "StartedAt", "FinishedAt", Events=TREE
)  # not TaskHandle (driver state)
ALLOCATION = _fields(
    "ID",
    "Namespace",
    "EvalID",
    "Name",
    "NodeID",
    "NodeName",
    "JobID",
    "TaskGroup",
    "DesiredStatus",
    "DesiredDescription",
    "ClientStatus",
    "ClientDescription",
    "PreviousAllocation",
    "NextAllocation",
    "DeploymentID",
    "FollowupEvalID",
    "PreemptedAllocations",
    "PreemptedByAllocation",
    "CreateIndex",
    "ModifyIndex",
    "AllocModifyIndex",
    "CreateTime",
    "ModifyTime",
    Job=JOB,
    TaskStates=Each(TASK_STATE),
    AllocatedResources=TREE,
    Metrics=TREE,
    DesiredTransition=TREE,
    DeploymentStatus=TREE,
    RescheduleTracker=TREE,
    AllocStates=TREE,
    NetworkStatus=_fields("InterfaceName", "Address", "AddressIPV6"),
)  # not SignedIdentities, SigningKeyID, the old Resources/TaskResources copies


def redact_allocation(alloc: Any) -> dict:
    """A new dict with only the allowlisted fields of one allocation's JSON (input untouched)."""
    return apply(ALLOCATION, alloc) if isinstance(alloc, dict) else {}
