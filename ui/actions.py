"""The Streamlit side of the audited actions: buttons, the confirmation dialog, outcomes, progress.

Pages add a line each (``alloc_controls``, ``group_controls``, ``record_access``); everything that
changes something goes through ``actions.perform``, which checks the policy and guards itself: the
buttons shown here follow the policy only so people do not see controls they cannot use.
Cluster text is shown as plain text (``tables.md_text``) or in plain-text widgets.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import streamlit as st

import actions
import auth.policy
from actions import records, rolling
from actions.perform import UNAVAILABLE
from store.db import StoreUnavailable
from ui import runtime, tables

_DIALOG = "_action_dialog"
_OUTCOME = "_action_outcome"
_ACCESS = "_access_recorded"
ACCESS_EVERY_SECONDS = 600  # one access record per person, thing and session in this window


def environment() -> actions.Fleet:
    """Every configured cluster's action environment (one audit store): ``perform`` sends an
    action to the cluster its target names."""
    cfg = runtime.dashboard_config()
    fleet = actions.get_fleet(cfg.actions, cfg.identify_by, clusters=runtime.clusters())
    for name, env in fleet.environments.items():
        env.checks = _checks_of(name)
    return fleet


def _checks_of(cluster: str):
    def checks(alloc_id: str) -> bool | None:
        """The allocation's Consul checks in its cluster's newest snapshot: True all passing, False
        one failing, None none (a rolling restart waits on them)."""
        try:
            frame = runtime.refresher(cluster).current().frames.checks
        except Exception:
            return None
        mine = frame[frame["alloc_id"] == alloc_id]
        if not len(mine):
            return None
        return bool((mine["status"] == "passing").all())

    return checks


def _person_token(cluster: str) -> tuple[str | None, str]:
    from auth.nomad_identity import IdentityUnavailable
    from connectors.errors import ConnectorError

    try:
        return runtime.person_token(cluster), ""
    except (IdentityUnavailable, ConnectorError) as err:
        return None, f"Your own Nomad identity is not available, so nothing was done: {err}"


def observed_at(snap) -> datetime | None:
    return snap.confirmed_at(datetime.now(UTC)) if snap is not None else None


# ---------------------------------------------------------------- outcome


def show_outcome(scope: str) -> None:
    """The last outcome of an action started from ``scope`` (kept until the next one)."""
    kept = st.session_state.get(_OUTCOME)
    if not kept or kept[0] != scope:
        return
    outcome: actions.Outcome = kept[1]
    text = tables.md_text(outcome.message)
    if outcome.status in ("succeeded", "started"):
        st.success(text, icon=":material/check_circle:")
    elif outcome.status == "denied":
        st.warning(text, icon=":material/block:")
    else:
        st.error(text, icon=":material/error:")
    if outcome.request_id:
        st.caption(f"Audit request {outcome.request_id}")


def _done(scope: str, outcome: actions.Outcome) -> None:
    st.session_state[_OUTCOME] = (scope, outcome)
    st.session_state.pop(_DIALOG, None)
    st.rerun()


def _close() -> None:
    st.session_state.pop(_DIALOG, None)


def _perform(scope: str, principal, action, target, reason: str, ticket: str) -> None:
    token, problem = _person_token(target.cluster)
    if problem:
        _done(scope, actions.Outcome("failed", problem))
    try:
        env = environment()
    except StoreUnavailable:
        _done(scope, actions.Outcome("unavailable", UNAVAILABLE))
    outcome = actions.perform(principal, action, target, reason, ticket, token=token, env=env)
    _done(scope, outcome)


def _reason_inputs(key: str) -> tuple[str, str]:
    reason = st.text_area(
        "Reason (required, kept in the audit trail)", key=f"{key}_reason", max_chars=2000, placeholder="Why?"
    )
    ticket = st.text_input("Ticket ID (optional)", key=f"{key}_ticket", max_chars=128)
    return reason, ticket


# ---------------------------------------------------------------- allocation


def alloc_controls(principal, a: dict, tasks: list[str], snap) -> None:
    """Restart (support, admin) and stop (admin) buttons for one allocation, and the last outcome."""
    may_restart = principal is not None and auth.policy.can(principal, auth.policy.ALLOC_RESTART)
    may_stop = principal is not None and auth.policy.can(principal, auth.policy.ALLOC_STOP)
    if not (may_restart or may_stop):
        return
    scope = f"alloc:{a['alloc_id']}"
    if may_restart and st.button(
        "Restart allocation", key="allocation_restart", icon=":material/restart_alt:", width="stretch"
    ):
        st.session_state[_DIALOG] = ("restart", a["alloc_id"])
    if may_stop and st.button("Stop allocation", key="allocation_stop", icon=":material/stop_circle:", width="stretch"):
        st.session_state[_DIALOG] = ("stop", a["alloc_id"])
    opened = st.session_state.get(_DIALOG)
    if opened and opened[1] == a["alloc_id"]:
        seen = observed_at(snap)
        if opened[0] == "restart":
            _restart_dialog(principal, scope, a, tasks, seen)
        else:
            _stop_dialog(principal, scope, a, seen)


def _target(a: dict, seen, **kw) -> actions.Target:
    """The allocation row the page showed, with the cluster that holds it."""
    return actions.Target(
        cluster=str(a.get("cluster") or ""),
        namespace=a["namespace"],
        job=a["job_id"],
        task_group=a["task_group"],
        allocation=a["alloc_id"],
        client=a["client"],
        observed_at=seen,
        **kw,
    )


def _where(a: dict) -> str:
    return (
        f"allocation {a['short_id']} of job {a['job_id']}, group {a['task_group']} "
        f"(client {a['client']}, node {a['node_name']})"
    )


MODES = {
    "running": "Its running tasks (the usual choice)",
    "all": "All its tasks, finished sidecars too",
    "task": "One task",
}


@st.dialog("Restart allocation", width="medium", on_dismiss=_close)
def _restart_dialog(principal, scope: str, a: dict, tasks: list[str], seen) -> None:
    st.markdown(tables.md_text(f"This restarts {_where(a)} in place, on the same node."))
    st.caption(
        "Nomad signals the tasks, waits for them to stop and starts them again; the allocation keeps its ID. "
        "The service is briefly unavailable from this allocation."
    )
    mode = st.radio("What to restart", list(MODES), format_func=MODES.get, key="restart_mode", horizontal=False)
    task = ""
    if mode == "task":
        task = st.selectbox("Task", tasks, key="restart_task") or ""
    typed = st.text_input(f"Type the allocation's short ID ({a['short_id']}) to confirm", key="restart_confirm")
    reason, ticket = _reason_inputs("restart")
    ready = typed.strip().lower() == a["short_id"] and bool(reason.strip()) and (mode != "task" or task)
    c1, c2 = st.columns(2)
    if c1.button("Restart", type="primary", disabled=not ready, key="restart_go", width="stretch"):
        target = _target(a, seen, task=task if mode == "task" else "", all_tasks=mode == "all")
        _perform(scope, principal, actions.ALLOC_RESTART, target, reason, ticket)
    if c2.button("Cancel", key="restart_cancel", width="stretch"):
        _close()
        st.rerun()


@st.dialog("Stop allocation", width="medium", on_dismiss=_close)
def _stop_dialog(principal, scope: str, a: dict, seen) -> None:
    st.markdown(tables.md_text(f"This stops {_where(a)}."))
    st.caption("Nomad stops its tasks and its scheduler places a replacement allocation, usually on another node.")
    typed = st.text_input(f"Type the allocation's short ID ({a['short_id']}) to confirm", key="stop_confirm")
    reason, ticket = _reason_inputs("stop")
    ready = typed.strip().lower() == a["short_id"] and bool(reason.strip())
    c1, c2 = st.columns(2)
    if c1.button("Stop", type="primary", disabled=not ready, key="stop_go", width="stretch"):
        _perform(scope, principal, actions.ALLOC_STOP, _target(a, seen), reason, ticket)
    if c2.button("Cancel", key="stop_cancel", width="stretch"):
        _close()
        st.rerun()


# ---------------------------------------------------------------- task group


def group_runs_seen(client: str) -> tuple:
    """What ``group_controls`` shows of the client's rolling restarts, as comparable values: their
    progress moves without the snapshot changing, so a page that draws them only on a change
    (``ui.live.follow``) compares this too."""
    try:
        runs = [r for r in rolling.status(environment(), limit=50) if r["client"] == client][:5]
    except StoreUnavailable as err:
        return ("unavailable", str(err))
    return tuple(tuple(sorted((k, repr(v)) for k, v in r.items())) for r in runs)


def group_choices(
    allocs, client: str, run_clusters: set[str]
) -> tuple[dict[str, tuple[str, str, str, str]], dict, bool]:
    """The rolling-restart choices of a client, label -> (cluster, namespace, job, group), for its
    task groups with running allocations; how many run in each group; and whether the client is in
    several clusters (it has allocations in more than one, even where nothing runs now, or rolling
    restarts there). Then it has the same job in each, so every label says which cluster it restarts."""
    mine = allocs[allocs["client"] == client]
    running = mine[mine["client_status"] == "running"]
    counts = Counter(zip(running["cluster"], running["namespace"], running["job_id"], running["task_group"]))
    several = len(set(mine["cluster"]) | run_clusters) > 1
    labels = {
        (f"{job} / {group} ({cluster})" if several else f"{job} / {group}"): (cluster, ns, job, group)
        for cluster, ns, job, group in sorted(counts)
    }
    return labels, counts, several


def group_controls(principal, snap, client: str) -> None:
    """The client's rolling restarts (progress for everyone) and, for support/admin, a way to start one."""
    try:
        runs = [r for r in rolling.status(environment(), limit=50) if r["client"] == client][:5]
    except StoreUnavailable as err:
        st.warning(tables.md_text(f"Rolling restarts cannot be shown: {err}"))
        runs = []
    may = principal is not None and auth.policy.can(principal, auth.policy.GROUP_RESTART)
    scope = f"group:{client}"
    if runs or may:
        st.subheader("Rolling restarts")
    show_outcome(scope)
    labels, counts, several = group_choices(snap.frames.allocations, client, {r["cluster"] for r in runs})
    for run in runs:
        _progress(principal, run, may, scope, observed_at(snap), several)
    if not may or not labels:
        return
    c1, c2 = st.columns([3, 1.4], vertical_alignment="bottom")
    choice = c1.selectbox("Task group", list(labels), key="rolling_group")
    if c2.button("Rolling restart", key="rolling_open", icon=":material/autorenew:", width="stretch") and choice:
        st.session_state[_DIALOG] = ("rolling", labels[choice])
    opened = st.session_state.get(_DIALOG)
    if opened and opened[0] == "rolling" and opened[1] in counts:
        cluster, ns, job, group = opened[1]
        _rolling_dialog(
            principal, scope, client, cluster, ns, job, group, counts[opened[1]], observed_at(snap), several
        )


def _progress(principal, run: dict, may: bool, scope: str, seen, several: bool = False) -> None:
    where = f" ({run['cluster']})" if several else ""
    label = (
        f"{run['job']} / {run['task_group']}{where}: {run['status']} — {run['message']} "
        f"(started by {run['actor_name']})"
    )
    total = max(int(run["total"]), 1)
    if run["status"] == "running":
        st.progress(min(int(run["done"]) / total, 1.0), text=tables.md_text(label))
        if may and st.button("Cancel this rolling restart", key=f"rolling_cancel_{run['request_id']}"):
            st.session_state[_DIALOG] = ("rolling_cancel", run["request_id"])
        opened = st.session_state.get(_DIALOG)
        if opened and opened == ("rolling_cancel", run["request_id"]):
            _cancel_dialog(principal, scope, run, seen)
    else:
        st.caption(tables.md_text(label))


@st.dialog("Rolling restart", width="medium", on_dismiss=_close)
def _rolling_dialog(principal, scope, client, cluster, namespace, job, group, count, seen, several=False) -> None:
    where = f" in cluster {cluster}" if several else ""
    st.markdown(
        tables.md_text(
            f"This restarts the {count} running allocations of group {group} of job {job} (client {client}){where} "
            "one at a time: each must be running and healthy again before the next starts."
        )
    )
    st.caption(
        "It runs on the dashboard server: closing this page does not stop it, and everyone sees its progress. "
        "It stops at the first allocation that is not healthy in time, and can be cancelled."
    )
    typed = st.text_input(f"Type the group name ({group}) to confirm", key="rolling_confirm")
    reason, ticket = _reason_inputs("rolling")
    ready = typed.strip() == group and bool(reason.strip())
    c1, c2 = st.columns(2)
    if c1.button("Start rolling restart", type="primary", disabled=not ready, key="rolling_go", width="stretch"):
        target = actions.Target(
            cluster=cluster, namespace=namespace, job=job, task_group=group, client=client, observed_at=seen
        )
        _perform(scope, principal, actions.GROUP_ROLLING_RESTART, target, reason, ticket)
    if c2.button("Cancel", key="rolling_dialog_cancel", width="stretch"):
        _close()
        st.rerun()


@st.dialog("Cancel the rolling restart", on_dismiss=_close)
def _cancel_dialog(principal, scope, run: dict, seen) -> None:
    st.markdown(
        tables.md_text(f"The rolling restart of {run['job']} / {run['task_group']} stops before its next allocation.")
    )
    reason, ticket = _reason_inputs("rolling_cancel")
    if st.button("Cancel it", type="primary", disabled=not reason.strip(), key="rolling_cancel_go"):
        target = actions.Target(
            cluster=run["cluster"],
            namespace=run["namespace"],
            job=run["job"],
            task_group=run["task_group"],
            client=run["client"],
        )
        _perform(scope, principal, actions.ROLLING_CANCEL, target, reason, ticket)


# ---------------------------------------------------------------- access events


def record_access(principal, what: str, a: dict, *, task: str = "", kind: str = "") -> str | None:
    """Record that the person reads ``what`` (logs.read, alloc.raw_json) of allocation ``a``.

    None when recorded (or recorded for this person, thing and session in the last
    ACCESS_EVERY_SECONDS: a page refresh is not a new read); else why it cannot be shown.
    """
    key = (what, a["alloc_id"], task, kind)
    seen = st.session_state.setdefault(_ACCESS, {})
    now = time.monotonic()
    if now - seen.get(key, -ACCESS_EVERY_SECONDS - 1) < ACCESS_EVERY_SECONDS:
        return None
    target = _target(a, None, task=task)
    problem = actions.record_access(principal, what, target, detail={"kind": kind} if kind else None)
    if problem is None:
        seen[key] = now
    return problem


# ---------------------------------------------------------------- audit page


def audit_view(principal, **filters) -> records.AuditView:
    try:
        env = environment()
    except StoreUnavailable as err:
        return records.AuditView(error=str(err))
    return records.audit_view(principal, env=env, **filters)


def audit_csv(view: records.AuditView) -> str:
    return records.export_csv(view)
