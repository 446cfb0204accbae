"""Data residency: placements outside each client's allowed datacenters, jobs that could move out,
clients with no policy; CSV for compliance reports; filters in the URL."""

from __future__ import annotations

import streamlit as st

from ui import export, fleet, fleet_tables, freshness, runtime, tables, widgets

P = "residency"
cfg = runtime.dashboard_config()
principal = widgets.require_page("residency")


def render_filters(clients: list[str]) -> tuple[str, list[str]]:
    widgets.seed(f"{P}_client", "client")
    widgets.seed(f"{P}_kind", "kind", multi=True, allowed=fleet_tables.KINDS)
    if st.session_state[f"{P}_client"] and st.session_state[f"{P}_client"] not in clients:
        clients = clients + [st.session_state[f"{P}_client"]]
    c1, c2 = st.columns([2, 2])
    client = c1.selectbox("Client", [""] + clients, key=f"{P}_client", format_func=lambda c: c or "All clients")
    kinds = c2.multiselect("Placement", list(fleet_tables.KINDS), key=f"{P}_kind", placeholder="Every kind")
    widgets.sync_param("client", client, key=f"{P}_client")
    widgets.sync_param("kind", list(kinds), key=f"{P}_kind")
    return client, list(kinds)


VIOLATION_COLS = {
    "client": widgets.LINK_CLIENT,
    "verdict": st.column_config.TextColumn("Verdict", width=105),
    "kind": st.column_config.TextColumn("Placement", width=90),
    "datacenter": st.column_config.TextColumn("Datacenter", width=100),
    "since": widgets.at_time("Since"),
    "node": "Node",
    "job": "Job",
    "allocation": widgets.LINK_ALLOC,
    "service": "Service",
    "allowed": st.column_config.TextColumn("Allowed", help="where the policy lets this client run"),
}
WARNING_COLS = {
    "client": widgets.LINK_CLIENT,
    "job": "Job",
    "namespace": "Namespace",
    "datacenters": st.column_config.TextColumn("Job datacenters", help="the job's Datacenters (patterns allowed)"),
    "forbidden": "Forbidden datacenters it allows",
    "allowed": "Allowed",
}
UNPOLICED_COLS = {
    "client": widgets.LINK_CLIENT,
    "datacenters": "Runs in",
    "jobs": st.column_config.NumberColumn("Jobs"),
}


def render_policy(policy) -> None:
    if not policy.configured:
        st.info(
            "No residency policy is configured, so no placement can be judged. Add a **[residency]** "
            "section to the dashboard configuration (see the README).",
            icon=":material/shield:",
        )
        return
    default = policy.default.describe() if policy.default else "none (clients not listed have no policy)"
    st.caption(f"Policy: default {tables.md_text(default)} · {len(policy.clients)} client-specific rule(s).")


def _table(df, cols, key: str, empty: str) -> None:
    if not len(df):
        st.caption(empty)
        return
    df, cols = widgets.unlink(df, cols)
    st.dataframe(df, hide_index=True, width="stretch", column_config=cols, key=key)


@st.fragment(run_every=cfg.page_refresh_seconds)
def render_data(client: str, kinds: list[str]) -> None:
    widgets.still_signed_in(principal)
    snap = runtime.snapshot()
    if not freshness.render(snap):
        return
    rt = fleet.residency_tables(snap)
    render_policy(rt.policy)
    v = rt.violations
    forbidden = v[v["verdict"] == "forbidden"]
    c = st.columns(4)
    c[0].metric("Clients outside policy", int(forbidden["client"].nunique()), border=True)
    c[1].metric("Allocations outside policy", int((forbidden["kind"] == "allocation").sum()), border=True)
    c[2].metric("Jobs that allow a forbidden DC", len(rt.job_warnings), border=True)
    c[3].metric("Clients with no policy", len(rt.unpoliced), border=True)

    shown = fleet_tables.filter_violations(v, client=client, kinds=kinds)
    st.subheader(f"Placements outside policy ({len(shown)})")
    st.caption(
        "Running or starting allocations, their Consul service instances and the nodes they are on, "
        "forbidden first; unknown: the datacenter (or region) cannot be told."
    )
    _table(fleet_tables.violations_table(shown), VIOLATION_COLS, f"{P}_violations", "Every placement is allowed.")
    st.download_button(
        "Download compliance report (CSV)",
        export.csv_bytes(shown.assign(checked_at=snap.built_at)),
        file_name=f"residency-{snap.cluster}.csv",
        mime="text/csv",
        key=f"{P}_csv",
        icon=":material/download:",
    )

    warn = fleet_tables.warnings_table(rt.job_warnings, client=client)
    st.subheader(f"Jobs that allow a forbidden datacenter ({len(warn)})")
    st.caption("Not a violation yet: the scheduler may place these jobs' next allocations there.")
    _table(warn, WARNING_COLS, f"{P}_warnings", "No job allows a forbidden datacenter.")

    st.subheader(f"Clients with no policy ({len(rt.unpoliced)})")
    _table(fleet_tables.unpoliced_table(rt.unpoliced), UNPOLICED_COLS, f"{P}_unpoliced", "Every client has a policy.")


st.title(":material/shield: Data residency")
snap0 = runtime.snapshot()
names = sorted(set(snap0.frames.clients["client"].tolist()) - {""}) if snap0.has_data else []
client, kinds = render_filters(names)
render_data(client, kinds)
