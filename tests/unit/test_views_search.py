"""Global search (views.search): a typed value -> the page it names, best matches first; odd input never raises.

Two fixtures: hand-made conforming frames (shared short IDs, a job without a client) and
frames built from raw API JSON (namespaces, prefixes).
"""

from __future__ import annotations

import pandas as pd
import pytest

import views
from views import Frames, conform
from views.search import destination, search

NOW = pd.Timestamp("2026-01-01T12:00:00Z")

# ---- hand-made frames ----------------------------------------------------------------------

A1 = "3f9a1c2e-1111-2222-3333-444455556666"
A2 = "3f9a1c2e-9999-2222-3333-444455556666"  # same short ID as A1
A3 = "b07c0ffe-aaaa-bbbb-cccc-ddddeeeeffff"
N1 = "795e8229-451a-bd81-f1d6-9ed617f5e837"


@pytest.fixture(scope="module")
def frames():
    f = Frames.empty()
    allocs = conform(
        pd.DataFrame(
            {
                "alloc_id": [A1, A2, A3],
                "short_id": [A1[:8], A2[:8], A3[:8]],
                "client": ["northern-leaf", "northern-leaf", "boreal-roots"],
                "job_id": ["northern-leaf-web", "northern-leaf-web", "boreal-roots-api"],
                "client_status": ["running", "failed", "running"],
            }
        ),
        "allocations",
    )
    clients = conform(pd.DataFrame({"client": ["northern-leaf", "boreal-roots", "northern-leaf-2"]}), "clients")
    jobs = conform(
        pd.DataFrame(
            {
                "client": ["northern-leaf", "boreal-roots", ""],
                "job_id": ["northern-leaf-web", "boreal-roots-api", "system-logs"],
            }
        ),
        "jobs",
    )
    nodes = conform(
        pd.DataFrame(
            {
                "node_id": [N1],
                "short_id": [N1[:8]],
                "name": ["nomad-mtl1-010"],
                "datacenter": ["ca-mtl-1"],
                "status": ["down"],
            }
        ),
        "nodes",
    )
    return Frames(**{**f.as_dict(), "allocations": allocs, "clients": clients, "jobs": jobs, "nodes": nodes})


def go(frames, q):
    m = destination(search(frames, q))
    return None if m is None else (m.page, m.params)


@pytest.mark.parametrize(
    "query,expected",
    [
        (A3, ("allocation", {"alloc": A3})),  # full ID
        (A3[:8], ("allocation", {"alloc": A3})),  # 8-character short form
        ("  B07C0FFE ", ("allocation", {"alloc": A3})),  # case and blanks do not matter
        (A1, ("allocation", {"alloc": A1})),  # full ID wins even when the short form is shared
        (A1[:8], None),  # two allocations share it: list both
        ("northern-leaf", ("client", {"client": "northern-leaf"})),  # exact client beats partial ones
        ("boreal-roots-api", ("client", {"client": "boreal-roots", "job": "boreal-roots-api"})),  # job -> its client
        ("nomad-mtl1-010", ("nodes", {"node": N1})),  # node by name
        (N1, ("nodes", {"node": N1})),  # node by ID
        (N1[:8], ("nodes", {"node": N1})),  # node by short ID
        ("boreal", None),  # several partial matches: list them
        ("", None),
        ("   ", None),
        ("x" * 500, None),
        ("no-such-thing", None),
    ],
)
def test_where_a_query_goes(frames, query, expected):
    assert go(frames, query) == expected


def test_short_id_shared_by_two_allocations_lists_both(frames):
    hits = search(frames, A1[:8])
    assert [(m.kind, m.params["alloc"]) for m in hits] == [("allocation", A1), ("allocation", A2)]
    assert all(m.exact for m in hits)


def test_node_short_id_is_exact(frames):
    (hit,) = search(frames, N1[:8])
    assert (hit.kind, hit.id, hit.exact) == ("node", N1, True)


def test_partial_matches_are_listed_exact_first(frames):
    hits = search(frames, "northern-leaf")
    assert (hits[0].kind, hits[0].label, hits[0].exact) == ("client", "northern-leaf", True)
    kinds = [(m.kind, m.label) for m in hits]
    assert ("client", "northern-leaf-2") in kinds and ("job", "northern-leaf-web") in kinds
    assert all(m.detail for m in hits)


def test_jobs_without_a_client_are_not_offered(frames):
    assert search(frames, "system-logs") == []


def test_results_are_capped(frames):
    assert len(search(frames, "-", limit=2)) == 2


def test_empty_frames_find_nothing():
    assert search(Frames.empty(), "anything") == []


def test_destination_of_nothing_is_none():
    assert destination([]) is None


# ---- frames built from raw API JSON --------------------------------------------------------

B1 = "5457f16d-0f87-8e6b-5e91-0c7da3a41eb7"
B2 = "5457f16e-1111-2222-3333-444444444444"
B3 = "c0ffee00-1111-2222-3333-444444444444"
M1 = "f7476465-4d6e-c0de-26d0-e383c49be941"


@pytest.fixture(scope="module")
def built():
    def alloc(aid, jid, ns):
        return {
            "ID": aid,
            "Namespace": ns,
            "JobID": jid,
            "Name": f"{jid}.g[0]",
            "ClientStatus": "running",
            "DesiredStatus": "run",
            "NodeID": M1,
        }

    raw = {
        "jobs": [
            {"ID": j, "Namespace": ns, "Type": "service"}
            for j, ns in [
                ("northern-leaf-web", "northern-leaf"),
                ("northern-leaf-api", "northern-leaf"),
                ("acme-web", "acme"),
            ]
        ],
        "allocations": [
            alloc(B1, "northern-leaf-web", "northern-leaf"),
            alloc(B2, "northern-leaf-api", "northern-leaf"),
            alloc(B3, "acme-web", "acme"),
        ],
        "nodes": [{"ID": M1, "Name": "nomad-tor1-001", "Datacenter": "ca-tor-1"}],
    }
    return views.build_frames(raw, cluster="c", now=NOW)


@pytest.mark.parametrize(
    "text, first_kind, first_id, first_params",
    [
        # allocation and job links name the cluster that holds them (an allocation ID is unique per cluster)
        (B1, "allocation", B1, {"alloc": B1, "cluster": "c"}),
        (B1.upper(), "allocation", B1, {"alloc": B1, "cluster": "c"}),
        ("  5457f16d  ", "allocation", B1, {"alloc": B1, "cluster": "c"}),  # short ID, exact, beats 5457f16*
        ("c0ffee", "allocation", B3, {"alloc": B3, "cluster": "c"}),  # unique prefix
        ("northern-leaf", "client", "northern-leaf", {"client": "northern-leaf"}),
        (
            "Northern-Leaf-Web",
            "job",
            "northern-leaf-web",
            {"job": "northern-leaf-web", "namespace": "northern-leaf", "client": "northern-leaf", "cluster": "c"},
        ),
        ("nomad-tor1-001", "node", M1, {"node": M1}),
        ("f7476465", "node", M1, {"node": M1}),
    ],
)
def test_search_finds_the_right_thing_first(built, text, first_kind, first_id, first_params):
    got = search(built, text)
    assert got, text
    assert (got[0].kind, got[0].id, got[0].params) == (first_kind, first_id, first_params)


def test_short_prefix_lists_every_candidate(built):
    got = search(built, "5457f1")
    assert {m.id for m in got if m.kind == "allocation"} == {B1, B2}


def test_substring_finds_jobs_and_clients(built):
    kinds = {(m.kind, m.id) for m in search(built, "leaf")}
    assert ("client", "northern-leaf") in kinds and ("job", "northern-leaf-api") in kinds


@pytest.mark.parametrize(
    "text", ["", "   ", None, 42, "(", "[a-", ".*", "\\", "*" * 10_000, "a" * 201, "\x00", "🙂", "5457f16d" * 30]
)
def test_odd_input_never_raises(built, text):
    got = search(built, text)
    assert isinstance(got, list)
    if text in ("", "   ", None, 42) or (isinstance(text, str) and len(text) > 200):
        assert got == []


def test_regex_metacharacters_are_literal(built):
    assert search(built, ".*") == []
    assert search(built, "northern.leaf") == []


def test_search_on_empty_frames_and_limit(built):
    assert search(views.Frames.empty(), "anything") == []
    assert len(search(built, "leaf", limit=1)) == 1
    assert search(built, "leaf", limit=0) == []


def test_the_same_allocation_id_in_two_clusters_gives_one_result_each_and_no_jump(built):
    """Allocation IDs are unique per cluster only: the search lists both, each opening its own cluster."""
    from dataclasses import replace

    from views.fleet_merge import combine_frames

    other = replace(built, **{n: df.assign(cluster="d") for n, df in built.as_dict().items() if "cluster" in df})
    fleet = combine_frames({"c": built, "d": other})
    hits = [m for m in search(fleet, B1) if m.kind == "allocation"]
    assert sorted(m.params["cluster"] for m in hits) == ["c", "d"] and {m.params["alloc"] for m in hits} == {B1}
    assert destination(search(fleet, B1)) is None  # two exact matches: the person picks
