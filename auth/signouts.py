"""Sign-out that ends the session: the server remembers when each person last signed out.

Streamlit's identity cookie is signed, not revocable: a copy saved before "Sign out" stays valid
until it expires. So the gate refuses any identity issued (``iat``) before the person's last
sign-out, and any ``iat`` more than ``FUTURE_SKEW`` in the future (a forged or mis-clocked token
would otherwise outlive every sign-out and the session age).

The record lives behind one small class, ``SignoutFile`` (a JSON file under the state directory,
``DASHBOARD_STATE_DIR``, default ``.run/`` beside app.py, the same place the audit store uses).
It only needs ``last_signout(subject)`` and ``record(subject, at)``, so the audit database can
take it over later. Several dashboard instances must share the directory (or that database).
Subjects are stored as SHA-256 digests: the file says nothing about who uses the dashboard.
Pure Python, no Streamlit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from auth.principal import epoch

log = logging.getLogger("dashboard.auth")
FUTURE_SKEW = timedelta(minutes=1)
FILE_NAME = "signouts.json"
DEFAULT_STATE_DIR = Path(__file__).resolve().parent.parent / ".run"

SIGNED_OUT = "signed-out"
FUTURE = "issued-in-the-future"


class SignoutStore(Protocol):
    def last_signout(self, subject: str) -> float | None: ...

    def record(self, subject: str, at: float) -> None: ...


def _key(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()


class SignoutFile:
    """Last sign-out (epoch seconds) per subject, in one JSON file written atomically."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, float]] | None = None

    def _read(self) -> dict[str, float]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        version = (st.st_mtime_ns, st.st_size)
        if self._cache and self._cache[0] == version:
            return self._cache[1]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.error("cannot read the sign-out record %s (%s): sign-outs before now are not enforced", self.path, err)
            data = {}
        table = (
            {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}
        )
        self._cache = (version, table)
        return table

    def last_signout(self, subject: str) -> float | None:
        with self._lock:
            return self._read().get(_key(subject))

    def record(self, subject: str, at: float) -> None:
        with self._lock:
            table = dict(self._read())
            key = _key(subject)
            table[key] = max(at, table.get(key, 0.0))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(table, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)  # readers see the old file or the new one, never half of it
            self._cache = None


_stores: dict[Path, SignoutFile] = {}
_stores_lock = threading.Lock()


def default_store(env: Mapping[str, str] = os.environ) -> SignoutFile:
    """The process's store for the state directory in ``env`` (one object per file)."""
    path = Path(env.get("DASHBOARD_STATE_DIR") or DEFAULT_STATE_DIR) / FILE_NAME
    with _stores_lock:
        return _stores.setdefault(path, SignoutFile(path))


def subject_of(claims: Mapping[str, Any]) -> str:
    return str(claims.get("sub") or claims.get("email") or "")


def refusal(claims: Mapping[str, Any], store: SignoutStore, now: datetime) -> str | None:
    """Why this identity must not be let in (``SIGNED_OUT`` or ``FUTURE``), or None.

    ``iat`` has whole seconds, so a sign-in in the very second of a sign-out is refused too (the
    person signs in once more). A missing ``iat`` is the session-age rule's business (it expires at once)."""
    issued = epoch(claims.get("iat"))
    if issued is None:
        return None
    if issued > now + FUTURE_SKEW:
        return FUTURE
    last = store.last_signout(subject_of(claims))
    if last is not None and issued.timestamp() < last:
        return SIGNED_OUT
    return None


def record_signout(
    claims_or_subject: Mapping[str, Any] | str, store: SignoutStore, now: datetime | None = None
) -> None:
    subject = claims_or_subject if isinstance(claims_or_subject, str) else subject_of(claims_or_subject)
    if subject:
        store.record(subject, (now or datetime.now(UTC)).timestamp())
