"""Generating the platform at start: clients, nodes, jobs with their history, seeded trouble."""

from __future__ import annotations

from ..clock import NS
from ..names import client_names
from .history import History, release_plans
from .lifecycle import CHECK_REFUSED
from .records import (
    DAY,
    HOUR,
    ROLES,
    SCENARIOS,
    Alloc,
    Client,
    Job,
    Node,
    Role,
    Version,
)


class Generation(History):
    """Mixin of ``World``: builds the initial state from the seed (``self.rng``)."""

    def _generate(self, n_clients, jobs_per_client, allocs_per_group):
        rng = self.rng
        now = self.clock.now_ns()
        prof = self.profile
        names = list(prof.names) if prof.names is not None else client_names(n_clients, self.seed)
        n_clients = len(names)
        order = list(range(1, n_clients))  # northern-leaf (0) stays healthy: a stable example
        rng.shuffle(order)
        n_bad = round(n_clients * 0.2)
        first = prof.scenarios_from
        scenario_of = {ci: SCENARIOS[(first + k) % len(SCENARIOS)] for k, ci in enumerate(order[:n_bad])}
        # A few clients also run abroad (us-east-1 by default; for data-residency checks); one
        # of them is only allowed Canadian datacenters, i.e. a violation to find.
        n_us = max(1, n_clients // 12)
        us_clients = order[n_bad : n_bad + n_us]
        self._generate_nodes(max(6, (n_clients * 5) // 8 + 1))
        self.plans = release_plans(self.seed, now)
        for ci, (slug, name) in enumerate(names):
            if ci in us_clients:
                dcs = [prof.home[0], prof.abroad]
                allowed = list(dcs) if ci != us_clients[0] else list(prof.home)
            else:
                dcs = list(prof.home)
                allowed = list(dcs)
            c = Client(
                slug, name, ci, dcs, allowed, scenario_of.get(ci), rng.choice(("standard", "standard", "premium"))
            )
            self.clients.append(c)
            self.client_by_slug[slug] = c
            self.kv[f"dashboard/clients/{slug}"] = (
                (
                    '{"name": "%s", "tier": "%s", "allowed_datacenters": [%s]}'
                    % (name, c.tier, ", ".join(f'"{d}"' for d in allowed))
                ).encode(),
                self._next_index(),
                0,
            )
            for role in ROLES[:jobs_per_client]:
                self._generate_job(c, role, allocs_per_group, now)
        self.kv["dashboard/maintenance"] = (b"false", self._next_index(), 0)
        self.kv["platform/ctls/endpoint"] = (b"https://ctls.example.gc.ca/api/v2", self._next_index(), 0)
        self.job_list.sort(key=lambda j: (j.namespace, j.id))
        for t in self.tables:
            self.tables[t] = self.index

    def _generate_nodes(self, count):
        datacenters = self.profile.datacenters
        self.nodes_by_dc: dict[str, list[Node]] = {dc: [] for dc in datacenters}
        per_dc = dict(zip(datacenters, self.profile.shares, strict=True))
        for dci, dc in enumerate(datacenters):
            n = max(4, int(count * per_dc[dc]))  # room for the drained and the down node
            short = dc.replace("-", "")[2:]  # tor1, mtl1, east1
            for i in range(n):
                node = Node(
                    self.uuid(),
                    f"nomad-{short}-{i + 1:03d}",
                    dc,
                    f"10.{dci + 10}.{i // 200}.{i % 200 + 10}",
                    self._next_index(),
                )
                node.events.append(("Node registered", "Cluster", self.clock.now_ns() - 60 * DAY))
                self.nodes.append(node)
                self.node_by_id[node.id] = node
                self.nodes_by_dc[dc].append(node)
        # One drained node and one down node in the second datacenter (Montreal by default):
        # realistic cluster noise, and the down node is where "lost-alloc" clients had their allocation.
        mtl = self.nodes_by_dc[self.profile.home[1]]
        mtl[-2].eligibility = "ineligible"
        mtl[-2].events.append(("Node drain complete", "Drain", self.clock.now_ns() - 2 * DAY))
        self.down_node = mtl[-1]
        self.down_node.status = "down"
        self.down_node.events.append(("Node heartbeat missed", "Cluster", self.clock.now_ns() - 3 * HOUR))
        self.healthy_nodes_by_dc = {
            dc: [n for n in ns if n.status == "ready" and n.eligibility == "eligible"]
            for dc, ns in self.nodes_by_dc.items()
        }

    def _generate_job(self, c: Client, role: Role, allocs_per_group, now):
        rng = self.rng
        job = Job(f"{c.slug}-{role.name}", c, role)
        job.create_index = self._next_index()
        self._add_job(job)
        hit = role.name == self._scenario_role(c.scenario) or (c.scenario == "outage" and role.type == "service")
        scenario = c.scenario if hit and not role.periodic else None
        count = allocs_per_group or role.count
        plan = self.plans[role.name]

        if role.periodic:
            # A batch job has no deployments: a version or two, the newest some days old.
            t = now - rng.randint(3, 30) * DAY
            if rng.random() < 0.5:
                self._history_version(job, t - rng.randint(20, 200) * DAY, plan.current(t - 20 * DAY))
            self._history_version(job, t, plan.current(t), stable=True)
            job.modify_index = job.version.index
            job.status = "running"  # a periodic parent shows running while it is scheduled
            # One alloc per nightly run, whatever the group size, to keep totals predictable.
            self._generate_periodic_children(job, now, role.count)
            return

        running_deploy = self._job_history(job, plan, count, now, scenario)
        job.modify_index = job.version.index
        by_version = {d.version: d for d in job.deployments}
        latest = job.version
        good = latest if scenario != "failed-deployment" else next(v for v in reversed(job.versions) if v.stable)
        for i in range(count):
            ver = good
            if scenario == "failed-deployment" and i == 0:
                ver = latest
            a = self._new_alloc(job, i, ver, job.evals[-1].id, ver.submit_ns + 3 * NS, c)
            a.deployment = by_version.get(ver.number)
            if running_deploy and i == count - 1:
                a.healthy = None  # not yet healthy: the deployment is waiting on it
            self._start_tasks(a, a.create_ns + rng.randint(1, 20) * NS)
            self._register_services(a, "passing")
        # Previous-version alloc, stopped by the last update, for history.
        if allocs_per_group is None and len(job.versions) > 1:
            prev = job.versions[-2]
            old = self._new_alloc(job, 0, prev, job.evals[-2].id, prev.submit_ns + 3 * NS, c)
            old.deployment = by_version.get(prev.number)
            self._start_tasks(old, old.create_ns + 5 * NS)
            self._kill_tasks(old, latest.submit_ns + 4 * NS, "alloc is being updated due to job update")
            old.client_status, old.desired_status = "complete", "stop"
            old.desired_description = "alloc is being updated due to job update"
            old.client_description = "All tasks have completed"
        if scenario:
            self._apply_scenario(job, scenario, now)
        job.modify_index = self._next_index()

    @staticmethod
    def _scenario_role(scenario):
        return {
            "crashloop": "api",
            "failed-alloc": "worker",
            "failed-deployment": "web",
            "critical-check": "api",
            "lost-alloc": "worker",
            "pending-alloc": "web",
        }.get(scenario)

    def _generate_periodic_children(self, job: Job, now, count):
        rng = self.rng
        c = job.client
        job.versions[-1].stable = True
        # Two most recent nightly runs: launched at 02:00 on the last two days.
        for k in (2, 1):
            launch = now - k * DAY - rng.randint(0, 600) * NS
            launch_s = launch // NS
            child = Job(f"{job.id}/periodic-{launch_s}", c, job.role, parent=job)
            child.versions.append(Version(0, launch, job.version.app_version, False, self._next_index()))
            child.create_index = child.modify_index = child.version.index
            child.launch_ns = launch
            child.status = "dead"
            self._add_job(child)
            job.children.append(child)
            ev = self._add_eval(child, "periodic-job", launch)
            fail = c.scenario == "failed-alloc" and k == 1
            for i in range(count):
                a = self._new_alloc(child, i, child.version, ev.id, launch + NS, c)
                a.healthy = None
                self._start_tasks(a, launch + 4 * NS)
                end = launch + rng.randint(300, 2400) * NS
                if fail and i == 0:
                    self._terminate(
                        a.tasks[0], end, 1, "Error: CTLS upload rejected: HTTP 422 (reporting period closed)"
                    )
                    self._not_restarting(a, end, 'Exceeded allowed attempts 0 in interval 24h0m0s and mode is "fail"')
                    a.client_status, a.client_description = "failed", "Failed tasks"
                else:
                    self._terminate(a.tasks[0], end, 0, "")
                    a.tasks[0].state = "dead"
                    a.tasks[0].finished_ns = end
                    a.client_status, a.client_description = "complete", "All tasks have completed"
                a.modify_ns = end

    # -------------------------------------------------------------- scenarios
    def _apply_scenario(self, job: Job, scenario: str, now: int):
        rng = self.rng
        a = job.allocs[0]
        svcs = self.consul_by_alloc.get(a.id, [])
        if scenario == "crashloop":
            # The task dies half a minute after each start (its database refuses connections),
            # and keeps doing so as simulated time moves (``Lifecycle._crash``).
            ts = a.tasks[0]
            a.crash = (1, "panic: dial tcp 10.20.0.15:5432: connect: connection refused")
            for k in range(rng.randint(5, 9), 0, -1):
                self._crash_restart(a, ts, now - k * 50 * NS, *a.crash)
            a.modify_ns = ts.last_restart_ns
            for s in svcs:
                self._set_check(s, "critical", CHECK_REFUSED)
            self.at(max(ts.started_ns + (20 + a.log_seed % 25) * NS, now + 5 * NS), self._crash, a)
        elif scenario == "failed-alloc":
            t = now - 40 * 60 * NS
            self._fail(
                a,
                t,
                137,
                "OOM Killed",
                'Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"',
                crashes=(t - 20 * 60 * NS, t - 10 * 60 * NS),
            )
            # The reschedule is delayed: a pending follow-up evaluation, no replacement yet.
            fe = self._add_eval(job, "alloc-failure", t, status="pending")
            fe.wait_until_ns = now + 20 * 60 * NS
            fe.description = "created for delayed rescheduling"
            a.followup_eval = fe.id
            self._deregister_services(a)
            self.at(fe.wait_until_ns, self._delayed_reschedule, a, fe)
        elif scenario == "failed-deployment":
            t = a.create_ns + 40 * NS
            self._fail(
                a,
                t,
                1,
                "Error: missing required environment variable CTLS_API_KEY",
                'Exceeded allowed attempts 1 in interval 5m0s and mode is "fail"',
                crashes=(t - 25 * NS,),
            )
            self._deregister_services(a)
        elif scenario == "critical-check":
            for s in svcs:
                self._set_check(
                    s,
                    "critical",
                    "HTTP GET {url}: 503 Service Unavailable Output: "
                    '{{"status":"degraded","database":"timeout after 5s"}}',
                )
        elif scenario == "lost-alloc":
            a.node = self.down_node
            for s in svcs:
                s.node = self.down_node
                s.address = self.down_node.address
            t = now - 3 * HOUR
            a.client_status, a.desired_status = "lost", "stop"
            a.client_description = "alloc is lost since its node is down"
            a.desired_description = "alloc is lost since its node is down"
            a.modify_ns = t
            a.healthy = False
            self._deregister_services(a)
            repl = self._new_alloc(
                job, a.index, job.versions[a.version], self._add_eval(job, "node-update", t).id, t + NS, job.client
            )
            repl.previous, a.next = a.id, repl.id
            repl.deployment = a.deployment
            self._pending(repl, t + 2 * NS, "Downloading image")
        elif scenario == "outage":
            # Every allocation of the job failed at once: the client is down.
            t = now - 25 * 60 * NS
            for a in [a for a in job.allocs if a.client_status == "running"]:
                self._fail(
                    a,
                    t,
                    1,
                    'FATAL: password authentication failed for user "app"',
                    'Exceeded allowed attempts 1 in interval 30m0s and mode is "fail"',
                    crashes=(t - 10 * 60 * NS,),
                )
                self._deregister_services(a)
        elif scenario == "pending-alloc":
            a2 = job.allocs[-1]
            for ts in a2.tasks:
                ts.events.clear()
                ts.state, ts.started_ns = "pending", 0
            self._pending(a2, a2.create_ns, "Downloading image")
            self._deregister_services(a2)

    def _pending(self, a: Alloc, t: int, msg: str):
        image = f"registry.example.ca/{a.job.client.slug}/{a.job.role.name}:{a.job.versions[a.version].app_version}"
        for ts in a.tasks:
            ts.events += [
                ("Received", t, None),
                ("Task Setup", t + 2_000_000, {"Message": "Building Task Directory"}),
                ("Driver", t + NS, {"DriverMessage": f"{msg} {image}"}),
            ]
            ts.state = "pending"
        a.client_status, a.client_description = "pending", "No tasks have started"
        a.healthy = None
