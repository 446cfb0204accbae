"""Fleet rollout grouping, table-tested with hand-computed expectations."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from views import deploy_history as h
from views import rollouts as r

T0 = pd.Timestamp("2026-03-02T10:00:00Z")
NS = 10**9
OK = "Deployment completed successfully"
UNHEALTHY_REVERT = "Failed due to unhealthy allocations - rolling back to job version 1"


def dep(i, client, status, minutes, app, *, role="web", dur_min=10, desc=None):
    create = int((T0 + pd.Timedelta(minutes=minutes)).value)
    return {
        "cluster": "prod",
        "deployment_id": f"d{i:03d}",
        "client": client,
        "namespace": client,
        "job_id": f"{client}-{role}",
        "job_version": i,
        "app_version": app,
        "status": status,
        "status_description": desc
        if desc is not None
        else {"successful": OK, "failed": UNHEALTHY_REVERT}.get(status, ""),
        "create_ns": create,
        "modify_ns": create + dur_min * 60 * NS,
        "modify_index": 1000 + i,
    }


def world():
    recs = []
    # last week every client (c1..c7) went to web 1.0
    for k in range(1, 8):
        recs.append(dep(k, f"c{k}", "successful", -7 * 24 * 60 + k, "1.0"))
    # rollout A: web 2.0 to c1..c6 from 10:00; c3 failed then got it again (done); c4 failed (reverted);
    # c6 still running; c7 not started
    recs += [
        dep(11, "c1", "successful", 0, "2.0"),
        dep(12, "c2", "successful", 5, "2.0"),
        dep(13, "c3", "failed", 10, "2.0"),
        dep(14, "c4", "failed", 15, "2.0"),
        dep(15, "c5", "successful", 20, "2.0"),
        dep(16, "c6", "running", 25, "2.0"),
        dep(17, "c3", "successful", 40, "2.0"),
    ]
    # rollout B overlaps A: web 2.1 to c1, c2, c5, c7, c3 from 10:30
    recs += [
        dep(21, "c1", "successful", 30, "2.1"),
        dep(22, "c2", "successful", 35, "2.1"),
        dep(23, "c5", "running", 45, "2.1"),
        dep(24, "c7", "successful", 50, "2.1"),
        dep(25, "c3", "successful", 55, "2.1"),
    ]
    # not a rollout: api 5.0 to two clients only; and web 2.0 again to c1 two days later (outside the window)
    recs += [dep(31, "c1", "successful", 0, "5.0", role="api"), dep(32, "c2", "successful", 0, "5.0", role="api")]
    recs += [dep(41, "c1", "successful", 2 * 24 * 60, "2.0")]
    return h.to_frame(recs)


NOW = T0 + pd.Timedelta(hours=1)


def test_job_role_strips_the_client_prefix():
    assert r.job_role("northern-leaf", "northern-leaf-web") == "web"
    assert r.job_role("acme", "acme-reports-daily") == "reports-daily"
    assert r.job_role("acme", "billing") == "billing"
    assert r.job_role("", "acme-web") == "acme-web"


def test_two_overlapping_rollouts_of_different_versions_and_a_client_that_got_the_version_twice():
    out = r.rollouts(world(), NOW, min_clients=5)
    got = out[["role", "app_version", "fleet", "done", "failed", "running", "cancelled", "not_started", "finished"]]
    assert got.values.tolist() == [
        # newest first: B started 10:30
        ["web", "2.1", 7, 4, 0, 1, 0, 2, False],
        # A: done c1 c2 c3 (second attempt) c5; failed c4; running c6; not started c7
        ["web", "2.0", 7, 4, 1, 1, 0, 1, False],
        # last week's 1.0 to all seven: finished
        ["web", "1.0", 7, 7, 0, 0, 0, 0, True],
    ]
    assert out["started"].tolist()[:2] == [T0 + pd.Timedelta(minutes=30), T0]
    # still going: the duration runs until now; a finished one until its last change (c7 at +7 min, 10 min long)
    assert out["duration_s"].tolist() == [30 * 60.0, 60 * 60.0, (7 + 10 - 1) * 60.0]
    assert out["rollout_id"].tolist()[1] == "prod/web/2.0@20260302T100000Z"
    # the size threshold and the window decide what is a rollout
    assert out_versions(r.rollouts(world(), NOW, min_clients=6)) == ["2.0", "1.0"]
    # api 5.0 (two clients) counts too; it started with web 2.0, and roles sort by name
    assert out_versions(r.rollouts(world(), NOW, min_clients=2)) == ["2.1", "5.0", "2.0", "1.0"]
    # with a 3-day window, c1's re-run two days later joins rollout A as its second attempt
    wide = r.board(world(), "prod/web/2.0@20260302T100000Z", min_clients=5, window=timedelta(days=3))
    assert wide.set_index("client").loc["c1", "attempts"] == 2


def out_versions(df):
    return df["app_version"].tolist()


def test_the_board_says_who_is_on_the_new_version_who_failed_and_why_and_who_is_still_on_the_old_one():
    b = r.board(world(), "prod/web/2.0@20260302T100000Z", min_clients=5)
    rows = {row.client: row for row in b.itertuples()}
    assert b["client"].tolist() == ["c4", "c6", "c7", "c1", "c2", "c3", "c5"]  # failed, running, not started, done
    assert (rows["c4"].state, rows["c4"].reason, rows["c4"].now_on, rows["c4"].previous_version) == (
        "failed",
        "unhealthy allocations (auto-reverted)",
        "1.0",
        "1.0",
    )
    assert (rows["c3"].state, rows["c3"].attempts, rows["c3"].deployment_id) == ("done", 2, "d017")
    assert (rows["c7"].state, rows["c7"].now_on, rows["c7"].attempts) == ("not started", "2.1", 0)
    assert (rows["c6"].state, rows["c6"].now_on) == ("running", "1.0")
    # c1 has since moved on to 2.1, then 2.0 again two days later: "now on" is its latest success
    assert rows["c1"].now_on == "2.0" and rows["c2"].now_on == "2.1"
    assert r.board(world(), "prod/web/9.9@20260302T100000Z").empty


def test_a_finished_rollout_lasts_until_its_last_change():
    recs = [dep(k, f"c{k}", "successful", k * 10, "3.0", dur_min=5) for k in range(1, 6)]
    out = r.rollouts(h.to_frame(recs), NOW + pd.Timedelta(days=1), min_clients=5)
    assert out[["done", "not_started", "finished"]].values.tolist() == [[5, 0, True]]
    assert out["duration_s"].tolist() == [(50 + 5 - 10) * 60.0]


def test_auto_revert_rollbacks_are_not_a_rollout_of_the_old_version():
    # 1.0 to six clients; then 1.1 to six, three of which fail and Nomad rolls back to 1.0
    recs = [dep(k, f"c{k}", "successful", k, "1.0") for k in range(1, 7)]
    recs += [dep(10 + k, f"c{k}", "successful" if k > 3 else "failed", 600 + k, "1.1") for k in range(1, 7)]
    recs += [dep(20 + k, f"c{k}", "successful", 620 + k, "1.0") for k in range(1, 4)]  # the rollbacks
    out = r.rollouts(h.to_frame(recs), T0 + pd.Timedelta(days=2), min_clients=3)
    assert out[["app_version", "done", "failed", "not_started", "status"]].values.tolist() == [
        ["1.1", 3, 3, 0, "finished"],
        ["1.0", 6, 0, 0, "finished"],
    ]
    board = r.board(h.to_frame(recs), out["rollout_id"][0], min_clients=3).set_index("client")
    assert board.loc["c1", "now_on"] == "1.0" and board.loc["c6", "now_on"] == "1.1"


def test_a_rollout_that_reached_part_of_the_fleet_and_went_quiet_is_stopped():
    recs = [dep(k, f"c{k}", "successful", k, "1.0") for k in range(1, 9)]
    recs += [dep(10 + k, f"c{k}", "successful", 600 + k, "2.0") for k in range(1, 6)]
    frame = h.to_frame(recs)
    soon = r.rollouts(frame, T0 + pd.Timedelta(hours=11), min_clients=5)
    later = r.rollouts(frame, T0 + pd.Timedelta(days=3), min_clients=5)
    assert soon["status"].tolist()[0] == "in progress" and later["status"].tolist()[0] == "stopped"
    assert later["not_started"].tolist()[0] == 3
    # a stopped rollout's duration ends at its last change (c5 at +605 min, 10 min long)
    assert later["duration_s"].tolist()[0] == (615 - 601) * 60.0
