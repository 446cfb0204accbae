"""Activity timeline: task events and deployments over time for a client.

One scatter trace per (kind, severity): symbol by kind (task event = circle,
deployment = diamond), colour by severity (error red, warning amber, info grey).
y = job ID, so each job is a lane (labelled without the client prefix when
``client`` is given).

Times arrive in UTC; ``tz`` (an IANA zone name, the browser's on a page) is the
zone the x axis reads in, so the chart agrees with the tables beside it.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from views.health import job_label
from views.schema import plain

from .palette import SEVERITY_COLORS, SEVERITY_ORDER, UNKNOWN_COLOR, no_data

KIND_SYMBOLS = {"task event": "circle", "deployment": "diamond"}

# The x axis spans at least this much: one event alone would otherwise fill a few milliseconds.
MIN_SPAN = pd.Timedelta(hours=1)

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
    title: str | None = "Activity",
    tz: str | None = None,
) -> go.Figure:
    """Scatter of task events and deployments (newest ``max_points`` task events).

    ``tz``: the zone the times are shown in (IANA name; None = UTC); the axis title names it.

    ``title=None`` for a chart under a page heading. With nothing to show, a figure
    with no traces and a "No activity" note (``not fig.data``).
    """
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
        ev = plain(ev)  # the text below is built from its categorical columns (views.schema)
    if len(dp):
        t = dp["modify_time"].where(dp["modify_time"].notna(), dp["create_time"])
        dp = dp.assign(_t=t)
        dp = dp[dp["_t"].notna()]
        dp = _since(dp, "_t", since)
    if not len(ev) and not len(dp):
        return no_data(title, "No activity")

    zone = _zone(tz)
    fig = go.Figure()
    for sev in SEVERITY_ORDER:
        color = SEVERITY_COLORS.get(sev, UNKNOWN_COLOR)
        if len(ev):
            part = ev[ev["severity"] == sev]
            if len(part):
                hover = _plain(
                    part["task"] + " · " + part["type"] + ": " + part["message"] + " (" + part["short_id"] + ")"
                )
                fig.add_trace(
                    _trace(
                        _wall(part["time"], zone),
                        part,
                        "task event",
                        sev,
                        hover,
                        part["alloc_id"],
                        {"color": color, "size": 8},
                    )
                )
        if len(dp):
            part = dp[dp["status"].map(DEPLOYMENT_SEVERITY).fillna("info") == sev]
            if len(part):
                hover = _plain(
                    "deployment v"
                    + part["job_version"].astype(str)
                    + " "
                    + part["status"]
                    + ": "
                    + part["status_description"]
                )
                fig.add_trace(
                    _trace(
                        _wall(part["_t"], zone),
                        part,
                        "deployment",
                        sev,
                        hover,
                        part["deployment_id"],
                        {"color": color, "size": 12, "line": {"width": 1, "color": "#333"}},
                    )
                )
    lanes = sorted(set(ev["job_id"] if len(ev) else []) | set(dp["job_id"] if len(dp) else []))
    times = pd.concat(
        [_wall(ev["time"], zone) if len(ev) else pd.Series(dtype="datetime64[ns]")]
        + ([_wall(dp["_t"], zone)] if len(dp) else [])
    )
    fig.update_layout(
        title=title,
        # room above the plot for the legend, so it never covers the top lane
        height=max(180, 60 + 28 * len(lanes)) + 40 + (30 if title else 0),
        xaxis={"title": f"time ({zone})", "range": _span(times)},
        # lanes are job IDs; on a client's chart they read without the client prefix ("web", not "acme-web")
        yaxis={
            "title": None,
            "type": "category",
            "tickmode": "array",
            "tickvals": lanes,
            "ticktext": [html.escape(job_label(j, client) if client else j) for j in lanes],
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
        margin={"l": 10, "r": 10, "t": 80 if title else 50, "b": 10},
    )
    return fig


def _plain(text: pd.Series) -> pd.Series:
    """Cluster text for plotly, which reads <a href>, <b>, <br> in labels: shown as typed, never as markup."""
    return text.astype(str).map(html.escape)


def _span(times: pd.Series) -> list:
    """The x range: the events' own span, widened to at least MIN_SPAN around their middle."""
    lo, hi = times.min(), times.max()
    if hi - lo >= MIN_SPAN:
        pad = (hi - lo) * 0.03
        return [lo - pad, hi + pad]
    mid = lo + (hi - lo) / 2
    return [mid - MIN_SPAN / 2, mid + MIN_SPAN / 2]


def _zone(tz: str | None) -> str:
    """A known IANA zone name, else "UTC" (an unknown name must not break the chart)."""
    if not tz:
        return "UTC"
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(tz))
    except Exception:
        return "UTC"
    return str(tz)


def _wall(times: pd.Series, zone: str) -> pd.Series:
    """UTC timestamps as wall-clock times in ``zone`` (naive: plotly draws them as given)."""
    t = pd.to_datetime(times, utc=True)
    return t.dt.tz_convert(zone).dt.tz_localize(None)


def _trace(
    x: pd.Series, part: pd.DataFrame, kind: str, sev: str, hover: pd.Series, ids: pd.Series, marker: dict
) -> go.Scatter:
    """One (kind, severity) trace: y = job lane, symbol by kind, hover text, the row IDs as customdata."""
    return go.Scatter(
        x=x,
        y=part["job_id"],
        mode="markers",
        name=f"{kind} · {sev}",
        legendgroup=kind,
        marker={"symbol": KIND_SYMBOLS[kind], **marker},
        hovertext=hover.to_numpy(),
        hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br>%{y}<br>%{hovertext}<extra></extra>",
        customdata=np.stack([ids.to_numpy()], axis=-1),
    )
