"""The one write path: ``perform(principal, action, target, reason, ticket=None) -> Outcome``.

Order, for every attempt:
1. policy (the person's roles, with the target's namespace as the resource) and a reason: refused
   ones are recorded as ``requested`` + ``denied``;
2. the target read fresh from Nomad: terminal, replaced, unknown or stale targets are refused, and a
   plain restart that would leave its group with nothing running is refused (use the rolling restart);
3. ``requested`` committed with the store's guards (rate limit, cooldown, lease) in one transaction:
   if it cannot be written, nothing is done ("the audit trail is unavailable");
4. Nomad is called (with the person's own token when per-person identity is on);
5. the outcome (``succeeded`` / ``failed``) is recorded with what Nomad answered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actions import catalog
from actions.catalog import Action
from actions.environment import Environment, Fleet, get_environment, unknown_cluster
from actions.explain import refusal
from actions.model import Outcome, Target
from auth import policy
from auth.principal import Principal
from connectors import paths
from connectors.errors import ConnectorError, InvalidInput
from store.audit import Actor, Entry, Guards, Refused, new_request_id
from store.db import StoreUnavailable

UNAVAILABLE = "The audit trail is unavailable, nothing was done."
MAX_REASON = 2000
MAX_TICKET = 128
TERMINAL_CLIENT = ("complete", "failed", "lost")


def actor(principal: Principal) -> Actor:
    return Actor(
        subject=principal.subject,
        email=principal.email,
        name=principal.name,
        groups=tuple(principal.groups),
        roles=tuple(sorted(principal.roles)),
    )


def _clean(text: Any, limit: int) -> str:
    text = " ".join(str(text or "").split()) if limit == MAX_TICKET else str(text or "").strip()
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")[:limit]


class _Attempt:
    """One attempt's audit bookkeeping."""

    def __init__(self, env: Environment, principal: Principal, action: Action, target: Target, reason, ticket, token):
        self.env = env
        self.action = action
        self.actor = actor(principal)
        self.target = target
        self.reason = reason
        self.ticket = ticket
        self.request_id = new_request_id()
        self.personal = token is not None
        self.token = token

    def entry(self, event: str, detail: dict | None = None, target: Target | None = None) -> Entry:
        fields = (target or self.target).fields()
        fields["cluster"] = fields["cluster"] or self.env.cluster
        base = {"token": "person" if self.personal else "dashboard"}
        return Entry(
            self.request_id,
            event,
            self.actor,
            self.action.name,
            fields,
            self.reason,
            self.ticket,
            base | (detail or {}),
        )

    def deny(self, message: str, guard: str, target: Target | None = None) -> Outcome:
        """Record requested + denied together (nothing will be done either way)."""
        try:
            self.env.audit.request(self.entry("requested", target=target), refusal=(message, guard))
        except Refused:
            return Outcome("denied", message, self.request_id, guard)
        except StoreUnavailable:
            return Outcome("unavailable", UNAVAILABLE, guard=guard)
        raise AssertionError("a refusal always raises")  # pragma: no cover


def perform(
    principal: Principal,
    action: Action | str,
    target: Target,
    reason: str,
    ticket: str | None = None,
    *,
    token: str | None = None,
    env: Environment | Fleet | None = None,
) -> Outcome:
    """Do ``action`` on ``target`` for ``principal`` if every guard allows it; always audited.

    ``env``: one cluster's Environment, or a Fleet of several: the action goes to the Environment
    (Nomad, worker, checks) of the cluster ``target.cluster`` names; a cluster that is not
    configured is refused (recorded as denied, guard ``cluster``).
    ``token``: the person's own Nomad token (per-person identity on) for that cluster; None: the
    dashboard's token. It is used for the call only, never recorded.
    """
    env = env or get_environment()
    action = catalog.get(action)
    chosen = _cluster_env(env, target.cluster)
    known = env.names if isinstance(env, Fleet) else [env.cluster]
    # A cluster that is not configured is refused after the policy check, recorded against the
    # cluster the page named, in the one audit trail.
    stand_in = Environment(audit=env.audit, nomad=None, cluster=_clean(target.cluster, 64))  # type: ignore[arg-type]
    env = chosen or stand_in
    attempt = _Attempt(env, principal, action, target, _clean(reason, MAX_REASON), _clean(ticket, MAX_TICKET), token)
    resource = f"namespace {target.namespace}" if target.namespace else "the cluster"
    try:
        policy.ensure(principal, action.policy, resource)  # the target's namespace is the resource
    except policy.Forbidden:
        held = ", ".join(sorted(principal.roles)) or "no role"
        return attempt.deny(
            f"Your role ({held}) may not {policy.ACTIONS[action.policy]} in {resource}. Nothing was done.", "policy"
        )
    if chosen is None:
        return attempt.deny(unknown_cluster(_clean(target.cluster, 200), known), "cluster")
    if not attempt.reason:
        return attempt.deny("A reason is required: say why, for the audit trail. Nothing was done.", "reason")
    try:
        if action.target == "allocation":
            paths.alloc_id(target.allocation)
        else:
            paths.segment(target.job, "job ID")
            paths.check_name(target.task_group, "task group")
        paths.check_name(target.namespace, "namespace")
        if target.task:
            paths.check_name(target.task, "task name")
    except (InvalidInput, ValueError) as err:
        return attempt.deny(f"The target is not valid: {err}. Nothing was done.", "target")

    if action is catalog.ROLLING_CANCEL:
        from actions.rolling import cancel

        return cancel(attempt)
    if action is catalog.GROUP_ROLLING_RESTART:
        from actions.rolling import start

        return start(attempt)
    return _alloc_action(attempt)


def _cluster_env(env: Environment | Fleet, cluster: str) -> Environment | None:
    """The Environment of the target's cluster (None: not configured). A target naming no cluster
    goes to a lone Environment, or to the only cluster of a Fleet."""
    if isinstance(env, Fleet):
        return env.for_target(cluster)
    return env if not cluster or cluster == env.cluster else None


def stale_message(target: Target, settings, now: datetime) -> str | None:
    if target.observed_at is None:
        return None
    age = (now - target.observed_at).total_seconds()
    if age > settings.stale_after_seconds:
        return (
            f"The page's data is {int(age)} seconds old (more than {settings.stale_after_seconds:g}): reload it and "
            "check the allocation before acting. Nothing was done."
        )
    return None


def read_allocation(attempt: _Attempt) -> tuple[dict | None, Outcome | None]:
    t = attempt.target
    try:
        return attempt.env.nomad.get_allocation(t.allocation, namespace=t.namespace, token=attempt.token), None
    except ConnectorError as err:
        message, _ = refusal(
            err, verb=attempt.action.verb, short=t.short, namespace=t.namespace, personal=attempt.personal
        )
        return None, attempt.deny(message.replace("refused to", "refused to read before trying to"), "live_target")


def fresh_target(attempt: _Attempt, alloc: dict) -> Target:
    """The target as Nomad says it is now (the page's copy could be wrong or crafted)."""
    from views import ClientIdentity

    t = attempt.target
    job = alloc.get("Job") or {}
    namespace = str(alloc.get("Namespace") or t.namespace)
    job_id = str(alloc.get("JobID") or t.job)
    client = ClientIdentity.parse(attempt.env.identity).of_job(namespace, job_id, job.get("Meta"))
    return Target(
        namespace=namespace,
        job=job_id,
        task_group=str(alloc.get("TaskGroup") or t.task_group),
        allocation=str(alloc.get("ID") or t.allocation),
        client=client or t.client,
        task=t.task,
        all_tasks=t.all_tasks,
        observed_at=t.observed_at,
        cluster=t.cluster or attempt.env.cluster,
    )


def live_problem(alloc: dict, short: str, verb: str) -> str | None:
    desired, client = alloc.get("DesiredStatus", ""), alloc.get("ClientStatus", "")
    if alloc.get("NextAllocation"):
        return (
            f"Allocation {short} has been replaced by {str(alloc['NextAllocation'])[:8]}: open the new one. "
            "Nothing was done."
        )
    if desired in ("stop", "evict") or client in TERMINAL_CLIENT:
        return (
            f"Allocation {short} is no longer running (client status {client}, desired {desired}): there is "
            f"nothing to {verb}. Nothing was done."
        )
    return None


def blast_radius(attempt: _Attempt, target: Target) -> Outcome | None:
    """Refuse a restart that would leave the task group with nothing running."""
    try:
        stubs = attempt.env.nomad.job_allocations(target.job, namespace=target.namespace, token=attempt.token)
    except ConnectorError as err:
        return attempt.deny(
            f"Cannot check the rest of group {target.task_group} before restarting ({err}). Nothing was done.",
            "blast_radius",
            target,
        )
    others = [
        s
        for s in stubs
        if s.get("TaskGroup") == target.task_group
        and s.get("ID") != target.allocation
        and s.get("DesiredStatus") == "run"
        and s.get("ClientStatus") == "running"
    ]
    if others:
        return None
    return attempt.deny(
        f"Restarting allocation {target.short} would leave group {target.task_group} of job {target.job} with "
        "nothing running (it is the only running allocation). Use the group's rolling restart instead, which "
        "waits for each allocation to be healthy. Nothing was done.",
        "blast_radius",
        target,
    )


def _guards(attempt: _Attempt, target: Target) -> Guards:
    s = attempt.env.settings
    return Guards(
        cooldown_key=f"alloc:{target.cluster or attempt.env.cluster}/{target.allocation}",
        cooldown_seconds=s.cooldown_seconds,
        rate_limit=s.rate_limit,
        rate_window_seconds=s.rate_window_minutes * 60,
        rate_actions=catalog.RATE_LIMITED,
    )


def request(attempt: _Attempt, target: Target, guards: Guards) -> Outcome | None:
    """Commit ``requested`` with its guards; an Outcome when that refused or could not be written."""
    try:
        attempt.env.audit.request(attempt.entry("requested", target=target), guards)
    except Refused as refused:
        return Outcome("denied", refused.message, attempt.request_id, refused.guard)
    except StoreUnavailable:
        return Outcome("unavailable", UNAVAILABLE)
    return None


def record_outcome(attempt: _Attempt, target: Target, event: str, detail: dict, message: str) -> str:
    try:
        attempt.env.audit.append(attempt.entry(event, detail, target))
    except StoreUnavailable:
        return (
            message + " The outcome could not be written to the audit trail, which will show this request as "
            "'outcome unknown'."
        )
    return message


def _alloc_action(attempt: _Attempt) -> Outcome:
    env, action = attempt.env, attempt.action
    alloc, refused = read_allocation(attempt)
    if refused is not None:
        return refused
    target = fresh_target(attempt, alloc)
    problem = live_problem(alloc, target.short, action.verb)
    if problem:
        return attempt.deny(problem, "live_target", target)
    if target.task and target.task not in (alloc.get("TaskStates") or {}):
        return attempt.deny(
            f"Allocation {target.short} has no task named {target.task}. Nothing was done.", "live_target", target
        )
    stale = stale_message(target, env.settings, datetime.now(UTC))
    if stale:
        return attempt.deny(stale, "fresh_data", target)
    if action is catalog.ALLOC_RESTART:
        refused = blast_radius(attempt, target)
        if refused is not None:
            return refused
    guards = _guards(attempt, target)
    refused = request(attempt, target, guards)
    if refused is not None:
        return refused
    try:
        if action is catalog.ALLOC_RESTART:
            answer = env.nomad.restart_allocation(
                target.allocation,
                task=target.task or None,
                all_tasks=target.all_tasks and not target.task,
                namespace=target.namespace,
                token=attempt.token,
            )
        else:
            answer = env.nomad.stop_allocation(target.allocation, namespace=target.namespace, token=attempt.token)
    except ConnectorError as err:
        message, definite = refusal(
            err, verb=action.verb, short=target.short, namespace=target.namespace, personal=attempt.personal
        )
        if definite:  # Nomad did nothing: a retry after fixing the cause is fine
            try:
                env.audit.release_cooldown(guards.cooldown_key, attempt.request_id)
            except StoreUnavailable:
                pass
        detail = {"error": err.kind, "status": err.status, "nomad_said": err.detail, "definite": definite}
        message = record_outcome(attempt, target, "failed", detail, message)
        return Outcome("failed", message, attempt.request_id, nomad=detail)
    if action is catalog.ALLOC_RESTART:
        which = f"task {target.task}" if target.task else "all its tasks" if target.all_tasks else "its running tasks"
        message = (
            f"Allocation {target.short} ({target.job} / {target.task_group}) is restarting {which} in place. "
            "Its task events show Restart Signaled, then Started."
        )
    else:
        message = (
            f"Allocation {target.short} ({target.job} / {target.task_group}) is stopping; Nomad places a "
            "replacement (evaluation " + str(answer.get("EvalID", ""))[:8] + ")."
        )
    message = record_outcome(attempt, target, "succeeded", {"nomad": answer}, message)
    return Outcome("succeeded", message, attempt.request_id, nomad=answer)
