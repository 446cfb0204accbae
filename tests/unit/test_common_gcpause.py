"""The cyclic GC pause is counted across threads and held around CPU work only (common.gcpause)."""

from __future__ import annotations

import gc
import io
import json
import threading
from collections.abc import Mapping

import pandas as pd
import pytest

import views
from common import gcpause
from connectors.slim import parse_list

NOW = pd.Timestamp("2026-01-01T12:00:00Z")


@pytest.fixture(autouse=True)
def gc_on():
    gc.enable()
    assert gcpause.holders() == 0
    yield
    assert gcpause.holders() == 0
    gc.enable()


class HeldRaw(Mapping):
    """Raw input whose first read blocks until released: holds a build inside build_frames."""

    def __init__(self):
        self.inside = threading.Event()
        self.go = threading.Event()
        self.data = {"jobs": [{"ID": "a-web", "Namespace": "a", "Type": "service"}]}

    def __getitem__(self, k):
        return self.data[k]

    def get(self, k, default=None):
        if k == "jobs":
            self.inside.set()
            assert self.go.wait(10)
        return self.data.get(k, default)

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)


def test_overlapping_builds_from_two_threads_keep_the_collector_paused_until_the_last_ends():
    a, b = HeldRaw(), HeldRaw()
    out = {}
    ta = threading.Thread(target=lambda: out.__setitem__("a", views.build_frames(a, cluster="c", now=NOW)))
    tb = threading.Thread(target=lambda: out.__setitem__("b", views.build_frames(b, cluster="c", now=NOW)))
    ta.start()
    assert a.inside.wait(10)
    tb.start()
    assert b.inside.wait(10)
    assert not gc.isenabled() and gcpause.holders() == 2
    a.go.set()
    ta.join(10)
    assert not ta.is_alive() and len(out["a"].jobs) == 1
    assert not gc.isenabled(), "the first build to finish turned the collector back on under the other"
    b.go.set()
    tb.join(10)
    assert not tb.is_alive() and len(out["b"].jobs) == 1
    assert gc.isenabled()


def test_a_collector_the_app_turned_off_stays_off():
    gc.disable()
    views.build_frames({}, cluster="c", now=NOW)
    assert not gc.isenabled()


def test_parse_list_lets_go_of_the_pause_while_it_waits_for_the_socket():
    body = io.BytesIO(json.dumps([{"ID": str(i), "x": "y" * 50} for i in range(2000)]).encode())
    during_reads, during_decoding = [], []

    def read(n):
        during_reads.append(gc.isenabled())
        return body.read(n)

    def element(value, memo):
        during_decoding.append(gc.isenabled())
        return value

    out = parse_list(read, element, chunk=4096)
    assert len(out) == 2000 and len(during_reads) > 10
    assert all(during_reads), "the collector was off while waiting for the socket"
    assert not any(during_decoding)
    assert gc.isenabled()


def test_a_failing_parse_releases_the_pause():
    with pytest.raises(ValueError):
        parse_list(io.BytesIO(b'[{"a": 1}, {"b": ').read, chunk=4)
    assert gc.isenabled()
