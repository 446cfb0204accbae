"""What an action is aimed at, and what came of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RESTART_MODES = ("running", "all", "task")


@dataclass(frozen=True)
class Target:
    """An allocation (``allocation`` set) or a task group (``job`` + ``task_group``).

    The page fills in what it showed; ``perform`` reads the allocation fresh from Nomad and records
    Nomad's namespace, job and group, not the page's. ``observed_at`` is when the page's data was
    current (the snapshot's age): older than ``stale_after_seconds`` and the action is refused.
    ``task`` restarts one task; ``all_tasks`` every task (finished sidecars too); neither: the
    running tasks.
    """

    namespace: str
    job: str = ""
    task_group: str = ""
    allocation: str = ""
    client: str = ""
    task: str = ""
    all_tasks: bool = False
    observed_at: datetime | None = None
    cluster: str = ""

    @property
    def short(self) -> str:
        return self.allocation[:8]

    def fields(self) -> dict[str, str]:
        return {
            "cluster": self.cluster,
            "namespace": self.namespace,
            "client": self.client,
            "job": self.job,
            "task_group": self.task_group,
            "allocation": self.allocation,
            "task": self.task or ("(all tasks)" if self.all_tasks else ""),
        }


@dataclass(frozen=True)
class Outcome:
    """``status``: succeeded | started (a rolling restart now running) | failed | denied | unavailable."""

    status: str
    message: str  # plain words for the person (show as plain text)
    request_id: str = ""
    guard: str = ""  # which guard refused, when denied
    nomad: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "started")
