"""Deployments (managers, admins; support may view): success rates, failures and why, per client, over time.

Filters live in the URL (?period=&client=&job=&type=&dc=) so a view can be shared.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import charts.deploy_history as dch
from ui import clock, history, runtime, tables, widgets
from views import deploy_filters
from views import deploy_metrics as m

P = "deployments"
principal = widgets.require_page("deployments")
widgets.still_signed_in(principal)  # the session-age and sign-out check, as on every page
md = tables.md_text

st.title(":material/trending_up: Deployments")
drawn = history.stamp()
hist, problem = history.deployments(drawn)
history.follow(drawn, runtime.dashboard_config().page_refresh_seconds)  # new deployments without a reload
if problem:
    st.error(f"**The deployment history cannot be read.** {md(problem)}", icon=":material/database:")
if not len(hist):
    st.info(
        "No deployments recorded yet. The dashboard records every deployment Nomad reports from the moment it starts."
    )
    st.stop()

tz = clock.zone_name() or "UTC"
opts = deploy_filters.choices(hist)
cols = st.columns(5)
filters = {}
for col, (name, label, key, values) in zip(
    cols,
    [
        ("period", "Period", "period", list(m.PERIODS)),
        ("client", "Client", "client", [""] + opts["client"]),
        ("job", "Job", "job", [""] + opts["job"]),
        ("type", "Job type", "job_type", [""] + opts["job_type"]),
        ("dc", "Datacenter", "datacenter", [""] + opts["datacenter"]),
    ],
):
    widgets.seed(f"{P}_{name}", name, allowed=values)
    if name == "period" and not st.session_state.get(f"{P}_{name}"):
        st.session_state[f"{P}_{name}"] = m.DEFAULT_PERIOD
    fmt = (lambda v: m.PERIODS[v]) if name == "period" else (lambda v, label=label: v or f"All ({label.lower()})")
    filters[key] = col.selectbox(label, values, key=f"{P}_{name}", format_func=fmt)
    widgets.sync_param(name, "" if (name == "period" and filters[key] == m.DEFAULT_PERIOD) else filters[key])

now = pd.Timestamp.now(tz="UTC")
start, end, prev_start, prev_end = m.period_bounds(filters["period"], now, tz)
chosen = deploy_filters.DeployFilter(filters["client"], filters["job"], filters["job_type"], filters["datacenter"])
scoped = chosen.apply(hist)
fleet = scoped.loc[scoped["client"] != "", "client"].nunique()
cur, prev = m.headline(scoped, start, end, clients=fleet), m.headline(scoped, prev_start, prev_end, clients=fleet)
period_rows = m.in_window(scoped, start, end)


def pct(v):
    return "–" if v is None else f"{v * 100:.1f}%"


def dur(s):
    if s is None:
        return "–"
    return f"{s / 60:.0f} min" if s < 3 * 3600 else f"{s / 3600:.1f} h"


def num(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


tiles = [
    ("Deployments", str(cur.deployments), str(prev.deployments)),
    ("Success rate", pct(cur.success_rate), pct(prev.success_rate)),
    ("Failed", str(cur.failed), str(prev.failed)),
    ("Median duration", dur(cur.median_duration_s), dur(prev.median_duration_s)),
    ("Per client per week", num(cur.frequency_per_client_week), num(prev.frequency_per_client_week)),
    ("Change failure rate", pct(cur.change_failure_rate), pct(prev.change_failure_rate)),
    ("Time to restore", dur(cur.time_to_restore_s), dur(prev.time_to_restore_s)),
    ("Auto-reverted", str(cur.reverted), str(prev.reverted)),
]
for row in (tiles[:4], tiles[4:]):
    for col, (label, value, before) in zip(st.columns(4), row):
        # the previous period beside each figure, in words: up or down is good or bad depending on the figure
        col.metric(label, value, delta=f"previous: {before}", delta_color="off", delta_arrow="off", border=True)
st.caption(
    f"{md(m.PERIODS[filters['period']])}, compared with the same span just before. Success rate = successful / "
    "(successful + failed); cancelled deployments count in neither. Change failure rate: share of app versions of "
    "a job with at least one failed deployment. Time to restore: from a job's first failed deployment to its next "
    f"successful one (median; {cur.open_incidents} still failing). Times in {md(tz)}."
)

left, right = st.columns(2)
left.plotly_chart(dch.outcomes_per_day(m.per_bucket(period_rows, tz, "D")), width="stretch", key=f"{P}_daily")
weeks_back = m.in_window(scoped, start - pd.Timedelta(weeks=12), end)
right.plotly_chart(dch.weekly_success(m.per_bucket(weeks_back, tz, "W")), width="stretch", key=f"{P}_weekly")
left.plotly_chart(dch.failure_reasons(m.failure_reasons(period_rows)), width="stretch", key=f"{P}_reasons")
right.plotly_chart(dch.duration_distribution(period_rows), width="stretch", key=f"{P}_durations")

st.subheader("Per client")
per_client = m.per_client(period_rows, tz, trend_from=weeks_back)
st.dataframe(
    per_client,
    key=f"{P}_clients",
    hide_index=True,
    width="stretch",
    column_config={
        "client": "Client",
        "deployments": st.column_config.NumberColumn("Deployments"),
        "successful": st.column_config.NumberColumn("Successful"),
        "failed": st.column_config.NumberColumn("Failed"),
        "success_rate": st.column_config.ProgressColumn("Success rate", format="percent", min_value=0, max_value=1),
        "last_failure": widgets.at_time("Last failure"),
        "last_failure_reason": st.column_config.TextColumn("Why it failed", width="medium"),
        "weekly_success": st.column_config.LineChartColumn(
            "Weekly success (12 weeks)", y_min=0, y_max=1, help="success rate per week, oldest first"
        ),
    },
)
st.download_button(
    "Download this table (CSV)",
    per_client.drop(columns=["weekly_success"]).to_csv(index=False),
    file_name="deployments-per-client.csv",
    mime="text/csv",
    key=f"{P}_csv_clients",
)

st.subheader("Top failing jobs")
top = m.top_failing_jobs(period_rows)
if len(top):
    st.dataframe(
        top,
        key=f"{P}_top",
        hide_index=True,
        width="stretch",
        column_config={
            "client": "Client",
            "namespace": "Namespace",
            "job_id": "Job",
            "failed": st.column_config.NumberColumn("Failed"),
            "deployments": st.column_config.NumberColumn("Deployments"),
            "main_reason": "Main reason",
        },
    )
else:
    st.caption("No failed deployments in this period.")
st.download_button(
    f"Download the {len(period_rows)} deployments of this period (CSV)",
    deploy_filters.export_columns(period_rows).to_csv(index=False),
    file_name="deployments.csv",
    mime="text/csv",
    key=f"{P}_csv_all",
)
