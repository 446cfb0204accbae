"""snapshot.consul_follow.merge_checks: the last full read of the checks plus a newer answer of the
checks that are not passing (/v1/health/state/warning and /critical) -> the list the views get."""

from __future__ import annotations

from snapshot.consul_follow import merge_again, merge_checks


def chk(node, cid, status, output="", service="web"):
    return {"Node": node, "CheckID": cid, "Status": status, "Output": output, "ServiceName": service}


def test_the_answer_wins_and_comes_first():
    full = {("n1", "a"): chk("n1", "a", "passing", "200 OK"), ("n1", "b"): chk("n1", "b", "passing", "200 OK")}
    got = merge_checks(full, [chk("n1", "b", "critical", "connection refused")])
    assert got == [chk("n1", "b", "critical", "connection refused"), chk("n1", "a", "passing", "200 OK")]


def test_a_check_no_longer_failing_shows_passing_without_its_old_output():
    """Not in the answer any more: it recovered (or was deregistered, which only a full read tells);
    the support person must not keep seeing 'connection refused'."""
    full = {("n1", "a"): chk("n1", "a", "critical", "connection refused")}
    assert merge_checks(full, []) == [chk("n1", "a", "passing", "")]


def test_a_new_failing_check_is_added():
    full = {("n1", "a"): chk("n1", "a", "passing", "200 OK")}
    got = merge_checks(full, [chk("n2", "z", "warning", "429")])
    assert got == [chk("n2", "z", "warning", "429"), chk("n1", "a", "passing", "200 OK")]


def test_warning_then_critical_in_the_same_answer_keeps_the_later():
    full = {("n1", "a"): chk("n1", "a", "passing")}
    got = merge_checks(full, [chk("n1", "a", "warning", "slow"), chk("n1", "a", "critical", "down")])
    assert got == [chk("n1", "a", "critical", "down")]


def test_an_unchanged_failing_check_is_the_same_object_as_in_the_last_list():
    """Each answer is parsed afresh; the frame builder rebuilds the rows of checks that are new
    objects (views.checkpatch, by identity), so a check that did not change comes back as the
    last list's object, and one that changed as its new value."""
    full = {
        ("n1", "a"): chk("n1", "a", "passing", "200 OK"),
        ("n1", "b"): chk("n1", "b", "critical", "connection refused"),
        ("n1", "c"): chk("n1", "c", "passing", "200 OK"),
    }
    first, last = merge_again(full, [chk("n1", "a", "warning", "429")], {})
    assert first == merge_checks(full, [chk("n1", "a", "warning", "429")])
    second, _ = merge_again(full, [chk("n1", "a", "warning", "429"), chk("n1", "c", "critical", "down")], last)
    assert second == merge_checks(full, [chk("n1", "a", "warning", "429"), chk("n1", "c", "critical", "down")])
    by_key = {(c["Node"], c["CheckID"]): c for c in second}
    assert by_key["n1", "a"] is first[0]  # the same warning: the last list's object
    assert by_key["n1", "b"] is first[1] and by_key["n1", "b"]["Status"] == "passing"  # recovered, as before
    assert by_key["n1", "c"]["Status"] == "critical" and by_key["n1", "c"] is not full["n1", "c"]
    third, _ = merge_again(full, [chk("n1", "a", "critical", "down")], last)
    assert third[0] == chk("n1", "a", "critical", "down") and third[0] is not first[0]
