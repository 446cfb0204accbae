"""The freshness line ("as of 14:03:12, 4 s ago") and the warning banner when a source fails."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from ui.clock import local
from ui.tables import md_text
from views.words import ago_words


def _mode_words(snap) -> str:
    """How Nomad and Consul are followed (issue 13): each source's mode, said once per system."""
    return _nomad_words(snap) + _consul_words(snap)


def _modes(snap, system: str) -> set[str]:
    return {getattr(s, "mode", "blocking queries") for s in snap.sources.values() if s.system == system}


def _nomad_words(snap) -> str:
    modes = _modes(snap, "Nomad")
    if any("refused" in m for m in modes):
        return " · Nomad event stream refused: following the lists with blocking queries"
    if "event stream" in modes:
        return " · Nomad changes live from its event stream"
    return ""


def _consul_words(snap) -> str:
    modes = _modes(snap, "Consul")
    if not modes:
        return ""
    if "failing checks and changed allocations" in modes:
        return " · Consul: failing checks live, instances looked up as allocations change"
    return " · Consul: whole lists re-read on every change"


def render(snap, *, now: datetime | None = None) -> bool:
    """Render the freshness caption and any problem banner. Returns False when there is no data at all."""
    now = now or datetime.now(UTC)
    problems = snap.problems(now)
    if not snap.has_data:
        st.warning(
            "No data yet from the cluster.\n\n" + "\n\n".join(f"- {md_text(p)}" for p in problems)
            if problems
            else "Waiting for the first answer from the cluster…",
            icon=":material/hourglass_empty:",
        )
        return False
    age = snap.age_seconds(now)
    as_of = local(snap.confirmed_at(now)).strftime("%H:%M:%S")
    st.caption(
        f":material/schedule: Data as of **{as_of}**, {ago_words(age)} · cluster {md_text(snap.cluster)}"
        + _mode_words(snap)
    )
    if problems:
        st.warning(
            "**Some data could not be refreshed; showing the last good data.**\n\n"
            + "\n".join(f"- {md_text(p)}" for p in problems),
            icon=":material/warning:",
        )
    return True
