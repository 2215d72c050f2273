"""Slot accounting for the media worker pool, without clocks or I/O.

A worker holds at most ``slots_per_worker`` call legs (4: the pjsua2 wheel's ceiling).
The legs of one contact must live in one worker so that they can be bridged in its
conference bridge, so an inbound contact *reserves* slots (2 by default: the caller leg
and the agent leg) before its INVITE is sent to a worker. This ledger decides which worker
gets a reservation and keeps the books:

* a live leg is either *bound* to a reservation or *unbound* (an originate with no
  reservation, a call that reached the worker without one);
* a worker's usage is ``unbound legs + sum(max(slots, live bound legs))`` over its
  reservations, so a reservation's slots are never counted twice;
* an inbound leg that appears on a worker binds itself to the oldest reservation there
  that has room (FIFO: reservations are made in the order INVITEs are dispatched);
* a reservation ends when released, when the last of its bound legs ends, or when it
  expires unused (the INVITE never arrived) -- ``expire(now)``.

Placement spreads load: the accepting worker with the most free slots wins (ties go to
the oldest worker), which keeps a crash's blast radius small and uses every core.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field


@dataclass
class Booking:
    id: str
    worker_id: str
    slots: int
    expires: float
    legs: set[str] = field(default_factory=set)
    used: bool = False          # has ever had a leg bound

    @property
    def weight(self) -> int:
        return max(self.slots, len(self.legs))


@dataclass
class _Worker:
    order: int
    accepting: bool = True
    unbound: set[str] = field(default_factory=set)
    reservations: dict[str, Booking] = field(default_factory=dict)
    reported: int = 0           # legs the worker itself says it holds


class SlotLedger:
    def __init__(self, slots_per_worker: int = 4, reservation_ttl: float = 30.0) -> None:
        self.slots_per_worker = slots_per_worker
        self.reservation_ttl = reservation_ttl
        self._workers: dict[str, _Worker] = {}
        self._leg_worker: dict[str, str] = {}
        self._leg_reservation: dict[str, str] = {}
        self._reservations: dict[str, Booking] = {}
        self._ids = itertools.count(1)
        self._order = itertools.count()

    # ------------------------------------------------------------------ workers

    def add_worker(self, worker_id: str) -> None:
        if worker_id in self._workers:
            raise ValueError(f"worker {worker_id} already known")
        self._workers[worker_id] = _Worker(next(self._order))

    def remove_worker(self, worker_id: str) -> tuple[list[str], list[str]]:
        """Forget a worker; returns (its live legs, its reservation ids)."""
        w = self._workers.pop(worker_id)
        legs = sorted([leg for leg, wid in self._leg_worker.items() if wid == worker_id])
        for leg in legs:
            self._leg_worker.pop(leg, None)
            self._leg_reservation.pop(leg, None)
        for rid in w.reservations:
            self._reservations.pop(rid, None)
        return legs, sorted(w.reservations)

    def set_accepting(self, worker_id: str, accepting: bool) -> None:
        self._workers[worker_id].accepting = accepting

    def accepting(self, worker_id: str) -> bool:
        return self._workers[worker_id].accepting

    def workers(self) -> list[str]:
        return sorted(self._workers, key=lambda w: self._workers[w].order)

    def used(self, worker_id: str) -> int:
        w = self._workers[worker_id]
        booked = len(w.unbound) + sum(r.weight for r in w.reservations.values())
        return max(booked, w.reported)

    def free(self, worker_id: str) -> int:
        return max(0, self.slots_per_worker - self.used(worker_id))

    def report_load(self, worker_id: str, legs: int) -> None:
        """The worker's own count (``worker_load``): a floor under the books.

        The books can lag (a leg the worker created before the pool heard of it); the
        worker's count can lag the other way (a reservation whose INVITE is in flight).
        Taking the larger never over-books.
        """
        if worker_id in self._workers:
            self._workers[worker_id].reported = legs

    def legs_of(self, worker_id: str) -> list[str]:
        return sorted(leg for leg, wid in self._leg_worker.items() if wid == worker_id)

    def worker_of(self, leg: str) -> str | None:
        return self._leg_worker.get(leg)

    def bookings_of(self, worker_id: str) -> list[Booking]:
        return list(self._workers[worker_id].reservations.values())

    # ------------------------------------------------------------------ reservations

    def reserve(self, slots: int, now: float, prefer: str | None = None) -> Booking | None:
        """Book ``slots`` on the best accepting worker, or None if none has room."""
        if slots < 1 or slots > self.slots_per_worker:
            raise ValueError(f"slots must be within 1..{self.slots_per_worker}")
        candidates = [wid for wid, w in self._workers.items()
                      if w.accepting and self.free(wid) >= slots]
        if not candidates:
            return None
        if prefer in candidates:
            wid = prefer
        else:
            wid = min(candidates, key=lambda c: (-self.free(c), self._workers[c].order))
        res = Booking(f"r{next(self._ids)}", wid, slots, now + self.reservation_ttl)
        self._workers[wid].reservations[res.id] = res
        self._reservations[res.id] = res
        return res

    def get(self, reservation_id: str) -> Booking | None:
        return self._reservations.get(reservation_id)

    def release(self, reservation_id: str) -> Booking | None:
        """End a reservation; its live legs stay, counted as unbound."""
        res = self._reservations.pop(reservation_id, None)
        if res is None:
            return None
        w = self._workers.get(res.worker_id)
        if w is not None:
            w.reservations.pop(reservation_id, None)
            for leg in res.legs:
                self._leg_reservation.pop(leg, None)
                w.unbound.add(leg)
        return res

    def expire(self, now: float) -> list[Booking]:
        """Release reservations that never got a leg and whose time is up."""
        gone = [r for r in self._reservations.values() if not r.used and now >= r.expires]
        for res in gone:
            self.release(res.id)
        return gone

    # ------------------------------------------------------------------ legs

    def leg_added(self, worker_id: str, leg: str, reservation_id: str | None = None,
                  inbound: bool = False) -> str | None:
        """Account a new live leg; returns the reservation it was bound to (if any).

        An explicit ``reservation_id`` binds to it; otherwise an ``inbound`` leg binds to
        the oldest reservation on that worker that still has an unbound slot.
        """
        w = self._workers.get(worker_id)
        if w is None or leg in self._leg_worker:
            return None
        self._leg_worker[leg] = worker_id
        res: Booking | None = None
        if reservation_id is not None:
            res = w.reservations.get(reservation_id)
        elif inbound:
            res = next((r for r in w.reservations.values() if len(r.legs) < r.slots), None)
        if res is None:
            w.unbound.add(leg)
            return None
        res.legs.add(leg)
        res.used = True
        self._leg_reservation[leg] = res.id
        return res.id

    def bind(self, leg: str, reservation_id: str) -> bool:
        """Move an already-known unbound leg into a reservation on the same worker."""
        wid = self._leg_worker.get(leg)
        res = self._reservations.get(reservation_id)
        if wid is None or res is None or res.worker_id != wid or leg in self._leg_reservation:
            return False
        self._workers[wid].unbound.discard(leg)
        res.legs.add(leg)
        res.used = True
        self._leg_reservation[leg] = res.id
        return True

    def leg_removed(self, leg: str) -> Booking | None:
        """Forget an ended leg; returns a reservation that ended with it (if any)."""
        wid = self._leg_worker.pop(leg, None)
        if wid is None:
            return None
        w = self._workers[wid]
        w.unbound.discard(leg)
        rid = self._leg_reservation.pop(leg, None)
        if rid is None:
            return None
        res = self._reservations[rid]
        res.legs.discard(leg)
        if not res.legs:
            return self.release(rid)
        return None
