"""Helpers for the CRM bridge tests: a seeded store, and an IVR call driven against the
real (async) lookup provider on a fake clock."""

from __future__ import annotations

from acd.store import Store
from crm_bridge.demo_data import DEMO_DATA
from crm_bridge.provider import LookupProvider
from ivr.events import Lookup
from ivr.nodes import Tree
from ivr.session import INPUT, RECORD, CallInfo, IvrSession
from ivr.simulate import CallSimulator

STEP_S = 0.05          # fake-clock step between lookup answers
SETTLE_LIMIT_S = 120.0


async def seeded_store(url: str) -> Store:
    store = await Store.open(url)
    for tenant in ("demo", "acme"):
        await store.upsert_tenant(tenant, tenant, {})
    provider = LookupProvider(store)
    for tenant, data in DEMO_DATA.items():
        await provider.repo.import_dataset(tenant, data)
    return store


class AsyncCall:
    """A ``CallSimulator`` whose lookups are answered by an async provider.

    The simulator answers lookups synchronously; ours need the event loop. So the
    simulator gets no lookup function (Lookup actions are only recorded), and the clock
    is moved in small steps, answering each new Lookup as soon as it shows up, long
    before its timeout timer is due."""

    def __init__(self, tree: Tree, provider: LookupProvider, ani: str, now: float,
                 session_id: str = "s1", dnis: str = "1000") -> None:
        session = IvrSession(tree, CallInfo(ani=ani, dnis=dnis), now, session_id=session_id)
        self.sim = CallSimulator(session)
        self.provider = provider
        self._answered: set[str] = set()
        self.lookups: list[tuple[str, dict, object]] = []

    @property
    def session(self) -> IvrSession:
        return self.sim.session

    async def _answer(self) -> None:
        for a in self.sim.of_type(Lookup):
            if a.request_id in self._answered:
                continue
            self._answered.add(a.request_id)
            result = await self.provider.answer(a.request_id, a.kind, a.params)
            self.lookups.append((a.kind, dict(a.params), result))
            self.sim.feed(result)

    async def settle(self) -> None:
        for _ in range(int(SETTLE_LIMIT_S / STEP_S)):
            await self._answer()
            if self.session.ended or self.session.phase in (INPUT, RECORD):
                return
            self.sim.advance(STEP_S)
        raise AssertionError("the call did not settle")

    async def start(self) -> None:
        self.sim.start(settle=False)
        await self.settle()

    async def press(self, digits: str) -> None:
        self.sim.press(digits, settle=False)
        await self.settle()

    def names(self, since: int = 0) -> list[str]:
        return self.sim.names(since)
