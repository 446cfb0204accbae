"""Columns and dtypes of every frame, written down once.

Each frame is a list of ``(column, dtype, meaning)``. ``SCHEMAS[name]`` maps
column -> pandas dtype string. Conventions:

* ``str`` columns are ``object`` dtype holding Python ``str``; an absent value
  is ``""`` (never NaN), so ``df[df.client == "x"]`` and ``.str`` just work.
* ``category`` columns are str columns too (``""`` when absent; ``==``, ``isin``, ``.str``,
  ``tolist`` as usual) stored as pandas categoricals whose categories are the values present,
  sorted: the task events' columns of few distinct values (550,000 rows at 100,000 allocations:
  1-2 bytes a row, not an 8-byte pointer, in every generation of the frame). Readers that build
  text from them or group by them convert a slice first (``plain``).
* ``list`` columns are ``object`` dtype holding Python lists (``[]`` when absent).
* ``dict`` columns are ``object`` dtype holding Python dicts (``{}`` when absent).
* integer counts are ``int64`` with 0 when absent; ``job_version`` is -1 when absent.
* times are tz-aware UTC (``datetime64[ns, UTC]``), ``NaT`` when absent.
* ``boolean`` (capital-B semantics) is pandas' nullable boolean (``<NA>`` = unknown).

Every frame has a ``cluster`` column first.
"""

from __future__ import annotations

import pandas as pd

STR = "object"
LIST = "object"
DICT = "object"
INT = "int64"
FLOAT = "float64"
BOOL = "bool"
NBOOL = "boolean"
TS = "datetime64[ns, UTC]"
TD = "timedelta64[ns]"
CAT = "category"  # a str column of few distinct values in a big frame (see the module's docstring)

_STR_KIND = "str"
_LIST_KIND = "list"
_DICT_KIND = "dict"

# (column, dtype, kind-of-object-or-None, meaning)
_DEFS: dict[str, list[tuple[str, str, str | None, str]]] = {
    "clients": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("client", STR, _STR_KIND, "client (customer) name, from the configured ClientIdentity"),
        ("status", STR, _STR_KIND, "down | degraded | deploying | healthy (views.health)"),
        ("rank", INT, None, "sort key, worst first: 0 down, 1 degraded, 2 deploying, 3 healthy"),
        ("severity", INT, None, "the worst finding's weight (views.health, lower is worse): the order within a status"),
        ("reason", STR, _STR_KIND, "why, in words a support person reads"),
        ("namespaces", LIST, _LIST_KIND, "Nomad namespaces the client's jobs live in (sorted)"),
        ("jobs", INT, None, "number of jobs"),
        ("desired", INT, None, "allocations the scheduler wants running (see jobs.desired)"),
        ("running", INT, None, "allocations running now"),
        ("failed_allocs", INT, None, "allocations that failed within the health window"),
        ("lost_allocs", INT, None, "allocations lost within the health window"),
        (
            "restarts_24h",
            INT,
            None,
            "task restarts in the last 24h: `Restarting` task events within the window (Nomad keeps a task's last 10 events)",
        ),
        ("checks_critical", INT, None, "Consul checks critical on the client's services"),
        ("checks_warning", INT, None, "Consul checks warning on the client's services"),
        ("deploying", BOOL, None, "a deployment is in progress for one of the client's jobs"),
        ("last_deployment_status", STR, _STR_KIND, "status of the most recent deployment"),
        ("last_deployment_time", TS, None, "modify (or create) time of that deployment"),
        ("versions", LIST, _LIST_KIND, "application versions (job meta / service meta `version`)"),
        (
            "datacenters",
            LIST,
            _LIST_KIND,
            "datacenters where the client's allocations run (nothing running: where they were placed)",
        ),
    ],
    "jobs": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("client", STR, _STR_KIND, "client name"),
        ("namespace", STR, _STR_KIND, "Nomad namespace"),
        ("job_id", STR, _STR_KIND, "Nomad job ID"),
        ("name", STR, _STR_KIND, "job name"),
        ("parent_id", STR, _STR_KIND, "parent job ID (periodic/parameterized children)"),
        ("type", STR, _STR_KIND, "service | batch | system | sysbatch"),
        ("status", STR, _STR_KIND, "pending | running | dead"),
        ("status_description", STR, _STR_KIND, "Nomad's status description"),
        ("stop", BOOL, None, "job was stopped"),
        ("priority", INT, None, "scheduling priority"),
        ("job_version", INT, None, "newest JobVersion of its allocations and deployments, else -1"),
        ("app_version", STR, _STR_KIND, "job meta `version`"),
        ("datacenters", LIST, _LIST_KIND, "datacenters the job may run in"),
        ("periodic", BOOL, None, "periodic job"),
        ("parameterized", BOOL, None, "parameterized (dispatch) job"),
        (
            "desired",
            INT,
            None,
            "allocations wanted running: max(latest deployment desired_total, "
            "summary running+starting+queued, distinct alloc names with desired_status run); "
            "0 for stopped, batch and sysbatch jobs",
        ),
        ("running", INT, None, "JobSummary Running (sum over groups)"),
        ("starting", INT, None, "JobSummary Starting"),
        ("queued", INT, None, "JobSummary Queued"),
        ("failed", INT, None, "JobSummary Failed (all time)"),
        ("lost", INT, None, "JobSummary Lost (all time)"),
        ("complete", INT, None, "JobSummary Complete"),
        ("unknown", INT, None, "JobSummary Unknown"),
        ("task_groups", LIST, _LIST_KIND, "task group names (from JobSummary)"),
        ("submit_time", TS, None, "when this version was submitted"),
        ("meta", DICT, _DICT_KIND, "job meta"),
    ],
    "allocations": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("alloc_id", STR, _STR_KIND, "full allocation UUID"),
        ("short_id", STR, _STR_KIND, "first 8 characters of the ID"),
        ("name", STR, _STR_KIND, "allocation name, e.g. job.group[0]"),
        ("client", STR, _STR_KIND, "client name"),
        ("namespace", STR, _STR_KIND, "Nomad namespace"),
        ("job_id", STR, _STR_KIND, "Nomad job ID"),
        ("job_type", STR, _STR_KIND, "service | batch | system | sysbatch"),
        ("job_version", INT, None, "job version the allocation runs (-1 if absent)"),
        ("task_group", STR, _STR_KIND, "task group"),
        ("node_id", STR, _STR_KIND, "Nomad node ID"),
        ("node_name", STR, _STR_KIND, "Nomad node name"),
        ("datacenter", STR, _STR_KIND, "datacenter, joined from nodes by node_id"),
        ("client_status", STR, _STR_KIND, "pending | running | complete | failed | lost | unknown"),
        ("client_description", STR, _STR_KIND, "Nomad's client description"),
        ("desired_status", STR, _STR_KIND, "run | stop | evict"),
        ("desired_description", STR, _STR_KIND, "Nomad's desired description"),
        ("tasks", INT, None, "number of tasks with a state"),
        ("tasks_failed", INT, None, "tasks whose state is Failed"),
        ("restarts", INT, None, "sum of task restarts"),
        ("last_restart", TS, None, "latest task LastRestart"),
        ("last_event_type", STR, _STR_KIND, "type of the newest task event (of a failed task, if any)"),
        ("last_event_message", STR, _STR_KIND, "its DisplayMessage (or Message)"),
        ("last_event_time", TS, None, "its time"),
        ("create_time", TS, None, "allocation created"),
        ("modify_time", TS, None, "allocation last modified"),
        ("age", TD, None, "now - create_time"),
        ("failed", BOOL, None, "client_status failed, or a task failed"),
        ("lost", BOOL, None, "client_status lost"),
        ("healthy", NBOOL, None, "deployment health (DeploymentStatus.Healthy), <NA> if unset"),
        ("eval_id", STR, _STR_KIND, "evaluation ID"),
        ("next_allocation", STR, _STR_KIND, "replacement allocation ID"),
    ],
    "task_events": [
        ("cluster", CAT, _STR_KIND, "cluster name"),
        ("alloc_id", STR, _STR_KIND, "allocation UUID"),
        ("short_id", STR, _STR_KIND, "first 8 characters"),
        ("client", CAT, _STR_KIND, "client name"),
        ("namespace", CAT, _STR_KIND, "Nomad namespace"),
        ("job_id", CAT, _STR_KIND, "Nomad job ID"),
        ("task_group", CAT, _STR_KIND, "task group"),
        ("task", CAT, _STR_KIND, "task name"),
        ("time", TS, None, "event time"),
        ("type", CAT, _STR_KIND, "event type, e.g. Started, Terminated, Restarting"),
        ("message", CAT, _STR_KIND, "DisplayMessage, else Message"),
        ("exit_code", INT, None, "ExitCode (0 when absent)"),
        ("signal", INT, None, "Signal (0 when absent)"),
        ("fails_task", BOOL, None, "FailsTask"),
        ("severity", CAT, _STR_KIND, "error | warning | info (views.allocations.event_severity)"),
        ("task_state", CAT, _STR_KIND, "the task's current State (pending | running | dead)"),
        ("task_failed", BOOL, None, "the task's Failed flag"),
    ],
    "deployments": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("client", STR, _STR_KIND, "client name"),
        ("namespace", STR, _STR_KIND, "Nomad namespace"),
        ("job_id", STR, _STR_KIND, "Nomad job ID"),
        ("deployment_id", STR, _STR_KIND, "deployment UUID"),
        ("short_id", STR, _STR_KIND, "first 8 characters"),
        ("job_version", INT, None, "job version being deployed"),
        (
            "status",
            STR,
            _STR_KIND,
            "running | paused | failed | successful | cancelled | pending | blocked | unblocking | initializing",
        ),
        ("status_description", STR, _STR_KIND, "Nomad's description"),
        ("active", BOOL, None, "status is one of the in-progress statuses"),
        ("is_latest", BOOL, None, "newest deployment of its job (by job version, then create index)"),
        ("create_time", TS, None, "CreateTime (int64 ns); NaT if absent"),
        ("modify_time", TS, None, "ModifyTime (int64 ns, moves with each status change); NaT if absent"),
        ("create_index", INT, None, "CreateIndex (orders deployments when times are absent)"),
        ("task_groups", INT, None, "number of task groups"),
        ("desired_total", INT, None, "sum of DesiredTotal"),
        ("desired_canaries", INT, None, "sum of DesiredCanaries"),
        ("placed", INT, None, "sum of PlacedAllocs"),
        ("healthy", INT, None, "sum of HealthyAllocs"),
        ("unhealthy", INT, None, "sum of UnhealthyAllocs"),
        ("promoted", BOOL, None, "every group with canaries is promoted"),
    ],
    "services": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("service", STR, _STR_KIND, "Consul service name"),
        ("service_id", STR, _STR_KIND, "Consul service ID"),
        ("client", STR, _STR_KIND, "service Meta client, else via alloc_id, else via identity"),
        ("version", STR, _STR_KIND, "service Meta version"),
        ("node", STR, _STR_KIND, "Consul node name"),
        ("datacenter", STR, _STR_KIND, "Consul datacenter"),
        ("address", STR, _STR_KIND, "ServiceAddress, else node Address"),
        ("port", INT, None, "ServicePort"),
        ("tags", LIST, _LIST_KIND, "ServiceTags"),
        ("meta", DICT, _DICT_KIND, "ServiceMeta"),
        ("alloc_id", STR, _STR_KIND, "Nomad allocation parsed from `_nomad-task-<alloc>-...` IDs"),
        (
            "health",
            STR,
            _STR_KIND,
            "worst check status: critical | warning | passing ('passing' when no checks, as Consul does)",
        ),
        ("checks_total", INT, None, "service checks + node checks on the same node"),
        ("checks_passing", INT, None, "passing among them"),
        ("checks_warning", INT, None, "warning among them"),
        ("checks_critical", INT, None, "critical among them"),
        ("failing_checks", STR, _STR_KIND, "names of non-passing checks, comma separated"),
        ("check_output", STR, _STR_KIND, "output of the worst check"),
    ],
    "checks": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("node", STR, _STR_KIND, "Consul node"),
        ("check_id", STR, _STR_KIND, "CheckID"),
        ("name", STR, _STR_KIND, "check name"),
        ("status", STR, _STR_KIND, "passing | warning | critical (others kept as-is)"),
        ("output", STR, _STR_KIND, "check output"),
        ("notes", STR, _STR_KIND, "check notes"),
        ("service_id", STR, _STR_KIND, "ServiceID ('' for node checks)"),
        ("service", STR, _STR_KIND, "ServiceName"),
        ("client", STR, _STR_KIND, "client of the service (via the services frame)"),
        ("alloc_id", STR, _STR_KIND, "Nomad allocation parsed from the service ID"),
    ],
    "nodes": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("node_id", STR, _STR_KIND, "node UUID"),
        ("short_id", STR, _STR_KIND, "first 8 characters"),
        ("name", STR, _STR_KIND, "node name"),
        ("datacenter", STR, _STR_KIND, "datacenter"),
        ("node_pool", STR, _STR_KIND, "node pool"),
        ("node_class", STR, _STR_KIND, "node class"),
        ("status", STR, _STR_KIND, "initializing | ready | down | disconnected"),
        ("eligibility", STR, _STR_KIND, "eligible | ineligible"),
        ("drain", BOOL, None, "draining"),
        ("version", STR, _STR_KIND, "Nomad version"),
        ("address", STR, _STR_KIND, "node address"),
        ("allocs_running", INT, None, "allocations running on the node"),
        ("allocs_total", INT, None, "allocations placed on the node (any status)"),
    ],
    "namespaces": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("namespace", STR, _STR_KIND, "namespace name"),
        ("description", STR, _STR_KIND, "description"),
        ("client", STR, _STR_KIND, "client name when identity is by namespace, else ''"),
        ("meta", DICT, _DICT_KIND, "namespace meta"),
        ("jobs", INT, None, "jobs in the namespace"),
    ],
    "nomad_services": [
        ("cluster", STR, _STR_KIND, "cluster name"),
        ("namespace", STR, _STR_KIND, "Nomad namespace"),
        ("client", STR, _STR_KIND, "client when identity is by namespace, else ''"),
        ("service", STR, _STR_KIND, "service name"),
        ("tags", LIST, _LIST_KIND, "tags"),
    ],
}

FRAME_NAMES: tuple[str, ...] = tuple(_DEFS)
SCHEMAS: dict[str, dict[str, str]] = {f: {c: d for c, d, _, _ in cols} for f, cols in _DEFS.items()}
DESCRIPTIONS: dict[str, dict[str, str]] = {f: {c: m for c, _, _, m in cols} for f, cols in _DEFS.items()}
_KINDS: dict[str, dict[str, str | None]] = {f: {c: k for c, _, k, _ in cols} for f, cols in _DEFS.items()}


def columns(name: str) -> list[str]:
    """The column names of frame ``name``, in order."""
    return list(SCHEMAS[name])


def empty(name: str) -> pd.DataFrame:
    """An empty frame with the right columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in SCHEMAS[name].items()})


def _default(kind: str | None, dtype: str):
    if kind == _STR_KIND:
        return ""
    if kind in (_LIST_KIND, _DICT_KIND):
        return None  # filled per row below
    if dtype == INT:
        return 0
    if dtype == BOOL:
        return False
    if dtype == FLOAT:
        return float("nan")
    if dtype == NBOOL:
        return pd.NA
    if dtype == TS:
        return pd.NaT
    if dtype == TD:
        return pd.NaT
    return None


def conform(df: pd.DataFrame | None, name: str) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns, in order, with its dtypes.

    Missing columns are added with the absent value (``""``, 0, False, NaT, ``[]``,
    ``{}``); extra columns are dropped; str columns get ``""`` for NaN/None; naive
    times are taken as UTC. Meant for frames built elsewhere (tests, pages); the
    per-resource builders (``views.jobs``, ``views.allocations``, ...) and ``views.clients`` produce conforming frames directly.
    """
    schema = SCHEMAS[name]
    if df is None or (len(df.columns) == 0 and len(df) == 0):
        return empty(name)
    n = len(df)
    out = {}
    for col, dtype in schema.items():
        kind = _KINDS[name][col]
        if col in df.columns:
            s = df[col]
        else:
            if kind == _LIST_KIND:
                s = pd.Series([[] for _ in range(n)], index=df.index, dtype=object)
            elif kind == _DICT_KIND:
                s = pd.Series([{} for _ in range(n)], index=df.index, dtype=object)
            elif dtype in (TS, TD, NBOOL):
                s = pd.Series([_default(kind, dtype)] * n, index=df.index, dtype=dtype)
            else:
                s = pd.Series([_default(kind, dtype)] * n, index=df.index)
        if kind == _STR_KIND:
            s = s.astype(object).where(s.notna(), "")
            s = s.map(lambda v: v if isinstance(v, str) else str(v)) if n and not _all_str(s) else s
            if dtype == CAT:
                s = s.astype(CAT)  # categories: the values present, sorted
        elif kind == _LIST_KIND:
            s = s.map(lambda v: list(v) if isinstance(v, (list, tuple, set)) else [])
        elif kind == _DICT_KIND:
            s = s.map(lambda v: dict(v) if isinstance(v, dict) else {})
        elif dtype == TS:
            s = pd.to_datetime(s, utc=True, errors="coerce").astype(TS)
        elif dtype == TD:
            s = pd.to_timedelta(s, errors="coerce").astype(TD)
        elif dtype == INT:
            s = pd.to_numeric(s, errors="coerce").fillna(0).astype("int64")
        elif dtype == BOOL:
            s = s.fillna(False).astype(bool)
        else:
            s = s.astype(dtype)
        out[col] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its categorical columns as plain str (object) columns: for a slice a page shows
    or builds text from (string concatenation, ``groupby`` over only the values present)."""
    cats = {c: object for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)}
    return df.astype(cats) if cats else df


def _all_str(s: pd.Series) -> bool:
    return all(isinstance(v, str) for v in s)
