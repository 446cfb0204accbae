"""The versions and data-residency pages through AppTest on the shared sandbox (40 clients, seed 7, frozen).

What a person would notice: the matrix shows every client the views know with its version per
service; laggards and the two-versions flag are marked; filters narrow the tables and land in the
URL (and a shared link restores them); the residency page lists the sandbox's one client placed in
us-east-1 against the shipped policy, with its allocations, service instances and nodes; the client
health row carries the residency flag and the words; the client page labels versions by service.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

import config
from ui import fleet_tables, tables
from views import residency, versions


@pytest.fixture(scope="module")
def snap(cluster_env):
    """The app's own snapshot once every source's last answer is in the frames (the shared ``snap``
    fixture can hand back frames built before the last source answered)."""
    from ui import runtime

    def settled(s):
        done = [x.last_success for x in s.sources.values()]
        return s.has_data and done and all(done) and s.built_at >= max(done)

    deadline = time.monotonic() + 30
    s = runtime.refresher().current()
    while not settled(s) and time.monotonic() < deadline:
        time.sleep(0.1)
        s = runtime.refresher().current()
    assert settled(s), "the sandbox did not answer every source within 30 s"
    return s


@pytest.fixture(scope="module")
def matrix(snap):
    cfg = config.load()
    inst = versions.build_instances(snap.frames, sources=cfg.version_sources, meta_keys=cfg.version_meta_keys)
    return versions.build_matrix(inst)


@pytest.fixture(scope="module")
def violators(snap) -> set[str]:
    """Clients with a running or starting allocation outside the shipped policy, read off the allocations."""
    policy = config.load().residency_policy
    a = snap.frames.allocations
    live = a[a["client_status"].isin(["running", "pending"]) & (a["desired_status"] == "run") & (a["node_id"] != "")]
    out = {c for c, dc in zip(live["client"], live["datacenter"]) if dc not in policy.for_client(c).datacenters}
    assert out, "the sandbox places some client outside Canada"
    return out


@pytest.fixture(scope="module")
def violations(snap):
    return residency.violations(snap.frames, config.load().residency_policy)


def grid(at):
    return at.dataframe[0].value


def clients_in(df) -> list[str]:
    return [link.split("client=", 1)[1] for link in df["client"]]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_versions_matrix_has_every_client_and_service_the_views_know(open_page, matrix):
    at = open_page("app_pages/versions.py")
    assert at.title[0].value.endswith("Versions")
    df = grid(at)
    assert clients_in(df) == sorted(set(matrix["client"]))
    m = matrix.set_index(["client", "service"])
    svc_cols = [c for c in df.columns if c.startswith("svc_")]
    assert len(svc_cols) == matrix["service"].nunique()
    # every cell is the client's running versions, marked when behind
    client = clients_in(df)[0]
    row = df.iloc[0]
    labels = {v for k, v in row.items() if k in svc_cols and v != "–"}
    expected = {fleet_tables.cell_label(r["versions"], r["behind"], r["mixed"]) for _, r in m.loc[client].iterrows()}
    assert labels == expected
    got = metrics(at)
    assert got[f"{fleet_tables.BEHIND_MARK} Behind the newest"] == str(int(matrix["behind"].sum()))
    assert got["Clients"] == str(matrix["client"].nunique())


def test_service_and_client_filters_narrow_the_matrix_and_go_into_the_url(open_page, matrix):
    at = open_page("app_pages/versions.py")
    at.multiselect(key="versions_service").select("web").run()
    df = grid(at)
    assert len([c for c in df.columns if c.startswith("svc_")]) == 1
    assert clients_in(df) == sorted(set(matrix[matrix["service"] == "web"]["client"]))
    assert at.query_params["service"] in ("web", ["web"])
    one = sorted(set(matrix["client"]))[3]
    at.selectbox(key="versions_client").select(one).run()
    assert clients_in(grid(at)) == [one]
    assert at.query_params["client"] in (one, [one])


def test_a_shared_link_restores_the_filters_and_show_behind(open_page, matrix):
    at = open_page("app_pages/versions.py", service="api", show="behind")
    behind = matrix[(matrix["service"] == "api") & matrix["behind"]]
    assert clients_in(grid(at)) == sorted(set(behind["client"]))
    assert all(v.startswith(fleet_tables.BEHIND_MARK) for v in grid(at)["svc_0"])
    assert at.multiselect(key="versions_service").value == ["api"]


def test_unknown_client_in_the_link_says_so_in_plain_text(open_page):
    at = open_page("app_pages/versions.py", client="[evil](https://example.com)")
    text = "\n".join(c.value for c in at.caption)
    assert "No versions known for client `[evil](https://example.com)`" in text
    assert len(grid(at)) == 0


def test_residency_lists_the_client_outside_canada_with_allocations_services_and_nodes(
    open_page, snap, violations, violators
):
    at = open_page("app_pages/residency.py")
    assert at.title[0].value.endswith("Data residency")
    df = at.dataframe[0].value
    assert set(clients_in(df)) == violators
    assert set(df["kind"]) == {"allocation", "service", "node"}
    assert set(df["datacenter"]) == {"us-east-1"}
    running_there = snap.frames.allocations[
        snap.frames.allocations["client"].isin(violators)
        & (snap.frames.allocations["datacenter"] == "us-east-1")
        & snap.frames.allocations["client_status"].isin(["running", "pending"])
        & (snap.frames.allocations["desired_status"] == "run")
    ]
    assert (df["kind"] == "allocation").sum() == len(running_there) > 0
    assert metrics(at)["Clients outside policy"] == str(len(violators))
    warnings = at.dataframe[1].value
    assert set(clients_in(warnings)) == violators and set(warnings["forbidden"]) == {"us-east-1"}
    assert metrics(at)["Clients with no policy"] == "0"


def test_residency_filters_from_the_url(open_page, violations):
    at = open_page("app_pages/residency.py", kind="node")
    df = at.dataframe[0].value
    assert list(df["kind"].unique()) == ["node"] and len(df) == int((violations["kind"] == "node").sum())
    at = open_page("app_pages/residency.py", client="northern-leaf")
    assert "Every placement is allowed." in "\n".join(c.value for c in at.caption)


def test_health_row_carries_the_residency_flag_and_reason(open_page, violators):
    at = open_page()
    df = at.dataframe[0].value
    flagged = df[[c.split("client=", 1)[1] in violators for c in df["client"]]]
    assert len(flagged) == len(violators)
    assert all("us-east-1 (not allowed)" in r for r in flagged["reason"])
    assert set(flagged["residency"]) == {tables.residency_badge("forbidden")}  # a text mark, not an emoji
    others = df[[c.split("client=", 1)[1] not in violators for c in df["client"]]]
    assert set(others["residency"]) == {""}


def test_client_page_labels_versions_by_service(open_page, matrix):
    at = open_page("app_pages/client.py", client="northern-leaf")
    mine = matrix[matrix["client"] == "northern-leaf"]
    text = "\n".join(m.value for m in at.markdown)
    for svc, vs in zip(mine["service"], mine["versions"]):
        assert f"{svc} {versions.version_label(vs)}" in text.replace("\\", "")


def test_versions_csv_is_the_filtered_long_form(matrix):
    from ui import export

    body = export.csv_bytes(fleet_tables.matrix_export(fleet_tables.filter_matrix(matrix, services=["web"])))
    lines = body.decode().splitlines()
    assert lines[0].startswith("cluster,client,service,versions,newest_in_fleet,behind")
    assert len(lines) == 1 + int((matrix["service"] == "web").sum())
    assert pd.Series([ln.split(",")[2] for ln in lines[1:]]).eq("web").all()


@pytest.fixture
def other_config(tmp_path, monkeypatch):
    """A dashboard.toml with versions read only from image tags and a policy for two clients, no default."""
    text = config.DEFAULT_PATH.read_text(encoding="utf-8")
    text = text.replace(
        'sources = ["consul_meta", "tag", "nomad_tags", "job_meta", "image"]', 'sources = ["image"]'
    ).replace('default = { datacenters = ["ca-tor-1", "ca-mtl-1", "ca-van-1", "ca-cgy-1"] }\n', "")
    assert 'sources = ["image"]' in text and "default =" not in text
    path = tmp_path / "dashboard.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_CONFIG", str(path))
    return config.load(path)


def test_image_tags_read_on_demand_when_configured(open_page, snap, other_config):
    at = open_page("app_pages/versions.py", client="northern-leaf")
    assert "Versions read from: image." in "\n".join(c.value for c in at.caption)
    row = grid(at).iloc[0]
    cells = {v for k, v in row.items() if k.startswith("svc_") and v != "–"}
    # the sandbox tags each image with the job's app version (job meta), so both must agree
    jobs = snap.frames.jobs[snap.frames.jobs["client"] == "northern-leaf"]
    metas = {m.get("version") for m in jobs["meta"] if m.get("version")}
    assert cells and {c.lstrip("▼⇄ ") for c in cells} <= metas


def test_clients_without_a_policy_are_listed_when_there_is_no_default(open_page, snap, other_config):
    at = open_page("app_pages/residency.py")
    listed = clients_in(at.dataframe[-1].value)
    everyone = set(snap.frames.clients["client"]) - {""}
    assert set(listed) == everyone - set(other_config.residency_policy.clients)
    assert metrics(at)["Clients with no policy"] == str(len(listed))
    assert "default none" in "\n".join(c.value for c in at.caption)
    health = open_page()
    df = health.dataframe[0].value
    assert (df["residency"] == "no policy").sum() == len(listed)
