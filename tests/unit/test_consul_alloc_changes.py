"""Which allocations the Consul follower looks up (snapshot.consul_follow): the refresher's listener
finds the changed allocations between two allocations lists, and each Consul source looks up an
allocation once per report, again on later wakes only while no lookup has shown its change."""

from __future__ import annotations

from snapshot.consul_follow import AllocChanges, _Candidates, alloc_filter, alloc_of

A = "5456bd7a-9fc0-c0dd-6131-cbee77f57577"
B = "0b8c2d1e-1111-2222-3333-444455556666"
C = "c0ffee00-1111-2222-3333-444455556666"


def alloc(i, when=1, status="running"):
    return {"ID": i, "ModifyTime": when, "ClientStatus": status, "DesiredStatus": "run"}


def test_the_event_streams_lists_are_compared_by_identity():
    """snapshot.events replaces a changed allocation's dict and appends a new one: the same objects
    elsewhere, so only the replaced and the appended count (the others are not even looked at)."""
    a, b = alloc(A), alloc(B)
    changes = AllocChanges()
    assert changes([a, b]) == set(), "the first list is what the first full read holds"
    assert changes([a, alloc(B, when=2), alloc(C)]) == {B, C}


def test_a_fresh_list_is_compared_by_what_each_allocation_says():
    """A blocking query (or a reload) parses every allocation anew: equal ones are not changes."""
    changes = AllocChanges()
    changes([alloc(A), alloc(B)])
    assert changes([alloc(A), alloc(B, status="failed")]) == {B}
    assert changes([alloc(A)]) == {B}, "gone from the list (collected)"


def test_too_many_changes_at_once_ask_for_a_full_read():
    changes = AllocChanges(limit=1)
    changes([alloc(A), alloc(B)])
    assert changes([alloc(A, when=2), alloc(B, when=2)]) is None


def test_a_report_is_looked_up_once_then_on_wakes_only_while_unseen():
    now = [0.0]
    c = _Candidates(lambda: now[0], 10.0, ("services", "checks"))
    c.add([A, "not-an-id", B])
    new, recent, over = c.take("services")
    assert new == recent == {A, B} and not over
    c.settle_seen("services", {A})
    new, recent, _ = c.take("services")
    assert new == set() and recent == {B}, "A's change was seen; B's registration may still come"
    assert c.take("checks")[0] == {A, B}, "each source takes every report"
    now[0] = 11.0
    assert c.take("services")[1] == set(), "after the settle time a report is no longer looked for"
    c.add([A])
    assert c.take("services")[0] == {A}, "reported again: looked up again"


def test_only_uuids_reach_the_filter():
    assert alloc_filter([B, A, 'x") or ("1']) == f'ServiceID matches "^_nomad-task-({B}|{A})-"'
    assert alloc_of(f"_nomad-task-{A}-web-frontend-web-http") == A
    assert alloc_of("_nomad-server-abc") == alloc_of(f"_nomad-task-{A}") == ""


def _state_with(n: int):
    from snapshot.events import EventState

    allocs = [{"ID": f"{i:08d}-0000-4000-8000-000000000000", "ClientStatus": "running"} for i in range(n)]
    return EventState({"allocations": allocs}, slim=False)


def _event(aid: str, status: str, index: int) -> dict:
    alloc = {"ID": aid, "ClientStatus": status, "JobID": "web", "Namespace": "acme", "ModifyIndex": index}
    return {
        "Index": index,
        "Events": [{"Topic": "Allocation", "Type": "AllocationUpdated", "Payload": {"Allocation": alloc}}],
    }


def test_the_event_states_lists_say_which_allocations_changed_without_a_walk():
    """At 100,000 allocations comparing every item per publish was a third of the dashboard's CPU: the
    lists an EventState hands out say which allocations it changed between them, and AllocChanges
    takes that (also across several lists in between, and never for another state's list)."""
    state = _state_with(5)
    changes = AllocChanges()
    assert changes(state.list("allocations")) == set()
    a1, a3 = "00000001-0000-4000-8000-000000000000", "00000003-0000-4000-8000-000000000000"
    state.apply(_event(a1, "failed", 10))
    skipped = state.list("allocations")  # another reader's copy in between changes nothing
    state.apply(_event(a3, "failed", 11))
    latest = state.list("allocations")
    assert latest.changed_since(skipped) == {a3}
    assert changes(latest) == {a1, a3}
    assert changes(state.list("allocations")) == set()
    other = _state_with(5)  # a reload: a new state, whose lists cannot be told apart by the log
    assert other.list("allocations").changed_since(latest) is None
    assert changes(other.list("allocations")) == {a1, a3}  # compared item by item instead (running again)


def test_a_log_that_no_longer_reaches_back_says_so():
    from snapshot.events import ChangeLog

    log = ChangeLog(limit=3)
    for oid in "abcde":
        log.add(oid)
    assert log.since(3, 5) == {"d", "e"}
    assert log.since(0, 5) is None
    assert log.since(5, 5) == set()
