"""Deployment history charts: what a person sees (traces, counts, colours, the trend line)."""

from __future__ import annotations

import pandas as pd
import pytest

from charts import deploy_history as ch
from views import deploy_history as h
from views import deploy_metrics as m
from views.status import DEPLOYMENT_STATUS_COLORS

T0 = pd.Timestamp("2026-03-02T12:00:00Z")
NS = 10**9


def rec(i, status, day, minutes=10, desc=""):
    create = int((T0 + pd.Timedelta(days=day)).value)
    return {
        "cluster": "prod",
        "deployment_id": f"d{i}",
        "client": f"c{i % 3}",
        "namespace": f"c{i % 3}",
        "job_id": f"c{i % 3}-web",
        "status": status,
        "status_description": desc,
        "create_ns": create,
        "modify_ns": create + minutes * 60 * NS,
        "duration_s": minutes * 60.0 if status != "running" else None,
        "modify_index": i,
    }


@pytest.fixture
def history():
    return h.to_frame(
        [
            rec(1, "successful", 0),
            rec(2, "successful", 0, 20),
            rec(3, "failed", 1, 30, "Failed due to unhealthy allocations - rolling back to job version 2"),
            rec(4, "successful", 8),
            rec(5, "failed", 8, 5, "Failed due to progress deadline"),
            rec(6, "cancelled", 15, 2, "Cancelled due to newer version of job"),
            rec(7, "successful", 15),
            rec(8, "running", 15),
        ]
    )


def test_deployments_per_day_stack_by_outcome(history):
    fig = ch.outcomes_per_day(m.per_bucket(history, "UTC", "D"))
    names = [t.name for t in fig.data]
    assert names == ["successful", "failed", "cancelled", "running"]
    ok = fig.data[0]
    assert list(ok.y) == [2, 0, 1, 1] and ok.marker.color == DEPLOYMENT_STATUS_COLORS["successful"]
    assert fig.layout.barmode == "stack"


def test_weekly_success_rate_with_a_trend(history):
    fig = ch.weekly_success(m.per_bucket(history, "UTC", "W"))
    rate, line = fig.data
    assert list(rate.y) == [66.7, 50.0, 100.0]
    assert line.name == "trend" and list(line.y) == pytest.approx(
        [55.6, 72.2, 88.9], abs=0.05
    )  # slope (100 - 66.7) / 2 through the mean 72.2


def test_duration_distribution_in_minutes(history):
    fig = ch.duration_distribution(history)
    by_name = {t.name: sorted(t.x) for t in fig.data}
    assert by_name == {"successful": [10.0, 10.0, 10.0, 20.0], "failed": [5.0, 30.0], "cancelled": [2.0]}


def test_failure_reasons_split_auto_reverted(history):
    fig = ch.failure_reasons(m.failure_reasons(history))
    plain, reverted = fig.data
    assert list(plain.y) == ["cancelled by a newer version", "unhealthy allocations", "progress deadline"]
    assert list(plain.x) == [1, 0, 1] and list(reverted.x) == [0, 1, 0]
    assert reverted.name == "auto-reverted"


def test_empty_history_says_so():
    empty = h.to_frame([])
    for fig in (
        ch.outcomes_per_day(m.per_bucket(empty, "UTC", "D")),
        ch.weekly_success(m.per_bucket(empty, "UTC", "W")),
        ch.duration_distribution(empty),
        ch.failure_reasons(m.failure_reasons(empty)),
    ):
        assert not fig.data and fig.layout.annotations[0].text.startswith("No ")
