"""Deployments over time: counts per period by status, and the success rate."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .palette import DEPLOYMENT_STATUS_COLORS, UNKNOWN_COLOR, no_data

# stacking order, bottom first
STATUS_STACK = (
    "successful",
    "failed",
    "cancelled",
    "running",
    "paused",
    "blocked",
    "pending",
    "initializing",
    "unblocking",
)


def _periods(deployments: pd.DataFrame, freq: str) -> pd.DataFrame:
    """deployments with a ``period`` column (start of the period, UTC); rows without a time dropped."""
    if deployments is None or not len(deployments):
        return pd.DataFrame(columns=["period", "status"])
    t = deployments["modify_time"].where(deployments["modify_time"].notna(), deployments["create_time"])
    df = deployments.assign(_t=t)
    df = df[df["_t"].notna()]
    if not len(df):
        return pd.DataFrame(columns=["period", "status"])
    naive = df["_t"].dt.tz_convert("UTC").dt.tz_localize(None)
    return df.assign(period=naive.dt.to_period(freq).dt.start_time.dt.tz_localize("UTC"))


def deployment_counts(deployments: pd.DataFrame, *, freq: str = "W") -> pd.DataFrame:
    """Table: period x status -> count (columns in STATUS_STACK order, then others)."""
    df = _periods(deployments, freq)
    if not len(df):
        return pd.DataFrame()
    table = df.groupby(["period", "status"]).size().unstack("status", fill_value=0).sort_index()
    cols = [c for c in STATUS_STACK if c in table.columns] + sorted(c for c in table.columns if c not in STATUS_STACK)
    return table[cols]


def deployments_over_time(deployments: pd.DataFrame, *, freq: str = "W", title: str = "Deployments") -> go.Figure:
    """Stacked bars: one trace per deployment status, x = period start, colours from the palette."""
    table = deployment_counts(deployments, freq=freq)
    if table.empty:
        return no_data(title, "No deployments")
    fig = go.Figure()
    for status in table.columns:
        fig.add_trace(
            go.Bar(
                x=table.index,
                y=table[status].to_numpy(),
                name=status,
                marker={"color": DEPLOYMENT_STATUS_COLORS.get(status, UNKNOWN_COLOR)},
                hovertemplate=f"{status}: %{{y}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis={"title": "period (UTC)"},
        yaxis={"title": "deployments"},
        legend={"orientation": "h"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def success_rates(deployments: pd.DataFrame, *, freq: str = "W") -> pd.DataFrame:
    """period -> successful, failed, rate (successful / (successful + failed); NaN when neither)."""
    table = deployment_counts(deployments, freq=freq)
    if table.empty:
        return pd.DataFrame(columns=["successful", "failed", "rate"])
    ok = table["successful"] if "successful" in table else 0 * table.iloc[:, 0]
    bad = table["failed"] if "failed" in table else 0 * table.iloc[:, 0]
    done = ok + bad
    return pd.DataFrame({"successful": ok, "failed": bad, "rate": (ok / done.where(done > 0))})


def deployment_success_rate(
    deployments: pd.DataFrame, *, freq: str = "W", title: str = "Deployment success rate"
) -> go.Figure:
    """Line of successful / (successful + failed) per period, as a percentage."""
    rates = success_rates(deployments, freq=freq)
    rates = rates[rates["rate"].notna()]
    if not len(rates):
        return no_data(title, "No finished deployments")
    fig = go.Figure(
        go.Scatter(
            x=rates.index,
            y=(rates["rate"] * 100).round(1).to_numpy(),
            mode="lines+markers",
            name="success rate",
            line={"color": DEPLOYMENT_STATUS_COLORS["successful"]},
            customdata=rates[["successful", "failed"]].to_numpy(),
            hovertemplate="%{y}% (%{customdata[0]} ok, %{customdata[1]} failed)<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        yaxis={"title": "%", "range": [0, 105]},
        xaxis={"title": "period (UTC)"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig
