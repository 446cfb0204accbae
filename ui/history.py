"""The deployment history for the pages: read through history.read, cached briefly, errors in words.

Pages never touch the store: they call ``deployments()`` here. The cache key includes the
recorder's write counter, so a page sees a new deployment as soon as this process records it
(another instance's writes within 15 s), and the database is read once per change however many
people look.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from history import read as history_read
from history import recorder as history_recorder
from ui import runtime


@st.cache_data(ttl=15, show_spinner=False, max_entries=8)
def _load(clusters: tuple[str, ...], versions: tuple[int, ...], drawn: tuple | None = None) -> pd.DataFrame:
    if len(clusters) == 1:
        return history_read.history(cluster=clusters[0])
    frame = history_read.history()  # one read; rows of clusters no longer configured are left out
    return frame[frame["cluster"].isin(clusters)].reset_index(drop=True)


def _recorders() -> list:
    """Every shown cluster's recorder (the ?cluster= filter narrows to one), each keyed by its cluster."""
    names = runtime.cluster_names()
    wanted = runtime.selected_cluster()
    if wanted in names:
        names = [wanted]
    return [history_recorder.ensure_recording(runtime.refresher(name)) for name in names]


_stamps: dict[tuple[str, ...], tuple[float, tuple[int, int, int]]] = {}  # clusters -> (read at, stamp)


def stamp(max_age: float = 0.0) -> tuple[int, int, int] | None:
    """What the recorded history of the clusters shown is now, in one cheap aggregate (None when the
    store cannot be read): a page draws with a fresh one and ``follow`` compares it with the newest
    read at most ``max_age`` seconds ago, for every session. One cache, always the newest read, so a
    check never sees an older stamp than the one its page drew from (that would redraw for nothing)."""
    from store.db import StoreUnavailable

    clusters = tuple(r.cluster for r in _recorders())
    found = _stamps.get(clusters)
    if found is not None and time.monotonic() - found[0] < max_age:
        return found[1]
    try:
        now = history_read.stamp(clusters=clusters)
    except StoreUnavailable:
        return None
    _stamps[clusters] = (time.monotonic(), now)
    return now


def deployments(drawn: tuple[int, int, int] | None = None) -> tuple[pd.DataFrame, str]:
    """(the recorded deployments of the clusters shown, each row with its cluster, "") or (an empty
    frame, what went wrong in words). ``drawn``: the ``stamp()`` the page is drawing, so a changed
    history is read again at once (another instance's writes too), not after the cache's 15 s."""
    from store.db import StoreUnavailable
    from views import deploy_history

    recs = _recorders()
    try:
        frame = _load(tuple(r.cluster for r in recs), tuple(r.version for r in recs), drawn)
    except StoreUnavailable as err:
        return deploy_history.to_frame([]), str(err)
    return frame, ""


def follow(drawn: tuple[int, int, int] | None, every: float) -> None:
    """Redraw the whole page when the recorded history is no longer the one it was drawn from:
    checked every ``every`` seconds for one aggregate (cached for every session), so a page left open
    shows new deployments and a rollout's progress without a reload, and an unchanged history costs
    next to nothing (charts are not redrawn)."""

    @st.fragment(run_every=every)
    def _check() -> None:
        if stamp(max_age=every / 2) != drawn:
            st.rerun()

    _check()


def recorder_status() -> tuple[int, str | None]:
    """(rows recorded by this process so far, the recorders' last error or None)."""
    recs = [history_recorder.recorder_for(runtime.refresher(name)) for name in runtime.cluster_names()]
    found = [r for r in recs if r is not None]
    errors = [f"{r.cluster}: {r.last_error}" if len(found) > 1 else r.last_error for r in found if r.last_error]
    return sum(r.written for r in found), (errors[0] if errors else None)
