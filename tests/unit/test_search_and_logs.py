"""Global search and log helpers: table tests, odd input never raises."""

from __future__ import annotations

import pandas as pd
import pytest

import views
from views.logs import filter_lines, split_lines, tail
from views.search import search

NOW = pd.Timestamp("2026-01-01T12:00:00Z")
A1 = "5457f16d-0f87-8e6b-5e91-0c7da3a41eb7"
A2 = "5457f16e-1111-2222-3333-444444444444"
A3 = "c0ffee00-1111-2222-3333-444444444444"
N1 = "f7476465-4d6e-c0de-26d0-e383c49be941"


@pytest.fixture(scope="module")
def frames():
    def alloc(aid, jid, ns):
        return {"ID": aid, "Namespace": ns, "JobID": jid, "Name": f"{jid}.g[0]", "ClientStatus": "running",
                "DesiredStatus": "run", "NodeID": N1}

    raw = {
        "jobs": [{"ID": j, "Namespace": ns, "Type": "service"} for j, ns in
                 [("northern-leaf-web", "northern-leaf"), ("northern-leaf-api", "northern-leaf"), ("acme-web", "acme")]],
        "allocations": [alloc(A1, "northern-leaf-web", "northern-leaf"), alloc(A2, "northern-leaf-api", "northern-leaf"),
                        alloc(A3, "acme-web", "acme")],
        "nodes": [{"ID": N1, "Name": "nomad-tor1-001", "Datacenter": "ca-tor-1"}],
    }
    return views.build_frames(raw, cluster="c", now=NOW)


@pytest.mark.parametrize(
    "text, first_kind, first_id, first_params",
    [
        (A1, "alloc", A1, {"alloc": A1}),
        (A1.upper(), "alloc", A1, {"alloc": A1}),
        ("  5457f16d  ", "alloc", A1, {"alloc": A1}),  # short ID, exact, beats the other 5457f16* prefix
        ("c0ffee", "alloc", A3, {"alloc": A3}),  # unique prefix
        ("northern-leaf", "client", "northern-leaf", {"client": "northern-leaf"}),
        ("Northern-Leaf-Web", "job", "northern-leaf-web",
         {"job": "northern-leaf-web", "namespace": "northern-leaf", "client": "northern-leaf"}),
        ("nomad-tor1-001", "node", N1, {"node": N1}),
        ("f7476465", "node", N1, {"node": N1}),
    ],
)
def test_search_finds_the_right_thing_first(frames, text, first_kind, first_id, first_params):
    got = search(frames, text)
    assert got, text
    assert (got[0].kind, got[0].id, got[0].params) == (first_kind, first_id, first_params)


def test_short_prefix_lists_every_candidate(frames):
    got = search(frames, "5457f1")
    assert {m.id for m in got if m.kind == "alloc"} == {A1, A2}


def test_substring_finds_jobs_and_clients(frames):
    kinds = {(m.kind, m.id) for m in search(frames, "leaf")}
    assert ("client", "northern-leaf") in kinds and ("job", "northern-leaf-api") in kinds


@pytest.mark.parametrize(
    "text", ["", "   ", None, 42, "(", "[a-", ".*", "\\", "*" * 10_000, "a" * 201, "\x00", "🙂", "5457f16d" * 30]
)
def test_odd_input_never_raises(frames, text):
    got = search(frames, text)
    assert isinstance(got, list)
    if text in ("", "   ", None, 42) or (isinstance(text, str) and len(text) > 200):
        assert got == []


def test_regex_metacharacters_are_literal(frames):
    assert search(frames, ".*") == []
    assert search(frames, "northern.leaf") == []


def test_search_on_empty_frames_and_limit(frames):
    assert search(views.Frames.empty(), "anything") == []
    assert len(search(frames, "leaf", limit=1)) == 1
    assert search(frames, "leaf", limit=0) == []


# ---- logs -----------------------------------------------------------------------------------

LOG = "starting\nGET /health 200\nERROR db timeout\nGET /health 200\nerror: retry\n"


@pytest.mark.parametrize(
    "pattern, kwargs, lines",
    [
        ("error", {}, ["ERROR db timeout", "error: retry"]),
        ("error", {"ignore_case": False}, ["error: retry"]),
        ("health", {"invert": True}, ["starting", "ERROR db timeout", "error: retry"]),
        (r"^GET .* 200$", {}, ["GET /health 200", "GET /health 200"]),
        ("", {}, ["starting", "GET /health 200", "ERROR db timeout", "GET /health 200", "error: retry"]),
        (None, {}, ["starting", "GET /health 200", "ERROR db timeout", "GET /health 200", "error: retry"]),
    ],
)
def test_filter_lines(pattern, kwargs, lines):
    res = filter_lines(LOG, pattern, **kwargs)
    assert res.ok and res.lines == lines and res.matched == len(lines) and res.total == 5


@pytest.mark.parametrize("pattern", ["(", "[a-", "*x", "(?P<", "a" * 501])
def test_invalid_pattern_is_an_error_value_not_an_exception(pattern):
    res = filter_lines(LOG, pattern)
    assert not res.ok and res.lines == [] and res.total == 5
    assert res.error.startswith("The filter is")


@pytest.mark.parametrize(
    "src, n, out",
    [(LOG, 2, ["GET /health 200", "error: retry"]), (LOG, 0, []), (LOG, -1, []), (LOG, 99, split_lines(LOG)),
     (b"a\r\nb\xff\n", 1, ["b\ufffd"]), (None, 3, []), (["x", "y"], 1, ["y"])],
)
def test_tail(src, n, out):
    assert tail(src, n) == out
