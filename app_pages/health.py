"""Client health (support home): every client, worst first, with why; filters live in the URL."""

from __future__ import annotations

import streamlit as st

from ui import fleet, live, runtime, shared, tables, widgets
from views import status as vstatus

P = "health"  # widget key prefix
cfg = runtime.dashboard_config()
principal = widgets.require_page("health")


def render_filters(datacenters: list[str]) -> tuple[list[str], str, str]:
    widgets.seed(f"{P}_status", "status", multi=True, allowed=vstatus.STATUS_ORDER)
    widgets.seed(f"{P}_dc", "dc")
    widgets.seed(f"{P}_q", "q")
    if st.session_state[f"{P}_dc"] and st.session_state[f"{P}_dc"] not in datacenters:
        datacenters = datacenters + [st.session_state[f"{P}_dc"]]
    c1, c2, c3 = st.columns([2, 1, 2])
    statuses = c1.multiselect(
        "Status", vstatus.STATUS_ORDER, key=f"{P}_status", format_func=vstatus.badge, placeholder="All statuses"
    )
    dc = c2.selectbox("Datacenter", [""] + datacenters, key=f"{P}_dc", format_func=lambda d: d or "All datacenters")
    text = c3.text_input("Search clients", key=f"{P}_q", placeholder="name, reason, version…")
    widgets.sync_param("status", list(statuses), key=f"{P}_status")
    widgets.sync_param("dc", dc, key=f"{P}_dc")
    widgets.sync_param("q", text.strip(), key=f"{P}_q")
    return list(statuses), dc, text


# Widths add up to the table's width at 1440 px beside the sidebar (978 px); rows are tall enough
# (over 4rem) for Streamlit to wrap cells, so the reason, datacenters and versions are not cut.
ROW_HEIGHT = 78
COLUMNS = {
    "client": st.column_config.LinkColumn(
        "Client", display_text=r"client=(.*)$", width=135, pinned=True, help="Open the client's page"
    ),
    "status": st.column_config.TextColumn("Status", width=92),
    "residency": st.column_config.TextColumn("Residency", width=78, help="placements outside the residency policy"),
    "reason": st.column_config.TextColumn("Reason", width=222),
    "running": st.column_config.TextColumn("Running", width=62, help="running / desired allocations"),
    "running_ratio": None,  # the "4 / 5" beside it says the same in less room
    "restarts_24h": st.column_config.NumberColumn("Restarts", width=62, help="restarts in the last 24 hours"),
    "deployment_result": None,  # shown with its time in "Last deployment"
    "last_deployment": None,
    "deployed": st.column_config.TextColumn("Last deployment", width=112, help="result and how long ago"),
    "datacenters": st.column_config.TextColumn("Datacenters", width=84),
    "versions": st.column_config.TextColumn("Versions", width=96),
}


def shape(snap, statuses: list[str], dc: str, text: str) -> tuple[dict, int, int, object]:
    """What the page shows, shaped once per snapshot, filters and minute for every session (ui.shared)."""
    clients = fleet.flagged_clients(snap)
    shown = tables.filter_clients(clients, statuses=statuses, datacenter=dc, text=text)
    rows = tables.health_table(shown)
    rows = rows.assign(deployed=tables.deployed_words(rows["deployment_result"], rows["last_deployment"]))
    return tables.status_counts(clients), len(clients), len(shown), rows


def draw(snap, key, shaped) -> None:
    counts, total, n_shown, rows = shaped
    widgets.status_tiles(counts, total)
    st.caption(
        f"{n_shown} of {total} clients, worst first. "
        + (
            "Select a row (or click the name) to open the client."
            if widgets.page_allowed("client")
            else "Your role cannot open client pages."
        )
    )
    widgets.linked_table(
        rows,
        key=f"{P}_table",
        link_col="client",
        page="app_pages/client.py",
        param="client",
        column_config=COLUMNS,
        max_height=720,
        row_height=ROW_HEIGHT,
        shared_as=key,
    )


def render_data(statuses: list[str], dc: str, text: str) -> None:
    def shaped(snap):
        key = shared.page_key(P, snap, (tuple(statuses), dc, text), per_view=False)
        return key, shared.cached(key, lambda: shape(snap, statuses, dc, text))

    live.follow(shaped, draw, every=cfg.page_refresh_seconds, principal=principal)


st.title(":material/monitor_heart: Client health")
snap0 = runtime.snapshot()
statuses, dc, text = render_filters(tables.datacenters_of(snap0.frames.clients))
render_data(statuses, dc, text)
