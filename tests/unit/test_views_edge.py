"""Small hand-written raw inputs: null lists, missing keys, unknown statuses, identity modes."""

from __future__ import annotations

import pandas as pd
import pytest

import views
from views import schema
from views.identity import ClientIdentity
from views.services import parse_nomad_service_alloc
from views.words import ago_words

NOW = pd.Timestamp("2026-01-01T12:00:00Z")
HOUR = 3600 * 10**9
NOW_NS = NOW.value
A1 = "11111111-2222-3333-4444-555555555555"
A2 = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
N1 = "99999999-8888-7777-6666-555555555555"


def _assert_schema(frames):
    for name, df in frames.as_dict().items():
        assert list(df.columns) == schema.columns(name), name
        for col, dtype in schema.SCHEMAS[name].items():
            assert str(df[col].dtype) == dtype, (name, col, str(df[col].dtype))


def _job(jid, ns, *, meta=None, running=1, failed=0, type_="service", stop=False, **kw):
    return {
        "ID": jid,
        "Name": jid,
        "Namespace": ns,
        "Type": type_,
        "Status": "running",
        "Priority": 50,
        "Stop": stop,
        "Meta": meta,
        "Datacenters": ["ca-tor-1"],
        "SubmitTime": NOW_NS - HOUR,
        "Version": 2,
        "JobSummary": {
            "Namespace": ns,
            "Summary": {
                "g": {"Running": running, "Failed": failed, "Queued": 0, "Starting": 0, "Lost": 0, "Complete": 0}
            },
        },
        **kw,
    }


def _alloc(aid, jid, ns, *, status="running", name=None, task_states=None, modify=None, desired="run"):
    return {
        "ID": aid,
        "Namespace": ns,
        "JobID": jid,
        "TaskGroup": "g",
        "Name": name or f"{jid}.g[0]",
        "ClientStatus": status,
        "DesiredStatus": desired,
        "NodeID": N1,
        "NodeName": "n1",
        "JobVersion": 2,
        "CreateTime": NOW_NS - 2 * HOUR,
        "ModifyTime": modify if modify is not None else NOW_NS - HOUR,
        "TaskStates": task_states,
    }


@pytest.mark.parametrize("raw", [None, {}, {k: None for k in views.RAW_KEYS}, {k: [] for k in views.RAW_KEYS}])
def test_missing_or_none_sources_give_empty_frames_with_schema(raw):
    f = views.build_frames(raw, cluster="c", identity=None, now=NOW)
    _assert_schema(f)
    assert all(len(df) == 0 for df in f.as_dict().values())


def test_frames_empty_constructor_matches_schema():
    _assert_schema(views.Frames.empty())


def test_null_task_states_events_and_meta_become_empty():
    raw = {
        "jobs": [_job("j", "ns", meta=None)],
        "allocations": [
            _alloc(A1, "j", "ns", task_states=None),
            _alloc(
                A2,
                "j",
                "ns",
                name="j.g[1]",
                task_states={"t": {"Events": None, "Restarts": None, "State": None}, "u": None},
            ),
        ],
        "nodes": [{"ID": N1, "Name": "n1", "Datacenter": "ca-tor-1"}],
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    _assert_schema(f)
    a = f.allocations.set_index("alloc_id")
    assert a.loc[A1, "tasks"] == 0 and a.loc[A2, "tasks"] == 1
    assert a.loc[A1, "last_event_type"] == "" and pd.isna(a.loc[A1, "last_event_time"])
    assert (a["datacenter"] == "ca-tor-1").all()
    assert len(f.task_events) == 0
    assert f.jobs.iloc[0].meta == {}
    assert pd.isna(a.loc[A1, "healthy"])


def test_missing_keys_in_events_and_allocs_do_not_raise():
    raw = {
        "allocations": [
            {"ID": A1, "TaskStates": {"t": {"Events": [{"Type": "Started"}, {"Time": 5, "Message": "m"}]}}},
            {},
        ]
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    _assert_schema(f)
    ev = f.task_events
    assert ev["type"].tolist() == ["Started", ""]
    assert ev["message"].tolist() == ["", "m"]
    assert pd.isna(ev["time"].iloc[0]) and ev["time"].iloc[1] == pd.Timestamp(5, unit="ns", tz="UTC")
    assert f.allocations["alloc_id"].tolist() == [A1, ""]


def test_restarts_summed_and_last_event_is_newest_across_tasks():
    ts = {
        "a": {
            "Restarts": 2,
            "LastRestart": "2026-01-01T11:00:00Z",
            "State": "running",
            "Failed": False,
            "Events": [{"Time": NOW_NS - 3 * HOUR, "Type": "Started", "DisplayMessage": "started"}],
        },
        "b": {
            "Restarts": 1,
            "LastRestart": "2026-01-01T11:30:00.5Z",
            "State": "dead",
            "Failed": True,
            "Events": [
                {"Time": NOW_NS - 2 * HOUR, "Type": "Terminated", "Message": "Exit Code: 1", "ExitCode": 1},
                {
                    "Time": NOW_NS - HOUR,
                    "Type": "Not Restarting",
                    "DisplayMessage": "Exceeded allowed attempts",
                    "FailsTask": True,
                },
            ],
        },
    }
    f = views.build_frames(
        {"allocations": [_alloc(A1, "j", "ns", status="failed", task_states=ts)]}, cluster="c", now=NOW
    )
    r = f.allocations.iloc[0]
    assert r.restarts == 3 and r.tasks == 2 and r.tasks_failed == 1 and r.failed
    assert r.last_event_type == "Not Restarting" and r.last_event_message == "Exceeded allowed attempts"
    assert r.last_restart == pd.Timestamp("2026-01-01T11:30:00.5Z")
    ev = f.task_events.set_index("type")
    assert ev.loc["Terminated", "severity"] == "error" and ev.loc["Terminated", "exit_code"] == 1
    assert ev.loc["Terminated", "message"] == "Exit Code: 1"  # Message when no DisplayMessage
    assert ev.loc["Not Restarting", "severity"] == "error"
    assert ev.loc["Started", "severity"] == "info"
    assert ev.loc["Started", "task"] == "a" and ev.loc["Terminated", "task_state"] == "dead"


def test_unknown_statuses_are_kept_not_dropped():
    raw = {
        "allocations": [_alloc(A1, "j", "ns", status="weird")],
        "deployments": [{"ID": "d1", "Namespace": "ns", "JobID": "j", "Status": "exploded", "TaskGroups": None}],
        "consul_checks": [{"Node": "n", "CheckID": "c", "Status": "maintenance", "ServiceID": "s"}],
        "consul_services": {"s": [{"Node": "n", "ServiceID": "s", "ServiceName": "s"}]},
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    assert f.allocations.client_status.tolist() == ["weird"]
    assert not f.allocations.failed.iloc[0]
    assert f.deployments.status.tolist() == ["exploded"] and not f.deployments.active.iloc[0]
    assert f.checks.status.tolist() == ["maintenance"]
    assert f.services.health.tolist() == ["warning"]  # unknown check status counts as a warning


def test_rfc3339_and_nanosecond_times_both_become_utc():
    deps = [
        {
            "ID": "d1",
            "Namespace": "ns",
            "JobID": "j",
            "Status": "successful",
            "CreateTime": NOW_NS - HOUR,
            "ModifyTime": "2026-01-01T07:00:00-05:00",
        }
    ]
    f = views.build_frames({"deployments": deps}, cluster="c", now=NOW)
    d = f.deployments.iloc[0]
    assert d.create_time == NOW - pd.Timedelta(hours=1)
    assert d.modify_time == pd.Timestamp("2026-01-01T12:00:00Z")


def test_deployment_times_never_come_from_the_progress_deadline():
    """Deployment times are CreateTime/ModifyTime (nomad/structs/deployment.go); RequireProgressBy
    is a deadline in the future of the last progress, not when anything happened."""
    deps = [
        {
            "ID": "d1",
            "Namespace": "ns",
            "JobID": "j",
            "Status": "running",
            "TaskGroups": {
                "g": {"DesiredTotal": 2, "RequireProgressBy": "2026-01-01T12:10:00Z", "ProgressDeadline": 600 * 10**9}
            },
        }
    ]
    f = views.build_frames({"deployments": deps}, cluster="c", now=NOW)
    assert pd.isna(f.deployments.iloc[0].modify_time) and pd.isna(f.deployments.iloc[0].create_time)


def test_latest_deployment_per_job():
    deps = [
        {"ID": "old", "Namespace": "ns", "JobID": "j", "JobVersion": 1, "Status": "failed", "CreateIndex": 5},
        {"ID": "new", "Namespace": "ns", "JobID": "j", "JobVersion": 2, "Status": "running", "CreateIndex": 9},
        {"ID": "other", "Namespace": "ns2", "JobID": "j", "JobVersion": 0, "Status": "successful", "CreateIndex": 1},
    ]
    f = views.build_frames({"deployments": deps}, cluster="c", now=NOW)
    latest = dict(zip(f.deployments.deployment_id, f.deployments.is_latest))
    assert latest == {"old": False, "new": True, "other": True}


@pytest.mark.parametrize(
    "spec, job, expected",
    [
        ("namespace", _job("acme-web", "acme"), "acme"),
        ("", _job("acme-web", "acme"), "acme"),
        ("meta:client", _job("acme-web", "shared", meta={"client": "acme"}), "acme"),
        ("meta:client", _job("acme-web", "shared", meta=None), ""),
        ("meta:owner", _job("acme-web", "shared", meta={"owner": "beta"}), "beta"),
        (r"regex:^(?P<client>[a-z0-9-]+)-(web|api|worker|reports)$", _job("north-leaf-api", "x"), "north-leaf"),
        (r"regex:^(?P<client>[a-z0-9-]+)-(web|api|worker|reports)$", _job("lonely", "x"), ""),
    ],
)
def test_identity_modes_resolve_jobs_and_their_allocations(spec, job, expected):
    raw = {"jobs": [job], "allocations": [_alloc(A1, job["ID"], job["Namespace"])]}
    f = views.build_frames(raw, cluster="c", identity=spec, now=NOW)
    assert f.jobs.client.tolist() == [expected]
    assert f.allocations.client.tolist() == [expected]  # via (namespace, job_id)
    assert f.clients.client.tolist() == ([expected] if expected else [])


@pytest.mark.parametrize("spec", ["meta:", "regex:(", "regex:^(?P<x>.*)$", "label:foo", "bogus"])
def test_identity_rejects_bad_specs_with_a_clear_message(spec):
    with pytest.raises(ValueError) as exc:
        ClientIdentity.parse(spec)
    assert "client identity" in str(exc.value)


def test_identity_round_trips_its_spec():
    for spec in ["namespace", "meta:client", r"regex:^(?P<client>.+)-web$"]:
        assert ClientIdentity.parse(spec).spec == spec


@pytest.mark.parametrize(
    "sid, expected",
    [
        (f"_nomad-task-{A1}-web-web-http", A1),
        (f"_nomad-task-{A1}-group-web-web-http", A1),
        ("_nomad-task-short", ""),
        ("32a2a47f7992:nodea:5000", ""),
        ("", ""),
    ],
)
def test_parse_nomad_service_alloc(sid, expected):
    assert parse_nomad_service_alloc(sid) == expected


def test_services_join_checks_and_fall_back_to_alloc_client():
    sid = f"_nomad-task-{A1}-web-web-http"
    raw = {
        "jobs": [_job("acme-web", "acme")],
        "allocations": [_alloc(A1, "acme-web", "acme")],
        "consul_services": {
            "web": [
                {
                    "Node": "n1",
                    "ServiceID": sid,
                    "ServiceName": "web",
                    "ServiceMeta": {"version": "1.2.3"},
                    "ServicePort": 8080,
                    "Address": "10.0.0.1",
                    "ServiceAddress": "",
                    "ServiceTags": None,
                },
                {"Node": "n2", "ServiceID": "web-2", "ServiceName": "web", "ServiceMeta": {"client": "beta"}},
            ]
        },
        "consul_checks": [
            {
                "Node": "n1",
                "CheckID": "c1",
                "Name": "http",
                "Status": "critical",
                "Output": "refused",
                "ServiceID": sid,
                "ServiceName": "web",
            },
            {"Node": "n1", "CheckID": "c2", "Name": "tcp", "Status": "passing", "ServiceID": sid, "ServiceName": "web"},
            {"Node": "n2", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "warning", "ServiceID": ""},
        ],
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    s = f.services.set_index("service_id")
    assert s.loc[sid, "client"] == "acme" and s.loc[sid, "alloc_id"] == A1 and s.loc[sid, "version"] == "1.2.3"
    assert s.loc[sid, "address"] == "10.0.0.1" and s.loc[sid, "tags"] == []
    assert (s.loc[sid, "health"], s.loc[sid, "checks_total"], s.loc[sid, "checks_critical"]) == ("critical", 2, 1)
    assert s.loc[sid, "failing_checks"] == "http" and s.loc[sid, "check_output"] == "refused"
    # a node check counts for the services on that node
    assert s.loc["web-2", "client"] == "beta" and s.loc["web-2", "health"] == "warning"
    c = f.checks.set_index("check_id")
    assert c.loc["c1", "client"] == "acme" and c.loc["serfHealth", "client"] == ""
    cl = f.clients.set_index("client")
    assert cl.loc["acme", "checks_critical"] == 1
    assert cl.loc["acme", "status"] == "degraded" and "check “http” on web critical" in cl.loc["acme", "reason"]
    assert "1.2.3" in cl.loc["acme", "versions"]


def test_nodes_count_running_allocations():
    raw = {
        "nodes": [{"ID": N1, "Name": "n1"}, {"ID": "other", "Name": "n2"}],
        "allocations": [_alloc(A1, "j", "ns"), _alloc(A2, "j", "ns", status="complete", name="j.g[1]")],
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    n = f.nodes.set_index("name")
    assert (n.loc["n1", "allocs_running"], n.loc["n1", "allocs_total"]) == (1, 2)
    assert (n.loc["n2", "allocs_running"], n.loc["n2", "allocs_total"]) == (0, 0)


def test_conform_adds_missing_columns_and_casts():
    df = pd.DataFrame({"client": ["a", None], "jobs": [1.0, None], "extra": [1, 2]})
    out = schema.conform(df, "clients")
    assert list(out.columns) == schema.columns("clients")
    assert out["client"].tolist() == ["a", ""]
    assert out["jobs"].tolist() == [1, 0] and str(out["jobs"].dtype) == "int64"
    assert out["namespaces"].tolist() == [[], []]
    assert out["last_deployment_time"].isna().all() and str(out["last_deployment_time"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize("name", schema.FRAME_NAMES)
def test_conform_fills_every_missing_column_with_its_dtype(name):
    """A frame with one column gets every other one, typed; missing time and timedelta
    columns (e.g. allocations.age) used to raise TypeError when the frame had rows."""
    cols = schema.columns(name)
    have = cols[1] if len(cols) > 1 else cols[0]
    out = schema.conform(pd.DataFrame({have: ["x", "y"]}), name)
    assert list(out.columns) == cols and len(out) == 2
    assert {c: str(out[c].dtype) for c in cols} == {c: str(schema.empty(name)[c].dtype) for c in cols}


def test_conform_fills_a_missing_timedelta_with_nat():
    out = schema.conform(pd.DataFrame({"alloc_id": ["a", "b"], "short_id": ["a", "b"]}), "allocations")
    assert str(out["age"].dtype) == "timedelta64[ns]" and out["age"].isna().all()


def test_build_does_not_modify_raw():
    import copy

    raw = {
        "jobs": [_job("j", "ns")],
        "allocations": [_alloc(A1, "j", "ns", task_states={"t": {"Events": []}})],
        "consul_services": {"web": [{"Node": "n", "ServiceID": "x"}]},
    }
    before = copy.deepcopy(raw)
    views.build_frames(raw, cluster="c", now=NOW)
    assert raw == before


def test_now_may_be_naive_or_aware_or_datetime():
    import datetime as dt

    raw = {"allocations": [_alloc(A1, "j", "ns")]}
    ages = {
        str(now): views.build_frames(raw, cluster="c", now=now).allocations.age.iloc[0]
        for now in (
            NOW,
            NOW.tz_localize(None),
            NOW.to_pydatetime(),
            dt.datetime(2026, 1, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        )
    }
    assert set(ages.values()) == {pd.Timedelta(hours=2)}


def test_conform_is_idempotent_on_built_frames_and_fixes_time_units():
    raw = {
        "allocations": [_alloc(A1, "j", "ns", task_states={"t": {"Events": [{"Time": NOW_NS, "Type": "Started"}]}})],
        "jobs": [_job("j", "ns")],
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    for name, df in f.as_dict().items():
        out = schema.conform(df, name)
        pd.testing.assert_frame_equal(out, df.reset_index(drop=True), check_dtype=True)
    us = pd.DataFrame({"create_time": pd.Series([NOW.to_pydatetime()]).astype("datetime64[us, UTC]")})
    assert str(schema.conform(us, "allocations")["create_time"].dtype) == "datetime64[ns, UTC]"


def test_go_zero_time_and_garbage_times_become_nat():
    ts = {"t": {"Restarts": 1, "LastRestart": "0001-01-01T00:00:00Z", "Events": []}}
    deps = [{"ID": "d", "Namespace": "ns", "JobID": "j", "Status": "failed", "ModifyTime": "not a time"}]
    f = views.build_frames(
        {"allocations": [_alloc(A1, "j", "ns", task_states=ts)], "deployments": deps}, cluster="c", now=NOW
    )
    assert pd.isna(f.allocations.last_restart.iloc[0]) and pd.isna(f.deployments.modify_time.iloc[0])


@pytest.mark.parametrize(
    "seconds,words",
    [
        (None, "never"),
        (float("nan"), "never"),
        (-5, "0 s ago"),
        (0, "0 s ago"),
        (4.7, "4 s ago"),
        (59, "59 s ago"),
        (60, "1 min ago"),
        (7260, "2 h 1 min ago"),
        (90000, "1 d 1 h ago"),
    ],
)
def test_ago_words(seconds, words):
    assert ago_words(seconds) == words


@pytest.mark.parametrize(
    "name, service, label",
    [
        ('service: "api" check', "api", "“api”"),  # Nomad's default check name says only the service
        ("http", "web", "“http” on web"),
        ("disk", "", "“disk”"),
    ],
)
def test_check_labels_read_well_in_reasons(name, service, label):
    from views.clients import check_label

    assert check_label(name, service) == label


@pytest.mark.parametrize(
    "node_status, expected_status, crit, warn",
    [
        ("critical", "degraded", 1, 0),
        ("warning", "healthy", 0, 1),  # a warning is said in the reason, never degrades (views.health)
        ("passing", "healthy", 0, 0),
    ],
)
def test_a_node_check_counts_for_the_clients_with_services_on_that_node(node_status, expected_status, crit, warn):
    raw = {
        "jobs": [_job("acme-web", "acme"), _job("beta-web", "beta")],
        "allocations": [_alloc(A1, "acme-web", "acme"), _alloc(A2, "beta-web", "beta", name="beta-web.g[0]")],
        "consul_services": {
            "web": [
                {
                    "Node": "nomad-tor1-003",
                    "ServiceID": "web-a",
                    "ServiceName": "web",
                    "ServiceMeta": {"client": "acme"},
                },
                {
                    "Node": "nomad-tor1-004",
                    "ServiceID": "web-b",
                    "ServiceName": "web",
                    "ServiceMeta": {"client": "beta"},
                },
            ]
        },
        "consul_checks": [
            {
                "Node": "nomad-tor1-003",
                "CheckID": "serfHealth",
                "Name": "serfHealth",
                "Status": node_status,
                "ServiceID": "",
            },
        ],
    }
    f = views.build_frames(raw, cluster="c", now=NOW)
    s = f.services.set_index("service_id")
    cl = f.clients.set_index("client")
    # the service on that node and its client agree
    assert s.loc["web-a", "health"] == node_status
    assert (cl.loc["acme", "status"], cl.loc["acme", "checks_critical"], cl.loc["acme", "checks_warning"]) == (
        expected_status,
        crit,
        warn,
    )
    if node_status != "passing":
        assert f"check node nomad-tor1-003 “serfHealth” {node_status}" in cl.loc["acme", "reason"]
    # a client with no service on that node is untouched
    assert s.loc["web-b", "health"] == "passing"
    assert cl.loc["beta", "status"] == "healthy" and cl.loc["beta", "checks_critical"] == 0


def test_last_event_of_a_failed_allocation_says_why_the_task_failed():
    """A sidecar killed after the main task failed has the newest event, but not the one support needs."""
    alloc = {
        "ID": "6d3c4f5e-0000-4000-8000-000000000001",
        "Namespace": "acme",
        "JobID": "acme-web",
        "TaskGroup": "web",
        "ClientStatus": "failed",
        "DesiredStatus": "run",
        "CreateTime": 1,
        "TaskStates": {
            "frontend": {
                "State": "dead",
                "Failed": True,
                "Events": [
                    {
                        "Type": "Terminated",
                        "Time": 100,
                        "DisplayMessage": 'Exit Code: 1, Exit Message: "missing API key"',
                    },
                    {"Type": "Not Restarting", "Time": 101, "DisplayMessage": "Exceeded allowed attempts"},
                ],
            },
            "log-shipper": {
                "State": "dead",
                "Failed": False,
                "Events": [{"Type": "Killed", "Time": 105, "DisplayMessage": "Task successfully killed"}],
            },
        },
    }
    row = views.build_frames({"allocations": [alloc]}, cluster="c").allocations.iloc[0]
    assert (row.last_event_type, row.last_event_message) == ("Not Restarting", "Exceeded allowed attempts")


def test_slimmed_event_rows_and_odd_event_lists_give_the_same_frames_as_nomad_json():
    """Slimmed events are EVENT_FIELDS rows (common.fields); an events list with junk in it is read
    around the junk, and neither changes a task's restarts or its allocation's last event."""
    from connectors.slim import slim_allocation

    ts = {
        "a": {
            "Restarts": 2,
            "State": "running",
            "Events": [{"Time": NOW_NS - HOUR, "Type": "Restarting", "DisplayMessage": "restarting"}, "junk"],
        },
        "b": {
            "Restarts": 1,
            "State": "running",
            "Events": [{"Time": NOW_NS - 2 * HOUR, "Type": "Started", "Message": "m", "ExitCode": 0}],
        },
    }
    full = _alloc(A1, "j", "ns", status="running", task_states=ts)
    slim = slim_allocation(full)
    assert isinstance(slim["TaskStates"]["b"]["Events"], tuple)  # the flat form is what is tested
    frames = [views.build_frames({"allocations": [a]}, cluster="c", now=NOW) for a in (full, slim)]
    for f in frames:
        r = f.allocations.iloc[0]
        assert r.restarts == 3 and r.tasks == 2
        assert r.last_event_type == "Restarting" and r.last_event_message == "restarting"
        assert f.task_events["message"].tolist() == ["restarting", "m"]
    for name in ("allocations", "task_events"):
        pd.testing.assert_frame_equal(getattr(frames[0], name), getattr(frames[1], name))
