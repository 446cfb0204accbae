"""The simulated platform: clients, nodes, jobs, allocations, deployments, checks.

Objects are small ``__slots__`` records; the JSON shapes Nomad and Consul send
are built from them on demand (``nomad_shapes`` / ``consul_api``), so 100k
allocations stay cheap to generate and to hold. Every change goes through a
``World`` method that bumps the per-table index like Nomad's state store,
which is what wakes blocking queries.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from .clock import NS, SimClock
from .names import client_names

DATACENTERS = ("ca-tor-1", "ca-mtl-1", "us-east-1")
HOUR = 3600 * NS
DAY = 24 * HOUR

# Tables with their own index, as in Nomad's and Consul's state stores, so a
# change to one does not wake a blocking query on another.
NOMAD_TABLES = ("jobs", "allocs", "deployments", "evals", "nodes", "namespaces", "services", "acl")
CONSUL_TABLES = ("consul_services", "consul_checks", "consul_nodes", "kv")


@dataclass(frozen=True)
class Role:
    name: str
    type: str  # service | batch
    tasks: tuple[str, ...]
    count: int
    service: str | None  # service name registered per alloc (shared by all clients)
    provider: str  # consul | nomad
    port: str
    cpu: int
    memory: int
    periodic: bool = False


ROLES = (
    Role("web", "service", ("frontend", "log-shipper"), 2, "web", "consul", "http", 300, 256),
    Role("api", "service", ("api",), 2, "api", "consul", "http", 500, 512),
    Role("worker", "service", ("worker",), 1, "worker", "nomad", "metrics", 400, 768),
    Role("reports", "batch", ("report-runner",), 1, None, "consul", "http", 1000, 1024, periodic=True),
    Role("ctls-sync", "service", ("ctls-sync",), 1, "ctls-sync", "consul", "http", 200, 256),
    Role("label-printer", "service", ("label-printer",), 1, "label-printer", "consul", "http", 100, 128),
    Role("pos-bridge", "service", ("pos-bridge",), 1, "pos-bridge", "consul", "http", 200, 256),
)

# Ways a client can be unhealthy; each unhealthy client gets one.
SCENARIOS = (
    "crashloop",
    "failed-alloc",
    "failed-deployment",
    "critical-check",
    "lost-alloc",
    "pending-alloc",
    "outage",
)

FAILED_DEPLOYMENT_REASONS = (
    "Failed due to progress deadline",
    "Failed due to unhealthy allocations",
    "Failed due to unhealthy allocations - rolling back to job version {prev}",
)


class Client:
    __slots__ = ("allowed_datacenters", "datacenters", "index", "name", "scenario", "slug", "tier")

    def __init__(self, slug, name, index, datacenters, allowed, scenario, tier):
        self.slug, self.name, self.index = slug, name, index
        self.datacenters, self.allowed_datacenters = datacenters, allowed
        self.scenario, self.tier = scenario, tier


class Node:
    __slots__ = ("address", "create_index", "dc", "eligibility", "events", "id", "modify_index", "name", "status")

    def __init__(self, id, name, dc, address, index):
        self.id, self.name, self.dc, self.address = id, name, dc, address
        self.status, self.eligibility = "ready", "eligible"
        self.create_index = self.modify_index = index
        self.events: list[tuple[str, str, int]] = []


class Version:
    __slots__ = ("app_version", "index", "number", "stable", "submit_ns")

    def __init__(self, number, submit_ns, app_version, stable, index):
        self.number, self.submit_ns, self.app_version = number, submit_ns, app_version
        self.stable, self.index = stable, index


class Job:
    __slots__ = (
        "allocs",
        "children",
        "client",
        "create_index",
        "deployments",
        "evals",
        "id",
        "launch_ns",
        "modify_index",
        "parent",
        "role",
        "status",
        "stop",
        "versions",
    )

    def __init__(self, id, client, role, parent=None):
        self.id, self.client, self.role, self.parent = id, client, role, parent
        self.versions: list[Version] = []
        self.children: list[Job] = []
        self.allocs: list[Alloc] = []
        self.deployments: list[Deployment] = []
        self.evals: list[Evaluation] = []
        self.status = "running"
        self.stop = False
        self.launch_ns = 0
        self.create_index = self.modify_index = 0

    @property
    def namespace(self) -> str:
        return self.client.slug

    @property
    def type(self) -> str:
        return self.role.type

    @property
    def version(self) -> Version:
        return self.versions[-1]

    @property
    def job_modify_index(self) -> int:
        return self.version.index


class Deployment:
    __slots__ = (
        "create_index",
        "create_ns",
        "description",
        "desired",
        "finish_ns",
        "healthy",
        "id",
        "job",
        "modify_index",
        "placed",
        "status",
        "unhealthy",
        "version",
    )

    def __init__(self, id, job, version, status, description, index, desired, create_ns):
        self.id, self.job, self.version = id, job, version
        self.status, self.description = status, description
        self.create_index = self.modify_index = index
        self.desired = desired
        self.placed = self.healthy = desired if status == "successful" else 0
        self.unhealthy = 0
        self.finish_ns = 0
        self.create_ns = create_ns


class Evaluation:
    __slots__ = (
        "create_index",
        "create_ns",
        "deployment_id",
        "description",
        "id",
        "job",
        "modify_index",
        "node_id",
        "previous",
        "status",
        "triggered_by",
        "wait_until_ns",
    )

    def __init__(self, id, job, triggered_by, index, create_ns, status="complete"):
        self.id, self.job, self.triggered_by, self.status = id, job, triggered_by, status
        self.description = ""
        self.create_index = index
        self.modify_index = index + 1
        self.create_ns = create_ns
        self.deployment_id = self.node_id = self.previous = ""
        self.wait_until_ns = 0


class TaskState:
    __slots__ = ("events", "failed", "finished_ns", "last_restart_ns", "name", "restarts", "started_ns", "state")

    def __init__(self, name):
        self.name = name
        self.state = "pending"
        self.failed = False
        self.restarts = 0
        self.last_restart_ns = self.started_ns = self.finished_ns = 0
        # (Type, Time ns, {field overrides}) tuples; rendered to Nomad's 24-field events lazily.
        self.events: list[tuple[str, int, dict | None]] = []


class Alloc:
    __slots__ = (
        "alloc_modify_index",
        "client_description",
        "client_status",
        "create_index",
        "create_ns",
        "deployment",
        "desired_description",
        "desired_status",
        "eval_id",
        "followup_eval",
        "healthy",
        "id",
        "index",
        "job",
        "log_seed",
        "modify_index",
        "modify_ns",
        "next",
        "node",
        "port",
        "previous",
        "tasks",
        "version",
    )

    def __init__(self, id, job, index, node, version, eval_id, create_ns, idx):
        self.id, self.job, self.index, self.node, self.version = id, job, index, node, version
        self.deployment = None
        self.eval_id = eval_id
        self.client_status, self.desired_status = "running", "run"
        self.desired_description = self.client_description = ""
        self.create_ns = self.modify_ns = create_ns
        self.create_index = self.modify_index = self.alloc_modify_index = idx
        self.healthy: bool | None = True
        self.previous = self.next = self.followup_eval = ""
        self.tasks: list[TaskState] = []
        self.port = 0
        self.log_seed = 0

    @property
    def name(self) -> str:
        return f"{self.job.id}.{self.job.role.name}[{self.index}]"

    @property
    def terminal(self) -> bool:
        return self.client_status in ("complete", "failed", "lost") or self.desired_status != "run"


class ConsulService:
    """One Consul service instance registered by Nomad for one allocation."""

    __slots__ = (
        "address",
        "alloc",
        "check_id",
        "check_modify_index",
        "check_output",
        "check_status",
        "create_index",
        "id",
        "meta",
        "modify_index",
        "name",
        "node",
        "port",
        "tags",
    )


class World:
    def __init__(self, clients=40, seed=7, jobs_per_client=4, allocs_per_group=None, clock: SimClock | None = None):
        self.seed = seed
        self.clock = clock or SimClock()
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.index = 10
        self.tables = {t: 1 for t in NOMAD_TABLES + CONSUL_TABLES}
        self.clients: list[Client] = []
        self.client_by_slug: dict[str, Client] = {}
        self.nodes: list[Node] = []
        self.node_by_id: dict[str, Node] = {}
        self.jobs: dict[tuple[str, str], Job] = {}
        self.job_list: list[Job] = []  # sorted by (namespace, id), the order Nomad lists them
        self.allocs: dict[str, Alloc] = {}
        self.alloc_list: list[Alloc] = []  # in creation order
        self.deployments: dict[str, Deployment] = {}
        self.evals: dict[str, Evaluation] = {}
        self.consul_services: list[ConsulService] = []
        self.consul_by_alloc: dict[str, list[ConsulService]] = {}
        self.kv: dict[str, tuple[bytes, int, int]] = {}
        self._step_rng = random.Random(f"live-{seed}")
        self._steps = 0
        self._generate(clients, jobs_per_client, allocs_per_group)
        self.clock.on_advance(self._on_advance)

    # ------------------------------------------------------------------ ids
    def uuid(self) -> str:
        h = "%032x" % self.rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _next_index(self) -> int:
        self.index += 1
        return self.index

    def touch(self, *tables: str) -> int:
        """Record a change in ``tables`` (caller holds the lock) and wake waiters."""
        idx = self._next_index()
        for t in tables:
            self.tables[t] = idx
        self.changed.notify_all()
        return idx

    # ------------------------------------------------------------ generation
    def _generate(self, n_clients, jobs_per_client, allocs_per_group):
        rng = self.rng
        now = self.clock.now_ns()
        names = client_names(n_clients, self.seed)
        order = list(range(1, n_clients))  # northern-leaf (0) stays healthy: a stable example
        rng.shuffle(order)
        n_bad = round(n_clients * 0.2)
        scenario_of = {ci: SCENARIOS[k % len(SCENARIOS)] for k, ci in enumerate(order[:n_bad])}
        # A few clients also run in us-east-1 (for data-residency checks); one of
        # them is only allowed Canadian datacenters, i.e. a violation to find.
        n_us = max(1, n_clients // 12)
        us_clients = order[n_bad : n_bad + n_us]
        self._generate_nodes(max(6, (n_clients * 5) // 8 + 1))
        for ci, (slug, name) in enumerate(names):
            if ci in us_clients:
                dcs = ["ca-tor-1", "us-east-1"]
                allowed = list(dcs) if ci != us_clients[0] else ["ca-tor-1", "ca-mtl-1"]
            else:
                dcs = ["ca-tor-1", "ca-mtl-1"]
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
        self.nodes_by_dc: dict[str, list[Node]] = {dc: [] for dc in DATACENTERS}
        per_dc = {"ca-tor-1": 0.45, "ca-mtl-1": 0.4, "us-east-1": 0.15}
        for dci, dc in enumerate(DATACENTERS):
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
        # One drained node and one down node in Montreal: realistic cluster noise,
        # and the down node is where "lost-alloc" clients had their allocation.
        mtl = self.nodes_by_dc["ca-mtl-1"]
        mtl[-2].eligibility = "ineligible"
        mtl[-2].events.append(("Node drain complete", "Drain", self.clock.now_ns() - 2 * DAY))
        self.down_node = mtl[-1]
        self.down_node.status = "down"
        self.down_node.events.append(("Node heartbeat missed", "Cluster", self.clock.now_ns() - 3 * HOUR))
        self.healthy_nodes_by_dc = {
            dc: [n for n in ns if n.status == "ready" and n.eligibility == "eligible"]
            for dc, ns in self.nodes_by_dc.items()
        }

    def _app_version(self, job_seed: int, v: int) -> str:
        return f"{1 + job_seed % 3}.{(job_seed // 3) % 9 + v}.{(job_seed + v * 7) % 10}"

    def _generate_job(self, c: Client, role: Role, allocs_per_group, now):
        rng = self.rng
        job = Job(f"{c.slug}-{role.name}", c, role)
        job.create_index = self._next_index()
        self._add_job(job)
        job_seed = rng.getrandbits(16)
        n_versions = rng.randint(2, 5) if role.type == "service" else rng.randint(1, 2)
        hit = role.name == self._scenario_role(c.scenario) or (c.scenario == "outage" and role.type == "service")
        scenario = c.scenario if hit and not role.periodic else None
        # The latest version was submitted hours or days ago; a failed deployment is today's news.
        t = now - (rng.randint(2, 5) if scenario == "failed-deployment" else rng.randint(1, 72)) * HOUR
        times = [t]
        for _ in range(n_versions - 1):
            t -= rng.randint(2 * DAY, 12 * DAY)
            times.append(t)
        times.reverse()
        for v, ts in enumerate(times):
            job.versions.append(Version(v, ts, self._app_version(job_seed, v), False, self._next_index()))
        job.modify_index = job.version.index
        count = allocs_per_group or role.count

        if role.periodic:
            job.status = "running"  # a periodic parent shows running while it is scheduled
            # One alloc per nightly run, whatever the group size, to keep totals predictable.
            self._generate_periodic_children(job, now, role.count)
            return

        running_deploy = scenario is None and c.scenario is None and rng.random() < 0.04
        # Deployment history, one per version, like service jobs with an update block.
        for ver in job.versions:
            ev = self._add_eval(job, "job-register", ver.submit_ns)
            last = ver is job.version
            if not last:
                roll = rng.random()
                if roll < 0.12:
                    reason = rng.choice(FAILED_DEPLOYMENT_REASONS).format(prev=max(0, ver.number - 1))
                    status, desc = "failed", reason
                elif roll < 0.2:
                    status, desc = "cancelled", "Cancelled due to newer version of job"
                else:
                    status, desc = "successful", "Deployment completed successfully"
            elif scenario == "failed-deployment":
                status, desc = "failed", "Failed due to progress deadline"
            elif running_deploy:
                status, desc = "running", "Deployment is running"
            else:
                status, desc = "successful", "Deployment completed successfully"
            d = Deployment(
                self.uuid(), job, ver.number, status, desc, self._next_index(), count, ver.submit_ns + 2 * NS
            )
            d.modify_index = self._next_index()
            ev.deployment_id = d.id
            if status == "successful":
                ver.stable = True
            elif status == "failed":
                d.placed, d.healthy, d.unhealthy = 1, 0, 1
            elif status == "cancelled":
                d.placed = d.healthy = max(0, count - 1)
            else:  # running: finishes a minute or two of simulated time from now
                d.placed, d.healthy = count, max(0, count - 1)
                d.finish_ns = now + rng.randint(30, 150) * NS
            self.deployments[d.id] = d
            job.deployments.append(d)

        latest = job.version
        good = latest if scenario != "failed-deployment" else job.versions[-2]
        for i in range(count):
            ver = good
            if scenario == "failed-deployment" and i == 0:
                ver = latest
            a = self._new_alloc(job, i, ver, job.evals[-1].id, ver.submit_ns + 3 * NS, c)
            dep = next(d for d in job.deployments if d.version == ver.number)
            a.deployment = dep
            if running_deploy and i == count - 1:
                a.healthy = None  # not yet healthy: the deployment is waiting on it
            self._start_tasks(a, a.create_ns + rng.randint(1, 20) * NS)
            self._register_services(a, "passing")
        # Previous-version alloc, stopped by the last update, for history.
        if allocs_per_group is None and len(job.versions) > 1:
            prev = job.versions[-2]
            old = self._new_alloc(job, 0, prev, job.evals[-2].id, prev.submit_ns + 3 * NS, c)
            old.deployment = job.deployments[-2]
            self._start_tasks(old, old.create_ns + 5 * NS)
            self._kill_tasks(old, latest.submit_ns + 4 * NS, "alloc is being updated due to job update")
            old.client_status, old.desired_status = "complete", "stop"
            old.desired_description = "alloc is being updated due to job update"
            old.client_description = "All tasks have completed"
        if scenario:
            self._apply_scenario(job, scenario, now)
        elif c.scenario is None and rng.random() < 0.05:
            # Mild noise on healthy clients: a warning check that does not fail anything.
            svc = self.consul_by_alloc.get(job.allocs[0].id)
            if svc:
                self._set_check(svc[0], "warning", "HTTP GET {url}: 429 Too Many Requests Output: rate limited")
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

    # -------------------------------------------------------------- scenarios
    def _apply_scenario(self, job: Job, scenario: str, now: int):
        rng = self.rng
        a = job.allocs[0]
        svcs = self.consul_by_alloc.get(a.id, [])
        if scenario == "crashloop":
            ts = a.tasks[0]
            for k in range(rng.randint(3, 7), 0, -1):
                self._crash_restart(
                    a, ts, now - k * 4 * 60 * NS, 1, "panic: dial tcp 10.20.0.15:5432: connect: connection refused"
                )
            a.modify_ns = ts.last_restart_ns
            for s in svcs:
                self._set_check(s, "critical", 'Get "{url}": dial tcp {addr}: connect: connection refused')
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

    # ------------------------------------------------------------- lookups
    def job(self, namespace: str, job_id: str) -> Job | None:
        return self.jobs.get((namespace, job_id))

    def summary(self, job: Job) -> dict[str, int]:
        counts = {"Queued": 0, "Complete": 0, "Failed": 0, "Running": 0, "Starting": 0, "Lost": 0, "Unknown": 0}
        allocs = job.allocs if not job.children else [a for ch in job.children for a in ch.allocs]
        for a in allocs:
            key = {
                "running": "Running",
                "pending": "Starting",
                "complete": "Complete",
                "failed": "Failed",
                "lost": "Lost",
                "unknown": "Unknown",
            }.get(a.client_status)
            if key:
                counts[key] += 1
        return counts

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

    # ------------------------------------------------------------ time flow
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
        job.versions.append(Version(v, now, self._app_version(hash(job.id) & 0xFFFF, v), False, self._next_index()))
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

    # -------------------------------------------------------------- summary
    def describe(self) -> dict:
        return {
            "clients": len(self.clients),
            "jobs": len(self.jobs),
            "allocations": len(self.allocs),
            "nodes": len(self.nodes),
            "unhealthy": {c.slug: c.scenario for c in self.clients if c.scenario},
            "us_east_clients": [c.slug for c in self.clients if "us-east-1" in c.datacenters],
        }
