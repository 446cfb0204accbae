"""Audit trail: who did what, when, why, and with what result. Filters live in the URL
(?who=&action=&client=&outcome=&since=YYYY-MM-DD&until=YYYY-MM-DD). Managers and admins see every
record, support their own. A request with no outcome is flagged; the hash chain's state is shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

import actions
import auth.policy
from actions.records import UNKNOWN
from ui import actions as ui_actions
from ui import tables, widgets

P = "audit"
principal = widgets.require_page("audit")
ACTIONS = sorted(actions.ACTIONS) + ["logs.read", "alloc.raw_json"]
OUTCOMES = ["succeeded", "failed", "denied", "cancelled", "interrupted", "accessed", "in progress", UNKNOWN]
COLS = {
    "at": st.column_config.DatetimeColumn("Requested (UTC)", format="YYYY-MM-DD HH:mm:ss", width=170),
    "who": st.column_config.TextColumn("Who"),
    "action": st.column_config.TextColumn("Action"),
    "outcome": st.column_config.TextColumn("Outcome"),
    "client": st.column_config.TextColumn("Client"),
    "cluster": st.column_config.TextColumn("Cluster", help="the cluster the action was sent to"),
    "target": st.column_config.TextColumn("Target", width="medium"),
    "reason": st.column_config.TextColumn("Reason", width="medium"),
    "ticket": st.column_config.TextColumn("Ticket"),
    "message": st.column_config.TextColumn("What happened", width="large"),
    "request_id": st.column_config.TextColumn("Request ID"),
}


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(widgets.param(name)) if widgets.param(name) else None
    except ValueError:
        return None


def _table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "at": pd.Timestamp(r["at"]),
                "who": r["who"],
                "action": r["action"],
                "outcome": r["outcome"],
                "client": r["client"],
                "cluster": r["cluster"],
                "target": " / ".join(x for x in (r["job"], r["task_group"], r["allocation"][:8], r["task"]) if x),
                "reason": r["reason"],
                "ticket": r["ticket"],
                "message": r["message"],
                "request_id": r["request_id"],
            }
            for r in rows
        ],
        columns=list(COLS),
    )
    return frame


st.title(":material/policy: Audit trail")
everyone = auth.policy.can(principal, auth.policy.AUDIT_ALL)
st.caption(
    "Every action and every read of logs or raw allocation JSON, in a hash-chained record nobody can "
    "quietly change. " + ("You see everyone's records." if everyone else "You see your own records.")
)

widgets.seed(f"{P}_who", "who")
widgets.seed(f"{P}_action", "action", allowed=ACTIONS)
widgets.seed(f"{P}_client", "client")
widgets.seed(f"{P}_outcome", "outcome", allowed=OUTCOMES)
c = st.columns([1.4, 1.4, 1.2, 1.4, 1, 1])
who = c[0].text_input("Who (email)", key=f"{P}_who") if everyone else ""
action = c[1].selectbox("Action", [""] + ACTIONS, key=f"{P}_action", format_func=lambda v: v or "Any action")
client = c[2].text_input("Client", key=f"{P}_client")
outcome = c[3].selectbox("Outcome", [""] + OUTCOMES, key=f"{P}_outcome", format_func=lambda v: v or "Any outcome")
default_since = _date("since") or (datetime.now(UTC).date() - timedelta(days=30))
since = c[4].date_input("From", value=default_since, key=f"{P}_since")
until = c[5].date_input("To", value=_date("until") or datetime.now(UTC).date(), key=f"{P}_until")
for name, value in (("who", who), ("action", action), ("client", client), ("outcome", outcome)):
    widgets.sync_param(name, value, key=f"{P}_{name}")
widgets.sync_param("since", since.isoformat() if since else "")
widgets.sync_param("until", until.isoformat() if until else "")

view = ui_actions.audit_view(
    principal,
    who=who.strip(),
    action=action,
    client=client.strip(),
    outcome=outcome,
    since=datetime.combine(since, time(), UTC) if since else None,
    until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
)
if view.error:
    st.error(f"The audit trail cannot be read: {tables.md_text(view.error)}", icon=":material/error:")
    st.stop()
if view.verify is not None:
    if view.verify.ok:
        st.success(tables.md_text(view.verify.words()), icon=":material/verified:")
    else:
        st.error(
            tables.md_text(view.verify.words()) + " Run `python -m store verify` on the server and tell security.",
            icon=":material/gpp_bad:",
        )
unknown = sum(1 for r in view.rows if r["outcome"] == UNKNOWN)
if unknown:
    st.warning(
        f"{unknown} request{'s' if unknown != 1 else ''} with outcome unknown: check Nomad (the dashboard stopped "
        "or its store failed between recording the request and its result).",
        icon=":material/help:",
    )
st.caption(f"{len(view.rows)} requests, newest first.")
st.dataframe(_table(view.rows), hide_index=True, width="stretch", column_config=COLS, key=f"{P}_table")
st.download_button(
    "Download as CSV",
    ui_actions.audit_csv(view),
    file_name=f"audit-{since}-{until}.csv",
    mime="text/csv",
    key=f"{P}_csv",
    icon=":material/download:",
    on_click="ignore",
)
