"""The sign-out record: identities issued before a person's last sign-out, or in the future, are refused."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from auth import signouts
from auth.signouts import FUTURE, SIGNED_OUT, SignoutFile, refusal

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def claims(sub="alice", *, at: datetime):
    return {"sub": sub, "iat": int(at.timestamp())}


def test_an_identity_issued_before_the_last_sign_out_is_refused_and_a_new_one_is_not(tmp_path):
    store = SignoutFile(tmp_path / "signouts.json")
    saved_cookie = claims(at=NOW - timedelta(minutes=5))
    assert refusal(saved_cookie, store, NOW) is None
    signouts.record_signout("alice", store, NOW - timedelta(minutes=1))
    assert refusal(saved_cookie, store, NOW) == SIGNED_OUT
    assert refusal(claims(at=NOW - timedelta(seconds=30)), store, NOW) is None  # signed in again since
    assert refusal(claims("bob", at=NOW - timedelta(minutes=5)), store, NOW) is None  # only that person


def test_the_record_survives_a_restart_and_names_nobody(tmp_path):
    path = tmp_path / "state" / "signouts.json"
    signouts.record_signout({"sub": "alice@example.test"}, SignoutFile(path), NOW)
    assert refusal(claims("alice@example.test", at=NOW - timedelta(hours=1)), SignoutFile(path), NOW) == SIGNED_OUT
    assert "alice" not in path.read_text()
    assert len(json.loads(path.read_text())) == 1


def test_an_identity_issued_more_than_a_minute_in_the_future_is_refused(tmp_path):
    store = SignoutFile(tmp_path / "s.json")
    assert refusal(claims(at=NOW + timedelta(minutes=2)), store, NOW) == FUTURE
    assert refusal(claims(at=NOW + timedelta(seconds=50)), store, NOW) is None  # a little clock skew is fine


def test_concurrent_sign_outs_are_all_kept(tmp_path):
    store = SignoutFile(tmp_path / "s.json")
    threads = [threading.Thread(target=signouts.record_signout, args=(f"user{i}", store, NOW)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    fresh = SignoutFile(tmp_path / "s.json")
    assert all(fresh.last_signout(f"user{i}") == NOW.timestamp() for i in range(8))


def test_a_damaged_file_refuses_nobody_and_is_rewritten_on_the_next_sign_out(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    store = SignoutFile(path)
    assert refusal(claims(at=NOW - timedelta(hours=1)), store, NOW) is None
    signouts.record_signout("alice", store, NOW)
    assert refusal(claims(at=NOW - timedelta(hours=1)), store, NOW) == SIGNED_OUT
