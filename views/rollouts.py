"""Fleet rollouts: one application version of one job role going out to many clients.

A job's *role* is its ID without the client's prefix (``northern-leaf-web`` -> ``web``), so the
same role of every client can be compared. Deployments of the same (cluster, role, app version)
belong to one rollout when each starts within ``window`` of the rollout's first one; a group that
reached fewer than ``min_clients`` clients is an ordinary deployment, not a rollout. Deployments
without an app version are never part of a rollout.

A deployment of the version its client was already on (the rollback of an auto-revert, a re-deploy)
brings nothing new and is not part of a rollout.

Each client of the rollout has a *state* from its latest deployment of that version in the rollout
(a client that got the version twice counts once, by its last attempt):
``done`` (successful), ``failed``, ``cancelled`` (superseded or stopped), ``running``; clients of
the fleet (every client with that role in the history) with no such deployment are ``not started``.
A rollout is ``finished`` when every client of the fleet is done, failed or cancelled, ``stopped``
when clients are left but nothing has happened for a whole window, else ``in progress``.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from . import deploy_metrics as m

DONE, FAILED, CANCELLED, RUNNING, NOT_STARTED = "done", "failed", "cancelled", "running", "not started"
STATES: tuple[str, ...] = (DONE, FAILED, RUNNING, CANCELLED, NOT_STARTED)
_STATE_OF = {m.SUCCESSFUL: DONE, m.FAILED: FAILED, m.CANCELLED: CANCELLED, m.RUNNING: RUNNING}

DEFAULT_WINDOW = timedelta(hours=12)
DEFAULT_MIN_CLIENTS = 5

ROLLOUT_COLUMNS = [
    "rollout_id",
    "cluster",
    "role",
    "app_version",
    "started",
    "last_change",
    "fleet",
    *(s.replace(" ", "_") for s in STATES),
    "finished",
    "status",
    "duration_s",
]
BOARD_COLUMNS = [
    "client",
    "state",
    "now_on",
    "previous_version",
    "reason",
    "status_description",
    "job_id",
    "job_version",
    "attempts",
    "started",
    "last_change",
    "deployment_id",
]


def job_role(client: str, job_id: str) -> str:
    """The job's ID without its client's prefix; the whole ID when it has none."""
    for sep in ("-", "_", "."):
        prefix = f"{client}{sep}"
        if client and job_id.startswith(prefix) and len(job_id) > len(prefix):
            return job_id[len(prefix) :]
    return job_id


def with_roles(history: pd.DataFrame) -> pd.DataFrame:
    return history.assign(role=[job_role(c, j) for c, j in zip(history["client"], history["job_id"])])


def rollout_id(cluster: str, role: str, version: str, started: pd.Timestamp) -> str:
    """A stable ID for links: cluster/role/version@start (UTC, seconds)."""
    return f"{cluster}/{role}/{version}@{started.tz_convert('UTC').strftime('%Y%m%dT%H%M%SZ')}"


def _already_on(df: pd.DataFrame) -> pd.Series:
    """True for a deployment of the version its client was already on (its latest successful deployment
    of the role that started earlier): an auto-revert's rollback, or a re-deploy; neither brings a version."""
    out = pd.Series(False, index=df.index)
    ordered = df.sort_values(["create_time", "modify_index"], kind="stable")
    for _, g in ordered.groupby(["cluster", "client", "role"], sort=False):
        current = None
        for idx, status, version in zip(g.index, g["status"], g["app_version"]):
            if current is not None and version == current:
                out[idx] = True
            if status == m.SUCCESSFUL:
                current = version
    return out


def _groups(history: pd.DataFrame, window: timedelta, min_clients: int):
    """Yield (cluster, role, version, rows) for each rollout."""
    df = with_roles(history)
    df = df[(df["app_version"] != "") & df["create_time"].notna()]
    df = df[~_already_on(df)]
    for (cluster, role, version), g in df.groupby(["cluster", "role", "app_version"], sort=True):
        g = g.sort_values(["create_time", "modify_index"], kind="stable")
        start = None
        members: list[int] = []
        for idx, t in zip(g.index.tolist(), g["create_time"].tolist()):
            if start is not None and t - start > window:
                yield cluster, role, version, g.loc[members]
                start, members = None, []
            if start is None:
                start = t
            members.append(idx)
        if members:
            yield cluster, role, version, g.loc[members]


def _qualifying(history: pd.DataFrame, window: timedelta, min_clients: int):
    for cluster, role, version, rows in _groups(history, window, min_clients):
        if rows["client"].nunique() >= min_clients:
            yield cluster, role, version, rows


def _fleet(history: pd.DataFrame, cluster: str, role: str) -> list[str]:
    df = with_roles(history)
    return sorted(set(df.loc[(df["cluster"] == cluster) & (df["role"] == role) & (df["client"] != ""), "client"]))


def _client_states(rows: pd.DataFrame) -> pd.DataFrame:
    """The latest deployment of each client in the rollout, with its state and attempts."""
    rows = rows.sort_values(["create_time", "modify_index"], kind="stable")
    last = rows.groupby("client", sort=True).tail(1).set_index("client")
    attempts = rows.groupby("client").size()
    last = last.assign(
        state=[_STATE_OF[m.outcome(s)] for s in last["status"]],
        attempts=attempts.reindex(last.index).astype("int64"),
    )
    return last


def rollouts(
    history: pd.DataFrame,
    now: pd.Timestamp,
    *,
    window: timedelta = DEFAULT_WINDOW,
    min_clients: int = DEFAULT_MIN_CLIENTS,
) -> pd.DataFrame:
    """One row per rollout, newest first (ROLLOUT_COLUMNS).

    ``duration_s`` runs until now while a client is running or not started, else until the last change.
    """
    rows_out = []
    for cluster, role, version, rows in _qualifying(history, window, min_clients):
        states = _client_states(rows)
        fleet = set(_fleet(history, cluster, role)) | set(states.index)
        counts = states["state"].value_counts()
        started = rows["create_time"].min()
        last_change = rows["modify_time"].max() if rows["modify_time"].notna().any() else started
        not_started = len(fleet) - len(states)
        finished = not int(counts.get(RUNNING, 0)) and not not_started
        # nothing deploying and nothing new for a whole window: the rest of the fleet was not reached
        stopped = not finished and not int(counts.get(RUNNING, 0)) and pd.Timestamp(now) - last_change > window
        end = last_change if finished or stopped else pd.Timestamp(now)
        rows_out.append(
            {
                "rollout_id": rollout_id(cluster, role, version, started),
                "cluster": cluster,
                "role": role,
                "app_version": version,
                "started": started,
                "last_change": last_change,
                "fleet": len(fleet),
                "done": int(counts.get(DONE, 0)),
                "failed": int(counts.get(FAILED, 0)),
                "running": int(counts.get(RUNNING, 0)),
                "cancelled": int(counts.get(CANCELLED, 0)),
                "not_started": not_started,
                "finished": finished,
                "status": "finished" if finished else ("stopped" if stopped else "in progress"),
                "duration_s": max(0.0, (end - started).total_seconds()),
            }
        )
    out = pd.DataFrame(rows_out, columns=ROLLOUT_COLUMNS)
    if len(out):
        out = out.sort_values(["started", "role", "app_version"], ascending=[False, True, True]).reset_index(drop=True)
    return out


def _latest_successful_version(history: pd.DataFrame, cluster: str, role: str, before=None) -> dict[str, str]:
    """client -> app version of its latest successful deployment of the role (optionally before a time)."""
    df = with_roles(history)
    df = df[
        (df["cluster"] == cluster) & (df["role"] == role) & (df["status"] == m.SUCCESSFUL) & (df["app_version"] != "")
    ]
    t = df["modify_time"].where(df["modify_time"].notna(), df["create_time"])
    if before is not None:
        df, t = df[t < before], t[t < before]
    df = df.assign(_t=t).sort_values(["_t", "modify_index"], kind="stable")
    return dict(zip(df["client"], df["app_version"]))


def board(
    history: pd.DataFrame,
    rollout: str,
    *,
    window: timedelta = DEFAULT_WINDOW,
    min_clients: int = DEFAULT_MIN_CLIENTS,
) -> pd.DataFrame:
    """Per client of one rollout (by ``rollout_id``): state, the version it runs now, the one it ran
    before, why it failed. Failed first, then running, not started, cancelled, done (BOARD_COLUMNS)."""
    for cluster, role, version, rows in _qualifying(history, window, min_clients):
        started = rows["create_time"].min()
        if rollout_id(cluster, role, version, started) != rollout:
            continue
        states = _client_states(rows)
        now_on = _latest_successful_version(history, cluster, role)
        before = _latest_successful_version(history, cluster, role, before=started)
        fleet = sorted(set(_fleet(history, cluster, role)) | set(states.index))
        out = []
        for client in fleet:
            if client in states.index:
                r = states.loc[client]
                out.append(
                    {
                        "client": client,
                        "state": r["state"],
                        "now_on": now_on.get(client, ""),
                        "previous_version": before.get(client, ""),
                        "reason": m.failure_reason(r["status"], r["status_description"])
                        + (" (auto-reverted)" if m.reverted(r["status_description"]) else ""),
                        "status_description": r["status_description"],
                        "job_id": r["job_id"],
                        "job_version": int(r["job_version"]),
                        "attempts": int(r["attempts"]),
                        "started": r["create_time"],
                        "last_change": r["modify_time"],
                        "deployment_id": r["deployment_id"],
                    }
                )
            else:
                out.append(
                    {
                        "client": client,
                        "state": NOT_STARTED,
                        "now_on": now_on.get(client, ""),
                        "previous_version": before.get(client, ""),
                        "reason": "",
                        "status_description": "",
                        "job_id": "",
                        "job_version": -1,
                        "attempts": 0,
                        "started": pd.NaT,
                        "last_change": pd.NaT,
                        "deployment_id": "",
                    }
                )
        df = pd.DataFrame(out, columns=BOARD_COLUMNS)
        order = {FAILED: 0, RUNNING: 1, NOT_STARTED: 2, CANCELLED: 3, DONE: 4}
        df["started"] = pd.to_datetime(df["started"], utc=True)
        df["last_change"] = pd.to_datetime(df["last_change"], utc=True)
        return (
            df.assign(_o=df["state"].map(order)).sort_values(["_o", "client"]).drop(columns="_o").reset_index(drop=True)
        )
    return pd.DataFrame(columns=BOARD_COLUMNS)
