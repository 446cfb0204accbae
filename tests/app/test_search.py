"""The sidebar search on every page: straight to the one thing named, or a list of links."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

import snapshot
from connectors import settings as cluster_settings

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "app.py")


@pytest.fixture(scope="module")
def snap(sandbox):
    saved = {k: os.environ.get(k) for k in ("NOMAD_ADDR", "CONSUL_HTTP_ADDR")}
    os.environ.update({"NOMAD_ADDR": sandbox.nomad_addr, "CONSUL_HTTP_ADDR": sandbox.consul_addr})
    ref = snapshot.get_refresher(cluster_settings.load(), "namespace")
    # Every source answered and the frames hold its data (statuses come before the build).
    yield ref.wait_for(
        lambda s: (
            s.has_data
            and all(x.has_data for x in s.sources.values())
            and len(s.frames.allocations) > 0
            and len(s.frames.jobs) > 0
        ),
        timeout=20,
    )
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture
def app(snap, user_claims, auth_secrets):
    at = AppTest.from_file(APP, default_timeout=30)
    at.user = user_claims("support")
    at.secrets = auth_secrets
    at.run()
    assert not at.exception
    return at


def search(at, value):
    at.sidebar.text_input(key="sidebar_search").input(value).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_short_allocation_id_opens_the_allocation(app, snap):
    allocs = snap.frames.allocations
    unique = allocs[~allocs["short_id"].duplicated(keep=False)].iloc[0]
    search(app, unique["short_id"])
    assert app.title[0].value.endswith(f"Allocation {unique['short_id']}")
    assert app.query_params["alloc"] in (unique["alloc_id"], [unique["alloc_id"]])


def test_client_name_opens_the_client(app, snap):
    name = snap.frames.clients["client"].iloc[3]
    search(app, name)
    assert app.title[0].value.endswith(name)


def test_job_id_opens_its_client_with_the_job_filter(app, snap):
    job = snap.frames.jobs[snap.frames.jobs["type"] == "service"].iloc[0]
    search(app, job["job_id"])
    assert app.title[0].value.endswith(job["client"])
    table = next(d.value for d in app.dataframe if "allocation" in d.value.columns)
    assert set(table["job"]) == {job["job_id"]}


def test_node_name_opens_the_node(app, snap):
    node = snap.frames.nodes.iloc[0]
    search(app, node["name"])
    assert app.title[0].value.endswith(node["name"])


def test_several_matches_are_listed_as_links(app, snap):
    search(app, "-web")
    labels = [el.proto.label for el in app.sidebar.get("page_link")]
    assert len(labels) > 1 and all("web" in label for label in labels)
    assert app.title[0].value.endswith("Client health")  # stayed put
    search(app, "zzz-nothing")
    assert "Nothing matches" in " ".join(c.value for c in app.sidebar.caption)
