"""The SIP front's chooser backed by the worker pool's slot ledger.

The front (``gateways.sip.front.SipFront``) asks ``choose(call_id)`` synchronously for
every new INVITE. A call needs two legs in one worker (caller + agent, bridged in that
worker's conference bridge), so the chooser books a 2-slot reservation in the pool's
ledger and returns that worker's SIP address; the INVITE then reaches the worker and its
``leg_incoming`` binds to the reservation, and the agent leg is originated into it.

When every worker is full the answer is None (the front replies 503 with Retry-After)
and a background task grows the pool (``pool.reserve`` starts a worker, up to
``max_size``). To make that rare, the chooser keeps *headroom*: after each booking, if
no worker could take another call, it starts growing before the next INVITE arrives.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("ipcc.voice")


class PoolChooser:
    def __init__(self, pool: Any, slots: int = 2) -> None:
        self.pool = pool
        self.slots = slots
        self.by_call: dict[str, str] = {}      # SIP Call-ID -> reservation id
        self.chosen = 0
        self.refused = 0
        self._growing: asyncio.Task[None] | None = None

    def _ports(self) -> dict[str, int]:
        return {w.id: w.sip_port for w in self.pool.workers() if w.state == "ready"}

    def choose(self, call_id: str) -> tuple[str, int] | None:
        loop = asyncio.get_running_loop()
        ports = self._ports()
        booking = self.pool.ledger.reserve(self.slots, loop.time())
        if booking is None or booking.worker_id not in ports:
            if booking is not None:
                self.pool.ledger.release(booking.id)
            self.refused += 1
            self._grow()
            return None
        self.by_call[call_id] = booking.id
        self.chosen += 1
        if not self._headroom():
            self._grow()              # no room for the next call: start a worker now
        return self.pool.host, ports[booking.worker_id]

    def _headroom(self) -> bool:
        ledger = self.pool.ledger
        return any(ledger.accepting(w) and ledger.free(w) >= self.slots
                   for w in ledger.workers())

    def reservation_for(self, call_id: str) -> str | None:
        return self.by_call.get(call_id)

    def release(self, call_id: str, worker: Any = None) -> None:
        rid = self.by_call.pop(call_id, None)
        if rid is not None and self.pool.ledger.get(rid) is not None:
            booking = self.pool.ledger.get(rid)
            if booking is not None and not booking.legs:
                self.pool.release(rid)

    def _grow(self) -> None:
        if self._growing is not None and not self._growing.done():
            return
        if len(self.pool.workers()) >= self.pool.max_size:
            return

        async def grow() -> None:
            try:
                r = await self.pool.reserve(self.slots)
                self.pool.release(r)
            except Exception as exc:  # noqa: BLE001 - growth is best effort
                log.warning("could not grow the media pool: %s", exc)

        self._growing = asyncio.get_running_loop().create_task(grow())

    def stats(self) -> dict[str, Any]:
        return {"chosen": self.chosen, "refused": self.refused,
                "open_reservations": len(self.by_call)}
