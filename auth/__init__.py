"""Sign-in and role-based access, without Streamlit.

``auth.policy`` says what a principal may do (``can``, ``ensure``, ``pages_for``);
``auth.principal`` builds the ``Principal`` from ID-token claims; ``auth.signouts`` remembers
sign-outs so an identity cookie saved before one is refused; ``auth.nomad_identity`` trades the
person's ID token for a Nomad ACL token. The login gate that renders pages is ``ui.login``
(``ui`` imports ``auth``; ``auth`` never imports ``ui``).
"""

from __future__ import annotations

from auth.policy import Forbidden, can, ensure, pages_for
from auth.principal import Principal, principal_from_claims

__all__ = ["Forbidden", "Principal", "can", "ensure", "pages_for", "principal_from_claims"]
