"""Deployment metrics over the history frame (``views.deploy_history``): pure, table-tested.

Definitions (the page's captions say the same in words):

* **outcome**: ``successful``, ``failed``, ``cancelled`` (Nomad's own statuses) or ``running``
  (any in-progress status: running, paused, pending, initializing, blocked, unblocking).
* **success rate** = successful / (successful + failed). Cancelled deployments (superseded by a
  newer version, or the job was stopped) reached no verdict and count in neither.
* **change failure rate**: a *change* is one application version of one job (cluster, namespace,
  job, app version; the job version when the app version is unknown) with a verdict (at least one
  successful or failed deployment). The share of those with at least one failed deployment: a
  version that failed twice and then went out counts once.
* **time to restore**: a job's *incident* opens at its first failed deployment after a success
  and closes at its next successful one; the time between the two. Incidents are counted in the
  period they open; one still open has no restore time yet (``open_incidents`` counts them).
* **duration**: ModifyTime - CreateTime of a finished deployment.
* **frequency**: deployments per client per week of the period.
* **failure reason**: grouped from Nomad's ``StatusDescription`` (the strings are the constants
  in nomad/structs/deployment.go, v1.11.3); an auto-revert adds " - rolling back to job version N"
  to the base reason, so ``reverted`` is a separate flag.
* **weeks and days** start at midnight in the viewer's time zone (Monday for weeks), so a
  week that crosses a daylight-saving change is still one week of local calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd

from .periods import DEFAULT_PERIOD, PERIODS, bucket_start, period_bounds, trend  # noqa: F401 (re-exported)

SUCCESSFUL, FAILED, CANCELLED, RUNNING = "successful", "failed", "cancelled", "running"
OUTCOMES: tuple[str, ...] = (SUCCESSFUL, FAILED, CANCELLED, RUNNING)

# Base descriptions, Nomad v1.11.3 nomad/structs/deployment.go (DeploymentStatusDescription*).
DESC_PROGRESS_DEADLINE = "Failed due to progress deadline"
DESC_FAILED_ALLOCATIONS = "Failed due to unhealthy allocations"
DESC_FAILED_BY_USER = "Deployment marked as failed"
DESC_NEWER_JOB = "Cancelled due to newer version of job"
DESC_STOPPED_JOB = "Cancelled because job is stopped"
DESC_FAILED_BY_PEER = "Failed because of an error in peer region"
# DeploymentStatusDescriptionRollback: "%s - rolling back to job version %d"
ROLLBACK_MARK = " - rolling back to job version "

REASON_PROGRESS_DEADLINE = "progress deadline"
REASON_UNHEALTHY = "unhealthy allocations"
REASON_MANUAL = "manually failed"
REASON_NEWER = "cancelled by a newer version"
REASON_STOPPED = "job stopped"
REASON_PEER = "peer region failed"
REASON_OTHER = "other"
REASON_AUTO_REVERTED = "auto-reverted"

_REASON_PREFIXES: tuple[tuple[str, str], ...] = (
    (DESC_PROGRESS_DEADLINE, REASON_PROGRESS_DEADLINE),
    (DESC_FAILED_ALLOCATIONS, REASON_UNHEALTHY),
    (DESC_FAILED_BY_USER, REASON_MANUAL),
    (DESC_NEWER_JOB, REASON_NEWER),
    (DESC_STOPPED_JOB, REASON_STOPPED),
    (DESC_FAILED_BY_PEER, REASON_PEER),
)
REASON_ORDER: tuple[str, ...] = tuple(r for _, r in _REASON_PREFIXES) + (REASON_OTHER,)


def outcome(status: str) -> str:
    """Nomad deployment status -> one of OUTCOMES."""
    return status if status in (SUCCESSFUL, FAILED, CANCELLED) else RUNNING


def failure_reason(status: str, description: str) -> str:
    """Why a failed or cancelled deployment did not succeed, in a few words ('' for the others)."""
    if outcome(status) not in (FAILED, CANCELLED):
        return ""
    desc = (description or "").strip()
    for prefix, reason in _REASON_PREFIXES:
        if desc.startswith(prefix):
            return reason
    return REASON_OTHER


def reverted(description: str) -> bool:
    """Nomad rolled the job back to an earlier version after this deployment failed."""
    return ROLLBACK_MARK in (description or "")


def annotate(history: pd.DataFrame) -> pd.DataFrame:
    """The history with ``outcome``, ``reason`` and ``reverted`` columns."""
    df = history.copy()
    statuses = df["status"].tolist()
    descs = df["status_description"].tolist()
    df["outcome"] = [outcome(s) for s in statuses]
    df["reason"] = [failure_reason(s, d) for s, d in zip(statuses, descs)]
    df["reverted"] = [reverted(d) for d in descs]
    return df


def _when(df: pd.DataFrame) -> pd.Series:
    """The time a deployment counts at: when it started (CreateTime), else its last change."""
    return df["create_time"].where(df["create_time"].notna(), df["modify_time"])


def in_window(history: pd.DataFrame, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp) -> pd.DataFrame:
    """Deployments that started in [start, end)."""
    t = _when(history)
    return history[(t >= pd.Timestamp(start)) & (t < pd.Timestamp(end))]


# ---------------------------------------------------------------- headline figures


def success_rate(df: pd.DataFrame) -> float | None:
    """successful / (successful + failed); None when neither happened."""
    s = int((df["status"] == SUCCESSFUL).sum())
    f = int((df["status"] == FAILED).sum())
    return s / (s + f) if s + f else None


def _change_key(df: pd.DataFrame) -> pd.Series:
    version = df["app_version"].where(df["app_version"] != "", "v#" + df["job_version"].astype(str))
    return df["cluster"] + "\x00" + df["namespace"] + "\x00" + df["job_id"] + "\x00" + version


def change_failure_rate(df: pd.DataFrame) -> float | None:
    """Share of changes (app version of a job) with at least one failed deployment; None if no change."""
    df = df[df["status"].isin((SUCCESSFUL, FAILED))]
    if not len(df):
        return None
    failed = (df["status"] == FAILED).groupby(_change_key(df)).any()
    return float(failed.mean())


@dataclass(frozen=True)
class Incident:
    cluster: str
    namespace: str
    job_id: str
    failed_at: pd.Timestamp
    restored_at: pd.Timestamp | None  # None: still open

    @property
    def seconds(self) -> float | None:
        return None if self.restored_at is None else (self.restored_at - self.failed_at).total_seconds()


def incidents(history: pd.DataFrame) -> list[Incident]:
    """Every job's incidents: first failure after a success -> next success (see module doc).

    Ordered by when each deployment concluded (ModifyTime, else CreateTime).
    """
    df = history[history["status"].isin((SUCCESSFUL, FAILED))]
    if not len(df):
        return []
    t = df["modify_time"].where(df["modify_time"].notna(), df["create_time"])
    df = df.assign(_t=t).dropna(subset=["_t"]).sort_values(["_t", "modify_index"], kind="stable")
    out: list[Incident] = []
    for (cluster, ns, job), g in df.groupby(["cluster", "namespace", "job_id"], sort=True):
        opened = None
        for status, when in zip(g["status"].tolist(), g["_t"].tolist()):
            if status == FAILED and opened is None:
                opened = when
            elif status == SUCCESSFUL and opened is not None:
                out.append(Incident(cluster, ns, job, opened, when))
                opened = None
        if opened is not None:
            out.append(Incident(cluster, ns, job, opened, None))
    return sorted(out, key=lambda i: (i.failed_at, i.cluster, i.namespace, i.job_id))


def _median(values: list[float]) -> float | None:
    return float(pd.Series(values, dtype="float64").median()) if values else None


def time_to_restore(
    history: pd.DataFrame, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> tuple[float | None, int]:
    """(median seconds to restore of the incidents that opened in [start, end), incidents still open).

    ``history`` should reach past ``end``: a restore after the period still counts for its incident.
    """
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    inside = [i for i in incidents(history) if lo <= i.failed_at < hi]
    return _median([i.seconds for i in inside if i.seconds is not None]), sum(i.restored_at is None for i in inside)


def median_duration(df: pd.DataFrame) -> float | None:
    """Median seconds from CreateTime to ModifyTime of finished deployments."""
    d = df.loc[df["status"].isin((SUCCESSFUL, FAILED, CANCELLED)), "duration_s"].dropna()
    return float(d.median()) if len(d) else None


def frequency_per_client(df: pd.DataFrame, days: float, clients: int | None = None) -> float | None:
    """Deployments per client per week over a period of ``days`` (clients: those in ``df`` by default)."""
    n_clients = clients if clients is not None else df.loc[df["client"] != "", "client"].nunique()
    if not n_clients or days <= 0:
        return None
    return len(df) / n_clients / (days / 7.0)


@dataclass(frozen=True)
class Headline:
    deployments: int
    successful: int
    failed: int
    cancelled: int
    running: int
    success_rate: float | None
    change_failure_rate: float | None
    median_duration_s: float | None
    frequency_per_client_week: float | None
    time_to_restore_s: float | None
    open_incidents: int
    reverted: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def headline(
    history: pd.DataFrame,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    *,
    clients: int | None = None,
) -> Headline:
    """The headline figures of the deployments that started in [start, end)."""
    df = in_window(history, start, end)
    status = df["status"]
    ttr, still_open = time_to_restore(history, start, end)
    days = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / 86400
    return Headline(
        deployments=len(df),
        successful=int((status == SUCCESSFUL).sum()),
        failed=int((status == FAILED).sum()),
        cancelled=int((status == CANCELLED).sum()),
        running=int((~status.isin((SUCCESSFUL, FAILED, CANCELLED))).sum()),
        success_rate=success_rate(df),
        change_failure_rate=change_failure_rate(df),
        median_duration_s=median_duration(df),
        frequency_per_client_week=frequency_per_client(df, days, clients),
        time_to_restore_s=ttr,
        open_incidents=still_open,
        reverted=int(sum(reverted(d) for d in df["status_description"].tolist())),
    )


def per_bucket(history: pd.DataFrame, tz: tzinfo | str, freq: str = "W") -> pd.DataFrame:
    """One row per local day/week with deployments: bucket, each outcome's count, success_rate."""
    cols = ["bucket", *OUTCOMES, "deployments", "success_rate"]
    df = history[_when(history).notna()]
    if not len(df):
        return pd.DataFrame(columns=cols)
    df = df.assign(bucket=bucket_start(_when(df), tz, freq), outcome=[outcome(s) for s in df["status"]])
    table = df.groupby(["bucket", "outcome"]).size().unstack(fill_value=0)
    for o in OUTCOMES:
        if o not in table.columns:
            table[o] = 0
    table = table[list(OUTCOMES)].astype("int64")
    table["deployments"] = table.sum(axis=1)
    decided = table[SUCCESSFUL] + table[FAILED]
    table["success_rate"] = (table[SUCCESSFUL] / decided).where(decided > 0)
    return table.reset_index()[cols]


# ---------------------------------------------------------------- tables


def failure_reasons(df: pd.DataFrame) -> pd.DataFrame:
    """reason, deployments, auto_reverted: failed and cancelled deployments by reason (REASON_ORDER)."""
    a = annotate(df)
    a = a[a["reason"] != ""]
    rows = []
    for reason in REASON_ORDER:
        g = a[a["reason"] == reason]
        if len(g):
            rows.append({"reason": reason, "deployments": len(g), "auto_reverted": int(g["reverted"].sum())})
    return pd.DataFrame(rows, columns=["reason", "deployments", "auto_reverted"])


def per_client(df: pd.DataFrame, tz: tzinfo | str = "UTC", *, trend_from: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per client: deployments, successful, failed, success rate, last failure (time, reason),
    and the weekly success rates (oldest first) for a small trend, from ``trend_from`` (say the last
    weeks up to the period's end) or else ``df``. Lowest success rate first."""
    cols = [
        "client",
        "deployments",
        "successful",
        "failed",
        "success_rate",
        "last_failure",
        "last_failure_reason",
        "weekly_success",
    ]
    if not len(df):
        return pd.DataFrame(columns=cols)
    a = annotate(df)
    rows = []
    for client, g in a.groupby("client", sort=True):
        fails = g[g["status"] == FAILED]
        last = fails.loc[_when(fails).idxmax()] if len(fails) else None
        weekly = per_bucket(g if trend_from is None else trend_from[trend_from["client"] == client], tz, "W")
        rows.append(
            {
                "client": client,
                "deployments": len(g),
                "successful": int((g["status"] == SUCCESSFUL).sum()),
                "failed": len(fails),
                "success_rate": success_rate(g),
                "last_failure": _when(fails).max() if last is not None else pd.NaT,
                "last_failure_reason": (
                    (last["reason"] + (" (auto-reverted)" if last["reverted"] else "")) if last is not None else ""
                ),
                "weekly_success": [float(x) if pd.notna(x) else None for x in weekly["success_rate"]],
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    out["success_rate"] = pd.to_numeric(out["success_rate"], errors="coerce")
    return out.sort_values(["success_rate", "failed", "client"], ascending=[True, False, True], na_position="last")


def top_failing_jobs(df: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Jobs with the most failed deployments: client, job, failed, deployments, main reason."""
    cols = ["client", "namespace", "job_id", "failed", "deployments", "main_reason"]
    a = annotate(df)
    fails = a[a["status"] == FAILED]
    if not len(fails):
        return pd.DataFrame(columns=cols)
    totals = a.groupby(["client", "namespace", "job_id"]).size()
    rows = []
    for key, g in fails.groupby(["client", "namespace", "job_id"], sort=True):
        reasons = g["reason"].value_counts()
        top = sorted(reasons.items(), key=lambda kv: (-kv[1], REASON_ORDER.index(kv[0])))[0][0]
        rows.append(
            {
                **dict(zip(["client", "namespace", "job_id"], key)),
                "failed": len(g),
                "deployments": int(totals[key]),
                "main_reason": top,
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return (
        out.sort_values(["failed", "client", "job_id"], ascending=[False, True, True])
        .head(limit)
        .reset_index(drop=True)
    )
