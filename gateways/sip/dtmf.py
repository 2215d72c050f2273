"""DTMF digit collection for one leg, without clocks or I/O.

The worker feeds every digit the SIP stack reports (RFC 4733 telephone-events or SIP
INFO) and polls with the loop's time; the collector answers with a result once the
request is satisfied. Digits that arrive while nothing is collecting are kept in a short
type-ahead buffer (callers who know the menu press ahead of the prompt), which a new
collection uses unless it asks to ``flush`` it.

Timeouts: ``timeout`` is how long to wait for the first digit; ``inter_digit_timeout``
(default: the same) how long to wait for each next one. Reasons a collection ends:
``max_digits``, ``terminator`` (the terminator itself is not part of ``digits``),
``timeout``, ``cancelled``, ``hangup``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

VALID_DIGITS = frozenset("0123456789*#ABCDabcd")


@dataclass(frozen=True)
class DtmfResult:
    collect_id: str
    digits: str
    reason: str


@dataclass
class _Collect:
    collect_id: str
    max_digits: int
    terminators: str
    first_timeout: float
    inter_digit_timeout: float
    deadline: float
    digits: str = ""


class LegDigits:
    """Type-ahead buffer plus at most one active collection for one leg."""

    def __init__(self, buffer_max: int = 32) -> None:
        self._buffer: deque[str] = deque(maxlen=buffer_max)
        self._active: _Collect | None = None

    @property
    def collecting(self) -> str | None:
        return self._active.collect_id if self._active else None

    @property
    def deadline(self) -> float | None:
        return self._active.deadline if self._active else None

    @property
    def buffered(self) -> str:
        return "".join(self._buffer)

    def start(self, collect_id: str, now: float, *, max_digits: int, timeout: float,
              terminators: str = "#", inter_digit_timeout: float | None = None,
              flush: bool = False) -> DtmfResult | None:
        """Begin collecting; may finish at once from type-ahead digits.

        Raises ``ValueError`` for nonsensical parameters and ``RuntimeError`` if a
        collection is already running (the caller cancels it first).
        """
        if max_digits < 1:
            raise ValueError("max_digits must be at least 1")
        if timeout <= 0 or (inter_digit_timeout is not None and inter_digit_timeout <= 0):
            raise ValueError("timeouts must be positive")
        if any(t not in VALID_DIGITS for t in terminators):
            raise ValueError(f"bad terminator {terminators!r}")
        if self._active is not None:
            raise RuntimeError(f"already collecting ({self._active.collect_id})")
        idt = timeout if inter_digit_timeout is None else inter_digit_timeout
        self._active = _Collect(collect_id, max_digits, terminators, timeout, idt,
                                deadline=now + timeout)
        if flush:
            self._buffer.clear()
        while self._buffer:
            result = self._take(self._buffer.popleft(), now)
            if result is not None:
                return result
        return None

    def digit(self, digit: str, now: float) -> DtmfResult | None:
        """Record one received digit; returns the result if it completes a collection."""
        if digit not in VALID_DIGITS:
            return None
        if self._active is None:
            self._buffer.append(digit)
            return None
        return self._take(digit, now)

    def poll(self, now: float) -> DtmfResult | None:
        """Time out the active collection if its deadline has passed."""
        if self._active is not None and now >= self._active.deadline:
            return self._finish("timeout")
        return None

    def cancel(self, reason: str = "cancelled") -> DtmfResult | None:
        return self._finish(reason) if self._active is not None else None

    def _take(self, digit: str, now: float) -> DtmfResult | None:
        active = self._active
        assert active is not None
        if digit in active.terminators:
            return self._finish("terminator")
        active.digits += digit
        if len(active.digits) >= active.max_digits:
            return self._finish("max_digits")
        active.deadline = now + active.inter_digit_timeout
        return None

    def _finish(self, reason: str) -> DtmfResult:
        active = self._active
        assert active is not None
        self._active = None
        return DtmfResult(active.collect_id, active.digits, reason)
