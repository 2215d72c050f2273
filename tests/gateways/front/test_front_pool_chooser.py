"""PoolChooser over the pool's real slot ledger (a stand-in pool object, no processes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gateways.sip.capacity import SlotLedger
from gateways.sip.front.dispatcher import Dispatcher
from gateways.sip.front.message import parse_message
from gateways.sip.front.pool_chooser import PoolChooser
from tests.gateways.front.front_harness import CALLER, FRONT, request, response_to


@dataclass
class Info:
    id: str
    sip_port: int


class LedgerPool:
    """The parts of WorkerPool the chooser uses, around a real SlotLedger."""

    host = "127.0.0.1"

    def __init__(self, ports: dict[str, int], max_workers: int | None = None) -> None:
        self.ledger = SlotLedger(slots_per_worker=4)
        self.ports = dict(ports)
        self.max_workers = max_workers or len(ports)
        self.released: list[str] = []
        for wid in ports:
            self.ledger.add_worker(wid)

    def workers(self) -> list[Info]:
        return [Info(wid, port) for wid, port in self.ports.items()]

    def release(self, reservation: object) -> None:
        rid = reservation if isinstance(reservation, str) else reservation.id  # type: ignore[attr-defined]
        self.released.append(rid)
        self.ledger.release(rid)

    async def reserve(self, slots: int) -> object:
        if len(self.ports) < self.max_workers:  # "start" one more worker
            wid = f"w{len(self.ports) + 1}"
            self.ports[wid] = 7000 + len(self.ports)
            self.ledger.add_worker(wid)
        booking = self.ledger.reserve(slots, 0.0)
        if booking is None:
            raise RuntimeError("no capacity")
        return booking


def test_two_calls_per_worker_then_503_then_release_frees_a_slot() -> None:
    pool = LedgerPool({"w1": 6001, "w2": 6002})
    chooser = PoolChooser(pool, slots=2, clock=lambda: 0.0, grow=False)
    d = Dispatcher(FRONT[0], FRONT[1], chooser)
    dests = []
    for n in range(4):
        out = d.handle(request("INVITE", call_id=f"c{n}", branch=f"z9hG4bK{n}"), CALLER, 0.0)
        dests.append(next(s.dest for s in out if s.dest != CALLER))
    assert sorted(dests) == [("127.0.0.1", 6001)] * 2 + [("127.0.0.1", 6002)] * 2
    full = d.handle(request("INVITE", call_id="c4", branch="z9hG4bK4"), CALLER, 0.0)
    assert [parse_message(s.data).status for s in full] == [503]
    # c0 is rejected by its worker: the reservation is given back, a new call fits
    out = d.handle(request("INVITE", call_id="c0", branch="z9hG4bK0"), CALLER, 0.1)
    fwd = next(s for s in out if s.dest != CALLER)
    d.handle(response_to(fwd.data, 486, "Busy Here"), fwd.dest, 0.2)
    assert len(pool.released) == 1
    again = d.handle(request("INVITE", call_id="c5", branch="z9hG4bK5"), CALLER, 0.3)
    assert any(s.dest == fwd.dest for s in again)


async def test_full_pool_grows_in_the_background_for_the_retry() -> None:
    pool = LedgerPool({"w1": 6001}, max_workers=2)
    chooser = PoolChooser(pool, slots=4)
    assert chooser.choose("a") == ("127.0.0.1", 6001)
    assert chooser.choose("b") is None  # full now: 503 for this one ...
    assert chooser._growing is not None
    await asyncio.wait_for(chooser._growing, 5)
    assert chooser.choose("b") == ("127.0.0.1", 7001)  # ... room for its retry
    assert chooser.choose("c") is None
    await asyncio.wait_for(chooser._growing, 5)  # at max size: growth fails quietly
    assert chooser.choose("c") is None
