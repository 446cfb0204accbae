"""Data residency: placements outside each client's allowed datacenters, jobs that could move out,
clients with no policy; CSV for compliance reports; filters in the URL."""

from __future__ import annotations

import streamlit as st

from ui import clock, export, fleet, fleet_tables, live, runtime, shared, tables, widgets

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


# Sized so everything but the policy's allowed list fits the 978 px a table gets at 1440 px
# beside the sidebar (the allowed list is in the policy line and the CSV too).
VIOLATION_COLS = {
    "cluster": st.column_config.TextColumn("Cluster", width=70),
    "client": widgets.client_link_column(140),
    "verdict": st.column_config.TextColumn("Verdict", width=95),
    "kind": st.column_config.TextColumn("Placement", width=80),
    "datacenter": st.column_config.TextColumn("Datacenter", width=90),
    "since": widgets.at_time("Since", width=140, seconds=False),
    "node": st.column_config.TextColumn("Node", width=130),
    "job": st.column_config.TextColumn("Job or service", width=150),
    "allocation": widgets.LINK_ALLOC,
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


def _table(df, cols, key: str, empty: str, shared_as: tuple) -> None:
    if not len(df):
        st.caption(empty)
        return
    df, cols = shared.cached((*shared_as, key, shared.view_key()), lambda: widgets.unlink(df, cols))
    st.dataframe(df, hide_index=True, width="stretch", column_config=cols, key=key)


def shape(snap, client: str, kinds: list[str]) -> dict:
    """Tiles, tables and the CSV, once per snapshot, filters and minute for every session (ui.shared)."""
    rt = fleet.residency_tables(snap)
    v = rt.violations
    forbidden = v[v["verdict"] == "forbidden"]
    shown = fleet_tables.filter_violations(v, client=client, kinds=kinds)
    return {
        "policy": rt.policy,
        "tiles": (
            int(forbidden["client"].nunique()),
            int((forbidden["kind"] == "allocation").sum()),
            len(rt.job_warnings),
            len(rt.unpoliced),
        ),
        "shown": len(shown),
        "violations": fleet_tables.violations_table(shown),
        "csv": export.csv_bytes(shown.assign(checked_at=snap.built_at)),
        "warnings": fleet_tables.warnings_table(rt.job_warnings, client=client),
        "unpoliced": fleet_tables.unpoliced_table(rt.unpoliced),
    }


def draw(snap, key, r) -> None:
    render_policy(r["policy"])
    c = st.columns(4)
    c[0].metric("Clients outside policy", r["tiles"][0], border=True)
    c[1].metric("Allocations outside policy", r["tiles"][1], border=True)
    c[2].metric("Jobs that allow a forbidden DC", r["tiles"][2], border=True)
    c[3].metric("Clients with no policy", r["tiles"][3], border=True)

    st.subheader(f"Placements outside policy ({r['shown']})")
    st.caption(
        "Running or starting allocations, their Consul service instances and the nodes they are on, "
        "forbidden first; unknown: the datacenter (or region) cannot be told."
    )
    _table(r["violations"], VIOLATION_COLS, f"{P}_violations", "Every placement is allowed.", key)
    st.download_button(
        "Download compliance report (CSV)",
        r["csv"],
        file_name=f"residency-{snap.cluster.replace(', ', '+')}.csv",
        mime="text/csv",
        key=f"{P}_csv",
        icon=":material/download:",
    )

    warn = r["warnings"]
    st.subheader(f"Jobs that allow a forbidden datacenter ({len(warn)})")
    st.caption("Not a violation yet: the scheduler may place these jobs' next allocations there.")
    _table(warn, WARNING_COLS, f"{P}_warnings", "No job allows a forbidden datacenter.", key)

    st.subheader(f"Clients with no policy ({len(r['unpoliced'])})")
    _table(r["unpoliced"], UNPOLICED_COLS, f"{P}_unpoliced", "Every client has a policy.", key)


def render_data(client: str, kinds: list[str]) -> None:
    def shaped(snap):
        key = shared.page_key(P, snap, (client, tuple(kinds), clock.zone_name()), per_view=False)
        return key, shared.cached(key, lambda: shape(snap, client, kinds))

    live.follow(shaped, draw, every=cfg.page_refresh_seconds, principal=principal)


st.title(":material/shield: Data residency")
snap0 = runtime.snapshot()
names = sorted(set(snap0.frames.clients["client"].tolist()) - {""}) if snap0.has_data else []
client, kinds = render_filters(names)
render_data(client, kinds)
