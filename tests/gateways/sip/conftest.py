"""Fixtures for media tests with real pjsua2 peers: a pool, peers, an event log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateways.sip.pool import PoolEvent, WorkerPool
from tests.support.sip_peer import SipPeer


class EventLog:
    """Every pool event, with ``wait(name, **match)`` for past or future ones."""

    def __init__(self) -> None:
        self.events: list[PoolEvent] = []
        self._cond = asyncio.Condition()

    def __call__(self, ev: PoolEvent) -> None:
        self.events.append(ev)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    def find(self, name: str, where: Any = None, **match: Any) -> list[PoolEvent]:
        return [e for e in self.events if e.event == name
                and all(e.args.get(k) == v for k, v in match.items())
                and (where is None or where(e))]

    async def wait(self, name: str, timeout: float = 8.0, where: Any = None,
                   **match: Any) -> PoolEvent:
        """The first event ``name`` with args equal to ``match`` (and ``where(ev)``)."""
        async def waiter() -> PoolEvent:
            async with self._cond:
                while not self.find(name, where, **match):
                    await self._cond.wait()
                return self.find(name, where, **match)[0]
        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            seen = [(e.worker_id, e.event, e.args) for e in self.events]
            raise AssertionError(f"no {name} {match} within {timeout}s; saw {seen}") from None


async def eventually(check: Any, timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``check()`` on the loop until it is true (for books fed by async events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.02)


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
async def pool(events: EventLog, tmp_path: Any) -> AsyncIterator[WorkerPool]:
    p = WorkerPool(size=1, max_size=2, socket_dir=tmp_path / "sock", ping_interval=1.0,
                   on_event=events)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
async def peers() -> AsyncIterator[list[SipPeer]]:
    """Peers a test starts are appended here and stopped (or killed by pid) after it."""
    started: list[SipPeer] = []
    try:
        yield started
    finally:
        for peer in started:
            try:
                await peer.stop(timeout=3.0)
            except Exception:  # noqa: BLE001 - whatever went wrong, the process must go
                peer.kill()
