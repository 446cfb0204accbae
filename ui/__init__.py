"""Shared Streamlit glue for the pages: runtime (snapshot, queries), freshness line, sidebar search.

Modules that import Streamlit: ``runtime``, ``freshness``, ``sidebar``, ``widgets``.
Pure helpers (no Streamlit, table-tested): ``tables``. Search, log filtering and the
activity chart are ``views.search``, ``views.logs`` and ``charts.activity_timeline``.
"""
