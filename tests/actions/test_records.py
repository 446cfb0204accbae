"""The audit page's data: who sees which records, filters, flags; access events for regulated reads."""

from __future__ import annotations

import pytest
from action_helpers import make_env, make_person, person, pick, restarts, sqlite_url, target_of, world  # noqa: F401  (fixtures)
from sqlalchemy import text

from actions import ALLOC_RESTART, perform, record_access
from actions.records import audit_view, export_csv
from auth.policy import Forbidden


def test_support_sees_their_own_records_managers_and_admins_see_all(make_env, pick):
    env = make_env()
    a, b = pick("pair", n=2)
    ann, raj = make_person("support", "ann"), make_person("support", "raj")
    assert perform(ann, ALLOC_RESTART, target_of(a), "ann's", env=env).ok
    assert perform(raj, ALLOC_RESTART, target_of(b), "raj's", env=env).ok
    assert [r["reason"] for r in audit_view(ann, env=env).rows] == ["ann's"]
    for reader in (make_person("manager"), make_person("admin")):
        view = audit_view(reader, env=env)
        assert view.everyone and [r["reason"] for r in view.rows] == ["raj's", "ann's"]
        assert {r["outcome"] for r in view.rows} == {"succeeded"} and view.verify.ok
    assert [r["who"] for r in audit_view(make_person("manager"), who="ann@example.test", env=env).rows] == ["Ann"]
    # Support cannot widen their scope with a filter (e.g. a crafted ?who= in the URL).
    assert [r["reason"] for r in audit_view(ann, who="raj@example.test", env=env).rows] == ["ann's"]
    with pytest.raises(Forbidden):
        audit_view(make_person("viewer"), env=env)


def test_filters_and_csv_export(make_env, pick):
    env = make_env()
    a, *more = pick("pair", n=3)
    b = next(x for x in more if x["Namespace"] != a["Namespace"])
    support = make_person("support")
    perform(support, ALLOC_RESTART, target_of(a), "ok one", env=env)
    perform(make_person("viewer"), ALLOC_RESTART, target_of(b), "not allowed", env=env)
    manager = make_person("manager")
    assert [r["reason"] for r in audit_view(manager, outcome="denied", env=env).rows] == ["not allowed"]
    assert [r["reason"] for r in audit_view(manager, client=a["Namespace"], env=env).rows] == ["ok one"]
    view = audit_view(manager, outcome="succeeded", env=env)
    csv_text = export_csv(view)
    assert csv_text.splitlines()[0].startswith("seq,request_id,event")
    assert csv_text.count("ok one") == 2 and "not allowed" not in csv_text  # requested + succeeded


def test_a_broken_chain_shows_on_the_page(make_env, pick):
    env = make_env()
    perform(make_person("support"), ALLOC_RESTART, target_of(pick("pair")[0]), "x", env=env)
    with env.audit.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'y' WHERE seq = 1"))
    view = audit_view(make_person("admin"), env=env)
    assert not view.verify.ok and "broken at record 1" in view.verify.words()


def test_reading_logs_is_recorded_and_refused_when_it_cannot_be(make_env, pick):
    env = make_env()
    alloc = pick("pair")[0]
    support = make_person("support")
    assert (
        record_access(support, "logs.read", target_of(alloc, task="frontend"), detail={"kind": "stderr"}, env=env)
        is None
    )
    row = env.audit.events()[0]
    assert (row["event"], row["action"], row["task"], row["allocation"]) == (
        "accessed",
        "logs.read",
        "frontend",
        alloc["ID"],
    )
    assert [r["outcome"] for r in audit_view(support, env=env).rows] == ["accessed"]
    with env.audit.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_head"))
    problem = record_access(support, "alloc.raw_json", target_of(alloc), env=env)
    assert problem and "audit trail is unavailable" in problem
