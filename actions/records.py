"""What the audit page shows: one row per request, in the reader's scope, and the chain's state.

Managers and admins (``audit:all``) see every record; support see their own. A ``requested`` with
no outcome is flagged "outcome unknown: check Nomad" (the process died or the store failed between
the two writes), except a rolling restart still running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actions.environment import Environment, get_environment
from auth import policy
from auth.principal import Principal
from store.audit import OUTCOMES, VerifyResult, export
from store.db import StoreUnavailable
from store.rolling import RollingStore

UNKNOWN = "outcome unknown: check Nomad"
IN_PROGRESS = "in progress"
MAX_ROWS = 5000


@dataclass(frozen=True)
class AuditView:
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # the raw records behind the rows
    verify: VerifyResult | None = None
    everyone: bool = False
    error: str = ""


def _message(detail: str) -> str:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return ""
    if data.get("message"):
        return str(data["message"])
    if data.get("nomad_said"):
        return f"Nomad said: {data['nomad_said']}"
    return ""


def group_requests(records: list[dict[str, Any]], running: set[str] = frozenset()) -> list[dict[str, Any]]:
    """One row per request id (newest first): what was asked, by whom, and how it ended."""
    by_id: dict[str, dict[str, Any]] = {}
    for r in records:
        row = by_id.get(r["request_id"])
        if row is None:
            row = by_id[r["request_id"]] = {
                "at": r["at"],
                "who": r["actor_name"] or r["actor_email"] or r["actor_subject"],
                "email": r["actor_email"],
                "action": r["action"],
                "client": r["client"],
                "cluster": r["cluster"] or "",
                "namespace": r["namespace"],
                "job": r["job"],
                "task_group": r["task_group"],
                "allocation": r["allocation"],
                "task": r["task"],
                "reason": r["reason"],
                "ticket": r["ticket"],
                "outcome": "",
                "message": "",
                "finished_at": "",
                "request_id": r["request_id"],
                "seq": r["seq"],
            }
        if r["event"] == "accessed":
            row["outcome"], row["finished_at"] = "accessed", r["at"]
        elif r["event"] in OUTCOMES:
            row["outcome"], row["message"], row["finished_at"] = r["event"], _message(r["detail"]), r["at"]
    for row in by_id.values():
        if not row["outcome"]:
            row["outcome"] = IN_PROGRESS if row["request_id"] in running else UNKNOWN
    return sorted(by_id.values(), key=lambda row: row["seq"], reverse=True)


def audit_view(
    principal: Principal,
    *,
    who: str = "",
    action: str = "",
    client: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    env: Environment | None = None,
) -> AuditView:
    """The audit rows ``principal`` may see, filtered. Raises ``auth.policy.Forbidden`` without the page."""
    policy.ensure(principal, policy.PAGE_AUDIT)
    everyone = policy.can(principal, policy.AUDIT_ALL)
    try:
        env = env or get_environment()
        actor = (who or None) if everyone else principal.subject
        records = env.audit.events(
            since=since, until=until, actor=actor, action=action or None, client=client or None, limit=MAX_ROWS
        )
        if not everyone:
            records = [r for r in records if r["actor_subject"] == principal.subject]
        running = {r["request_id"] for r in RollingStore(env.audit).recent(limit=100) if r["status"] == "running"}
        rows = group_requests(records, running)
        if outcome:
            rows = [r for r in rows if r["outcome"] == outcome]
        shown = {r["request_id"] for r in rows}
        verify = env.audit.verify()
    except StoreUnavailable as err:
        return AuditView(everyone=everyone, error=str(err))
    return AuditView(rows, [r for r in records if r["request_id"] in shown], verify, everyone)


def export_csv(view: AuditView) -> str:
    """The records behind the rows shown, as CSV (the same columns as ``python -m store export``)."""
    return "".join(export(view.records, "csv"))
