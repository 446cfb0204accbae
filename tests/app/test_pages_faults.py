"""A failing or slow source never blanks a page: the last good data stays, with a banner in plain words."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import config
import snapshot
from connectors import settings as cluster_settings

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ENV = ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "DASHBOARD_CONFIG", "DASHBOARD_HTTP_TIMEOUT", "NOMAD_TOKEN")


@pytest.fixture
def cluster(fresh_sandbox, tmp_path):
    """The app on a fresh sandbox, with short blocking queries and a 1 s HTTP timeout so faults show fast."""
    cfg = tmp_path / "dashboard.toml"
    cfg.write_text(
        config.DEFAULT_PATH.read_text(encoding="utf-8").replace(
            "blocking_wait_seconds = 30", "blocking_wait_seconds = 1"
        ),
        encoding="utf-8",
    )
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(
        {
            "NOMAD_ADDR": fresh_sandbox.nomad_addr,
            "CONSUL_HTTP_ADDR": fresh_sandbox.consul_addr,
            "DASHBOARD_CONFIG": str(cfg),
            "DASHBOARD_HTTP_TIMEOUT": "1",
        }
    )
    os.environ.pop("NOMAD_TOKEN", None)
    ref = snapshot.get_refresher(cluster_settings.load(), "namespace", wait=1.0)
    ref.wait_for(lambda s: s.has_data and all(x.has_data for x in s.sources.values()), timeout=20)
    yield fresh_sandbox, ref
    fresh_sandbox.faults.clear()
    ref.stop(timeout=0.5)
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def open_app(user_claims, auth_secrets, page=None, **params):
    at = AppTest.from_file(APP, default_timeout=30)
    at.user = user_claims("support")
    at.secrets = auth_secrets
    at.run()
    if page:
        at.switch_page(page)
        at.query_params.update(params)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def banner(at) -> str:
    """The warnings as a person reads them (Markdown escapes resolved, invisible word joiners dropped)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(w.value for w in at.warning)).replace("\u2060", "")


@pytest.mark.slow
def test_nomad_down_keeps_the_last_good_clients_with_a_banner(cluster, user_claims, auth_secrets):
    sb, ref = cluster
    at = open_app(user_claims, auth_secrets)
    before = [link.split("client=", 1)[1] for link in at.dataframe[0].value["client"]]
    assert len(before) == 8 and not banner(at)

    sb.faults.inject("nomad", None, down=True)
    ref.wait_for(lambda s: {"jobs", "allocations"} <= {x.name for x in s.failing()}, timeout=20)
    at.run()
    assert not at.exception
    text = banner(at)
    assert "showing the last good data" in text
    assert "Nomad allocations:" in text and "Showing the data from" in text
    assert "Traceback" not in text
    assert [link.split("client=", 1)[1] for link in at.dataframe[0].value["client"]] == before  # same order

    # the client page too
    at.switch_page("app_pages/client.py")
    at.query_params["client"] = before[0]
    at.run()
    assert at.title[0].value.endswith(before[0]) and "Nomad allocations:" in banner(at)


@pytest.mark.slow
def test_slow_consul_shows_a_banner_and_the_nomad_data(cluster, user_claims, auth_secrets):
    sb, ref = cluster
    sb.faults.inject("consul", None, latency=3.0)
    ref.wait_for(lambda s: any(x.system == "Consul" for x in s.failing()), timeout=20)
    at = open_app(user_claims, auth_secrets)
    text = banner(at)
    assert "Consul" in text and "showing the last good data" in text
    assert len(at.dataframe[0].value) == 8


def test_no_data_at_all_says_why_instead_of_an_empty_page(user_claims, auth_secrets, tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(
        {
            "NOMAD_ADDR": f"http://127.0.0.1:{port}",
            "CONSUL_HTTP_ADDR": f"http://127.0.0.1:{port}",
            "DASHBOARD_HTTP_TIMEOUT": "1",
        }
    )
    for k in ("DASHBOARD_CONFIG", "NOMAD_TOKEN"):
        os.environ.pop(k, None)
    try:
        for page, params in (
            (None, {}),
            ("app_pages/client.py", {"client": "northern-leaf"}),
            ("app_pages/allocation.py", {"alloc": "3f9a1c2e"}),
        ):
            at = open_app(user_claims, auth_secrets, page, **params)
            text = banner(at)
            assert "No data yet from the cluster" in text and "cannot be reached" in text
            assert not at.dataframe and not at.error  # no "No client named ...": we simply have no data
    finally:
        snapshot.get_refresher(cluster_settings.load(), "namespace", start=False).stop(timeout=0.5)
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
