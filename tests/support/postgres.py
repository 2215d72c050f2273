"""A real PostgreSQL for tests: the machine's own if one answers, else a private server.

Why both: on a developer or CI machine of this project's kind a PostgreSQL already runs on
127.0.0.1:5432 with trust authentication and a database ``test`` (reusing it is free). On
a bare machine ``make test`` installs Debian's ``postgresql`` package; when nothing usable
listens on 5432 we build a throw-away cluster ourselves (``initdb`` in a temporary
directory, ``pg_ctl start`` on a free loopback port, fsync off) and stop and delete it at
the end of the session. ``initdb`` refuses to run as root, so as root the binaries run as
the ``postgres`` user through ``runuser -u postgres --``.

Fixtures (import them into a conftest.py, or list this module in ``pytest_plugins``):

``pg_server``        session-scoped :class:`PostgresServer` (shared or private).
``pg_database_url``  session-scoped ``postgresql+asyncpg://`` URL of a database created for
                     this test session under a unique name, dropped at the end.
``pg_url``           function-scoped: the same URL after emptying the database (the
                     ``public`` schema is dropped and recreated), so each test starts
                     from nothing and migrations run again.

All skip the test, with the reason, when there are no PostgreSQL binaries and no server.
``IPCC_TEST_PG=private`` forces a private server; ``IPCC_TEST_PG=off`` skips PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SHARED_HOST = "127.0.0.1"
SHARED_PORT = 5432
SHARED_DB = "test"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    admin_db: str                  # database to connect to for CREATE/DROP DATABASE
    private: bool = False
    datadir: Path | None = None
    bin_dir: Path | None = None
    workdir: Path | None = None
    databases: list[str] = field(default_factory=list)

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        """Stop a private server (fast shutdown, then SIGKILL by pid) and delete its files."""
        if not self.private or self.datadir is None or self.workdir is None:
            return
        pid = _postmaster_pid(self.datadir)
        try:
            _run_pg(self.bin_dir, "pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w",
                    "-t", "30", "stop", cwd=self.workdir, timeout=40)
        except (subprocess.SubprocessError, OSError):
            pass
        # pg_ctl returns when postmaster.pid is gone, a moment before the process exits.
        if pid is not None and not _wait_gone(pid, 10.0):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5.0)
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.datadir = self.workdir = None


# ----------------------------------------------------------------------- helpers


def pg_bin_dir() -> Path | None:
    """Newest ``/usr/lib/postgresql/N/bin`` that has initdb, pg_ctl and postgres."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bin_dir = Path(initdb).parent
        version = bin_dir.parent.name
        if (bin_dir / "pg_ctl").exists() and (bin_dir / "postgres").exists():
            found.append((int(version) if version.isdigit() else 0, bin_dir))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        return int((datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _run_pg(bin_dir: Path | None, tool: str, *args: str, cwd: Path,
            timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary, as ``postgres`` when we are root (initdb refuses root)."""
    exe = str(bin_dir / tool) if bin_dir else tool
    cmd = [exe, *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=True, stdin=subprocess.DEVNULL)


async def _execute(host: str, port: int, user: str, database: str, *sql: str) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(host=host, port=port, user=user, database=database,
                                 timeout=10)
    try:
        return [await conn.fetch(statement) for statement in sql]
    finally:
        await conn.close()


def run_sql(server: PostgresServer, database: str, *sql: str) -> list[Any]:
    """Execute statements on ``database`` (a synchronous helper for fixtures)."""
    return asyncio.run(_execute(server.host, server.port, server.user, database, *sql))


def _shared_server() -> PostgresServer | None:
    """The machine's PostgreSQL on 5432, if it answers with trust auth."""
    if not _listening(SHARED_HOST, SHARED_PORT):
        return None
    server = PostgresServer(SHARED_HOST, SHARED_PORT, SUPERUSER, SHARED_DB)
    try:
        run_sql(server, SHARED_DB, "SELECT 1")
    except Exception:  # noqa: BLE001 - wrong auth, no such database or role: use our own
        return None
    return server


def start_private_server() -> PostgresServer:
    """initdb + pg_ctl start on a free loopback port in a temporary directory."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL binaries (initdb, pg_ctl)")
    workdir = Path(tempfile.mkdtemp(prefix="ipcc-pg-"))
    datadir = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, user=SUPERUSER, group=None)
    server: PostgresServer | None = None
    try:
        _run_pg(bin_dir, "initdb", "-D", str(datadir), "-A", "trust", "-U", SUPERUSER,
                "-E", "UTF8", "--no-sync", "--no-instructions", cwd=workdir,
                timeout=START_TIMEOUT_S)
        last_error = ""
        for _ in range(3):  # a free port can be taken between our pick and the bind
            port = free_port()
            options = (f"-p {port} -h 127.0.0.1 -k {workdir} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            try:
                _run_pg(bin_dir, "pg_ctl", "-D", str(datadir), "-l", str(workdir / "log"),
                        "-w", "-t", str(START_TIMEOUT_S), "-o", options, "start",
                        cwd=workdir, timeout=START_TIMEOUT_S + 10)
            except subprocess.CalledProcessError as exc:
                last_error = exc.stderr + exc.stdout
                continue
            server = PostgresServer("127.0.0.1", port, SUPERUSER, "postgres", private=True,
                                    datadir=datadir, bin_dir=bin_dir, workdir=workdir)
            return server
        raise RuntimeError(f"private PostgreSQL did not start: {last_error}")
    finally:
        if server is None:
            pid = _postmaster_pid(datadir)
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(workdir, ignore_errors=True)


def create_database(server: PostgresServer, prefix: str = "ipcc_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    run_sql(server, server.admin_db, f'CREATE DATABASE "{name}"')
    server.databases.append(name)
    return name


def drop_database(server: PostgresServer, name: str) -> None:
    run_sql(server, server.admin_db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if name in server.databases:
        server.databases.remove(name)


def reset_database(server: PostgresServer, name: str) -> None:
    """Empty a database: drop and recreate the public schema (and everything in it)."""
    run_sql(server, name, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")


# ----------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    mode = os.environ.get("IPCC_TEST_PG", "").lower()
    if mode == "off":
        pytest.skip("PostgreSQL tests disabled by IPCC_TEST_PG=off")
    server = None if mode == "private" else _shared_server()
    if server is None:
        if pg_bin_dir() is None:
            pytest.skip("no PostgreSQL server on 127.0.0.1:5432 and no PostgreSQL binaries "
                        "(/usr/lib/postgresql/*/bin) to start one: "
                        "run scripts/install-test-deps.sh (apt-get install postgresql)")
        server = start_private_server()
    try:
        yield server
    finally:
        for name in list(server.databases):
            with contextlib.suppress(Exception):  # best effort: the server may be gone
                drop_database(server, name)
        server.stop()


@pytest.fixture(scope="session")
def pg_database_url(pg_server: PostgresServer) -> Iterator[str]:
    name = create_database(pg_server)
    try:
        yield pg_server.url(name)
    finally:
        drop_database(pg_server, name)


@pytest.fixture
def pg_url(pg_server: PostgresServer, pg_database_url: str) -> str:
    reset_database(pg_server, pg_database_url.rsplit("/", 1)[1])
    return pg_database_url

