"""The store's database: a SQLite file by default or PostgreSQL by URL, migrated on start.

Every test here runs on both (the ``store_url`` fixture in tests/conftest.py).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

import store
from store import db

ROOT = Path(__file__).resolve().parents[2]


def test_default_url_is_a_sqlite_file_in_the_state_dir(tmp_path):
    assert db.database_url({}) == f"sqlite:///{(db.DEFAULT_STATE_DIR / 'dashboard.db').resolve()}"
    assert db.database_url({"DASHBOARD_STATE_DIR": str(tmp_path)}) == f"sqlite:///{tmp_path / 'dashboard.db'}"


def test_database_url_names_postgresql_with_the_psycopg_driver():
    env = {"DATABASE_URL": "postgresql://audit:pw@db.internal:5432/dashboard"}
    assert db.database_url(env) == "postgresql+psycopg://audit:pw@db.internal:5432/dashboard"
    assert db.database_url({"DATABASE_URL": "postgres://h/d"}) == "postgresql+psycopg://h/d"
    assert "pw" not in db.describe(db.database_url(env))


def test_migrate_creates_the_database_and_the_audit_tables(store_url):
    store.migrate(store_url)
    names = set(inspect(db.engine_for(store_url)).get_table_names())
    assert {"audit_events", "audit_head", "action_cooldowns", "leases", "rolling_restarts", "alembic_version"} <= names
    with db.engine_for(store_url).connect() as conn:
        assert conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one() == 0


def test_sqlite_file_is_created_on_first_run_in_wal_mode(tmp_path):
    path = tmp_path / "new" / "dir" / "dashboard.db"
    url = f"sqlite:///{path}"
    try:
        store.migrate(url)
        assert path.exists()
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.dispose(url)


def test_migrate_is_idempotent_across_processes(store_url):
    """Three processes start at once against one new database: all succeed, one schema."""
    code = "import sys, store; store.migrate(sys.argv[1]); print('ok')"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, store_url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [r[1].decode()[-2000:] for r in results]
    store.migrate(store_url)
    with db.engine_for(store_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_an_unreachable_database_is_reported_in_words():
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    try:
        with pytest.raises(db.StoreUnavailable, match="cannot be prepared"):
            store.migrate(url)
    finally:
        db.dispose(url)
