"""The structs checker (tests/structs_check.py) catches each kind of unfaithful body.

Bodies here are built by hand from the key lists in ../shared/reference/structs/, so a checker
that let any of these through would let the same mistake in the sandbox through too.
"""

from __future__ import annotations

import json

import pytest
from structs_check import Reference, check_endpoint, check_item, drop_allowed, skeleton


@pytest.fixture(scope="module")
def nomad(reference_dir):
    return Reference(json.loads((reference_dir / "structs" / "nomad.json").read_text()))


@pytest.fixture(scope="module")
def consul(reference_dir):
    return Reference(json.loads((reference_dir / "structs" / "consul.json").read_text()))


def faithful(ref: Reference, type_name: str) -> dict:
    return skeleton(ref, type_name)


def messages(problems):
    return [str(p) for p in problems]


def test_a_faithful_item_passes(nomad, consul):
    assert check_item(nomad, faithful(nomad, "JobListStub"), "JobListStub") == []
    assert check_item(nomad, faithful(nomad, "TaskState"), "TaskState") == []
    assert check_item(consul, faithful(consul, "ServiceNode"), "ServiceNode") == []


def test_a_missing_key_is_caught(nomad):
    stub = faithful(nomad, "JobListStub")
    del stub["SubmitTime"]
    assert messages(check_item(nomad, stub, "JobListStub")) == [".SubmitTime: missing"]


def test_an_extra_key_is_caught(nomad):
    stub = dict(faithful(nomad, "JobListStub"), Version=3)
    assert messages(check_item(nomad, stub, "JobListStub")) == [".Version: extra key (not in JobListStub)"]


def test_a_wrong_kind_is_caught(nomad):
    stub = dict(faithful(nomad, "JobListStub"), Priority="50")
    assert messages(check_item(nomad, stub, "JobListStub")) == [".Priority: expected number, got string ('50')"]


def test_a_null_where_go_cannot_be_nil_is_caught(nomad):
    """A zero time.Time is "0001-01-01T00:00:00Z" in Nomad's codec, never null."""
    ts = dict(faithful(nomad, "TaskState"), FinishedAt=None)
    assert messages(check_item(nomad, ts, "TaskState")) == [".FinishedAt: null, but time.Time is never nil"]


def test_a_zero_value_for_an_omitempty_key_is_caught(nomad):
    """Allocation has `_struct` omitempty: a zero field must be left out, not sent."""
    problems = check_item(nomad, {"ID": "x", "PreviousAllocation": ""}, "Allocation")
    assert messages(problems) == [".PreviousAllocation: zero value '' sent, the encoder leaves it out"]


def test_nested_objects_arrays_and_map_values_are_checked(nomad):
    ts = faithful(nomad, "TaskState")
    event = dict(faithful(nomad, "TaskEvent"), Extra=1)
    ts["Events"] = [event]
    stub = dict(faithful(nomad, "AllocListStub"), TaskStates={"web": ts})
    assert messages(check_item(nomad, stub, "AllocListStub")) == [
        ".TaskStates[web].Events[0].Extra: extra key (not in TaskEvent)"
    ]


def test_flag_variants_are_checked(nomad):
    stub = dict(faithful(nomad, "JobListStub"), Meta={"a": "b"})
    assert messages(check_endpoint(nomad, "GET /v1/jobs", [stub])) == [
        "[0].Meta: expected null without the flag, got {'a': 'b'}"
    ]
    assert check_endpoint(nomad, "GET /v1/jobs", [stub], ("meta=true",)) == []
    node = faithful(nomad, "NodeListStub")
    node["Attributes"] = {"os.name": "ubuntu", "kernel.name": "linux"}
    assert messages(check_endpoint(nomad, "GET /v1/nodes", [node], ("os=true",))) == [
        "[0].Attributes: expected exactly keys ['os.name'], got {'os.name': 'ubuntu', 'kernel.name': 'linux'}"
    ]


def test_consul_lowercase_service_address_keys_are_caught(consul):
    entry = faithful(consul, "ServiceNode")
    entry["ServiceTaggedAddresses"] = {"lan": {"address": "10.0.0.1", "port": 80}}
    assert sorted(messages(check_item(consul, entry, "ServiceNode"))) == [
        ".ServiceTaggedAddresses[lan].Address: missing",
        ".ServiceTaggedAddresses[lan].Port: missing",
        ".ServiceTaggedAddresses[lan].address: extra key (not in ServiceAddress)",
        ".ServiceTaggedAddresses[lan].port: extra key (not in ServiceAddress)",
    ]


def test_consul_nonnull_lists_and_allowed_differences(consul):
    entry = faithful(consul, "ServiceNode")
    problems = check_endpoint(consul, "GET /v1/catalog/service/:service", [entry])
    assert messages(problems) == ["[0].ServiceTags: null, the handler sends [] or {} instead"]
    assert drop_allowed(problems, {("ServiceNode", "ServiceTags"): "reason"}) == []
