"""What a person sees when a link points at a page their role cannot open, and who can open it.

A page outside the person's role is registered with ``st.navigation`` as a hidden stand-in
(``stand_in``) under the same URL: the link says "You do not have access to this page" and whom
to ask, instead of Streamlit's "Page not found"; the page's own code never runs for them.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from auth import policy
from ui.tables import md_code, md_text

HIDDEN_ICON = ":material/lock:"  # the icon of every hidden stand-in (tests tell them from listed pages by it)


def roles_that_open(page: str) -> list[str]:
    return [role for role, actions in policy.ROLE_ACTIONS.items() if f"page:{page}" in actions]


def groups_that_open(page: str, group_roles: Mapping[str, tuple[str, ...]]) -> list[str]:
    roles = set(roles_that_open(page))
    return [group for group, granted in group_roles.items() if roles & set(granted)]


def message(page: str, title: str, principal, group_roles: Mapping[str, tuple[str, ...]]) -> str:
    """Markdown: who may open the page, and the group to ask for."""
    held = ", ".join(sorted(principal.roles)) or "no role"
    roles = ", ".join(roles_that_open(page)) or "no role"
    groups = groups_that_open(page, group_roles)
    ask = (
        f"Ask your administrator to add you to group {md_code(groups[0], 80)}"
        + (f" (or one of {', '.join(md_code(g, 80) for g in groups[1:])})" if len(groups) > 1 else "")
        if groups
        else "Ask your administrator for one of those roles"
    )
    return (
        f"**You do not have access to this page** ({md_text(title)}): it is for the {md_text(roles)} "
        f"role(s), and you have {md_text(held)}. {ask}."
    )


def stand_in(page: str, title: str, principal, group_roles):
    """A page function for ``page`` that only says why it is closed to this person."""

    def render() -> None:
        st.title(title)
        st.warning(message(page, title, principal, group_roles), icon=":material/lock:")
        st.page_link("app_pages/health.py", label="Back to client health", icon=":material/arrow_back:")

    render.__name__ = f"no_access_{page}"
    return render
