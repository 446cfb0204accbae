"""World records -> the JSON shapes Nomad's HTTP API sends (field names as in Nomad 1.11)."""

from __future__ import annotations

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


def fmt_time(ns: int) -> str | None:
    """Go's RFC3339Nano; Nomad's JSON codec writes a zero time.Time as null."""
    if not ns:
        return None
    dt = datetime.fromtimestamp(ns // NS, tz=UTC)
    frac = f"{ns % NS:09d}".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


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
        "TaskHandle": None,
    }


# ------------------------------------------------------------------ jobs
def _image(job: Job, version: int) -> str:
    return f"registry.example.ca/{job.client.slug}/{job.role.name}:{job.versions[version].app_version}"


_RESTART = {"Attempts": 2, "Interval": 1800 * NS, "Delay": 15 * NS, "Mode": "fail", "RenderTemplates": False}


def _task(job: Job, name: str, version: int, first: bool) -> dict:
    role = job.role
    app_version = job.versions[version].app_version
    services = None
    if first and role.service:
        services = [
            {
                "Name": role.service,
                "PortLabel": role.port,
                "Provider": role.provider,
                "Tags": ["http"],
                "Meta": {"client": job.client.slug, "version": app_version},
                "Checks": [
                    {
                        "Name": f'service: "{role.service}" check',
                        "Type": "http",
                        "Path": "/health",
                        "Command": "",
                        "Args": None,
                        "Protocol": "",
                        "PortLabel": "",
                        "Method": "GET",
                        "Interval": 10 * NS,
                        "Timeout": 2 * NS,
                        "InitialStatus": "",
                    }
                ],
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
        "Templates": [
            {
                "SourcePath": "",
                "DestPath": "local/app.env",
                "EmbeddedTmpl": '{{ with nomadVar "nomad/jobs" }}{{ end }}',
                "ChangeMode": "restart",
                "ChangeSignal": "",
                "Splay": 5 * NS,
                "Perms": "0644",
            }
        ]
        if first
        else None,
        "Constraints": None,
        "Affinities": None,
        "Resources": {
            "CPU": role.cpu if first else 100,
            "MemoryMB": role.memory if first else 128,
            "DiskMB": 0,
            "IOPS": 0,
            "Devices": None,
            "Networks": None,
        },
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
            {
                "Mode": "bridge",
                "DynamicPorts": [{"Label": role.port, "Value": 0, "To": 8080, "HostNetwork": "default"}],
                "ReservedPorts": None,
                "IP": "",
                "CIDR": "",
                "Device": "",
                "MBits": 0,
                "DNS": None,
            }
        ],
        "Tasks": [_task(job, t, v, i == 0) for i, t in enumerate(role.tasks)],
        "EphemeralDisk": {"Sticky": False, "SizeMB": 300, "Migrate": False},
        "Meta": None,
        "Services": None,
        "Volumes": None,
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
            "SpecType": "cron",
            "ProhibitOverlap": True,
            "TimeZone": "America/Toronto",
        }
        if role.periodic and job.parent is None
        else None
    )
    return {
        "Region": "global",
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
    }


def job_summary(w: World, job: Job) -> dict:
    children = {"Pending": 0, "Running": 0, "Dead": len(job.children)}
    return {
        "JobID": job.id,
        "Namespace": job.namespace,
        "Summary": {job.role.name: w.summary(job)},
        "Children": children,
        "CreateIndex": job.create_index,
        "ModifyIndex": job.modify_index,
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
        "Version": job.version.number,
    }
    if meta:
        d["Meta"] = {"client": job.client.slug, "version": job.version.app_version, "team": "platform"}
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
                {
                    "Mode": "bridge",
                    "IP": a.node.address,
                    "Device": "",
                    "CIDR": "",
                    "MBits": 0,
                    "ReservedPorts": None,
                    "DNS": None,
                    "DynamicPorts": [{"Label": role.port, "Value": a.port, "To": 8080, "HostNetwork": "default"}],
                }
            ],
            "Ports": [{"Label": role.port, "Value": a.port, "To": 8080, "HostIP": a.node.address}],
        },
    }


def _deployment_status(a: Alloc):
    if a.deployment is None:
        return None
    return {"Canary": False, "Healthy": a.healthy, "ModifyIndex": a.modify_index, "Timestamp": fmt_time(a.modify_ns)}


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
        "DesiredTransition": {"ForceReschedule": None, "Migrate": None, "Reschedule": None},
        "ClientStatus": a.client_status,
        "ClientDescription": a.client_description,
        "FollowupEvalID": a.followup_eval,
        "NextAllocation": a.next,
        "PreviousAllocation": a.previous,
        "PreemptedAllocations": None,
        "PreemptedByAllocation": "",
        "RescheduleTracker": None,
        "CreateIndex": a.create_index,
        "ModifyIndex": a.modify_index,
        "CreateTime": a.create_ns,
        "ModifyTime": a.modify_ns,
    }
    if task_states:
        d["TaskStates"] = {ts.name: task_state_dict(ts) for ts in a.tasks}
    if resources:
        d["AllocatedResources"] = _allocated_resources(a)
    return d


def alloc_full(w: World, a: Alloc) -> dict:
    role = a.job.role
    net = [
        {
            "Device": "eth0",
            "CIDR": "",
            "IP": a.node.address,
            "MBits": 0,
            "ReservedPorts": None,
            "DynamicPorts": [{"Label": role.port, "Value": a.port}],
        }
    ]
    task_res = {
        t: {
            "CPU": role.cpu if i == 0 else 100,
            "MemoryMB": role.memory if i == 0 else 128,
            "DiskMB": 0,
            "Networks": net if i == 0 else None,
        }
        for i, t in enumerate(role.tasks)
    }
    tracker = None
    if a.previous:
        prev = w.allocs.get(a.previous)
        tracker = {
            "Events": [
                {
                    "PrevAllocID": a.previous,
                    "PrevNodeID": prev.node.id if prev else "",
                    "RescheduleTime": a.create_ns,
                    "Delay": 30 * NS,
                }
            ]
        }
    return {
        "ID": a.id,
        "Namespace": a.job.namespace,
        "EvalID": a.eval_id,
        "Name": a.name,
        "NodeID": a.node.id,
        "NodeName": a.node.name,
        "PreviousAllocation": a.previous,
        "NextAllocation": a.next,
        "RescheduleTracker": tracker,
        "JobID": a.job.id,
        "Job": job_full(w, a.job, a.version),
        "TaskGroup": role.name,
        "Resources": {
            "CPU": sum(r["CPU"] for r in task_res.values()),
            "MemoryMB": sum(r["MemoryMB"] for r in task_res.values()),
            "DiskMB": 300,
            "Networks": net,
        },
        "SharedResources": {"CPU": 0, "MemoryMB": 0, "DiskMB": 300, "Networks": None},
        "TaskResources": task_res,
        "AllocatedResources": _allocated_resources(a),
        "Metrics": {
            "NodesEvaluated": 3,
            "NodesFiltered": 0,
            "NodesAvailable": {a.node.dc: 3},
            "NodesInPool": 3,
            "ClassFiltered": None,
            "ConstraintFiltered": None,
            "NodesExhausted": 0,
            "ClassExhausted": None,
            "DimensionExhausted": None,
            "Scores": {f"{a.node.id}.binpack": 0.62},
            "AllocationTime": 31729,
            "CoalescedFailures": 0,
        },
        "DeploymentID": a.deployment.id if a.deployment else "",
        "DeploymentStatus": _deployment_status(a),
        "DesiredStatus": a.desired_status,
        "DesiredDescription": a.desired_description,
        "DesiredTransition": {"ForceReschedule": None, "Migrate": None, "Reschedule": None},
        "ClientStatus": a.client_status,
        "ClientDescription": a.client_description,
        "FollowupEvalID": a.followup_eval,
        "TaskStates": {ts.name: task_state_dict(ts) for ts in a.tasks},
        "CreateIndex": a.create_index,
        "ModifyIndex": a.modify_index,
        "AllocModifyIndex": a.alloc_modify_index,
        "CreateTime": a.create_ns,
        "ModifyTime": a.modify_ns,
    }


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
                "AutoRevert": True,
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
        "CreateIndex": d.create_index,
        "ModifyIndex": d.modify_index,
    }


def eval_dict(e: Evaluation) -> dict:
    job = e.job
    return {
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
        "QueuedAllocations": {job.role.name: 0},
        "SnapshotIndex": e.create_index,
        "CreateIndex": e.create_index,
        "ModifyIndex": e.modify_index,
        "CreateTime": e.create_ns,
        "ModifyTime": e.create_ns + 40_000_000,
    }


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


def node_stub(w: World, n: Node) -> dict:
    return {
        "Address": n.address,
        "ID": n.id,
        "Name": n.name,
        "Datacenter": n.dc,
        "NodeClass": "",
        "NodePool": "default",
        "Version": "1.11.1",
        "Drain": False,
        "SchedulingEligibility": n.eligibility,
        "Status": n.status,
        "StatusDescription": "",
        "Attributes": {"os.name": "ubuntu", "nomad.version": "1.11.1"},
        "Drivers": _drivers(n, w.clock.now_ns()),
        "LastDrain": None,
        "CreateIndex": n.create_index,
        "ModifyIndex": n.modify_index,
    }


def node_full(w: World, n: Node) -> dict:
    d = node_stub(w, n)
    d.update(
        {
            "Attributes": {
                "cpu.arch": "amd64",
                "cpu.numcores": "8",
                "cpu.totalcompute": "20000",
                "kernel.name": "linux",
                "os.name": "ubuntu",
                "os.version": "24.04",
                "memory.totalbytes": "33554432000",
                "nomad.version": "1.11.1",
                "unique.hostname": n.name,
                "unique.network.ip-address": n.address,
                "consul.datacenter": n.dc,
                "consul.version": "1.22.1",
            },
            "ComputedClass": "v1:1234567890",
            "DrainStrategy": None,
            "HTTPAddr": f"{n.address}:4646",
            "Events": [
                {"CreateIndex": n.create_index, "Details": None, "Message": m, "Subsystem": s, "Timestamp": fmt_time(t)}
                for m, s, t in n.events
            ],
            "HostVolumes": None,
            "HostNetworks": None,
            "Links": {"consul": f"{n.dc}.{n.name}"},
            "Meta": {"rack": f"r{int(n.address.split('.')[-1]) % 8}"},
            "NodeResources": {
                "Cpu": {"CpuShares": 20000},
                "Devices": None,
                "Disk": {"DiskMB": 200000},
                "Memory": {"MemoryMB": 32000},
                "Networks": [
                    {
                        "CIDR": f"{n.address}/32",
                        "Device": "eth0",
                        "DynamicPorts": None,
                        "IP": n.address,
                        "MBits": 1000,
                        "Mode": "",
                        "ReservedPorts": None,
                    }
                ],
                "NodeNetworks": [
                    {
                        "Addresses": [
                            {
                                "Address": n.address,
                                "Alias": "default",
                                "Family": "ipv4",
                                "Gateway": "",
                                "ReservedPorts": "",
                            }
                        ],
                        "Device": "eth0",
                        "MacAddress": "02:42:ac:11:00:02",
                        "Mode": "host",
                    }
                ],
            },
            "ReservedResources": {
                "Cpu": {"CpuShares": 0},
                "Disk": {"DiskMB": 0},
                "Memory": {"MemoryMB": 0},
                "Networks": {"ReservedHostPorts": ""},
            },
            "SecretID": "",
            "StatusUpdatedAt": w.clock.now_ns() // NS - 30,
            "TLSEnabled": False,
        }
    )
    return d


def namespace_dict(c) -> dict:
    return {
        "Name": c.slug,
        "Description": c.name,
        "Quota": "",
        "Capabilities": None,
        "Meta": {"client": c.slug, "display_name": c.name},
        "CreateIndex": 5 + c.index,
        "ModifyIndex": 5 + c.index,
    }


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
