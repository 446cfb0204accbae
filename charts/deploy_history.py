"""Charts of the recorded deployment history (input: ``views.deploy_metrics`` tables).

Times are in the viewer's zone (the buckets come in it); colours from the one status palette.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from views import deploy_metrics as m

from .palette import DEPLOYMENT_STATUS_COLORS, UNKNOWN_COLOR, no_data

_MARGIN = {"l": 10, "r": 10, "t": 60, "b": 10}
# legends above the plot, right-aligned: below it they collide with the axis titles
_LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1}


def _count_axis(top: float) -> dict:
    """A counts axis with whole-number ticks."""
    return {"rangemode": "tozero", "dtick": max(1, int(top // 5) or 1), "tickformat": ",d"}


REVERTED_COLOR = "#ff9f1c"  # amber: failed, and Nomad rolled the job back


def outcomes_per_day(daily: pd.DataFrame, *, title: str = "Deployments per day") -> go.Figure:
    """Stacked bars per local day, one trace per outcome (``deploy_metrics.per_bucket(..., "D")``)."""
    if daily is None or not len(daily):
        return no_data(title, "No deployments in this period")
    fig = go.Figure()
    for o in m.OUTCOMES:
        if not int(daily[o].sum()):
            continue
        fig.add_trace(
            go.Bar(
                x=daily["bucket"],
                y=daily[o].to_numpy(),
                name=o,
                marker={"color": DEPLOYMENT_STATUS_COLORS.get(o, UNKNOWN_COLOR)},
                hovertemplate=f"%{{x|%a %d %b}}: %{{y}} {o}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        yaxis={"title": "deployments", **_count_axis(float(daily["deployments"].max()))},
        legend=_LEGEND,
        margin=_MARGIN,
    )
    return fig


def weekly_success(weekly: pd.DataFrame, *, title: str = "Weekly success rate") -> go.Figure:
    """Success rate per local week (%), with its least-squares trend line."""
    rates = weekly[weekly["success_rate"].notna()] if weekly is not None and len(weekly) else weekly
    if rates is None or not len(rates):
        return no_data(title, "No finished deployments")
    pct = (rates["success_rate"] * 100).round(1)
    fig = go.Figure(
        go.Scatter(
            x=rates["bucket"],
            y=pct.to_numpy(),
            mode="lines+markers",
            name="success rate",
            line={"color": DEPLOYMENT_STATUS_COLORS["successful"]},
            customdata=rates[[m.SUCCESSFUL, m.FAILED]].to_numpy(),
            hovertemplate="week of %{x|%d %b}: %{y}% (%{customdata[0]} ok, %{customdata[1]} failed)<extra></extra>",
        )
    )
    line = m.trend(pct)
    if line.notna().any():
        fig.add_trace(
            go.Scatter(
                x=rates["bucket"],
                y=line.round(1).to_numpy(),
                mode="lines",
                name="trend",
                line={"color": UNKNOWN_COLOR, "dash": "dash"},
                hoverinfo="skip",
            )
        )
    low = max(0.0, min(float(pct.min()), float(line.min()) if line.notna().any() else 100.0) - 5)
    fig.update_layout(title=title, yaxis={"title": "%", "range": [low, 101]}, legend=_LEGEND, margin=_MARGIN)
    return fig


def duration_distribution(history: pd.DataFrame, *, title: str = "How long deployments take") -> go.Figure:
    """Histogram of finished deployments' durations in minutes, one trace per outcome."""
    df = history[history["duration_s"].notna()] if history is not None and len(history) else history
    if df is None or not len(df):
        return no_data(title, "No finished deployments")
    fig = go.Figure()
    for o in (m.SUCCESSFUL, m.FAILED, m.CANCELLED):
        part = df[df["status"] == o]
        if len(part):
            fig.add_trace(
                go.Histogram(
                    x=(part["duration_s"] / 60).round(1).to_numpy(),
                    name=o,
                    marker={"color": DEPLOYMENT_STATUS_COLORS[o]},
                    hovertemplate=f"%{{x}} min: %{{y}} {o}<extra></extra>",
                )
            )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis={"title": "minutes"},
        yaxis={"title": "deployments"},
        legend=_LEGEND,
        margin=_MARGIN,
    )
    return fig


def failure_reasons(reasons: pd.DataFrame, *, title: str = "Why deployments did not succeed") -> go.Figure:
    """Horizontal bars per reason (``deploy_metrics.failure_reasons``), auto-reverted ones split out."""
    if reasons is None or not len(reasons):
        return no_data(title, "No failed or cancelled deployments")
    df = reasons.iloc[::-1]  # plotly draws the first category at the bottom
    fig = go.Figure()
    rest = df["deployments"] - df["auto_reverted"]
    fig.add_trace(
        go.Bar(
            y=df["reason"],
            x=rest.to_numpy(),
            orientation="h",
            name="not reverted",
            marker={"color": DEPLOYMENT_STATUS_COLORS["failed"]},
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    if int(df["auto_reverted"].sum()):
        fig.add_trace(
            go.Bar(
                y=df["reason"],
                x=df["auto_reverted"].to_numpy(),
                orientation="h",
                name=m.REASON_AUTO_REVERTED,
                marker={"color": REVERTED_COLOR},
                hovertemplate="%{y}: %{x} auto-reverted<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis=_count_axis(float(reasons["deployments"].max())),
        legend=_LEGEND,
        margin=_MARGIN,
    )
    return fig
