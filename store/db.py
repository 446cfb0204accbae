"""Engines and migrations: one engine per database URL per process.

``database_url()`` reads ``DATABASE_URL`` (``postgresql://...`` works as is; the
psycopg 3 driver is filled in), else a SQLite file under the state directory
(``DASHBOARD_STATE_DIR``, default ``.run/`` beside app.py), created on first use.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout,
and ``write_transaction`` opens its transaction with ``BEGIN IMMEDIATE`` so two
writers queue instead of failing halfway; on PostgreSQL the caller serializes
with ``SELECT ... FOR UPDATE`` on a lock row (see store.audit).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = ROOT / ".run"
DB_FILE = "dashboard.db"
BUSY_TIMEOUT_SECONDS = 30
MIGRATIONS = Path(__file__).with_name("migrations")

_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_lock = threading.Lock()


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or written. The message can be shown as is."""


def state_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("DASHBOARD_STATE_DIR") or DEFAULT_STATE_DIR)


def database_url(env: Mapping[str, str] = os.environ) -> str:
    """DATABASE_URL (normalized to SQLAlchemy's psycopg 3 driver), else the SQLite file."""
    url = (env.get("DATABASE_URL") or "").strip()
    if not url:
        return f"sqlite:///{(state_dir(env) / DB_FILE).resolve()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # The driver's own transaction handling would defer BEGIN; we emit it ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def engine_for(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default: ``database_url()``)."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if is_sqlite(url):
                engine = _sqlite_engine(url)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            _engines[url] = engine
        return engine


def dispose(url: str) -> None:
    """Close and forget the engine for ``url`` (tests drop their databases afterwards)."""
    with _lock:
        engine = _engines.pop(url, None)
        _migrated.discard(url)
    if engine is not None:
        engine.dispose()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writers take one at a time on SQLite (BEGIN IMMEDIATE)."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        with conn.begin():
            yield conn


def alembic_config(connection: Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema revision (once per process per URL).

    Several processes may start at once: on PostgreSQL an advisory lock, on SQLite
    BEGIN IMMEDIATE, lets one migrate while the others wait and then find nothing to do.
    """
    from alembic import command

    url = url or database_url()
    if url in _migrated:
        return
    engine = engine_for(url)
    try:
        with write_transaction(engine) as conn:
            if not is_sqlite(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(7231001)"))
            command.upgrade(alembic_config(conn), "head")
    except Exception as exc:  # driver errors vary by backend; the message names the database
        raise StoreUnavailable(f"The dashboard's database {describe(url)} cannot be prepared: {exc}") from exc
    _migrated.add(url)
