"""snapshot.consul_follow.merge_checks: the last full read of the checks plus a newer answer of the
checks that are not passing (/v1/health/state/warning and /critical) -> the list the views get."""

from __future__ import annotations

from snapshot.consul_follow import merge_checks


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
