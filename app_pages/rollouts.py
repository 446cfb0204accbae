"""Fleet rollouts (managers, admins; support may view): one app version going out to many clients.

The list shows every rollout, newest first; ?rollout=<id> opens one as a per-client board.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import clock, history, runtime, tables, widgets
from views import rollouts as vr

P = "rollouts"
principal = widgets.require_page("rollouts")
widgets.still_signed_in(principal)  # the session-age and sign-out check, as on every page
md = tables.md_text
STATE_ICONS = {vr.DONE: "✓", vr.FAILED: "✕", vr.RUNNING: "↻", vr.CANCELLED: "–", vr.NOT_STARTED: "○"}


def duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


cfg = runtime.dashboard_config()


def load():
    hist, problem = history.deployments(history.stamp())
    if problem:
        st.error(f"**The deployment history cannot be read.** {md(problem)}", icon=":material/database:")
    return hist, vr.rollouts(hist, pd.Timestamp.now(tz="UTC"))


@st.fragment(run_every=cfg.page_refresh_seconds)
def render_board(chosen: str) -> None:
    """One rollout's board; it refreshes itself while people watch a release go out."""
    widgets.still_signed_in(principal)
    hist, all_rollouts = load()
    match = all_rollouts[all_rollouts["rollout_id"] == chosen]
    st.page_link("app_pages/rollouts.py", label="All rollouts", icon=":material/arrow_back:")
    if not len(match):
        st.title(":material/rocket_launch: Rollout")
        st.error("This rollout is not in the recorded history (the link may be from another cluster or mistyped).")
        return
    r = match.iloc[0]
    st.title(f":material/rocket_launch: {md(r['role'])} {md(r['app_version'])}")
    state = r["status"]
    st.markdown(
        f"Started {md(r['started'].tz_convert(clock.zone()).strftime('%Y-%m-%d %H:%M %Z'))} · {state} · {duration(r['duration_s'])} so far · "
        f"{int(r['fleet'])} clients run {md(r['role'])}"
    )
    tiles = [(vr.DONE, "On the new version"), (vr.FAILED, "Failed"), (vr.RUNNING, "Deploying")]
    tiles += [(vr.NOT_STARTED, "Not started"), (vr.CANCELLED, "Cancelled")]
    for col, (state_name, label) in zip(st.columns(len(tiles)), tiles):
        col.metric(f"{STATE_ICONS[state_name]} {label}", int(r[state_name.replace(" ", "_")]), border=True)
    board = vr.board(hist, chosen)
    board = board.assign(
        state=[f"{STATE_ICONS.get(s, '')} {s}" for s in board["state"]],
        job_version=tables.version_words(board["job_version"]),  # none yet: –
    )
    st.dataframe(
        board,
        key=f"{P}_board",
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(board), 1), 900),
        # Sized so client to job fit the 978 px a table gets at 1440 px; the rest scrolls.
        column_config={
            "client": st.column_config.TextColumn("Client", width=150),
            "state": st.column_config.TextColumn("State", width=115),
            "now_on": st.column_config.TextColumn("Now on", width=75),
            "previous_version": st.column_config.TextColumn("Before", width=75),
            "reason": st.column_config.TextColumn("Why it failed", width=180),
            "status_description": st.column_config.TextColumn("Nomad says", width=210),
            "job_id": st.column_config.TextColumn("Job", width=160),
            "job_version": st.column_config.TextColumn("Job version"),
            "attempts": st.column_config.NumberColumn("Attempts"),
            "started": widgets.at_time("Started"),
            "last_change": widgets.at_time("Last change"),
            "deployment_id": "Deployment",
        },
    )
    st.download_button(
        "Download the board (CSV)",
        board.to_csv(index=False),
        file_name=f"rollout-{r['role']}-{r['app_version']}.csv",
        mime="text/csv",
        key=f"{P}_csv",
    )
    return


@st.fragment(run_every=cfg.page_refresh_seconds)
def render_list() -> None:
    widgets.still_signed_in(principal)
    _hist, all_rollouts = load()
    st.title(":material/rocket_launch: Rollouts")
    st.caption(
        f"One app version of one job going out to at least {vr.DEFAULT_MIN_CLIENTS} clients, each deployment starting "
        f"within {int(vr.DEFAULT_WINDOW.total_seconds() // 3600)} h of the first. Select a row to open its board."
    )
    if not len(all_rollouts):
        st.info("No fleet rollout in the recorded history yet.")
        return
    shown = all_rollouts.assign(
        progress=(all_rollouts["done"] / all_rollouts["fleet"]).where(all_rollouts["fleet"] > 0),
        duration=[duration(s) for s in all_rollouts["duration_s"]],
    )[
        [
            "rollout_id",
            "role",
            "app_version",
            "status",
            "started",
            "progress",
            "done",
            "failed",
            "running",
            "not_started",
            "cancelled",
            "fleet",
            "duration",
        ]
    ]
    event = st.dataframe(
        shown,
        key=f"{P}_list",
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "rollout_id": None,
            "role": "Job",
            "app_version": "Version",
            "status": "Status",
            "started": widgets.at_time("Started"),
            "progress": st.column_config.ProgressColumn(
                "Done", format="percent", min_value=0, max_value=1, width="small"
            ),
            "done": st.column_config.NumberColumn("✓ Done", width="small"),
            "failed": st.column_config.NumberColumn("✕ Failed", width="small"),
            "running": st.column_config.NumberColumn("↻ Deploying", width="small"),
            "not_started": st.column_config.NumberColumn("○ Not started", width="small"),
            # cancelled (superseded) is rare: a column only when some rollout has one
            "cancelled": st.column_config.NumberColumn("– Cancelled", width="small")
            if shown["cancelled"].any()
            else None,
            "fleet": st.column_config.NumberColumn("Clients", width="small"),
            "duration": "Duration so far",
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(shown):
        st.switch_page("app_pages/rollouts.py", query_params={"rollout": shown.iloc[rows[0]]["rollout_id"]})


chosen = widgets.param("rollout")
if chosen:
    render_board(chosen)
else:
    render_list()
