"""One allocation (?alloc=<id or 8-char short ID>): header, task states and events, resources, logs."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import streamlit as st

import auth.policy
from ui import actions as ui_actions
from ui import freshness, redact, runtime, tables, widgets
from views.logs import filter_lines
from views.resources import ports, resources
from views.words import ago_words

P = "allocation"
cfg = runtime.dashboard_config()
principal = widgets.require_page("allocation")


def render_header(a: dict, tasks: list[str], snap) -> None:
    c1, c2 = st.columns([4, 1.4], vertical_alignment="center")
    c1.title(f":material/deployed_code: Allocation {tables.md_text(a['short_id'])}")
    with c2:
        ui_actions.alloc_controls(principal, a, tasks, snap)  # restart/stop through actions.perform
    ui_actions.show_outcome(f"alloc:{a['alloc_id']}")
    md = tables.md_text
    several = len(runtime.cluster_names()) > 1
    cluster = str(a.get("cluster") or "")
    node_url = tables.node_link(a["node_id"]) + (f"&cluster={quote(cluster, safe='')}" if several and cluster else "")
    st.markdown(
        (f"**Cluster** {md(cluster)} · " if several else "")
        + f"**Client** {widgets.md_link(a['client'], tables.client_link(a['client']), 'client')} · "
        f"**Job** {tables.md_code(a['job_id'], 120)} · **Group** {tables.md_code(a['task_group'], 120)} · "
        f"**Job version** {a['job_version']} · "
        f"**Node** {widgets.md_link(a['node_name'], node_url, 'nodes')} · "
        f"**Datacenter** {md(a['datacenter'])}"
    )
    icon = widgets.alloc_icon_md(a["client_status"])
    st.markdown(
        f"{icon} **{md(a['client_status'])}** (desired: {md(a['desired_status'])})"
        + (f" — {md(a['client_description'])}" if a["client_description"] else "")
        + f" · ID {tables.md_code(a['alloc_id'], 40)}"
    )
    if a["next_allocation"]:
        st.page_link(
            "app_pages/allocation.py",
            label=f"Replaced by allocation {tables.md_text(a['next_allocation'][:8])}",
            query_params={"alloc": a["next_allocation"]} | ({"cluster": cluster} if several and cluster else {}),
            icon=":material/arrow_forward:",
        )


# The message wraps (rows over 4rem tall), so "FATAL: password authentication failed for user ..." reads whole.
EVENT_COLS = {
    "time": widgets.at_time("Time", width=160),
    "type": st.column_config.TextColumn("Event", width=140),
    "message": st.column_config.TextColumn("Message", width=560),
    "severity": st.column_config.TextColumn("Severity", width=85),
}
EVENT_ROW_HEIGHT = 78


def render_tasks(events) -> None:
    st.subheader("Tasks and events")
    if not len(events):
        st.caption("No task states reported yet.")
        return
    for task, ev in events.groupby("task", sort=True):
        state, failed = ev["task_state"].iloc[-1], bool(ev["task_failed"].iloc[-1])
        icon = widgets.TASK_FAILED_ICON if failed else widgets.TASK_STATE_ICONS.get(state, widgets.TASK_OTHER_ICON)
        st.markdown(f"{icon} **{tables.md_text(task)}** — {tables.md_text(state)}{' (failed)' if failed else ''}")
        show = ev.sort_values("time", ascending=False)[["time", "type", "message", "severity"]]
        show = show.assign(severity=show["severity"].map(tables.severity_badge))
        st.dataframe(
            show,
            hide_index=True,
            width="stretch",
            column_config=EVENT_COLS,
            row_height=EVENT_ROW_HEIGHT,
            height=min(38 + EVENT_ROW_HEIGHT * len(show), 420),
        )


PICK_LIMIT = 50


def pick_cluster(allocs, value: str) -> None:
    """The same allocation ID in several clusters (IDs are unique per cluster only): one link each."""
    for cluster in tables.alloc_clusters(allocs, value):
        row = allocs[(allocs["cluster"] == cluster) & (allocs["alloc_id"].str.startswith(value.strip().lower()))]
        if not len(row):
            continue
        r = row.iloc[0]
        st.page_link(
            "app_pages/allocation.py",
            label=tables.md_text(
                f"Allocation {r['short_id']} in cluster {cluster} (job {r['job_id']}, {r['client_status']})"
            ),
            query_params={"alloc": r["alloc_id"], "cluster": cluster},
            icon=":material/deployed_code:",
        )


def pick_allocation(allocs) -> None:
    """Opened from the menu, with no allocation given: the troubled ones first, to pick from."""
    st.title(":material/deployed_code: Allocation")
    st.info(
        "Pick an allocation below (troubled first), or search its ID, job or client in the sidebar.",
        icon=":material/search:",
    )
    table = tables.alloc_table(allocs, with_client=True).head(PICK_LIMIT)
    widgets.linked_table(
        table,
        key=f"{P}_pick",
        link_col="allocation",
        page="app_pages/allocation.py",
        param="alloc",
        column_config=widgets.PICK_ALLOC_COLS,
        row_height=widgets.ALLOC_ROW_HEIGHT,
        max_height=720,
    )
    if len(allocs) > PICK_LIMIT:
        st.caption(f"The {PICK_LIMIT} most troubled and newest of {len(allocs)} allocations.")


@st.fragment(run_every=cfg.page_refresh_seconds)
def render_data(value: str) -> None:
    widgets.still_signed_in(principal)
    snap = runtime.snapshot()
    if not freshness.render(snap):
        return
    if not value:
        pick_allocation(snap.frames.allocations)
        return
    a, problem = tables.resolve_alloc(snap.frames.allocations, value)
    if a is None:
        st.title(":material/deployed_code: Allocation")
        st.error(problem)  # resolve_alloc quotes the input with md_code
        pick_cluster(snap.frames.allocations, value)
        st.page_link("app_pages/health.py", label="Back to client health", icon=":material/arrow_back:")
        return
    ev = snap.frames.task_events
    tasks = sorted(ev[ev["alloc_id"] == a["alloc_id"]]["task"].unique().tolist())
    render_header(a, tasks, snap)
    render_tasks(ev[ev["alloc_id"] == a["alloc_id"]])
    render_logs(a, tasks)
    full, err = runtime.fetch_allocation(a["alloc_id"], a["namespace"], principal, a["cluster"])
    st.subheader("Resources")
    if full is None:
        st.warning(f"Could not read the allocation's details: {tables.md_text(err)}")
    else:
        res = resources(full)
        st.dataframe(
            tables.resource_table(res),
            hide_index=True,
            column_config={
                "task": "Task",
                "cpu_mhz": st.column_config.NumberColumn("CPU (MHz)"),
                "memory_mb": st.column_config.NumberColumn("Memory (MB)"),
                "memory_max_mb": st.column_config.TextColumn(
                    "Memory max (MB)", help="Memory the task may use above its reservation (oversubscription)"
                ),
            },
        )
        st.caption(
            f"Shared disk {res.attrs.get('disk_mb', 0)} MB"
            + "".join(f" · port {tables.md_text(p)}" for p in ports(full))
        )
    if full is not None and auth.policy.can(principal, auth.policy.ALLOC_RAW):
        with st.expander("Advanced: raw allocation JSON (secrets removed)", expanded=True):
            problem = ui_actions.record_access(principal, "alloc.raw_json", a)  # regulated data: audited first
            if problem:
                st.error(problem)
            else:
                st.caption(f"{redact.NOTE} Click ▸ beside a section to open it.")
                st.json(tables.redact_allocation(full), expanded=2)


def render_logs(a: dict, tasks: list[str]) -> None:
    """The log section. Every viewer reads the one shared follower of the stream (no request of
    its own); with "Follow live" on, only this section reruns every few seconds."""
    following = bool(st.session_state.get(f"{P}_log_follow"))
    (_logs_live if following else _logs_on_request)(a, tasks, following)


def _log_section(a: dict, tasks: list[str], following: bool) -> None:
    widgets.still_signed_in(principal)
    st.subheader("Logs")
    if principal is None or not auth.policy.can(principal, auth.policy.LOGS_READ):
        st.info("Your role cannot read allocation logs (support and admin roles can).", icon=":material/lock:")
        return
    if not tasks:
        st.caption("No tasks have started, so there are no logs yet.")
        return
    c1, c2, c3, c4 = st.columns([1.6, 1.6, 3, 1.3], vertical_alignment="bottom")
    task = c1.selectbox("Task", tasks, key=f"{P}_log_task")
    kind = c2.segmented_control("Stream", ["stdout", "stderr"], default="stderr", key=f"{P}_log_kind") or "stderr"
    pattern = c3.text_input(
        "Filter lines (regular expression, case-insensitive)",
        key=f"{P}_log_filter",
        placeholder=r"e.g. error|timed out",
        help="Upper and lower case match alike: error finds ERROR and Error.",
    )
    follow = c4.toggle(
        "Follow live",
        key=f"{P}_log_follow",
        help=f"Show new lines as they arrive (every {runtime.LOG_FOLLOW_SECONDS:g} s).",
    )
    if follow != following:
        st.rerun(scope="app")  # switch between the following and the still section
    oldest_first = st.toggle("Oldest line first", key=f"{P}_log_oldest_first")
    problem = ui_actions.record_access(principal, "logs.read", a, task=task, kind=kind)  # audited first
    if problem:
        st.error(problem)
        return
    tail, err = runtime.fetch_logs(a["alloc_id"], task, kind, a["namespace"], principal, a["cluster"])
    if tail is None or tail.text is None:
        why = err or (str(tail.error) if tail is not None and tail.error else "no answer yet")
        st.warning(f"Could not read the {kind} log: {tables.md_text(why)}")
        return
    if tail.error is not None:
        st.warning(
            f"Could not read newer lines: {tables.md_text(str(tail.error))} "
            f"Showing the lines read {ago_words(_age(tail.fetched_at))}."
        )
    out = filter_lines(tail.text, pattern)
    if out.error:
        st.error(tables.md_text(out.error))
    order = "oldest first" if oldest_first else "newest first"
    st.caption(
        f"Showing {out.matched} of {out.total} lines of the last 64 KiB of {tables.md_text(task)} {kind}, "
        f"{order}, read {ago_words(_age(tail.fetched_at))}"
        + (f"; following, new lines every {runtime.LOG_FOLLOW_SECONDS:g} s." if following else ".")
        + (" Matching ignores case." if pattern.strip() else "")
    )
    lines = out.lines if oldest_first else out.lines[::-1]
    st.code("\n".join(lines) or "(no lines)", language=None, height=420, line_numbers=False)
    st.download_button(
        "Download these lines",
        out.text,
        file_name=f"{a['short_id']}-{task}-{kind}.log",
        mime="text/plain",
        key=f"{P}_log_download",
        icon=":material/download:",
        on_click="ignore",
    )


def _age(moment) -> float | None:
    return None if moment is None else (datetime.now(UTC) - moment).total_seconds()


_logs_on_request = st.fragment(_log_section)
_logs_live = st.fragment(run_every=runtime.LOG_FOLLOW_SECONDS)(_log_section)


render_data(widgets.param("alloc"))
