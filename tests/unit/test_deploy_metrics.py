"""Deployment metrics, table-tested with hand-computed expectations.

Status descriptions are Nomad's own strings: nomad/structs/deployment.go (v1.11.3),
DeploymentStatusDescription* and DeploymentStatusDescriptionRollback ("%s - rolling back to job version %d").
"""

from __future__ import annotations

import pandas as pd
import pytest

from views import deploy_history as h
from views import deploy_metrics as m

T0 = pd.Timestamp("2026-03-02T00:00:00Z")  # a Monday
H = 3600
NS = 10**9
UNHEALTHY = "Failed due to unhealthy allocations"
DEADLINE = "Failed due to progress deadline"
NEWER = "Cancelled due to newer version of job"
OK = "Deployment completed successfully"


def dep(i, client, job, status, start_h, dur_h=0.25, *, app="", jv=1, desc=None, cluster="prod"):
    create = int((T0 + pd.Timedelta(hours=start_h)).value)
    finished = status in ("successful", "failed", "cancelled")
    modify = create + int(dur_h * H * NS)
    return {
        "cluster": cluster,
        "deployment_id": f"d{i:04d}",
        "client": client,
        "namespace": client,
        "job_id": f"{client}-{job}",
        "job_type": "service",
        "datacenters": "ca-tor-1",
        "job_version": jv,
        "app_version": app,
        "status": status,
        "status_description": desc if desc is not None else {"successful": OK, "failed": UNHEALTHY}.get(status, ""),
        "create_ns": create,
        "modify_ns": modify,
        "duration_s": dur_h * H if finished else None,
        "modify_index": 100 + i,
    }


def frame(*records):
    return h.to_frame(records)


@pytest.mark.parametrize(
    "status,description,reason,reverted",
    [
        ("failed", "Failed due to progress deadline", "progress deadline", False),
        ("failed", "Failed due to unhealthy allocations", "unhealthy allocations", False),
        (
            "failed",
            "Failed due to unhealthy allocations - rolling back to job version 3",
            "unhealthy allocations",
            True,
        ),
        ("failed", "Failed due to progress deadline - rolling back to job version 0", "progress deadline", True),
        (
            "failed",
            "Failed due to unhealthy allocations - not rolling back to stable job version 2 as current job has same specification",
            "unhealthy allocations",
            False,
        ),
        (
            "failed",
            "Failed due to progress deadline - no stable job version to auto revert to",
            "progress deadline",
            False,
        ),
        ("failed", "Deployment marked as failed", "manually failed", False),
        ("failed", "Deployment marked as failed - rolling back to job version 1", "manually failed", True),
        ("cancelled", "Cancelled due to newer version of job", "cancelled by a newer version", False),
        ("cancelled", "Cancelled because job is stopped", "job stopped", False),
        ("failed", "Failed because of an error in peer region", "peer region failed", False),
        ("failed", "something new in a later Nomad", "other", False),
        ("successful", "Deployment completed successfully", "", False),
        ("running", "Deployment is running", "", False),
        ("paused", "Deployment is paused", "", False),
    ],
)
def test_failure_reason_from_nomads_status_descriptions(status, description, reason, reverted):
    assert m.failure_reason(status, description) == reason
    assert m.reverted(description) is reverted


def test_success_rate_counts_successes_over_verdicts_cancelled_and_running_excluded():
    df = frame(
        dep(1, "a", "web", "successful", 1),
        dep(2, "a", "web", "successful", 2),
        dep(3, "a", "web", "successful", 3),
        dep(4, "b", "web", "failed", 4),
        dep(5, "b", "web", "cancelled", 5, desc=NEWER),
        dep(6, "b", "web", "running", 6),
    )
    assert m.success_rate(df) == pytest.approx(3 / 4)
    assert m.success_rate(frame()) is None
    assert m.success_rate(frame(dep(1, "a", "web", "running", 1))) is None


def test_change_failure_rate_counts_each_version_of_a_job_once():
    # a/web v2: failed, failed, successful -> one failed change; a/web v3: successful;
    # b/web v2: successful; b/api (no app version) job version 7: failed; b/db v1 only running (no verdict)
    # -> changes: 4, failed 2.
    df = frame(
        dep(1, "a", "web", "failed", 1, app="2.0"),
        dep(2, "a", "web", "failed", 2, app="2.0"),
        dep(3, "a", "web", "successful", 3, app="2.0"),
        dep(4, "a", "web", "successful", 4, app="3.0"),
        dep(5, "b", "web", "successful", 1, app="2.0"),
        dep(6, "b", "api", "failed", 1, jv=7),
        dep(7, "b", "db", "running", 1, app="1.0"),
    )
    assert m.success_rate(df) == pytest.approx(3 / 6)
    assert m.change_failure_rate(df) == pytest.approx(2 / 4)
    assert m.change_failure_rate(frame()) is None


def test_time_to_restore_runs_from_the_first_failure_to_the_next_success_of_the_same_job():
    df = frame(
        # a/web: ok at 1h; fails at 10h (ends 10.25h) and 12h (12.25h); ok at 14h (ends 14.5h) -> 4.25 h
        dep(1, "a", "web", "successful", 1),
        dep(2, "a", "web", "failed", 10),
        dep(3, "a", "web", "failed", 12),
        dep(4, "a", "web", "successful", 14, dur_h=0.5),
        # b/web: fails at 20h (20.25h), ok at 21h (21.25h) -> 1 h; another job's success does not restore it
        dep(5, "b", "api", "successful", 20.5),
        dep(6, "b", "web", "failed", 20),
        dep(7, "b", "web", "successful", 21),
        # c/web: fails at 30h, still failing
        dep(8, "c", "web", "failed", 30),
    )
    inc = m.incidents(df)
    assert [(i.job_id, i.seconds) for i in inc] == [("a-web", 4.25 * H), ("b-web", 1.0 * H), ("c-web", None)]
    # median of 4.25 h and 1 h = 2.625 h; one incident still open
    assert m.time_to_restore(df, T0, T0 + pd.Timedelta(days=7)) == (pytest.approx(2.625 * H), 1)
    # only incidents that opened in the window count; a restore after the window still does
    assert m.time_to_restore(df, T0, T0 + pd.Timedelta(hours=11)) == (pytest.approx(4.25 * H), 0)
    assert m.time_to_restore(df, T0 + pd.Timedelta(hours=25), T0 + pd.Timedelta(days=2)) == (None, 1)


def test_headline_figures_of_a_period_and_the_previous_one():
    df = frame(
        # previous week (Feb 23 - Mar 1): 2 deployments, 1 failed
        dep(1, "a", "web", "successful", -100, dur_h=0.1, app="1.0"),
        dep(2, "b", "web", "failed", -90, dur_h=0.2, app="1.0"),
        # this week: 5 deployments of 2 clients; durations 0.5, 0.25, 1.0, 0.75 h finished; one running
        dep(3, "a", "web", "successful", 1, dur_h=0.5, app="2.0"),
        dep(4, "b", "web", "successful", 2, dur_h=0.25, app="2.0"),
        dep(5, "a", "api", "failed", 3, dur_h=1.0, app="2.0", desc=DEADLINE + " - rolling back to job version 4"),
        dep(6, "a", "api", "successful", 4, dur_h=0.75, app="2.0"),
        dep(7, "b", "api", "running", 5, app="2.0"),
    )
    start, end, pstart, pend = m.period_bounds("this-week", T0 + pd.Timedelta(days=6, hours=12), "UTC")
    assert (start, end) == (T0, T0 + pd.Timedelta(days=6, hours=12))
    assert (pstart, pend) == (T0 - pd.Timedelta(days=7), T0 - pd.Timedelta(hours=12))
    cur = m.headline(df, start, end)
    assert (cur.deployments, cur.successful, cur.failed, cur.cancelled, cur.running) == (5, 3, 1, 0, 1)
    assert cur.success_rate == pytest.approx(3 / 4)
    # changes with a verdict: a/web 2.0, b/web 2.0, a/api 2.0 (failed once); b/api 2.0 is still running
    assert cur.change_failure_rate == pytest.approx(1 / 3)
    assert cur.median_duration_s == pytest.approx(0.625 * H)  # median of 0.25, 0.5, 0.75, 1.0 h
    assert cur.frequency_per_client_week == pytest.approx(5 / 2 / (6.5 / 7))  # 6.5 days = 6.5/7 weeks
    assert cur.time_to_restore_s == pytest.approx((4.75 - 4.0) * H)  # failed at 4.0 h, back at 4.75 h
    assert (cur.open_incidents, cur.reverted) == (0, 1)
    prev = m.headline(df, pstart, pend)
    assert (prev.deployments, prev.failed, prev.success_rate) == (2, 1, 0.5)
    # b/web failed at -90 h (ended -89.8 h); its next success is this week's, ended at 2.25 h
    assert prev.time_to_restore_s == pytest.approx((2.25 + 89.8) * H) and prev.open_incidents == 0


def test_weekly_buckets_follow_the_viewers_calendar_across_a_daylight_saving_change():
    tz = "America/Toronto"  # DST starts Sunday 2026-03-08 02:00 local (EST -5 -> EDT -4)
    times = pd.Series(
        pd.to_datetime(
            [
                "2026-03-02T05:00:00Z",  # Mon 00:00 EST: first instant of the week of Mar 2
                "2026-03-09T03:59:00Z",  # Sun Mar 8 23:59 EDT: still the week of Mar 2 (UTC says Monday)
                "2026-03-09T04:00:00Z",  # Mon Mar 9 00:00 EDT: the next week
                "2026-03-02T04:59:00Z",  # Sun Mar 1 23:59 EST: the week before
            ],
            utc=True,
        )
    )
    weeks = m.bucket_start(times, tz, "W")
    assert [str(w) for w in weeks] == [
        "2026-03-02 00:00:00-05:00",
        "2026-03-02 00:00:00-05:00",
        "2026-03-09 00:00:00-04:00",
        "2026-02-23 00:00:00-05:00",
    ]
    # the week of the change is 167 hours long, and days are calendar days in Toronto
    assert (weeks[2] - weeks[0]) == pd.Timedelta(hours=167)
    days = m.bucket_start(times, tz, "D")
    assert [str(d.date()) for d in days] == ["2026-03-02", "2026-03-08", "2026-03-09", "2026-03-01"]


def test_per_week_counts_and_success_rate_in_local_weeks():
    tz = "America/Toronto"
    base = pd.Timestamp("2026-03-02T05:00:00Z")  # Mon 00:00 EST
    recs = [
        dep(1, "a", "web", "successful", 1),  # T0 + 1h = Mar 2 01:00Z = Sun Mar 1 20:00 EST: week of Feb 23
    ]
    ofs = (base - T0) / pd.Timedelta(hours=1)
    recs += [
        dep(2, "a", "web", "successful", ofs + 1),
        dep(3, "b", "web", "failed", ofs + 2),
        dep(4, "b", "web", "successful", ofs + 24 * 7 - 1.5),  # Sun Mar 8 22:30 EDT: still week of Mar 2
        dep(5, "b", "web", "running", ofs + 24 * 7),  # Mar 9 05:00Z = Mon Mar 9 01:00 EDT: the week of Mar 9
    ]
    df = frame(*recs)
    table = m.per_bucket(df, tz, "W")
    got = {str(r.bucket.date()): (r.successful, r.failed, r.running, r.success_rate) for r in table.itertuples()}
    assert sorted(got) == ["2026-02-23", "2026-03-02", "2026-03-09"]
    assert got["2026-02-23"] == (1, 0, 0, 1.0)
    assert got["2026-03-02"] == (2, 1, 0, pytest.approx(2 / 3))
    assert got["2026-03-09"][:3] == (0, 0, 1) and pd.isna(got["2026-03-09"][3])


def test_period_bounds_this_week_starts_at_local_monday_midnight_after_a_clock_change():
    now = pd.Timestamp("2026-03-10T15:00:00Z")  # Tuesday, after DST began on Sunday
    start, end, pstart, pend = m.period_bounds("this-week", now, "America/Toronto")
    assert start == pd.Timestamp("2026-03-09T04:00:00Z")  # Mon 00:00 EDT
    assert pstart == pd.Timestamp("2026-03-02T05:00:00Z")  # Mon 00:00 EST
    assert pend - pstart == end - start
    start, end, pstart, pend = m.period_bounds("last-week", now, "America/Toronto")
    assert (start, end, pend) == (pd.Timestamp("2026-03-02T05:00:00Z"), pd.Timestamp("2026-03-09T04:00:00Z"), start)
    start, end, pstart, pend = m.period_bounds("30d", now, "UTC")
    assert (end - start, start - pstart, pend) == (pd.Timedelta(days=30), pd.Timedelta(days=30), start)
    with pytest.raises(ValueError, match="unknown period"):
        m.period_bounds("fortnight", now)


def test_trend_is_the_least_squares_line():
    assert m.trend(pd.Series([1.0, 2.0, 3.0])).tolist() == pytest.approx([1.0, 2.0, 3.0])
    line = m.trend(pd.Series([0.0, None, 1.0, 1.0]))  # x=0,2,3 y=0,1,1: slope 5/14, intercept 1/14
    assert line.tolist() == pytest.approx([1 / 14, 6 / 14, 11 / 14, 16 / 14])
    assert m.trend(pd.Series([0.5])).isna().all()


def test_failure_reasons_per_client_and_top_failing_jobs():
    df = frame(
        dep(1, "a", "web", "failed", 1, desc=UNHEALTHY + " - rolling back to job version 1"),
        dep(2, "a", "web", "failed", 2, desc=UNHEALTHY),
        dep(3, "a", "web", "successful", 3),
        dep(4, "a", "api", "failed", 4, desc=DEADLINE),
        dep(5, "b", "web", "cancelled", 5, desc=NEWER),
        dep(6, "b", "web", "successful", 6),
        dep(7, "c", "web", "failed", 7, desc="Deployment marked as failed"),
    )
    reasons = m.failure_reasons(df)
    assert reasons.to_dict("records") == [
        {"reason": "progress deadline", "deployments": 1, "auto_reverted": 0},
        {"reason": "unhealthy allocations", "deployments": 2, "auto_reverted": 1},
        {"reason": "manually failed", "deployments": 1, "auto_reverted": 0},
        {"reason": "cancelled by a newer version", "deployments": 1, "auto_reverted": 0},
    ]
    pc = m.per_client(df)
    assert pc[["client", "deployments", "successful", "failed"]].values.tolist() == [
        ["c", 1, 0, 1],
        ["a", 4, 1, 3],
        ["b", 2, 1, 0],
    ]
    assert pc["success_rate"].tolist() == pytest.approx([0.0, 0.25, 1.0])
    assert pc.set_index("client").loc["a", "last_failure_reason"] == "progress deadline"
    assert pc.set_index("client").loc["a", "last_failure"] == T0 + pd.Timedelta(hours=4)
    top = m.top_failing_jobs(df)
    assert top[["job_id", "failed", "deployments", "main_reason"]].values.tolist() == [
        ["a-web", 2, 3, "unhealthy allocations"],
        ["a-api", 1, 1, "progress deadline"],
        ["c-web", 1, 1, "manually failed"],
    ]


def test_record_from_a_nomad_deployment():
    d = {
        "ID": "5456bd7a-9fc0-c0dd-6131-cbee77f57577",
        "Namespace": "acme",
        "JobID": "acme-web",
        "JobVersion": 3,
        "Status": "failed",
        "StatusDescription": UNHEALTHY + " - rolling back to job version 2",
        "CreateTime": 1_700_000_000 * NS,
        "ModifyTime": 1_700_000_300 * NS,
        "ModifyIndex": 77,
        "TaskGroups": {
            "web": {"AutoRevert": True, "DesiredTotal": 3, "PlacedAllocs": 3, "HealthyAllocs": 1, "UnhealthyAllocs": 2},
            "sidecar": {"DesiredTotal": 1, "DesiredCanaries": 1, "PlacedAllocs": 1, "HealthyAllocs": 1},
        },
    }
    job = {"Type": "service", "Datacenters": ["ca-tor-1", "ca-mtl-1"], "Meta": {"client": "acme"}}
    from views.identity import ClientIdentity

    r = h.record(d, cluster="prod", identity=ClientIdentity.parse("namespace"), job=job, app_version="2.4.1")
    assert (r["client"], r["job_type"], r["datacenters"], r["job_version"], r["app_version"]) == (
        "acme",
        "service",
        "ca-tor-1,ca-mtl-1",
        3,
        "2.4.1",
    )
    assert (r["desired"], r["placed"], r["healthy"], r["unhealthy"], r["canaries"], r["auto_revert"]) == (
        4,
        4,
        2,
        2,
        1,
        True,
    )
    assert r["duration_s"] == 300 and r["modify_index"] == 77
    assert r["groups"]["web"] == {
        "desired": 3,
        "placed": 3,
        "healthy": 1,
        "unhealthy": 2,
        "canaries": 0,
        "auto_revert": True,
    }
    running = h.record({**d, "Status": "running"}, cluster="prod", identity=ClientIdentity.parse("namespace"))
    assert running["duration_s"] is None and running["job_type"] == ""
    df = h.to_frame([r, running])
    assert str(df["create_time"].dtype) == "datetime64[ns, UTC]"
    assert df["duration_s"].tolist()[0] == 300 and pd.isna(df["duration_s"].tolist()[1])


def test_per_client_trend_spans_the_weeks_given_not_only_the_period():
    older = [
        dep(1, "a", "web", "successful", -24 * 14),
        dep(2, "a", "web", "failed", -24 * 7),
        dep(3, "a", "web", "successful", -24 * 7 + 1),
    ]
    period = [dep(4, "a", "web", "successful", 1)]
    df = frame(*older, *period)
    assert m.per_client(frame(*period))["weekly_success"].tolist() == [[1.0]]
    assert m.per_client(frame(*period), trend_from=df)["weekly_success"].tolist() == [[1.0, 0.5, 1.0]]
