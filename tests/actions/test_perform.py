"""perform(): the one write path, through real HTTP to the sandbox and a real store.

What a person notices: the restart happens in Nomad exactly once, refusals say why in words, and
every attempt is in the audit trail (requested first, then its outcome).
Nomad's answers the sandbox reproduces: command/agent/alloc_endpoint.go (hashicorp/nomad).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from action_helpers import make_env, make_person, nomad_for, person, pick, restarts, sqlite_url, target_of, world  # noqa: F401  (fixtures)
from sqlalchemy import text

from actions import ALLOC_RESTART, ALLOC_STOP, GROUP_ROLLING_RESTART, perform
from config import ActionSettings


def events(env, **kw):
    return [(r["event"], r["action"]) for r in env.audit.events(**kw)]


@pytest.mark.parametrize(
    "role, action, allowed",
    [
        ("viewer", ALLOC_RESTART, False),
        ("manager", ALLOC_RESTART, False),
        (None, ALLOC_RESTART, False),
        ("support", ALLOC_RESTART, True),
        ("admin", ALLOC_RESTART, True),
        ("viewer", ALLOC_STOP, False),
        ("manager", ALLOC_STOP, False),
        ("support", ALLOC_STOP, False),
        ("admin", ALLOC_STOP, True),
        ("viewer", GROUP_ROLLING_RESTART, False),
        ("manager", GROUP_ROLLING_RESTART, False),
    ],
)
def test_role_by_action_matrix_is_enforced_inside_perform(role, action, allowed, make_env, pick, restarts):
    env = make_env()
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    outcome = perform(make_person(role), action, target_of(alloc), "customer reports errors", env=env)
    assert outcome.ok is allowed, outcome.message
    rows = env.audit.events()
    assert rows[0]["event"] == "requested" and rows[0]["actor_subject"] == make_person(role).subject
    if allowed:
        assert rows[-1]["event"] == "succeeded"
    else:
        assert outcome.status == "denied" and outcome.guard == "policy"
        assert "may not" in outcome.message and "Nothing was done" in outcome.message
        assert [r["event"] for r in rows] == ["requested", "denied"]
        assert restarts(alloc["ID"]) == before  # Nomad was never asked
        if action is not ALLOC_STOP:
            assert nomad_for_status(env, alloc) == "running"


def nomad_for_status(env, alloc):
    return env.nomad.get_allocation(alloc["ID"])["ClientStatus"]


def test_restart_happens_in_nomad_and_is_recorded_with_who_why_and_the_answer(make_env, pick, restarts):
    env = make_env()
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "stuck after deploy", "SUP-42", env=env)
    assert outcome.status == "succeeded" and alloc["ID"][:8] in outcome.message
    after = restarts(alloc["ID"])
    assert all(after[t] == before[t] + 1 for t in before)  # the running tasks, each once
    full = env.nomad.get_allocation(alloc["ID"])
    kinds = [e["Type"] for s in full["TaskStates"].values() for e in s["Events"]]
    assert "Restart Signaled" in kinds
    requested, succeeded = env.audit.events(request_id=outcome.request_id)
    assert (requested["event"], succeeded["event"]) == ("requested", "succeeded")
    assert requested["seq"] < succeeded["seq"]
    assert requested["reason"] == "stuck after deploy" and requested["ticket"] == "SUP-42"
    assert (requested["namespace"], requested["job"], requested["task_group"], requested["allocation"]) == (
        alloc["Namespace"],
        alloc["JobID"],
        alloc["TaskGroup"],
        alloc["ID"],
    )
    assert requested["client"] == alloc["Namespace"] and json.loads(requested["roles"]) == ["support"]
    assert json.loads(succeeded["detail"])["token"] == "dashboard"
    assert env.audit.verify().ok


def test_restart_one_named_task_only(make_env, pick, restarts):
    env = make_env()
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    task = sorted(before)[0]
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc, task=task), "one task", env=env)
    assert outcome.ok, outcome.message
    after = restarts(alloc["ID"])
    assert after[task] == before[task] + 1
    assert all(after[t] == before[t] for t in before if t != task)
    assert env.audit.events(event="requested")[0]["task"] == task


def test_a_task_the_allocation_does_not_have_is_refused(make_env, pick):
    env = make_env()
    alloc = pick("pair")[0]
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc, task="nope"), "x", env=env)
    assert outcome.status == "denied" and "no task named nope" in outcome.message


def test_double_submit_gives_one_restart_and_a_clear_second_message(make_env, pick, restarts):
    env = make_env()
    alloc = pick("pair")[0]
    before = sum(restarts(alloc["ID"]).values())
    first = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "double click", env=env)
    second = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "double click", env=env)
    assert first.ok and second.status == "denied" and second.guard == "cooldown"
    assert "just done by Support" in second.message and "Nothing was done" in second.message
    assert sum(restarts(alloc["ID"]).values()) == before + len(restarts(alloc["ID"]))


def test_two_people_at_once_give_exactly_one_restart(store_url, make_env, pick, restarts):
    import store

    store.migrate(store_url)
    env = make_env(store_url)
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    outcomes = []
    barrier = threading.Barrier(2)

    def go(who):
        barrier.wait()
        outcomes.append(perform(make_person("support", who), ALLOC_RESTART, target_of(alloc), "both saw it", env=env))

    threads = [threading.Thread(target=go, args=(w,)) for w in ("ann", "raj")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.status for o in outcomes) == ["denied", "succeeded"]
    assert all(v == before[k] + 1 for k, v in restarts(alloc["ID"]).items())


def test_rate_limit_per_person(make_env, pick):
    env = make_env(settings=ActionSettings(rate_limit=2, rate_window_minutes=10))
    allocs = pick("pair", n=3)
    support = make_person("support")
    results = [perform(support, ALLOC_RESTART, target_of(a), "many", env=env) for a in allocs]
    assert [r.status for r in results] == ["succeeded", "succeeded", "denied"]
    assert results[2].guard == "rate_limit" and "2 actions in the last 10 minutes" in results[2].message
    other = perform(make_person("support", "colleague"), ALLOC_RESTART, target_of(allocs[2]), "mine", env=env)
    assert other.ok, other.message


def test_blast_radius_refuses_restarting_the_only_running_allocation(make_env, pick, restarts):
    env = make_env()
    alloc = pick("single")[0]
    before = restarts(alloc["ID"])
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "worker stuck", env=env)
    assert outcome.status == "denied" and outcome.guard == "blast_radius"
    assert "nothing running" in outcome.message and "rolling restart" in outcome.message
    assert restarts(alloc["ID"]) == before


def test_stop_is_admin_only_and_a_stopped_allocation_cannot_be_restarted(make_env, pick):
    env = make_env()
    alloc = pick("pair")[0]
    stopped = perform(make_person("admin"), ALLOC_STOP, target_of(alloc), "node degraded", env=env)
    assert stopped.ok and "replacement" in stopped.message
    assert env.nomad.get_allocation(alloc["ID"])["DesiredStatus"] == "stop"
    again = perform(make_person("admin", "other-admin"), ALLOC_RESTART, target_of(alloc), "retry", env=env)
    assert again.status == "denied" and again.guard == "live_target" and "no longer running" in again.message


def test_stale_page_data_is_refused(make_env, pick, restarts):
    env = make_env()
    alloc = pick("pair")[0]
    old = datetime.now(UTC) - timedelta(minutes=10)
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc, observed_at=old), "old tab", env=env)
    assert outcome.status == "denied" and outcome.guard == "fresh_data" and "reload" in outcome.message


def test_a_reason_is_mandatory(make_env, pick):
    env = make_env()
    alloc = pick("pair")[0]
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "   ", env=env)
    assert outcome.status == "denied" and outcome.guard == "reason" and "reason is required" in outcome.message


def test_an_unknown_allocation_is_explained(make_env, pick):
    env = make_env()
    alloc = dict(pick("pair")[0], ID=str(uuid.uuid4()))
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "ghost", env=env)
    assert outcome.status == "denied" and "no longer knows allocation" in outcome.message


def test_crafted_target_is_recorded_as_nomad_says_not_as_the_page_says(make_env, pick):
    """A page (or a hand-made request) naming another client's job for an allocation: Nomad's word wins."""
    env = make_env()
    alloc = pick("pair")[0]
    crafted = target_of(alloc)
    crafted = type(crafted)(**{**crafted.__dict__, "job": "someone-else", "client": "someone-else"})
    outcome = perform(make_person("support"), ALLOC_RESTART, crafted, "crafted", env=env)
    assert outcome.ok, outcome.message
    row = env.audit.events(event="requested")[0]
    assert row["job"] == alloc["JobID"] and row["client"] == alloc["Namespace"]


def test_store_unavailable_means_nothing_is_done(make_env, pick, restarts):
    env = make_env()
    alloc = pick("pair")[0]
    before = restarts(alloc["ID"])
    with env.audit.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_head"))
    outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "store down", env=env)
    assert outcome.status == "unavailable"
    assert outcome.message == "The audit trail is unavailable, nothing was done."
    assert restarts(alloc["ID"]) == before


def test_nomad_refusal_is_explained_with_the_missing_permission(make_person_acl):
    outcome, words = make_person_acl
    assert outcome.status == "failed"
    assert words in outcome.message


@pytest.fixture(params=["dashboard", "person"])
def make_person_acl(request, make_env):
    """ACLs on: the dashboard's (or the person's own) token can read but lacks alloc-lifecycle."""
    from sandbox import Sandbox

    with Sandbox(clients=3, seed=7, frozen=True, acl=True) as sb:
        read = sb.tokens["read"]
        if request.param == "dashboard":
            env, token, words = make_env(nomad=nomad_for(sb, read)), None, "The dashboard's Nomad token lacks"
        else:
            env, token = make_env(nomad=nomad_for(sb, sb.tokens["management"])), read
            words = "Your Nomad token lacks"
        allocs = nomad_for(sb, sb.tokens["management"]).list_allocations().data
        alloc = next(a for a in allocs if a["ClientStatus"] == "running" and a["TaskGroup"] in ("web", "api"))
        outcome = perform(make_person("support"), ALLOC_RESTART, target_of(alloc), "acl", env=env, token=token)
        rows = env.audit.events(request_id=outcome.request_id)
        assert [r["event"] for r in rows] == ["requested", "failed"]
        assert json.loads(rows[1]["detail"])["token"] == request.param
        assert read not in json.dumps(rows)  # the token itself is never recorded
        yield outcome, f"{words} alloc-lifecycle in namespace {alloc['Namespace']}"
