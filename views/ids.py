"""What a Nomad ID looks like: the full UUID and its 8-character short form (pure, no I/O).

The one copy views/ and ui/ use (allocation lookup in ui.tables, global search in views.search).
``connectors.paths`` keeps its own ``UUID_RE`` for input validation before a request: connectors must
not import views (data flows connectors -> snapshot -> views), and views must not import connectors
(tests/unit/test_architecture.py), so the pattern is written twice on purpose and the architecture
test checks that it is written nowhere else.
"""

from __future__ import annotations

import re

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SHORT_ID_RE = re.compile(r"^[0-9a-f]{8}$")
SHORT_ID_LEN = 8


def is_uuid(value: object) -> bool:
    """A full Nomad UUID (lower-case hex, as Nomad writes them; surrounding blanks ignored)."""
    return isinstance(value, str) and UUID_RE.match(value.strip()) is not None


def is_short_id(value: object) -> bool:
    """The 8-character short form Nomad's CLI shows (e.g. ``5b1f2c3d``)."""
    return isinstance(value, str) and SHORT_ID_RE.match(value.strip()) is not None
