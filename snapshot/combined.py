"""One Snapshot for the whole fleet out of each cluster's refresher (issue 12).

Each cluster keeps its own refresher (``RefresherOwner`` holds one per cluster name); this
module only combines their current snapshots: frames via ``views.fleet_merge``, and each
source's status under the cluster's name ("ca-west: Nomad jobs"), so the problems banner names
the cluster. A cluster that never answered adds no rows and never blanks the others; one that
stops answering keeps its last good data with its age, as a single cluster does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from views.fleet_merge import combine_frames
from views.words import ago_words

from .model import Snapshot, utcnow

__all__ = ["FleetSnapshot", "combine", "unreachable"]


@dataclass(frozen=True)
class FleetSnapshot(Snapshot):
    """A Snapshot of several clusters; ``down``: the clusters not answering at all."""

    down: tuple[str, ...] = ()
    last_good: tuple[datetime | None, ...] = ()  # per cluster in ``down``: its data's time
    down_errors: tuple[str, ...] = ()

    def problems(self, now: datetime | None = None) -> list[str]:
        """One line per cluster that does not answer (naming it), then the other clusters' problems."""
        now = now or utcnow()
        lines = []
        for name, good, error in zip(self.down, self.last_good, self.down_errors, strict=True):
            tail = (
                "No data from it yet."
                if good is None
                else f"Showing its data from {ago_words((now - good).total_seconds())}."
            )
            lines.append(f"Cluster {name} is not answering ({error}). {tail} The other clusters are current.")
        prefixes = tuple(f"{name}: " for name in self.down)
        return lines + [p for p in Snapshot.problems(self, now) if not p.startswith(prefixes)]


def unreachable(snaps: Mapping[str, Snapshot]) -> list[str]:
    """Clusters that cannot be reached: a source's last attempt found no server (or no answer in
    time) and no source has answered since. (A source inside a blocking query still counts as
    fine until the server would have answered; the first refused connection says enough.)"""
    out = []
    for name, snap in snaps.items():
        gone = [s for s in snap.failing() if s.error_kind in ("unavailable", "timed_out")]
        if not gone:
            continue
        since = min(s.last_attempt for s in gone if s.last_attempt is not None)  # failing() has attempted
        if not any(s.ok and s.last_success is not None and s.last_success > since for s in snap.sources.values()):
            out.append(name)
    return out


def combine(snaps: Mapping[str, Snapshot]) -> Snapshot:
    """The fleet's Snapshot (``cluster``: the clusters' names, comma-separated)."""
    if len(snaps) == 1:
        return next(iter(snaps.values()))
    with_data = {name: s for name, s in snaps.items() if s.has_data}
    sources = {}
    for name, s in snaps.items():
        for status in s.sources.values():
            label = f"{name}: {status.label}"
            sources[label] = replace(status, name=label)
    built = [s.built_at for s in with_data.values() if s.built_at is not None]
    errors = [f"{name}: {s.build_error}" for name, s in snaps.items() if s.build_error]
    down = unreachable(snaps)
    return FleetSnapshot(
        down=tuple(down),
        last_good=tuple(snaps[n].built_at if snaps[n].has_data else None for n in down),
        down_errors=tuple(next((x.error for x in snaps[n].failing() if x.error), "no answer") for n in down),
        cluster=", ".join(snaps),
        frames=combine_frames({name: s.frames for name, s in with_data.items()}),
        sources=sources,
        built_at=max(built) if built else None,
        build_error="; ".join(errors) or None,
        generation=sum(s.generation for s in snaps.values()),
    )
