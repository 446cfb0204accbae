"""Global search (ui.search): a typed value -> the page it names, exact matches first."""
import pandas as pd
import pytest

from ui.search import destination, search
from views import Frames, conform

A1 = "3f9a1c2e-1111-2222-3333-444455556666"
A2 = "3f9a1c2e-9999-2222-3333-444455556666"  # same short ID as A1
A3 = "b07c0ffe-aaaa-bbbb-cccc-ddddeeeeffff"
N1 = "795e8229-451a-bd81-f1d6-9ed617f5e837"


@pytest.fixture(scope="module")
def frames():
    f = Frames.empty()
    allocs = conform(pd.DataFrame({
        "alloc_id": [A1, A2, A3], "short_id": [A1[:8], A2[:8], A3[:8]],
        "client": ["northern-leaf", "northern-leaf", "boreal-roots"],
        "job_id": ["northern-leaf-web", "northern-leaf-web", "boreal-roots-api"],
        "client_status": ["running", "failed", "running"],
        "age": pd.to_timedelta([0, 0, 0], unit="s"),  # views.conform cannot fill a missing timedelta column yet
    }), "allocations")
    clients = conform(pd.DataFrame({"client": ["northern-leaf", "boreal-roots", "northern-leaf-2"]}), "clients")
    jobs = conform(pd.DataFrame({"client": ["northern-leaf", "boreal-roots", ""],
                                 "job_id": ["northern-leaf-web", "boreal-roots-api", "system-logs"]}), "jobs")
    nodes = conform(pd.DataFrame({"node_id": [N1], "short_id": [N1[:8]], "name": ["nomad-mtl1-010"],
                                  "datacenter": ["ca-mtl-1"], "status": ["down"]}), "nodes")
    return Frames(**{**f.as_dict(), "allocations": allocs, "clients": clients, "jobs": jobs, "nodes": nodes})


def go(frames, q):
    m = destination(search(frames, q))
    return None if m is None else (m.page, m.params)


@pytest.mark.parametrize("query,expected", [
    (A3, ("allocation", {"alloc": A3})),                    # full ID
    (A3[:8], ("allocation", {"alloc": A3})),                # 8-character short form
    ("  B07C0FFE ", ("allocation", {"alloc": A3})),         # case and blanks do not matter
    (A1, ("allocation", {"alloc": A1})),                    # full ID wins even when the short form is shared
    (A1[:8], None),                                         # two allocations share it: list both
    ("northern-leaf", ("client", {"client": "northern-leaf"})),  # exact client beats partial ones
    ("boreal-roots-api", ("client", {"client": "boreal-roots", "job": "boreal-roots-api"})),  # job -> its client
    ("nomad-mtl1-010", ("nodes", {"node": N1})),            # node by name
    (N1, ("nodes", {"node": N1})),                          # node by ID
    (N1[:8], ("nodes", {"node": N1})),                      # node by short ID
    ("boreal", None),                                       # several partial matches: list them
    ("", None), ("   ", None), ("x" * 500, None), ("no-such-thing", None),
])
def test_where_a_query_goes(frames, query, expected):
    assert go(frames, query) == expected


def test_short_id_shared_by_two_allocations_lists_both(frames):
    hits = search(frames, A1[:8])
    assert [(m.kind, m.params["alloc"]) for m in hits] == [("allocation", A1), ("allocation", A2)]
    assert all(m.exact for m in hits)


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
