"""Path inputs are validated before any HTTP and escaped otherwise."""

import pytest

from connectors import InvalidInput, NotFound, paths

UUID = "5456bd7a-9fc0-c0dd-6131-cbee77f57577"

HOSTILE = [
    "../etc/passwd",
    "..",
    "a/../b",
    "a%2Fb",
    "a%2fb",
    "%2E%2E",
    "a\\..\\b",
    "x\ny",
    "x\x00",
    "x\u202e",
    "a" * 129,
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_rejected(value):
    with pytest.raises(InvalidInput) as info:
        paths.segment(value, "job ID")
    err = info.value
    assert isinstance(err, NotFound) and isinstance(err, ValueError)
    assert err.source == "Nomad" and "job ID" in str(err)


@pytest.mark.parametrize(
    "value,escaped",
    [
        ("web", "web"),
        ("batch/dispatch-1", "batch%2Fdispatch-1"),
        ("a b?c#d", "a%20b%3Fc%23d"),
        ("café", "caf%C3%A9"),
        ("100%", "100%25"),
    ],
)
def test_other_names_escaped_as_one_segment(value, escaped):
    assert paths.segment(value, "job ID") == escaped


@pytest.mark.parametrize("value", ["5456bd7a", UUID[:-1], UUID + "x", "../" + UUID, 123, None])
def test_alloc_ids_must_be_full_uuids(value):
    with pytest.raises(InvalidInput, match="allocation ID"):
        paths.alloc_id(value)


def test_alloc_id_normalised():
    assert paths.alloc_id(UUID.upper()) == UUID


def test_uuid_helpers_are_public_for_other_modules():
    assert "UUID_RE" in paths.__all__ and "is_uuid" in paths.__all__
    assert paths.is_uuid("5456bd7a-9fc0-c0dd-6131-cbee77f57577")
    assert paths.is_uuid(" 5456BD7A-9FC0-C0DD-6131-CBEE77F57577 ")
    for value in ("5456bd7a", "5456bd7a-9fc0-c0dd-6131-cbee77f5757", "", None, 42, "../etc"):
        assert not paths.is_uuid(value)
