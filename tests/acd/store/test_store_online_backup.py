"""Online backup: taken while contacts and journal rows keep being written, and restorable."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from acd.store import Store
from tests.support.postgres import PostgresServer, create_database


def _restore_postgres(server: PostgresServer, dump: str) -> str:
    pg_restore = shutil.which("pg_restore") or (
        str(server.bin_dir / "pg_restore") if server.bin_dir else None)
    if pg_restore is None:
        pytest.skip("pg_restore not installed")
    name = create_database(server, "ipcc_restore")
    subprocess.run([pg_restore, "--no-owner", "--exit-on-error", "-h", server.host,
                    "-p", str(server.port), "-U", server.user, "-d", name, dump],
                   check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return server.url(name)


async def test_backup_while_writing(store_url: str, tmp_path: Path,
                                    request: pytest.FixtureRequest) -> None:
    store = await Store.open(store_url)
    await store.upsert_tenant("t1", "one", {"k": "v"})
    saved: list[str] = []
    appended = 0
    stop = asyncio.Event()

    async def keep_writing() -> None:
        nonlocal appended
        i = 0
        while not stop.is_set():
            await store.save_contact({"id": f"w{i}", "tenant": "t1", "channel": "chat",
                                      "queue": "q", "arrival": float(i), "priority": i % 3})
            saved.append(f"w{i}")
            for _ in range(20):
                store.append(float(i), "t1", "k", f"w{i}", {"i": i})
                appended += 1
            i += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    try:
        while len(saved) < 30:
            await asyncio.sleep(0.005)
        contacts_before, journal_before = len(saved), appended
        suffix = "db" if store.backend == "sqlite" else "dump"
        path = await store.backup(str(tmp_path / "backups" / f"ipcc.{suffix}"))
        during = len(saved) - contacts_before
        while len(saved) < contacts_before + during + 10:  # writes go on after the backup
            await asyncio.sleep(0.005)
    finally:
        stop.set()
        await writer
        await store.flush()
    live_contacts = len(await store.open_contacts())
    await store.close()

    assert Path(path).is_file() and not Path(path + ".part").exists()
    if store.backend == "sqlite":
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = await asyncio.to_thread(_restore_postgres, request.getfixturevalue("pg_server"),
                                      path)
    copy = await Store.open(url)
    try:
        assert (await copy.get_tenant("t1"))["settings"] == {"k": "v"}
        contacts = await copy.open_contacts("t1")
        ids = [c["id"] for c in contacts]
        # a consistent prefix: everything saved before the call, nothing out of order
        assert ids == [f"w{i}" for i in range(len(ids))]
        assert contacts_before <= len(ids) < live_contacts
        rows = await copy.journal(limit=100_000)
        assert len(rows) >= journal_before  # backup() flushes the journal first
        assert [r["payload"]["i"] for r in rows] == [i // 20 for i in range(len(rows))]
        await copy.save_contact({"id": "restored", "tenant": "t1", "channel": "chat",
                                 "queue": "q", "arrival": 0.0})  # the copy is writable
    finally:
        await copy.close()


async def test_sqlite_backup_of_a_memory_database(tmp_path: Path) -> None:
    store = await Store.open("sqlite+aiosqlite://")
    try:
        await store.upsert_tenant("m", "memory", {})
        path = await store.backup(str(tmp_path / "mem.db"))
    finally:
        await store.close()
    copy = await Store.open(path)
    try:
        assert [t["id"] for t in await copy.list_tenants()] == ["m"]
    finally:
        await copy.close()
