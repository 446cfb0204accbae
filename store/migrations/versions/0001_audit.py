"""Audit trail: hash-chained events, the chain head (the append lock), cooldowns, leases, rolling restarts.

Times are ISO-8601 UTC text with microseconds ("2026-12-01T09:30:00.000000Z"): the same bytes on
SQLite and PostgreSQL, so a record's hash does not depend on the database, and text order is time order.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
TIME = sa.String(32)
NAME = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor_subject", NAME, nullable=False),
        sa.Column("actor_email", NAME, nullable=False),
        sa.Column("actor_name", NAME, nullable=False),
        sa.Column("actor_groups", sa.Text, nullable=False),  # JSON list
        sa.Column("roles", sa.Text, nullable=False),  # JSON list, sorted
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("cluster", NAME, nullable=False),
        sa.Column("namespace", NAME, nullable=False),
        sa.Column("client", NAME, nullable=False),
        sa.Column("job", NAME, nullable=False),
        sa.Column("task_group", NAME, nullable=False),
        sa.Column("allocation", sa.String(64), nullable=False),
        sa.Column("task", NAME, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("ticket", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),  # JSON object: Nomad's answer or error, guard words
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.UniqueConstraint("request_id", "event", name="uq_audit_request_event"),
    )
    op.create_index("ix_audit_at", "audit_events", ["at"])
    op.create_index("ix_audit_actor", "audit_events", ["actor_subject", "at"])
    op.create_index("ix_audit_request", "audit_events", ["request_id"])

    # One row: the newest record's seq and hash. Appends lock it (FOR UPDATE / BEGIN IMMEDIATE),
    # so concurrent writers queue and the chain never forks.
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])

    # Per-target cooldowns (e.g. "alloc.restart:<alloc id>"): a row until `until` says "just done".
    op.create_table(
        "action_cooldowns",
        sa.Column("key", NAME, primary_key=True),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("actor_subject", NAME, nullable=False),
        sa.Column("until", TIME, nullable=False),
    )

    # Leases: one holder per name (e.g. one rolling restart per task group) across every instance.
    op.create_table(
        "leases",
        sa.Column("name", NAME, primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("acquired_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )

    op.create_table(
        "rolling_restarts",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("cluster", NAME, nullable=False),
        sa.Column("namespace", NAME, nullable=False),
        sa.Column("client", NAME, nullable=False),
        sa.Column("job", NAME, nullable=False),
        sa.Column("task_group", NAME, nullable=False),
        sa.Column("actor_subject", NAME, nullable=False),
        sa.Column("actor_name", NAME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # running, succeeded, failed, cancelled, interrupted
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("current_allocation", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("steps", sa.Text, nullable=False),  # JSON list: one entry per allocation
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),  # the process instance running it
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=False),
    )
    op.create_index("ix_rolling_group", "rolling_restarts", ["cluster", "namespace", "job", "task_group", "started_at"])


def downgrade() -> None:
    for table in ("rolling_restarts", "leases", "action_cooldowns", "audit_head", "audit_events"):
        op.drop_table(table)
