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
