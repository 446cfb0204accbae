"""The audit trail: hash chain, verify catching edits/deletions/reordering, guards under concurrency.

Every test runs on a SQLite file and on a real PostgreSQL server (``store_url``, tests/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from store import db
from store.audit import Actor, AuditStore, Entry, Guards, Refused, new_request_id
from store.db import StoreUnavailable

ROOT = Path(__file__).resolve().parents[2]
ALICE = Actor("alice-sub", "alice@example.test", "Alice", ("dash-support",), ("support",))
BOB = Actor("bob-sub", "bob@example.test", "Bob", ("dash-support",), ("support",))
TARGET = {"cluster": "default", "namespace": "acme", "client": "acme", "job": "acme-web", "allocation": "a" * 36}


def entry(actor=ALICE, event="requested", request_id=None, **kw) -> Entry:
    return Entry(request_id or new_request_id(), event, actor, kw.pop("action", "alloc.restart"), TARGET, **kw)


@pytest.fixture
def audit(migrated_url):
    return AuditStore(migrated_url)


def sql(audit, statement, **params):
    with audit.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_records_chain_and_verify(audit):
    first = audit.request(entry(reason="stuck after deploy", ticket="SUP-1"))
    done = audit.append(entry(event="succeeded", request_id=first["request_id"], detail={"nomad": {"Index": 0}}))
    assert (first["seq"], done["seq"]) == (1, 2)
    assert done["prev_hash"] == first["hash"] and first["prev_hash"] == "0" * 64
    rows = audit.events(request_id=first["request_id"])
    assert [r["event"] for r in rows] == ["requested", "succeeded"]
    assert rows[0]["reason"] == "stuck after deploy" and rows[0]["ticket"] == "SUP-1"
    assert json.loads(rows[0]["actor_groups"]) == ["dash-support"] and rows[0]["actor_email"] == "alice@example.test"
    assert rows[0]["at"].endswith("Z")
    result = audit.verify()
    assert result.ok and result.checked == 2


def _three(audit):
    for i in range(3):
        audit.append(entry(event="accessed", action="logs.read", reason=f"look {i}"))


@pytest.mark.parametrize(
    "column,value",
    [
        ("reason", "nothing to see"),
        ("actor_subject", "mallory"),
        ("at", "2020-01-01T00:00:00.000000Z"),
        ("event", "failed"),
    ],
)
def test_verify_catches_an_edited_field(audit, column, value):
    _three(audit)
    sql(audit, f"UPDATE audit_events SET {column} = :v WHERE seq = 2", v=value)
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2 and "edited" in result.problem


def test_verify_catches_an_edit_with_a_recomputed_hash(audit):
    from store.audit import record_hash

    _three(audit)
    row = next(r for r in audit.events() if r["seq"] == 2)
    row["reason"] = "rewritten"
    sql(audit, "UPDATE audit_events SET reason = :r, hash = :h WHERE seq = 2", r="rewritten", h=record_hash(row))
    result = audit.verify()
    assert not result.ok and result.broken_seq == 3 and "link" in result.problem


def test_verify_catches_a_deleted_row(audit):
    _three(audit)
    sql(audit, "DELETE FROM audit_events WHERE seq = 2")
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2 and "missing" in result.problem


def test_verify_catches_the_newest_row_deleted(audit):
    _three(audit)
    sql(audit, "DELETE FROM audit_events WHERE seq = 3")
    result = audit.verify()
    assert not result.ok and result.broken_seq == 3 and "deleted" in result.problem


def test_verify_catches_reordered_rows(audit):
    _three(audit)
    sql(audit, "UPDATE audit_events SET seq = -2 WHERE seq = 2")
    sql(audit, "UPDATE audit_events SET seq = 2 WHERE seq = 3")
    sql(audit, "UPDATE audit_events SET seq = 3 WHERE seq = -2")
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2


def test_cli_verify_and_export(audit, tmp_path):
    _three(audit)
    run = [sys.executable, "-m", "store", "--database-url", audit.url]
    ok = subprocess.run([*run, "verify"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "intact (3 records" in ok.stdout
    out = tmp_path / "audit.jsonl"
    exp = subprocess.run(
        [*run, "export", "--since", "2000-01-01", "--format", "jsonl", "-o", str(out)], cwd=ROOT, timeout=60
    )
    assert exp.returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["reason"] for r in lines] == ["look 0", "look 1", "look 2"]
    future = subprocess.run([*run, "export", "--since", "2999-01-01"], cwd=ROOT, capture_output=True, text=True)
    assert future.stdout.splitlines() == [",".join(lines[0].keys())]  # the CSV header, no rows
    sql(audit, "UPDATE audit_events SET reason = 'x' WHERE seq = 1")
    bad = subprocess.run([*run, "verify"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "broken at record 1" in bad.stderr


def test_csv_export_defuses_spreadsheet_formulas(audit):
    from store.audit import export

    audit.append(entry(event="accessed", reason='=HYPERLINK("http://x")'))
    csv_text = "".join(export(audit.events(), "csv"))
    assert "'=HYPERLINK" in csv_text


def test_many_threads_and_two_processes_append_without_forking_the_chain(audit):
    code = (
        "import sys\n"
        "from store.audit import AuditStore, Entry, Actor, new_request_id\n"
        "a = AuditStore(sys.argv[1])\n"
        "for i in range(15):\n"
        "    a.append(Entry(new_request_id(), 'accessed', Actor(sys.argv[2]), 'logs.read', {'client': 'acme'}))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, audit.url, f"proc{i}"], cwd=ROOT, stderr=subprocess.PIPE)
        for i in range(2)
    ]
    errors = []

    def writer(n):
        try:
            for _ in range(10):
                audit.append(entry(actor=Actor(f"thread{n}"), event="accessed"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    outs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o.decode()[-1500:] for o in outs]
    assert errors == []
    rows = audit.events()
    assert len(rows) == 6 * 10 + 2 * 15
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert audit.verify().ok


def test_cooldown_gives_exactly_one_go_to_many_threads(audit):
    guards = Guards(cooldown_key="alloc.restart:default/" + "a" * 36, cooldown_seconds=60)
    results = []
    barrier = threading.Barrier(8)

    def attempt(actor):
        barrier.wait()
        try:
            audit.request(entry(actor=actor), guards)
            results.append("go")
        except Refused as err:
            results.append(err.message)

    threads = [threading.Thread(target=attempt, args=(ALICE if i % 2 else BOB,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count("go") == 1
    refusals = [r for r in results if r != "go"]
    assert len(refusals) == 7 and all("just done by" in r and "Nothing was done" in r for r in refusals)
    assert len(audit.events(event="denied")) == 7 and audit.verify().ok


def test_cooldown_expires(migrated_url):
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    audit = AuditStore(migrated_url, clock=lambda: now[0])
    guards = Guards(cooldown_key="k", cooldown_seconds=60)
    audit.request(entry(), guards)
    now[0] += timedelta(seconds=30)
    with pytest.raises(Refused, match="can be done again in 30 seconds"):
        audit.request(entry(actor=BOB), guards)
    now[0] += timedelta(seconds=31)
    audit.request(entry(actor=BOB), guards)


def test_rate_limit_counts_the_persons_actions_in_the_window(migrated_url):
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    audit = AuditStore(migrated_url, clock=lambda: now[0])
    guards = Guards(rate_limit=3, rate_window_seconds=600, rate_actions=("alloc.restart",))
    for _ in range(3):
        audit.request(entry(), guards)
        now[0] += timedelta(seconds=10)
    with pytest.raises(Refused, match=r"3 actions in the last 10 minutes") as refused:
        audit.request(entry(), guards)
    assert refused.value.guard == "rate_limit"
    audit.request(entry(actor=BOB), guards)  # someone else is not limited by Alice's actions
    with pytest.raises(Refused):  # a denied attempt does not reset or extend anything by itself
        audit.request(entry(), guards)
    now[0] += timedelta(minutes=10)
    audit.request(entry(), guards)


def test_lease_allows_one_holder_until_released_or_expired(migrated_url):
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    audit = AuditStore(migrated_url, clock=lambda: now[0])
    first = entry(action="group.rolling_restart")
    guards = Guards(lease_name="rolling:default/acme/acme-web/web", lease_seconds=60, lease_holder="p1")
    audit.request(first, guards)
    with pytest.raises(Refused, match="already running \\(started by Alice\\)"):
        audit.request(entry(actor=BOB, action="group.rolling_restart"), guards)
    assert audit.renew_lease(guards.lease_name, first.request_id, 60)
    audit.release_lease(guards.lease_name, first.request_id)
    audit.request(entry(actor=BOB, action="group.rolling_restart"), guards)
    now[0] += timedelta(seconds=61)  # Bob's process died: the lease runs out
    audit.request(entry(action="group.rolling_restart"), guards)


def test_an_unreachable_store_says_the_audit_trail_is_unavailable(migrated_url):
    audit = AuditStore(migrated_url)
    if db.is_sqlite(migrated_url):
        sql(audit, "DROP TABLE audit_head")
    else:
        sql(audit, "ALTER TABLE audit_head RENAME TO audit_head_gone")
    with pytest.raises(StoreUnavailable, match="audit trail is unavailable"):
        audit.request(entry())
    assert audit.events() == []  # the transaction rolled back: no half-written record
