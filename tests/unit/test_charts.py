"""Charts: assert on the figure data a person would see (traces, counts, colours)."""

from __future__ import annotations

import pandas as pd
import pytest

import charts
import views
from views.status import SEVERITY_COLORS

NOW = pd.Timestamp("2026-01-14T12:00:00Z")
H = 3600 * 10**9


@pytest.fixture(scope="module")
def frames():
    ev = [
        {"Time": NOW.value - 3 * H, "Type": "Started", "DisplayMessage": "started"},
        {"Time": NOW.value - 2 * H, "Type": "Restarting", "DisplayMessage": "restarting"},
        {"Time": NOW.value - 1 * H, "Type": "Terminated", "DisplayMessage": "Exit Code: 2", "ExitCode": 2},
    ]
    allocs = [
        {
            "ID": "11111111-0000-0000-0000-000000000000",
            "Namespace": "acme",
            "JobID": "acme-web",
            "ClientStatus": "failed",
            "TaskStates": {"web": {"Events": ev}},
        },
        {
            "ID": "22222222-0000-0000-0000-000000000000",
            "Namespace": "beta",
            "JobID": "beta-web",
            "ClientStatus": "running",
            "TaskStates": {"web": {"Events": ev[:1]}},
        },
    ]
    deps = [
        {
            "ID": f"d{i}",
            "Namespace": "acme",
            "JobID": "acme-web",
            "JobVersion": i,
            "Status": st,
            "CreateIndex": i,
            "ModifyTime": NOW.value - days * 24 * H,
        }
        for i, (st, days) in enumerate(
            [("successful", 9), ("failed", 8), ("successful", 1), ("successful", 0), ("cancelled", 0), ("running", 0)]
        )
    ]
    return views.build_frames({"allocations": allocs, "deployments": deps}, cluster="c", now=NOW)


def test_activity_timeline_traces_by_kind_and_severity(frames):
    fig = charts.activity_timeline(frames.task_events, frames.deployments, client="acme")
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {
        "task event · error",
        "task event · warning",
        "task event · info",
        "deployment · error",
        "deployment · warning",
        "deployment · info",
    }
    assert len(by_name["task event · error"].x) == 1  # Terminated with exit code 2
    assert len(by_name["task event · info"].x) == 1  # only acme's Started, not beta's
    assert len(by_name["deployment · info"].x) == 4 and len(by_name["deployment · error"].x) == 1
    for name, t in by_name.items():
        kind, sev = name.split(" · ")
        assert t.marker.color == SEVERITY_COLORS[sev]
        assert t.marker.symbol == ("circle" if kind == "task event" else "diamond")
        assert set(t.y) == {"acme-web"}


def test_activity_timeline_since_and_empty(frames):
    fig = charts.activity_timeline(
        frames.task_events, frames.deployments, client="acme", since=NOW - pd.Timedelta(hours=90)
    )
    names = {t.name for t in fig.data}
    assert "deployment · error" not in names  # 8 days ago
    assert sum(len(t.x) for t in fig.data) == 3 + 4
    empty = charts.activity_timeline(frames.task_events, frames.deployments, client="nobody")
    assert len(empty.data) == 0 and empty.layout.annotations[0].text == "No activity"


def test_activity_timeline_on_a_client_page(frames):
    fig = charts.activity_timeline(frames.task_events, frames.deployments, client="acme", title=None)
    assert not fig.layout.title.text and fig.layout.margin.t >= 40  # room for the legend above the top lane
    assert list(fig.layout.yaxis.tickvals) == ["acme-web"] and list(fig.layout.yaxis.ticktext) == ["web"]
    assert fig.layout.height >= 180 and fig.layout.legend.orientation == "h"
    hover = {t.name: list(t.hovertext) for t in fig.data}
    assert any("Terminated" in h for h in hover["task event · error"])
    assert all(h.startswith("deployment v") for h in hover["deployment · info"])
    assert not charts.activity_timeline(frames.task_events, frames.deployments, client="nobody", title=None).data


def test_activity_timeline_reads_in_the_given_time_zone(frames):
    # The Terminated event happened at 11:00 UTC; in Toronto (EST, UTC-5 in January) that is 06:00.
    utc = charts.activity_timeline(frames.task_events, frames.deployments, client="acme")
    toronto = charts.activity_timeline(frames.task_events, frames.deployments, client="acme", tz="America/Toronto")
    assert utc.layout.xaxis.title.text == "time (UTC)"
    assert toronto.layout.xaxis.title.text == "time (America/Toronto)"
    at_utc = pd.Timestamp(list({t.name: t for t in utc.data}["task event · error"].x)[0])
    at_toronto = pd.Timestamp(list({t.name: t for t in toronto.data}["task event · error"].x)[0])
    assert at_utc == pd.Timestamp("2026-01-14T11:00:00") and at_toronto == pd.Timestamp("2026-01-14T06:00:00")
    # every trace moves, deployments too
    for a, b in zip(utc.data, toronto.data):
        assert [pd.Timestamp(x) - pd.Timedelta(hours=5) for x in a.x] == [pd.Timestamp(x) for x in b.x]


def test_activity_timeline_with_an_unknown_zone_falls_back_to_utc(frames):
    fig = charts.activity_timeline(frames.task_events, frames.deployments, client="acme", tz="Mars/Olympus")
    assert fig.layout.xaxis.title.text == "time (UTC)"


def _one_event(message="Exit Code: 2"):
    allocs = [
        {
            "ID": "33333333-0000-0000-0000-000000000000",
            "Namespace": "acme",
            "JobID": "acme-web",
            "ClientStatus": "failed",
            "TaskStates": {
                "web": {"Events": [{"Time": NOW.value - H, "Type": "Terminated", "DisplayMessage": message}]}
            },
        }
    ]
    return views.build_frames({"allocations": allocs}, cluster="c", now=NOW)


def test_activity_timeline_with_one_event_spans_an_hour_not_milliseconds():
    f = _one_event()
    fig = charts.activity_timeline(f.task_events, f.deployments, client="acme")
    lo, hi = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert hi - lo >= pd.Timedelta(hours=1)
    assert lo < pd.Timestamp(fig.data[0].x[0]) < hi


def test_activity_timeline_legend_sits_above_the_plot_area_with_room_for_it():
    """The legend is drawn above the top lane (y > 1, in the top margin), not over it."""
    f = _one_event()
    fig = charts.activity_timeline(f.task_events, f.deployments, client="acme", title=None)
    assert fig.layout.legend.yanchor == "bottom" and fig.layout.legend.y > 1.0
    assert fig.layout.margin.t >= 40


def test_activity_timeline_hover_and_lanes_show_cluster_html_as_text():
    f = _one_event('<a href="https://evil.example">click</a><b>x</b>')
    fig = charts.activity_timeline(f.task_events, f.deployments, client="acme")
    hover = fig.data[0].hovertext[0]
    assert "<a " not in hover and "&lt;a href=" in hover
