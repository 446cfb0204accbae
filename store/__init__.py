"""The dashboard's own records: audit events (and, later, deployment history).

SQLAlchemy 2 on a SQLite file by default (``<state dir>/dashboard.db``), or the
PostgreSQL server ``DATABASE_URL`` names. The schema is Alembic's (``store/migrations``);
``migrate(url)`` brings a database to the newest revision and is safe to call from
several processes at once.
"""

from store.db import database_url, engine_for, migrate, write_transaction

__all__ = ["database_url", "engine_for", "migrate", "write_transaction"]
