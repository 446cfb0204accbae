"""A page waits for a cluster's data only while there is nothing to show yet (ui.runtime.first_data).

The two-cluster demo's sidebar clicks took 4-8 s on an idle machine: every page run waited, twice,
for each cluster's builder to include its sources' latest answers, which on a live cluster keep
coming. A cluster with data on screen is handed out at once; a fresh one (a source that never
answered) is waited for, and an unreachable one is not waited for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from snapshot.model import Snapshot, SourceStatus
from ui import runtime

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def status(name: str, *, answered: datetime | None, ok: bool = True) -> SourceStatus:
    return SourceStatus(
        name=name,
        ok=ok,
        error=None if ok else "Nomad did not answer.",
        last_success=answered if ok else None,
        last_attempt=answered,
    )


def snap(cluster: str, built_at: datetime | None, **answered: datetime | None) -> Snapshot:
    sources = {n: status(n, answered=at) for n, at in answered.items()}
    return Snapshot(cluster=cluster, frames=None, sources=sources, built_at=built_at)


class Looks:
    """``current()`` for first_data: the given sequence of snapshot sets, counting the looks."""

    def __init__(self, *sequence: dict[str, Snapshot]):
        self.sequence, self.count = list(sequence), 0

    def __call__(self) -> dict[str, Snapshot]:
        self.count += 1
        return self.sequence[min(self.count, len(self.sequence)) - 1]


def test_a_live_cluster_whose_sources_answered_after_the_build_is_shown_at_once():
    # Both clusters built at T0; their allocations answered again since: the next build is due.
    live = {
        "ca-east": snap("ca-east", T0, jobs=T0, allocations=T0 + timedelta(seconds=2)),
        "ca-west": snap("ca-west", T0, jobs=T0 + timedelta(seconds=1), allocations=T0),
    }
    looks = Looks(live)
    assert runtime.first_data(looks, wait=30) == live
    assert looks.count == 1


def test_a_fresh_cluster_is_waited_for_until_its_sources_have_answered():
    fresh = {"ca-east": snap("ca-east", T0, jobs=T0), "ca-west": snap("ca-west", None, jobs=None)}
    later = {"ca-east": fresh["ca-east"], "ca-west": snap("ca-west", T0, jobs=T0)}
    looks = Looks(fresh, fresh, later)
    assert runtime.first_data(looks, wait=30) == later
    assert looks.count == 3


def test_an_unreachable_cluster_is_not_waited_for():
    down = Snapshot(
        cluster="ca-west",
        frames=None,
        sources={"jobs": status("jobs", answered=T0, ok=False)},
        built_at=None,
    )
    looks = Looks({"ca-east": snap("ca-east", T0, jobs=T0), "ca-west": down})
    runtime.first_data(looks, wait=30)
    assert looks.count == 1
