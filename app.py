"""Entry point: settings -> login gate -> Principal -> the pages this person's roles may open."""

from __future__ import annotations

import logging

import streamlit as st

import auth
import auth.policy
import config
from ui import access, deeplink, login, runtime, sidebar
from ui.tables import md_text

log = logging.getLogger("dashboard")
st.set_page_config(page_title="Client health · Nomad support", page_icon=":material/monitor_heart:", layout="wide")

try:
    settings = runtime.dashboard_config()  # the same loader the pages use
except config.ConfigError as err:
    log.error("invalid dashboard configuration: %s", err)
    # Nobody is signed in yet: the details (group names, settings) only for someone on this machine.
    detail = md_text(err) if runtime.serves_loopback_only() else "The server log says which setting is wrong."
    st.title("Nomad support dashboard")
    st.error(
        f"**The dashboard configuration is invalid**, so the dashboard cannot start.\n\n{detail}",
        icon=":material/build:",
    )
    st.caption("Fix the file (config/dashboard.toml, or the one DASHBOARD_CONFIG names) and reload this page.")
    st.stop()
# Whoever the gate lets through is set again below; a run it stops must not leave the last one behind.
st.session_state.pop("principal", None)
st.session_state.pop("allowed_pages", None)
principal = login.gate(settings, demo=runtime.is_loopback_demo())

# Every page the app has, by the name the policy knows it by. They live in app_pages/, not pages/:
# Streamlit runs scripts in a pages/ folder directly (old-style multipage) until a run calls
# st.navigation, which would skip the login gate above. Navigation lists only the ones this person
# may open; every other page is registered hidden under its own URL as a stand-in that says
# "You do not have access to this page" (its code never runs for them), not "Page not found".
PAGES = {
    # The default page is served at "/"; its url_path only names it ("health" is the alias below).
    "health": st.Page(
        "app_pages/health.py", title="Client health", icon=":material/monitor_heart:", url_path="home", default=True
    ),
    "client": st.Page("app_pages/client.py", title="Client", icon=":material/apartment:", url_path="client"),
    "allocation": st.Page(
        "app_pages/allocation.py", title="Allocation", icon=":material/deployed_code:", url_path="allocation"
    ),
    "nodes": st.Page("app_pages/nodes.py", title="Nodes", icon=":material/dns:", url_path="nodes"),
    "versions": st.Page("app_pages/versions.py", title="Versions", icon=":material/sell:", url_path="versions"),
    "residency": st.Page(
        "app_pages/residency.py", title="Data residency", icon=":material/shield:", url_path="residency"
    ),
    "deployments": st.Page(
        "app_pages/deployments.py", title="Deployments", icon=":material/trending_up:", url_path="deployments"
    ),
    "rollouts": st.Page(
        "app_pages/rollouts.py", title="Rollouts", icon=":material/rocket_launch:", url_path="rollouts"
    ),
    "audit": st.Page("app_pages/audit.py", title="Audit trail", icon=":material/policy:", url_path="audit"),
}
allowed = set(auth.policy.pages_for(principal))


def _health_alias() -> None:
    """/health (the page's own name) opens client health at "/", keeping the query."""
    st.switch_page(PAGES["health"], query_params=dict(st.query_params))


hidden = [
    st.Page(
        access.stand_in(name, p.title, principal, settings.group_roles),
        title=p.title,
        icon=access.HIDDEN_ICON,
        url_path=name,
        visibility="hidden",
    )
    for name, p in PAGES.items()
    if name not in allowed
]
hidden.append(
    st.Page(_health_alias, title="Client health", icon=access.HIDDEN_ICON, url_path="health", visibility="hidden")
)
page = st.navigation([p for name, p in PAGES.items() if name in allowed] + hidden)
deeplink.restore()

st.session_state["principal"] = principal
st.session_state["allowed_pages"] = frozenset(name for name in PAGES if name in allowed)
sidebar.render(principal, pages=PAGES, allowed=allowed)
if runtime.is_sandbox():
    n_clusters = len(runtime.cluster_names())
    st.info(
        (f"**Demo data: {n_clusters} sandbox clusters.**" if n_clusters > 1 else "**Demo data: sandbox cluster.**")
        + " Set NOMAD_ADDR, or list your clusters in dashboard.toml, to use real ones.",
        icon=":material/science:",
    )
page.run()
