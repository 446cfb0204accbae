"""The browser's time zone: the one helper for absolute times (tables, charts, the freshness line, the
sidebar's session end). Falls back to UTC when there is no browser context or the zone is unknown."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import streamlit as st


def zone_name() -> str | None:
    """The browser's IANA time zone name (e.g. 'America/Toronto'), or None (= UTC) when unknown."""
    try:
        name = st.context.timezone
    except Exception:
        return None
    if not name:
        return None
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(name)
    except Exception:
        return None
    return str(name)


def zone() -> tzinfo:
    """The browser's zone as a tzinfo (UTC when unknown)."""
    name = zone_name()
    if name is None:
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def local(moment: datetime) -> datetime:
    """``moment`` (timezone-aware) in the browser's zone."""
    return moment.astimezone(zone())
