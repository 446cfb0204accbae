"""ui.clock is the one 'browser time zone' helper: widgets, freshness and the sidebar identity use it."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from ui import clock

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def browser_zone(monkeypatch):
    def set_zone(name):
        monkeypatch.setattr(clock.st, "context", SimpleNamespace(timezone=name))

    return set_zone


def test_known_zone(browser_zone):
    browser_zone("America/Toronto")
    assert clock.zone_name() == "America/Toronto"
    moment = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
    assert clock.local(moment).strftime("%H:%M %Z") == "07:00 EST"


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus", "../../etc/passwd"])
def test_missing_or_unknown_zone_is_utc(browser_zone, name):
    browser_zone(name)
    assert clock.zone_name() is None
    assert clock.zone() is UTC


def test_sidebar_identity_time_uses_the_browser_zone(browser_zone):
    from ui.login import _local_time

    browser_zone("Europe/Paris")
    assert _local_time(datetime(2026, 1, 14, 12, 0, tzinfo=UTC)) == "Jan 14, 13:00 CET"


def _reads_st_context_timezone(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(n, ast.Attribute)
        and n.attr == "timezone"
        and isinstance(n.value, ast.Attribute)
        and n.value.attr == "context"
        for n in ast.walk(tree)
    )


def test_only_ui_clock_reads_the_browser_zone():
    readers = sorted(
        str(p.relative_to(ROOT))
        for d in ("ui", "auth", "app_pages", "charts", "views")
        for p in (ROOT / d).rglob("*.py")
        if _reads_st_context_timezone(p)
    )
    assert readers == ["ui/clock.py"]
    assert _reads_st_context_timezone(ROOT / "app.py") is False
