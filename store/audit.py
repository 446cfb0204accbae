"""The audit trail: append-only, hash-chained events, and the guards that must hold across processes.

Each record's ``hash`` is SHA-256 over its canonical content (every column but ``hash``, as sorted
JSON) including ``seq`` and the previous record's hash (``prev_hash``), so editing a field, deleting
a row or swapping two rows breaks the chain at that record. Appends lock the one ``audit_head`` row
(``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite): writers from any number of
threads and processes queue, and the chain never forks.

The guards that count (per-target cooldown, per-person rate limit, leases) are checked in the same
transaction that appends the ``requested`` record, behind the same lock: two people (or two
processes) asking at once get exactly one "go".

No token or secret is ever passed in: records carry who, what, where, why and what Nomad said.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from store.db import StoreUnavailable, describe, engine_for, migrate, write_transaction

GENESIS = "0" * 64
EVENTS = ("requested", "succeeded", "failed", "denied", "cancelled", "interrupted", "accessed")
OUTCOMES = ("succeeded", "failed", "denied", "cancelled", "interrupted")

metadata = MetaData()
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("request_id", String(36)),
    Column("event", String(16)),
    Column("at", String(32)),
    Column("actor_subject", String(255)),
    Column("actor_email", String(255)),
    Column("actor_name", String(255)),
    Column("actor_groups", Text),
    Column("roles", Text),
    Column("action", String(64)),
    Column("cluster", String(255)),
    Column("namespace", String(255)),
    Column("client", String(255)),
    Column("job", String(255)),
    Column("task_group", String(255)),
    Column("allocation", String(64)),
    Column("task", String(255)),
    Column("reason", Text),
    Column("ticket", String(128)),
    Column("detail", Text),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
)
audit_head = Table(
    "audit_head", metadata, Column("id", Integer, primary_key=True), Column("seq", BigInteger), Column("hash", String)
)
action_cooldowns = Table(
    "action_cooldowns",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("request_id", String(36)),
    Column("actor_subject", String(255)),
    Column("until", String(32)),
)
leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("holder", String(128)),
    Column("request_id", String(36)),
    Column("acquired_at", String(32)),
    Column("expires_at", String(32)),
)
rolling_restarts = Table(
    "rolling_restarts",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("cluster", String(255)),
    Column("namespace", String(255)),
    Column("client", String(255)),
    Column("job", String(255)),
    Column("task_group", String(255)),
    Column("actor_subject", String(255)),
    Column("actor_name", String(255)),
    Column("status", String(16)),
    Column("total", Integer),
    Column("done", Integer),
    Column("current_allocation", String(64)),
    Column("message", Text),
    Column("steps", Text),
    Column("cancel_requested", Boolean),
    Column("owner", String(128)),
    Column("started_at", String(32)),
    Column("updated_at", String(32)),
    Column("finished_at", String(32)),
)

# Hashed columns, in a fixed order (the hash is over sorted JSON, so the order is for readers).
CONTENT = tuple(c.name for c in audit_events.columns if c.name != "hash")
TARGET_FIELDS = ("cluster", "namespace", "client", "job", "task_group", "allocation", "task")


def utc_text(when: datetime) -> str:
    """The one time format of the store: ISO-8601 UTC, microseconds, 'Z' (sorts as text)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Actor:
    """Who: from the signed-in person (never a token)."""

    subject: str
    email: str = ""
    name: str = ""
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """What one audit record says (its chain fields are added when it is appended)."""

    request_id: str
    event: str
    actor: Actor
    action: str
    target: Mapping[str, str] = field(default_factory=dict)  # keys from TARGET_FIELDS
    reason: str = ""
    ticket: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Guards:
    """Checked with the ``requested`` record, under the append lock. Zero / None switches one off."""

    cooldown_key: str | None = None
    cooldown_seconds: float = 0
    rate_limit: int = 0  # at most this many actions by the person...
    rate_window_seconds: float = 0  # ...in this window (denied attempts do not count)
    rate_actions: Sequence[str] = ()
    lease_name: str | None = None
    lease_seconds: float = 0
    lease_holder: str = ""


class Refused(Exception):
    """A guard said no. The message says why in plain words; a ``denied`` record was written."""

    def __init__(self, message: str, *, guard: str, record: dict | None = None):
        super().__init__(message)
        self.message = message
        self.guard = guard
        self.record = record


def canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps({k: row[k] for k in CONTENT}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def record_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _row(entry: Entry, at: datetime) -> dict[str, Any]:
    if entry.event not in EVENTS:
        raise ValueError(f"unknown audit event {entry.event!r}")
    unknown = set(entry.target) - set(TARGET_FIELDS)
    if unknown:
        raise ValueError(f"unknown target fields {sorted(unknown)}")
    a = entry.actor
    row = {
        "request_id": entry.request_id,
        "event": entry.event,
        "at": utc_text(at),
        "actor_subject": a.subject,
        "actor_email": a.email,
        "actor_name": a.name,
        "actor_groups": json.dumps(list(a.groups)),
        "roles": json.dumps(sorted(a.roles)),
        "action": entry.action,
        "reason": entry.reason,
        "ticket": entry.ticket,
        "detail": json.dumps(dict(entry.detail), sort_keys=True, default=str),
    }
    for name in TARGET_FIELDS:
        row[name] = str(entry.target.get(name) or "")
    return row


def _append(conn: Connection, entry: Entry, at: datetime) -> dict[str, Any]:
    """Append one record behind the head lock (the caller's transaction holds it until commit)."""
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()).one()
    row = _row(entry, at)
    row["seq"] = int(head.seq) + 1
    row["prev_hash"] = head.hash
    row["hash"] = record_hash(row)
    conn.execute(insert(audit_events).values(**row))
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=row["seq"], hash=row["hash"]))
    return row


def _when(seconds_ago: float) -> str:
    s = int(round(seconds_ago))
    return f"{s} second{'s' if s != 1 else ''}" if s < 120 else f"{s // 60} minutes"


class AuditStore:
    """The audit trail on one database. Thread-safe; one per process per URL is plenty."""

    def __init__(self, url: str | None = None, *, clock=now_utc):
        self.url = url or ""
        self.clock = clock
        try:
            migrate(url)
            self.engine = engine_for(url)
        except StoreUnavailable:
            raise
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"The audit trail at {describe(url or '')} is unavailable: {exc}") from exc

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"The audit trail is unavailable ({type(exc).__name__}: {str(exc)[:200]})")

    # ------------------------------------------------------------------ writes

    def append(self, entry: Entry) -> dict[str, Any]:
        """Append one record (an access event, an outcome) and commit it."""
        try:
            with write_transaction(self.engine) as conn:
                return _append(conn, entry, self.clock())
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc

    def request(
        self, entry: Entry, guards: Guards = Guards(), *, refusal: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """Commit the ``requested`` record if every guard allows it; else commit ``requested`` +
        ``denied`` together and raise ``Refused``. ``refusal=(message, guard)``: refused already (by the
        policy, a missing reason, a target check). Raises ``StoreUnavailable`` when nothing could be written."""
        if entry.event != "requested":
            raise ValueError("request() appends 'requested' records")
        try:
            with write_transaction(self.engine) as conn:
                now = self.clock()
                requested = _append(conn, entry, now)
                refusal = refusal or self._check(conn, entry, guards, now)
                if refusal is None:
                    self._claim(conn, entry, guards, now)
                    return requested
                message, guard = refusal
                denied = _append(
                    conn,
                    Entry(
                        entry.request_id,
                        "denied",
                        entry.actor,
                        entry.action,
                        entry.target,
                        entry.reason,
                        entry.ticket,
                        {**entry.detail, "guard": guard, "message": message},
                    ),
                    now,
                )
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc
        raise Refused(message, guard=guard, record=denied)

    def _check(self, conn: Connection, entry: Entry, g: Guards, now: datetime) -> tuple[str, str] | None:
        if g.cooldown_key and g.cooldown_seconds > 0:
            row = conn.execute(select(action_cooldowns).where(action_cooldowns.c.key == g.cooldown_key)).first()
            if row is not None and row.until > utc_text(now):
                started = parse_utc(row.until) - timedelta(seconds=g.cooldown_seconds)
                who = "you" if row.actor_subject == entry.actor.subject else "someone else"
                wait = (parse_utc(row.until) - now).total_seconds()
                by = self._actor_name(conn, row.request_id) or who
                return (
                    f"This was just done by {by} {_when((now - started).total_seconds())} ago; "
                    f"it can be done again in {_when(wait)}. Nothing was done.",
                    "cooldown",
                )
        if g.rate_limit > 0 and g.rate_window_seconds > 0:
            since = utc_text(now - timedelta(seconds=g.rate_window_seconds))
            denied = audit_events.alias("denied")
            count = conn.execute(
                select(func.count())
                .select_from(audit_events)
                .where(
                    audit_events.c.event == "requested",
                    audit_events.c.actor_subject == entry.actor.subject,
                    audit_events.c.at >= since,
                    audit_events.c.request_id != entry.request_id,
                    audit_events.c.action.in_(list(g.rate_actions) or [entry.action]),
                    ~exists().where(and_(denied.c.request_id == audit_events.c.request_id, denied.c.event == "denied")),
                )
            ).scalar_one()
            if count >= g.rate_limit:
                minutes = g.rate_window_seconds / 60
                return (
                    f"You have taken {count} actions in the last {minutes:g} minutes, the most allowed "
                    f"({g.rate_limit}). Wait a few minutes or ask a colleague. Nothing was done.",
                    "rate_limit",
                )
        if g.lease_name:
            row = conn.execute(select(leases).where(leases.c.name == g.lease_name)).first()
            if row is not None and row.expires_at > utc_text(now):
                by = self._actor_name(conn, row.request_id) or "someone"
                return (
                    f"Another one is already running (started by {by}). Wait for it to finish or cancel it. "
                    "Nothing was done.",
                    "lease",
                )
        return None

    def _claim(self, conn: Connection, entry: Entry, g: Guards, now: datetime) -> None:
        if g.cooldown_key and g.cooldown_seconds > 0:
            conn.execute(delete(action_cooldowns).where(action_cooldowns.c.key == g.cooldown_key))
            conn.execute(
                insert(action_cooldowns).values(
                    key=g.cooldown_key,
                    request_id=entry.request_id,
                    actor_subject=entry.actor.subject,
                    until=utc_text(now + timedelta(seconds=g.cooldown_seconds)),
                )
            )
        if g.lease_name:
            conn.execute(delete(leases).where(leases.c.name == g.lease_name))
            conn.execute(
                insert(leases).values(
                    name=g.lease_name,
                    holder=g.lease_holder,
                    request_id=entry.request_id,
                    acquired_at=utc_text(now),
                    expires_at=utc_text(now + timedelta(seconds=g.lease_seconds)),
                )
            )

    @staticmethod
    def _actor_name(conn: Connection, request_id: str) -> str:
        row = conn.execute(
            select(audit_events.c.actor_name, audit_events.c.actor_email, audit_events.c.actor_subject).where(
                audit_events.c.request_id == request_id, audit_events.c.event == "requested"
            )
        ).first()
        return (row.actor_name or row.actor_email or row.actor_subject) if row else ""

    def release_cooldown(self, key: str, request_id: str) -> None:
        """Forget a cooldown this request set (Nomad refused: nothing happened, a retry is fine)."""
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    delete(action_cooldowns).where(
                        action_cooldowns.c.key == key, action_cooldowns.c.request_id == request_id
                    )
                )
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc

    def renew_lease(self, name: str, request_id: str, seconds: float) -> bool:
        """Extend a lease this request holds; False when it is no longer ours."""
        try:
            with write_transaction(self.engine) as conn:
                result = conn.execute(
                    update(leases)
                    .where(leases.c.name == name, leases.c.request_id == request_id)
                    .values(expires_at=utc_text(self.clock() + timedelta(seconds=seconds)))
                )
                return result.rowcount == 1
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc

    def release_lease(self, name: str, request_id: str) -> None:
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(delete(leases).where(leases.c.name == name, leases.c.request_id == request_id))
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc

    # ------------------------------------------------------------------ reads

    def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        client: str | None = None,
        event: str | None = None,
        request_id: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records in chain order (oldest first), filtered. ``actor`` matches subject or email."""
        q = select(audit_events).order_by(audit_events.c.seq)
        if since is not None:
            q = q.where(audit_events.c.at >= utc_text(since))
        if until is not None:
            q = q.where(audit_events.c.at < utc_text(until))
        if actor:
            q = q.where((audit_events.c.actor_subject == actor) | (audit_events.c.actor_email == actor))
        if action:
            q = q.where(audit_events.c.action == action)
        if client:
            q = q.where(audit_events.c.client == client)
        if event:
            q = q.where(audit_events.c.event == event)
        if request_id:
            q = q.where(audit_events.c.request_id == request_id)
        if limit:
            q = q.order_by(None).order_by(audit_events.c.seq.desc()).limit(limit)
        try:
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(q)]
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc
        return sorted(rows, key=lambda r: r["seq"]) if limit else rows

    def verify(self) -> VerifyResult:
        try:
            with self.engine.connect() as conn:
                head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
                rows = conn.execute(select(audit_events).order_by(audit_events.c.seq)).mappings()
                return verify_rows(rows, head=(int(head.seq), head.hash) if head else None)
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""

    def words(self) -> str:
        if self.ok:
            return f"The audit chain is intact ({self.checked} records checked)."
        return f"The audit chain is broken at record {self.broken_seq}: {self.problem}"


def verify_rows(rows: Iterable[Mapping[str, Any]], head: tuple[int, str] | None = None) -> VerifyResult:
    """Walk records in seq order: seqs 1, 2, 3... with no gap, each hash right, each linked to the previous."""
    prev_hash, expected, checked = GENESIS, 1, 0
    for row in rows:
        seq = int(row["seq"])
        if seq != expected:
            return VerifyResult(False, checked, expected, f"record {expected} is missing (next one found is {seq})")
        if row["prev_hash"] != prev_hash:
            return VerifyResult(False, checked, seq, "it does not link to the record before it (reordered or replaced)")
        if record_hash(row) != row["hash"]:
            return VerifyResult(False, checked, seq, "its content does not match its hash (edited)")
        prev_hash, expected, checked = row["hash"], seq + 1, checked + 1
    if head is not None and (head[0] != expected - 1 or head[1] != prev_hash):
        return VerifyResult(
            False,
            checked,
            expected,
            f"the chain head says {head[0]} records, {expected - 1} are there (the newest ones were deleted)",
        )
    return VerifyResult(True, checked)


def export_columns() -> list[str]:
    return [c.name for c in audit_events.columns]


def export(rows: Iterable[Mapping[str, Any]], fmt: str) -> Iterator[str]:
    """Records as CSV (with a header line) or JSON lines, chunk by chunk."""
    cols = export_columns()
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps({c: row[c] for c in cols}, ensure_ascii=False) + "\n"
        return
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r} (csv or jsonl)")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(cols)
    for row in rows:
        writer.writerow([_csv_safe(row[c]) for c in cols])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


def _csv_safe(value: Any) -> Any:
    """Keep a spreadsheet from running a cell as a formula (a reason typed as '=HYPERLINK(...)')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
