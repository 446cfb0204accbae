"""Rolling restarts' progress rows: written by the worker that runs one, read by every instance.

A row's ``status`` is ``running`` while a worker heartbeats it (``updated_at``); a ``running`` row
whose heartbeat is older than the lease means its process went away: ``sweep_interrupted`` marks it
``interrupted`` so it is shown as such, never silently lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from store.audit import AuditStore, rolling_restarts, utc_text
from store.db import write_transaction

FINISHED = ("succeeded", "failed", "cancelled", "interrupted")


def _decode(row) -> dict[str, Any]:
    out = dict(row._mapping)
    out["steps"] = json.loads(out["steps"] or "[]")
    return out


class RollingStore:
    def __init__(self, audit: AuditStore):
        self.audit = audit
        self.engine = audit.engine

    def _write(self, stmt):
        try:
            with write_transaction(self.engine) as conn:
                return conn.execute(stmt).rowcount
        except SQLAlchemyError as exc:
            raise self.audit._unavailable(exc) from exc

    def create(
        self, request_id: str, target: Mapping[str, str], actor_subject: str, actor_name: str, steps: list, owner: str
    ) -> None:
        now = utc_text(self.audit.clock())
        self._write(
            insert(rolling_restarts).values(
                request_id=request_id,
                cluster=target.get("cluster", ""),
                namespace=target.get("namespace", ""),
                client=target.get("client", ""),
                job=target.get("job", ""),
                task_group=target.get("task_group", ""),
                actor_subject=actor_subject,
                actor_name=actor_name,
                status="running",
                total=len(steps),
                done=0,
                current_allocation="",
                message="Starting",
                steps=json.dumps(steps),
                cancel_requested=False,
                owner=owner,
                started_at=now,
                updated_at=now,
                finished_at="",
            )
        )

    def progress(self, request_id: str, *, steps: list, done: int, current: str, message: str) -> None:
        self._write(
            update(rolling_restarts)
            .where(rolling_restarts.c.request_id == request_id, rolling_restarts.c.status == "running")
            .values(
                steps=json.dumps(steps),
                done=done,
                current_allocation=current,
                message=message,
                updated_at=utc_text(self.audit.clock()),
            )
        )

    def finish(self, request_id: str, status: str, message: str, steps: list | None = None) -> None:
        now = utc_text(self.audit.clock())
        values: dict[str, Any] = {"status": status, "message": message, "updated_at": now, "finished_at": now}
        if steps is not None:
            values["steps"] = json.dumps(steps)
            values["done"] = sum(1 for s in steps if s.get("status") == "healthy")
        self._write(update(rolling_restarts).where(rolling_restarts.c.request_id == request_id).values(**values))

    def request_cancel(self, request_id: str) -> bool:
        return (
            self._write(
                update(rolling_restarts)
                .where(rolling_restarts.c.request_id == request_id, rolling_restarts.c.status == "running")
                .values(cancel_requested=True)
            )
            == 1
        )

    def get(self, request_id: str) -> dict[str, Any] | None:
        try:
            with self.engine.connect() as conn:
                row = conn.execute(select(rolling_restarts).where(rolling_restarts.c.request_id == request_id)).first()
        except SQLAlchemyError as exc:
            raise self.audit._unavailable(exc) from exc
        return _decode(row) if row is not None else None

    def recent(
        self, *, cluster: str | None = None, namespace: str | None = None, job: str | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Newest first, optionally for one client's job."""
        q = select(rolling_restarts).order_by(rolling_restarts.c.started_at.desc()).limit(limit)
        if cluster is not None:
            q = q.where(rolling_restarts.c.cluster == cluster)
        if namespace is not None:
            q = q.where(rolling_restarts.c.namespace == namespace)
        if job is not None:
            q = q.where(rolling_restarts.c.job == job)
        try:
            with self.engine.connect() as conn:
                return [_decode(r) for r in conn.execute(q)]
        except SQLAlchemyError as exc:
            raise self.audit._unavailable(exc) from exc

    def sweep_interrupted(self, stale_after: timedelta, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """Mark running rows whose worker stopped heartbeating as interrupted; return them (as they were)."""
        now = now or self.audit.clock()
        cutoff = utc_text(now - stale_after)
        try:
            with write_transaction(self.engine) as conn:
                stale = [
                    _decode(r)
                    for r in conn.execute(
                        select(rolling_restarts).where(
                            rolling_restarts.c.status == "running", rolling_restarts.c.updated_at < cutoff
                        )
                    )
                ]
                swept = []
                for row in stale:
                    result = conn.execute(
                        update(rolling_restarts)
                        .where(
                            rolling_restarts.c.request_id == row["request_id"], rolling_restarts.c.status == "running"
                        )
                        .values(
                            status="interrupted",
                            message=(
                                f"Interrupted: the dashboard process running it stopped after {row['done']} of "
                                f"{row['total']} allocations. Check the group in Nomad before starting again."
                            ),
                            finished_at=utc_text(now),
                            updated_at=utc_text(now),
                        )
                    )
                    if result.rowcount == 1:  # another instance sweeping at once gets none twice
                        swept.append(row)
        except SQLAlchemyError as exc:
            raise self.audit._unavailable(exc) from exc
        return swept
