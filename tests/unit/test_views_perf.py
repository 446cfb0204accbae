"""Building frames must cost well under fetching + parsing the JSON.

The full-size check (100,000 allocations) runs with ``VIEWS_PERF_ALLOCS=100000``;
the default keeps the test a few seconds long. Both compare the build time with
``json.loads`` of the same bodies on the same machine, so a slow machine does
not fail it; fetching over HTTP would only add to the parse side.
"""

from __future__ import annotations

import gc
import json
import os
import time

import pandas as pd
import pytest

import views
from views.synthetic import synthetic_raw

MAX_RATIO = 0.5  # build time / json.loads time


def _best(fn, runs=2):
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.slow
def test_build_is_cheaper_than_parsing():
    n = int(os.environ.get("VIEWS_PERF_ALLOCS", "20000"))
    raw = synthetic_raw(n)
    bodies = {k: json.dumps(v) for k, v in raw.items()}
    del raw
    parsed = {}

    def parse():
        parsed.update({k: json.loads(b) for k, b in bodies.items()})

    t_parse = _best(parse)
    now = pd.Timestamp("2026-01-01T00:00:00Z")
    frames = {}

    def build():
        frames["f"] = views.build_frames(parsed, cluster="bench", identity="namespace", now=now)

    t_build = _best(build)
    f = frames["f"]
    assert len(f.allocations) == n and len(f.jobs) == n // 10 and len(f.clients) == n // 50
    assert len(f.task_events) > 3 * n
    ratio = t_build / t_parse
    print(f"\n{n} allocs: parse {t_parse:.2f}s, build {t_build:.2f}s, ratio {ratio:.2f}")
    assert ratio < MAX_RATIO, f"build {t_build:.2f}s is {ratio:.2f}x json parse {t_parse:.2f}s"


def test_build_restores_gc_state():
    was = gc.isenabled()
    views.build_frames({}, cluster="c", now=None)
    assert gc.isenabled() == was
    gc.disable()
    try:
        views.build_frames({}, cluster="c", now=None)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
