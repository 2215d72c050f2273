"""Fixtures for the store tests: every Store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.store import Store
from tests.support.postgres import pg_database_url, pg_server, pg_url  # noqa: F401 (fixtures)

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ipcc.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    s = await Store.open(store_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def tenant_store(store: Store) -> Store:
    """A store with tenants ``t1`` and ``t2``."""
    await store.upsert_tenant("t1", "Tenant one", {"timezone": "Europe/Paris"})
    await store.upsert_tenant("t2", "Tenant two", {})
    return store
