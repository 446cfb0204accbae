"""Several clusters, in AppTest against two real sandbox clusters (issue 12): the cluster picker,
links and reads that go to the cluster holding the allocation, actions from the page sent there,
and the same allocation ID in two clusters."""

from __future__ import annotations

import os
import time

import pytest
from conftest import AUTH_SECRETS, make_user_claims, page_text_of
from streamlit.testing.v1 import AppTest

from sandbox import MultiSandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.path.join(ROOT, "app.py")
KEYS = ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "NOMAD_TOKEN", "DASHBOARD_CONFIG", "DASHBOARD_CLUSTERS_FILE")


def clusters_file(path, entries) -> str:
    path.write_text(
        "".join(
            f'[[clusters]]\nname = "{name}"\nregion = "{region}"\n'
            f'nomad_address = "{sb.nomad_addr}"\nconsul_address = "{sb.consul_addr}"\n\n'
            for name, region, sb in entries
        )
    )
    return str(path)


def _reset():
    import streamlit as st

    from snapshot.refresher import _reset_registry

    st.cache_resource.clear()
    st.cache_data.clear()
    _reset_registry()


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    saved = {k: os.environ.get(k) for k in KEYS}
    for k in KEYS:
        os.environ.pop(k, None)
    _reset()
    with MultiSandbox(clusters=2, clients=16, frozen=True) as g:
        listed = tmp_path_factory.mktemp("clusters") / "clusters.toml"
        os.environ["DASHBOARD_CLUSTERS_FILE"] = clusters_file(
            listed, [(sb.name, sb.world.profile.region, sb) for sb in g]
        )
        try:
            yield g
        finally:
            _reset()
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def wait_for_all(timeout=30):
    import config
    import snapshot
    from connectors.settings import load_all

    deadline = time.monotonic() + timeout
    for s in load_all(list(config.load().clusters)):
        ref = snapshot.get_refresher(s, "namespace", wait=30.0)
        ref.wait_for(
            lambda x: x.has_data and all(v.has_data for v in x.sources.values()), timeout=deadline - time.monotonic()
        )


def open_app(role="support", page=None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = make_user_claims(role)
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    at.run()
    if page:
        at.switch_page(page)
    at.query_params.clear()
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def health_clients(at) -> set[str]:
    table = next(df.value for df in at.dataframe if "client" in df.value.columns)
    return {str(v).rsplit("client=", 1)[-1] for v in table["client"]}


def running_pair(sb) -> dict:
    """A running allocation whose group has a second one running (a plain restart is allowed)."""
    from collections import defaultdict

    from connectors import NomadConnector
    from connectors.settings import load

    groups = defaultdict(list)
    for a in NomadConnector(load({"NOMAD_ADDR": sb.nomad_addr}).nomad).list_allocations().data:
        if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run":
            groups[(a["Namespace"], a["JobID"], a["TaskGroup"])].append(a)
    for _key, members in sorted(groups.items()):
        if len(members) == 2 and all(not t.get("Restarts") for m in members for t in m["TaskStates"].values()):
            return members[0]
    raise AssertionError("no calm pair")


def test_the_picker_lists_every_cluster_and_narrows_the_page(group):
    wait_for_all()
    at = open_app()
    picker = at.selectbox(key="cluster_picker")
    assert picker.options == ["All clusters", "ca-east", "ca-west"] and picker.value == ""
    both = health_clients(at)
    picker.select("ca-west").run()
    assert not at.exception
    assert at.query_params["cluster"] in ("ca-west", ["ca-west"])
    west = {c.slug for c in group["ca-west"].world.clients}
    assert health_clients(at) == west and west < both
    assert "cluster ca-west" in page_text_of(at)
    at.selectbox(key="cluster_picker").select("").run()
    assert "cluster" not in at.query_params and health_clients(at) == both


def test_an_unknown_cluster_in_the_url_is_said_in_words(group):
    at = open_app(cluster="ca-pacific")
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "There is no cluster named “ca-pacific”" in warnings and "ca-east, ca-west" in warnings
    assert at.selectbox(key="cluster_picker").value == ""  # and every cluster is shown
    assert "ca-east, ca-west" in page_text_of(at)


def test_allocation_links_and_reads_go_to_the_cluster_holding_it_and_a_restart_too(group):
    from connectors import NomadConnector
    from connectors.settings import load
    from store import database_url
    from store.audit import AuditStore

    west = group["ca-west"]
    alloc = running_pair(west)
    conn = NomadConnector(load({"NOMAD_ADDR": west.nomad_addr}).nomad)
    # The client page's allocation links say which cluster holds each allocation.
    at = open_app(page="app_pages/client.py", client=alloc["Namespace"])
    links = [str(v) for df in at.dataframe if "allocation" in df.value.columns for v in df.value["allocation"]]
    mine = [v for v in links if alloc["ID"] in v]
    assert mine and all(v.endswith("&cluster=ca-west") for v in mine), mine
    # Opened with it, the page reads the details from ca-west (resources, not "could not read").
    at = open_app(page="app_pages/allocation.py", alloc=alloc["ID"], cluster="ca-west")
    text = page_text_of(at)
    assert "Could not read the allocation's details" not in text and "Shared disk" in text
    assert "**Cluster** ca-west" in text
    before = {
        t: sum(e["Type"] == "Restart Signaled" for e in s["Events"] or ())
        for t, s in conn.get_allocation(alloc["ID"])["TaskStates"].items()
    }
    short = alloc["ID"][:8]
    at.button(key="allocation_restart").click().run()
    at.text_input(key="restart_confirm").input(short).run()
    at.text_area(key="restart_reason").input("customer reports errors").run()
    at.button(key="restart_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "is restarting" in "\n".join(str(s.value) for s in at.success)
    after = conn.get_allocation(alloc["ID"])["TaskStates"]
    assert all(
        sum(e["Type"] == "Restart Signaled" for e in after[t]["Events"] or ()) == n + 1 for t, n in before.items()
    )
    outcome = at.session_state["_action_outcome"][1]
    rows = AuditStore(database_url()).events(request_id=outcome.request_id)
    assert {r["cluster"] for r in rows} == {"ca-west"}
    # The audit page says which cluster the restart went to.
    audit = open_app(page="app_pages/audit.py")
    table = next(df.value for df in audit.dataframe if "request_id" in df.value.columns)
    mine = table[table["request_id"] == outcome.request_id]
    assert mine["cluster"].tolist() == ["ca-west"] and mine["outcome"].tolist() == ["succeeded"]


def test_the_same_allocation_id_in_two_clusters_asks_which(group, tmp_path):
    """Allocation IDs are unique per cluster only. Two configured names for one Nomad (a copy of a
    cluster, say) hold every ID twice: the page lists both instead of guessing."""
    east = group["ca-east"]
    saved = os.environ["DASHBOARD_CLUSTERS_FILE"]
    os.environ["DASHBOARD_CLUSTERS_FILE"] = clusters_file(
        tmp_path / "twins.toml", [("east-a", "ca-east", east), ("east-b", "ca-east", east)]
    )
    _reset()
    try:
        wait_for_all()
        alloc = running_pair(east)
        at = open_app(page="app_pages/allocation.py", alloc=alloc["ID"][:8])
        text = page_text_of(at)
        assert "exists in 2 clusters (east-a, east-b)" in text
        from urllib.parse import parse_qsl

        links = [dict(parse_qsl(p.proto.query_string)) for p in at.get("page_link")]
        picked = [q for q in links if q.get("alloc") == alloc["ID"]]
        assert {q.get("cluster") for q in picked} == {"east-a", "east-b"}
        at = open_app(page="app_pages/allocation.py", alloc=alloc["ID"], cluster="east-b")
        assert "**Cluster** east-b" in page_text_of(at)
    finally:
        os.environ["DASHBOARD_CLUSTERS_FILE"] = saved
        _reset()


def test_region_only_residency_rules_judge_each_cluster_by_its_region_label(group, tmp_path):
    """Each cluster's placements are in its region label (the config's ``region``), so a rule that lists
    regions judges them instead of calling every placement "unknown"."""
    import re

    east_only = sorted(
        {c.slug for c in group["ca-east"].world.clients} - {c.slug for c in group["ca-west"].world.clients}
    )
    with open(os.path.join(ROOT, "config", "dashboard.toml"), encoding="utf-8") as fh:
        text = fh.read()
    rules = (
        '[residency]\ndefault = { regions = ["ca-east", "ca-west"] }\n\n'
        f'[residency.clients]\n"{east_only[0]}" = {{ regions = ["ca-west"] }}\n\n'
    )
    text = re.sub(r"\[residency\].*?(?=\n\[actions\])", rules, text, flags=re.S)
    path = tmp_path / "dashboard.toml"
    path.write_text(text, encoding="utf-8")
    os.environ["DASHBOARD_CONFIG"] = str(path)
    _reset()
    try:
        wait_for_all()
        at = open_app(page="app_pages/residency.py")
        table = next(df.value for df in at.dataframe if "verdict" in df.value.columns)
        verdicts = {str(v).split()[-1] for v in table["verdict"]}
        assert verdicts == {"forbidden"}  # nothing "unknown": every placement's region is its cluster's
        clients = {str(v).rsplit("client=", 1)[-1] for v in table["client"]}
        assert clients == {east_only[0]}  # only the client allowed ca-west alone, running in ca-east
    finally:
        os.environ.pop("DASHBOARD_CONFIG", None)
        _reset()


def test_server_start_records_every_clusters_deployments_under_its_name(group):
    """launcher.py's start_for_this_process: one recorder per configured cluster, each writing its
    cluster's deployments keyed by that cluster's name."""
    import requests

    from history import read as history_read
    from history.recorder import start_for_this_process

    wait_for_all()
    recorders = start_for_this_process()
    assert sorted(r.cluster for r in recorders) == ["ca-east", "ca-west"]
    for rec in recorders:
        rec.record_now()
    for sb in group:
        served = requests.get(sb.nomad_addr + "/v1/deployments", params={"namespace": "*"}, timeout=10).json()
        rows = history_read.history(cluster=sb.name)
        assert set(rows["deployment_id"]) >= {d["ID"] for d in served} and len(served)


def test_a_client_in_both_clusters_names_the_cluster_of_each_rolling_restart_choice(group):
    shared = sorted(group.shared_clients())[0]
    wait_for_all()
    at = open_app(page="app_pages/client.py", client=shared)
    options = at.selectbox(key="rolling_group").options
    assert any(o.endswith("(ca-east)") for o in options) and any(o.endswith("(ca-west)") for o in options)
    west = next(o for o in options if o.endswith("(ca-west)"))
    at.selectbox(key="rolling_group").select(west).run()
    at.button(key="rolling_open").click().run()
    assert "in cluster ca-west" in page_text_of(at)  # the dialog says where it restarts
