"""Several clusters in one view (issue 12), in AppTest against two real sandbox clusters: client
health lists every cluster's clients (a client in both appears once, with its parts), and when
one cluster stops answering mid-test the other still renders, under a banner naming the stopped
one."""

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


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory):
    import streamlit as st

    from snapshot.refresher import _reset_registry

    saved = {k: os.environ.get(k) for k in KEYS}
    for k in KEYS:
        os.environ.pop(k, None)
    st.cache_resource.clear()
    _reset_registry()
    with MultiSandbox(clusters=2, clients=16, frozen=True) as group:
        listed = tmp_path_factory.mktemp("clusters") / "clusters.toml"
        listed.write_text(
            "".join(
                f'[[clusters]]\nname = "{sb.name}"\nregion = "{sb.world.profile.region}"\n'
                f'nomad_address = "{sb.nomad_addr}"\nconsul_address = "{sb.consul_addr}"\n\n'
                for sb in group
            )
        )
        os.environ["DASHBOARD_CLUSTERS_FILE"] = str(listed)
        try:
            yield group
        finally:
            st.cache_resource.clear()
            _reset_registry()
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def open_health(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = make_user_claims("support")
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def health_rows(at: AppTest):
    frames = [df.value for df in at.dataframe]
    table = next(df for df in frames if "client" in df.columns)
    return table


def wait_for_both(group, timeout=30):
    import config
    import snapshot
    from connectors.settings import load_all

    listed = load_all(list(config.load().clusters))
    deadline = time.monotonic() + timeout
    for s in listed:
        ref = snapshot.get_refresher(s, "namespace", wait=30.0)
        ref.wait_for(
            lambda x: x.has_data and all(v.has_data for v in x.sources.values()), timeout=deadline - time.monotonic()
        )


def test_health_lists_both_clusters_and_survives_one_stopping(two_clusters):
    group = two_clusters
    wait_for_both(group)
    at = open_health()
    text = page_text_of(at)
    assert "ca-east, ca-west" in text  # the freshness line names the clusters shown
    east = {c.slug for c in group["ca-east"].world.clients}
    west = {c.slug for c in group["ca-west"].world.clients}
    shared = east & west
    assert shared, "the sandbox layout shares clients between neighbouring clusters"
    rows = health_rows(at)
    names = [str(v).rsplit("client=", 1)[-1] for v in rows["client"]]
    # Every client of both clusters, and a shared client once.
    assert set(names) == east | west
    assert len(names) == len(set(names))

    # The cluster filter (?cluster=) narrows the page to one cluster, shared clients included.
    at = open_health(cluster="ca-west")
    assert {str(v).rsplit("client=", 1)[-1] for v in health_rows(at)["client"]} == west
    assert "cluster ca-west" in page_text_of(at) and "ca-east, ca-west" not in page_text_of(at)

    west_only = sorted(west - east)
    group["ca-west"].stop()
    import config
    import snapshot
    from connectors.settings import load_all

    west_settings = next(s for s in load_all(list(config.load().clusters)) if s.name == "ca-west")
    ref = snapshot.get_refresher(west_settings, "namespace", wait=30.0)
    ref.wait_for(lambda x: any(v.error_kind == "unavailable" for v in x.failing()), timeout=60)

    at = open_health()
    text = page_text_of(at)
    assert "Cluster ca-west is not answering" in text
    assert "ca-east is not answering" not in text
    names = {str(v).rsplit("client=", 1)[-1] for v in health_rows(at)["client"]}
    # The other cluster still renders, and the stopped one keeps its last good data.
    assert east <= names and set(west_only) <= names
