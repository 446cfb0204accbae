"""Small Streamlit pieces the pages share: query-param-backed filters, status tiles, column configs."""
from __future__ import annotations

import streamlit as st

from ui import tables
from views import status as vstatus


def param(name: str) -> str:
    """One query parameter, cleaned (printable, stripped, bounded); '' when absent."""
    return tables.clean_param(st.query_params.get(name))


def params(name: str) -> list[str]:
    return [tables.clean_param(v) for v in st.query_params.get_all(name)][:20]


def init_state(key: str, value) -> None:
    """Seed a widget's state from the URL once (the widget then owns it while the page is open)."""
    if key not in st.session_state:
        st.session_state[key] = value


def sync_param(name: str, value) -> None:
    """Write a filter back to the URL so the link can be shared; remove it when empty."""
    if isinstance(value, (list, tuple)):
        value = [str(v) for v in value]
    current = st.query_params.get_all(name) if isinstance(value, list) else st.query_params.get(name)
    if not value:
        if name in st.query_params:
            del st.query_params[name]
    elif current != value:
        st.query_params[name] = value


def status_tiles(counts: dict[str, int], total: int) -> None:
    cols = st.columns(len(counts) + 1)
    cols[0].metric("Clients", total, border=True)
    for col, (status, n) in zip(cols[1:], counts.items()):
        col.metric(f"{vstatus.icon(status)} {status.capitalize()}", n, border=True)


def status_badge(status: str) -> None:
    st.badge(status, icon=vstatus.STATUS_MATERIAL_ICONS.get(status), color=vstatus.STATUS_ST_COLORS.get(status, "gray"))


LINK_CLIENT = st.column_config.LinkColumn("Client", display_text=r"client=(.*)$", width="medium",
                                          help="Open the client's page")
LINK_ALLOC = st.column_config.LinkColumn("Allocation", display_text=r"alloc=(.{8})", width="small",
                                         help="Open the allocation (first 8 characters of its ID)")
LINK_NODE = st.column_config.LinkColumn("Node", display_text=r"node=(.*)$", help="Show this node's allocations")


def when(label: str) -> st.column_config.DatetimeColumn:
    return st.column_config.DatetimeColumn(label, format="distance")
