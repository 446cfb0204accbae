"""Nodes (read-only): status, eligibility, drain, datacenter, pool, allocations; ?node=<id or name> for one node."""

from __future__ import annotations

import streamlit as st

from ui import live, runtime, shared, tables, widgets

P = "nodes"
cfg = runtime.dashboard_config()
principal = widgets.require_page("nodes")

NODE_COLS = {
    "node": widgets.LINK_NODE,
    "status": "Status",
    "eligibility": "Eligibility",
    "drain": st.column_config.CheckboxColumn("Draining"),
    "datacenter": "Datacenter",
    "node_pool": "Node pool",
    "allocs_running": st.column_config.NumberColumn("Allocs running"),
    "allocs_total": st.column_config.NumberColumn("Allocs total"),
    "version": "Nomad version",
    "node_id": "ID",
}


def render_node(node: dict, table, key: tuple) -> None:
    md = tables.md_text
    st.title(f":material/dns: {md(node['name'])}")
    st.markdown(
        f"{md(tables.node_badge(node['status']))} · **{md(node['eligibility'])}**"
        + (" · **draining**" if node["drain"] else "")
        + f" · {md(node['datacenter'])} · pool {tables.md_code(node['node_pool'], 120)} · Nomad {md(node['version'])}"
        + f" · {md(node['address'])} · ID {tables.md_code(node['node_id'], 40)}"
    )
    st.page_link("app_pages/nodes.py", label="All nodes", icon=":material/arrow_back:")
    st.subheader(f"Allocations on this node ({len(table)})")
    widgets.alloc_linked_table(
        table, key=f"{P}_allocs", column_config=widgets.NODE_ALLOC_COLS, max_height=720, shared_as=key
    )


def _shape(nodes, datacenter: str):
    """The nodes shown and their table, once per snapshot, filter and minute for every session (ui.shared)."""
    shown = nodes[nodes["datacenter"] == datacenter] if datacenter else nodes
    return shown, tables.node_table(shown)


def shape_one(snap, value: str) -> dict:
    """What ``?node=value`` shows of ``snap``, once per snapshot for every session (ui.shared): the
    node and its allocations' table, or why the value finds no node."""
    node, problem = tables.resolve_node(snap.frames.nodes, value)
    if node is None:
        return {"problem": problem}
    return {"node": node, "allocs": tables.node_allocations(snap.frames.allocations, node["node_id"])}


def render_one(value: str) -> None:
    """One node follows the snapshot (``ui.live``): the freshness line moves every refresh; the
    header and the allocations' table are drawn again only when the node's row or its allocations
    change, or each minute for the table's browser-worded ages."""

    def shaped(snap):
        key = shared.page_key(P, snap, ("node", value), per_view=False, bucket=0)
        return key, shared.cached(key, lambda: shape_one(snap, value))

    live.follow(shaped, draw_one, every=cfg.page_refresh_seconds, principal=principal, browser_ages=True)


def draw_one(snap, key, shown: dict) -> None:
    if "problem" in shown:
        st.title(":material/dns: Nodes")
        st.error(shown["problem"])
        st.page_link("app_pages/nodes.py", label="All nodes", icon=":material/arrow_back:")
        return
    render_node(shown["node"], shown["allocs"], key)


def render_all(datacenter: str) -> None:
    def shaped(snap):
        key = shared.page_key(P, snap, (datacenter,), per_view=False)
        return key, shared.cached(key, lambda: _shape(snap.frames.nodes, datacenter))

    live.follow(shaped, draw_all, every=cfg.page_refresh_seconds, principal=principal)


def draw_all(snap, key, shaped) -> None:
    shown, table = shaped
    c = st.columns(4)
    c[0].metric("Nodes", len(shown), border=True)
    c[1].metric(":material/check_circle: Ready", int((shown["status"] == "ready").sum()), border=True)
    c[2].metric(":material/error: Not ready", int((shown["status"] != "ready").sum()), border=True)
    c[3].metric(
        "Draining or ineligible", int((shown["drain"] | (shown["eligibility"] != "eligible")).sum()), border=True
    )
    widgets.linked_table(
        table,
        shared_as=key,
        key=f"{P}_table",
        link_col="node",
        page="app_pages/nodes.py",
        param="node",
        column_config=NODE_COLS,
        max_height=720,
    )


node_value = widgets.param("node")
if not node_value:
    st.title(":material/dns: Nodes")
    snap0 = runtime.snapshot()
    dcs = sorted(set(snap0.frames.nodes["datacenter"].tolist()))
    widgets.seed(f"{P}_dc", "dc", allowed=[""] + dcs)
    dc = st.columns([1, 2])[0].selectbox(
        "Datacenter", [""] + dcs, key=f"{P}_dc", format_func=lambda d: d or "All datacenters"
    )
    widgets.sync_param("dc", dc, key=f"{P}_dc")
    render_all(dc)
else:
    render_one(node_value)
