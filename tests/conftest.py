"""Shared fixtures: sandboxes over real HTTP, and the upstream reference samples.

- ``sandbox``: session-wide, frozen, seed 7, 40 clients, no ACLs. Do not mutate it
  (restart/stop); use ``fresh_sandbox`` for that. Clear any faults you inject.
- ``acl_sandbox``: session-wide, frozen, ACLs on (``.tokens`` / ``.consul_tokens``).
- ``fresh_sandbox``: per test, frozen, small (8 clients): for restarts, stops, faults, clock moves.
- ``reference_dir``: ``../shared/reference`` beside the project (HashiCorp's documented samples).

The store (audit trail, deployment history) runs on both of its databases for real:

- ``postgres_server``: session-wide, Debian's PostgreSQL (``/usr/lib/postgresql/*/bin``) as a throwaway
  cluster under a temp dir (``initdb`` + ``pg_ctl``, loopback only, fsync off), run as the ``postgres``
  user (or ``nobody``) when the tests run as root, as CI does. ``.new_database()`` returns the URL of a
  new, empty database.
- ``store_url``: parametrized ``sqlite`` / ``postgresql``: the URL of an empty database (a SQLite file in
  ``tmp_path`` that does not exist yet, or a new PostgreSQL database). Call ``store.migrate(store_url)``
  (or use ``migrated_url``) before using it. Every test that takes it runs on both.
- ``migrated_url``: ``store_url`` after ``store.migrate``.

Pages and recorders that run in tests write their default database into a temporary state
directory (``DASHBOARD_STATE_DIR``), never into the worktree's ``.run/``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("DASHBOARD_STATE_DIR", tempfile.mkdtemp(prefix="dashboard-test-state-"))

from sandbox import Sandbox

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_reference_dir() -> Path | None:
    path = (PROJECT_ROOT.parent / "shared" / "reference").resolve()
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    path = find_reference_dir()
    if path is None:
        reason = "upstream samples not found at ../shared/reference (relative to the project root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(clients=40, seed=7, frozen=True) as sb:
        yield sb


@pytest.fixture(scope="session")
def acl_sandbox():
    with Sandbox(clients=40, seed=7, frozen=True, acl=True) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox():
    with Sandbox(clients=8, seed=7, frozen=True) as sb:
        yield sb


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (see the module docstring)."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise FileNotFoundError("Debian's postgresql is not installed (make test installs it with apt-get)")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
        self.data = self.dir / "data"
        self.user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.user = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
            os.chown(self.dir, pwd.getpwnam(self.user).pw_uid, pwd.getpwnam(self.user).pw_gid)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "dashboard", "--no-sync", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://dashboard@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=dashboard dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = PostgresServer().start()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        # A failure, never a skip: the store's PostgreSQL support is only as good as this test run.
        pytest.fail(f"PostgreSQL for the store tests cannot start: {exc} {detail.decode(errors='replace')}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    from store import db

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state' / 'dashboard.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    yield url
    db.dispose(url)


@pytest.fixture
def migrated_url(store_url):
    import store

    store.migrate(store_url)
    return store_url
