"""Sign-in and role-based access.

``auth.gate(config, demo=...)`` (Streamlit) returns the signed-in ``Principal``
or stops the run with the right page; ``auth.policy`` says what a principal
may do (``can``, ``ensure``, ``pages_for``); ``auth.nomad_identity`` trades the
person's ID token for a Nomad ACL token. ``auth.roles``, ``auth.policy``,
``auth.principal`` and ``auth.nomad_identity`` import no Streamlit.
"""

from __future__ import annotations

from typing import Any

from auth.policy import Forbidden, can, ensure, pages_for
from auth.principal import Principal, principal_from_claims

__all__ = ["Forbidden", "Principal", "can", "ensure", "gate", "pages_for", "principal_from_claims", "render_identity"]


def __getattr__(name: str) -> Any:
    # Streamlit is imported only by the callers that render.
    if name in ("gate", "render_identity"):
        from auth import ui

        return getattr(ui, name)
    raise AttributeError(f"module 'auth' has no attribute {name!r}")
