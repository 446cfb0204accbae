"""Two clusters in Chromium at 1440x900 (issue 12): a signed-in person sees both clusters' clients and
the cluster picker; when one cluster stops answering mid-test, a banner names it, the other
cluster's clients still render, and the stopped cluster's last data stays on the page with its age.
Nothing from the cluster becomes a link or Markdown. Screenshots: test-output/clusters-*.png.

This module runs its own dashboard (and OpenID provider, whose redirect URI names the dashboard's
port) on a two-cluster sandbox: the session's dashboard serves one cluster.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time

import pytest
from conftest import (
    CLIENT_ID,
    OIDC_DIR,
    OUTPUT,
    ROOT,
    free_port,
    sign_in_button,
    stop,
    toml_value,
    wait_for,
    wait_for_app,
)
from test_support_flow import grid_rows, grid_with
from test_versions_residency import BRIGHTNESS, foreign_links

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """The two sandbox clusters, a clients file naming them, an OpenID provider and a dashboard."""
    from sandbox import MultiSandbox

    workdir = tmp_path_factory.mktemp("clusters-dashboard")
    port, idp_port = free_port(), free_port()
    redirect_uri = f"http://localhost:{port}/oauth2callback"
    client_secret = secrets.token_urlsafe(24)
    node = shutil.which("node")
    assert node, "Node.js is needed for the browser login tests (tests/oidc)"
    procs = []
    with MultiSandbox(clusters=2, clients=16, frozen=True) as group:
        listed = workdir / "clusters.toml"
        listed.write_text(
            "".join(
                f'[[clusters]]\nname = "{sb.name}"\nregion = "{sb.world.profile.region}"\n'
                f'nomad_address = "{sb.nomad_addr}"\nconsul_address = "{sb.consul_addr}"\n\n'
                for sb in group
            )
        )
        with open(workdir / "oidc.log", "wb") as out:
            idp = subprocess.Popen(
                [node, str(OIDC_DIR / "server.mjs"), str(idp_port), redirect_uri, client_secret],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=OIDC_DIR,
            )
        procs.append(idp)
        issuer = f"http://127.0.0.1:{idp_port}"
        auth = {
            "redirect_uri": redirect_uri,
            "cookie_secret": secrets.token_urlsafe(32),
            "client_id": CLIENT_ID,
            "client_secret": client_secret,
            "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
            "display_name": "Test SSO",
            "client_kwargs": {"scope": "openid profile email groups", "prompt": "login"},
        }
        secrets_file = workdir / "secrets.toml"
        secrets_file.write_text("[auth]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in auth.items()))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "CONSUL_", "DASHBOARD_"))}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
                "PYTHONUNBUFFERED": "1",
                "DASHBOARD_CLUSTERS_FILE": str(listed),
                "DASHBOARD_STATE_DIR": str(workdir / "state"),
                "DASHBOARD_HTTP_TIMEOUT": "5",
            }
        )
        log = workdir / "streamlit.log"
        with open(log, "wb") as out:
            app = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true"]
                + ["--server.port", str(port), "--server.address", "localhost", "--server.fileWatcherType", "none"]
                + ["--secrets.files", str(secrets_file)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append(app)
        try:
            wait_for(f"{issuer}/.well-known/openid-configuration", idp, "oidc-provider", timeout=30)
            wait_for(f"http://localhost:{port}/_stcore/health", app, "streamlit", timeout=90)
            yield group, f"http://localhost:{port}", issuer
        finally:
            for p in reversed(procs):
                stop(p)
            OUTPUT.mkdir(exist_ok=True)
            shutil.copy(log, OUTPUT / "browser-clusters-streamlit.log")


def sign_in(page, base: str, issuer: str, username: str = "support") -> None:
    page.goto(base + "/")
    sign_in_button(page).first.click()
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    page.fill('input[name="login"]', username)
    page.fill('input[name="password"]', "any-password")
    page.click('button[type="submit"]')
    page.wait_for_url(re.compile(re.escape(base) + r"/?$"))
    wait_for_app(page)


def client_shown(page, base: str, client: str) -> bool:
    page.goto(f"{base}/?q={client}")
    wait_for_app(page)
    rows = grid_rows(grid_with(page, f"client={client}"))
    return any(r and r[0] == f"client?client={client}" for r in rows)


def picked(page) -> str:
    """What the sidebar's cluster picker shows (its text, or its input's value)."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    return box.evaluate(
        "el => (el.querySelector('input') && el.querySelector('input').value) || "
        "[...el.querySelectorAll('div')].map(d => d.childElementCount ? '' : d.textContent).join('').trim()"
    )


def main_text(page, wait_for: str = "Data as of") -> str:
    """The page body's text once ``wait_for`` shows (the data renders after the title)."""
    page.wait_for_function(
        "t => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(t)", arg=wait_for
    )
    return page.locator('[data-testid="stMain"]').inner_text()


def shoot(page, name: str, base: str) -> None:
    for scheme, check in (("light", lambda v: v > 200), ("dark", lambda v: v < 60)):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        wait_for_app(page)
        grid_with(page, "client?client=")
        assert check(page.evaluate(BRIGHTNESS)), scheme
        assert foreign_links(page, base) == []  # no link made from cluster text
        # the picker fits the sidebar: its box ends inside it
        picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
        side = page.locator('[data-testid="stSidebar"]').bounding_box()
        box = picker.bounding_box()
        assert box["x"] + box["width"] <= side["x"] + side["width"] + 1
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"clusters-{name}-{scheme}.png"))


def test_one_cluster_stopped_mid_test_is_named_and_the_other_still_renders(page, two):
    group, base, issuer = two
    east = {c.slug for c in group["ca-east"].world.clients}
    west = {c.slug for c in group["ca-west"].world.clients}
    east_only, west_only = sorted(east - west)[0], sorted(west - east)[0]
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, issuer)
    text = main_text(page)
    assert "cluster ca-east, ca-west" in text
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "Cluster" in sidebar.inner_text() and picked(page) == "All clusters"  # the picker, showing every cluster
    assert client_shown(page, base, east_only) and client_shown(page, base, west_only)

    # The picker narrows the page to one cluster and says so in the address.
    page.goto(base + "/")
    wait_for_app(page)
    sidebar.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="ca-west").click()
    page.wait_for_url(re.compile(r"cluster=ca-west"))
    wait_for_app(page)
    assert "ca-east, ca-west" not in main_text(page, "cluster ca-west")
    shoot(page, "picked", base)

    group["ca-west"].stop()
    deadline = time.monotonic() + 90
    text = ""
    while time.monotonic() < deadline:
        page.goto(base + "/")
        wait_for_app(page)
        text = main_text(page)
        if "Cluster ca-west is not answering" in text:
            break
        page.wait_for_timeout(2000)
    assert "Cluster ca-west is not answering" in text
    assert re.search(r"Cluster ca-west is not answering \(.+\)\. Showing its data from .+ ago", text), text
    assert "ca-east is not answering" not in text
    shoot(page, "stopped", base)
    # ca-east is current; ca-west's clients stay on the page from its last data.
    assert client_shown(page, base, east_only)
    assert client_shown(page, base, west_only)
    assert "Cluster ca-west is not answering" in main_text(page)


def test_an_unknown_cluster_in_the_address_is_said_in_words(page, two):
    _group, base, issuer = two
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, issuer)
    page.goto(base + "/?cluster=%5Bca-pacific%5D(https://evil.example/)")
    wait_for_app(page)
    text = main_text(page, "There is no cluster named")
    # shown literally (md_text breaks the autolink with a word joiner), not as a link
    assert "There is no cluster named “[ca-pacific](https\u2060://evil.example/)”" in text
    assert foreign_links(page, base) == []
