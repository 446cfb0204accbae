"""Deployment history rows (table ``deployment_history``, migration 0002): upsert and read.

``upsert(engine, records)`` is idempotent and order-independent: a row is keyed by (cluster,
deployment ID), and a record replaces the stored status only when its Nomad ModifyIndex is
higher, so the same deployments observed many times, in any order, by several dashboard
instances, leave one row each with the latest status (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``,
the same statement on SQLite and PostgreSQL). Facts learnt later (the app version, the job's type
and datacenters) fill empty columns whatever the index.

Records are ``views.deploy_history.record`` dicts; ``read`` gives them back the same shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from store.db import is_sqlite, write_transaction

metadata = sa.MetaData()
NAME = sa.String(255)

table = sa.Table(
    "deployment_history",
    metadata,
    sa.Column("cluster", NAME, primary_key=True),
    sa.Column("deployment_id", sa.String(64), primary_key=True),
    sa.Column("client", NAME, nullable=False),
    sa.Column("namespace", NAME, nullable=False),
    sa.Column("job_id", NAME, nullable=False),
    sa.Column("job_type", sa.String(32), nullable=False),
    sa.Column("datacenters", sa.Text, nullable=False),
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
    sa.Column("groups", sa.Text, nullable=False),
    sa.Column("modify_index", sa.BigInteger, nullable=False),
)

KEY = ("cluster", "deployment_id")
# Columns that follow the deployment's status: replaced only by a higher ModifyIndex.
STATUS_COLUMNS = (
    "status",
    "status_description",
    "modify_ns",
    "duration_s",
    "desired",
    "placed",
    "healthy",
    "unhealthy",
    "canaries",
    "auto_revert",
    "groups",
    "modify_index",
    "create_ns",
    "job_version",
)
# Facts about the job that a later observation may know when an earlier one did not.
FILL_COLUMNS = ("app_version", "job_type", "datacenters", "client")
COLUMNS = tuple(c.name for c in table.columns)
_TEXT = {"client", "namespace", "job_id", "job_type", "datacenters", "app_version", "status", "status_description"}


def _row(rec: Mapping[str, Any]) -> dict[str, Any]:
    row = {c: rec.get(c) for c in COLUMNS}
    for c in _TEXT:
        row[c] = str(row[c] or "")
    for c in ("create_ns", "modify_ns", "modify_index", "desired", "placed", "healthy", "unhealthy", "canaries"):
        row[c] = int(row[c] or 0)
    row["job_version"] = -1 if row["job_version"] is None else int(row["job_version"])
    row["auto_revert"] = bool(row["auto_revert"])
    row["groups"] = json.dumps(row["groups"] or {}, sort_keys=True)
    row["duration_s"] = None if row["duration_s"] is None else float(row["duration_s"])
    return row


def upsert(engine: Engine, records: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update these records; returns how many were offered (duplicates keep the newest)."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in records:
        row = _row(rec)
        key = (row["cluster"], row["deployment_id"])
        if not key[1]:
            continue
        old = newest.get(key)
        if old is None or row["modify_index"] > old["modify_index"]:
            # keep facts an older copy knew
            newest[key] = {**row, **{c: row[c] or (old or {}).get(c, "") for c in FILL_COLUMNS}}
        else:
            for c in FILL_COLUMNS:
                old[c] = old[c] or row[c]
    if not newest:
        return 0
    insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    stmt = insert(table)
    new, cur = stmt.excluded, table.c
    newer = new.modify_index > cur.modify_index
    values: dict[str, Any] = {c: sa.case((newer, new[c]), else_=cur[c]) for c in STATUS_COLUMNS}
    for c in FILL_COLUMNS:
        values[c] = sa.case((cur[c] == "", new[c]), else_=cur[c])
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_=values,
        where=sa.or_(newer, *[sa.and_(cur[c] == "", new[c] != "") for c in FILL_COLUMNS]),
    )
    rows = sorted(newest.values(), key=lambda r: (r["cluster"], r["deployment_id"]))  # one lock order
    with write_transaction(engine) as conn:
        for start in range(0, len(rows), 500):
            conn.execute(stmt, rows[start : start + 500])
    return len(rows)


def _record(row: Mapping[str, Any]) -> dict[str, Any]:
    rec = dict(row)
    try:
        rec["groups"] = json.loads(rec.get("groups") or "{}")
    except ValueError:
        rec["groups"] = {}
    return rec


def read(
    engine: Engine, *, cluster: str | None = None, since_ns: int | None = None, until_ns: int | None = None
) -> list[dict[str, Any]]:
    """Stored records, oldest first (by CreateTime), optionally one cluster and a [since, until) window."""
    q = sa.select(table)
    if cluster is not None:
        q = q.where(table.c.cluster == cluster)
    if since_ns is not None:
        q = q.where(table.c.create_ns >= since_ns)
    if until_ns is not None:
        q = q.where(table.c.create_ns < until_ns)
    q = q.order_by(table.c.create_ns, table.c.cluster, table.c.deployment_id)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(q).mappings()]


def stamp(engine: Engine, *, clusters: Iterable[str] | None = None) -> tuple[int, int, int]:
    """(rows, sum of ModifyIndex, rows with an app version): moves with every write ``upsert`` can
    make (a new row, a status replaced by a higher index, an app version learnt), by this instance or
    another, for one cheap aggregate instead of reading the rows."""
    q = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(table.c.modify_index), 0),
        sa.func.count(sa.case((table.c.app_version != "", 1))),
    )
    if clusters is not None:
        q = q.where(table.c.cluster.in_(list(clusters)))
    with engine.connect() as conn:
        row = conn.execute(q).one()
    return int(row[0]), int(row[1]), int(row[2])


def missing_app_versions(engine: Engine, *, cluster: str) -> list[tuple[str, str, int]]:
    """(namespace, job, job version) of stored deployments whose app version is not known yet."""
    q = (
        sa.select(table.c.namespace, table.c.job_id, table.c.job_version)
        .where(table.c.cluster == cluster, table.c.app_version == "")
        .distinct()
    )
    with engine.connect() as conn:
        return [(r[0], r[1], int(r[2])) for r in conn.execute(q)]


def known(engine: Engine, *, cluster: str) -> dict[str, tuple[int, bool]]:
    """deployment ID -> (stored ModifyIndex, app version known), to skip rows that would not change."""
    q = sa.select(table.c.deployment_id, table.c.modify_index, table.c.app_version).where(table.c.cluster == cluster)
    with engine.connect() as conn:
        return {r[0]: (int(r[1]), bool(r[2])) for r in conn.execute(q)}
