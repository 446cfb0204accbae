"""The deployment history for the pages: read through history.read, cached briefly, errors in words.

Pages never touch the store: they call ``deployments()`` here. The cache key includes the
recorder's write counter, so a page sees a new deployment as soon as this process records it
(another instance's writes within 15 s), and the database is read once per change however many
people look.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from history import read as history_read
from history import recorder as history_recorder
from ui import runtime


@st.cache_data(ttl=15, show_spinner=False, max_entries=8)
def _load(cluster: str, version: int) -> pd.DataFrame:
    return history_read.history(cluster=cluster)


def deployments() -> tuple[pd.DataFrame, str]:
    """(the recorded deployments of this cluster, "") or (an empty frame, what went wrong in words)."""
    from store.db import StoreUnavailable
    from views import deploy_history

    ref = runtime.refresher()
    rec = history_recorder.ensure_recording(ref)
    try:
        return _load(ref.settings.name, rec.version), ""
    except StoreUnavailable as err:
        return deploy_history.to_frame([]), str(err)


def recorder_status() -> tuple[int, str | None]:
    """(rows recorded by this process so far, the recorder's last error or None)."""
    rec = history_recorder.recorder_for(runtime.refresher())
    return (rec.written, rec.last_error) if rec is not None else (0, None)
