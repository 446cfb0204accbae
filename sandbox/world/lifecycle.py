"""Lifecycle of allocations: placing, task events, Consul registrations, user actions."""

from __future__ import annotations

import copy

from ..clock import NS
from .records import Alloc, Client, ConsulService, Evaluation, Job, TaskState, Version

# Consul HTTP check outputs, as Consul's agent writes them (agent/checks/check.go).
CHECK_OK = 'HTTP GET {url}: 200 OK Output: {{"status":"ok"}}'
CHECK_REFUSED = 'Get "{url}": dial tcp {addr}: connect: connection refused'
CHECK_RATE_LIMITED = "HTTP GET {url}: 429 Too Many Requests Output: rate limited"

# Restart Signaled reasons, word for word from the Nomad client (client/client.go, RestartAllocation).
RESTART_TASK = "User requested task to restart"
RESTART_ALL = "User requested all tasks to restart"
RESTART_RUNNING = "User requested running tasks to restart"
MS = 1_000_000


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
            node = pool[int(rng.random() * len(pool))]
        a = Alloc(self.uuid(), job, i, node, ver.number, eval_id, create_ns, self._next_index())
        a.port = 20000 + int(rng.random() * 12000)
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
    def _register_services(self, a: Alloc, status: str) -> list[ConsulService]:
        """Register the allocation's service; returns what was registered (for the event stream)."""
        role = a.job.role
        if not role.service:
            return []
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
        s.check_template = CHECK_OK if status == "passing" else CHECK_REFUSED
        s.create_index = s.modify_index = s.check_modify_index = self._next_index()
        s.registered = True
        self.consul_by_alloc.setdefault(a.id, []).append(s)
        if role.provider == "consul":
            self.consul_services.append(s)
        return [s]

    def _deregister_services(self, a: Alloc):
        for s in self.consul_by_alloc.pop(a.id, []):
            self.consul_services.discard(s)

    def _unregister_while_down(self, a: Alloc) -> list:
        """The task with the services is killed or has exited: its services leave the catalogue
        until it runs again (taskrunner/service_hook.go PreKilling and Exited deregister,
        Poststart registers again). Returns the event pairs."""
        svcs = [s for s in self.consul_by_alloc.get(a.id, ()) if s.registered]
        for s in svcs:
            s.registered = False
            self.consul_services.discard(s)
            if a.job.role.provider == "consul":
                self.service_gone[s.name.lower()] = self.index + 1  # the callers' touch, next
        return [(s, "ServiceDeregistration") for s in svcs]

    def _register_again(self, a: Alloc) -> list:
        """Poststart: the services come back with a new registration, their check critical until
        it first passes (a new Consul check starts critical)."""
        svcs = [s for s in self.consul_by_alloc.get(a.id, ()) if not s.registered]
        for s in svcs:
            s.registered = True
            self._set_check(s, "critical", CHECK_REFUSED)
            s.create_index = s.modify_index = s.check_modify_index
            if a.job.role.provider == "consul":
                self.consul_services.append(s)
        return [(s, "ServiceRegistration") for s in svcs]

    def _hand_over_services(self, old: Alloc, new: Alloc, status: str = "passing") -> list[tuple]:
        """The replacement allocation's registrations take the old one's place (O(1), no catalogue scan).
        Returns the event pairs: the old registrations' deregistration (a copy keeps their IDs),
        then the new ones' registration."""
        svcs = self.consul_by_alloc.pop(old.id, [])
        gone = [(copy.copy(s), "ServiceDeregistration") for s in svcs if s.registered]
        role = new.job.role
        for s in svcs:
            s.id = f"_nomad-task-{new.id}-{role.tasks[0]}-{role.service}-{role.port}"
            s.alloc, s.node, s.address, s.port = new, new.node, new.node.address, new.port
            s.meta = dict(s.meta, version=new.job.versions[new.version].app_version, alloc_id=new.id)
            s.check_id = "_nomad-check-%040x" % self.rng.getrandbits(160)
            self._set_check(s, status, CHECK_OK if status == "passing" else CHECK_REFUSED)
            s.create_index = s.modify_index = s.check_modify_index
            if not s.registered and role.provider == "consul":
                self.consul_services.append(s)
            s.registered = True
        if svcs:
            self.consul_by_alloc[new.id] = svcs
        return gone + [(s, "ServiceRegistration") for s in svcs]

    def _set_check(self, s: ConsulService, status: str, template: str):
        s.check_status = status
        s.check_template = template
        s.check_modify_index = self._next_index()

    def nomad_services(self):
        """Nomad-native service registrations (provider = "nomad")."""
        for _a_id, svcs in self.consul_by_alloc.items():
            for s in svcs:
                if s.registered and s.alloc.job.role.provider == "nomad":
                    yield s

    # ------------------------------------------------------------- actions
    def restart(self, a: Alloc, task: str | None, all_tasks: bool) -> None:
        """User-requested in-place restart, played out over the next seconds as the Nomad client does it.

        Restart Signaled now; the task exits on its kill signal a second or two later (Terminated),
        the restart tracker says Restarting with no delay, the driver starts it again (Started).
        The task's services leave the catalogue while it is down and come back at Started with a
        critical check that passes a few seconds later (client/allocrunner/taskrunner:
        lifecycle.go restartImpl, task_runner.go shouldRestart, service_hook.go).
        A crash-looping task crashes again soon after: a restart does not fix it.
        """
        now = self.clock.now_ns()
        if all_tasks:
            targets, reason = list(a.tasks), RESTART_ALL
        elif task:
            targets, reason = [ts for ts in a.tasks if ts.name == task], RESTART_TASK
        else:
            targets, reason = [ts for ts in a.tasks if ts.state == "running"], RESTART_RUNNING
        for ts in targets:
            ts.events.append(
                ("Restart Signaled", now, {"RestartReason": reason, "Details": {"restart_reason": reason}})
            )
        self.at(now + (1000 + a.log_seed % 1500) * MS, self._restart_exited, a, targets)
        a.modify_ns = now
        a.modify_index = self.touch("allocs", changed=(a,))

    def _restart_exited(self, at: int, a: Alloc, targets: list[TaskState]) -> None:
        if a.terminal:
            return
        for ts in targets:
            if ts.state == "running":
                self._terminate(ts, at, 0, "")
            ts.events.append(
                (
                    "Restarting",
                    at + MS,
                    {"RestartReason": "", "StartDelay": 0, "Details": {"restart_reason": "", "start_delay": "0"}},
                )
            )
            ts.state = "pending"
            ts.restarts += 1
            ts.last_restart_ns = at + MS
        gone = self._unregister_while_down(a) if a.tasks[0] in targets else []
        a.modify_ns = at
        tables = ("allocs", *self.consul_tables(gone), "services") if gone else ("allocs",)
        a.modify_index = self.touch(*tables, changed=(a, *gone))
        self.at(at + (1200 + a.log_seed % 1800) * MS, self._restart_started, a, targets)

    def _restart_started(self, at: int, a: Alloc, targets: list[TaskState]) -> None:
        if a.terminal:
            return
        for ts in targets:
            ts.events.append(("Started", at, None))
            ts.state, ts.failed, ts.started_ns = "running", False, at
        back = self._register_again(a) if a.tasks[0] in targets else []
        a.modify_ns = at
        tables = ("allocs", *self.consul_tables(back), "services") if back else ("allocs",)
        a.modify_index = self.touch(*tables, changed=(a, *back))
        if a.crash:
            self.at(at + (20 + a.log_seed % 25) * NS, self._crash, a)
        else:
            self.at(at + (4 + a.log_seed % 8) * NS, self._checks_pass, a)

    def _crash(self, at: int, a: Alloc, code: int = 1, message: str = "") -> None:
        """The main task exits on its own; the restart policy starts it again after its delay."""
        ts = a.tasks[0]
        if a.terminal or ts.state != "running":
            return
        if a.crash:
            code, message = a.crash
        delay = 15 * NS + (a.log_seed % 5000) * MS
        self._terminate(ts, at, code, message)
        ts.events.append(
            (
                "Restarting",
                at + MS,
                {
                    "RestartReason": "Restart within policy",
                    "StartDelay": delay,
                    "Details": {"restart_reason": "Restart within policy", "start_delay": str(delay)},
                },
            )
        )
        ts.state = "pending"
        ts.restarts += 1
        ts.last_restart_ns = at + MS
        gone = self._unregister_while_down(a)
        a.modify_ns = at
        tables = ("allocs", *self.consul_tables(gone), "services") if gone else ("allocs",)
        a.modify_index = self.touch(*tables, changed=(a, *gone))
        self.at(at + delay, self._restart_started, a, [ts])

    def _checks_pass(self, at: int, a: Alloc) -> None:
        if a.terminal or a.crash:
            return
        svcs = self.consul_by_alloc.get(a.id, ())
        for s in svcs:
            self._set_check(s, "passing", CHECK_OK)
        if svcs:
            self.touch("consul_checks")

    def stop(self, a: Alloc) -> Evaluation:
        now = self.clock.now_ns()
        ev = self._add_eval(a.job, "alloc-stop", now)
        a.desired_status = "stop"
        a.desired_description = "alloc was stopped by user"
        self._kill_tasks(a, now, "")
        a.client_status, a.client_description = "complete", "All tasks have completed"
        a.modify_ns = now
        gone = [(s, "ServiceDeregistration") for s in self.consul_by_alloc.get(a.id, ())]
        self._deregister_services(a)
        kind = "AllocationUpdateDesiredStatus"  # Alloc.Stop's raft message (nomad/state/events.go)
        idx = self.touch(
            "allocs", "evals", *self.consul_tables(gone), "services", changed=[(a, kind), (ev, kind), *gone]
        )
        a.modify_index = a.alloc_modify_index = ev.create_index = ev.modify_index = idx
        for s, _kind in gone:  # a deregistration moves its service name's index (Consul's "service.<name>")
            if s.alloc.job.role.provider == "consul":
                self.service_gone[s.name.lower()] = idx
        return ev
