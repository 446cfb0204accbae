"""Activity timeline: task events and deployments over time for a client.

One scatter trace per (kind, severity): symbol by kind (task event = circle,
deployment = diamond), colour by severity (error red, warning amber, info grey).
y = job ID, so each job is a lane.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .palette import SEVERITY_COLORS, SEVERITY_ORDER, UNKNOWN_COLOR, no_data

KIND_SYMBOLS = {"task event": "circle", "deployment": "diamond"}

# deployment status -> severity on the timeline
DEPLOYMENT_SEVERITY = {"failed": "error", "cancelled": "warning", "paused": "warning", "blocked": "warning"}


def _since(df: pd.DataFrame, col: str, since: Any) -> pd.DataFrame:
    if since is None or not len(df):
        return df
    ts = pd.Timestamp(since)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return df[df[col] >= ts]


def activity_timeline(
    task_events: pd.DataFrame,
    deployments: pd.DataFrame,
    *,
    client: str | None = None,
    since: Any = None,
    max_points: int = 5000,
    title: str = "Activity",
) -> go.Figure:
    """Scatter of task events and deployments (newest ``max_points`` task events)."""
    ev = task_events if task_events is not None else pd.DataFrame(columns=["client", "time"])
    dp = deployments if deployments is not None else pd.DataFrame(columns=["client", "modify_time"])
    if client is not None:
        ev = ev[ev["client"] == client] if len(ev) else ev
        dp = dp[dp["client"] == client] if len(dp) else dp
    if len(ev):
        ev = ev[ev["time"].notna()]
        ev = _since(ev, "time", since)
        if len(ev) > max_points:
            ev = ev.nlargest(max_points, "time")
    if len(dp):
        t = dp["modify_time"].where(dp["modify_time"].notna(), dp["create_time"])
        dp = dp.assign(_t=t)
        dp = dp[dp["_t"].notna()]
        dp = _since(dp, "_t", since)
    if not len(ev) and not len(dp):
        return no_data(title, "No activity")

    fig = go.Figure()
    for sev in SEVERITY_ORDER:
        if len(ev):
            part = ev[ev["severity"] == sev]
            if len(part):
                hover = (part["task"] + " · " + part["type"] + ": " + part["message"] + " (" + part["short_id"] + ")").to_numpy()
                fig.add_trace(
                    go.Scatter(
                        x=part["time"],
                        y=part["job_id"],
                        mode="markers",
                        name=f"task event · {sev}",
                        legendgroup="task event",
                        marker={"symbol": KIND_SYMBOLS["task event"], "color": SEVERITY_COLORS.get(sev, UNKNOWN_COLOR), "size": 8},
                        hovertext=hover,
                        hovertemplate="%{x}<br>%{y}<br>%{hovertext}<extra></extra>",
                        customdata=np.stack([part["alloc_id"].to_numpy()], axis=-1),
                    )
                )
        if len(dp):
            dsev = dp["status"].map(DEPLOYMENT_SEVERITY).fillna("info")
            part = dp[dsev == sev]
            if len(part):
                hover = ("deployment v" + part["job_version"].astype(str) + " " + part["status"] + ": "
                         + part["status_description"]).to_numpy()
                fig.add_trace(
                    go.Scatter(
                        x=part["_t"],
                        y=part["job_id"],
                        mode="markers",
                        name=f"deployment · {sev}",
                        legendgroup="deployment",
                        marker={"symbol": KIND_SYMBOLS["deployment"], "color": SEVERITY_COLORS.get(sev, UNKNOWN_COLOR),
                                "size": 12, "line": {"width": 1, "color": "#333"}},
                        hovertext=hover,
                        hovertemplate="%{x}<br>%{y}<br>%{hovertext}<extra></extra>",
                        customdata=np.stack([part["deployment_id"].to_numpy()], axis=-1),
                    )
                )
    fig.update_layout(
        title=title,
        xaxis={"title": "time (UTC)"},
        yaxis={"title": "job", "type": "category"},
        legend={"orientation": "h"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig
