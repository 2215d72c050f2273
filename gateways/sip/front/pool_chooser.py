"""The front's chooser backed by the media worker pool (gateways.sip.pool.WorkerPool).

The dispatcher asks synchronously, per INVITE, "which worker takes this call?". The pool
answers through its slot ledger: a reservation of ``slots`` legs (2: caller + agent) on
the accepting worker with the most free slots; the INVITE then goes to that worker's SIP
port. When the dialog ends the front calls :meth:`PoolChooser.release`, which gives the
reservation back (the pool also ends it by itself when the worker reports the last leg
gone, so a double release is harmless).

``WorkerPool.reserve()`` may grow the pool, which takes time (a process start); the
front must answer now, so when the ledger has no room this chooser returns None (the
caller gets 503 + Retry-After) and asks the pool to grow in the background, so that the
retry finds room if the pool may still grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .affinity import Address

__all__ = ["PoolChooser"]

log = logging.getLogger(__name__)


class PoolChooser:
    """``choose(call_id)`` / ``release(call_id, worker)`` over a pool's slot ledger.

    ``pool`` needs: ``ledger`` (a :class:`~gateways.sip.capacity.SlotLedger`),
    ``workers()`` (items with ``id`` and ``sip_port``), ``host``, ``release(id)`` and,
    for background growth, ``async reserve(slots)``.
    """

    def __init__(self, pool: Any, slots: int = 2,
                 clock: Callable[[], float] | None = None, grow: bool = True) -> None:
        self.pool = pool
        self.slots = slots
        self.clock = clock
        self.grow = grow
        self._bookings: dict[str, str] = {}
        self._growing: asyncio.Task[None] | None = None

    def choose(self, call_id: str) -> Address | None:
        booking = self.pool.ledger.reserve(self.slots, self._now())
        if booking is None:
            self._grow_later()
            return None
        ports = {w.id: w.sip_port for w in self.pool.workers()}
        port = ports.get(booking.worker_id)
        if port is None:  # the worker vanished between ledger and listing
            self.pool.release(booking.id)
            return None
        self._bookings[call_id] = booking.id
        return str(self.pool.host), int(port)

    def release(self, call_id: str, worker: Address) -> None:
        rid = self._bookings.pop(call_id, None)
        if rid is not None:
            self.pool.release(rid)

    def _now(self) -> float:
        if self.clock is not None:
            return self.clock()
        return asyncio.get_running_loop().time()

    def _grow_later(self) -> None:
        if not self.grow or (self._growing is not None and not self._growing.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._growing = loop.create_task(self._grow_once())

    async def _grow_once(self) -> None:
        """Reserve through the pool (which starts a worker if it may), then let go."""
        try:
            reservation = await asyncio.wait_for(self.pool.reserve(self.slots), 30.0)
        except Exception as exc:  # noqa: BLE001 - full at max size, or a start failed
            log.info("pool could not grow for the SIP front: %s", exc)
            return
        with contextlib.suppress(Exception):
            self.pool.release(reservation)
