"""Alembic environment for the ipcc store.

Two ways in:

* Programmatic (what :meth:`acd.store.Store.open` does): the caller opens an async
  connection, hands its synchronous face to alembic through
  ``config.attributes["connection"]`` (via ``AsyncConnection.run_sync``) and alembic
  migrates on that connection, inside the caller's transaction. No ini file is read.
* The ``alembic`` command line, for developers: ``sqlalchemy.url`` from the config (or the
  ``IPCC_DB_URL`` environment variable) names an async URL; this module opens an async
  engine itself and runs the same migrations through ``run_sync``. ``--sql`` (offline
  mode) renders the DDL instead.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from acd.store.tables import metadata

config = context.config


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode lets later migrations rebuild tables.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = os.environ.get("IPCC_DB_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or IPCC_DB_URL")
    return url


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online_async() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
    else:
        asyncio.run(_run_online_async())


if context.is_offline_mode():
    run_offline()
else:
    run_online()
