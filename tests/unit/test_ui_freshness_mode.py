"""The freshness line says how Nomad and Consul are followed (issue 13): Nomad live from the event
stream, or blocking queries because the stream was refused (nothing extra for plain blocking
queries); Consul by its follower (failing checks live, the changed allocations' instances looked
up) or by whole lists (DASHBOARD_CONSUL_DELTA=0)."""

from __future__ import annotations

from dataclasses import replace

from snapshot.consul_follow import MODE_FOLLOW, MODE_LISTS
from snapshot.follower import MODE_BLOCKING, MODE_REFUSED, MODE_STREAM
from snapshot.model import Snapshot, SourceStatus
from ui.freshness import _mode_words


def _snap(mode: str, consul: str | None = MODE_FOLLOW) -> Snapshot:
    base = SourceStatus("allocations", True, None, None, None)
    sources = {
        "allocations": replace(base, mode=mode),
        "jobs": replace(base, name="jobs"),
    }
    if consul is not None:
        sources["consul_checks"] = replace(base, name="consul_checks", system="Consul", mode=consul)
    return Snapshot(cluster="prod", frames=None, sources=sources, built_at=None)


def test_the_freshness_line_names_the_way_nomad_is_followed():
    assert "live from its event stream" in _mode_words(_snap(MODE_STREAM))
    assert "refused" in _mode_words(_snap(MODE_REFUSED)) and "blocking" in _mode_words(_snap(MODE_REFUSED))
    assert _mode_words(_snap(MODE_BLOCKING, consul=None)) == ""


def test_the_freshness_line_names_the_way_consul_is_followed():
    follow = _mode_words(_snap(MODE_BLOCKING))
    assert "Consul" in follow and "failing checks live" in follow and "allocations change" in follow
    lists = _mode_words(_snap(MODE_STREAM, consul=MODE_LISTS))
    assert "Nomad changes live" in lists and "Consul: whole lists" in lists
