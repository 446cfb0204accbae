"""The world's records: small ``__slots__`` objects, plus the fixed catalogue (roles, scenarios).

The JSON shapes Nomad and Consul send are built from these on demand
(``nomad_shapes`` / ``consul_api``), so 100k allocations stay cheap to hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import NS

DATACENTERS = ("ca-tor-1", "ca-mtl-1", "us-east-1")
HOUR = 3600 * NS
DAY = 24 * HOUR

# Tables with their own index, as in Nomad's and Consul's state stores, so a
# change to one does not wake a blocking query on another.
NOMAD_TABLES = ("jobs", "job_summary", "allocs", "deployments", "evals", "nodes", "namespaces", "services", "acl")
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

# Deployment status descriptions, word for word from Nomad (nomad/structs/deployment.go,
# DeploymentStatusDescription*); the dashboard and people match on them.
DEPLOYMENT_RUNNING = "Deployment is running"
DEPLOYMENT_SUCCESSFUL = "Deployment completed successfully"
DEPLOYMENT_STOPPED_JOB = "Cancelled because job is stopped"
DEPLOYMENT_NEWER_JOB = "Cancelled due to newer version of job"
DEPLOYMENT_FAILED_ALLOCS = "Failed due to unhealthy allocations"
DEPLOYMENT_PROGRESS_DEADLINE = "Failed due to progress deadline"
DEPLOYMENT_FAILED_BY_USER = "Deployment marked as failed"


def deployment_rollback(base: str, version: int) -> str:
    """Nomad's DeploymentStatusDescriptionRollback: auto-revert to the latest stable version."""
    return f"{base} - rolling back to job version {version}"


# The progress deadline of every service group's update block (Nomad's default, 10m).
PROGRESS_DEADLINE = 600 * NS


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


# An allocation's client status -> its JobSummary bin (structs.TaskGroupSummary).
SUMMARY_KEYS = {
    "running": "Running",
    "pending": "Starting",
    "complete": "Complete",
    "failed": "Failed",
    "lost": "Lost",
    "unknown": "Unknown",
}


# Nomad keeps this many versions of a job (structs.JobDefaultTrackedVersions).
TRACKED_VERSIONS = 6


def tracked_versions(versions: list[Version], keep: int = TRACKED_VERSIONS) -> list[Version]:
    """The versions Nomad still holds, newest first: each new version beyond ``keep`` deletes
    the oldest, except that the newest stable version is swapped into the kept set when it is
    the one that would go (nomad/state/state_store.go upsertJobVersion). Stability is read as
    it is now, not as it was at each insert (the sandbox keeps no flag history)."""
    kept: list[Version] = []
    for v in versions:
        kept.insert(0, v)
        if len(kept) <= keep:
            continue
        stable = next((i for i, k in enumerate(kept) if k.stable), -1)
        if stable == keep:
            kept[keep - 1], kept[keep] = kept[keep], kept[keep - 1]
        del kept[keep]
    return kept


class Job:
    __slots__ = (
        "allocs",
        "children",
        "client",
        "collected",
        "create_index",
        "deployments",
        "evals",
        "id",
        "launch_ns",
        "modify_index",
        "parent",
        "queued",
        "role",
        "status",
        "stop",
        "summary_modify",
        "versions",
    )

    def __init__(self, id, client, role, parent=None):
        self.id, self.client, self.role, self.parent = id, client, role, parent
        self.versions: list[Version] = []
        self.children: list[Job] = []
        self.allocs: list[Alloc] = []
        self.deployments: list[Deployment] = []
        self.evals: list[Evaluation] = []
        # JobSummary counts of allocations the GC removed: Nomad's summary counts transitions and
        # never takes a collected allocation back out (nomad/state/state_store.go updateSummaryWithAlloc).
        self.collected: dict[str, int] = {}
        self.summary_modify = 0  # the index its JobSummary was last rewritten at
        self.queued = 0  # JobSummary Queued: set by an evaluation's QueuedAllocations (nestedUpsertEval)
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
        "auto_revert",
        "create_index",
        "create_ns",
        "description",
        "desired",
        "healthy",
        "id",
        "job",
        "modify_index",
        "modify_ns",
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
        # CreateTime / ModifyTime in Unix ns, as Nomad's deployment watcher stamps them.
        self.create_ns = self.modify_ns = create_ns
        self.auto_revert = True  # the group's update block; False: a failure stays failed


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
        "queued",
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
        # QueuedAllocations of its one task group: what the scheduler could not place (None: not
        # set, as on a pending or blocked evaluation).
        self.queued: int | None = 0


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
        "crash",
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
        "summary_status",
        "tasks",
        "version",
    )

    def __init__(self, id, job, index, node, version, eval_id, create_ns, idx):
        self.id, self.job, self.index, self.node, self.version = id, job, index, node, version
        self.deployment = None
        self.eval_id = eval_id
        self.client_status, self.desired_status = "running", "run"
        self.summary_status: str | None = None  # the status its job's summary counts it under
        self.desired_description = self.client_description = ""
        self.create_ns = self.modify_ns = create_ns
        self.create_index = self.modify_index = self.alloc_modify_index = idx
        self.healthy: bool | None = True
        self.previous = self.next = self.followup_eval = ""
        self.tasks: list[TaskState] = []
        self.port = 0
        self.log_seed = 0
        # (exit code, message) while the main task is crash-looping: restarts do not fix it.
        self.crash: tuple[int, str] | None = None

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
        "check_status",
        "check_template",
        "create_index",
        "id",
        "meta",
        "modify_index",
        "name",
        "node",
        "port",
        "registered",
        "tags",
    )

    @property
    def check_output(self) -> str:
        """The check's output, filled in when read (formatting 100k outputs at start is wasted work)."""
        url = f"http://{self.address}:{self.port}/health"
        return self.check_template.format(url=url, addr=f"{self.address}:{self.port}")

    @check_output.setter
    def check_output(self, text: str) -> None:
        self.check_template = text.replace("{", "{{").replace("}", "}}")


class Registry:
    """Consul's service catalogue: registration order, O(1) add and remove, iterates the services.

    (A plain list made every deregistration a scan of 100k services.)
    """

    __slots__ = ("_by_id",)

    def __init__(self):
        self._by_id: dict[int, ConsulService] = {}

    def append(self, s: ConsulService) -> None:
        self._by_id[id(s)] = s

    def remove(self, s: ConsulService) -> None:
        del self._by_id[id(s)]

    def discard(self, s: ConsulService) -> None:
        self._by_id.pop(id(s), None)

    def __contains__(self, s) -> bool:
        return id(s) in self._by_id

    def __iter__(self):
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def __bool__(self) -> bool:
        return bool(self._by_id)
