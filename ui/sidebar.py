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


def render(principal, *, pages: dict, allowed) -> None:
    """Search box + results, then the identity line. ``pages`` maps page name -> st.Page."""
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
            matches = [m for m in search(snap.frames, query) if m.page in allowed and m.page in pages]
            target = destination(matches) if go else None
            if target is not None:
                st.switch_page(pages[target.page], query_params=target.params)
            if not matches:
                st.caption(f"Nothing matches “{md_text(query.strip()[:60])}”.")
            else:
                st.caption(f"{len(matches)} match{'es' if len(matches) != 1 else ''}:")
                for m in matches:
                    st.page_link(
                        pages[m.page],
                        label=link_label(m),
                        query_params=m.params,
                        icon=_ICONS.get(m.kind),
                        help=md_text(m.detail),
                    )
        st.divider()
    login.render_identity(principal)


def link_label(match: Match) -> str:
    """A result's link text: names come from the cluster, so Markdown in them is shown literally."""
    return md_text(match.label)


_ICONS = {
    "allocation": ":material/deployed_code:",
    "client": ":material/apartment:",
    "job": ":material/work:",
    "node": ":material/dns:",
}
