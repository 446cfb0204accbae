"""The history as the pages see it: one DataFrame (``views.deploy_history.HISTORY_COLUMNS``)."""

from __future__ import annotations

import pandas as pd

from views import deploy_history


def history(*, url: str | None = None, cluster: str | None = None, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Recorded deployments (optionally of one cluster, started since a time), oldest first.

    Raises ``store.db.StoreUnavailable`` (a message a person can read) when the database cannot be used.
    """
    import store
    from store import db
    from store import deployments as store_deployments

    store.migrate(url)
    engine = db.engine_for(url)
    since_ns = int(pd.Timestamp(since).value) if since is not None else None
    try:
        rows = store_deployments.read(engine, cluster=cluster, since_ns=since_ns)
    except Exception as exc:
        raise db.StoreUnavailable(
            f"The deployment history cannot be read from {db.describe(engine.url.render_as_string())}: {exc}"
        ) from exc
    return deploy_history.to_frame(rows)
