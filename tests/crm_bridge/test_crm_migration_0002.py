"""Migration 0002: an existing 0001 database gains the CRM, billing and IVR trace tables
with its data intact; downgrading removes exactly those tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from acd.store import Store
from acd.store.migrate import alembic_config, current_revision, upgrade

NEW_TABLES = {"customers", "customer_phones", "accounts", "invoices", "payments", "ivr_traces"}


async def _tables(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_upgrade_from_0001_keeps_data_and_adds_tables(crm_url: str) -> None:
    engine = create_async_engine(crm_url)
    try:
        assert await upgrade(engine, "0001") == "0001"
        assert not (await _tables(engine)) & NEW_TABLES
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO tenants (id, name, settings) VALUES ('demo', 'Demo', '{}')"))
        assert await upgrade(engine, "0002") == "0002"
        assert NEW_TABLES <= await _tables(engine)
        async with engine.connect() as conn:
            names = (await conn.execute(sa.text("SELECT name FROM tenants"))).scalars().all()
        assert names == ["Demo"]

        def down(conn: sa.Connection) -> None:
            command.downgrade(alembic_config(conn), "0001")

        async with engine.begin() as conn:
            await conn.run_sync(down)
        assert await current_revision(engine) == "0001"
        assert not (await _tables(engine)) & NEW_TABLES
    finally:
        await engine.dispose()

    # Store.open takes the same database to the newest revision, demo data can go in.
    store = await Store.open(crm_url)
    try:
        assert NEW_TABLES <= await _tables(store.engine)
        assert [t["id"] for t in await store.list_tenants()] == ["demo"]
    finally:
        await store.close()
