"""The deployment history recorder: one per refresher (so one per process and cluster).

It listens to the refresher (``Refresher.add_listener``): whenever the deployments or the job list
change, its own thread turns every deployment Nomad still has into a ``views.deploy_history``
record and upserts the ones that changed into the store (``store.deployments.upsert``, which keeps
the highest ModifyIndex, so several dashboard instances recording at once stay correct). The first
pass is the backfill: everything Nomad has not garbage-collected yet.

The application version of a deployment is the job meta ``version`` of the job version it
deployed. The job list carries the meta of the job's current version only, which is the version of
the job's newest deployment; an older deployment's version is looked up once in
``/v1/job/:id/versions`` (Nomad keeps a few versions; the task's image tag stands in when the meta
has no version). What cannot be known stays empty and is retried on the next pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from views import deploy_history, version_values
from views.identity import ClientIdentity

log = logging.getLogger(__name__)

_WATCHED = ("deployments", "jobs")


def app_version_of(job: Mapping[str, Any] | None) -> str:
    """As the versions view reads it: job meta ``version``; else the first image tag of the job's groups
    (``registry/app:2.4.1`` -> ``2.4.1``; only a full job has them); else ''."""
    if not job:
        return ""
    found = version_values.version_from_meta(job.get("Meta"))
    if found:
        return found
    for image in version_values.images_of_job(job).values():
        if tag := version_values.version_from_image(image):
            return tag
    return ""


def _settled(snap: Any) -> bool:
    statuses = list(snap.sources.values())
    if not statuses or any(st.last_attempt is None for st in statuses) or snap.built_at is None:
        return False
    latest = max((st.last_success for st in statuses if st.last_success is not None), default=None)
    return latest is None or snap.built_at >= latest


class Recorder:
    """Records the deployments one refresher sees into the store at ``url``."""

    def __init__(
        self,
        refresher: Any,
        *,
        url: str | None = None,
        debounce: float = 0.5,
        retry: float = 30.0,
        lookups_per_pass: int = 50,
    ):
        self.refresher = refresher
        self.cluster = refresher.settings.name
        self.identity = ClientIdentity.parse(refresher.identity if isinstance(refresher.identity, str) else None)
        if isinstance(refresher.identity, ClientIdentity):
            self.identity = refresher.identity
        self.url = url
        self.debounce = debounce
        self.retry = retry
        self.version = 0  # bumps after every write: readers' cache key
        self.written = 0  # rows upserted so far
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, bool]] | None = None  # deployment ID -> (ModifyIndex, app version known)
        self._versions: dict[tuple[str, str], dict[int, str]] = {}  # (ns, job) -> {job version: app version}
        self.first_build_wait = 30.0
        self.lookups_per_pass = lookups_per_pass  # job-versions requests per pass: the backfill is spread out
        self.lookups_left = 0  # deployments whose version lookup was put off to a later pass
        self._lookups = 0

    # ------------------------------------------------------------------ wiring

    def _on_change(self, name: str, _data: Any) -> None:
        if name in _WATCHED:
            self._wake.set()

    def start(self) -> Recorder:
        if self._thread is not None and self._thread.is_alive():
            return self
        self.refresher.add_listener(self._on_change)
        self._stop.clear()
        self._wake.set()  # the backfill: whatever the refresher already has
        self._thread = threading.Thread(target=self._run, name=f"history-{self.cluster}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        # The first pass waits until the refresher's first full build (every source answered and built):
        # the pages' first paint comes before the backfill's writes and job-version reads.
        for _ in range(int(self.first_build_wait / 0.1)):
            if self._stop.is_set() or _settled(self.refresher.current()):
                break
            self._stop.wait(0.1)
        while not self._stop.is_set():
            # also retries errors now and then; soon again while older job versions are still to look up
            self._wake.wait(timeout=self.retry if not self.lookups_left else self.debounce * 4)
            if self._stop.is_set():
                break
            self._stop.wait(self.debounce)  # deployments and jobs often change together
            self._wake.clear()
            try:
                self.record_now()
            except Exception as err:  # the store may be down: keep going, say why
                self.last_error = f"{type(err).__name__}: {err}"[:300]
                log.warning("deployment history not recorded: %s", self.last_error)

    # ------------------------------------------------------------------ recording

    def _engine(self):
        import store
        from store import db

        store.migrate(self.url)
        return db.engine_for(self.url)

    def _job_version_apps(self, namespace: str, job_id: str) -> dict[int, str]:
        key = (namespace, job_id)
        if key not in self._versions and self._lookups >= self.lookups_per_pass:
            self.lookups_left += 1
            return {}
        if key not in self._versions:  # once per job (a failed read too: no retry storm on a gone job)
            self._lookups += 1
            from connectors import ConnectorError

            try:
                data = self.refresher.nomad.job_versions(job_id, namespace=namespace)
            except ConnectorError as err:  # gone or not allowed: leave empty, try again on a later pass
                log.info("job versions of %s/%s: %s", namespace, job_id, err)
                self._versions[key] = {}
                return {}
            versions = {}
            for job in data.get("Versions") or ():
                if isinstance(job, Mapping) and isinstance(job.get("Version"), int):
                    versions[int(job["Version"])] = app_version_of(job)
            self._versions[key] = versions
        return self._versions[key]

    def records(self, raw: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The records of the deployments in ``raw`` that are new or changed since the last pass."""
        deployments = [d for d in (raw.get("deployments") or ()) if isinstance(d, Mapping)]
        jobs = deploy_history.job_index(raw.get("jobs"))
        newest: dict[tuple[str, str], int] = {}
        for d in deployments:
            key = (str(d.get("Namespace") or "default"), str(d.get("JobID") or ""))
            jv = d.get("JobVersion")
            if isinstance(jv, int):
                newest[key] = max(newest.get(key, -1), jv)
        seen = self._seen or {}
        self._lookups = self.lookups_left = 0
        out = []
        for d in deployments:
            dep_id = str(d.get("ID") or "")
            key = (str(d.get("Namespace") or "default"), str(d.get("JobID") or ""))
            index = int(d.get("ModifyIndex") or 0)
            before = seen.get(dep_id)
            if before is not None and before[0] >= index and before[1]:
                continue
            job = jobs.get(key)
            jv = d.get("JobVersion")
            app = ""
            if job is not None and isinstance(jv, int) and jv == newest.get(key):
                app = app_version_of(job)
            elif isinstance(jv, int):
                app = self._job_version_apps(*key).get(jv, "")
            if before is not None and before[0] >= index and not app:
                continue  # still nothing new to say
            rec = deploy_history.record(d, cluster=self.cluster, identity=self.identity, job=job, app_version=app)
            if rec is not None:
                out.append(rec)
        return out

    def record_now(self) -> int:
        """One pass over what the refresher has now; returns how many rows were upserted."""
        with self._lock:
            from store import db
            from store import deployments as store_deployments

            engine = self._engine()
            url = self.url or db.database_url()
            if url != getattr(self, "_seen_url", None):  # another database: what it holds is not known
                self._seen, self._seen_url = None, url
            if self._seen is None:
                self._seen = store_deployments.known(engine, cluster=self.cluster)
            raw = self.refresher.raw()
            if "deployments" not in raw:
                return 0
            recs = self.records(raw)
            if recs:
                store_deployments.upsert(engine, recs)
                for r in recs:
                    old = self._seen.get(r["deployment_id"], (0, False))
                    self._seen[r["deployment_id"]] = (max(old[0], r["modify_index"]), old[1] or bool(r["app_version"]))
                self.written += len(recs)
                self.version += 1
            self.last_error = None
            return len(recs)


# ---------------------------------------------------------------------- process-wide

_RECORDERS: dict[int, tuple[Any, Recorder]] = {}
_LOCK = threading.Lock()


def ensure_recording(refresher: Any, *, url: str | None = None) -> Recorder:
    """The running recorder of this refresher (started on first call; idempotent)."""
    stale: list[Recorder] = []
    with _LOCK:
        entry = _RECORDERS.get(id(refresher))
        if entry is None or entry[0] is not refresher:
            # a refresher replaced by a new one (config edit, rotated token) takes its recorder along
            for key, (ref, _old) in list(_RECORDERS.items()):
                if ref is not refresher and not ref.running:
                    stale.append(_RECORDERS.pop(key)[1])
            entry = _RECORDERS[id(refresher)] = (refresher, Recorder(refresher, url=url))
        rec = entry[1]
    for old in stale:
        old.stop(timeout=0.1)
    return rec.start()


def recorder_for(refresher: Any) -> Recorder | None:
    entry = _RECORDERS.get(id(refresher))
    return entry[1] if entry is not None and entry[0] is refresher else None


def start_for_this_process() -> list[Recorder]:
    """At server start (launcher.py): every configured cluster's refresher, as the pages will get
    it, recording (each cluster's deployments keyed by its name).

    A configuration the app cannot load is left to the app's own error page.
    """
    import os

    import config
    import snapshot
    from connectors import settings as cluster_settings

    try:
        cfg = config.load(os.environ.get("DASHBOARD_CONFIG") or str(config.DEFAULT_PATH))
        listed = cluster_settings.load_all(list(cfg.clusters))
        identity = ClientIdentity.parse(cfg.identify_by).spec
    except Exception as err:
        log.warning("deployment history recorder not started at server start: %s", err)
        return []
    # The same arguments as ui.runtime's refreshers, so the pages share these.
    return [
        ensure_recording(snapshot.get_refresher(s, identity, wait=float(cfg.blocking_wait_seconds))) for s in listed
    ]


def _reset() -> None:
    """Stop and forget every recorder (tests)."""
    with _LOCK:
        recs = [r for _, r in _RECORDERS.values()]
        _RECORDERS.clear()
    for r in recs:
        r.stop(timeout=0.5)
