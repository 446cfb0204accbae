"""A page's data part that follows the snapshot: its freshness line every few seconds, its tables
only when what they show changed.

A page left open reruns every ``page_refresh_seconds`` to move the ages on its freshness line.
When that rerun redraws the tables too, every open browser re-reads and repaints them although
nothing in them changed (most snapshots change something the page does not show); with 40 people
watching, the browsers' repainting, not the server, was the cost (bench/README.md, sessions).
``follow`` draws the tables once per page run and keeps a timed fragment that only writes the
freshness line and compares what the page would show now with what it drew: when that differs it
reruns the page, so a change still reaches every session within one refresh.

What the page "would show" is its shaped value (``ui.shared``: built once per key for everyone), so
the check costs a dictionary look-up per session; its mark (a hash of the value, kept per key) is
also taken once per key. Ages a page words itself ("3 h ago") are in its value, so they redraw when
the words change; tables whose times the browser words are redrawn once a minute (``browser_ages``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

from ui import freshness, runtime, shared, widgets

MAX_MARKS = 512
_marks: OrderedDict[Hashable, bytes] = OrderedDict()
_lock = threading.Lock()


def _canon(value: Any, depth: int = 0) -> Any:
    """``value`` as plain, comparable data: equal content gives an equal ``repr`` whichever objects
    hold it (pickle would not: it writes a string shared by two cells once, two equal ones twice)."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        body = value.to_json(orient="split", date_format="iso", date_unit="ns", default_handler=repr)
        return ("frame", tuple(map(str, value.dtypes)), body)
    if isinstance(value, pd.Series):
        body = value.to_json(orient="split", date_format="iso", date_unit="ns", default_handler=repr)
        return ("series", str(value.dtype), body)
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    if hasattr(value, "to_plotly_json"):  # a chart: its JSON says everything it draws
        return ("figure", value.to_json())
    if depth < 4 and isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_canon(v, depth + 1) for v in value))
    if depth < 4 and isinstance(value, dict):
        return ("dict", tuple((_canon(k, depth + 1), _canon(v, depth + 1)) for k, v in value.items()))
    return ("pickle", pickle.dumps(value, protocol=5))


def mark_of(value: Any) -> bytes:
    """A digest of ``value``'s content: equal content, equal mark (a value that cannot be read gets
    a mark of its own every time, so it always counts as changed)."""
    try:
        data = repr(_canon(value)).encode()
    except Exception:
        return os.urandom(16)
    return hashlib.blake2b(data, digest_size=16).digest()


def mark(key: Hashable, value: Any) -> bytes:
    """``mark_of(value)``, once per key for the whole process (bounded, least recently used out)."""
    with _lock:
        found = _marks.get(key)
        if found is not None:
            _marks.move_to_end(key)
            return found
    digest = mark_of(value)
    with _lock:
        _marks[key] = digest
        while len(_marks) > MAX_MARKS:
            _marks.popitem(last=False)
    return digest


Shaped = Callable[[Any], tuple[Hashable, Any]]  # snapshot -> (its shared key, the shaped value)
Draw = Callable[[Any, Hashable, Any], None]  # (snapshot, key, value) -> draws the tables


def follow(
    shaped: Shaped,
    draw: Draw,
    *,
    every: float,
    principal: Any,
    browser_ages: bool = False,
    also: Callable[[Any], Hashable] | None = None,
) -> None:
    """Draw the data part of a page (see the module docstring). ``shaped`` must be cheap on a known
    key (``shared.cached``); ``draw`` makes the Streamlit calls and nothing else. ``browser_ages``:
    the tables have times the browser writes as "5 min ago" (DatetimeColumn format "distance"), so
    they are redrawn once a minute even when nothing else changed. ``also``: what else ``draw``
    shows that the snapshot does not hold (e.g. a rolling restart's progress from the store, an
    on-demand read), as comparable values: ``also(value)`` of the shaped value, on every run of this
    session, so it must be cheap too."""
    snap = runtime.snapshot()
    drawn: dict[str, Any] = {}  # "seen": what this page run drew, set by the fragment's first run

    @st.fragment(run_every=every)
    def _watch() -> None:
        widgets.still_signed_in(principal)
        now = runtime.snapshot() if "seen" in drawn else snap
        if freshness.render(now):
            key, value = shaped(now)
            seen: Any = (
                mark(key, value),
                now.cluster,
                runtime.config_version(),
                shared.minute() if browser_ages else 0,
                also(value) if also is not None else None,
            )
        else:
            seen = None  # no data yet: nothing below the line
        if "seen" not in drawn:
            drawn["seen"] = seen
        elif seen != drawn["seen"]:
            st.rerun()  # the whole page, with the tables as they are now

    _watch()
    if drawn.get("seen") is not None:
        key, value = shaped(snap)
        draw(snap, key, value)
