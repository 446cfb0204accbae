"""Weeks of deployment history, generated at start: what the managers' trends are made of.

Each service role ships a release every week or so, rolled out to the whole fleet within two
hours; most deployments succeed, a few fail with Nomad's own status descriptions (some rolled
back automatically to the last stable version, some marked failed by hand, some cancelled by
a newer version or a stopped job), and now and then one client gets a deploy of its own (a
configuration change). All of it is deterministic for a seed.

Real Nomad keeps much less: terminal deployments are garbage-collected after
``deployment_gc_threshold`` (1h by default, nomad/config.go) and a job keeps its last
``JobDefaultTrackedVersions`` (6) versions (nomad/structs/structs.go). The demo keeps six weeks
of both so that the deployment-success trends have data on the first ``make run``; a dashboard
on a real cluster has to build that history itself from what it sees.
"""

from __future__ import annotations

import random

from ..clock import NS
from .records import (
    DAY,
    DEPLOYMENT_FAILED_ALLOCS,
    DEPLOYMENT_FAILED_BY_USER,
    DEPLOYMENT_NEWER_JOB,
    DEPLOYMENT_PROGRESS_DEADLINE,
    DEPLOYMENT_RUNNING,
    DEPLOYMENT_STOPPED_JOB,
    DEPLOYMENT_SUCCESSFUL,
    HOUR,
    PROGRESS_DEADLINE,
    ROLES,
    Deployment,
    Job,
    Version,
    deployment_rollback,
)

HISTORY = 42 * DAY  # six weeks of deployments and job versions
ROLLOUT_SPREAD = 2 * HOUR  # a fleet rollout reaches every client within two hours
MINUTE = 60 * NS


class Plan:
    """One role's releases: the app version running before the window and (start ns, version) rollouts."""

    __slots__ = ("base", "live", "releases")

    def __init__(self, base: str, releases: list[tuple[int, str]]):
        self.base, self.releases = base, releases
        self.live: tuple[int, str] | None = None  # a rollout under way at start: (start ns, version)

    def current(self, at: int) -> str:
        """The newest app version released at ``at``."""
        app = self.base
        for t, v in self.releases:
            if t <= at:
                app = v
        return app


def release_plans(seed: int, now: int) -> dict[str, Plan]:
    plans = {}
    for role in ROLES:
        rng = random.Random(f"releases-{seed}-{role.name}")
        major, minor, patch = rng.randint(1, 3), rng.randint(2, 14), 0
        base = f"{major}.{minor}.{patch}"
        releases = []
        day0 = (now - HISTORY) // DAY * DAY
        t = day0 + rng.randint(1, 6) * DAY
        while True:
            start = t + rng.randint(14, 19) * HOUR + rng.randint(0, 59) * MINUTE  # working hours, Eastern
            if start > now - 3 * HOUR:
                break
            if rng.random() < 0.3:
                patch += 1  # a hotfix
            else:
                minor, patch = minor + 1, 0
            releases.append((start, f"{major}.{minor}.{patch}"))
            t += rng.randint(5, 12) * DAY
        plans[role.name] = Plan(base, releases)
    # One role's newest release started rolling out 50 minutes ago: the demo opens mid-rollout.
    plan = plans[ROLES[seed % 3].name]
    major, minor, _patch = (plan.releases[-1][1] if plan.releases else plan.base).split(".")
    plan.live = (now - 50 * MINUTE, f"{major}.{int(minor) + 1}.0")
    plan.releases.append(plan.live)
    return plans


class History:
    """Mixin of ``World``: a service job's versions and deployments over the last six weeks."""

    def _job_history(self, job: Job, plan: Plan, count: int, now: int, scenario: str | None) -> bool:
        """Fill ``job.versions`` / ``job.deployments``; True when a deployment is still running."""
        rng = self.rng
        onboard = now - rng.randint(60, 400) * DAY
        self._history_version(job, onboard, plan.base, stable=True)
        offset = rng.randint(0, ROLLOUT_SPREAD // NS) * NS  # this client's place in each rollout
        todo: list[tuple[int, str | None]] = [
            (t + offset, app) for t, app in plan.releases if t + offset < now - HOUR and (t, app) != plan.live
        ]
        if rng.random() < 0.35:
            todo.append((now - rng.randint(6 * HOUR // NS, HISTORY // NS) * NS, None))  # a config change
        todo.sort(key=lambda x: x[0])
        t_free = onboard
        for t, app in todo:
            t = max(t, t_free + 10 * MINUTE)
            if t > now - HOUR:
                break
            t_free = self._history_deploy(job, t, app or job.version.app_version, count, now)
        if plan.live and job.client.scenario is None:
            # This client's turn in the rollout under way: done already (it went well), or still to come.
            at = plan.live[0] + offset
            if at < now - 10 * MINUTE:
                self._history_deploy(job, max(at, t_free + MINUTE), plan.live[1], count, now, safe=True)
            else:
                self.at(max(at, now + 5 * NS), self._rollout_reaches, job)
            return False
        if scenario == "failed-deployment":
            # Today's news: the newest release failed here and nobody rolled it back yet.
            t = now - rng.randint(2, 5) * HOUR
            v = self._history_version(job, t, _next_patch(job.version.app_version))
            d = self._history_deployment(
                job, v, "failed", DEPLOYMENT_PROGRESS_DEADLINE, count, t, t + PROGRESS_DEADLINE
            )
            d.auto_revert = False
            d.placed, d.unhealthy = 1, 1
            return False
        if scenario is None and job.client.scenario is None and rng.random() < 0.04:
            # A deployment in flight: it finishes a minute or two of simulated time from now.
            t = now - rng.randint(20, 90) * NS
            v = self._history_version(job, t, plan.current(now))
            d = self._history_deployment(job, v, "running", DEPLOYMENT_RUNNING, count, t, t)
            d.placed, d.healthy = count, max(0, count - 1)
            self.at(now + rng.randint(30, 150) * NS, self._deployment_succeeds, d)
            return True
        return False

    def _history_deploy(self, job: Job, t: int, app: str, count: int, now: int, safe=False) -> int:
        """One submitted version and how its deployment went; returns when the job is settled."""
        rng = self.rng
        stable = next(v for v in reversed(job.versions) if v.stable)
        v = self._history_version(job, t, app)
        roll = 0.0 if safe else rng.random()
        if roll < 0.86:
            end = t + rng.randint(40, 300) * NS
            self._history_deployment(job, v, "successful", DEPLOYMENT_SUCCESSFUL, count, t, end)
            v.stable = True
            return end
        if roll < 0.94:
            # Auto-revert: the failed deployment names the version the job rolls back to, and the
            # rollback is a new version with the stable one's contents, deployed like any other.
            deadline = roll < 0.90
            base = DEPLOYMENT_PROGRESS_DEADLINE if deadline else DEPLOYMENT_FAILED_ALLOCS
            end = t + (PROGRESS_DEADLINE if deadline else rng.randint(60, 400) * NS)
            d = self._history_deployment(job, v, "failed", deployment_rollback(base, stable.number), count, t, end)
            d.placed, d.unhealthy = 1, 0 if deadline else 1
            back = self._history_version(job, end + NS, stable.app_version, trigger="deployment-watcher")
            done = end + rng.randint(40, 200) * NS
            self._history_deployment(job, back, "successful", DEPLOYMENT_SUCCESSFUL, count, end + NS, done)
            back.stable = True
            return done
        if roll < 0.96:
            # Someone ran `nomad deployment fail`, then redeployed the stable version later.
            end = t + rng.randint(120, 500) * NS
            d = self._history_deployment(job, v, "failed", DEPLOYMENT_FAILED_BY_USER, count, t, end)
            d.auto_revert, d.placed, d.unhealthy = False, 1, 1
            again = end + rng.randint(10, 40) * MINUTE
            back = self._history_version(job, again, stable.app_version)
            done = again + rng.randint(40, 200) * NS
            self._history_deployment(job, back, "successful", DEPLOYMENT_SUCCESSFUL, count, again, done)
            back.stable = True
            return done
        if roll < 0.985:
            # A fixed job file submitted while the first deployment still ran.
            fix = t + rng.randint(3, 15) * MINUTE
            d = self._history_deployment(job, v, "cancelled", DEPLOYMENT_NEWER_JOB, count, t, fix)
            d.placed, d.healthy = 1, 1 if count > 1 else 0
            newer = self._history_version(job, fix, app)
            done = fix + rng.randint(40, 300) * NS
            self._history_deployment(job, newer, "successful", DEPLOYMENT_SUCCESSFUL, count, fix, done)
            newer.stable = True
            return done
        # The job was stopped mid-deployment and run again later.
        stop = t + rng.randint(1, 5) * MINUTE
        d = self._history_deployment(job, v, "cancelled", DEPLOYMENT_STOPPED_JOB, count, t, stop)
        d.placed = 1
        rerun = stop + rng.randint(5, 60) * MINUTE
        again = self._history_version(job, rerun, app)
        done = rerun + rng.randint(40, 300) * NS
        self._history_deployment(job, again, "successful", DEPLOYMENT_SUCCESSFUL, count, rerun, done)
        again.stable = True
        return done

    def _history_version(self, job: Job, t: int, app: str, stable=False, trigger="job-register") -> Version:
        v = Version(len(job.versions), t, app, stable, self._next_index())
        job.versions.append(v)
        self._add_eval(job, trigger, t)
        return v

    def _history_deployment(
        self, job: Job, v: Version, status: str, desc: str, count: int, t: int, end: int
    ) -> Deployment:
        d = Deployment(self.uuid(), job, v.number, status, desc, self._next_index(), count, t + 2 * NS)
        d.modify_ns = max(end, d.create_ns)
        d.modify_index = self._next_index()
        job.evals[-1].deployment_id = d.id
        self.deployments[d.id] = d
        job.deployments.append(d)
        return d


def _next_patch(app: str) -> str:
    major, minor, patch = app.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"
