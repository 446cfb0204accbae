"""One process-wide, reference-counted pause of the cyclic garbage collector.

Decoding a big list body and building frames from it create millions of small containers that
form no cycles; every automatic collection meanwhile walks the whole kept raw JSON graph too
(building 20,000 allocations takes about three times as long with the collector running).
``gc.disable()`` is process-wide, so two threads toggling it directly undo each other: one build
re-enables the collector while another parse still runs. Here the first ``paused()`` turns it off
and the last one to leave turns it back on (only if it was on before), and callers hold it around
CPU work only: ``connectors.slim.parse_list`` lets go while it waits for the socket, so other
threads never run without a collector for the length of a slow download.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


def hold() -> None:
    """Pause the collector (counted: every hold() needs its release())."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1


def release() -> None:
    """Undo one hold(); the last release turns the collector back on if it was on before."""
    global _holders
    with _lock:
        if _holders <= 0:
            raise RuntimeError("gcpause.release() without hold()")
        _holders -= 1
        if _holders == 0 and _was_enabled:
            gc.enable()


def holders() -> int:
    """How many pauses are held right now (tests)."""
    return _holders


@contextmanager
def paused() -> Iterator[None]:
    hold()
    try:
        yield
    finally:
        release()


@contextmanager
def resumed() -> Iterator[None]:
    """Inside paused(): let go for a moment (a blocking read), then hold again."""
    release()
    try:
        yield
    finally:
        hold()


def freeze_survivors() -> None:
    """After a build from scratch: what is alive now (the kept raw JSON, the frames) lives long.
    ``gc.freeze()`` takes it out of every later collection's walk, so collecting after a small
    patch costs what the patch made, not the whole heap (a full walk at 100,000 allocations takes
    seconds). Frozen objects are still freed by reference counting when they are dropped."""
    gc.freeze()
