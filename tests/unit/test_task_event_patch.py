"""Task events patched from the changed allocations (views.incremental, views.rowpatch.patch_events)
equal a full build, dtypes included: the task events' columns of few values are categoricals
whose categories are the values present, sorted (views.schema CAT), and a patch that brings a new
value (an event type, a task, a job) or takes the last row of one away must end with the same
categories a build from scratch gives. Allocation stubs as /v1/allocations?task_states=true lists
them (nomad/structs/alloc.go AllocListStub, TaskState, TaskEvent)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

import views
from views import schema
from views.incremental import FrameBuilder

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
T0 = 1_795_000_000_000_000_000  # 2026-11-18, in nanoseconds as Nomad sends times


def event(kind: str, t: int, message: str = "", exit_code: int = 0) -> dict:
    return {
        "Type": kind,
        "Time": T0 + t,
        "DisplayMessage": message,
        "Message": "",
        "ExitCode": exit_code,
        "Signal": 0,
        "FailsTask": False,
    }


def alloc(n: int, ns: str, job: str, tasks: dict, status: str = "running") -> dict:
    return {
        "ID": f"{n:08d}-1111-2222-3333-444444444444",
        "Name": f"{job}.web[{n}]",
        "Namespace": ns,
        "JobID": job,
        "JobType": "service",
        "JobVersion": 1,
        "TaskGroup": "web",
        "NodeID": "node-1",
        "NodeName": "n1",
        "EvalID": "eval-1",
        "ClientStatus": status,
        "ClientDescription": "",
        "DesiredStatus": "run",
        "DesiredDescription": "",
        "NextAllocation": "",
        "CreateTime": T0,
        "ModifyTime": T0 + 10,
        "DeploymentStatus": None,
        "TaskStates": {
            name: {"State": "running", "Failed": False, "Restarts": 0, "LastRestart": None, "Events": evs}
            for name, evs in tasks.items()
        },
    }


def started(t: int = 0) -> list[dict]:
    return [event("Received", t, "Task received by client"), event("Started", t + 5, "Task started by client")]


def job(ns: str, jid: str) -> dict:
    return {"ID": jid, "Name": jid, "Namespace": ns, "Type": "service", "Status": "running", "Version": 1}


def base() -> dict:
    return {
        "jobs": [job("acme", "web"), job("globex", "web"), job("globex", "api")],
        "allocations": [
            alloc(1, "acme", "web", {"app": started()}),
            alloc(2, "globex", "web", {"app": started(1), "sidecar": started(2)}),
            alloc(3, "globex", "api", {"app": [*started(3), event("Killing", 9, "Sent interrupt")]}),
        ],
        "deployments": [],
    }


def with_alloc(raw: dict, i: int, new: dict) -> dict:
    rows = list(raw["allocations"])
    if i == len(rows):
        rows.append(new)
    else:
        rows[i] = new
    return {**raw, "allocations": rows}


CASES = {
    "a new event type and message": lambda r: with_alloc(
        r, 0, alloc(1, "acme", "web", {"app": [*started(), event("Terminated", 20, "Exit Code: 137", 137)]})
    ),
    "the only Killing event gone": lambda r: with_alloc(r, 2, alloc(3, "globex", "api", {"app": started(3)})),
    "a task renamed": lambda r: with_alloc(r, 1, alloc(2, "globex", "web", {"app": started(1), "proxy": started(2)})),
    "a new allocation of another job": lambda r: {
        **with_alloc(r, 3, alloc(4, "initech", "db", {"postgres": started(30)})),
        "jobs": [*r["jobs"], job("initech", "db")],
    },
    "every event of one job gone": lambda r: with_alloc(r, 2, alloc(3, "globex", "api", {}, status="pending")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_patched_task_events_equal_a_full_build_with_dtypes(case):
    raw = base()
    builder = FrameBuilder(cluster="t", identity=views.ClientIdentity.parse("namespace"))
    first = builder.build(raw, now=NOW)
    new = CASES[case](raw)
    patched = builder.build(new, now=NOW)
    want = views.build_frames(new, cluster="t", identity=views.ClientIdentity.parse("namespace"), now=NOW)
    assert builder.full_builds == 1 and builder.patches == 1, builder.why_whole
    for name, frame in want.as_dict().items():
        pd.testing.assert_frame_equal(getattr(patched, name), frame, obj=f"patched frame {name}")
    ev = patched.task_events
    assert not ev.equals(first.task_events)
    for column, dtype in schema.SCHEMAS["task_events"].items():
        assert str(ev[column].dtype) == dtype, column
        if dtype == schema.CAT:
            # exactly the values present, sorted, as a build from scratch makes them
            assert ev[column].cat.categories.tolist() == sorted(set(ev[column].tolist())), column
            assert ev[column].cat.categories.tolist() == want.task_events[column].cat.categories.tolist()


def test_category_columns_read_as_strings():
    """What pages and views do with these columns gives what it gave with plain strings."""
    ev = views.build_frames(base(), cluster="t", identity=views.ClientIdentity.parse("namespace"), now=NOW).task_events
    assert ev["type"].tolist()[:2] == ["Received", "Started"]
    assert (ev["client"] == "globex").sum() == 7
    assert ev[ev["type"].isin(["Killing"])]["job_id"].tolist() == ["api"]
    assert ev["message"].str.startswith("Task").sum() == 8
    one = views.plain(ev[ev["alloc_id"] == base()["allocations"][1]["ID"]])
    assert [task for task, _ in one.groupby("task", sort=True)] == ["app", "sidecar"]
    assert (one["task"] + ": " + one["type"]).tolist()[0] == "app: Received"
    assert views.conform(views.plain(ev), "task_events").dtypes.equals(ev.dtypes)
