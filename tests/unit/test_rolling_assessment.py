"""Clients no change touched are assessed again in a rolling pass (views.incremental): a share per
patch, every client within ``clients_max_age`` s, instead of all at once in one build (0.6 to
1.3 s at 100,000 allocations, which every change arriving meanwhile waited for). What support
sees: a client's failure that ages out of its window ("failed in the last 6h") leaves its reason
within that time, while builds patch other clients' changes, as a full build would show it."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from test_task_event_patch import NOW, alloc, base, started

import views
from views.incremental import FrameBuilder

IDENTITY = views.ClientIdentity.parse("namespace")
MAX_AGE = 60.0


def at(seconds: float):
    return NOW + timedelta(seconds=seconds)


def test_a_failure_ageing_out_shows_within_the_max_age_while_other_clients_change():
    raw = base()
    failed = alloc(3, "globex", "api", {"app": started(3)}, status="failed")
    # Failed 6 h before NOW + 20 s: it leaves the window 20 s after the first build.
    failed["ModifyTime"] = int(pd.Timestamp(at(20) - timedelta(hours=6)).value)
    raw["allocations"][2] = failed
    builder = FrameBuilder(cluster="t", identity=IDENTITY, clients_max_age=MAX_AGE)
    first = builder.build(raw, now=at(0))
    assert "failed in the last 6h" in first.clients.set_index("client").loc["globex", "reason"]
    aged_out = None
    for step in range(1, 31):  # a patch every 5 s: acme's allocation changes, globex's does not
        t = 5 * step
        acme = alloc(1, "acme", "web", {"app": started()})
        acme["ModifyTime"] += t
        raw = {**raw, "allocations": [acme, *raw["allocations"][1:]]}
        frames = builder.build(raw, now=at(t))
        reason = frames.clients.set_index("client").loc["globex", "reason"]
        if "failed in the last 6h" not in reason and aged_out is None:
            aged_out = t
        if t >= 20 + MAX_AGE:
            want = views.build_frames(raw, cluster="t", identity=IDENTITY, now=at(t))
            pd.testing.assert_frame_equal(frames.clients, want.clients)
    assert builder.full_builds == 1, builder.why_whole
    assert aged_out is not None and 20 <= aged_out <= 20 + MAX_AGE
