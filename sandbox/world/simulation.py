"""Time flow: what happens while the simulated clock moves (deployments finish, background life)."""

from __future__ import annotations

import random

from ..clock import NS
from .records import Deployment, Version


class Simulation:
    """Mixin of ``World``: reacts to ``SimClock.advance``."""

    STEP = 2 * NS

    def _on_advance(self, old_ns: int, new_ns: int) -> None:
        with self.lock:
            self._finish_deployments(new_ns)
            # Random "life" happens per 2 s step; cap it so advancing days stays quick.
            steps = min(int((new_ns - old_ns) // self.STEP), 300)
            for k in range(steps):
                self._live_step(old_ns + (k + 1) * self.STEP)

    def _finish_deployments(self, now: int):
        done = [d for d in self.deployments.values() if d.status == "running" and d.finish_ns and d.finish_ns <= now]
        for d in done:
            d.status, d.description = "successful", "Deployment completed successfully"
            d.placed = d.healthy = d.desired
            d.job.versions[d.version].stable = True
            for a in d.job.allocs:
                if a.deployment is d and a.healthy is None:
                    a.healthy = True
                    a.modify_index = self.touch("allocs")
            d.modify_index = self.touch("deployments")

    def _live_step(self, now: int):
        rng = self._step_rng
        self._steps += 1
        roll = rng.random()
        if roll < 0.15:
            # A healthy alloc's main task crashes and the client restarts it.
            a = self.alloc_list[rng.randrange(len(self.alloc_list))]
            if a.client_status == "running" and not a.job.client.scenario and a.tasks[0].state == "running":
                self._crash_restart(a, a.tasks[0], now, 1, "signal: killed (liveness probe failed)")
                a.modify_ns = now
                a.modify_index = self.touch("allocs")
        elif roll < 0.35 and self.consul_services:
            s = self.consul_services[rng.randrange(len(self.consul_services))]
            if s.alloc.job.client.scenario:
                return
            if s.check_status == "passing":
                self._set_check(s, "warning", "HTTP GET {url}: 429 Too Many Requests Output: rate limited")
            else:
                self._set_check(s, "passing", 'HTTP GET {url}: 200 OK Output: {{"status":"ok"}}')
            s.check_modify_index = self.touch("consul_checks")
        elif roll < 0.37:
            self._start_deployment(now, rng)

    def _start_deployment(self, now: int, rng: random.Random):
        job = self.job_list[rng.randrange(len(self.job_list))]
        if job.role.type != "service" or job.client.scenario or any(d.status == "running" for d in job.deployments):
            return
        v = job.version.number + 1
        job.versions.append(Version(v, now, self._app_version(job.app_seed, v), False, self._next_index()))
        ev = self._add_eval(job, "job-register", now)
        d = Deployment(
            self.uuid(),
            job,
            v,
            "running",
            "Deployment is running",
            self._next_index(),
            len([a for a in job.allocs if not a.terminal]),
            now,
        )
        d.finish_ns = now + rng.randint(20, 90) * NS
        ev.deployment_id = d.id
        self.deployments[d.id] = d
        job.deployments.append(d)
        for a in list(job.allocs):
            if a.terminal:
                continue
            new = self._new_alloc(job, a.index, job.version, ev.id, now, job.client, node=a.node)
            new.deployment, new.healthy, new.previous = d, None, a.id
            a.next = new.id
            self._start_tasks(new, now + 3 * NS)
            self._kill_tasks(a, now + 2 * NS, "alloc is being updated due to job update")
            a.client_status, a.desired_status = "complete", "stop"
            a.desired_description = "alloc is being updated due to job update"
            for s in self.consul_by_alloc.get(a.id, []):
                s.meta = dict(s.meta, version=job.version.app_version)
            self._register_services(new, "passing")
            self._deregister_services(a)
        job.modify_index = self.touch(
            "jobs", "allocs", "deployments", "evals", "consul_services", "consul_checks", "services"
        )
