"""Online backups: the service keeps writing while a backup is taken.

SQLite
    The backup API copies the whole database in one step from a read transaction. In WAL
    mode a reader sees a fixed snapshot and does not block writers, so the copy is
    consistent (exactly the transactions committed when it started) and journal and
    contact writes go on meanwhile. (A copy in several small steps would restart each time
    another connection writes, and might never finish on a busy server.) The copy runs in
    the aiosqlite connection's own thread, off the event loop.

PostgreSQL
    ``pg_dump`` in its custom format (restore with ``pg_restore``) from a single
    repeatable-read snapshot; it runs as a subprocess, so the event loop only waits on it.

Both write to ``DEST.part`` and rename it to ``DEST`` when complete, so ``DEST`` is never a
half-written file.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import StoreError


def _prepare(dest_path: str) -> tuple[Path, Path]:
    dest = Path(dest_path).expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for leftover in (part, Path(str(part) + "-journal"), Path(str(part) + "-wal")):
        leftover.unlink(missing_ok=True)
    return dest, part


async def backup_sqlite(engine: AsyncEngine, dest_path: str) -> str:
    """Copy the SQLite database behind ``engine`` to ``dest_path``; return its absolute path."""
    dest, part = _prepare(dest_path)
    target = sqlite3.connect(str(part), check_same_thread=False)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection  # aiosqlite.Connection: runs in its own thread
            await driver.backup(target, pages=-1)  # type: ignore[union-attr]
        # A standalone file: rollback journal, so the copy is one file with nothing pending.
        await asyncio.to_thread(_finish_sqlite_copy, target)
    finally:
        target.close()
    os.replace(part, dest)
    return str(dest)


def _finish_sqlite_copy(target: sqlite3.Connection) -> None:
    mode = target.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    if str(mode).lower() != "delete":
        raise StoreError("backup_failed", f"backup copy stayed in {mode} journal mode")
    check = target.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise StoreError("backup_failed", f"backup copy failed quick_check: {check}")


def find_pg_dump() -> str | None:
    """``pg_dump`` on PATH (Debian's wrapper picks the server's version), else the newest
    under /usr/lib/postgresql."""
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def libpq_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for libpq tools from a SQLAlchemy URL.

    The password goes into ``PGPASSWORD`` rather than argv, where ``ps`` would show it.
    """
    args: list[str] = []
    env = dict(os.environ)
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    args += ["--dbname", url.database or "postgres"]
    return args, env


async def backup_postgres(url: URL, dest_path: str, *, timeout_s: float | None = None) -> str:
    """Dump the PostgreSQL database at ``url`` with pg_dump (custom format) to ``dest_path``."""
    pg_dump = find_pg_dump()
    if pg_dump is None:
        raise StoreError("backup_unavailable",
                         "pg_dump not found (install the postgresql-client package)")
    dest, part = _prepare(dest_path)
    conn_args, env = libpq_args(url)
    proc = await asyncio.create_subprocess_exec(
        pg_dump, "--format=custom", "--no-owner", "--no-password", "--file", str(part),
        *conn_args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout_s)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        part.unlink(missing_ok=True)
        raise
    if proc.returncode != 0:
        part.unlink(missing_ok=True)
        raise StoreError("backup_failed",
                         f"pg_dump exited with {proc.returncode}: "
                         f"{stderr.decode(errors='replace').strip()[-500:]}")
    os.replace(part, dest)
    return str(dest)
