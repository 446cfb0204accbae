"""Raw Nomad/Consul JSON -> DataFrames (see ``views.schema`` for the columns).

Built for speed: one pass of plain Python comprehensions over the raw dicts
per frame, then each column is turned into a numpy array once; joins are dict
look-ups or vectorised maps. No DataFrame.apply, no per-row pandas work.

Shapes handled (``null`` anywhere a list/map is expected becomes empty):

* allocation stubs (``/v1/allocations``): ``TaskStates`` map task -> state with
  ``Events`` (Nomad appends events in time order, so a task's last event is its
  newest); times are integer nanoseconds, ``LastRestart`` an RFC3339 string.
* job stubs (``/v1/jobs?meta=true``): ``JobSummary.Summary`` group -> counts.
* deployments: ``TaskGroups`` group -> counts; CreateTime/ModifyTime when present.
* Consul: ``/v1/catalog/service/:name`` entries, ``/v1/health/state/any`` checks.

The per-client health roll-up over these frames lives in ``views.clients``.
"""

from __future__ import annotations

import gc
import operator
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .identity import ClientIdentity
from .schema import SCHEMAS, empty
from .status import ACTIVE_DEPLOYMENT_STATUSES

INAT = np.iinfo(np.int64).min  # NaT as int64

# ---------------------------------------------------------------- column helpers


def _utc_now(now: Any) -> pd.Timestamp:
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _times(vals: list) -> pd.DatetimeIndex:
    """Nomad times -> tz-aware UTC. Ints are nanoseconds (0/None = NaT); strings are RFC3339."""
    try:
        arr = np.array(vals, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return _times_mixed(vals)
    arr[arr <= 0] = INAT
    return pd.DatetimeIndex(arr.view("M8[ns]")).tz_localize("UTC")


def _times_mixed(vals: list) -> pd.DatetimeIndex:
    out = np.full(len(vals), INAT, dtype=np.int64)
    str_pos, strs = [], []
    for i, v in enumerate(vals):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            if v > 0:
                out[i] = int(v)
        elif isinstance(v, str) and v:
            str_pos.append(i)
            strs.append(v)
    if strs:
        parsed = pd.to_datetime(pd.Series(strs, dtype=object), utc=True, format="ISO8601", errors="coerce")
        out[np.array(str_pos, dtype=np.int64)] = parsed.to_numpy(dtype="M8[ns]").view(np.int64)
    return pd.DatetimeIndex(out.view("M8[ns]")).tz_localize("UTC")


def _str_times(vals: list) -> pd.DatetimeIndex:
    """RFC3339 strings (None/'' = NaT; Go's zero time is out of range -> NaT)."""
    if not any(vals):
        return pd.DatetimeIndex(np.full(len(vals), INAT, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")
    return _times_mixed(vals)


def _objs(vals: list) -> np.ndarray:
    """Object array holding the given Python objects as-is (safe for lists)."""
    a = np.empty(len(vals), dtype=object)
    for i, v in enumerate(vals):
        a[i] = v
    return a


def _strs(vals: list) -> np.ndarray:
    return np.array(vals, dtype=object) if vals else np.empty(0, dtype=object)


def _frame(name: str, cols: Mapping[str, Any]) -> pd.DataFrame:
    """Assemble a frame from ready columns in schema order with the schema dtypes."""
    schema = SCHEMAS[name]
    data = {}
    for col, dtype in schema.items():
        v = cols[col]
        if dtype == "object":
            data[col] = v if isinstance(v, np.ndarray) else _strs(v)
        elif dtype == "int64":
            data[col] = np.asarray(v, dtype=np.int64)
        elif dtype == "bool":
            data[col] = np.asarray(v, dtype=bool)
        elif dtype == "boolean":
            data[col] = pd.array(v, dtype="boolean")
        else:
            data[col] = v
    df = pd.DataFrame(data, copy=False)
    return df


def _s(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _list(v: Any) -> list:
    return list(v) if isinstance(v, (list, tuple)) else []


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _as_list(raw: Any) -> list:
    if isinstance(raw, list):
        return [x for x in raw if isinstance(x, dict)] if not all(isinstance(x, dict) for x in raw) else raw
    return []


def parse_nomad_service_alloc(service_id: str) -> str:
    """Alloc ID from Nomad's Consul service ID ``_nomad-task-<alloc-uuid>-...`` ('' otherwise)."""
    if service_id and service_id.startswith("_nomad-task-") and len(service_id) >= 48:
        cand = service_id[12:48]
        if cand[8] == "-" and cand[13] == "-" and cand[18] == "-" and cand[23] == "-":
            return cand
    return ""


# ------------------------------------------------------------- event severity

ERROR_EVENT_TYPES = frozenset(
    {
        "Driver Failure",
        "Failed Validation",
        "Setup Failure",
        "Failed Artifact Download",
        "Not Restarting",
        "Task hook failed",
        "Alloc Unhealthy",
        "Failed Restoring Task",
    }
)
WARNING_EVENT_TYPES = frozenset(
    {
        "Restarting",
        "Sibling Task Failed",
        "Restart Signaled",
        "Signaling",
        "Plugin became unhealthy",
        "Leader Task Dead",
        "Killing",
        "Template",
    }
)


def event_severity(types: np.ndarray, exit_codes: np.ndarray, fails_task: np.ndarray) -> np.ndarray:
    """error | warning | info per event (vectorised).

    error: FailsTask, a failure event type (Driver Failure, Setup Failure, Not
    Restarting, ...), or Terminated with a non-zero exit code. warning:
    Restarting, Killing, Sibling Task Failed, Signaling, ... info: the rest.
    """
    t = pd.Series(types, dtype=object, copy=False)
    err = t.isin(ERROR_EVENT_TYPES).to_numpy() | fails_task | ((t == "Terminated").to_numpy() & (exit_codes != 0))
    warn = t.isin(WARNING_EVENT_TYPES).to_numpy()
    out = np.full(len(t), "info", dtype=object)
    out[warn] = "warning"
    out[err] = "error"
    return out


# ---------------------------------------------------------------------- nodes


def build_nodes(nodes: Any, *, cluster: str) -> pd.DataFrame:
    ns = _as_list(nodes)
    if not ns:
        return empty("nodes")
    ids = [_s(n.get("ID")) for n in ns]
    n = len(ns)
    return _frame(
        "nodes",
        {
            "cluster": [cluster] * n,
            "node_id": ids,
            "short_id": [i[:8] for i in ids],
            "name": [_s(x.get("Name")) for x in ns],
            "datacenter": [_s(x.get("Datacenter")) for x in ns],
            "node_pool": [_s(x.get("NodePool")) for x in ns],
            "node_class": [_s(x.get("NodeClass")) for x in ns],
            "status": [_s(x.get("Status")) for x in ns],
            "eligibility": [_s(x.get("SchedulingEligibility")) for x in ns],
            "drain": [bool(x.get("Drain")) for x in ns],
            "version": [_s(x.get("Version")) for x in ns],
            "address": [_s(x.get("Address")) for x in ns],
            "allocs_running": np.zeros(n, dtype=np.int64),
            "allocs_total": np.zeros(n, dtype=np.int64),
        },
    )


# ----------------------------------------------------------------------- jobs


def _job_ns(j: dict) -> str:
    """Job namespace; the stub's JobSummary also carries it (older doc samples omit the top-level one)."""
    ns = j.get("Namespace")
    if not ns:
        js = j.get("JobSummary")
        ns = js.get("Namespace") if isinstance(js, dict) else None
    return _s(ns)


def _job_client_map(jobs: list, identity: ClientIdentity) -> dict[tuple[str, str], str]:
    of = identity.of_job
    out = {}
    for j in jobs:
        ns, jid = _job_ns(j), _s(j.get("ID"))
        out[(ns, jid)] = of(ns, jid, j.get("Meta"))
    return out


_SUMMARY_KEYS = ("Running", "Starting", "Queued", "Failed", "Lost", "Complete", "Unknown")


def build_jobs(jobs: Any, *, cluster: str, job_client: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    js = _as_list(jobs)
    if not js:
        return empty("jobs")
    n = len(js)
    nss = [_job_ns(j) for j in js]
    ids = [_s(j.get("ID")) for j in js]
    metas = [_dict(j.get("Meta")) for j in js]
    sums = {k: [0] * n for k in _SUMMARY_KEYS}
    groups = []
    for i, j in enumerate(js):
        summ = _dict(_dict(j.get("JobSummary")).get("Summary"))
        groups.append(list(summ))
        for g in summ.values():
            if not g:
                continue
            for k in _SUMMARY_KEYS:
                v = g.get(k)
                if v:
                    sums[k][i] += v
    versions = []
    for j in js:
        v = j.get("Version")
        versions.append(v if isinstance(v, int) else -1)
    return _frame(
        "jobs",
        {
            "cluster": [cluster] * n,
            "client": [job_client.get(k, "") for k in zip(nss, ids)],
            "namespace": nss,
            "job_id": ids,
            "name": [_s(j.get("Name")) for j in js],
            "parent_id": [_s(j.get("ParentID")) for j in js],
            "type": [_s(j.get("Type")) for j in js],
            "status": [_s(j.get("Status")) for j in js],
            "status_description": [_s(j.get("StatusDescription")) for j in js],
            "stop": [bool(j.get("Stop")) for j in js],
            "priority": [j.get("Priority") or 0 for j in js],
            "job_version": versions,
            "app_version": [_s(m.get("version")) for m in metas],
            "datacenters": _objs([_list(j.get("Datacenters")) for j in js]),
            "periodic": [bool(j.get("Periodic")) for j in js],
            "parameterized": [bool(j.get("ParameterizedJob")) for j in js],
            "desired": np.zeros(n, dtype=np.int64),  # filled by build_frames
            "running": sums["Running"],
            "starting": sums["Starting"],
            "queued": sums["Queued"],
            "failed": sums["Failed"],
            "lost": sums["Lost"],
            "complete": sums["Complete"],
            "unknown": sums["Unknown"],
            "task_groups": _objs(groups),
            "submit_time": _times([j.get("SubmitTime") or 0 for j in js]),
            "meta": _objs(metas),
        },
    )


# ---------------------------------------------------------------- allocations


_EV_GET = operator.itemgetter("Time", "Type", "DisplayMessage", "Message", "ExitCode", "Signal", "FailsTask")


def _ev_tuple_safe(e: dict) -> tuple:
    g = e.get
    return (g("Time"), g("Type"), g("DisplayMessage"), g("Message"), g("ExitCode"), g("Signal"), g("FailsTask"))


_ALLOC_FIELDS = (
    "ID",
    "Namespace",
    "JobID",
    "TaskGroup",
    "ClientStatus",
    "NodeID",
    "Name",
    "JobType",
    "JobVersion",
    "NodeName",
    "ClientDescription",
    "DesiredStatus",
    "DesiredDescription",
    "CreateTime",
    "ModifyTime",
    "DeploymentStatus",
    "DeploymentID",
    "EvalID",
    "NextAllocation",
    "TaskStates",
)


def _strcol(vals: tuple | list) -> np.ndarray:
    """Object array of str; None (and other non-str) -> ''."""
    a = np.array(vals, dtype=object)
    if a.ndim != 1:  # pathological values (lists) -> coerce one by one
        return _strs([v if isinstance(v, str) else "" for v in vals])
    if None in vals:
        a[np.equal(a, None)] = ""
    return a


def _ints(vals: tuple | list) -> np.ndarray:
    try:
        return np.array(vals, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array([v if isinstance(v, int) else 0 for v in vals], dtype=np.int64)


def build_allocations(
    allocs: Any,
    *,
    cluster: str,
    identity: ClientIdentity,
    job_client: Mapping[tuple[str, str], str],
    node_dc: Mapping[str, str],
    now: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(allocations, task_events) in one pass over the allocation stubs."""
    al = _as_list(allocs)
    if not al:
        return empty("allocations"), empty("task_events")
    n = len(al)
    cols = dict(zip(_ALLOC_FIELDS, zip(*[tuple(map(a.get, _ALLOC_FIELDS)) for a in al])))
    ids = _strcol(cols["ID"])
    nss = _strcol(cols["Namespace"])
    jids = _strcol(cols["JobID"])
    of = identity.of_job
    clients = [
        c if (c := job_client.get(k)) is not None else of(k[0], k[1], None) for k in zip(nss.tolist(), jids.tolist())
    ]
    node_ids = _strcol(cols["NodeID"])

    # Per-allocation task aggregates + per-task event rows (flat tuples).
    ntasks = [0] * n
    nfailed = [0] * n
    restarts = [0] * n
    last_restart: list = [None] * n
    last_type = [""] * n
    last_msg = [""] * n
    last_time = [0] * n
    ev_rows: list[tuple] = []
    ev_task_alloc: list[int] = []  # alloc index per task block
    ev_task_name: list[str] = []
    ev_task_state: list[str] = []
    ev_task_failed: list[bool] = []
    ev_counts: list[int] = []
    extend = ev_rows.extend
    getter = _EV_GET
    for i, ts in enumerate(cols["TaskStates"]):
        if not ts:
            continue
        r = f = k = 0
        lt = 0
        lf = False  # the last event shown comes from a failed task if there is one: the
        ltype = lmsg = ""  # sibling's later "Killed" says less than why the task failed
        lr = None
        for tname, st in ts.items():
            if not st:
                continue
            k += 1
            r += st.get("Restarts") or 0
            tf = bool(st.get("Failed"))
            if tf:
                f += 1
            x = st.get("LastRestart")
            if x and (lr is None or x > lr):
                lr = x
            evs = st.get("Events")
            if not evs:
                continue
            try:
                extend(list(map(getter, evs)))
            except (KeyError, TypeError, AttributeError):
                extend([_ev_tuple_safe(e) for e in evs if isinstance(e, dict)])
                evs = [e for e in evs if isinstance(e, dict)]
                if not evs:
                    continue
            ev_task_alloc.append(i)
            ev_task_name.append(tname)
            ev_task_state.append(st.get("State") or "")
            ev_task_failed.append(tf)
            ev_counts.append(len(evs))
            le = evs[-1]
            t = le.get("Time") or 0
            if (tf, t) >= (lf, lt):
                lt, lf = t, tf
                ltype = le.get("Type") or ""
                lmsg = le.get("DisplayMessage") or le.get("Message") or ""
        ntasks[i] = k
        restarts[i] = r
        nfailed[i] = f
        last_restart[i] = lr
        last_type[i] = ltype
        last_msg[i] = lmsg
        last_time[i] = lt

    create = _times(cols["CreateTime"])
    now_ns = now.value
    cr_ns = create.asi8
    age = np.where(cr_ns == INAT, INAT, now_ns - cr_ns).view("m8[ns]")
    healthy = []
    for ds in cols["DeploymentStatus"]:
        h = ds.get("Healthy") if ds.__class__ is dict else None
        healthy.append(h if h is True or h is False else None)
    jv = cols["JobVersion"]
    if None in jv:
        jv = [-1 if v is None else v for v in jv]
    cstat_arr = _strcol(cols["ClientStatus"])
    nfailed_arr = np.asarray(nfailed, dtype=np.int64)
    allocations = _frame(
        "allocations",
        {
            "cluster": np.full(n, cluster, dtype=object),
            "alloc_id": ids,
            "short_id": [x[:8] for x in ids.tolist()],
            "name": _strcol(cols["Name"]),
            "client": clients,
            "namespace": nss,
            "job_id": jids,
            "job_type": _strcol(cols["JobType"]),
            "job_version": _ints(jv),
            "task_group": _strcol(cols["TaskGroup"]),
            "node_id": node_ids,
            "node_name": _strcol(cols["NodeName"]),
            "datacenter": [node_dc.get(x, "") for x in node_ids.tolist()],
            "client_status": cstat_arr,
            "client_description": _strcol(cols["ClientDescription"]),
            "desired_status": _strcol(cols["DesiredStatus"]),
            "desired_description": _strcol(cols["DesiredDescription"]),
            "tasks": ntasks,
            "tasks_failed": nfailed_arr,
            "restarts": _ints(restarts),
            "last_restart": _str_times(last_restart),
            "last_event_type": last_type,
            "last_event_message": last_msg,
            "last_event_time": _times(last_time),
            "create_time": create,
            "modify_time": _times(cols["ModifyTime"]),
            "age": age,
            "failed": (cstat_arr == "failed") | (nfailed_arr > 0),
            "lost": cstat_arr == "lost",
            "healthy": healthy,
            "deployment_id": _strcol(cols["DeploymentID"]),
            "eval_id": _strcol(cols["EvalID"]),
            "next_allocation": _strcol(cols["NextAllocation"]),
        },
    )

    if not ev_rows:
        return allocations, empty("task_events")
    counts = np.asarray(ev_counts, dtype=np.int64)
    aidx = np.repeat(np.asarray(ev_task_alloc, dtype=np.int64), counts)
    m = len(ev_rows)
    etime, etype, edisp, emsg, ecode, esig, efails = zip(*ev_rows)
    del ev_rows
    etype_arr = np.array(etype, dtype=object)
    if None in etype:
        etype_arr[etype_arr == None] = ""  # noqa: E711 (elementwise)
    ecode_arr = _ints(ecode)
    try:
        efails_arr = np.array(efails, dtype=bool)
    except (TypeError, ValueError):
        efails_arr = np.array([bool(x) for x in efails], dtype=bool)
    task_events = _frame(
        "task_events",
        {
            "cluster": np.full(m, cluster, dtype=object),
            "alloc_id": allocations["alloc_id"].to_numpy()[aidx],
            "short_id": allocations["short_id"].to_numpy()[aidx],
            "client": allocations["client"].to_numpy()[aidx],
            "namespace": allocations["namespace"].to_numpy()[aidx],
            "job_id": allocations["job_id"].to_numpy()[aidx],
            "task_group": allocations["task_group"].to_numpy()[aidx],
            "task": np.repeat(_strs(ev_task_name), counts),
            "time": _times(etime),
            "type": etype_arr,
            "message": [d or x or "" for d, x in zip(edisp, emsg)],
            "exit_code": ecode_arr,
            "signal": _ints(esig),
            "fails_task": efails_arr,
            "severity": event_severity(etype_arr, ecode_arr, efails_arr),
            "task_state": np.repeat(_strs(ev_task_state), counts),
            "task_failed": np.repeat(np.asarray(ev_task_failed, dtype=bool), counts),
        },
    )
    return allocations, task_events


# ---------------------------------------------------------------- deployments


def _deployment_modify_times(ds: list, progress: list) -> pd.DatetimeIndex:
    """ModifyTime when Nomad sends it; else the last progress time (RequireProgressBy - ProgressDeadline)."""
    mt = _times([d.get("ModifyTime") or 0 for d in ds])
    missing = np.flatnonzero(mt.isna() & np.array([p is not None for p in progress], dtype=bool))
    if len(missing):
        rp = _str_times([progress[i][0] for i in missing]).asi8
        dl = np.array([int(progress[i][1] or 0) for i in missing], dtype=np.int64)
        vals = mt.asi8.copy()
        vals[missing] = np.where(rp == INAT, INAT, rp - dl)
        mt = pd.DatetimeIndex(vals.view("M8[ns]")).tz_localize("UTC")
    return mt


def build_deployments(
    deps: Any, *, cluster: str, identity: ClientIdentity, job_client: Mapping[tuple[str, str], str]
) -> pd.DataFrame:
    ds = _as_list(deps)
    if not ds:
        return empty("deployments")
    n = len(ds)
    nss = [_s(d.get("Namespace")) for d in ds]
    jids = [_s(d.get("JobID")) for d in ds]
    ids = [_s(d.get("ID")) for d in ds]
    of = identity.of_job
    tot = [0] * n
    can = [0] * n
    placed = [0] * n
    hl = [0] * n
    uh = [0] * n
    ngroups = [0] * n
    promoted = [True] * n
    progress: list = [None] * n  # latest RequireProgressBy - ProgressDeadline (last progress), as ns
    for i, d in enumerate(ds):
        tg = d.get("TaskGroups")
        if not tg:
            continue
        ngroups[i] = len(tg)
        for g in tg.values():
            if not g:
                continue
            rp = g.get("RequireProgressBy")
            if rp:
                progress[i] = (
                    (rp, g.get("ProgressDeadline") or 0) if progress[i] is None or rp > progress[i][0] else progress[i]
                )
            tot[i] += g.get("DesiredTotal") or 0
            c = g.get("DesiredCanaries") or 0
            can[i] += c
            placed[i] += g.get("PlacedAllocs") or 0
            hl[i] += g.get("HealthyAllocs") or 0
            uh[i] += g.get("UnhealthyAllocs") or 0
            if c and not g.get("Promoted"):
                promoted[i] = False
    status = [_s(d.get("Status")) for d in ds]
    jv = [-1 if (v := d.get("JobVersion")) is None else v for d in ds]
    cidx = [d.get("CreateIndex") or 0 for d in ds]
    # latest per job: highest (job_version, create_index)
    best: dict[tuple[str, str], tuple[int, int, int]] = {}
    for i, k in enumerate(zip(nss, jids)):
        key = (jv[i], cidx[i], i)
        b = best.get(k)
        if b is None or key > b:
            best[k] = key
    latest = np.zeros(n, dtype=bool)
    latest[[b[2] for b in best.values()]] = True
    return _frame(
        "deployments",
        {
            "cluster": [cluster] * n,
            "client": [c if (c := job_client.get(k)) is not None else of(k[0], k[1], None) for k in zip(nss, jids)],
            "namespace": nss,
            "job_id": jids,
            "deployment_id": ids,
            "short_id": [x[:8] for x in ids],
            "job_version": jv,
            "status": status,
            "status_description": [_s(d.get("StatusDescription")) for d in ds],
            "active": [s in ACTIVE_DEPLOYMENT_STATUSES for s in status],
            "is_latest": latest,
            "create_time": _times([d.get("CreateTime") or 0 for d in ds]),
            "modify_time": _deployment_modify_times(ds, progress),
            "create_index": cidx,
            "task_groups": ngroups,
            "desired_total": tot,
            "desired_canaries": can,
            "placed": placed,
            "healthy": hl,
            "unhealthy": uh,
            "promoted": promoted,
        },
    )


# --------------------------------------------------------------- consul side

_CHECK_RANK = {"critical": 0, "warning": 1, "passing": 2}


def build_checks(checks: Any, *, cluster: str) -> pd.DataFrame:
    cs = _as_list(checks)
    if not cs:
        return empty("checks")
    n = len(cs)
    cols = dict(zip(_CHECK_FIELDS, zip(*[tuple(map(c.get, _CHECK_FIELDS)) for c in cs])))
    sids = _strcol(cols["ServiceID"])
    return _frame(
        "checks",
        {
            "cluster": np.full(n, cluster, dtype=object),
            "node": _strcol(cols["Node"]),
            "check_id": _strcol(cols["CheckID"]),
            "name": _strcol(cols["Name"]),
            "status": _strcol(cols["Status"]),
            "output": _strcol(cols["Output"]),
            "notes": _strcol(cols["Notes"]),
            "service_id": sids,
            "service": _strcol(cols["ServiceName"]),
            "client": np.full(n, "", dtype=object),  # filled by build_frames from services
            "alloc_id": [parse_nomad_service_alloc(x) if x else "" for x in sids.tolist()],
        },
    )


_CHECK_FIELDS = ("Node", "CheckID", "Name", "Status", "Output", "Notes", "ServiceID", "ServiceName")


def build_services(
    consul_services: Any,
    checks: pd.DataFrame,
    *,
    cluster: str,
    identity: ClientIdentity,
    alloc_client: Mapping[str, str],
) -> pd.DataFrame:
    entries: list[dict] = []
    if isinstance(consul_services, Mapping):
        for name, lst in consul_services.items():
            for e in _as_list(lst):
                if not e.get("ServiceName"):
                    e = {**e, "ServiceName": name}
                entries.append(e)
    elif isinstance(consul_services, list):  # tolerate a flat list of catalog entries
        entries = _as_list(consul_services)
    if not entries:
        return empty("services")
    n = len(entries)
    meta_key = identity.key if identity.kind == "meta" else "client"
    metas = [m if (m := e.get("ServiceMeta")).__class__ is dict else {} for e in entries]
    sids = [e.get("ServiceID") or "" for e in entries]
    nodes = [e.get("Node") or "" for e in entries]
    alloc_ids = [parse_nomad_service_alloc(s) or _s(m.get("alloc_id")) for s, m in zip(sids, metas)]
    clients = []
    for m, aid in zip(metas, alloc_ids):
        c = m.get(meta_key) or m.get("client")
        if not c and aid:
            c = alloc_client.get(aid, "")
        clients.append(_s(c))

    # checks grouped by (node, service_id); node checks by node
    by_svc: dict[tuple[str, str], list] = defaultdict(list)
    by_node: dict[str, list] = defaultdict(list)
    if len(checks):
        for node, sid, name, st, out in zip(
            checks["node"].tolist(),
            checks["service_id"].tolist(),
            checks["name"].tolist(),
            checks["status"].tolist(),
            checks["output"].tolist(),
        ):
            (by_svc[(node, sid)] if sid else by_node[node]).append((_CHECK_RANK.get(st, 1), st, name, out))
    health, tot, npass, nwarn, ncrit, failing, outputs = [], [], [], [], [], [], []
    for node, sid in zip(nodes, sids):
        cs = by_svc.get((node, sid))
        if by_node:
            nc = by_node.get(node)
            if nc:
                cs = (cs or []) + nc
        if not cs:
            health.append("passing")
            tot.append(0)
            npass.append(0)
            nwarn.append(0)
            ncrit.append(0)
            failing.append("")
            outputs.append("")
            continue
        if len(cs) == 1:
            w = cs[0]
            p = 1 if w[1] == "passing" else 0
            cr = 1 if w[1] == "critical" else 0
            fl = "" if p else w[2]
        else:
            w = min(cs)
            p = sum(1 for c in cs if c[1] == "passing")
            cr = sum(1 for c in cs if c[1] == "critical")
            fl = ", ".join(c[2] for c in cs if c[1] != "passing")
        health.append(w[1] if w[1] in _CHECK_RANK else "warning")
        tot.append(len(cs))
        npass.append(p)
        ncrit.append(cr)
        nwarn.append(len(cs) - p - cr)
        failing.append(fl)
        outputs.append(w[3])
    return _frame(
        "services",
        {
            "cluster": [cluster] * n,
            "service": [e.get("ServiceName") or "" for e in entries],
            "service_id": sids,
            "client": clients,
            "version": [_s(m.get("version")) for m in metas],
            "node": nodes,
            "datacenter": [e.get("Datacenter") or "" for e in entries],
            "address": [e.get("ServiceAddress") or e.get("Address") or "" for e in entries],
            "port": [e.get("ServicePort") or 0 for e in entries],
            "tags": _objs([_list(e.get("ServiceTags")) for e in entries]),
            "meta": _objs(metas),
            "alloc_id": alloc_ids,
            "health": health,
            "checks_total": tot,
            "checks_passing": npass,
            "checks_warning": nwarn,
            "checks_critical": ncrit,
            "failing_checks": failing,
            "check_output": outputs,
        },
    )


# ------------------------------------------------------------ small nomad ones


def build_namespaces(
    namespaces: Any, *, cluster: str, identity: ClientIdentity, job_counts: Mapping[str, int]
) -> pd.DataFrame:
    ns = _as_list(namespaces)
    if not ns:
        return empty("namespaces")
    names = [_s(x.get("Name")) for x in ns]
    return _frame(
        "namespaces",
        {
            "cluster": [cluster] * len(ns),
            "namespace": names,
            "description": [_s(x.get("Description")) for x in ns],
            "client": [identity.of_namespace(x) for x in names],
            "meta": _objs([_dict(x.get("Meta")) for x in ns]),
            "jobs": [job_counts.get(x, 0) for x in names],
        },
    )


def build_nomad_services(raw: Any, *, cluster: str, identity: ClientIdentity) -> pd.DataFrame:
    rows = []
    for block in _as_list(raw):
        ns = _s(block.get("Namespace"))
        for s in block.get("Services") or ():
            if isinstance(s, dict):
                rows.append((ns, _s(s.get("ServiceName")), _list(s.get("Tags"))))
    if not rows:
        return empty("nomad_services")
    return _frame(
        "nomad_services",
        {
            "cluster": [cluster] * len(rows),
            "namespace": [r[0] for r in rows],
            "client": [identity.of_namespace(r[0]) for r in rows],
            "service": [r[1] for r in rows],
            "tags": _objs([r[2] for r in rows]),
        },
    )


def fill_node_counts(nodes: pd.DataFrame, allocations: pd.DataFrame) -> None:
    if not len(nodes) or not len(allocations):
        return
    nid = allocations["node_id"]
    total = nid.value_counts()
    running = nid[allocations["client_status"].to_numpy() == "running"].value_counts()
    nodes["allocs_total"] = nodes["node_id"].map(total).fillna(0).astype("int64")
    nodes["allocs_running"] = nodes["node_id"].map(running).fillna(0).astype("int64")


def fill_check_clients(checks: pd.DataFrame, services: pd.DataFrame, alloc_client: Mapping[str, str]) -> None:
    if not len(checks):
        return
    m: dict[tuple[str, str], str] = {}
    if len(services):
        m = dict(zip(zip(services["node"].tolist(), services["service_id"].tolist()), services["client"].tolist()))
    out = []
    for node, sid, aid in zip(checks["node"].tolist(), checks["service_id"].tolist(), checks["alloc_id"].tolist()):
        c = m.get((node, sid)) if sid else ""
        if not c and aid:
            c = alloc_client.get(aid, "")
        out.append(c or "")
    checks["client"] = np.array(out, dtype=object)


class gc_paused:
    """Pause the cyclic garbage collector while building (restored on exit).

    Building creates millions of small objects; each automatic collection would
    then walk the whole raw JSON graph too. Nothing built here forms cycles.
    """

    def __enter__(self):
        self._was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc):
        if self._was:
            gc.enable()
        return False
