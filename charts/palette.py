"""Chart-side view of the one status palette (defined in ``views.status``)."""

import plotly.graph_objects as go

from views.status import (  # noqa: F401  (re-exported)
    ALLOC_STATUS_COLORS,
    CHECK_STATUS_COLORS,
    DEPLOYMENT_STATUS_COLORS,
    SEVERITY_COLORS,
    SEVERITY_ORDER,
    STATUS_COLORS,
    STATUS_ICONS,
    STATUS_ORDER,
    UNKNOWN_COLOR,
    badge,
    color,
    icon,
)


def no_data(title: str, message: str = "No data yet") -> go.Figure:
    """An empty figure that says so (no traces)."""
    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig
