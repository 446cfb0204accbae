"""Versions: which version each client runs per service, who lags, who runs two at once; filters in the URL."""

from __future__ import annotations

import streamlit as st

from ui import clock, export, fleet, fleet_tables, live, runtime, shared, tables, widgets

P = "versions"
cfg = runtime.dashboard_config()
principal = widgets.require_page("versions")
SHOW_LABELS = {
    "all": "All",
    "behind": f"{fleet_tables.BEHIND_MARK} Behind",
    "mixed": f"{fleet_tables.MIXED_MARK} Two versions",
}


def render_filters(services: list[str], clients: list[str]) -> tuple[list[str], str, str]:
    widgets.seed(f"{P}_service", "service", multi=True)
    widgets.seed(f"{P}_client", "client")
    widgets.seed(f"{P}_show", "show", allowed=fleet_tables.SHOW)
    # A value from a shared link that the cluster no longer has still shows (and matches nothing).
    services = sorted(set(services) | set(st.session_state[f"{P}_service"]))
    if st.session_state[f"{P}_client"] and st.session_state[f"{P}_client"] not in clients:
        clients = clients + [st.session_state[f"{P}_client"]]
    if not st.session_state[f"{P}_show"]:
        st.session_state[f"{P}_show"] = "all"
    c1, c2, c3 = st.columns([2, 2, 2], vertical_alignment="bottom")
    chosen = c1.multiselect("Service", services, key=f"{P}_service", placeholder="All services")
    client = c2.selectbox("Client", [""] + clients, key=f"{P}_client", format_func=lambda c: c or "All clients")
    show = c3.segmented_control(
        "Show", list(fleet_tables.SHOW), key=f"{P}_show", format_func=SHOW_LABELS.get, selection_mode="single"
    )
    show = show or "all"
    widgets.sync_param("service", list(chosen), key=f"{P}_service")
    widgets.sync_param("client", client, key=f"{P}_client")
    widgets.sync_param("show", "" if show == "all" else show, key=f"{P}_show")
    return list(chosen), client, show


COUNT_COLS = {
    "service": "Service",
    "version": "Version",
    "newest": st.column_config.CheckboxColumn("Newest", help="The newest version of this service in the fleet"),
    "clients": st.column_config.NumberColumn("Clients"),
    "instances": st.column_config.NumberColumn("Instances", help="running allocations (or service instances)"),
}
MIXED_COLS = {
    "client": widgets.LINK_CLIENT,
    "service": "Service",
    "versions": "Versions",
    "instances": st.column_config.NumberColumn("Instances"),
    "since": widgets.at_time("Two versions since"),
    "for": widgets.when("For"),
}


def shape(snap, services: list[str], client: str, show: str) -> dict:
    """The tiles, tables and CSV, once per snapshot, filters and minute for every session (ui.shared)."""
    vt = fleet.version_tables(snap)
    m = vt.matrix
    shown = fleet_tables.filter_matrix(m, services=services, client=client, show=show)
    grid, headers = fleet_tables.matrix_table(shown)
    return {
        "services": int(m["service"].nunique()) if len(m) else 0,
        "clients": int(m["client"].nunique()) if len(m) else 0,
        "behind": int(m["behind"].sum()),
        "mixed_pairs": int(m["mixed"].sum()),
        "pairs": len(shown),
        "grid": grid,
        "headers": headers,
        "csv": export.csv_bytes(fleet_tables.matrix_export(shown)),
        "specs_missing": vt.specs_missing,
        "mixed": fleet_tables.mixed_table(shown),
        "counts": fleet_tables.counts_table(vt.counts, services=services),
    }


def draw(snap, key, v) -> None:
    c = st.columns(4)
    c[0].metric("Services", v["services"], border=True)
    c[1].metric("Clients", v["clients"], border=True)
    c[2].metric(
        f"{fleet_tables.BEHIND_MARK} Behind the newest", v["behind"], border=True, help="client × service pairs"
    )
    c[3].metric(
        f"{fleet_tables.MIXED_MARK} Two versions at once", v["mixed_pairs"], border=True, help="client × service pairs"
    )

    st.subheader("Client × service")
    grid = v["grid"]
    grid_cols = {
        key: st.column_config.TextColumn(
            svc, help=f"newest in the fleet: {newest}" if newest else "versions not comparable"
        )
        for key, (svc, newest) in v["headers"].items()
    }
    grid_cols.update({"client": widgets.LINK_CLIENT, "cluster": st.column_config.TextColumn("Cluster", width="small")})
    st.caption(
        f"{len(grid)} clients, {v['pairs']} client × service pairs. {fleet_tables.BEHIND_MARK} behind the newest "
        f"version in the fleet · {fleet_tables.MIXED_MARK} two versions running at once · – not running. "
        f"Versions read from: {', '.join(cfg.version_sources)}."
    )
    widgets.linked_table(
        grid,
        key=f"{P}_grid",
        link_col="client",
        page="app_pages/client.py",
        param="client",
        column_config=grid_cols,
        max_height=560,
        shared_as=key,
    )
    st.download_button(
        "Download CSV",
        v["csv"],
        file_name=f"versions-{snap.cluster}.csv",
        mime="text/csv",
        key=f"{P}_csv",
        icon=":material/download:",
    )
    if v["specs_missing"]:
        st.caption(f"{v['specs_missing']} job specs could not be read for image tags; their versions show as unknown.")

    mixed = v["mixed"]
    st.subheader(f"Two versions at once ({len(mixed)})")
    if len(mixed):
        mixed, mixed_cols = shared.cached(
            (*key, "mixed", shared.view_key()), lambda: widgets.unlink(v["mixed"], MIXED_COLS)
        )
        st.dataframe(mixed, hide_index=True, width="stretch", column_config=mixed_cols)
    else:
        st.caption("No client runs two versions of a service at once.")

    st.subheader("Versions across the fleet")
    st.dataframe(v["counts"], hide_index=True, width="stretch", column_config=COUNT_COLS)


def render_data(services: list[str], client: str, show: str) -> None:
    def shaped(snap):
        key = shared.page_key(P, snap, (tuple(services), client, show, clock.zone_name()), per_view=False)
        return key, shared.cached(key, lambda: shape(snap, services, client, show))

    live.follow(shaped, draw, every=cfg.page_refresh_seconds, principal=principal, browser_ages=True)


st.title(":material/sell: Versions")
snap0 = runtime.snapshot()
m0 = fleet.version_tables(snap0).matrix if snap0.has_data else None
service_names = sorted(set(m0["service"].tolist())) if m0 is not None and len(m0) else []
client_names = sorted(set(m0["client"].tolist())) if m0 is not None and len(m0) else []
picked, client, show = render_filters(service_names, client_names)
if client and client not in client_names:
    st.caption(f"No versions known for client {tables.md_code(client, 80)}.")
render_data(picked, client, show)
