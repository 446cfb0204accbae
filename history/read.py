"""The history as the pages see it: one DataFrame (``views.deploy_history.HISTORY_COLUMNS``)."""

from __future__ import annotations

import pandas as pd

from views import deploy_history


def history(*, url: str | None = None, cluster: str | None = None, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Recorded deployments (optionally of one cluster, started since a time), oldest first.

    Raises ``store.db.StoreUnavailable`` (a message a person can read) when the database cannot be used.
    """
    from store import deployments as store_deployments

    since_ns = int(pd.Timestamp(since).value) if since is not None else None
    rows = _read(url, lambda engine: store_deployments.read(engine, cluster=cluster, since_ns=since_ns))
    return deploy_history.to_frame(rows)


def stamp(*, url: str | None = None, clusters: tuple[str, ...] | None = None) -> tuple[int, int, int]:
    """``store.deployments.stamp``: changes whenever the recorded history does (any instance's write).

    Raises ``store.db.StoreUnavailable`` as ``history`` does."""
    from store import deployments as store_deployments

    return _read(url, lambda engine: store_deployments.stamp(engine, clusters=clusters))


def _read(url: str | None, query):
    import store
    from store import db

    store.migrate(url)
    engine = db.engine_for(url)
    try:
        return query(engine)
    except Exception as exc:
        raise db.StoreUnavailable(
            f"The deployment history cannot be read from {db.describe(engine.url.render_as_string())}: {exc}"
        ) from exc
