"""Call-ID affinity: which worker holds a dialog, and for how long to remember it.

The front is stateless per transaction (RFC 3261 16.11) but not per dialog: a media
worker holds the call's media, so every later request of the dialog (ACK, re-INVITE,
INFO, BYE, CANCEL) must reach the *same* worker, and requests the worker sends back to
the caller must reach the caller's address. The table maps Call-ID -> :class:`Dialog`.

Lifetime, one transition table (``TRANSITIONS``), state -> event -> next state:

* ``early``: INVITE forwarded, no final answer yet. Expires after ``setup_timeout``.
* ``confirmed``: a 2xx answered the INVITE. Expires after ``idle_timeout`` without any
  message -- a safety net for calls whose BYE was lost; real calls end with BYE.
* ``ending``: BYE seen, or the initial INVITE was rejected (final >= 300). The entry
  lingers ``linger`` seconds (64*T1, the life of a transaction) so retransmissions, the
  ACK of the rejection and the BYE's 200 still route; then it is dropped.

The worker's capacity is released (``on_release``) exactly once per dialog: on entering
``ending`` or on expiry from a live state. Sans-I/O: time comes in as ``now``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TRANSITIONS", "Address", "AffinityTable", "Dialog"]

Address = tuple[str, int]

# state -> event -> next state; a missing pair is a programming error (KeyError).
TRANSITIONS: dict[str, dict[str, str]] = {
    "early": {"answered": "confirmed", "rejected": "ending", "bye": "ending"},
    "confirmed": {"answered": "confirmed", "rejected": "confirmed", "bye": "ending"},
    "ending": {"answered": "ending", "rejected": "ending", "bye": "ending"},
}
LIVE = frozenset({"early", "confirmed"})


@dataclass
class Dialog:
    """One remembered dialog (mutable bookkeeping, owned by the table)."""

    call_id: str
    worker: Address
    client: Address
    client_transport: str
    invite_cseq: int
    state: str = "early"
    expires: float = 0.0


class AffinityTable:
    """Call-ID -> Dialog with expiry; ``max_dialogs`` bounds memory under a flood."""

    def __init__(self, *, setup_timeout: float = 300.0, idle_timeout: float = 4 * 3600.0,
                 linger: float = 32.0, max_dialogs: int = 100_000,
                 on_release: Callable[[Dialog], None] | None = None) -> None:
        self.setup_timeout = setup_timeout
        self.idle_timeout = idle_timeout
        self.linger = linger
        self.max_dialogs = max_dialogs
        self.on_release = on_release
        self._dialogs: dict[str, Dialog] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._dialogs)

    @property
    def full(self) -> bool:
        return len(self._dialogs) >= self.max_dialogs

    def live_count(self) -> int:
        return sum(1 for d in self._dialogs.values() if d.state in LIVE)

    def get(self, call_id: str, now: float) -> Dialog | None:
        d = self._dialogs.get(call_id)
        if d is not None and d.expires <= now:
            self.expire(now)
            return self._dialogs.get(call_id)
        return d

    def open(self, call_id: str, worker: Address, client: Address, client_transport: str,
             invite_cseq: int, now: float) -> Dialog:
        old = self._dialogs.pop(call_id, None)
        if old is not None and old.state in LIVE:
            self._release(old)
        d = Dialog(call_id, worker, client, client_transport, invite_cseq, "early",
                   now + self.setup_timeout)
        self._dialogs[call_id] = d
        self._push(d)
        return d

    def touch(self, d: Dialog, now: float) -> None:
        """Any message of the dialog pushes its idle expiry (not for ending ones)."""
        if d.state == "confirmed":
            d.expires = max(d.expires, now + self.idle_timeout)

    def apply(self, d: Dialog, event: str, now: float) -> None:
        """Move ``d`` by ``event`` (see TRANSITIONS); release capacity on leaving LIVE."""
        before = d.state
        after = TRANSITIONS[before][event]
        if after == before:
            self.touch(d, now)
            return
        d.state = after
        if after == "confirmed":
            d.expires = now + self.idle_timeout
        elif after == "ending":
            d.expires = now + self.linger
            self._release(d)
        self._push(d)

    def expire(self, now: float) -> list[Dialog]:
        """Drop every entry whose time is up; returns them (live ones were released)."""
        gone: list[Dialog] = []
        while self._heap and self._heap[0][0] <= now:
            _, _, call_id = heapq.heappop(self._heap)
            d = self._dialogs.get(call_id)
            if d is None:
                continue
            if d.expires > now:
                self._push(d)  # touched since: re-file under its current expiry
                continue
            del self._dialogs[call_id]
            if d.state in LIVE:
                self._release(d)
            gone.append(d)
        return gone

    def _push(self, d: Dialog) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (d.expires, self._seq, d.call_id))
        if len(self._heap) > 4 * len(self._dialogs) + 64:
            self._heap = [(d2.expires, i, d2.call_id)
                          for i, d2 in enumerate(self._dialogs.values())]
            heapq.heapify(self._heap)

    def _release(self, d: Dialog) -> None:
        if self.on_release is not None:
            self.on_release(d)
