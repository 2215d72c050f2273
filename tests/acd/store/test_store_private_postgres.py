"""The fallback of tests/support/postgres.py: a private cluster when none runs on 5432.

On machines of this project's kind the shared server is used by every other test, so the
private path would otherwise never run here; it is what a bare machine relies on.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from acd.store import Store
from tests.support import postgres


async def test_private_server_serves_a_store_and_is_removed_after() -> None:
    if postgres.pg_bin_dir() is None:
        pytest.skip("no PostgreSQL binaries (/usr/lib/postgresql/*/bin)")
    server = await asyncio.to_thread(postgres.start_private_server)
    workdir, datadir = server.workdir, server.datadir
    assert workdir is not None and datadir is not None
    pid = postgres._postmaster_pid(datadir)
    try:
        assert server.private and server.port != postgres.SHARED_PORT
        name = await asyncio.to_thread(postgres.create_database, server)
        store = await Store.open(server.url(name))
        try:
            await store.upsert_tenant("p", "private", {})
            assert (await store.health())["ok"]
            assert [t["id"] for t in await store.list_tenants()] == ["p"]
        finally:
            await store.close()
        await asyncio.to_thread(postgres.drop_database, server, name)
    finally:
        await asyncio.to_thread(server.stop)
    assert pid is not None and not postgres._alive(pid)
    assert not os.path.exists(workdir)
