"""Process-wide data for every session: the one Refresher per cluster, its snapshot, the queries.

Pages call ``snapshot()`` and ``queries()``; they never build connectors themselves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

import config
import snapshot as snapshot_pkg
from connectors import settings as cluster_settings
from views import ClientIdentity

FIRST_DATA_WAIT_SECONDS = 4.0
LOG_FOLLOW_SECONDS = snapshot_pkg.LOG_FOLLOW_SECONDS  # how often a followed log is read (once for all viewers)
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_sandbox() -> bool:
    """The dashboard runs on the embedded sandbox (launcher.py sets DASHBOARD_DEMO=sandbox)."""
    return os.environ.get("DASHBOARD_DEMO", "") == "sandbox"


def serves_loopback_only() -> bool:
    """Streamlit listens on a loopback address: only people on this machine can reach it."""
    from streamlit import config as st_config

    address = str(st_config.get_option("server.address") or "")
    return address in _LOOPBACK or address.startswith("127.")


def is_loopback_demo() -> bool:
    """Sandbox demo served on a loopback address only (only changes the setup page's advice)."""
    return is_sandbox() and serves_loopback_only()


def dashboard_config() -> config.DashboardConfig:
    """The dashboard configuration, read again whenever the file changes (a role mapping edit
    takes effect on the next page run; a broken edit shows at once)."""
    return _dashboard_config(*config_version())


def config_version() -> tuple[str, int]:
    """Which dashboard configuration is in force: its path and modification time (0: unreadable)."""
    path = os.environ.get("DASHBOARD_CONFIG") or str(config.DEFAULT_PATH)
    try:
        version = os.stat(path).st_mtime_ns
    except OSError:
        version = 0  # config.load() says what is wrong with it
    return path, version


@st.cache_resource(show_spinner=False, max_entries=4)
def _dashboard_config(path: str, version: int) -> config.DashboardConfig:
    return config.load(path)


class UnknownCluster(ValueError):
    """A page or link named a cluster that is not configured (the message says which are)."""


def cluster_names() -> list[str]:
    return [c.name for c in clusters()]


def unknown_cluster_words(name: str) -> str:
    """Plain words for a cluster name that is not configured (quote it with md_text to show it)."""
    shown = name if len(name) <= 64 else name[:64] + "..."
    return f"There is no cluster named “{shown}” in this dashboard. The clusters are: {', '.join(cluster_names())}."


def _settings(cluster: str = ""):
    """The settings of ``cluster``; with no name, the first listed (HashiCorp's variables without a list).
    Raises UnknownCluster for a name that is not configured."""
    listed = clusters()
    if not cluster:
        return listed[0]
    for s in listed:
        if s.name == cluster:
            return s
    raise UnknownCluster(unknown_cluster_words(cluster))


def refresher(cluster: str = ""):
    """The cluster's one refresher (default: the first listed), made for the current settings,
    identity and blocking wait.

    Asked for on every page run (a dict look-up and a comparison): the owner in snapshot.refresher
    stops the old refresher on any change (config edit, another blocking wait, a rotated token)
    and never hands out a stopped one. Not st.cache_resource: a cache keyed by those values would
    hand back an entry the owner has since stopped (wait 30 -> 10 -> 30).
    """
    settings = _settings(cluster)
    # The identity travels as its config string: views.build_frames parses it. (A ClientIdentity object
    # made here could belong to an older copy of the views module after Streamlit reloads changed files.)
    cfg = dashboard_config()
    identity = ClientIdentity.parse(cfg.identify_by).spec
    ref = snapshot_pkg.get_refresher(settings, identity, wait=float(cfg.blocking_wait_seconds))
    # Deployment history is recorded for as long as the refresher runs (idempotent: one per refresher).
    from history.recorder import ensure_recording

    ensure_recording(ref)
    return ref


def _settled(snap) -> bool:
    """Every source answered once and the frames include every answer that succeeded."""
    if any(s.last_attempt is None for s in snap.sources.values()):
        return False
    if not snap.has_data:
        return bool(snap.failing())  # nothing came back: waiting longer will not help
    latest = max((s.last_success for s in snap.sources.values() if s.last_success is not None), default=None)
    return latest is None or snap.built_at >= latest


def _ready(snap) -> bool:
    """Something to show: every source answered once and a build holds data. A live cluster's
    sources answer again all the time, so ``_settled`` would hold every page run of a busy cluster
    until the builder catches up (seconds, twice per page: it read as a 4-8 s sidebar click on the
    two-cluster demo); only a fresh process waits, for its first build."""
    return bool(snap.has_data and snap.sources and all(s.last_attempt is not None for s in snap.sources.values()))


def first_data(current: Callable[[], dict[str, Any]], wait: float = FIRST_DATA_WAIT_SECONDS) -> dict[str, Any]:
    """``current()`` (name -> snapshot), after waiting up to ``wait`` seconds while a snapshot has
    nothing to show yet and is still to settle, instead of drawing an empty or half-filled page."""
    deadline = time.monotonic() + wait
    snaps = current()
    while not all(_ready(s) or _settled(s) for s in snaps.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
        snaps = current()
    return snaps


def clusters() -> list:
    """Every configured cluster's settings: dashboard.toml's [[clusters]], else the one cluster of
    HashiCorp's variables. (A mistake raises SettingsError naming the entry and key.)"""
    return cluster_settings.load_all(list(dashboard_config().clusters))


def _fleet_snapshot(listed: list):
    """Several clusters (issue 12): one refresher each (the owner keys them by cluster name), their
    snapshots combined into one fleet view; a cluster that does not answer never blanks the others."""
    from snapshot.combined import combine

    cfg = dashboard_config()
    identity = ClientIdentity.parse(cfg.identify_by).spec
    refs = {s.name: snapshot_pkg.get_refresher(s, identity, wait=float(cfg.blocking_wait_seconds)) for s in listed}
    from history.recorder import ensure_recording

    for ref in refs.values():  # every cluster's deployments are recorded, keyed by its name
        ensure_recording(ref)
    snaps = first_data(lambda: {name: ref.current() for name, ref in refs.items()})
    # The cluster filter: ?cluster=<name> narrows every page to that cluster (an unknown name shows
    # every cluster, and the picker says the name is unknown; the freshness line names those shown).
    wanted = selected_cluster()
    if wanted in snaps:
        snaps = {wanted: snaps[wanted]}
    if len(snaps) == 1:
        return combine(snaps)
    # Combining concatenates every frame: once per set of cluster snapshots for every session
    # (each refresher's build time and publish count name its snapshot; ui.shared bounds memory).
    from ui import shared

    key = ("fleet.combine", tuple((name, s.built_at, s.generation) for name, s in snaps.items()))
    return shared.cached(key, lambda: combine(snaps))


def selected_cluster() -> str:
    """The URL's ?cluster= (cleaned), '' for all clusters."""
    from ui.tables import clean_param

    return clean_param(st.query_params.get("cluster", ""), limit=80)


def snapshot():
    """The current Snapshot. On a fresh process, wait briefly (a few s) for the first full build
    instead of showing an empty or half-filled page. With several clusters configured: the
    whole fleet's, every frame row carrying its cluster."""
    listed = clusters()
    if len(listed) > 1:
        return _fleet_snapshot(listed)
    ref = refresher()
    return first_data(lambda: {"": ref.current()})[""]


def queries(cluster: str = ""):
    """The process-wide on-demand queries (one allocation, logs, job versions) of ``cluster``
    (default: the first listed), cached and shared. Raises UnknownCluster."""
    return snapshot_pkg.get_queries(_settings(cluster))


# ---------------------------------------------------------------- on-demand reads with plain-words errors


def person_token(cluster: str = "") -> str | None:
    """The signed-in person's own Nomad token for ``cluster`` when per-person identity is on, else
    None (the dashboard's own token is used). Each cluster has its own ACL system, so the login is
    made against that cluster's auth method and kept per cluster. Raises IdentityUnavailable,
    ConnectorError or UnknownCluster."""
    method = dashboard_config().nomad_auth_method
    if not method:
        return None
    from auth import nomad_identity

    name = cluster or _settings().name
    q = queries(name)
    return nomad_identity.session_identity(lambda jwt: q.login(method, jwt), name).secret_id


def _on_demand(read):
    """Run an on-demand read as the right person; (result, "") or (None, what went wrong in plain words)."""
    from auth.nomad_identity import IdentityUnavailable
    from auth.policy import Forbidden
    from connectors.errors import ConnectorError

    try:
        return read(), ""
    except (ConnectorError, IdentityUnavailable, Forbidden, UnknownCluster) as err:
        return None, str(err)


def fetch_allocation(alloc_id: str, namespace: str, principal, cluster: str = "") -> tuple[dict | None, str]:
    """(allocation JSON, "") or (None, what went wrong in plain words), from the cluster that holds
    it. The read checks ``principal``'s right itself (alloc:read in the namespace)."""
    return _on_demand(
        lambda: queries(cluster).allocation(
            alloc_id, principal=principal, namespace=namespace or None, token=person_token(cluster)
        )
    )


def fetch_logs(alloc_id: str, task: str, kind: str, namespace: str, principal, cluster: str = ""):
    """(LogTail, "") or (None, what went wrong in plain words). One follower per cluster, allocation,
    task and stream serves every viewer (snapshot.logfollow); the read checks logs:read itself."""
    return _on_demand(
        lambda: queries(cluster).log_tail(
            alloc_id, task, kind, principal=principal, namespace=namespace or None, token=person_token(cluster)
        )
    )
