"""Lifecycle of allocations: placing, task events, Consul registrations, user actions."""

from __future__ import annotations

from ..clock import NS
from .records import Alloc, Client, ConsulService, Evaluation, Job, TaskState, Version


class Lifecycle:
    """Mixin of ``World``: the state changes an allocation goes through, as Nomad's client records them."""

    def _add_job(self, job: Job):
        self.jobs[(job.namespace, job.id)] = job
        self.job_list.append(job)

    def _add_eval(self, job: Job, trigger: str, ts: int, status="complete") -> Evaluation:
        ev = Evaluation(self.uuid(), job, trigger, self._next_index(), ts, status)
        self._next_index()
        if job.evals:
            ev.previous = ""
        job.evals.append(ev)
        self.evals[ev.id] = ev
        return ev

    def _new_alloc(self, job: Job, i, ver: Version, eval_id, create_ns, c: Client, node=None) -> Alloc:
        rng = self.rng
        if node is None:
            dc = c.datacenters[(i + c.index) % len(c.datacenters)]
            pool = self.healthy_nodes_by_dc[dc]
            node = pool[rng.randrange(len(pool))]
        a = Alloc(self.uuid(), job, i, node, ver.number, eval_id, create_ns, self._next_index())
        a.port = rng.randint(20000, 31999)
        a.log_seed = rng.getrandbits(32)
        a.tasks = [TaskState(t) for t in job.role.tasks]
        job.allocs.append(a)
        self.allocs[a.id] = a
        self.alloc_list.append(a)
        return a

    # ------------------------------------------------------------ task events
    def _start_tasks(self, a: Alloc, start_ns: int):
        image = f"registry.example.ca/{a.job.client.slug}/{a.job.role.name}:{a.job.versions[a.version].app_version}"
        for k, ts in enumerate(a.tasks):
            t0 = start_ns + k * 3_000_000
            ts.events += [
                ("Received", t0 - 2 * NS, None),
                ("Task Setup", t0 - 2 * NS + 2_000_000, {"Message": "Building Task Directory"}),
                ("Driver", t0 - NS, {"DriverMessage": f"Downloading image {image}"}),
                ("Started", t0, None),
            ]
            ts.state, ts.started_ns = "running", t0
        a.client_status, a.client_description = "running", "Tasks are running"

    def _terminate(self, ts: TaskState, at: int, code: int, message: str, signal: int = 0):
        ts.events.append(
            (
                "Terminated",
                at,
                {
                    "ExitCode": code,
                    "Signal": signal,
                    "Message": message,
                    "Details": {
                        "exit_code": str(code),
                        "signal": str(signal),
                        "oom_killed": "true" if code == 137 else "false",
                        "exit_message": message,
                    },
                },
            )
        )

    def _not_restarting(self, a: Alloc, at: int, reason: str):
        ts = a.tasks[0]
        ts.events.append(
            (
                "Not Restarting",
                at + 1_000_000,
                {
                    "RestartReason": reason,
                    "FailsTask": True,
                    "Details": {"restart_reason": reason, "fails_task": "true"},
                },
            )
        )
        ts.state, ts.failed, ts.finished_ns = "dead", True, at + 1_000_000
        for sib in a.tasks[1:]:
            self._kill_task(sib, at + 2_000_000, "Sibling task failed", failed_sibling=ts.name)

    def _kill_task(self, ts: TaskState, at: int, reason: str, failed_sibling: str = ""):
        extra = {"KillReason": reason} if reason else None
        if failed_sibling:
            ts.events.append(
                (
                    "Sibling Task Failed",
                    at,
                    {"FailedSibling": failed_sibling, "Details": {"failed_sibling": failed_sibling}},
                )
            )
        ts.events.append(("Killing", at, {"KillTimeout": 5 * NS, **(extra or {})}))
        ts.events.append(("Killed", at + 2 * NS, None))
        ts.state, ts.finished_ns = "dead", at + 2 * NS

    def _kill_tasks(self, a: Alloc, at: int, reason: str):
        for ts in a.tasks:
            self._kill_task(ts, at, reason)

    def _crash_restart(self, a: Alloc, ts: TaskState, at: int, code: int, message: str):
        delay = 15 * NS + (a.log_seed % 5000) * 1_000_000
        self._terminate(ts, at, code, message)
        ts.events.append(
            (
                "Restarting",
                at + 1_000_000,
                {
                    "RestartReason": "Restart within policy",
                    "StartDelay": delay,
                    "Details": {"restart_reason": "Restart within policy", "start_delay": str(delay)},
                },
            )
        )
        ts.events.append(("Started", at + delay, None))
        ts.restarts += 1
        ts.last_restart_ns = at + 1_000_000
        ts.started_ns = at + delay

    def _fail(self, a: Alloc, at: int, code: int, message: str, reason: str, crashes=()):
        """The first task crashes (restarting within policy at each of `crashes`), then fails for good."""
        ts = a.tasks[0]
        for crash_at in crashes:
            self._crash_restart(a, ts, crash_at, code, message)
        self._terminate(ts, at, code, message)
        self._not_restarting(a, at, reason)
        a.client_status, a.client_description = "failed", "Failed tasks"
        a.healthy = False
        a.modify_ns = at

    # ---------------------------------------------------------------- consul
    def _register_services(self, a: Alloc, status: str):
        role = a.job.role
        if not role.service:
            return
        s = ConsulService()
        task = role.tasks[0]
        s.id = f"_nomad-task-{a.id}-{task}-{role.service}-{role.port}"
        s.name = role.service
        s.alloc, s.node, s.address, s.port = a, a.node, a.node.address, a.port
        s.tags = ("http", role.provider) if role.provider == "nomad" else ("http",)
        s.meta = {
            "client": a.job.client.slug,
            "version": a.job.versions[a.version].app_version,
            "external-source": "nomad",
            "alloc_id": a.id,
        }
        s.check_id = "_nomad-check-%040x" % self.rng.getrandbits(160)
        s.check_status = status
        s.check_output = self._output(s, status, 'HTTP GET {url}: 200 OK Output: {{"status":"ok"}}')
        s.create_index = s.modify_index = s.check_modify_index = self._next_index()
        self.consul_by_alloc.setdefault(a.id, []).append(s)
        if role.provider == "consul":
            self.consul_services.append(s)

    def _deregister_services(self, a: Alloc):
        for s in self.consul_by_alloc.pop(a.id, []):
            if s in self.consul_services:
                self.consul_services.remove(s)

    @staticmethod
    def _output(s: ConsulService, status: str, template: str) -> str:
        url = f"http://{s.address}:{s.port}/health"
        return template.format(url=url, addr=f"{s.address}:{s.port}")

    def _set_check(self, s: ConsulService, status: str, template: str):
        s.check_status = status
        s.check_output = self._output(s, status, template)
        s.check_modify_index = self._next_index()

    def nomad_services(self):
        """Nomad-native service registrations (provider = "nomad")."""
        for _a_id, svcs in self.consul_by_alloc.items():
            for s in svcs:
                if s.alloc.job.role.provider == "nomad":
                    yield s

    # ------------------------------------------------------------- actions
    def restart(self, a: Alloc, task: str | None, all_tasks: bool) -> None:
        """User-requested in-place restart, as the Nomad client does it."""
        now = self.clock.now_ns()
        if all_tasks:
            targets = list(a.tasks)
        elif task:
            targets = [ts for ts in a.tasks if ts.name == task]
        else:
            targets = [ts for ts in a.tasks if ts.state == "running"]
        for ts in targets:
            ts.events.append(
                (
                    "Restart Signaled",
                    now,
                    {
                        "RestartReason": "User requested restart",
                        "Details": {"restart_reason": "User requested restart"},
                    },
                )
            )
            ts.events.append(
                (
                    "Restarting",
                    now + 1_000_000,
                    {
                        "RestartReason": "User requested restart",
                        "StartDelay": 0,
                        "Details": {"restart_reason": "User requested restart", "start_delay": "0"},
                    },
                )
            )
            ts.events.append(("Started", now + 400_000_000, None))
            ts.restarts += 1
            ts.last_restart_ns = now + 1_000_000
            ts.state, ts.failed, ts.started_ns = "running", False, now + 400_000_000
        a.modify_ns = now
        a.modify_index = self.touch("allocs")

    def stop(self, a: Alloc) -> Evaluation:
        now = self.clock.now_ns()
        ev = self._add_eval(a.job, "alloc-stop", now)
        a.desired_status = "stop"
        a.desired_description = "alloc was stopped by user"
        self._kill_tasks(a, now, "")
        a.client_status, a.client_description = "complete", "All tasks have completed"
        a.modify_ns = now
        self._deregister_services(a)
        idx = self.touch("allocs", "evals", "consul_services", "consul_checks", "services")
        a.modify_index = a.alloc_modify_index = ev.create_index = ev.modify_index = idx
        return ev
