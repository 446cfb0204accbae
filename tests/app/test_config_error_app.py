"""An invalid dashboard configuration: app.py shows a readable error page naming the key, not a traceback,
and nothing else (no sign-in, no navigation, no data)."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1.util import patch_config_options


@pytest.fixture
def bad_config(tmp_path, monkeypatch):
    def write(text: str) -> None:
        path = tmp_path / "dashboard.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("DASHBOARD_CONFIG", str(path))

    return write


def _error_text(at) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")


@patch_config_options({"server.address": "localhost"})
def test_invalid_value_shows_an_error_page_naming_the_key(bad_config, run_app, nav_pages, button_labels):
    bad_config("[auth]\nmax_session_hours = 0\n")
    at = run_app("admin")
    assert not at.exception, [e.message for e in at.exception]
    text = _error_text(at)
    assert "The dashboard configuration is invalid" in text
    assert "[auth] max_session_hours must be more than 0" in text
    assert nav_pages(at) == [] and button_labels(at) == []


@patch_config_options({"server.address": "localhost"})
def test_unreadable_toml_shows_an_error_page(bad_config, run_app, nav_pages):
    bad_config("[auth\nmax_session_hours = \n")
    at = run_app("admin")
    assert not at.exception, [e.message for e in at.exception]
    assert "Cannot read the dashboard configuration dashboard.toml" in _error_text(at)
    assert nav_pages(at) == []


@patch_config_options({"server.address": "0.0.0.0"})
def test_on_a_network_the_error_page_keeps_the_details_for_the_server_log(bad_config, run_app, nav_pages, caplog):
    bad_config('[roles]\n"finance-admins" = ["superuser"]\n')
    with caplog.at_level(logging.ERROR, logger="dashboard"):
        at = run_app("admin")
    text = _error_text(at)
    assert "The dashboard configuration is invalid" in text and "server log" in text
    assert "finance-admins" not in text  # group names are not shown to people who have not signed in
    assert "finance-admins" in caplog.text
    assert nav_pages(at) == []


def test_an_edited_config_is_read_again_without_a_restart(bad_config, run_app, nav_pages, page_text):
    import os
    import time

    bad_config('[roles]\n"dash-support" = ["support"]\n')
    assert nav_pages(run_app("support"))  # support may open pages
    bad_config('[roles]\n"dash-viewers" = ["viewer"]\n')  # support's group removed
    later = time.time_ns() + 1_000_000_000
    os.utime(os.environ["DASHBOARD_CONFIG"], ns=(later, later))
    at = run_app("support")
    assert nav_pages(at) == [] and "No access" in page_text(at)
