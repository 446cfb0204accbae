"""Fleet-wide tables the pages share: versions per client and service, residency findings, the
flagged client-health rows. Computed once per snapshot build and shared by every session
(st.cache_resource keyed by the snapshot's build time and the settings used), so a page rerun
every few seconds costs a dictionary look-up, not a recomputation.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ui import runtime
from views import client_flags, residency, versions

log = logging.getLogger(__name__)

MAX_SPEC_FETCHES = 100  # full jobs read per snapshot build for the "image" source (one request each)
_SPEC_CACHE_MAX = 5000


@dataclass(frozen=True)
class VersionTables:
    instances: pd.DataFrame
    matrix: pd.DataFrame
    counts: pd.DataFrame
    specs_missing: int = 0  # jobs whose spec could not be read (or were over the per-build budget)


@dataclass(frozen=True)
class ResidencyTables:
    violations: pd.DataFrame
    unpoliced: pd.DataFrame
    job_warnings: pd.DataFrame
    policy: residency.Policy


def _regions() -> tuple[tuple[str, str], ...]:
    """Every cluster's region label ((name, region), '' when not set: region rules then read as
    unknown): the config's ``region`` of a listed cluster, else NOMAD_REGION."""
    try:
        return tuple((c.name, c.region or c.nomad.region or "") for c in runtime.clusters())
    except Exception:  # settings unreadable: the freshness banner already says so
        return ()


@st.cache_resource(show_spinner=False)
def _spec_store() -> tuple[dict, threading.Lock]:
    return {}, threading.Lock()


def _job_specs(frames, needed: list[tuple[str, str, str]]) -> tuple[dict, int]:
    """Full jobs for (cluster, namespace, job_id), each read from its own cluster and cached per
    job submit time; at most MAX_SPEC_FETCHES reads."""
    from connectors.errors import ConnectorError

    store, lock = _spec_store()
    jobs = frames.jobs
    submitted = {}
    if len(jobs):
        keys = zip(jobs["cluster"].tolist(), jobs["namespace"].tolist(), jobs["job_id"].tolist())
        submitted = dict(zip(keys, jobs["submit_time"].tolist()))
    specs, missing, fetched = {}, 0, 0
    for cl, ns, jid in needed:
        key = (cl, ns, jid, str(submitted.get((cl, ns, jid))))
        with lock:
            hit = store.get(key)
        if hit is None:
            if fetched >= MAX_SPEC_FETCHES:
                missing += 1
                continue
            fetched += 1
            try:
                hit = runtime.queries(cl).job(jid, namespace=ns or None)
            except (ConnectorError, runtime.UnknownCluster) as err:
                log.info("version from image: cannot read job %s/%s in %s: %s", ns, jid, cl, err)
                missing += 1
                continue
            with lock:
                if len(store) >= _SPEC_CACHE_MAX:
                    store.clear()
                store[key] = hit
        specs[(cl, ns, jid)] = hit
    return specs, missing


@st.cache_resource(show_spinner=False, max_entries=4)
def _versions(key: tuple, _frames) -> VersionTables:
    _cluster, _built, sources, meta_keys = key
    inst = versions.build_instances(_frames, sources=sources, meta_keys=meta_keys)
    missing = 0
    if "image" in sources and len(inst):
        # Only jobs where the image could change the answer: nothing earlier in the order gave a version.
        pos = sources.index("image")
        later = {s for s in sources[pos + 1 :]} | {""}
        need = inst[inst["source"].isin(later) & (inst["job_id"] != "")]
        wanted = sorted(set(zip(need["cluster"].tolist(), need["namespace"].tolist(), need["job_id"].tolist())))
        if wanted:
            specs, missing = _job_specs(_frames, wanted)
            inst = versions.build_instances(_frames, sources=sources, meta_keys=meta_keys, job_specs=specs)
    return VersionTables(inst, versions.build_matrix(inst), versions.build_counts(inst), missing)


def version_tables(snap) -> VersionTables:
    cfg = runtime.dashboard_config()
    key = (snap.cluster, snap.built_at, tuple(cfg.version_sources), tuple(cfg.version_meta_keys))
    return _versions(key, snap.frames)


@st.cache_resource(show_spinner=False, max_entries=4)
def _residency(key: tuple, _frames, _policy) -> ResidencyTables:
    _cluster, _built, _policy_repr, region_list = key
    regions = dict(region_list)
    return ResidencyTables(
        residency.violations(_frames, _policy, regions=regions),
        residency.unpoliced(_frames, _policy),
        residency.job_warnings(_frames, _policy, regions=regions),
        _policy,
    )


def residency_tables(snap) -> ResidencyTables:
    policy = runtime.dashboard_config().residency_policy
    key = (snap.cluster, snap.built_at, repr(policy), _regions())
    return _residency(key, snap.frames, policy)


def flagged_clients(snap) -> pd.DataFrame:
    """The client-health rows with the residency flag and the 'behind' words (views.client_flags),
    once per snapshot and configuration for every session (ui.shared).

    The support home must not fail because of these extras: on an unexpected error the rows come
    without them (and the server log says why)."""
    from ui import shared

    return shared.cached(shared.page_key("fleet.flagged", snap, per_view=False, bucket=0), lambda: _flagged(snap))


def _flagged(snap) -> pd.DataFrame:
    try:
        res = residency_tables(snap)
        return client_flags.annotate(
            snap.frames.clients,
            behind=versions.behind_reasons(version_tables(snap).matrix),
            residency=residency.client_flags(res.violations, res.unpoliced),
        )
    except Exception:
        log.exception("client health: versions/residency flags could not be computed; showing the rows without them")
        return snap.frames.clients
