"""launcher.py: the demo's generated secrets are valid TOML, and the demo never faces a network."""

from __future__ import annotations

import tomllib

import pytest

import launcher


def test_auth_secrets_render_as_the_toml_streamlit_reads():
    section = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": 'quote " and \\ backslash',
        "client_kwargs": {"scope": "openid profile email groups", "prompt": "login"},
        "expose_tokens": "id",
        "okta": {"client_id": "abc", "server_metadata_url": "https://x/.well-known/openid-configuration"},
    }
    parsed = tomllib.loads(launcher.auth_secrets_toml(section))
    assert parsed == {"auth": section}


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "dashboard.example.com"])
def test_the_sandbox_demo_refuses_to_serve_beyond_loopback(address):
    with pytest.raises(SystemExit, match="loopback only"):
        launcher.start_demo(address, 8501)


def test_the_demo_clusters_file_lists_every_sandbox_cluster_with_tokens_only_in_variables(tmp_path):
    import config
    from connectors.settings import load_all
    from sandbox import MultiSandbox

    with MultiSandbox(clusters=2, clients=6, acl=True, frozen=True) as group:
        env: dict = {}
        text = launcher.demo_clusters_toml(group, env)
        secrets = [t for sb in group for t in (sb.tokens["support"], sb.consul_tokens["read"])]
        assert not any(secret in text for secret in secrets)
        path = tmp_path / "clusters.toml"
        path.write_text(text)
        cfg = config.load(env={"DASHBOARD_CLUSTERS_FILE": str(path)})
        east, west = load_all(list(cfg.clusters), env)
        assert (east.name, west.name) == ("ca-east", "ca-west")
        assert (east.nomad.addr, west.consul.addr) == (group[0].nomad_addr, group[1].consul_addr)
        assert east.nomad.token == group[0].tokens["support"]
        assert west.consul.token == group[1].consul_tokens["read"]
    assert launcher.clusters_configured({"DASHBOARD_CLUSTERS_FILE": str(path)})
    assert not launcher.clusters_configured({})
