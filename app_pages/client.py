"""One client (?client=<name>): status and why, jobs, allocations, activity, Consul checks, deployments, links."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

import charts
from ui import actions as ui_actions
from ui import clock, fleet, freshness, live, runtime, shared, tables, widgets
from views import status as vstatus
from views import versions as vversions

P = "client"
ALLOC_STATUSES = ["failed", "lost", "pending", "running", "complete", "unknown"]
cfg = runtime.dashboard_config()
principal = widgets.require_page("client")


def pick_client(clients: pd.DataFrame) -> None:
    st.title(":material/apartment: Client")
    names = clients["client"].tolist()
    choice = st.selectbox(
        "Choose a client",
        names,
        index=None,
        key=f"{P}_pick",
        format_func=lambda c: f"{vstatus.icon(clients.set_index('client').at[c, 'status'])} {c}",
        placeholder="Type to search clients…",
    )
    if choice:
        st.query_params["client"] = choice
        st.rerun()


def render_header(row: dict) -> None:
    st.title(f":material/apartment: {tables.md_text(row['client'])}")
    st.markdown(f"{widgets.badge_md(row['status'])} **{tables.md_text(row['reason'])}**")
    links = cfg.links_for(row["client"])
    if links:
        cols = st.columns(len(links) + 3)
        for col, (name, url) in zip(cols, links.items()):
            col.link_button(name.capitalize(), url, icon=":material/open_in_new:", width="stretch")


JOB_COLS = {
    "cluster": st.column_config.TextColumn("Cluster"),
    "job": st.column_config.TextColumn("Job"),
    "type": "Type",
    "status": "Status",
    "version": st.column_config.TextColumn(
        "Job version", help="A periodic or parameterized parent runs no version itself: its children do"
    ),
    "app_version": "App version",
    "running": "Running",
    "running_ratio": widgets.progress("Running / desired", width=None),
}
ALLOC_COLS = widgets.ALLOC_COLS
SERVICE_COLS = {
    "service": "Service",
    "health": "Health",
    "checks": st.column_config.TextColumn("Checks", width=110),
    "check_names": st.column_config.TextColumn("Check names", width="medium"),
    "failing": "Failing checks",
    "output": st.column_config.TextColumn("Check output", width="large"),
    "tags": st.column_config.TextColumn("Tags", width="small"),
    "meta": st.column_config.TextColumn("Meta", width="medium"),
    "version": "Version",
    "node": "Node",
    "address": "Address",
    "allocation": widgets.LINK_ALLOC,
}
DEPLOY_COLS = {
    "time": widgets.when("When"),
    "job": "Job",
    "version": st.column_config.NumberColumn("Job version", format="%d"),
    "status": "Result",
    "description": st.column_config.TextColumn("Description", width="large"),
    "healthy": "Healthy / desired",
    "deployment": "Deployment",
}


def shape(snap, client: str) -> dict | None:
    """The client's header, tables and chart, once per snapshot and minute for every session (ui.shared)."""
    f = snap.frames
    row = tables.client_row(f.clients, client)
    if row is None:
        return None
    since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=24)
    return {
        "row": row,
        "versions": vversions.client_versions(fleet.version_tables(snap).matrix, row["client"], row["cluster"]),
        "jobs": tables.client_jobs(f.jobs, client),
        "activity": charts.activity_timeline(
            f.task_events, f.deployments, client=client, since=since, title=None, tz=clock.zone_name()
        ),
        "services": tables.client_services(f.services, client, f.checks),
        "deployments": tables.client_deployments(f.deployments, client),
    }


def draw(client: str, job: str, snap, alloc_key, value) -> None:
    shaped, allocs = value  # alloc_key is (*the page's key, "allocations", statuses, job): see render_data
    if shaped is None:
        st.title(":material/apartment: Client")
        st.error(f"No client named {tables.md_code(client, 80)}.")
        st.page_link("app_pages/health.py", label="Back to client health", icon=":material/arrow_back:")
        return
    row = shaped["row"]
    render_header(row)
    c = st.columns(4)
    c[0].metric("Running / desired", f"{row['running']} / {row['desired']}", border=True)
    c[1].metric("Failed allocations (6 h)", row["failed_allocs"], border=True)
    c[2].metric("Restarts (24 h)", row["restarts_24h"], border=True)
    c[3].metric("Checks critical / warning", f"{row['checks_critical']} / {row['checks_warning']}", border=True)
    st.markdown(
        f"**Versions** {tables.md_text(' · '.join(f'{s} {v}' for s, v in shaped['versions'])) or '–'} · "
        f"**Datacenters** {tables.md_text(tables.join_list(row['datacenters'])) or '–'} · "
        f"**Namespaces** {tables.md_text(tables.join_list(row['namespaces'])) or '–'}"
    )

    st.subheader("Jobs")
    st.dataframe(shaped["jobs"], hide_index=True, width="stretch", column_config=JOB_COLS)
    ui_actions.group_controls(principal, snap, client)  # rolling restarts: progress, start, cancel

    st.subheader("Allocations")
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    c1.multiselect("Allocation status", ALLOC_STATUSES, key=f"{P}_alloc_status", placeholder="All statuses")
    if job and c2.button(
        f"Show every job, not only {tables.md_text(job[:60])}", key=f"{P}_all_jobs", icon=":material/filter_alt_off:"
    ):
        del st.query_params["job"]
        st.rerun()
    st.caption(
        f"{len(allocs)} allocations"
        + (f" of job {tables.md_code(job, 80)}" if job else "")
        + ", troubled first. "
        + (
            "Select a row (or click the ID) to open the allocation."
            if widgets.page_allowed("allocation")
            else "Your role cannot open allocation pages, so the IDs are plain text."
        )
    )
    widgets.alloc_linked_table(allocs, key=f"{P}_allocs", column_config=ALLOC_COLS, shared_as=alloc_key)

    st.subheader("Recent activity (24 h)")
    if shaped["activity"].data:
        st.plotly_chart(shaped["activity"], key=f"{P}_activity", width="stretch")
    else:
        st.caption("No task events or deployments in the last 24 hours.")

    st.subheader("Consul services and checks")
    if len(shaped["services"]):
        svc, svc_cols = shared.cached(
            (*alloc_key[:-3], "services", shared.view_key()), lambda: widgets.unlink(shaped["services"], SERVICE_COLS)
        )
        st.dataframe(svc, hide_index=True, width="stretch", column_config=svc_cols)
    else:
        st.caption("No Consul service instances for this client.")

    st.subheader("Deployment history")
    st.dataframe(shaped["deployments"], hide_index=True, width="stretch", column_config=DEPLOY_COLS)


def render_data(client: str, job: str, statuses: list[str]) -> None:
    """The client's data part follows the snapshot (``ui.live``): the freshness line moves every
    refresh; the header, tables and chart are drawn again only when what they show changed
    (a new snapshot that changes this client, its rolling restarts, the minute for their ages)."""

    def shaped(snap):
        key = shared.page_key(P, snap, (client, clock.zone_name()), per_view=False)
        main = shared.cached(key, lambda: shape(snap, client))
        alloc_key = (*key, "allocations", tuple(statuses), job)
        allocs = None
        if main is not None:
            allocs = shared.cached(
                alloc_key,
                lambda: tables.client_allocations(snap.frames.allocations, client, statuses=statuses, job=job),
            )
        return alloc_key, (main, allocs)

    live.follow(
        shaped,
        functools.partial(draw, client, job),
        every=cfg.page_refresh_seconds,
        principal=principal,
        browser_ages=True,
        also=lambda _shown: ui_actions.group_runs_seen(client),
    )


snap0 = runtime.snapshot()
client = widgets.param("client")
if not client:
    if freshness.render(snap0):
        pick_client(snap0.frames.clients)
else:
    widgets.seed(f"{P}_alloc_status", "status", multi=True, allowed=ALLOC_STATUSES)
    alloc_statuses = list(st.session_state[f"{P}_alloc_status"])
    widgets.sync_param("status", alloc_statuses, key=f"{P}_alloc_status")
    render_data(client, widgets.param("job"), alloc_statuses)
