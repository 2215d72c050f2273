"""Fixtures: the demo CRM data set in a real database, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.store import Store
from crm_bridge.provider import LookupProvider
from tests.support.postgres import pg_database_url, pg_server, pg_url  # noqa: F401 (fixtures)

from .crm_helpers import seeded_store


@pytest.fixture(params=("sqlite", "postgresql"))
def crm_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'crm.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def crm_store(crm_url: str) -> AsyncIterator[Store]:
    store = await seeded_store(crm_url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def provider(crm_store: Store) -> LookupProvider:
    return LookupProvider(crm_store)


@pytest.fixture
async def sqlite_provider(tmp_path: Path) -> AsyncIterator[LookupProvider]:
    """SQLite only: for the tests whose point is not the backend."""
    store = await seeded_store(f"sqlite+aiosqlite:///{tmp_path / 'crm1.db'}")
    try:
        yield LookupProvider(store)
    finally:
        await store.close()
