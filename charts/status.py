"""Client status counts: bar or donut, always in the order down, degraded, deploying, healthy."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .palette import STATUS_COLORS, STATUS_ICONS, STATUS_ORDER, UNKNOWN_COLOR, no_data


def status_counts(clients: pd.DataFrame) -> dict[str, int]:
    """Status -> number of clients, every known status present (0 if none), unknown ones after."""
    counts = clients["status"].value_counts().to_dict() if clients is not None and len(clients) else {}
    out = {s: int(counts.pop(s, 0)) for s in STATUS_ORDER}
    out.update({str(k): int(v) for k, v in sorted(counts.items())})
    return out


def client_status_counts(clients: pd.DataFrame, *, kind: str = "bar", title: str = "Clients by status") -> go.Figure:
    """How many clients are down / degraded / deploying / healthy.

    ``kind="bar"``: one bar trace, x = statuses in order (zeros kept so colours
    never shift). ``kind="donut"``: one pie trace with a hole, zero slices dropped.
    """
    if kind not in ("bar", "donut"):
        raise ValueError("kind must be 'bar' or 'donut'")
    counts = status_counts(clients)
    if sum(counts.values()) == 0:
        return no_data(title, "No clients")
    labels = list(counts)
    colors = [STATUS_COLORS.get(s, UNKNOWN_COLOR) for s in labels]
    text = [f"{STATUS_ICONS.get(s, '')} {s}".strip() for s in labels]
    if kind == "bar":
        fig = go.Figure(
            go.Bar(
                x=labels,
                y=[counts[s] for s in labels],
                marker={"color": colors},
                text=[counts[s] for s in labels],
                textposition="auto",
                hovertext=text,
                hovertemplate="%{hovertext}: %{y}<extra></extra>",
                name="clients",
            )
        )
        fig.update_layout(xaxis={"categoryorder": "array", "categoryarray": labels}, yaxis={"title": "clients"})
    else:
        keep = [i for i, s in enumerate(labels) if counts[s] > 0]
        fig = go.Figure(
            go.Pie(
                labels=[labels[i] for i in keep],
                values=[counts[labels[i]] for i in keep],
                marker={"colors": [colors[i] for i in keep]},
                hole=0.55,
                sort=False,
                direction="clockwise",
                textinfo="value+label",
                name="clients",
            )
        )
    fig.update_layout(title=title, showlegend=(kind == "donut"), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
