"""Alembic environment: always called by store.db.migrate with an open connection."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store never runs Alembic's CLI
    raise RuntimeError("Run migrations through store.migrate(url), which passes a connection.")

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
