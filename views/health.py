"""Client health rules: pure functions, no pandas.

``assess(ClientHealth, rules) -> Assessment(status, reason, severity)``. Every rule that fires
is a finding; the status is the worst status among the findings, the reason lists every finding
worst first, and ``severity`` (the worst finding's weight) orders clients within a status.

======  =========  ===========================================================================
weight  status     fires when (defaults in ``HealthRules``)
======  =========  ===========================================================================
0       down       the client wants allocations running (desired > 0) and none runs
1       degraded   allocations failed within ``failed_window`` (6 h)
2       degraded   allocations were lost within ``failed_window`` (6 h)
3       degraded   a job's latest deployment failed within ``deployment_window`` (24 h)
                   (or at an unknown time)
4       degraded   a Consul check of the client's services is critical (a node-level check
                   such as ``serfHealth`` counts for every client with a service on that node,
                   named "node <node> “serfHealth”", just as it makes those services critical)
5       degraded   a job runs fewer allocations than desired and is not deploying
                   (not repeated when its failed/lost allocations already explain it)
6       degraded   a job's tasks restarted >= ``restart_threshold`` (5) times in 24 h
                   (counted from ``Restarting`` task events inside the window)
7       deploying  a job's latest deployment is in progress ("deploying web"; when something
                   above fired it is still said, as "deployment of web in progress")
8       healthy    a Consul check is warning: said in the reason, never degrades (a warning is
                   Consul's "look at this", not an outage; the check count stays in the row)
-       healthy    nothing above ("all 12 allocations running", "7 running for 5 desired")
======  =========  ===========================================================================

Sort worst first: ``views.status.rank`` (down, degraded, deploying, healthy), then severity.
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
    weight: int = 0  # lower is worse (see the table above); orders findings and clients


@dataclass(frozen=True)
class Assessment:
    status: str
    reason: str
    severity: int  # the worst finding's weight; NO_FINDING when nothing fired
    findings: int = 0  # how many rules fired


NO_FINDING = 9
# Finding weights, worst first (the table in the module docstring).
W_DOWN, W_FAILED, W_LOST, W_DEPLOY_FAILED, W_CRITICAL, W_BELOW, W_RESTARTS, W_DEPLOYING, W_WARNING = range(9)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _hours(td: timedelta) -> str:
    h = td.total_seconds() / 3600
    return f"{h:g}h" if h < 48 else f"{h / 24:g}d"


def _names(names: tuple[str, ...], limit: int) -> str:
    uniq = list(dict.fromkeys(names))
    shown = ", ".join(uniq[:limit])
    return shown + (f" (+{len(uniq) - limit} more)" if len(uniq) > limit else "")


def _checks(names: tuple[str, ...], limit: int, state: str) -> str:
    n = len(set(names))
    return f"{'check' if n == 1 else 'checks'} {_names(names, limit)} {state}"


def findings(h: ClientHealth, rules: HealthRules = DEFAULT_RULES) -> list[Finding]:
    """Every rule that fires, worst first (by weight; stable within a weight)."""
    out: list[Finding] = []
    desired = sum(j.desired for j in h.jobs)
    running = sum(j.running for j in h.jobs)
    if desired > 0 and running == 0:
        out.append(Finding(DOWN, f"nothing running: 0 of {_plural(desired, 'allocation')} desired", W_DOWN))
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
            out.append(Finding(DEGRADED, f"{text} in the last {fw}", W_FAILED))
        if j.lost:
            out.append(Finding(DEGRADED, f"{_plural(j.lost, j.name + ' allocation')} lost in the last {fw}", W_LOST))
        if j.desired > 0 and j.running < j.desired and not j.deploying and running > 0 and not (j.failed or j.lost):
            out.append(Finding(DEGRADED, f"{j.name}: {j.running} of {j.desired} running", W_BELOW))
        if j.restarts >= rules.restart_threshold:
            out.append(Finding(DEGRADED, f"{j.name} restarted {_plural(j.restarts, 'time')} in {rw}", W_RESTARTS))
        if j.deployment_failed:
            out.append(Finding(DEGRADED, f"{j.name} deployment failed (last {dw})", W_DEPLOY_FAILED))
    if h.critical_checks:
        out.append(Finding(DEGRADED, _checks(h.critical_checks, rules.max_checks_named, "critical"), W_CRITICAL))
    deploying = [j.name for j in h.jobs if j.deploying]
    if deploying:
        out.append(Finding(DEPLOYING, f"deploying {', '.join(deploying)}", W_DEPLOYING))
    if h.warning_checks:
        out.append(Finding(HEALTHY, _checks(h.warning_checks, rules.max_checks_named, "warning"), W_WARNING))
    out.sort(key=lambda f: f.weight)
    return out


def _all_running(h: ClientHealth) -> str:
    desired = sum(j.desired for j in h.jobs)
    if desired == 0:
        return "nothing scheduled" if not h.jobs else "no allocations desired"
    running = sum(j.running for j in h.jobs)
    if running == desired:
        return f"all {_plural(desired, 'allocation')} running"
    if running > desired:  # old and new side by side during a deployment or a reschedule
        return f"{running} running for {desired} desired"
    return f"{running} of {desired} running"


def assess(h: ClientHealth, rules: HealthRules = DEFAULT_RULES) -> Assessment:
    """Status, reason (every finding, worst first) and severity of one client."""
    found = findings(h, rules)
    status = min((f.status for f in found), key=lambda s: STATUS_RANK[s], default=HEALTHY)
    severity = found[0].weight if found else NO_FINDING
    texts = []
    for f in found:
        if f.weight == W_DEPLOYING and status != DEPLOYING:
            # the tiles count statuses: a degraded client's deployment is said as a side note
            texts.append(f.text.replace("deploying ", "deployment of ", 1) + " in progress")
        else:
            texts.append(f.text)
    if status == HEALTHY:
        texts.insert(0, _all_running(h))
    return Assessment(status, "; ".join(texts), severity, len(found))


def evaluate(h: ClientHealth, rules: HealthRules = DEFAULT_RULES) -> tuple[str, str]:
    """(status, reason) for one client (see ``assess``)."""
    a = assess(h, rules)
    return a.status, a.reason


def job_label(job_id: str, client: str) -> str:
    """Short job name for reasons: 'northern-leaf-web' -> 'web' for client 'northern-leaf'."""
    if client and job_id.startswith(client + "-") and len(job_id) > len(client) + 1:
        return job_id[len(client) + 1 :]
    return job_id
