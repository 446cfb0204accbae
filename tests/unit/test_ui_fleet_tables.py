"""Page shaping for the versions and residency pages (ui.fleet_tables), the CSV export (ui.export)
and the client-health additions (views.client_flags)."""

from __future__ import annotations

import pandas as pd

from ui import export, fleet_tables
from views import client_flags

T = pd.Timestamp("2026-01-01T10:00:00Z")


def _matrix():
    return pd.DataFrame(
        {
            "cluster": ["prod"] * 4,
            "client": ["acme", "acme", "birch", "cedar"],
            "service": ["api", "web", "web", "web"],
            "versions": [["2.0.0"], ["1.5.0", "1.4.0"], ["1.5.0"], ["1.3.2"]],
            "instances": [1, 2, 1, 1],
            "unknown": [0, 0, 0, 0],
            "newest": ["2.0.0", "1.5.0", "1.5.0", "1.5.0"],
            "behind": [False, False, False, True],
            "mixed": [False, True, False, False],
            "mixed_since": [pd.NaT, T, pd.NaT, pd.NaT],
            "sources": [["consul_meta"]] * 4,
        }
    )


def test_grid_has_one_row_per_client_and_a_marked_cell_per_service():
    grid, headers = fleet_tables.matrix_table(_matrix())
    assert grid["client"].tolist() == ["client?client=acme", "client?client=birch", "client?client=cedar"]
    assert headers == {"svc_0": ("api", "2.0.0"), "svc_1": ("web", "1.5.0")}
    assert grid["svc_1"].tolist() == ["⇄ 1.5.0 + 1.4.0", "1.5.0", "▼ 1.3.2"]
    assert grid["svc_0"].tolist() == ["2.0.0", "–", "–"]  # birch and cedar do not run api


def test_a_service_named_like_a_column_does_not_collide():
    m = _matrix().assign(service=["client", "web", "web", "web"])
    grid, headers = fleet_tables.matrix_table(m)
    assert grid["client"].tolist()[0] == "client?client=acme" and headers["svc_0"][0] == "client"


def test_filters():
    m = _matrix()
    assert fleet_tables.filter_matrix(m, services=["api"])["client"].tolist() == ["acme"]
    assert fleet_tables.filter_matrix(m, show="behind")["client"].tolist() == ["cedar"]
    assert fleet_tables.filter_matrix(m, show="mixed", client="acme")["service"].tolist() == ["web"]
    assert fleet_tables.filter_matrix(m, client="nobody").empty


def test_mixed_table_and_export():
    mixed = fleet_tables.mixed_table(_matrix())
    assert mixed[["client", "service", "versions"]].values.tolist() == [["client?client=acme", "web", "1.5.0 + 1.4.0"]]
    lines = export.csv_bytes(fleet_tables.matrix_export(_matrix())).decode().splitlines()
    assert lines[2].startswith("prod,acme,web,1.5.0 + 1.4.0,1.5.0,False,True,2026-01-01T10:00:00+00:00,2,0,consul_meta")


def test_csv_neutralises_spreadsheet_formulas_from_the_cluster():
    df = pd.DataFrame({"job": ['=HYPERLINK("http://evil")', "+1", "-x", "@SUM(A1)", "web"], "n": [1, 2, 3, 4, 5]})
    rows = export.csv_bytes(df).decode().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ['"\'=HYPERLINK(""http://evil"")"', "'+1", "'-x", "'@SUM(A1)", "web"]


def test_client_flags_extend_the_reason_and_keep_status_and_order():
    clients = pd.DataFrame(
        {
            "cluster": ["prod"] * 3,
            "client": ["a", "b", "c"],
            "status": ["down", "healthy", "healthy"],
            "rank": [0, 3, 3],
            "reason": ["2 allocations failed", "All 4 allocations running", ""],
        }
    )
    out = client_flags.annotate(
        clients,
        behind={("prod", "b"): "behind: web 1.3.2 (newest 1.5.0)"},
        residency={("prod", "a"): ("forbidden", "residency: 1 allocation in us-east-1 (not allowed)")},
    )
    assert out["reason"].tolist() == [
        "residency: 1 allocation in us-east-1 (not allowed); 2 allocations failed",
        "All 4 allocations running; behind: web 1.3.2 (newest 1.5.0)",
        "",
    ]
    assert out["residency"].tolist() == ["forbidden", "", ""]
    assert out["status"].tolist() == clients["status"].tolist() and out["client"].tolist() == ["a", "b", "c"]
    assert clients["reason"].iloc[0] == "2 allocations failed"  # the input is not modified


def test_violations_name_the_service_where_a_service_row_has_no_job():
    """A Consul service instance outside policy has no job: its row names the service in the one
    "Job or service" column, so the table fits beside the sidebar without a Service column."""
    v = pd.DataFrame(
        {
            "cluster": ["prod", "prod"],
            "client": ["acme", "acme"],
            "verdict": ["forbidden", "forbidden"],
            "kind": ["allocation", "service"],
            "job_id": ["acme-api", ""],
            "alloc_id": ["a" * 36, "a" * 36],
            "service": ["", "api-http"],
            "node": ["n1", "n1"],
            "datacenter": ["us-east-1", "us-east-1"],
            "region": ["", ""],
            "allowed": ["ca-tor-1", "ca-tor-1"],
            "since": [T, T],
        }
    )
    table = fleet_tables.violations_table(v)
    assert table["job"].tolist() == ["acme-api", "api-http"]
    assert "service" not in table.columns
    assert table["allocation"].str.contains("alloc=" + "a" * 36).all()
