"""The freshness line says how Nomad is followed (issue 13): live from the event stream, or
blocking queries because the stream was refused; nothing extra for plain blocking queries."""

from __future__ import annotations

from dataclasses import replace

from snapshot.follower import MODE_BLOCKING, MODE_REFUSED, MODE_STREAM
from snapshot.model import Snapshot, SourceStatus
from ui.freshness import _mode_words


def _snap(mode: str) -> Snapshot:
    base = SourceStatus("allocations", True, None, None, None)
    sources = {
        "allocations": replace(base, mode=mode),
        "jobs": replace(base, name="jobs"),
        "consul_checks": replace(base, name="consul_checks", system="Consul"),
    }
    return Snapshot(cluster="prod", frames=None, sources=sources, built_at=None)


def test_the_freshness_line_names_the_way_nomad_is_followed():
    assert "live from its event stream" in _mode_words(_snap(MODE_STREAM))
    assert "refused" in _mode_words(_snap(MODE_REFUSED)) and "blocking" in _mode_words(_snap(MODE_REFUSED))
    assert _mode_words(_snap(MODE_BLOCKING)) == ""
