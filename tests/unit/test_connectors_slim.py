"""connectors.slim: the chunked list parser and the per-element slimmers (no HTTP)."""

import io
import json

import pytest

from common.fields import DEPLOYMENT_FIELDS, DEPLOYMENT_GROUP_FIELDS, event_row, event_rows
from connectors.slim import EVENT_FIELDS, parse_list, slim_allocation, slim_catalog_entry, slim_check, slim_deployment


def _reader(body: bytes):
    return io.BytesIO(body).read


DOCS = [
    [],
    [1, 2.5, -3e2, "x", None, True, False],
    [{"a": [1, {"b": "é€😀"}]}, {}, []],
    [{"ID": str(i), "Msg": "ü" * (i % 7), "N": 10 ** (i % 25)} for i in range(500)],
]


@pytest.mark.parametrize("doc", DOCS)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_parse_list_matches_json_loads_at_every_chunk_size(doc, chunk, indent):
    body = json.dumps(doc, indent=indent, ensure_ascii=False).encode()
    assert parse_list(_reader(b" \n" + body + b"\n "), chunk=chunk) == doc


def test_numbers_cut_at_a_chunk_boundary_are_read_whole():
    assert parse_list(_reader(b"[123456789,987654321]"), chunk=3) == [123456789, 987654321]


@pytest.mark.parametrize("body, expected", [(b"null", None), (b'{"a": 1}', {"a": 1}), (b"\xef\xbb\xbf[1]", [1])])
def test_non_list_bodies_are_decoded_whole(body, expected):
    assert parse_list(_reader(body), chunk=2) == expected


@pytest.mark.parametrize("body", [b"", b"[", b"[1,", b"[1,]", b"[1 2]", b'[{"a": 1}', b"[1] x", b'[{"a": }]', b"[1]]"])
@pytest.mark.parametrize("chunk", [1, 4, 1 << 20])
def test_invalid_json_raises_value_error(body, chunk):
    with pytest.raises(ValueError):
        parse_list(_reader(body), chunk=chunk)


def test_element_hook_gets_each_element_and_one_memo():
    memos = set()

    def element(v, memo):
        memos.add(id(memo))
        return v * 2

    assert parse_list(_reader(b"[1, 2, 3]"), element, chunk=2) == [2, 4, 6]
    assert len(memos) == 1


def _event(t, typ, msg=""):
    return {
        "Details": {},
        "DiskLimit": 0,
        "DisplayMessage": msg,
        "DriverError": "",
        "ExitCode": 0,
        "FailsTask": False,
        "KillTimeout": 0,
        "Message": msg,
        "Signal": 0,
        "Time": t,
        "Type": typ,
        "ValidationError": "",
    }


ALLOC = {
    "ID": "a1",
    "EvalID": "e1",
    "Name": "j.g[0]",
    "Namespace": "ns",
    "NodeID": "n1",
    "NodeName": "node-1",
    "JobID": "j",
    "JobType": "service",
    "JobVersion": 0,
    "TaskGroup": "g",
    "DesiredStatus": "run",
    "DesiredDescription": "",
    "DesiredTransition": {"Migrate": None},
    "ClientStatus": "running",
    "ClientDescription": "Tasks are running",
    "FollowupEvalID": "",
    "NextAllocation": "",
    "PreemptedAllocations": None,
    "DeploymentStatus": {"Healthy": False, "Canary": False, "Timestamp": "2026-01-01T00:00:00Z"},
    "CreateIndex": 5,
    "ModifyIndex": 6,
    "CreateTime": 1,
    "ModifyTime": 2,
    "TaskStates": {
        "web": {
            "State": "running",
            "Failed": False,
            "Restarts": 0,
            "LastRestart": None,
            "StartedAt": "2026-01-01T00:00:00Z",
            "FinishedAt": None,
            "TaskHandle": None,
            "Events": [_event(1, "Received", "Task received by client"), _event(2, "Started")],
        }
    },
}


def test_slim_allocation_keeps_what_views_read_including_zero_false_and_empty():
    s = slim_allocation(json.loads(json.dumps(ALLOC)))
    assert "EvalID" in s and "DesiredTransition" not in s and "CreateIndex" not in s
    assert s["DeploymentStatus"] == {"Healthy": False}
    st = s["TaskStates"]["web"]
    assert st == {"State": "running", "Failed": False, "Restarts": 0, "LastRestart": None, "Events": st["Events"]}
    # a task's events are one flat tuple of their EVENT_FIELDS values (a fifth of the dicts' memory),
    # the values as Nomad sent them
    assert isinstance(st["Events"], tuple) and len(st["Events"]) == 2 * len(EVENT_FIELDS)
    assert event_rows(st["Events"])[1] == (2, "Started", "", "", 0, 0, False)
    assert [event_row(e) for e in ALLOC["TaskStates"]["web"]["Events"]] == event_rows(st["Events"])


def test_slim_allocation_shares_repeated_strings_and_keeps_odd_shapes():
    memo = {}
    a, b = (slim_allocation(json.loads(json.dumps(ALLOC)), memo) for _ in range(2))
    assert a["ClientStatus"] is b["ClientStatus"] and a["NodeID"] is b["NodeID"]
    assert a["TaskStates"]["web"]["Events"][1] is b["TaskStates"]["web"]["Events"][1]  # the first event's Type
    assert a["DeploymentStatus"] is b["DeploymentStatus"]  # a few values: one dict each
    assert a["TaskStates"]["web"]["Events"][0] is b["TaskStates"]["web"]["Events"][0]  # times too
    # sharing never hands back an equal value of another type (0 == False == 0.0)
    odd = {
        "ID": "z",
        "CreateTime": 0,
        "TaskStates": {
            "t": {
                "Failed": False,
                "Restarts": 0,
                "Events": [
                    {"Time": 10**18, "ExitCode": 0, "Signal": 0, "FailsTask": False, "Type": "x"},
                    {"Time": 10**18, "ExitCode": 1, "Signal": 0.0, "FailsTask": True, "Type": "x"},
                ],
            }
        },
    }
    got = slim_allocation(json.loads(json.dumps(odd)), memo)
    st = got["TaskStates"]["t"]
    assert got == odd | {"TaskStates": {"t": st}} and st["Failed"] is False and type(st["Restarts"]) is int
    assert [[type(v) for v in e] for e in event_rows(st["Events"])] == [
        [type(e.get(k)) for k in EVENT_FIELDS] for e in odd["TaskStates"]["t"]["Events"]
    ]
    assert event_rows(st["Events"])[0][0] is event_rows(st["Events"])[1][0]
    assert slim_allocation("junk") == "junk"
    partial = {"ID": "x", "TaskStates": {"t": {"Events": [{"Type": "Started"}, "junk"]}}, "DeploymentStatus": None}
    assert slim_allocation(partial) == {
        "ID": "x",
        "DeploymentStatus": None,
        "TaskStates": {"t": {"Events": [{"Type": "Started"}, "junk"]}},
    }
    # an event without some fields: None in their places
    older = {"ID": "y", "TaskStates": {"t": {"Events": [{"Type": "Started", "Time": 5}]}}}
    assert slim_allocation(older)["TaskStates"]["t"]["Events"] == (5, "Started", None, None, None, None, None)


def test_slim_deployment_status_keeps_each_value_apart():
    memo = {}
    got = [
        slim_allocation({"ID": str(i), "DeploymentStatus": ds}, memo)["DeploymentStatus"]
        for i, ds in enumerate(
            [{"Healthy": True}, {"Healthy": 1}, {"Healthy": None}, {}, {"Healthy": False, "Timestamp": "t"}, None]
        )
    ]
    assert got == [{"Healthy": True}, {"Healthy": 1}, {"Healthy": None}, {}, {"Healthy": False}, None]
    assert got[0]["Healthy"] is True and got[1]["Healthy"] == 1 and got[1]["Healthy"] is not True


def test_slim_deployment_keeps_what_the_views_and_history_read():
    group = {
        "AutoRevert": True,
        "AutoPromote": False,
        "ProgressDeadline": 600000000000,
        "RequireProgressBy": "2026-01-01T00:10:00Z",
        "Promoted": False,
        "PlacedCanaries": ["a1"],
        "DesiredCanaries": 1,
        "DesiredTotal": 3,
        "PlacedAllocs": 2,
        "HealthyAllocs": 0,
        "UnhealthyAllocs": 1,
    }
    dep = {
        "ID": "d1",
        "Namespace": "acme",
        "JobID": "acme-web",
        "JobVersion": 4,
        "JobModifyIndex": 9,
        "JobSpecModifyIndex": 9,
        "JobCreateIndex": 5,
        "IsMultiregion": False,
        "TaskGroups": {"web": group},
        "Status": "running",
        "StatusDescription": "Deployment is running",
        "EvalPriority": 50,
        "CreateIndex": 10,
        "ModifyIndex": 12,
        "CreateTime": 1,
        "ModifyTime": 2,
    }
    memo = {}
    a, b = (slim_deployment(json.loads(json.dumps(dep)), memo) for _ in range(2))
    assert a == {k: v for k, v in dep.items() if k in DEPLOYMENT_FIELDS} | {
        "TaskGroups": {"web": {k: v for k, v in group.items() if k in DEPLOYMENT_GROUP_FIELDS}}
    }
    assert "JobSpecModifyIndex" not in a and "RequireProgressBy" not in a["TaskGroups"]["web"]
    assert a["Status"] is b["Status"] and a["StatusDescription"] is b["StatusDescription"]
    assert slim_deployment("junk") == "junk" and slim_deployment({"ID": "x", "TaskGroups": None}) == {
        "ID": "x",
        "TaskGroups": None,
    }


def test_slim_consul_entries():
    e = {
        "ServiceName": "web",
        "ServiceKind": "",
        "ServiceProxy": {},
        "ServicePort": 0,
        "ServiceTags": ["http"],
        "ServiceMeta": {"client": "a", "version": "1"},
        "Node": "n",
        "TaggedAddresses": {"lan": "x"},
    }
    assert slim_catalog_entry(e) == {
        "ServiceName": "web",
        "ServicePort": 0,
        "ServiceTags": ["http"],
        "ServiceMeta": {"client": "a", "version": "1"},
        "Node": "n",
    }
    c = {
        "Node": "n",
        "CheckID": "c",
        "Name": "x",
        "Status": "passing",
        "Output": "",
        "Notes": "",
        "ServiceID": "",
        "ServiceName": "",
        "ServiceTags": [],
        "Definition": {},
        "CreateIndex": 1,
    }
    assert slim_check(c) == {
        k: c[k] for k in ("Node", "CheckID", "Name", "Status", "Output", "Notes", "ServiceID", "ServiceName")
    }
    assert slim_check(None) is None
