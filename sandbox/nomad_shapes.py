"""World records -> the JSON shapes Nomad's HTTP API sends (Nomad 1.11 release builds).

The key sets follow the Go structs the handlers encode (nomad/structs/structs.go, alloc.go,
deployment.go) and the release encoder's rules (go-msgpack codec with generated code: codec
tags only, so a ``json:",omitempty"`` tag does not omit; a ``_struct`` omitempty field, as in
Allocation, Evaluation, NetworkResource and Port, leaves out every zero field). The contract
test ``tests/contract/test_structs_contract.py`` holds every body to those key lists.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from .clock import NS
from .world import Alloc, ConsulService, Deployment, Evaluation, Job, Node, TaskState, World

# Every task event carries all of these, empty when unused (see the /v1/allocations sample).
_EVENT_BLANK = {
    "Details": {},
    "DiskLimit": 0,
    "DisplayMessage": "",
    "DownloadError": "",
    "DriverError": "",
    "DriverMessage": "",
    "ExitCode": 0,
    "FailedSibling": "",
    "FailsTask": False,
    "GenericSource": "",
    "KillError": "",
    "KillReason": "",
    "KillTimeout": 0,
    "Message": "",
    "RestartReason": "",
    "SetupError": "",
    "Signal": 0,
    "StartDelay": 0,
    "TaskSignal": "",
    "TaskSignalReason": "",
    "Time": 0,
    "Type": "",
    "ValidationError": "",
    "VaultError": "",
}


ZERO_TIME = "0001-01-01T00:00:00Z"


def fmt_time(ns: int) -> str:
    """Go's RFC3339Nano; a zero time.Time is "0001-01-01T00:00:00Z" (go-msgpack codec/json.go)."""
    if not ns:
        return ZERO_TIME
    dt = datetime.fromtimestamp(ns // NS, tz=UTC)
    frac = f"{ns % NS:09d}".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def _is_zero(v) -> bool:
    if isinstance(v, dict):
        return all(_is_zero(x) for x in v.values())
    return v is None or v is False or v == 0 or v == "" or v == [] or v == ZERO_TIME


def omit_zero(d: dict) -> dict:
    """A ``_struct`` omitempty type: the codec leaves out every zero field (nil, "", 0, false,
    empty list/map, zero time, a struct whose fields are all zero)."""
    return {k: v for k, v in d.items() if not _is_zero(v)}


def _display(etype: str, f: dict) -> str:
    if etype == "Received":
        return "Task received by client"
    if etype == "Started":
        return "Task started by client"
    if etype == "Terminated":
        msg = f"Exit Code: {f.get('ExitCode', 0)}"
        if f.get("Signal"):
            msg += f", Signal: {f['Signal']}"
        if f.get("Message"):
            msg += f', Exit Message: "{f["Message"]}"'
        return msg
    if etype == "Restarting":
        delay = f.get("StartDelay", 0)
        return f"Task restarting in {delay / NS:.9g}s" if delay else f.get("RestartReason", "")
    if etype == "Killing":
        return f"Sent interrupt. Waiting {f.get('KillTimeout', 0) // NS}s before force killing"
    if etype == "Killed":
        return "Task successfully killed"
    if etype == "Sibling Task Failed":
        return f'Task\'s sibling "{f.get("FailedSibling")}" failed'
    if etype == "Driver":
        return f.get("DriverMessage", "")
    return f.get("Message") or f.get("RestartReason") or ""


def event_dict(ev) -> dict:
    etype, t, extra = ev
    d = dict(_EVENT_BLANK)
    d["Details"] = {}
    d["Type"], d["Time"] = etype, t
    if extra:
        d.update(extra)
    d["DisplayMessage"] = _display(etype, d)
    return d


def task_state_dict(ts: TaskState) -> dict:
    return {
        "Events": [event_dict(e) for e in ts.events],
        "Failed": ts.failed,
        "FinishedAt": fmt_time(ts.finished_ns),
        "LastRestart": fmt_time(ts.last_restart_ns),
        "Restarts": ts.restarts,
        "StartedAt": fmt_time(ts.started_ns),
        "State": ts.state,
        "Paused": "",
    }


# ------------------------------------------------------------------ jobs
def _image(job: Job, version: int) -> str:
    return f"registry.example.ca/{job.client.slug}/{job.role.name}:{job.versions[version].app_version}"


def _resources(cpu: int, memory: int, disk: int = 0, networks=None) -> dict:
    """structs.Resources (task resources in a job spec, legacy alloc resources)."""
    return {
        "CPU": cpu,
        "Cores": 0,
        "MemoryMB": memory,
        "MemoryMaxMB": 0,
        "DiskMB": disk,
        "IOPS": 0,
        "Networks": networks,
        "Devices": None,
        "NUMA": None,
        "SecretsMB": 0,
    }


_RESTART = {"Attempts": 2, "Interval": 1800 * NS, "Delay": 15 * NS, "Mode": "fail", "RenderTemplates": False}


def _task(job: Job, name: str, version: int, first: bool) -> dict:
    role = job.role
    app_version = job.versions[version].app_version
    services = None
    if first and role.service:
        # Service.Canonicalize sets TaskName (and each check's) for task-level services.
        services = [
            {
                "Name": role.service,
                "TaskName": name,
                "PortLabel": role.port,
                "AddressMode": "auto",
                "Address": "",
                "EnableTagOverride": False,
                "Tags": ["http"],
                "CanaryTags": None,
                "Checks": [
                    {
                        "Name": f'service: "{role.service}" check',
                        "Type": "http",
                        "Command": "",
                        "Args": None,
                        "Path": "/health",
                        "Protocol": "",
                        "PortLabel": "",
                        "Expose": False,
                        "AddressMode": "",
                        "Interval": 10 * NS,
                        "Timeout": 2 * NS,
                        "InitialStatus": "",
                        "Notes": "",
                        "TLSServerName": "",
                        "TLSSkipVerify": False,
                        "Method": "GET",
                        "Header": None,
                        "CheckRestart": None,
                        "GRPCService": "",
                        "GRPCUseTLS": False,
                        "TaskName": name,
                        "SuccessBeforePassing": 0,
                        "FailuresBeforeCritical": 0,
                        "FailuresBeforeWarning": 0,
                        "Body": "",
                        "OnUpdate": "require_healthy",
                    }
                ],
                "Connect": None,
                "Meta": {"client": job.client.slug, "version": app_version},
                "CanaryMeta": None,
                "Weights": None,
                "TaggedAddresses": None,
                "Namespace": "default",
                "OnUpdate": "require_healthy",
                "Provider": role.provider,
                "Cluster": "default",
                "Identity": None,
                "Kind": "",
            }
        ]
    sidecar = not first
    return {
        "Name": name,
        "Driver": "docker",
        "User": "",
        "Config": (
            {"image": _image(job, version), "ports": [role.port]}
            if first
            else {"image": "registry.example.ca/platform/vector:0.39", "args": ["--config", "local/vector.toml"]}
        ),
        "Env": {"CLIENT": job.client.slug, "APP_VERSION": app_version, "LOG_LEVEL": "info"},
        "Services": services,
        "Vault": None,
        "Secrets": None,
        "Consul": None,
        "Templates": [
            {
                "SourcePath": "",
                "DestPath": "local/app.env",
                "EmbeddedTmpl": '{{ with nomadVar "nomad/jobs" }}{{ end }}',
                "ChangeMode": "restart",
                "ChangeSignal": "",
                "ChangeScript": None,
                "Once": False,
                "Splay": 5 * NS,
                "Perms": "0644",
                "Uid": None,
                "Gid": None,
                "LeftDelim": "{{",
                "RightDelim": "}}",
                "Envvars": False,
                "VaultGrace": 0,
                "Wait": None,
                "ErrMissingKey": False,
            }
        ]
        if first
        else None,
        "Constraints": None,
        "Affinities": None,
        "Resources": _resources(role.cpu if first else 100, role.memory if first else 128),
        "DispatchPayload": None,
        "Meta": None,
        "KillTimeout": 5 * NS,
        "LogConfig": {"Disabled": False, "MaxFiles": 10, "MaxFileSizeMB": 10},
        "Artifacts": None,
        "Leader": False,
        "Kind": "",
        "KillSignal": "",
        "ShutdownDelay": 0,
        "CSIPluginConfig": None,
        "ScalingPolicies": None,
        "VolumeMounts": None,
        "RestartPolicy": dict(_RESTART),
        "Lifecycle": {"Hook": "poststart", "Sidecar": True} if sidecar else None,
        "Identity": None,
        "Identities": None,
        "Actions": None,
        "Schedule": None,
    }


def job_full(w: World, job: Job, version: int | None = None) -> dict:
    role = job.role
    v = job.version.number if version is None else version
    ver = job.versions[v]
    latest = v == job.version.number
    count = len({a.index for a in job.allocs}) or role.count
    group = {
        "Name": role.name,
        "Count": count,
        "Constraints": None,
        "Affinities": None,
        "Spreads": None,
        "RestartPolicy": dict(_RESTART),
        "Disconnect": None,
        "MaxClientDisconnect": 300 * NS,
        "StopAfterClientDisconnect": None,
        "ShutdownDelay": None,
        "Scaling": None,
        "Migrate": {"HealthCheck": "checks", "HealthyDeadline": 300 * NS, "MaxParallel": 1, "MinHealthyTime": 10 * NS},
        "ReschedulePolicy": {
            "Attempts": 0,
            "Interval": 0,
            "Delay": 30 * NS,
            "DelayFunction": "exponential",
            "MaxDelay": 3600 * NS,
            "Unlimited": True,
        },
        "Networks": [
            # NetworkResource and Port are _struct omitempty: only non-zero fields are sent.
            {"Mode": "bridge", "DynamicPorts": [{"Label": role.port, "To": 8080, "HostNetwork": "default"}]}
        ],
        "Consul": None,
        "Tasks": [_task(job, t, v, i == 0) for i, t in enumerate(role.tasks)],
        "EphemeralDisk": {"Sticky": False, "SizeMB": 300, "Migrate": False},
        "Meta": None,
        "Services": None,
        "Volumes": None,
        "PreventRescheduleOnLost": False,
        "Update": (
            {
                "AutoPromote": False,
                "AutoRevert": True,
                "Canary": 0,
                "HealthCheck": "checks",
                "HealthyDeadline": 300 * NS,
                "MaxParallel": 1,
                "MinHealthyTime": 10 * NS,
                "ProgressDeadline": 600 * NS,
                "Stagger": 30 * NS,
            }
            if role.type == "service"
            else None
        ),
    }
    periodic = (
        {
            "Enabled": True,
            "Spec": "0 2 * * *",
            "Specs": None,
            "SpecType": "cron",
            "ProhibitOverlap": True,
            "TimeZone": "America/Toronto",
        }
        if role.periodic and job.parent is None
        else None
    )
    return {
        "Region": w.profile.region,
        "Namespace": job.namespace,
        "ID": job.id,
        "ParentID": job.parent.id if job.parent else "",
        "Name": job.id,
        "Type": role.type,
        "Priority": 50,
        "AllAtOnce": False,
        "Datacenters": list(job.client.datacenters),
        "NodePool": "default",
        "Constraints": [{"LTarget": "${attr.kernel.name}", "RTarget": "linux", "Operand": "="}],
        "Affinities": None,
        "Spreads": None,
        "TaskGroups": [group],
        "Update": {
            "Stagger": 30 * NS,
            "MaxParallel": 1,
            "HealthCheck": "",
            "MinHealthyTime": 0,
            "HealthyDeadline": 0,
            "ProgressDeadline": 0,
            "AutoRevert": False,
            "AutoPromote": False,
            "Canary": 0,
        },
        "Multiregion": None,
        "Periodic": periodic,
        "ParameterizedJob": None,
        "Dispatched": False,
        "DispatchIdempotencyToken": "",
        "Payload": None,
        "Meta": {"client": job.client.slug, "version": ver.app_version, "team": "platform"},
        "ConsulNamespace": "",
        "VaultNamespace": "",
        "NomadTokenID": "",
        "Status": job.status if latest else "dead",
        "StatusDescription": "",
        "Stable": ver.stable,
        "Version": v,
        "SubmitTime": ver.submit_ns,
        "Stop": job.stop,
        "CreateIndex": job.create_index,
        "ModifyIndex": job.modify_index if latest else ver.index,
        "JobModifyIndex": ver.index,
        "UI": None,
        "VersionTag": None,
    }


def summary_index(job: Job) -> int:
    """A JobSummary's ModifyIndex: the state store rewrites the summary when the job is registered,
    when one of its allocations is new or changes client status (nomad/state/state_store.go
    updateSummaryWithJob, updateSummaryWithAlloc), and when a periodic child changes status."""
    return max(
        job.create_index,
        job.summary_modify,
        max((c.modify_index for c in job.children), default=0),
    )


def job_summary(w: World, job: Job) -> dict:
    # JobChildrenSummary counts the child jobs (periodic runs) by their status.
    children = {"Pending": 0, "Running": 0, "Dead": 0}
    for child in job.children:
        children[{"pending": "Pending", "running": "Running"}.get(child.status, "Dead")] += 1
    return {
        "JobID": job.id,
        "Namespace": job.namespace,
        "Summary": {job.role.name: w.summary(job)},
        "Children": children,
        "CreateIndex": job.create_index,
        "ModifyIndex": summary_index(job),
    }


def job_stub(w: World, job: Job, meta: bool) -> dict:
    d = {
        "ID": job.id,
        "ParentID": job.parent.id if job.parent else "",
        "Name": job.id,
        "Namespace": job.namespace,
        "Datacenters": list(job.client.datacenters),
        "NodePool": "default",
        "Multiregion": None,
        "Type": job.role.type,
        "Priority": 50,
        "Periodic": job.role.periodic and job.parent is None,
        "ParameterizedJob": False,
        "Stop": job.stop,
        "Status": job.status,
        "StatusDescription": "",
        "JobSummary": job_summary(w, job),
        "CreateIndex": job.create_index,
        "ModifyIndex": job.modify_index,
        "JobModifyIndex": job.job_modify_index,
        "SubmitTime": job.version.submit_ns,
        # JobListStub has no Version. Job.Stub fills Meta only when asked (meta=true); a release
        # build still sends the key as null (codec tags only, json omitempty ignored).
        "Meta": {"client": job.client.slug, "version": job.version.app_version, "team": "platform"} if meta else None,
    }
    return d


def job_diff(w: World, job: Job, old: int, new: int) -> dict:
    o, n = job.versions[old].app_version, job.versions[new].app_version

    def field(name, a, b):
        return {"Annotations": None, "Name": name, "New": b, "Old": a, "Type": "Edited"}

    task = {
        "Annotations": None,
        "Name": job.role.tasks[0],
        "Type": "Edited",
        "Fields": [field("Env[APP_VERSION]", o, n)],
        "Objects": [
            {
                "Fields": [field("image", _image(job, old), _image(job, new))],
                "Name": "Config",
                "Objects": None,
                "Type": "Edited",
            }
        ],
    }
    return {
        "Fields": [field("Meta[version]", o, n)],
        "ID": job.id,
        "Objects": None,
        "Type": "Edited",
        "TaskGroups": [
            {"Fields": None, "Name": job.role.name, "Objects": None, "Tasks": [task], "Type": "Edited", "Updates": None}
        ],
    }


# ------------------------------------------------------------ allocations
def _allocated_resources(a: Alloc) -> dict:
    role = a.job.role
    tasks = {}
    for i, t in enumerate(role.tasks):
        tasks[t] = {
            "Cpu": {"CpuShares": role.cpu if i == 0 else 100, "ReservedCores": None},
            "Memory": {"MemoryMB": role.memory if i == 0 else 128, "MemoryMaxMB": 0},
            "Networks": None,
            "Devices": None,
        }
    return {
        "Tasks": tasks,
        "TaskLifecycles": {
            t: (None if i == 0 else {"Hook": "poststart", "Sidecar": True}) for i, t in enumerate(role.tasks)
        },
        "Shared": {
            "DiskMB": 300,
            "Networks": [
                omit_zero(
                    {
                        "Mode": "bridge",
                        "IP": a.node.address,
                        "DynamicPorts": [
                            omit_zero({"Label": role.port, "Value": a.port, "To": 8080, "HostNetwork": "default"})
                        ],
                    }
                )
            ],
            "Ports": [omit_zero({"Label": role.port, "Value": a.port, "To": 8080, "HostIP": a.node.address})],
        },
    }


_DESIRED_TRANSITION = {
    "Migrate": None,
    "Reschedule": None,
    "ForceReschedule": None,
    "NoShutdownDelay": None,
    "MigrateDisablePlacement": None,
}


def _deployment_status(a: Alloc):
    if a.deployment is None:
        return None
    return {"Canary": False, "Healthy": a.healthy, "ModifyIndex": a.modify_index, "Timestamp": fmt_time(a.modify_ns)}


def _reschedule_tracker(w: World, a: Alloc) -> dict | None:
    """The RescheduleTracker of a rescheduled allocation (stub and full alloc carry the same).
    Only a replacement of a failed allocation is a reschedule; one placed by a job update or
    for a lost allocation has a PreviousAllocation but no tracker (scheduler/reconcile.go)."""
    prev = w.allocs.get(a.previous) if a.previous else None
    if prev is None or prev.client_status != "failed":
        return None
    return {
        "Events": [
            {
                "PrevAllocID": a.previous,
                "PrevNodeID": prev.node.id,
                "RescheduleTime": a.create_ns,
                "Delay": 30 * NS,
            }
        ],
        "LastReschedule": "ok",  # structs.LastRescheduleSuccess
    }


def alloc_stub(w: World, a: Alloc, task_states: bool = True, resources: bool = False) -> dict:
    d = {
        "ID": a.id,
        "EvalID": a.eval_id,
        "Name": a.name,
        "Namespace": a.job.namespace,
        "NodeID": a.node.id,
        "NodeName": a.node.name,
        "JobID": a.job.id,
        "JobType": a.job.role.type,
        "JobVersion": a.version,
        "TaskGroup": a.job.role.name,
        "DeploymentStatus": _deployment_status(a),
        "DesiredStatus": a.desired_status,
        "DesiredDescription": a.desired_description,
        "DesiredTransition": _DESIRED_TRANSITION,
        "ClientStatus": a.client_status,
        "ClientDescription": a.client_description,
        "FollowupEvalID": a.followup_eval,
        "NextAllocation": a.next,
        # AllocListStub has no PreviousAllocation (only the full Allocation does).
        "PreemptedAllocations": None,
        "PreemptedByAllocation": "",
        "RescheduleTracker": _reschedule_tracker(w, a),
        "CreateIndex": a.create_index,
        "ModifyIndex": a.modify_index,
        "CreateTime": a.create_ns,
        "ModifyTime": a.modify_ns,
    }
    # Allocation.Stub(fields): TaskStates nil with task_states=false, AllocatedResources only
    # with resources=true; a nil map/pointer is sent as null (nomad/structs/alloc.go).
    d["TaskStates"] = {ts.name: task_state_dict(ts) for ts in a.tasks} if task_states else None
    d["AllocatedResources"] = _allocated_resources(a) if resources else None
    return d


def alloc_plain(a: Alloc) -> dict:
    """The plain (scalar) fields of the full Allocation: what a filter on plain fields needs
    without the cost of the nested objects (the full render takes about 0.4 ms)."""
    return {
        "ID": a.id,
        "Namespace": a.job.namespace,
        "EvalID": a.eval_id,
        "Name": a.name,
        "NodeID": a.node.id,
        "NodeName": a.node.name,
        "PreviousAllocation": a.previous,
        "NextAllocation": a.next,
        "JobID": a.job.id,
        "TaskGroup": a.job.role.name,
        "DeploymentID": a.deployment.id if a.deployment else "",
        "DesiredStatus": a.desired_status,
        "DesiredDescription": a.desired_description,
        "ClientStatus": a.client_status,
        "ClientDescription": a.client_description,
        "FollowupEvalID": a.followup_eval,
        "CreateIndex": a.create_index,
        "ModifyIndex": a.modify_index,
        "AllocModifyIndex": a.alloc_modify_index,
    }


ALLOC_PLAIN_FIELDS = frozenset(
    [
        "ID",
        "Namespace",
        "EvalID",
        "Name",
        "NodeID",
        "NodeName",
        "PreviousAllocation",
        "NextAllocation",
        "JobID",
        "TaskGroup",
        "DeploymentID",
        "DesiredStatus",
        "DesiredDescription",
        "ClientStatus",
        "ClientDescription",
        "FollowupEvalID",
        "CreateIndex",
        "ModifyIndex",
        "AllocModifyIndex",
    ]
)

# structs.Allocation's field order, which the JSON encoder keeps.
_ALLOC_ORDER = [
    "ID",
    "Namespace",
    "EvalID",
    "Name",
    "NodeID",
    "NodeName",
    "PreviousAllocation",
    "NextAllocation",
    "RescheduleTracker",
    "JobID",
    "Job",
    "TaskGroup",
    "Resources",
    "SharedResources",
    "TaskResources",
    "AllocatedResources",
    "Metrics",
    "DeploymentID",
    "DeploymentStatus",
    "DesiredStatus",
    "DesiredDescription",
    "DesiredTransition",
    "ClientStatus",
    "ClientDescription",
    "FollowupEvalID",
    "TaskStates",
    "CreateIndex",
    "ModifyIndex",
    "AllocModifyIndex",
    "CreateTime",
    "ModifyTime",
]


def alloc_full(w: World, a: Alloc) -> dict:
    role = a.job.role
    net = [{"Device": "eth0", "IP": a.node.address, "DynamicPorts": [omit_zero({"Label": role.port, "Value": a.port})]}]
    task_res = {
        t: _resources(role.cpu if i == 0 else 100, role.memory if i == 0 else 128, 0, net if i == 0 else None)
        for i, t in enumerate(role.tasks)
    }
    fields = alloc_plain(a) | {
        "RescheduleTracker": _reschedule_tracker(w, a),
        "Job": job_full(w, a.job, a.version),
        "Resources": _resources(
            sum(r["CPU"] for r in task_res.values()), sum(r["MemoryMB"] for r in task_res.values()), 300, net
        ),
        "SharedResources": _resources(0, 0, 300),
        "TaskResources": task_res,
        "AllocatedResources": _allocated_resources(a),
        "Metrics": {
            "NodesEvaluated": 3,
            "NodesFiltered": 0,
            "NodesInPool": 3,
            "NodePool": "default",
            "NodesAvailable": {a.node.dc: 3},
            "ClassFiltered": None,
            "ConstraintFiltered": None,
            "NodesExhausted": 0,
            "ClassExhausted": None,
            "DimensionExhausted": None,
            "QuotaExhausted": None,
            "ResourcesExhausted": None,
            "Scores": {f"{a.node.id}.binpack": 0.62},
            "ScoreMetaData": None,
            "AllocationTime": 31729,
            "CoalescedFailures": 0,
        },
        "DeploymentStatus": _deployment_status(a),
        "DesiredTransition": _DESIRED_TRANSITION,
        "TaskStates": {ts.name: task_state_dict(ts) for ts in a.tasks},
        "CreateTime": a.create_ns,
        "ModifyTime": a.modify_ns,
    }
    # Allocation has a `_struct` omitempty field: every zero field is left out (alloc.go).
    return omit_zero({k: fields[k] for k in _ALLOC_ORDER})


# ------------------------------------------------------- deployments/evals
def deployment_dict(d: Deployment) -> dict:
    job = d.job
    return {
        "ID": d.id,
        "Namespace": job.namespace,
        "JobID": job.id,
        "JobVersion": d.version,
        "JobModifyIndex": job.versions[d.version].index,
        "JobSpecModifyIndex": job.versions[d.version].index,
        "JobCreateIndex": job.create_index,
        "IsMultiregion": False,
        "TaskGroups": {
            job.role.name: {
                "AutoRevert": d.auto_revert,
                "AutoPromote": False,
                "Promoted": False,
                "PlacedCanaries": None,
                "DesiredCanaries": 0,
                "DesiredTotal": d.desired,
                "PlacedAllocs": d.placed,
                "HealthyAllocs": d.healthy,
                "UnhealthyAllocs": d.unhealthy,
                "ProgressDeadline": 600 * NS,
                "RequireProgressBy": fmt_time(d.create_ns + 600 * NS),
            }
        },
        "Status": d.status,
        "StatusDescription": d.description,
        "EvalPriority": 50,  # the job's priority (job_full's Priority)
        "CreateIndex": d.create_index,
        "ModifyIndex": d.modify_index,
        # int64 Unix nanoseconds (nomad/structs/deployment.go); ModifyTime moves with each status change.
        "CreateTime": d.create_ns,
        "ModifyTime": d.modify_ns,
    }


def eval_dict(e: Evaluation) -> dict:
    """Evaluation has a `_struct` omitempty field: zero fields are left out (structs.go)."""
    job = e.job
    return omit_zero(
        {
            "ID": e.id,
            "Namespace": job.namespace,
            "Priority": 50,
            "Type": job.role.type,
            "TriggeredBy": e.triggered_by,
            "JobID": job.id,
            "JobModifyIndex": job.job_modify_index,
            "NodeID": e.node_id,
            "NodeModifyIndex": 0,
            "DeploymentID": e.deployment_id,
            "Status": e.status,
            "StatusDescription": e.description,
            "Wait": 0,
            "WaitUntil": fmt_time(e.wait_until_ns),
            "NextEval": "",
            "PreviousEval": e.previous,
            "BlockedEval": "",
            "FailedTGAllocs": None,
            "ClassEligibility": None,
            "EscapedComputedClass": False,
            "AnnotatePlan": False,
            "QueuedAllocations": None if e.queued is None else {job.role.name: e.queued},
            "SnapshotIndex": e.create_index,
            "CreateIndex": e.create_index,
            "ModifyIndex": e.modify_index,
            "CreateTime": e.create_ns,
            "ModifyTime": e.create_ns + 40_000_000,
        }
    )


# ------------------------------------------------------------------ nodes
_DRIVER = {
    "Attributes": {
        "driver.docker": "true",
        "driver.docker.version": "27.3.1",
        "driver.docker.bridge_ip": "172.17.0.1",
        "driver.docker.volumes.enabled": "true",
        "driver.docker.os_type": "linux",
        "driver.docker.runtimes": "runc",
    },
    "Detected": True,
    "HealthDescription": "Healthy",
    "Healthy": True,
    "UpdateTime": None,
}


def _drivers(n: Node, now_ns: int) -> dict:
    t = fmt_time(now_ns - 3600 * NS)
    return {
        "docker": dict(_DRIVER, UpdateTime=t),
        "exec": {
            "Attributes": {"driver.exec": "true"},
            "Detected": True,
            "HealthDescription": "Healthy",
            "Healthy": True,
            "UpdateTime": t,
        },
    }


NOMAD_VERSION = "1.11.3"  # the release the structs reference comes from


def _attributes(n: Node) -> dict:
    return {
        "cpu.arch": "amd64",
        "cpu.numcores": "8",
        "cpu.totalcompute": "20000",
        "kernel.name": "linux",
        "os.name": "ubuntu",
        "os.version": "24.04",
        "memory.totalbytes": "33554432000",
        "nomad.version": NOMAD_VERSION,
        "unique.hostname": n.name,
        "unique.network.ip-address": n.address,
        "consul.datacenter": n.dc,
        "consul.version": "1.22.1",
    }


def _node_resources(n: Node) -> dict:
    return {
        "Cpu": {"CpuShares": 20000, "TotalCpuCores": 8, "ReservableCpuCores": list(range(8))},
        "Processors": {
            # numalib.Topology goes through its own encoding extension (nomad/structs/extensions.go).
            "Topology": {
                "Nodes": [0],
                "Distances": [[10]],
                "Cores": [
                    {
                        "SocketID": 0,
                        "NodeID": 0,
                        "ID": i,
                        "Grade": True,
                        "Disable": False,
                        "BaseSpeed": 2500,
                        "MaxSpeed": 2500,
                        "GuessSpeed": 0,
                    }
                    for i in range(8)
                ],
                "OverrideTotalCompute": 0,
                "OverrideWitholdCompute": 0,
            }
        },
        "Memory": {"MemoryMB": 32000},
        "Disk": {"DiskMB": 200000},
        "Devices": None,
        "NodeNetworks": [
            {
                "Mode": "host",
                "Device": "eth0",
                "MacAddress": "02:42:ac:11:00:02",
                "Speed": 1000,
                "Addresses": [
                    {"Family": "ipv4", "Alias": "default", "Address": n.address, "ReservedPorts": "", "Gateway": ""}
                ],
            }
        ],
        # NetworkResource is _struct omitempty.
        "Networks": [{"CIDR": f"{n.address}/32", "Device": "eth0", "IP": n.address, "MBits": 1000}],
        "MinDynamicPort": 20000,
        "MaxDynamicPort": 32000,
    }


_RESERVED = {
    "Cpu": {"CpuShares": 0, "ReservedCpuCores": None},
    "Memory": {"MemoryMB": 0},
    "Disk": {"DiskMB": 0},
    "Networks": {"ReservedHostPorts": ""},
}


def node_stub(w: World, n: Node, resources: bool = False, os: bool = False) -> dict:
    """structs.NodeListStub from Node.Stub(fields): ``resources=true`` fills NodeResources and
    ReservedResources, ``os=true`` fills Attributes with only ``os.name``; otherwise those are nil
    and a release build sends them as null. Address is the host of HTTPAddr, Version the
    ``nomad.version`` attribute (command/agent/http.go parseNodeListStubFields; structs.go Stub)."""
    return {
        "Address": n.address,
        "ID": n.id,
        "Attributes": {"os.name": _attributes(n)["os.name"]} if os else None,
        "Datacenter": n.dc,
        "Name": n.name,
        "NodePool": "default",
        "NodeClass": "",
        "Version": NOMAD_VERSION,
        "Drain": False,
        "SchedulingEligibility": n.eligibility,
        "Status": n.status,
        "StatusDescription": "",
        "Drivers": _drivers(n, w.clock.now_ns()),
        "HostVolumes": None,
        "NodeResources": _node_resources(n) if resources else None,
        "ReservedResources": _RESERVED if resources else None,
        "LastDrain": None,
        "CreateIndex": n.create_index,
        "ModifyIndex": n.modify_index,
    }


def node_full(w: World, n: Node) -> dict:
    """structs.Node through the nodeExt encoding extension (nomad/structs/extensions.go): SecretID
    blanked, a top-level Drain added. The full Node has no Address or Version (stub-only keys)."""
    now = w.clock.now_ns()
    return {
        "ID": n.id,
        "SecretID": "",
        "Datacenter": n.dc,
        "Name": n.name,
        "CgroupParent": "",
        "HTTPAddr": f"{n.address}:4646",
        "TLSEnabled": False,
        "Attributes": _attributes(n),
        "NodeResources": _node_resources(n),
        "ReservedResources": _RESERVED,
        "Links": {"consul": f"{n.dc}.{n.name}"},
        "Meta": {"rack": f"r{int(n.address.split('.')[-1]) % 8}"},
        "NodeClass": "",
        "NodePool": "default",
        "ComputedClass": "v1:1234567890",
        "DrainStrategy": None,
        "SchedulingEligibility": n.eligibility,
        "Status": n.status,
        "StatusDescription": "",
        "IdentitySigningKeyID": "",
        "StatusUpdatedAt": now // NS - 30,
        "Events": [
            {"Message": m, "Subsystem": s, "Details": None, "Timestamp": fmt_time(t), "CreateIndex": n.create_index}
            for m, s, t in n.events
        ],
        "Drivers": _drivers(n, now),
        "CSIControllerPlugins": None,
        "CSINodePlugins": None,
        "HostVolumes": None,
        "GCVolumesOnNodeGC": False,
        "HostNetworks": None,
        "LastDrain": None,
        "NodeMaxAllocs": 0,
        "LastMissedHeartbeatIndex": 0,
        "LastAllocUpdateIndex": n.modify_index,
        "CreateIndex": n.create_index,
        "ModifyIndex": n.modify_index,
        "Drain": False,
    }


def _namespace(name: str, description: str, meta: dict | None, index: int) -> dict:
    """structs.Namespace; Hash is the []byte SetHash computes, sent as base64."""
    digest = hashlib.blake2b(f"{name}|{description}|{meta}".encode(), digest_size=32).digest()
    return {
        "Name": name,
        "Description": description,
        "Quota": "",
        "Capabilities": None,
        "NodePoolConfiguration": None,
        "VaultConfiguration": None,
        "ConsulConfiguration": None,
        "Meta": meta,
        "Hash": base64.b64encode(digest).decode(),
        "CreateIndex": index,
        "ModifyIndex": index,
    }


def default_namespace() -> dict:
    return _namespace("default", "Default shared namespace", None, 1)


def namespace_dict(c) -> dict:
    return _namespace(c.slug, c.name, {"client": c.slug, "display_name": c.name}, 5 + c.index)


def service_registration(s: ConsulService) -> dict:
    a = s.alloc
    return {
        "Address": s.address,
        "AllocID": a.id,
        "CreateIndex": s.create_index,
        "Datacenter": s.node.dc,
        "ID": f"_nomad-task-{a.id}-{a.job.role.name}-{s.name}-{a.job.role.port}",
        "JobID": a.job.id,
        "ModifyIndex": s.modify_index,
        "Namespace": a.job.namespace,
        "NodeID": s.node.id,
        "Port": s.port,
        "ServiceName": s.name,
        "Tags": list(s.tags),
    }
