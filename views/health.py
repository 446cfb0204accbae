"""Client health rules: pure functions, no pandas.

``evaluate(ClientHealth, rules) -> (status, reason)``. Every rule that fires
adds a phrase to the reason; the status is the worst one that fired.

=========  ====================================================================
status     fires when (defaults in ``HealthRules``)
=========  ====================================================================
down       the client wants allocations running (desired > 0) and none runs
degraded   a job runs fewer allocations than desired and is not deploying
           (not repeated when its failed/lost allocations already explain it)
degraded   allocations failed within ``failed_window`` (6 h)
degraded   allocations were lost within ``failed_window`` (6 h)
degraded   a job's tasks restarted >= ``restart_threshold`` (5) times in 24 h
           (counted from ``Restarting`` task events inside the window)
degraded   a Consul check of the client's services is critical
degraded   a Consul check of the client's services is warning
           (a node-level check such as ``serfHealth`` counts for every client
           with a service on that node, named "node <node> “serfHealth”",
           just as it makes those services critical/warning)
degraded   a job's latest deployment failed within ``deployment_window`` (24 h)
           (or at an unknown time)
deploying  a job's latest deployment is in progress and nothing above fired
healthy    none of the above ("all 12 allocations running", "nothing scheduled")
=========  ====================================================================

Sort worst first with ``views.status.rank``: down, degraded, deploying, healthy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .status import DEGRADED, DEPLOYING, DOWN, HEALTHY, STATUS_RANK


@dataclass(frozen=True)
class HealthRules:
    failed_window: timedelta = timedelta(hours=6)
    restart_window: timedelta = timedelta(hours=24)
    restart_threshold: int = 5
    deployment_window: timedelta = timedelta(hours=24)
    max_checks_named: int = 3


DEFAULT_RULES = HealthRules()


@dataclass(frozen=True)
class JobHealth:
    """What the rules need to know about one job (counts already windowed)."""

    job_id: str
    label: str = ""  # short name for people, e.g. "web" for "northern-leaf-web"
    desired: int = 0
    running: int = 0
    failed: int = 0  # failed within rules.failed_window
    lost: int = 0  # lost within rules.failed_window
    restarts: int = 0  # restarts within rules.restart_window
    deploying: bool = False  # latest deployment in progress
    deployment_failed: bool = False  # latest deployment failed within rules.deployment_window

    @property
    def name(self) -> str:
        return self.label or self.job_id


@dataclass(frozen=True)
class ClientHealth:
    jobs: tuple[JobHealth, ...] = ()
    critical_checks: tuple[str, ...] = ()  # e.g. "“http” on web"
    warning_checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    status: str
    text: str


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _hours(td: timedelta) -> str:
    h = td.total_seconds() / 3600
    return f"{h:g}h" if h < 48 else f"{h / 24:g}d"


def _names(names: tuple[str, ...], limit: int) -> str:
    uniq = list(dict.fromkeys(names))
    shown = ", ".join(uniq[:limit])
    return shown + (f" (+{len(uniq) - limit} more)" if len(uniq) > limit else "")


def findings(h: ClientHealth, rules: HealthRules = DEFAULT_RULES) -> list[Finding]:
    """Every rule that fires, worst first (stable within a status)."""
    out: list[Finding] = []
    desired = sum(j.desired for j in h.jobs)
    running = sum(j.running for j in h.jobs)
    if desired > 0 and running == 0:
        out.append(Finding(DOWN, f"nothing running: 0 of {_plural(desired, 'allocation')} desired"))
    fw = _hours(rules.failed_window)
    rw = _hours(rules.restart_window)
    dw = _hours(rules.deployment_window)
    for j in h.jobs:
        if j.failed:
            if j.desired >= j.failed:
                noun = f"{j.name} allocation" + ("s" if j.desired > 1 else "")
                text = f"{j.failed} of {j.desired} {noun} failed"
            else:
                text = f"{_plural(j.failed, j.name + ' allocation')} failed"
            out.append(Finding(DEGRADED, f"{text} in the last {fw}"))
        if j.lost:
            out.append(Finding(DEGRADED, f"{_plural(j.lost, j.name + ' allocation')} lost in the last {fw}"))
        if j.desired > 0 and j.running < j.desired and not j.deploying and running > 0 and not (j.failed or j.lost):
            out.append(Finding(DEGRADED, f"{j.name}: {j.running} of {j.desired} running"))
        if j.restarts >= rules.restart_threshold:
            out.append(Finding(DEGRADED, f"{j.name} restarted {_plural(j.restarts, 'time')} in {rw}"))
        if j.deployment_failed:
            out.append(Finding(DEGRADED, f"{j.name} deployment failed (last {dw})"))
    if h.critical_checks:
        n = len(set(h.critical_checks))
        out.append(
            Finding(
                DEGRADED,
                f"{'check' if n == 1 else 'checks'} {_names(h.critical_checks, rules.max_checks_named)} critical",
            )
        )
    if h.warning_checks:
        n = len(set(h.warning_checks))
        out.append(
            Finding(
                DEGRADED,
                f"{'check' if n == 1 else 'checks'} {_names(h.warning_checks, rules.max_checks_named)} warning",
            )
        )
    deploying = [j.name for j in h.jobs if j.deploying]
    if deploying:
        out.append(Finding(DEPLOYING, f"deploying {', '.join(deploying)}"))
    out.sort(key=lambda f: STATUS_RANK[f.status])
    return out


def evaluate(h: ClientHealth, rules: HealthRules = DEFAULT_RULES) -> tuple[str, str]:
    """(status, reason) for one client. The reason lists every finding, worst first."""
    found = findings(h, rules)
    if not found:
        desired = sum(j.desired for j in h.jobs)
        if desired == 0:
            return HEALTHY, "nothing scheduled" if not h.jobs else "no allocations desired"
        running = sum(j.running for j in h.jobs)
        return (
            HEALTHY,
            f"all {_plural(desired, 'allocation')} running"
            if running >= desired
            else f"{running} of {desired} running",
        )
    return found[0].status, "; ".join(f.text for f in found)


def job_label(job_id: str, client: str) -> str:
    """Short job name for reasons: 'northern-leaf-web' -> 'web' for client 'northern-leaf'."""
    if client and job_id.startswith(client + "-") and len(job_id) > len(client) + 1:
        return job_id[len(client) + 1 :]
    return job_id
