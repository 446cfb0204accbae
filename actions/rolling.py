"""Rolling restart of a task group: one allocation at a time, each healthy again before the next.

It runs in a worker thread owned by the process (``Runner``), not by a browser session: closing the
tab does not stop it. One per task group across every dashboard instance (a lease row in the store,
renewed as a heartbeat). Progress lives in the store (``rolling_restarts``) so everyone sees it; a
cancel request is a flag there, checked between polls. A run whose process died stops heartbeating:
the next look at the progress (``status`` / a new ``Runner``) marks it interrupted, in the audit
trail too.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from actions import catalog
from actions.model import Outcome, Target
from connectors.errors import ConnectorError
from store.audit import Actor, Entry, Guards
from store.db import StoreUnavailable
from store.rolling import RollingStore

log = logging.getLogger("dashboard.actions")


def lease_name(cluster: str, namespace: str, job: str, group: str) -> str:
    return f"rolling:{cluster}/{namespace}/{job}/{group}"


def start(attempt) -> Outcome:
    from actions.perform import UNAVAILABLE, request, stale_message

    env, t = attempt.env, attempt.target
    try:
        job = env.nomad.get_job(t.job, namespace=t.namespace, token=attempt.token)
        stubs = env.nomad.job_allocations(t.job, namespace=t.namespace, token=attempt.token)
    except ConnectorError as err:
        return attempt.deny(f"Cannot read job {t.job} before restarting it: {err}. Nothing was done.", "live_target")
    from views import ClientIdentity

    client = ClientIdentity.parse(env.identity).of_job(t.namespace, t.job, job.get("Meta")) or t.client
    target = Target(
        namespace=t.namespace,
        job=t.job,
        task_group=t.task_group,
        client=client,
        observed_at=t.observed_at,
        cluster=t.cluster or env.cluster,
    )
    allocs = sorted(
        (
            s
            for s in stubs
            if s.get("TaskGroup") == t.task_group
            and s.get("DesiredStatus") == "run"
            and s.get("ClientStatus") == "running"
        ),
        key=lambda s: s.get("CreateIndex", 0),
    )
    if not allocs:
        return attempt.deny(
            f"Group {t.task_group} of job {t.job} has no running allocation to restart. Nothing was done.",
            "live_target",
            target,
        )
    stale = stale_message(target, env.settings, datetime.now(UTC))
    if stale:
        return attempt.deny(stale, "fresh_data", target)
    s = env.settings
    guards = Guards(
        rate_limit=s.rate_limit,
        rate_window_seconds=s.rate_window_minutes * 60,
        rate_actions=catalog.RATE_LIMITED,
        lease_name=lease_name(target.cluster, target.namespace, target.job, target.task_group),
        lease_seconds=env.lease_seconds,
        lease_holder=env.instance,
    )
    refused = request(attempt, target, guards)
    if refused is not None:
        if refused.guard == "lease":
            refused = Outcome(
                "denied",
                f"A rolling restart of group {t.task_group} is already running. " + refused.message,
                refused.request_id,
                "lease",
            )
        return refused
    steps = [{"allocation": a["ID"], "node": a.get("NodeName", ""), "status": "pending", "message": ""} for a in allocs]
    store = RollingStore(env.audit)
    try:
        store.create(
            attempt.request_id, target.fields(), attempt.actor.subject, attempt.actor.name, steps, env.instance
        )
    except StoreUnavailable:
        try:
            env.audit.release_lease(guards.lease_name, attempt.request_id)
        except StoreUnavailable:
            pass
        return Outcome("unavailable", UNAVAILABLE, attempt.request_id)
    job_spec = _Job(attempt.request_id, target, steps, attempt.token, attempt.actor, attempt.reason, attempt.ticket)
    env.get_runner().submit(job_spec, env)
    message = (
        f"Rolling restart of group {target.task_group} of job {target.job} started: {len(steps)} "
        f"allocation{'s' if len(steps) != 1 else ''}, one at a time. It goes on if you close this page; "
        "everyone sees its progress."
    )
    return Outcome("started", message, attempt.request_id)


def cancel(attempt) -> Outcome:
    from actions.perform import record_outcome, request

    env, t = attempt.env, attempt.target
    store = RollingStore(env.audit)
    try:
        running = [
            r
            for r in store.recent(cluster=t.cluster or env.cluster, namespace=t.namespace, job=t.job)
            if r["task_group"] == t.task_group and r["status"] == "running"
        ]
    except StoreUnavailable:
        running = None
    if not running:
        return attempt.deny(
            f"No rolling restart of group {t.task_group} is running, so there is nothing to cancel.", "live_target"
        )
    refused = request(attempt, t, Guards())
    if refused is not None:
        return refused
    ok = store.request_cancel(running[0]["request_id"])
    message = (
        f"Cancel requested: the rolling restart of group {t.task_group} stops before its next allocation."
        if ok
        else "The rolling restart ended before it could be cancelled."
    )
    message = record_outcome(attempt, t, "succeeded", {"rolling_request": running[0]["request_id"]}, message)
    return Outcome("succeeded", message, attempt.request_id)


class _Job:
    def __init__(self, request_id, target: Target, steps, token, actor: Actor, reason: str, ticket: str):
        self.request_id = request_id
        self.target = target
        self.steps = steps
        self.token = token  # in memory only, for this run's Nomad calls
        self.actor = actor
        self.reason = reason
        self.ticket = ticket


def _task_restarts(alloc: dict) -> dict[str, int]:
    return {
        name: int(state.get("Restarts") or 0)
        for name, state in (alloc.get("TaskStates") or {}).items()
        if state.get("State") == "running"
    }


def _restarted_and_running(alloc: dict, before: dict[str, int]) -> bool:
    states = alloc.get("TaskStates") or {}
    for name, count in before.items():
        state = states.get(name) or {}
        events = state.get("Events") or []
        if state.get("State") != "running" or int(state.get("Restarts") or 0) <= count:
            return False
        if events and events[-1].get("Type") != "Started":
            return False
    return True


class Runner:
    """The process's rolling-restart worker threads."""

    def __init__(self, env):
        self.env = env
        self.store = RollingStore(env.audit)
        self.threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        try:
            sweep(env)
        except StoreUnavailable:
            pass

    def submit(self, job: _Job, env) -> None:
        thread = threading.Thread(target=self._run, args=(job, env), name=f"rolling-{job.request_id[:8]}", daemon=True)
        with self._lock:
            self.threads[job.request_id] = thread
        thread.start()

    def wait(self, request_id: str, timeout: float) -> bool:
        """Wait for a run of this process to end (tests); True when it has."""
        thread = self.threads.get(request_id)
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self, job: _Job, env) -> None:
        try:
            status, message, detail = self._steps(job, env)
        except Exception as exc:  # the run must always end with an outcome
            log.exception("rolling restart %s crashed", job.request_id)
            status, message, detail = "failed", f"The rolling restart stopped on an internal error ({exc}).", {}
        t = job.target
        try:
            self.store.finish(job.request_id, status, message, job.steps)
        except StoreUnavailable:
            pass
        try:
            env.audit.append(
                Entry(
                    job.request_id,
                    status,
                    job.actor,
                    catalog.GROUP_ROLLING_RESTART.name,
                    t.fields(),
                    job.reason,
                    job.ticket,
                    {"message": message, "steps": job.steps, **detail},
                )
            )
        except StoreUnavailable:
            log.error("rolling restart %s: its outcome could not be recorded", job.request_id)
        try:
            env.audit.release_lease(lease_name(t.cluster, t.namespace, t.job, t.task_group), job.request_id)
        except StoreUnavailable:
            pass

    def _heartbeat(self, job: _Job, env, done: int, current: str, message: str) -> bool:
        t = job.target
        self.store.progress(job.request_id, steps=job.steps, done=done, current=current, message=message)
        return env.audit.renew_lease(
            lease_name(t.cluster, t.namespace, t.job, t.task_group), job.request_id, env.lease_seconds
        )

    def _cancelled(self, job: _Job) -> bool:
        row = self.store.get(job.request_id)
        return bool(row and row["cancel_requested"])

    def _steps(self, job: _Job, env) -> tuple[str, str, dict]:
        from actions.explain import refusal

        t, total = job.target, len(job.steps)
        timeout = env.settings.rolling_health_timeout_seconds
        for i, step in enumerate(job.steps):
            short = step["allocation"][:8]
            where = f"allocation {short} ({i + 1} of {total})"
            if self._cancelled(job):
                return "cancelled", f"Cancelled before {where}; {i} of {total} were restarted.", {}
            step["status"] = "restarting"
            if not self._heartbeat(job, env, i, step["allocation"], f"Restarting {where}"):
                return "failed", f"Stopped before {where}: another dashboard took over this group's lease.", {}
            try:
                alloc = env.nomad.get_allocation(step["allocation"], namespace=t.namespace, token=job.token)
                before = _task_restarts(alloc)
                if alloc.get("DesiredStatus") != "run" or not before:
                    step["status"], step["message"] = "skipped", "no longer running"
                    continue
                env.nomad.restart_allocation(step["allocation"], namespace=t.namespace, token=job.token)
            except ConnectorError as err:
                words, _ = refusal(
                    err, verb="restart", short=short, namespace=t.namespace, personal=job.token is not None
                )
                step["status"], step["message"] = "failed", words
                return "failed", f"Stopped at {where}: {words} {i} of {total} were restarted before.", {}
            deadline = time.monotonic() + timeout
            while True:
                time.sleep(env.poll_seconds)
                if not self._heartbeat(job, env, i, step["allocation"], f"Waiting for {where} to be healthy"):
                    return "failed", f"Stopped at {where}: another dashboard took over this group's lease.", {}
                if self._cancelled(job):
                    step["message"] = "restarted; cancelled before it was seen healthy"
                    return (
                        "cancelled",
                        f"Cancelled while waiting for {where}; {i} of {total} were confirmed healthy.",
                        {},
                    )
                try:
                    alloc = env.nomad.get_allocation(step["allocation"], namespace=t.namespace, token=job.token)
                except ConnectorError as err:
                    alloc, step["message"] = None, str(err)
                if alloc is not None:
                    if alloc.get("ClientStatus") in ("failed", "lost", "complete"):
                        step["status"], step["message"] = "failed", f"client status {alloc.get('ClientStatus')}"
                        return (
                            "failed",
                            f"Stopped at {where}: it is {alloc.get('ClientStatus')} after the restart. The rest were not restarted.",
                            {},
                        )
                    checks = env.checks(step["allocation"]) if env.checks else None
                    if _restarted_and_running(alloc, before) and checks is not False:
                        step["status"], step["message"] = (
                            "healthy",
                            "running again" + (", checks passing" if checks else ""),
                        )
                        break
                if time.monotonic() > deadline:
                    step["status"], step["message"] = "failed", f"not healthy within {timeout:g} s"
                    return (
                        "failed",
                        f"Stopped at {where}: it was not running and healthy again within {timeout:g} seconds. "
                        "The rest were not restarted.",
                        {},
                    )
            self._heartbeat(job, env, i + 1, "", f"{i + 1} of {total} done")
        return "succeeded", f"All {total} allocations of group {t.task_group} were restarted and are healthy again.", {}


def sweep(env) -> list[dict]:
    """Mark runs whose process stopped heartbeating as interrupted, in the audit trail too."""
    store = RollingStore(env.audit)
    swept = store.sweep_interrupted(timedelta(seconds=env.lease_seconds))
    for row in swept:
        try:
            env.audit.append(
                Entry(
                    row["request_id"],
                    "interrupted",
                    Actor(row["actor_subject"], name=row["actor_name"]),
                    catalog.GROUP_ROLLING_RESTART.name,
                    {k: row[k] for k in ("cluster", "namespace", "client", "job", "task_group")},
                    detail={"message": "the dashboard process running it stopped", "done": row["done"]},
                )
            )
        except StoreUnavailable:
            pass
    return swept


def status(env, *, namespace: str | None = None, job: str | None = None, limit: int = 10) -> list[dict]:
    """Recent rolling restarts (newest first), after marking dead ones interrupted: of the
    Environment's cluster, or of every cluster of a Fleet (each row says its ``cluster``)."""
    from actions.environment import Fleet

    if isinstance(env, Fleet):
        sweep(next(iter(env.environments.values())))  # the sweep looks at every cluster's runs
        rows = RollingStore(env.audit).recent(namespace=namespace, job=job, limit=limit)
        return [r for r in rows if r["cluster"] in env.environments]
    sweep(env)
    return RollingStore(env.audit).recent(cluster=env.cluster, namespace=namespace, job=job, limit=limit)


__all__ = ["Runner", "cancel", "lease_name", "start", "status", "sweep"]
