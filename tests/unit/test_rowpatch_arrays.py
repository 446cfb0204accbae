"""Frames patched array by array (views.rowpatch.patch_rows / patch_events, views.checkpatch's kept
rows taken column by column) give what pd.concat of the pieces gives, for every column type the
frames hold (text, integers, booleans, nullable booleans with NA, UTC times with NaT, ages), and
never change the frames they start from: those are the published snapshot's, read by every page
while the next build runs. And a FrameBuilder following random changes at a few thousand
allocations (bench.synthetic's shapes, slimmed as the connectors slim them) equals a full build
after every step, with the previous build's frames left as they were."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pandas as pd
import pytest

import views
from bench.synthetic import synthetic_raw
from connectors.slim import slim_allocation, slim_catalog_entry, slim_check, slim_deployment
from views import rowpatch
from views.incremental import FrameBuilder

NOW = pd.Timestamp("2026-01-01T00:00:00Z")


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.Series(pd.to_datetime(rng.integers(0, 10**9, n), unit="s", utc=True))
    times[rng.random(n) < 0.2] = pd.NaT
    healthy = pd.array(rng.random(n) < 0.5, dtype="boolean")
    healthy[rng.random(n) < 0.3] = pd.NA
    return pd.DataFrame(
        {
            "alloc_id": [f"a{seed}-{i}" for i in range(n)],
            "client": rng.choice(["acme", "globex", ""], n).astype(object),
            "restarts": rng.integers(0, 9, n),
            "failed": rng.random(n) < 0.1,
            "healthy": healthy,
            "create_time": times,
            "age": pd.to_timedelta(rng.integers(0, 10**6, n), unit="s").to_numpy(),
            "tags": [["v1"] if i % 2 else [] for i in range(n)],
        }
    )


def by_concat(old: pd.DataFrame, rows: pd.DataFrame, changed: list[int], n0: int) -> pd.DataFrame:
    """What a patch gave before it went array by array: pd.concat of the pieces."""
    pieces, at = [], 0
    for k, p in enumerate(changed):
        pieces += [old.iloc[at:p], rows.iloc[k : k + 1]]
        at = p + 1
    pieces += [old.iloc[at:n0], rows.iloc[len(changed) :]]
    return pd.concat([p for p in pieces if len(p)], ignore_index=True)


@pytest.mark.parametrize("seed", range(6))
def test_patched_rows_equal_the_pieces_concatenated_and_leave_the_old_frame(seed):
    rng = random.Random(seed)
    old = frame(40, seed)
    before = old.copy(deep=True)
    changed = sorted(rng.sample(range(40), rng.randint(0, 8)))
    rows = frame(len(changed) + rng.randint(0 if changed else 1, 4), seed + 100)
    assert rowpatch.same_columns(old, rows)  # the array-by-array path, not pd.concat
    got = rowpatch.patch_rows(old, rows, changed, 40)
    pd.testing.assert_frame_equal(got, by_concat(old, rows, changed, 40))
    pd.testing.assert_frame_equal(old, before)
    assert got["healthy"].isna().sum() == by_concat(old, rows, changed, 40)["healthy"].isna().sum()


def test_a_column_of_another_type_in_the_new_rows_is_concatenated_as_before():
    old = frame(10, 1)
    rows = frame(3, 2)
    rows["restarts"] = rows["restarts"].astype(float)  # pd.concat makes the column float: as before
    got = rowpatch.patch_rows(old, rows, [2, 5], 10)
    pd.testing.assert_frame_equal(got, by_concat(old, rows, [2, 5], 10))
    assert got["restarts"].dtype == np.float64


@pytest.mark.parametrize("seed", range(6))
def test_patched_events_replace_each_changed_block_in_place(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, 30)
    old = frame(int(counts.sum()), seed)
    before = old.copy(deep=True)
    changed = sorted(rng.choice(30, 5, replace=False).tolist())
    new_counts = rng.integers(0, 4, len(changed) + 2)  # two allocations appended
    new_counts[0] = max(new_counts[0], 1)
    rows = frame(int(new_counts.sum()), seed + 50)
    assert rowpatch.same_columns(old, rows)
    got = rowpatch.patch_events(old, counts, rows, new_counts, changed, 30)
    starts, new_starts = np.r_[0, np.cumsum(counts)], np.r_[0, np.cumsum(new_counts)]
    want = []
    for j in range(30):
        if j in changed:
            k = changed.index(j)
            want.append(rows.iloc[new_starts[k] : new_starts[k + 1]])
        else:
            want.append(old.iloc[starts[j] : starts[j + 1]])
    want.append(rows.iloc[new_starts[len(changed)] :])
    pd.testing.assert_frame_equal(got, pd.concat([w for w in want if len(w)], ignore_index=True))
    pd.testing.assert_frame_equal(old, before)


def slim(raw: dict) -> dict:
    return {
        **raw,
        "allocations": [slim_allocation(a) for a in raw["allocations"]],
        "deployments": [slim_deployment(d) for d in raw["deployments"]],
        "consul_checks": [slim_check(c) for c in raw["consul_checks"]],
        "consul_services": {k: [slim_catalog_entry(e) for e in v] for k, v in raw["consul_services"].items()},
    }


def step(raw: dict, rng: random.Random) -> dict:
    """A few allocations change status or lose their task events, one is rescheduled (a new one
    appended), a check flaps and a service instance is re-registered with another version."""
    allocs = list(raw["allocations"])
    for i in rng.sample(range(len(allocs)), 4):
        a = dict(allocs[i])
        a["ClientStatus"] = "failed" if a.get("ClientStatus") == "running" else "running"
        if rng.random() < 0.5:
            a["TaskStates"] = None  # its events go: a block of another length
        allocs[i] = a
    new = dict(allocs[rng.randrange(len(allocs))])
    new["ID"] = str(uuid.UUID(int=rng.getrandbits(128)))
    allocs.append(new)
    checks = list(raw["consul_checks"])
    i = rng.randrange(len(checks))
    checks[i] = {**checks[i], "Status": "critical" if checks[i].get("Status") == "passing" else "passing"}
    name = rng.choice(sorted(raw["consul_services"]))
    entries = list(raw["consul_services"][name])
    j = rng.randrange(len(entries))
    entries[j] = {**entries[j], "ServiceMeta": {**(entries[j].get("ServiceMeta") or {}), "version": "9.9"}}
    return {
        **raw,
        "allocations": allocs,
        "consul_checks": checks,
        "consul_services": {**raw["consul_services"], name: entries},
    }


def test_a_builder_following_changes_equals_a_full_build_and_keeps_published_frames():
    raw = slim(synthetic_raw(3_000, seed=3))
    rng = random.Random(5)
    builder = FrameBuilder(cluster="bench", identity=views.ClientIdentity())
    published = builder.build(raw, now=NOW)
    for _ in range(4):
        kept = {name: f.copy(deep=True) for name, f in published.as_dict().items()}
        raw = step(raw, rng)
        patched = builder.build(raw, now=NOW)
        want = views.build_frames(raw, cluster="bench", identity=views.ClientIdentity(), now=NOW)
        for name, f in want.as_dict().items():
            pd.testing.assert_frame_equal(getattr(patched, name), f, obj=f"patched {name}")
        for name, f in kept.items():  # what readers of the last snapshot still hold
            pd.testing.assert_frame_equal(getattr(published, name), f, obj=f"published {name}")
        published = patched
    assert builder.full_builds == 1 and builder.patches == 4, builder.why_whole
    assert builder.check_patches == 4  # Consul's frames were patched too, not rebuilt


def test_diff_finds_the_changed_items_of_a_kept_list_and_of_a_fresh_body():
    old = [{"ID": f"a{i}", "ClientStatus": "running"} for i in range(50)]
    kept = list(old)  # as the event state hands it over: unchanged items are the same objects
    kept[3] = {**old[3], "ClientStatus": "failed"}
    kept[7] = dict(old[7])  # another object, equal: not a change
    kept.append({"ID": "a50", "ClientStatus": "pending"})
    assert rowpatch.diff(old, kept) == ([3], 50)
    fresh = [dict(x) for x in kept]  # a blocking query's body: every item another object
    fresh[9] = {**old[9], "ClientStatus": "lost"}
    assert rowpatch.diff(old, fresh) == ([3, 9], 50)
    moved = [dict(x) for x in old]
    moved[4] = {"ID": "zz", "ClientStatus": "running"}  # another allocation in its place: not a patch
    assert rowpatch.diff(old, moved) is None
