"""Run the store's alembic migrations programmatically, on an async engine.

Alembic is synchronous; SQLAlchemy's async connection offers ``run_sync``, which hands a
synchronous ``Connection`` facade to a function executed in the connection's greenlet. The
migration runs inside one transaction, so on PostgreSQL (transactional DDL) a failed
upgrade leaves the schema as it was. No ``alembic.ini`` is needed at run time: the
configuration is built here and points at the migrations folder beside this module.

Two processes may open the same database at once (a control process and its standby, a
test and its subprocess). Migrating is serialized: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by taking the write lock first (``BEGIN IMMEDIATE``), so the
second process waits and then finds the schema already at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Arbitrary constant naming the advisory lock that serializes migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x69706363  # "ipcc"


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic ``Config`` for this package's migrations, optionally bound to a connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError("no migrations found in " + str(MIGRATIONS_DIR))
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Migrate the database behind ``engine`` to ``revision``; return the revision reached."""
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # The sqlite3 module opens transactions lazily; taking the write lock now makes a
            # concurrent opener wait (busy_timeout) instead of racing to CREATE TABLE.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await conn.begin()
            if engine.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                )
        try:
            await conn.run_sync(_upgrade, revision)
            reached = await conn.run_sync(_current)
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()
    return reached


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
