"""Schema: alembic migrations match the table metadata; open is idempotent and safe."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from acd.store import Store
from acd.store.migrate import current_revision, head_revision
from acd.store.tables import metadata


async def test_migrated_schema_matches_the_metadata(store: Store) -> None:
    def diff(conn: sa.Connection) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await current_revision(store.engine) == head_revision()


async def test_sqlite_connection_settings(tmp_path) -> None:
    store = await Store.open(str(tmp_path / "plain-path.db"))  # a bare path is SQLite
    try:
        async with store.engine.connect() as conn:
            pragma = {name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                      for name in ("journal_mode", "synchronous", "foreign_keys",
                                   "busy_timeout")}
        assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                          "busy_timeout": 10_000}
    finally:
        await store.close()


async def test_reopen_keeps_data_and_revision(store_url: str) -> None:
    first = await Store.open(store_url)
    await first.upsert_tenant("t1", "one", {})
    await first.close()
    await first.close()  # idempotent
    second = await Store.open(store_url)
    try:
        assert [t["id"] for t in await second.list_tenants()] == ["t1"]
        health = await second.health()
        assert health["ok"] is True and health["revision"] == head_revision()
        assert health["backend"] in ("sqlite", "postgresql")
        assert health["journal"]["pending"] == 0
    finally:
        await second.close()
    assert (await second.health())["ok"] is False


async def test_concurrent_first_opens_migrate_once(store_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(store_url) for _ in range(3)))
    try:
        await stores[0].upsert_tenant("t", "t", {})
        for s in stores:
            assert [t["id"] for t in await s.list_tenants()] == ["t"]
    finally:
        for s in stores:
            await s.close()


async def test_password_is_masked_in_url_and_health() -> None:
    from acd.store import normalize_url

    url = normalize_url("postgres://u:secret@db.example/ipcc")
    assert url.drivername == "postgresql+asyncpg"
    assert "secret" not in url.render_as_string(hide_password=True)
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
