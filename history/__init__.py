"""Deployment history: the process-wide recorder (refresher -> store) and the read the pages use.

* ``history.recorder``: every deployment the refresher observes is upserted into the store.
* ``history.read``: the history as a DataFrame (``views.deploy_history.HISTORY_COLUMNS``); the
  pages reach it through ``ui.history`` (cached), never through the store.
"""
