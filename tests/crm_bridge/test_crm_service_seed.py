"""The CRM gateway seeds the demo data once, only into tenants that exist and are empty."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from acd.store import Store
from crm_bridge.demo_data import DEMO_DATA
from crm_bridge.service import CrmService


async def test_seed_once_and_only_where_empty(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    try:
        await store.upsert_tenant("demo", "Demo", {})          # acme does not exist
        server = SimpleNamespace(store=store)
        first = CrmService()
        await first.start(server)
        assert server.crm is first.provider
        assert first.seeded == {"demo": {"customers": 4, "accounts": 5, "invoices": 9,
                                         "payments": 5}}
        assert first.health()["ok"] and first.health()["seeded"] == ["demo"]

        await store.upsert_tenant("acme", "Acme", {})
        second = CrmService()
        await second.start(server)                              # a restart
        assert list(second.seeded) == ["acme"]                  # demo was not empty
        repo = second.provider.repo
        assert await repo.count_customers("demo") == len(DEMO_DATA["demo"]["customers"])
        assert await repo.count_customers("acme") == len(DEMO_DATA["acme"]["customers"])
        await second.stop()
        assert second.health()["ok"] is False

        nothing = CrmService(seed={})
        await nothing.start(SimpleNamespace(store=store))
        assert nothing.seeded == {}
    finally:
        await store.close()
