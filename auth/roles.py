"""Groups from the ID token's claims, and the dashboard roles they map to.

Pure functions (no Streamlit): the groups claim is read exactly as the identity
provider sent it, and mapped through ``DashboardConfig.group_roles``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from config import ROLES  # the one list of dashboard roles

_SEPARATORS = re.compile(r"[\s,]+")


def parse_groups(claims: Mapping[str, Any], claim: str = "groups") -> tuple[str, ...]:
    """The person's groups from ``claims[claim]``.

    Accepts a JSON list of strings, or one string separated by spaces and/or
    commas (some providers flatten the list). Order is kept, duplicates and
    blanks are dropped. A missing or unusable claim means no groups.
    """
    value = claims.get(claim)
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = _SEPARATORS.split(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return ()
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            text = str(item).strip()
            if text:
                seen.setdefault(text, None)
    return tuple(seen)


def roles_for(groups: Iterable[str], group_roles: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The union of the roles that ``group_roles`` gives to each of ``groups``.

    Group names match exactly (identity providers treat them as opaque strings;
    Microsoft Entra sends object IDs unless configured otherwise).
    """
    roles: set[str] = set()
    for group in groups:
        roles.update(group_roles.get(group, ()))
    return frozenset(role for role in roles if role in ROLES)


def groups_granting_access(group_roles: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """The configured groups that give at least one role, for the no-access page."""
    return tuple(group for group, roles in group_roles.items() if any(r in ROLES for r in roles))
