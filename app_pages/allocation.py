"""One allocation (?alloc=<id or 8-char short ID>): header, task states and events, resources, logs."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime
from urllib.parse import quote

import streamlit as st

import auth.policy
from ui import actions as ui_actions
from ui import clock, live, redact, runtime, shared, tables, widgets
from views.logs import filter_lines
from views.resources import ports, resources
from views.schema import plain
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
PICK_LIMIT = 50


def shape(snap, value: str) -> dict:
    """What the page shows of ``snap`` for ``?alloc=value``, once per snapshot for every session
    (ui.shared): the picker's table, why the ID finds nothing, or the allocation and its task events."""
    allocs = snap.frames.allocations
    if not value:
        return {"pick": tables.alloc_table(allocs, with_client=True).head(PICK_LIMIT), "total": len(allocs)}
    a, problem = tables.resolve_alloc(allocs, value)
    if a is None:
        return {"problem": problem, "choices": cluster_choices(allocs, value)}
    ev = snap.frames.task_events
    mine = plain(ev[ev["alloc_id"] == a["alloc_id"]])  # grouped by task: only its own tasks
    return {"alloc": a, "tasks": sorted(mine["task"].unique().tolist()), "events": tables.task_event_tables(mine)}


def cluster_choices(allocs, value: str) -> list[tuple[str, str, str]]:
    """The same allocation ID in several clusters (IDs are unique per cluster only): (label, ID, cluster) each."""
    rows = [
        allocs[(allocs["cluster"] == cluster) & (allocs["alloc_id"].str.startswith(value.strip().lower()))].head(1)
        for cluster in tables.alloc_clusters(allocs, value)
    ]
    return [
        (f"Allocation {r.short_id} in cluster {r.cluster} (job {r.job_id}, {r.client_status})", r.alloc_id, r.cluster)
        for row in rows
        for r in row.itertuples()
    ]


def render_tasks(events: list) -> None:
    st.subheader("Tasks and events")
    if not events:
        st.caption("No task states reported yet.")
        return
    for task, state, failed, show in events:
        icon = widgets.TASK_FAILED_ICON if failed else widgets.TASK_STATE_ICONS.get(state, widgets.TASK_OTHER_ICON)
        st.markdown(f"{icon} **{tables.md_text(task)}** — {tables.md_text(state)}{' (failed)' if failed else ''}")
        st.dataframe(
            show,
            hide_index=True,
            width="stretch",
            column_config=EVENT_COLS,
            row_height=EVENT_ROW_HEIGHT,
            height=min(38 + EVENT_ROW_HEIGHT * len(show), 420),
        )


def pick_allocation(shown: dict, key) -> None:
    """Opened from the menu, with no allocation given: the troubled ones first, to pick from."""
    st.title(":material/deployed_code: Allocation")
    st.info(
        "Pick an allocation below (troubled first), or search its ID, job or client in the sidebar.",
        icon=":material/search:",
    )
    widgets.alloc_linked_table(
        shown["pick"], key=f"{P}_pick", column_config=widgets.PICK_ALLOC_COLS, max_height=720, shared_as=key
    )
    if shown["total"] > PICK_LIMIT:
        st.caption(f"The {PICK_LIMIT} most troubled and newest of {shown['total']} allocations.")


def render_missing(shown: dict) -> None:
    st.title(":material/deployed_code: Allocation")
    st.error(shown["problem"])  # resolve_alloc quotes the input with md_code
    for label, alloc_id, cluster in shown["choices"]:
        st.page_link(
            "app_pages/allocation.py",
            label=tables.md_text(label),
            query_params={"alloc": alloc_id, "cluster": cluster},
            icon=":material/deployed_code:",
        )
    st.page_link("app_pages/health.py", label="Back to client health", icon=":material/arrow_back:")


def render_details(a: dict) -> None:
    """Resources and raw JSON, from the full allocation (an on-demand read shared by every viewer)."""
    full, err = runtime.fetch_allocation(a["alloc_id"], a["namespace"], principal, a["cluster"])
    st.subheader("Resources")
    if full is None:
        st.warning(f"Could not read the allocation's details: {tables.md_text(err)}")
        return
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
        f"Shared disk {res.attrs.get('disk_mb', 0)} MB" + "".join(f" · port {tables.md_text(p)}" for p in ports(full))
    )
    if auth.policy.can(principal, auth.policy.ALLOC_RAW):
        with st.expander("Advanced: raw allocation JSON (secrets removed)", expanded=True):
            problem = ui_actions.record_access(principal, "alloc.raw_json", a)  # regulated data: audited first
            if problem:
                st.error(problem)
            else:
                st.caption(f"{redact.NOTE} Click ▸ beside a section to open it.")
                st.json(tables.redact_allocation(full), expanded=2)


def details_seen(shown: dict) -> Hashable:
    """What ``render_details`` shows that the snapshot does not hold, as comparable values: the full
    allocation is read on demand (cached for everyone), so the page redraws when a newer read of it
    differs (Nomad moves its ModifyIndex on every change) or the read starts or stops failing."""
    a = shown.get("alloc")
    if a is None:
        return None
    full, err = runtime.fetch_allocation(a["alloc_id"], a["namespace"], principal, a["cluster"])
    return ("unread", err) if full is None else (full.get("ModifyIndex"), full.get("AllocModifyIndex"))


def draw(snap, key, shown: dict) -> None:
    if "pick" in shown:
        pick_allocation(shown, key)
    elif "problem" in shown:
        render_missing(shown)
    else:
        a, tasks = shown["alloc"], shown["tasks"]
        render_header(a, tasks, snap)
        render_tasks(shown["events"])
        render_logs(a, tasks)
        render_details(a)


def render_data(value: str) -> None:
    """The allocation follows the snapshot (``ui.live``): the freshness line moves every refresh; the
    header, task events, resources and raw JSON are drawn again only when what they show changed
    (this allocation's row or task events in a new snapshot, a newer read of the full allocation).
    The log section has its own fragment ("Follow live": every few seconds)."""

    def shaped(snap):
        key = shared.page_key(P, snap, (value,), per_view=False, bucket=0)
        return key, shared.cached(key, lambda: shape(snap, value))

    live.follow(
        shaped,
        draw,
        every=cfg.page_refresh_seconds,
        principal=principal,
        browser_ages=not value,  # the picker's Age and Last event at are worded by the browser
        also=details_seen,
    )


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
            f"Showing the lines read {_read_when(tail.fetched_at, following)}."
        )
    out = filter_lines(tail.text, pattern)
    if out.error:
        st.error(tables.md_text(out.error))
    order = "oldest first" if oldest_first else "newest first"
    st.caption(
        f"Showing {out.matched} of {out.total} lines of the last 64 KiB of {tables.md_text(task)} {kind}, "
        f"{order}, read {_read_when(tail.fetched_at, following)}"
        + (
            f"; following, new lines every {runtime.LOG_FOLLOW_SECONDS:g} s."
            if following
            else "; turn on Follow live for newer lines."
        )
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


def _read_when(moment, following: bool) -> str:
    """When the lines shown were read: followed, "4 s ago" (the section reruns every few seconds);
    still, the time of day (it is drawn once per page run, so an age would stand still and lie)."""
    if moment is None:
        return "never"
    if following:
        return ago_words((datetime.now(UTC) - moment).total_seconds())
    return "at " + clock.local(moment).strftime("%H:%M:%S")


_logs_on_request = st.fragment(_log_section)
_logs_live = st.fragment(run_every=runtime.LOG_FOLLOW_SECONDS)(_log_section)


render_data(widgets.param("alloc"))
