"""Nomad allocation stubs (/v1/allocations?task_states=true) -> ``allocations`` and ``task_events``
in one pass, and how bad each task event is (``event_severity``).

``TaskStates`` maps task -> state with ``Events`` (Nomad appends events in time order, so a
task's last event is its newest; slimmed events are ``EVENT_FIELDS`` tuples, as Nomad sent them
dicts: both are read); times are integer nanoseconds, ``LastRestart`` an RFC3339
string. The fields read are the ones ``common.fields`` lists (the connector keeps only those).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from common.fields import ALLOC_FIELDS, EV_DISPLAY, EV_MESSAGE, EV_TIME, EV_TYPE, EVENT_FIELDS, event_row

from . import columns as col
from .identity import ClientIdentity
from .schema import empty

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
    out = col.filled(len(t), "info")
    out[warn] = "warning"
    out[err] = "error"
    return out


_EV_GET = operator.itemgetter(*EVENT_FIELDS)


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
    al = col.records(allocs)
    if not al:
        return empty("allocations"), empty("task_events")
    n = len(al)
    cols = dict(zip(ALLOC_FIELDS, zip(*[tuple(map(a.get, ALLOC_FIELDS)) for a in al])))
    ids = col.strcol(cols["ID"])
    nss = col.strcol(cols["Namespace"])
    jids = col.strcol(cols["JobID"])
    of = identity.of_job
    clients = [
        c if (c := job_client.get(k)) is not None else of(k[0], k[1], None) for k in zip(nss.tolist(), jids.tolist())
    ]
    node_ids = col.strcol(cols["NodeID"])

    # Per-allocation task aggregates + the task events' values, one list per EVENT_FIELDS field.
    ntasks = [0] * n
    nfailed = [0] * n
    restarts = [0] * n
    last_restart: list = [None] * n
    last_type = [""] * n
    last_msg = [""] * n
    last_time = [0] * n
    ev_cols: tuple[list, ...] = tuple([] for _ in EVENT_FIELDS)
    ev_task_alloc: list[int] = []  # alloc index per task block
    ev_task_name: list[str] = []
    ev_task_state: list[str] = []
    ev_task_failed: list[bool] = []
    ev_counts: list[int] = []
    getter = _EV_GET
    width = len(EVENT_FIELDS)
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
            if evs.__class__ is tuple and len(evs) % width == 0:
                # slimmed (connectors.slim): the events' EVENT_FIELDS values one after the other
                for j, column in enumerate(ev_cols):
                    column.extend(evs[j::width])
                k_ev = len(evs) // width
                le = evs[-width:]
            else:
                if evs.__class__ is list and evs[0].__class__ is tuple:
                    rows = evs  # EVENT_FIELDS rows
                else:
                    try:
                        rows = list(map(getter, evs))
                    except (KeyError, TypeError, AttributeError):
                        rows = [row for e in evs if (row := event_row(e)) is not None]
                        if not rows:
                            continue
                for j, column in enumerate(ev_cols):
                    column.extend([row[j] for row in rows])
                k_ev = len(rows)
                le = rows[-1]
            ev_task_alloc.append(i)
            ev_task_name.append(tname)
            ev_task_state.append(st.get("State") or "")
            ev_task_failed.append(tf)
            ev_counts.append(k_ev)
            t = le[EV_TIME] or 0
            if (tf, t) >= (lf, lt):
                lt, lf = t, tf
                ltype = le[EV_TYPE] or ""
                lmsg = le[EV_DISPLAY] or le[EV_MESSAGE] or ""
        ntasks[i] = k
        restarts[i] = r
        nfailed[i] = f
        last_restart[i] = lr
        last_type[i] = ltype
        last_msg[i] = lmsg
        last_time[i] = lt

    create = col.times(cols["CreateTime"])
    now_ns = now.value
    cr_ns = create.asi8
    age = np.where(cr_ns == col.INAT, col.INAT, now_ns - cr_ns).view("m8[ns]")
    healthy = []
    for ds in cols["DeploymentStatus"]:
        h = ds.get("Healthy") if ds.__class__ is dict else None
        healthy.append(h if h is True or h is False else None)
    jv: Sequence[Any] = cols["JobVersion"]
    if None in jv:
        jv = [-1 if v is None else v for v in jv]
    cstat_arr = col.strcol(cols["ClientStatus"])
    nfailed_arr = np.asarray(nfailed, dtype=np.int64)
    allocations = col.frame(
        "allocations",
        {
            "cluster": col.filled(n, cluster),
            "alloc_id": ids,
            "short_id": [x[:8] for x in ids.tolist()],
            "name": col.strcol(cols["Name"]),
            "client": clients,
            "namespace": nss,
            "job_id": jids,
            "job_type": col.strcol(cols["JobType"]),
            "job_version": col.ints(jv),
            "task_group": col.strcol(cols["TaskGroup"]),
            "node_id": node_ids,
            "node_name": col.strcol(cols["NodeName"]),
            "datacenter": [node_dc.get(x, "") for x in node_ids.tolist()],
            "client_status": cstat_arr,
            "client_description": col.strcol(cols["ClientDescription"]),
            "desired_status": col.strcol(cols["DesiredStatus"]),
            "desired_description": col.strcol(cols["DesiredDescription"]),
            "tasks": ntasks,
            "tasks_failed": nfailed_arr,
            "restarts": col.ints(restarts),
            "last_restart": col.str_times(last_restart),
            "last_event_type": last_type,
            "last_event_message": last_msg,
            "last_event_time": col.times(last_time),
            "create_time": create,
            "modify_time": col.times(cols["ModifyTime"]),
            "age": age,
            "failed": (cstat_arr == "failed") | (nfailed_arr > 0),
            "lost": cstat_arr == "lost",
            "healthy": healthy,
            "eval_id": col.strcol(cols["EvalID"]),
            "next_allocation": col.strcol(cols["NextAllocation"]),
        },
    )

    if not ev_cols[0]:
        return allocations, empty("task_events")
    counts = np.asarray(ev_counts, dtype=np.int64)
    aidx = np.repeat(np.asarray(ev_task_alloc, dtype=np.int64), counts)
    etime, etype, edisp, emsg, ecode, esig, efails = ev_cols  # EVENT_FIELDS' order
    m = len(etime)
    del ev_cols
    etype_arr = np.array(etype, dtype=object)
    if None in etype:
        etype_arr[etype_arr == None] = ""  # noqa: E711 (elementwise)
    ecode_arr = col.ints(ecode)
    try:
        efails_arr = np.array(efails, dtype=bool)
    except (TypeError, ValueError):
        efails_arr = np.array([bool(x) for x in efails], dtype=bool)

    # The columns of few distinct values are categoricals (views.schema: CAT); those of the
    # allocation's own fields take the codes of its categorical (one factorisation per allocation).
    def per_alloc(name: str) -> pd.Categorical:
        return col.cat_take(col.cat(allocations[name].to_numpy()), aidx)

    task_events = col.frame(
        "task_events",
        {
            "cluster": col.cat_filled(m, cluster),
            "alloc_id": allocations["alloc_id"].to_numpy()[aidx],
            "short_id": allocations["short_id"].to_numpy()[aidx],
            "client": per_alloc("client"),
            "namespace": per_alloc("namespace"),
            "job_id": per_alloc("job_id"),
            "task_group": per_alloc("task_group"),
            "task": col.cat_repeat(col.cat(ev_task_name), counts),
            "time": col.times(etime),
            "type": col.cat(etype_arr),
            "message": col.cat([d or x or "" for d, x in zip(edisp, emsg)]),
            "exit_code": ecode_arr,
            "signal": col.ints(esig),
            "fails_task": efails_arr,
            "severity": col.cat(event_severity(etype_arr, ecode_arr, efails_arr)),
            "task_state": col.cat_repeat(col.cat(ev_task_state), counts),
            "task_failed": np.repeat(np.asarray(ev_task_failed, dtype=bool), counts),
        },
    )
    return allocations, task_events
