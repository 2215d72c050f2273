"""Interval statistics for the supervisor's charts, computed from journal rows.

The engine keeps cumulative counters only (see :mod:`acd.stats`); "what happened between
10:00 and 10:30 today" is history, and the journal holds it: every ``contact.updated``
notice with its time. This module folds those notices into fixed-width intervals. It is
pure: rows in, figures out, no clock and no database.

Per interval and queue:

``offered``    contacts that entered the ACD (``state=queued``, ``reason=arrived``)
``handled``    offers accepted (``state=connected``, ``reason=accepted``)
``abandoned``  contacts that ended with ``outcome=abandoned``
``sl_pct``     handled within the queue's threshold / (handled + abandoned after the
               threshold) * 100, ``None`` when that is 0 - the formula of
               :mod:`acd.stats`. The wait is measured from the contact's arrival (the
               journal notice carries it), so a callback that kept an old arrival counts
               as answered late.

A contact is counted in the interval of the notice's time (an abandon at 10:31 belongs
to 10:30-11:00 even if the contact arrived at 10:20).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_THRESHOLD_S = 20.0
MAX_INTERVALS = 1000


@dataclass
class _Bucket:
    offered: int = 0
    handled: int = 0
    abandoned: int = 0
    handled_in_sl: int = 0
    abandoned_after_sl: int = 0

    def figures(self) -> dict[str, Any]:
        denom = self.handled + self.abandoned_after_sl
        return {"offered": self.offered, "handled": self.handled, "abandoned": self.abandoned,
                "sl_pct": round(100.0 * self.handled_in_sl / denom, 1) if denom else None}

    def add(self, other: _Bucket) -> None:
        self.offered += other.offered
        self.handled += other.handled
        self.abandoned += other.abandoned
        self.handled_in_sl += other.handled_in_sl
        self.abandoned_after_sl += other.abandoned_after_sl


def interval_count(since: float, until: float, step_s: float) -> int:
    if step_s <= 0 or until <= since:
        raise ValueError("need step_s > 0 and until > since")
    n = math.ceil((until - since) / step_s)
    if n > MAX_INTERVALS:
        raise ValueError(f"at most {MAX_INTERVALS} intervals")
    return n


def fold(notices: Iterable[Mapping[str, Any]], *, since: float, until: float, step_s: float,
         thresholds: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Fold ``contact.updated`` payloads into intervals ``[since + i*step_s, ...)``.

    ``thresholds`` maps queue id -> SL threshold in seconds (default 20 s). Returns
    ``{"since", "until", "step_s", "starts": [...], "queues": {queue: [figures...]},
    "total": [figures...]}`` with one figures dict per interval.
    """
    n = interval_count(since, until, step_s)
    thresholds = thresholds or {}
    per_queue: dict[str, list[_Bucket]] = {}
    for p in notices:
        at = p.get("at")
        queue = p.get("queue")
        if not isinstance(at, (int, float)) or not isinstance(queue, str):
            continue
        if not since <= at < until:
            continue
        i = int((at - since) // step_s)
        b = per_queue.setdefault(queue, [_Bucket() for _ in range(n)])[i]
        state, reason, outcome = p.get("state"), p.get("reason"), p.get("outcome")
        arrival = (p.get("details") or {}).get("arrival")
        waited = at - arrival if isinstance(arrival, (int, float)) else 0.0
        threshold = thresholds.get(queue, DEFAULT_THRESHOLD_S)
        if state == "queued" and reason == "arrived":
            b.offered += 1
        elif state == "connected" and reason == "accepted":
            b.handled += 1
            if waited <= threshold:
                b.handled_in_sl += 1
        elif state == "ended" and outcome == "abandoned":
            b.abandoned += 1
            if waited > threshold:
                b.abandoned_after_sl += 1
    total = [_Bucket() for _ in range(n)]
    for buckets in per_queue.values():
        for t, b in zip(total, buckets):
            t.add(b)
    return {
        "since": since, "until": until, "step_s": step_s,
        "starts": [since + i * step_s for i in range(n)],
        "queues": {q: [b.figures() for b in bs] for q, bs in sorted(per_queue.items())},
        "total": [b.figures() for b in total],
    }
