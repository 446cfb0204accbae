"""Pure page helpers (ui.tables): client-health rows, lookups."""

import pandas as pd
import pytest

from ui import tables, widgets
from views import conform

NOW = pd.Timestamp("2026-01-01T12:00:00Z")


@pytest.fixture(scope="module")
def clients():
    # deliberately not in rank order: the helpers must put the worst first
    return conform(
        pd.DataFrame(
            {
                "client": ["calm", "broken", "shaky", "rolling", "quiet"],
                "status": ["healthy", "down", "degraded", "deploying", "healthy"],
                "rank": [3, 0, 1, 2, 3],
                "reason": [
                    "all 4 allocations running",
                    "nothing running: 0 of 3 allocations desired",
                    "api restarted 7 times in 24h",
                    "deploying web",
                    "nothing scheduled",
                ],
                "desired": [4, 3, 4, 2, 0],
                "running": [4, 0, 3, 2, 0],
                "restarts_24h": [0, 0, 7, 0, 0],
                "versions": [["1.2.0"], ["2.0.1"], ["1.9.0", "1.9.1"], ["3.0.0"], []],
                "datacenters": [["ca-tor-1"], ["ca-mtl-1"], ["ca-tor-1", "us-east-1"], ["us-east-1"], []],
                "last_deployment_status": ["successful", "failed", "successful", "running", ""],
            }
        ),
        "clients",
    )


def test_worst_first_with_stable_ties(clients):
    assert tables.filter_clients(clients)["client"].tolist() == ["broken", "shaky", "rolling", "calm", "quiet"]


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"statuses": ["healthy"]}, ["calm", "quiet"]),
        ({"statuses": ["down", "degraded"]}, ["broken", "shaky"]),
        ({"datacenter": "ca-tor-1"}, ["shaky", "calm"]),
        ({"text": "RESTARTED"}, ["shaky"]),  # reason, any case
        ({"text": "1.9.1"}, ["shaky"]),  # a version
        ({"text": "us-east"}, ["shaky", "rolling"]),  # a datacenter
        ({"statuses": ["healthy"], "datacenter": "ca-tor-1", "text": "calm"}, ["calm"]),
        ({"text": "nobody"}, []),
    ],
)
def test_filters(clients, kwargs, expected):
    assert tables.filter_clients(clients, **kwargs)["client"].tolist() == expected


def test_health_table_rows(clients):
    t = tables.health_table(tables.filter_clients(clients))
    first = t.iloc[0]
    assert first["client"] == "client?client=broken"
    assert first["status"] == "✕ down" and first["running"] == "0 / 3" and first["running_ratio"] == 0
    shaky = t.iloc[1]
    assert shaky["running_ratio"] == pytest.approx(75.0) and shaky["versions"] == "1.9.0, 1.9.1"
    assert pd.isna(t.iloc[4]["running_ratio"])  # nothing desired: no bar rather than a full one


def test_status_counts_in_palette_order(clients):
    assert tables.status_counts(clients) == {"down": 1, "degraded": 1, "deploying": 1, "healthy": 2}
    assert tables.datacenters_of(clients) == ["ca-mtl-1", "ca-tor-1", "us-east-1"]


A = "3f9a1c2e-1111-2222-3333-444455556666"
B = "3f9a1c2e-9999-2222-3333-444455556666"
C = "b07c0ffe-aaaa-bbbb-cccc-ddddeeeeffff"


@pytest.fixture(scope="module")
def allocs():
    return conform(pd.DataFrame({"alloc_id": [A, B, C], "short_id": [A[:8], B[:8], C[:8]]}), "allocations")


@pytest.mark.parametrize(
    "value,found,message",
    [
        (C, C, ""),
        (C[:8], C, ""),
        (C.upper(), C, ""),
        ([C], C, ""),  # a repeated query parameter
        (A[:8], None, "2 allocations start with `3f9a1c2e`"),
        ("deadbeef", None, "No allocation `deadbeef`"),
        ("", None, "No allocation given"),
        (None, None, "No allocation given"),
        ("<script>alert(1)</script>", None, "is not an allocation ID"),
        ("../../v1/acl/tokens", None, "is not an allocation ID"),
        ("b07c0ffe-aaaa", None, "is not an allocation ID"),
        ("x" * 10_000, None, "is not an allocation ID"),
        ("b07c0ffe\x00\n", C, ""),  # control characters are dropped
    ],
)
def test_resolve_alloc(allocs, value, found, message):
    row, msg = tables.resolve_alloc(allocs, value)
    assert (row["alloc_id"] if row else None) == found
    assert message in msg
    assert len(msg) < 300


def test_md_text_keeps_markdown_from_cluster_fields_literal():
    from ui.tables import md_text

    wj = "\u2060"  # GFM links bare URLs after escapes are resolved: a word joiner stops it
    assert md_text("[x](https://evil)") == rf"\[x\]\(https{wj}\://evil\)"
    assert md_text("**bold** :red[alert]\nnext") == r"\*\*bold\*\* \:red\[alert\] next"
    assert md_text(None) == ""
    assert md_text("see www.evil.example") == f"see www{wj}.evil.example"
    assert md_text("ops@evil.example") == f"ops{wj}@evil.example"
    assert md_text("# heading") == r"\# heading" and md_text("1. item") == r"1\. item" and md_text("- x") == r"\- x"
    assert md_text("<img src=x> &amp;") == r"\<img src=x\> \&amp;"
    assert md_text("northern-leaf 1.2.3") == "northern-leaf 1.2.3"  # plain names read (and compare) unchanged


def test_status_counts_keeps_a_status_the_palette_does_not_know(clients):
    odd = conform(pd.DataFrame({"client": ["x", "y"], "status": ["healthy", "mystery"]}), "clients")
    assert tables.status_counts(odd) == {"down": 0, "degraded": 0, "deploying": 0, "healthy": 1, "mystery": 1}


def _node_allocs():
    t = pd.Timestamp("2026-01-01T12:00:00Z")
    return conform(
        pd.DataFrame(
            {
                "alloc_id": [A, B, C, "c0ffee00-0000-0000-0000-000000000000"],
                "client": ["acme", "beta", "gamma", "delta"],
                "node_id": ["n1", "n1", "n1", "n2"],
                "client_status": ["running", "failed", "running", "failed"],
                "create_time": [t - pd.Timedelta(hours=2), t - pd.Timedelta(hours=3), t, t],
                "job_id": ["acme-web", "beta-api", "gamma-web", "delta-web"],
            }
        ),
        "allocations",
    )


def test_alloc_table_with_client_sorts_once_and_keeps_each_row_s_client():
    t = tables.alloc_table(_node_allocs().iloc[:3], with_client=True)
    assert list(t.columns[:3]) == ["allocation", "status", "client"]
    # failed first, then newest first; each row keeps its own allocation's client
    assert t["job"].tolist() == ["beta-api", "gamma-web", "acme-web"]
    assert t["client"].tolist() == ["client?client=beta", "client?client=gamma", "client?client=acme"]
    assert "client" not in tables.alloc_table(_node_allocs()).columns


def test_node_allocations_is_the_alloc_table_of_that_node():
    allocs = _node_allocs()
    pd.testing.assert_frame_equal(
        tables.node_allocations(allocs, "n1"), tables.alloc_table(allocs[allocs["node_id"] == "n1"], with_client=True)
    )


def test_alloc_badge_comes_from_the_views_palette():
    from views import status as vstatus

    assert tables.alloc_badge("failed") == vstatus.alloc_badge("failed") == "✕ failed"
    assert tables.alloc_badge("something-new") == "▲ something-new"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("1 of 2 web allocations failed in the last 6h", "1 of 2 web allocations failed in the last 6h"),
        (
            "nothing running: 0 of 5 allocations desired; 2 of 2 api allocations failed in the last 6h; "
            "2 of 2 web allocations failed in the last 6h; 1 worker allocation failed in the last 6h",
            "nothing running: 0 of 5 allocations desired; 2 of 2 api allocations failed in the last 6h; +2 more",
        ),
        ("x" * 130, "x" * 130),  # one long finding is kept whole: wrapping shows what it can
    ],
)
def test_health_reason_keeps_the_worst_findings_that_fit_and_counts_the_rest(reason, expected):
    assert tables.short_reason(reason) == expected


SELECT_COLUMN = 33  # the row-selection checkboxes a linked table adds in front


@pytest.mark.parametrize(
    "with_client,config",
    [(False, widgets.ALLOC_COLS), (True, widgets.PICK_ALLOC_COLS), (True, widgets.NODE_ALLOC_COLS)],
    ids=["a client's allocations", "the allocation picker", "a node's allocations"],
)
def test_allocation_tables_fit_beside_the_sidebar_at_1440(with_client, config):
    """Every column of an allocation table is sized or hidden, and what shows fits the width a
    table gets at 1440 px, so support reads a row without scrolling sideways; many clients' tables
    show whose allocation each row is."""
    table = tables.alloc_table(_node_allocs(), with_client=with_client)
    assert set(table.columns) <= set(config)
    shown = [config[c] for c in table.columns if config[c] is not None]
    assert all(isinstance(c["width"], int) for c in shown)
    assert sum(c["width"] for c in shown) + SELECT_COLUMN <= widgets.TABLE_WIDTH
    assert not with_client or config["client"] is not None


def test_a_job_without_a_version_says_why_instead_of_none():
    """Nomad's job list has no version (JobListStub, nomad/structs/structs.go), so a job's version
    comes from its allocations and deployments: a periodic or parameterized parent has none of its
    own (its children run). The table says so, not Streamlit's grey "None"; other gaps show "–"."""
    jobs = conform(
        pd.DataFrame(
            {
                "job_id": ["api", "reports", "reports/periodic-1795987259", "dispatcher", "never-placed"],
                "client": ["acme"] * 5,
                "type": ["service", "batch", "batch", "batch", "service"],
                "status": ["running", "running", "dead", "running", "pending"],
                "job_version": [9, -1, 0, -1, -1],
                "periodic": [False, True, False, False, False],
                "parameterized": [False, False, False, True, False],
                "running": [2, 0, 0, 0, 0],
                "desired": [2, 0, 0, 0, 1],
            }
        ),
        "jobs",
    )
    shown = tables.client_jobs(jobs, "acme").set_index("job")["version"].to_dict()
    assert shown == {
        "api": "9",
        "reports": "periodic parent",
        "reports/periodic-1795987259": "0",
        "dispatcher": "parameterized parent",
        "never-placed": tables.NO_VALUE,
    }
    assert tables.version_words(pd.Series([3.0, None, -1])).tolist() == ["3", "–", "–"]  # a rollout's board


def test_a_client_in_two_clusters_sees_which_cluster_each_job_row_is():
    """With every cluster shown, a client running the same job in ca-east and ca-west has two rows
    of that job (different versions, different counts): the Cluster column tells them apart. A
    client in one cluster gets no such column (it would say the same thing on every row)."""
    jobs = conform(
        pd.DataFrame(
            {
                "cluster": ["ca-west", "ca-east", "ca-east", "ca-east"],
                "job_id": ["api", "api", "web", "api"],
                "client": ["acme", "acme", "acme", "other"],
                "type": ["service"] * 4,
                "status": ["running"] * 4,
                "job_version": [6, 7, 2, 1],
                "running": [0, 2, 1, 1],
                "desired": [2, 2, 1, 1],
            }
        ),
        "jobs",
    )
    both = tables.client_jobs(jobs, "acme")
    assert both[["cluster", "job", "version", "running"]].values.tolist() == [
        ["ca-east", "api", "7", "2 / 2"],
        ["ca-west", "api", "6", "0 / 2"],
        ["ca-east", "web", "2", "1 / 1"],
    ]
    assert "cluster" not in tables.client_jobs(jobs, "other").columns
    assert "cluster" not in tables.client_jobs(jobs[jobs["cluster"] == "ca-east"], "acme").columns


def test_a_client_with_many_versions_reads_the_first_ones_and_how_many_more():
    """The health grid's Versions cell holds about four wrapped lines: a client running five app
    versions showed "1.12.0, 1.13.1, 1.15.1, 1.15.2, 1.16.0," cut off mid-list at 1440 px."""
    assert tables.short_list(["1.12.0", "1.13.1", "1.15.1", "1.15.2", "1.16.0"]) == "1.12.0, 1.13.1, 1.15.1, +2 more"
    assert tables.short_list(["1.0", "1.1", "1.2", "1.3"]) == "1.0, 1.1, 1.2, 1.3"  # four fit whole
    assert tables.short_list([]) == "" and tables.short_list(None) == ""
