"""The pure half of following Nomad's jobs and services lists by re-reads (snapshot.rereads).

Which jobs an event dirties follows nomad/state/state_store.go (updateSummaryWithAlloc: a new
allocation or a new client status; nestedUpsertEval: a task group's Queued set to the evaluation's
QueuedAllocations; setJobStatus/setJobSummary: a child's status moves its parent's Children) and
nomad/state/events.go (every jobs-table write is a Job event); the order is Job.List's
(nomad/job_endpoint.go: the jobs table's (Namespace, ID) index).
"""

from __future__ import annotations

from snapshot.rereads import JobList, ServiceList


def _job(ns, jid, queued=0, parent=""):
    return {"Namespace": ns, "ID": jid, "ParentID": parent, "JobSummary": {"Summary": {"g": {"Queued": queued}}}}


def test_jobs_are_kept_in_namespace_then_id_order_as_they_come_and_go():
    jl = JobList([_job("b", "x"), _job("a", "z"), _job("a", "b")])
    assert [(j["Namespace"], j["ID"]) for j in jl.items()] == [("a", "b"), ("a", "z"), ("b", "x")]
    assert jl.put(("a", "m"), _job("a", "m"))  # a new job goes where Job.List would list it
    assert jl.put(("a", "b/periodic-1"), _job("a", "b/periodic-1"))
    assert [j["ID"] for j in jl.items()] == ["b", "b/periodic-1", "m", "z", "x"]
    assert not jl.put(("a", "m"), _job("a", "m"))  # the same stub: nothing changed
    assert jl.put(("a", "z"), None) and not jl.put(("a", "z"), None)  # gone, once
    assert [j["ID"] for j in jl.items()] == ["b", "b/periodic-1", "m", "x"]


def test_what_each_event_dirties():
    jl = JobList([_job("a", "web", queued=0), _job("a", "reports")])
    jl.on_alloc({"Namespace": "a", "JobID": "web", "ClientStatus": "running"}, {"ClientStatus": "running"})
    assert jl.take() == []  # a task restart: the summary does not move
    jl.on_alloc({"Namespace": "a", "JobID": "web", "ClientStatus": "failed"}, {"ClientStatus": "running"})
    jl.on_alloc({"Namespace": "a", "JobID": "api", "ClientStatus": "pending"}, None)
    assert jl.take() == [("a", "api"), ("a", "web")]
    jl.on_eval({"Namespace": "a", "JobID": "web", "QueuedAllocations": {"g": 0}})
    assert jl.take() == []  # the count it already has
    jl.on_eval({"Namespace": "a", "JobID": "web", "QueuedAllocations": {"g": 1}})
    jl.on_eval({"Namespace": "a", "JobID": "web", "QueuedAllocations": {"other": 3}})  # no such group
    assert jl.take() == [("a", "web")]
    jl.on_job({"Namespace": "a", "ID": "reports/periodic-9", "ParentID": "reports"})
    assert jl.take() == [("a", "reports"), ("a", "reports/periodic-9")]


def test_services_replace_one_namespace_entry_at_a_time():
    sl = ServiceList([{"Namespace": "a", "Services": [{"ServiceName": "web"}]}, {"Namespace": "c", "Services": [1]}])
    sl.on_service({"Namespace": "b", "ServiceName": "api"})
    assert sl.take() == ["b"]
    assert sl.put("b", [{"Namespace": "b", "Services": [{"ServiceName": "api"}]}])
    assert [b["Namespace"] for b in sl.items()] == ["a", "b", "c"]
    assert sl.put("a", [])  # none left there: the entry goes
    assert not sl.put("a", [])
    assert [b["Namespace"] for b in sl.items()] == ["b", "c"]
