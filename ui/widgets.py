"""Small Streamlit pieces the pages share: query-param-backed filters, status tiles, column configs."""

from __future__ import annotations

from datetime import UTC

import streamlit as st

from ui import clock, tables
from views import status as vstatus


def param(name: str) -> str:
    """One query parameter, cleaned (printable, stripped, bounded); '' when absent."""
    return tables.clean_param(st.query_params.get(name))


def params(name: str) -> list[str]:
    return [tables.clean_param(v) for v in st.query_params.get_all(name)][:20]


def seed(key: str, name: str, *, multi: bool = False, allowed=None) -> None:
    """Seed widget ``key`` from query parameter ``name`` on first use, and again whenever the URL
    changed under it (a shared link or a search result opened in the same session)."""
    url = params(name) if multi else param(name)
    if allowed is not None:
        url = [v for v in url if v in allowed] if multi else (url if url in allowed else "")
    marker = f"_url_{key}"
    if key not in st.session_state or st.session_state.get(marker) != url:
        st.session_state[key] = url
    st.session_state[marker] = url


def sync_param(name: str, value, key: str | None = None) -> None:
    """Write a filter back to the URL so the link can be shared; remove it when empty."""
    if isinstance(value, (list, tuple)):
        value = [str(v) for v in value]
    current = st.query_params.get_all(name) if isinstance(value, list) else st.query_params.get(name)
    if not value:
        if name in st.query_params:
            del st.query_params[name]
    elif current != value:
        st.query_params[name] = value
    if key is not None:
        st.session_state[f"_url_{key}"] = value if value else ([] if isinstance(value, list) else "")


def status_tiles(counts: dict[str, int], total: int) -> None:
    cols = st.columns(len(counts) + 1)
    cols[0].metric("Clients", total, border=True)
    for col, (status, n) in zip(cols[1:], counts.items()):
        icon = vstatus.STATUS_MATERIAL_ICONS.get(status, ":material/help:")
        color = vstatus.STATUS_ST_COLORS.get(status, "gray")
        col.metric(f":{color}[{icon}] {status.capitalize()}", n, border=True)


# Streamlit Material icons for Markdown places (headers, labels); tables use views.status's text marks.
ALLOC_MATERIAL_ICONS = {
    "running": ":green[:material/play_circle:]",
    "pending": ":blue[:material/pending:]",
    "failed": ":red[:material/error:]",
    "lost": ":red[:material/error:]",
    "complete": ":gray[:material/check_circle:]",
}
TASK_STATE_ICONS = {
    "running": ":green[:material/play_circle:]",
    "pending": ":blue[:material/pending:]",
    "dead": ":gray[:material/stop_circle:]",
}
TASK_FAILED_ICON = ":red[:material/error:]"
TASK_OTHER_ICON = ":orange[:material/help:]"


def alloc_icon_md(client_status: str) -> str:
    return ALLOC_MATERIAL_ICONS.get(client_status, ":orange[:material/help:]")


def badge_md(status: str) -> str:
    """Markdown for a coloured status badge, e.g. ':red-badge[:material/error: down]'."""
    color = vstatus.STATUS_ST_COLORS.get(status, "gray")
    icon = vstatus.STATUS_MATERIAL_ICONS.get(status, ":material/help:")
    return f":{color}-badge[{icon} {status}]"


def client_link_column(width: str | int = "medium"):
    return st.column_config.LinkColumn(
        "Client", display_text=r"client=(.*)$", width=width, help="Open the client's page"
    )


LINK_CLIENT = client_link_column()
LINK_ALLOC = st.column_config.LinkColumn(
    "Allocation", display_text=r"alloc=(.{8})", width="small", help="Open the allocation (first 8 characters of its ID)"
)
LINK_NODE = st.column_config.LinkColumn("Node", display_text=r"node=(.*)$", help="Show this node's allocations")


def progress(label: str, width=110, help: str = "running / desired allocations"):
    """A 0-100 bar (tables give ratios x 100; empty when nothing is desired)."""
    return st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%.0f%%", width=width, help=help)


def when(label: str) -> st.column_config.DatetimeColumn:
    return st.column_config.DatetimeColumn(label, format="distance")


def at_time(label: str, width=170, *, seconds: bool = True) -> st.column_config.DatetimeColumn:
    fmt = "YYYY-MM-DD HH:mm:ss" if seconds else "YYYY-MM-DD HH:mm"
    return st.column_config.DatetimeColumn(label, format=fmt, width=width, timezone=clock.zone_name())


# Sized so a client's allocations fit the 978 px a table gets at 1440 px beside the sidebar; with
# ALLOC_ROW_HEIGHT (over 4rem) Streamlit wraps cells, so the last event is read whole.
ALLOC_ROW_HEIGHT = 78
ALLOC_COLS = {
    "allocation": st.column_config.LinkColumn(
        "Allocation", display_text=r"alloc=(.{8})", width=80, help="Open the allocation (first 8 characters of its ID)"
    ),
    "status": st.column_config.TextColumn("Status", width=92),
    "job": st.column_config.TextColumn("Job", width=110),
    "group": st.column_config.TextColumn("Group", width=70),
    "node": st.column_config.TextColumn("Node", width=95),
    "datacenter": None,  # the node says where; the node page lists datacenters
    "version": st.column_config.NumberColumn("Version", format="%d", width=58, help="job version"),
    "restarts": st.column_config.NumberColumn("Restarts", width=62),
    "created": st.column_config.DatetimeColumn("Age", format="distance", width=104),  # "17 minutes ago"
    "last_event": st.column_config.TextColumn("Last event", width=170),
    "last_event_time": st.column_config.DatetimeColumn("Last event at", format="distance", width=104),
}
TABLE_WIDTH = 978  # what a table gets at 1440 px beside the sidebar, its row-selection column included


def alloc_cols_with_client(*hidden: str) -> dict:
    """ALLOC_COLS for tables of many clients' allocations (``alloc_table(with_client=True)``): the
    Client column takes the room of the ``hidden`` ones, so the rows still fit without scrolling."""
    room = sum(ALLOC_COLS[c]["width"] for c in hidden)
    return {**ALLOC_COLS, **dict.fromkeys(hidden), "client": client_link_column(room)}


PICK_ALLOC_COLS = alloc_cols_with_client("group", "version")  # the picker: both are on the allocation's page
NODE_ALLOC_COLS = alloc_cols_with_client("node", "version")  # a node's allocations: its name is the title


def still_signed_in(principal) -> None:
    """First call in every fragment: a fragment rerun (``run_every``) does not run app.py, so the
    login gate is not re-checked there. When the session is past its maximum age or the person
    signed out, forget the principal and rerun the whole app so the gate shows why."""
    from datetime import datetime

    try:
        logged_in = bool(st.user.is_logged_in)
    except Exception:
        logged_in = False
    now = datetime.now(UTC)
    if principal is not None and logged_in and now < principal.session_expires_at and not _signed_out(principal, now):
        return
    st.session_state.pop("principal", None)
    st.rerun(scope="app")


def _signed_out(principal, now) -> bool:
    """The person signed out (in another tab or browser) after this session's sign-in."""
    from auth import signouts

    claims = {"sub": principal.subject, "iat": principal.issued_at.timestamp() if principal.issued_at else None}
    return signouts.refusal(claims, signouts.default_store(), now) is not None


def require_page(name: str):
    """The signed-in person app.py put in the session, if the policy lets them open page ``name``.

    Navigation already lists only allowed pages; this is the page's own check (a hidden page is
    not a guard). Stops the page with a plain message when there is no person or no permission.
    """
    import auth.policy

    principal = st.session_state.get("principal")
    if principal is None:
        st.warning("Sign in first: open the dashboard's home page.")
        st.stop()
    try:
        auth.policy.ensure(principal, f"page:{name}")
    except auth.policy.Forbidden:
        from ui import access, runtime

        st.warning(
            access.message(name, name, principal, runtime.dashboard_config().group_roles), icon=":material/lock:"
        )
        st.stop()
    return principal


def page_allowed(name: str) -> bool:
    """Whether this person's navigation has page ``name`` (app.py stores the allowed names)."""
    return name in st.session_state.get("allowed_pages", ())


def _link_target(value) -> tuple[str, str]:
    """'allocation?alloc=abc&cluster=x' -> ('allocation', 'abc' unquoted): the page and its first parameter."""
    page, params = link_params(value)
    return page, next(iter(params.values()), "")


def link_params(value) -> tuple[str, dict[str, str]]:
    """'allocation?alloc=abc&cluster=x' -> ('allocation', {'alloc': 'abc', 'cluster': 'x'}), unquoted."""
    from urllib.parse import parse_qsl

    page, _, query = str(value).partition("?")
    return page, dict(parse_qsl(query, keep_blank_values=True))


def unlink(df, column_config: dict):
    """Link columns pointing at pages this person may not open become plain text (the value, or the
    8-character short ID for allocations): a link would only lead to 'page not found'."""
    config = dict(column_config)
    out = df
    for col, cfg in column_config.items():
        if col not in df.columns or not isinstance(cfg, dict) or cfg.get("type_config", {}).get("type") != "link":
            continue
        pages = {_link_target(v)[0] for v in df[col].dropna().tolist()}
        if not pages or all(page_allowed(p) for p in pages):
            continue
        short = (lambda v: v[:8]) if col == "allocation" else (lambda v: v)
        out = out.assign(**{col: df[col].map(lambda v, short=short: None if v is None else short(_link_target(v)[1]))})
        config[col] = st.column_config.TextColumn(cfg.get("label"), width=cfg.get("width"), help=None)
    return out, config


def md_link(text: str, url: str, page: str) -> str:
    """Markdown for ``text`` linked to ``url`` when ``page`` is allowed, else the plain (escaped) text."""
    shown = tables.md_text(text)
    return f"[{shown}]({url})" if page_allowed(page) else shown


def linked_table(
    df,
    *,
    key: str,
    link_col: str,
    page: str,
    param: str,
    column_config: dict,
    max_height: int = 460,
    row_height: int | None = None,
    shared_as: tuple | None = None,
):
    """A table whose rows open a page: a link per row (new tab, shareable) and row selection (same tab).

    When this person may not open ``page``, the IDs show as plain text and rows are not selectable.
    ``shared_as``: a key naming ``df`` (snapshot, filters, minute: ui.shared); the plain-text copy
    is then made once per key and view for every session."""
    from pathlib import PurePosixPath

    if shared_as is None:
        df, column_config = unlink(df, column_config)
    else:
        from ui import shared

        df, column_config = shared.cached(
            (*shared_as, "unlink", key, shared.view_key()), lambda: unlink(df, column_config)
        )
    if not page_allowed(PurePosixPath(page).stem):
        st.dataframe(
            df,
            key=key,
            hide_index=True,
            width="stretch",
            column_config=column_config,
            height=min(38 + (row_height or 35) * max(len(df), 1), max_height),
            row_height=row_height,
        )
        return
    event = st.dataframe(
        df,
        key=key,
        hide_index=True,
        width="stretch",
        column_config=column_config,
        on_select="rerun",
        selection_mode="single-row",
        height=min(38 + (row_height or 35) * max(len(df), 1), max_height),
        row_height=row_height,
    )
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(df):
        value = str(df.iloc[rows[0]][link_col])
        _page, wanted = link_params(value)  # with the row's cluster, when it has one
        st.switch_page(page, query_params=wanted if param in wanted else {param: value})


def alloc_linked_table(df, *, key: str, column_config: dict, max_height: int = 460, shared_as: tuple | None = None):
    """A table of allocations (``tables.alloc_table``) whose rows open the allocation page, its
    rows tall enough (ALLOC_ROW_HEIGHT) for the last event to wrap; see ``linked_table``."""
    linked_table(
        df,
        key=key,
        link_col="allocation",
        page="app_pages/allocation.py",
        param="alloc",
        column_config=column_config,
        max_height=max_height,
        row_height=ALLOC_ROW_HEIGHT,
        shared_as=shared_as,
    )
