"""An invalid dashboard configuration: app.py shows a readable error page naming the key, not a traceback,
and nothing else (no sign-in, no navigation, no data)."""
from __future__ import annotations

import pytest


@pytest.fixture
def bad_config(tmp_path, monkeypatch):
    def write(text: str) -> None:
        path = tmp_path / "dashboard.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("DASHBOARD_CONFIG", str(path))
    return write


def _error_text(at) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")


def test_invalid_value_shows_an_error_page_naming_the_key(bad_config, run_app, nav_pages, button_labels):
    bad_config("[auth]\nmax_session_hours = 0\n")
    at = run_app("admin")
    assert not at.exception, [e.message for e in at.exception]
    text = _error_text(at)
    assert "The dashboard configuration is invalid" in text
    assert "[auth] max_session_hours must be more than 0" in text
    assert nav_pages(at) == [] and button_labels(at) == []


def test_unreadable_toml_shows_an_error_page(bad_config, run_app, nav_pages):
    bad_config("[auth\nmax_session_hours = \n")
    at = run_app("admin")
    assert not at.exception, [e.message for e in at.exception]
    assert "Cannot read the dashboard configuration dashboard.toml" in _error_text(at)
    assert nav_pages(at) == []
