"""The CRM bridge as a server gateway: seeds the demo data, serves lookups and screen pops.

    server.add_gateway(CrmService())      # before server.start()
    ...
    await server.crm.lookup("crm.customer_by_ani", {"ani": ani, "tenant": tenant})

On ``start(server)`` (after the store is open and the configured tenants exist) it seeds
:data:`crm_bridge.demo_data.DEMO_DATA` into every tenant that has a data set there, exists
in the store, and has no customer yet: a fresh demo install has something to look up,
and a tenant with any customer of its own is never touched.

It sets ``server.crm`` to a :class:`crm_bridge.provider.LookupProvider`, which the voice
gateway's IVR driver and the REST API use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from .demo_data import DEMO_DATA
from .provider import LookupProvider

log = logging.getLogger("ipcc.crm")


class CrmService:
    name = "crm"

    def __init__(self, *, seed: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        #: Tenant -> data set to seed when that tenant's CRM is empty ({} seeds nothing).
        self.seed_data = DEMO_DATA if seed is None else seed
        self.provider: LookupProvider | None = None
        self.seeded: dict[str, dict[str, int]] = {}
        self.error: str | None = None

    async def start(self, server: Any) -> None:
        self.provider = LookupProvider(server.store)
        known = {t["id"] for t in await server.store.list_tenants()}
        for tenant, data in self.seed_data.items():
            if tenant not in known:
                continue
            if await self.provider.repo.count_customers(tenant):
                continue
            try:
                self.seeded[tenant] = await self.provider.repo.import_dataset(tenant, data)
            except IntegrityError:
                # Another process sharing the database seeded it first.
                log.info("crm demo data for %s already present", tenant)
            else:
                log.info("crm demo data seeded for %s: %s", tenant, self.seeded[tenant])
        server.crm = self.provider

    async def stop(self) -> None:
        self.provider = None

    def health(self) -> dict[str, Any]:
        p = self.provider
        return {"ok": p is not None, "lookups": dict(p.counts) if p else {},
                "seeded": sorted(self.seeded)}
