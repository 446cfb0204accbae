"""Deployment history: one row per Nomad deployment per cluster, the latest status seen.

Nomad garbage-collects finished deployments (about an hour by default), so the dashboard keeps
them. Times are Nomad's own CreateTime/ModifyTime in integer nanoseconds (the same on SQLite and
PostgreSQL, and ordered); ``modify_index`` is Nomad's ModifyIndex of the version stored, the guard
that lets several dashboard instances write the same rows in any order without going backwards.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NAME = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "deployment_history",
        sa.Column("cluster", NAME, primary_key=True),
        sa.Column("deployment_id", sa.String(64), primary_key=True),
        sa.Column("client", NAME, nullable=False),
        sa.Column("namespace", NAME, nullable=False),
        sa.Column("job_id", NAME, nullable=False),
        sa.Column("job_type", sa.String(32), nullable=False),
        sa.Column("datacenters", sa.Text, nullable=False),  # comma separated
        sa.Column("job_version", sa.BigInteger, nullable=False),
        sa.Column("app_version", NAME, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_description", sa.Text, nullable=False),
        sa.Column("create_ns", sa.BigInteger, nullable=False),
        sa.Column("modify_ns", sa.BigInteger, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("desired", sa.Integer, nullable=False),
        sa.Column("placed", sa.Integer, nullable=False),
        sa.Column("healthy", sa.Integer, nullable=False),
        sa.Column("unhealthy", sa.Integer, nullable=False),
        sa.Column("canaries", sa.Integer, nullable=False),
        sa.Column("auto_revert", sa.Boolean, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),  # JSON object: task group -> counts
        sa.Column("modify_index", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_deployment_history_time", "deployment_history", ["cluster", "create_ns"])
    op.create_index("ix_deployment_history_job", "deployment_history", ["cluster", "namespace", "job_id"])


def downgrade() -> None:
    op.drop_table("deployment_history")
