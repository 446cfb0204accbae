"""Synthetic raw API JSON in the real Nomad/Consul shapes, for benchmarks and tests.

``synthetic_raw(allocs=100_000)`` gives the ``raw`` dict ``views.build_frames``
takes: ~2,000 clients (namespaces), 5 jobs each, allocations with 1-2 tasks and
3-6 events per task (full event objects, as Nomad sends them), deployments,
nodes, Consul services with Meta client/version and their checks. Deterministic
for a given seed. Nothing here is used by the app at runtime (it lives in bench/,
not views/, for that reason):

    from bench.synthetic import synthetic_raw
    frames = views.build_frames(synthetic_raw(10_000), cluster="bench", now=...)
"""

from __future__ import annotations

import random
import uuid

ROLES = ("web", "api", "worker", "reports", "cron")
DCS = ("ca-tor-1", "ca-mtl-1", "us-east-1")
_EVENT_KEYS_ZERO = {
    "DiskLimit": 0,
    "DownloadError": "",
    "DriverError": "",
    "DriverMessage": "",
    "FailedSibling": "",
    "GenericSource": "",
    "KillError": "",
    "KillReason": "",
    "KillTimeout": 0,
    "RestartReason": "",
    "SetupError": "",
    "StartDelay": 0,
    "TaskSignal": "",
    "TaskSignalReason": "",
    "ValidationError": "",
    "VaultError": "",
}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _event(t: int, typ: str, msg: str, exit_code: int = 0, fails: bool = False) -> dict:
    return {
        "Details": {},
        "DisplayMessage": msg,
        "ExitCode": exit_code,
        "FailsTask": fails,
        "Message": msg,
        "Signal": 0,
        "Time": t,
        "Type": typ,
        **_EVENT_KEYS_ZERO,
    }


def synthetic_raw(
    allocs: int = 100_000,
    *,
    allocs_per_job: int = 10,
    jobs_per_client: int = 5,
    nodes: int = 300,
    now_ns: int = 1_767_225_600 * 10**9,
    seed: int = 7,
) -> dict:
    rng = random.Random(seed)
    n_jobs = max(1, allocs // allocs_per_job)
    n_clients = max(1, n_jobs // jobs_per_client)
    clients = [f"client-{i:04d}" for i in range(n_clients)]
    node_list = [
        {
            "ID": _uuid(rng),
            "Name": f"nomad-{i}",
            "Datacenter": DCS[i % 3],
            "NodePool": "default",
            "NodeClass": "",
            "Status": "ready" if i % 97 else "down",
            "SchedulingEligibility": "eligible",
            "Drain": False,
            "Version": "1.11.3",
            "Address": f"10.0.{i // 250}.{i % 250}",
            "Attributes": {"os.name": "ubuntu"},
            "Drivers": {},
            "CreateIndex": 6,
            "ModifyIndex": 10,
        }
        for i in range(nodes)
    ]
    jobs, allocations, deployments, services, checks = [], [], [], {r: [] for r in ROLES}, []
    hour = 3600 * 10**9
    for j in range(n_jobs):
        client = clients[j % n_clients]
        role = ROLES[(j // n_clients) % len(ROLES)]
        jid = f"{client}-{role}"
        version = rng.randint(0, 12)
        app_version = f"2.{version}.0"
        bad = rng.random() < 0.05
        jobs.append(
            {
                "ID": jid,
                "ParentID": "",
                "Name": jid,
                "Namespace": client,
                "Datacenters": list(DCS),
                "Multiregion": None,
                "Type": "service",
                "Priority": 50,
                "Periodic": False,
                "ParameterizedJob": False,
                "Stop": False,
                "Status": "running",
                "StatusDescription": "",
                "Version": version,
                "JobSummary": {
                    "JobID": jid,
                    "Namespace": client,
                    "Summary": {
                        role: {
                            "Queued": 0,
                            "Complete": 0,
                            "Failed": 1 if bad else 0,
                            "Running": allocs_per_job - (1 if bad else 0),
                            "Starting": 0,
                            "Lost": 0,
                            "Unknown": 0,
                        }
                    },
                    "Children": {"Pending": 0, "Running": 0, "Dead": 0},
                    "CreateIndex": 5,
                    "ModifyIndex": 9,
                },
                "CreateIndex": 5,
                "ModifyIndex": 9,
                "JobModifyIndex": 9,
                "SubmitTime": now_ns - 48 * hour,
                "Meta": {"client": client, "version": app_version},
            }
        )
        dep_id = _uuid(rng)
        dstatus = "running" if rng.random() < 0.03 else ("failed" if bad and rng.random() < 0.3 else "successful")
        deployments.append(
            {
                "ID": dep_id,
                "Namespace": client,
                "JobID": jid,
                "JobVersion": version,
                "JobModifyIndex": 9,
                "JobSpecModifyIndex": 9,
                "JobCreateIndex": 5,
                "IsMultiregion": False,
                "TaskGroups": {
                    role: {
                        "AutoRevert": True,
                        "AutoPromote": False,
                        "Promoted": False,
                        "DesiredCanaries": 0,
                        "DesiredTotal": allocs_per_job,
                        "PlacedAllocs": allocs_per_job,
                        "HealthyAllocs": allocs_per_job - (1 if bad else 0),
                        "UnhealthyAllocs": 1 if bad else 0,
                        "PlacedCanaries": None,
                        "RequireProgressBy": None,
                        "ProgressDeadline": 600000000000,
                    }
                },
                "Status": dstatus,
                "StatusDescription": f"Deployment {dstatus}",
                "CreateIndex": 20 + j,
                "ModifyIndex": 30 + j,
                "CreateTime": now_ns - 5 * hour,
                "ModifyTime": now_ns - 4 * hour,
            }
        )
        for k in range(allocs_per_job):
            aid = _uuid(rng)
            node = node_list[rng.randrange(nodes)]
            failed = bad and k == 0
            t0 = now_ns - rng.randint(1, 40) * hour
            ntasks = 1 + (k % 2)
            task_states = {}
            for ti in range(ntasks):
                evs = [
                    _event(t0 + 1000, "Received", "Task received by client"),
                    _event(t0 + 2000, "Task Setup", "Building Task Directory"),
                    _event(t0 + 3000, "Started", "Task started by client"),
                ]
                restarts = 0
                for _ in range(rng.choice((1, 2, 3)) if rng.random() < 0.03 else 0):
                    restarts += 1
                    evs.append(_event(evs[-1]["Time"] + 10**9, "Terminated", "Exit Code: 1", exit_code=1))
                    if len(evs) < 6:
                        evs.append(_event(evs[-1]["Time"] + 10**9, "Restarting", "Task restarting in 15s"))
                if failed:
                    evs.append(
                        _event(evs[-1]["Time"] + 10**9, "Not Restarting", "Exceeded allowed attempts", fails=True)
                    )
                task_states[f"{role}-{ti}"] = {
                    "Events": evs[-10:],
                    "Failed": failed,
                    "FinishedAt": None,
                    "LastRestart": "2025-12-31T22:00:00Z" if restarts else None,
                    "Restarts": restarts,
                    "StartedAt": "2025-12-31T20:00:00Z",
                    "State": "dead" if failed else "running",
                    "TaskHandle": None,
                }
            allocations.append(
                {
                    "ID": aid,
                    "EvalID": _uuid(rng),
                    "Name": f"{jid}.{role}[{k}]",
                    "Namespace": client,
                    "NodeID": node["ID"],
                    "NodeName": node["Name"],
                    "JobID": jid,
                    "JobType": "service",
                    "JobVersion": version,
                    "TaskGroup": role,
                    "DesiredStatus": "run",
                    "DesiredDescription": "",
                    "ClientStatus": "failed" if failed else "running",
                    "ClientDescription": "Failed tasks" if failed else "Tasks are running",
                    "DesiredTransition": {"Migrate": None, "Reschedule": None, "ForceReschedule": None},
                    "TaskStates": task_states,
                    "DeploymentStatus": {
                        "Healthy": not failed,
                        "Canary": False,
                        "Timestamp": "2025-12-31T20:00:00Z",
                        "ModifyIndex": 15,
                    },
                    "DeploymentID": dep_id,
                    "FollowupEvalID": "",
                    "RescheduleTracker": None,
                    "PreemptedAllocations": None,
                    "PreemptedByAllocation": "",
                    "CreateIndex": 10,
                    "ModifyIndex": 15,
                    "CreateTime": t0,
                    "ModifyTime": t0 + 5 * 10**9,
                    "NextAllocation": "",
                }
            )
            sid = f"_nomad-task-{aid}-{role}-0-{role}-http"
            services[role].append(
                {
                    "ID": node["ID"],
                    "Node": node["Name"],
                    "Address": node["Address"],
                    "Datacenter": node["Datacenter"],
                    "TaggedAddresses": {},
                    "NodeMeta": {},
                    "ServiceID": sid,
                    "ServiceName": role,
                    "ServiceTags": ["v2"],
                    "ServiceAddress": node["Address"],
                    "ServicePort": 20000 + k,
                    "ServiceMeta": {"client": client, "version": app_version},
                    "ServiceEnableTagOverride": False,
                    "CreateIndex": 1,
                    "ModifyIndex": 1,
                }
            )
            checks.append(
                {
                    "Node": node["Name"],
                    "CheckID": f"_nomad-check-{aid}",
                    "Name": "http",
                    "Status": "critical" if failed else "passing",
                    "Notes": "",
                    "Output": "connection refused" if failed else "HTTP GET: 200 OK",
                    "ServiceID": sid,
                    "ServiceName": role,
                    "ServiceTags": ["v2"],
                    "Namespace": "default",
                }
            )
            if len(allocations) >= allocs:
                break
        if len(allocations) >= allocs:
            break
    namespaces = [
        {
            "Name": c,
            "Description": f"{c} workloads",
            "Meta": None,
            "Quota": "",
            "Capabilities": None,
            "CreateIndex": 1,
            "ModifyIndex": 1,
        }
        for c in ["default", *clients]
    ]
    nomad_services = [
        {"Namespace": c, "Services": [{"ServiceName": r, "Tags": ["v2"]} for r in ROLES]} for c in clients
    ]
    return {
        "jobs": jobs,
        "allocations": allocations,
        "deployments": deployments,
        "nodes": node_list,
        "namespaces": namespaces,
        "nomad_services": nomad_services,
        "consul_services": services,
        "consul_checks": checks,
    }
