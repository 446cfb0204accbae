"""The one place for status names, sort orders, colours and icons.

Client health statuses, worst first: ``down`` (red), ``degraded`` (amber),
``deploying`` (blue), ``healthy`` (green). Pages and charts take colours and
icons from here so the same status always looks the same.

>>> color("down"), icon("healthy"), badge("degraded")
('#d62728', '✓', '▲ degraded')
"""

from __future__ import annotations

DOWN = "down"
DEGRADED = "degraded"
DEPLOYING = "deploying"
HEALTHY = "healthy"

STATUS_ORDER: tuple[str, ...] = (DOWN, DEGRADED, DEPLOYING, HEALTHY)
STATUS_RANK: dict[str, int] = {s: i for i, s in enumerate(STATUS_ORDER)}

STATUS_COLORS: dict[str, str] = {
    DOWN: "#d62728",  # red
    DEGRADED: "#ff9f1c",  # amber
    DEPLOYING: "#1f77b4",  # blue
    HEALTHY: "#2ca02c",  # green
}
# Text symbols every font has (colour emoji show as empty boxes without an emoji font)
STATUS_ICONS: dict[str, str] = {
    DOWN: "✕",
    DEGRADED: "▲",
    DEPLOYING: "↻",
    HEALTHY: "✓",
}
# Streamlit material icons, for st.badge / st.markdown(":material/...:")
STATUS_MATERIAL_ICONS: dict[str, str] = {
    DOWN: ":material/error:",
    DEGRADED: ":material/warning:",
    DEPLOYING: ":material/sync:",
    HEALTHY: ":material/check_circle:",
}
# Streamlit colour names for st.badge(color=...)
STATUS_ST_COLORS: dict[str, str] = {DOWN: "red", DEGRADED: "orange", DEPLOYING: "blue", HEALTHY: "green"}

UNKNOWN_COLOR = "#7f7f7f"
UNKNOWN_ICON = "○"

# Event / message severity (task_events.severity)
SEVERITY_ORDER: tuple[str, ...] = ("error", "warning", "info")
SEVERITY_COLORS: dict[str, str] = {"error": "#d62728", "warning": "#ff9f1c", "info": "#7f7f7f"}

# Nomad allocation ClientStatus
ALLOC_STATUS_COLORS: dict[str, str] = {
    "running": "#2ca02c",
    "pending": "#1f77b4",
    "complete": "#7f7f7f",
    "failed": "#d62728",
    "lost": "#8c1c13",
    "unknown": "#bcbd22",
}
ALLOC_STATUS_ICONS: dict[str, str] = {
    "running": "●",
    "pending": "◌",
    "failed": "✕",
    "lost": "✕",
    "complete": "○",
    "unknown": "▲",
}
# Troubled first: the order allocation rows are listed in (then newest first).
ALLOC_STATUS_ORDER: dict[str, int] = {"failed": 0, "lost": 1, "pending": 2, "running": 3, "unknown": 4, "complete": 5}
# Consul check status, worst first (a service's health is its worst check's).
CHECK_RANK: dict[str, int] = {"critical": 0, "warning": 1, "passing": 2}
CHECK_STATUS_COLORS: dict[str, str] = {"passing": "#2ca02c", "warning": "#ff9f1c", "critical": "#d62728"}
# Nomad deployment status
DEPLOYMENT_STATUS_COLORS: dict[str, str] = {
    "successful": "#2ca02c",
    "running": "#1f77b4",
    "initializing": "#1f77b4",
    "pending": "#1f77b4",
    "unblocking": "#1f77b4",
    "blocked": "#9467bd",
    "paused": "#9467bd",
    "failed": "#d62728",
    "cancelled": "#7f7f7f",
}
ACTIVE_DEPLOYMENT_STATUSES = frozenset({"running", "pending", "paused", "blocked", "unblocking", "initializing"})


def rank(status: str) -> int:
    """Sort key, worst first; unknown statuses sort after healthy."""
    return STATUS_RANK.get(status, len(STATUS_ORDER))


def color(status: str) -> str:
    return STATUS_COLORS.get(status, UNKNOWN_COLOR)


def icon(status: str) -> str:
    return STATUS_ICONS.get(status, UNKNOWN_ICON)


def badge(status: str) -> str:
    """Icon and word, e.g. ``'✕ down'`` (plain text, works in tables)."""
    return f"{icon(status)} {status}"


def alloc_icon(client_status: str) -> str:
    """Icon of an allocation's ClientStatus (amber for one Nomad adds later)."""
    return ALLOC_STATUS_ICONS.get(client_status, ALLOC_STATUS_ICONS["unknown"])


def alloc_badge(client_status: str) -> str:
    """E.g. ``'✕ failed'`` (plain text, works in tables)."""
    return f"{alloc_icon(client_status)} {client_status}"


def worst(statuses) -> str:
    """The worst of some client statuses (``healthy`` for none)."""
    best = HEALTHY
    for s in statuses:
        if rank(s) < rank(best):
            best = s
    return best
