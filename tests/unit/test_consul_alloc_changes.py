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
