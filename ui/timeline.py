"""Pure figure builder: a client's recent task events and deployments on one time axis (no Streamlit).

(Belongs in charts/ once engineer C's charts package has an equivalent.)
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from views import status as vstatus
from views.health import job_label

SEVERITY_SYMBOLS = {"error": "x", "warning": "diamond", "info": "circle"}


def recent(task_events: pd.DataFrame, deployments: pd.DataFrame, client: str, *, since: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = task_events[(task_events["client"] == client) & (task_events["time"] >= since)]
    dep = deployments[deployments["client"] == client]
    t = dep["modify_time"].fillna(dep["create_time"])
    dep = dep.assign(time=t)[t >= since]
    return ev, dep


def _row(job_id: str, task: str, client: str) -> str:
    """'northern-leaf-reports/periodic-17956' + task 'run' -> 'reports/periodic-17956 · run'."""
    return f"{job_label(job_id, client)} · {task}"


def activity_figure(events: pd.DataFrame, deployments: pd.DataFrame) -> go.Figure:
    """Task events as points (row = job/task, colour = severity) and deployments as markers on a 'deployments' row."""
    fig = go.Figure()
    for sev in vstatus.SEVERITY_ORDER[::-1]:
        part = events[events["severity"] == sev]
        if not len(part):
            continue
        fig.add_trace(go.Scatter(
            x=part["time"], y=[_row(j, t, c) for j, t, c in zip(part["job_id"], part["task"], part["client"])],
            mode="markers", name=sev,
            marker=dict(color=vstatus.SEVERITY_COLORS[sev], symbol=SEVERITY_SYMBOLS[sev], size=9,
                        line=dict(width=0)),
            customdata=list(zip(part["short_id"], part["type"], part["message"])),
            hovertemplate="%{x|%H:%M:%S}<br>%{customdata[0]} %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
        ))
    if len(deployments):
        fig.add_trace(go.Scatter(
            x=deployments["time"], y=["deployments"] * len(deployments), mode="markers", name="deployment",
            marker=dict(symbol="triangle-up", size=12,
                        color=[vstatus.DEPLOYMENT_STATUS_COLORS.get(s, vstatus.UNKNOWN_COLOR) for s in deployments["status"]]),
            customdata=list(zip(deployments["job_id"], deployments["job_version"], deployments["status"])),
            hovertemplate="%{x|%H:%M:%S}<br>%{customdata[0]} v%{customdata[1]}: %{customdata[2]}<extra></extra>",
        ))
    rows = len(set(events["job_id"] + events["task"])) + (1 if len(deployments) else 0) if len(events) else 1
    fig.update_layout(
        height=max(180, 60 + 28 * rows), margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis_title=None, yaxis_title=None,
    )
    fig.update_yaxes(type="category")
    return fig
