"""The sidebar on every page: global search (straight to the page, or a list of matches) and who is signed in."""

from __future__ import annotations

import streamlit as st

from ui import login, runtime
from ui.tables import md_text
from views.search import Match, destination, search

KEY = "sidebar_search"
_GO = "_sidebar_search_go"


def _submitted() -> None:
    st.session_state[_GO] = True


PICKER = "cluster_picker"
ALL_CLUSTERS = "All clusters"


def cluster_picker() -> None:
    """The cluster filter, bound to ?cluster=: "All clusters" or one name (shown with two or more
    clusters configured). A name in the URL that is not configured is said in words above the page,
    which then shows every cluster."""
    from ui import widgets

    names = runtime.cluster_names()
    wanted = runtime.selected_cluster()
    if wanted and wanted not in names:
        st.warning(
            md_text(runtime.unknown_cluster_words(wanted) + " Showing every cluster."),
            icon=":material/travel_explore:",
        )
    if len(names) < 2:
        return
    widgets.seed(PICKER, "cluster", allowed=set(names))
    with st.sidebar:
        choice = st.selectbox(
            "Cluster",
            [""] + names,
            key=PICKER,
            format_func=lambda v: v or ALL_CLUSTERS,
            help="Show one cluster only, or every cluster together (a client in several appears once).",
        )
    if (choice or "") != (wanted if wanted in names else ""):
        # before the page runs, so this very run already shows the chosen cluster
        widgets.sync_param("cluster", choice or "", key=PICKER)


def render(principal, *, pages: dict, allowed) -> None:
    """Cluster picker, search box + results, then the identity line. ``pages`` maps page name -> st.Page."""
    cluster_picker()
    with st.sidebar:
        query = st.text_input(
            "Search",
            key=KEY,
            on_change=_submitted,
            placeholder="alloc ID, job, client, node",
            help="An allocation ID or its first 8 characters, a job ID, a client name, or a node name or ID.",
        )
        go = st.session_state.pop(_GO, False)
        if query and query.strip():
            snap = runtime.snapshot()
            found = search(snap.frames, query)
            matches = [m for m in found if m.page in allowed and m.page in pages]
            target = destination(matches) if go else None
            if target is not None:
                st.switch_page(pages[target.page], query_params=target.params)
            closed = [m for m in found if m not in matches]
            if closed:
                st.caption(closed_words(closed, principal))
            if not matches and not closed:
                st.caption(f"Nothing matches “{md_text(query.strip()[:60])}”.")
            else:
                st.caption(f"{len(matches)} match{'es' if len(matches) != 1 else ''}:")
                labels = link_labels(matches)
                for m, label in zip(matches, labels):
                    st.page_link(
                        pages[m.page],
                        label=label,
                        query_params=m.params,
                        icon=_ICONS.get(m.kind),
                        help=md_text(m.detail),
                    )
        st.divider()
    login.render_identity(principal)


MAX_LABEL = 30  # characters the sidebar shows before it cuts a link text with "..."


def _fit(text: str, limit: int = MAX_LABEL) -> str:
    """Long names lose their middle, not their end: periodic and dispatched job IDs differ only
    at the end ("reports/periodic-1764547200"), so cutting the end made results look identical."""
    return text if len(text) <= limit else text[: limit // 3] + "…" + text[-(limit - limit // 3 - 1) :]


def link_label(match: Match) -> str:
    """A result's link text: names come from the cluster, so Markdown in them is shown literally."""
    return md_text(_fit(match.label))


def link_labels(matches: list[Match]) -> list[str]:
    """Link texts for a result list; two that would still read the same get their kind and ID."""
    labels = [link_label(m) for m in matches]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [
        (
            md_text(_fit(f"{m.label} · {m.params['cluster']}", MAX_LABEL + 14))
            if "cluster" in m.params  # the same allocation ID or job in two clusters
            else md_text(_fit(f"{m.id[-12:]} · {m.label}", MAX_LABEL + 14))
        )
        if seen[label] > 1
        else label
        for m, label in zip(matches, labels)
    ]


def closed_words(closed: list[Match], principal) -> str:
    """Matches on pages this role cannot open: say they exist instead of "Nothing matches"."""
    kinds: dict[str, int] = {}
    for m in closed:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in kinds.items()]
    roles = ", ".join(sorted(principal.roles)) or "no role"
    return f"Also {', '.join(parts)} matching, which your role ({md_text(roles)}) cannot open."


_ICONS = {
    "allocation": ":material/deployed_code:",
    "client": ":material/apartment:",
    "job": ":material/work:",
    "node": ":material/dns:",
}
