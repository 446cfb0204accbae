"""views.ids: the one views/ui copy of 'what a Nomad ID looks like'."""

import pytest

from views import ids

FULL = "5456bd7a-9fc0-c0dd-6131-cbee77f57577"


@pytest.mark.parametrize(
    "value,uuid,short",
    [
        (FULL, True, False),
        (f"  {FULL} ", True, False),
        (FULL[:8], False, True),
        (FULL.upper(), False, False),  # Nomad writes IDs lower-case; callers lower-case people's input
        (FULL[:13], False, False),
        ("", False, False),
        (None, False, False),
        (123, False, False),
        ("<script>alert(1)</script>", False, False),
    ],
)
def test_is_uuid_and_short_id(value, uuid, short):
    assert ids.is_uuid(value) is uuid
    assert ids.is_short_id(value) is short


def test_views_and_connectors_agree_on_full_ids():
    from connectors import paths

    assert ids.UUID_RE.pattern == paths.UUID_RE.pattern
