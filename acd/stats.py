"""Per-queue counters kept by the engine, and the formulas that turn them into figures.

Counters are cumulative since the engine started (the store keeps history across
restarts; interval statistics are the store's job). Waits are measured from the moment
the contact entered *this* queue (``queued_at``), not from its original arrival: a
callback or an overflowed contact keeps its arrival for ordering, but this queue's
service level is about the time it spent here.

Formulas
--------
``service_level_pct``  answered within ``sl_threshold_s``
                       / (answered + abandoned after ``sl_threshold_s``) * 100.
                       Contacts abandoned within the threshold are not counted against
                       the queue (the common "short abandon" convention). ``None`` while
                       the denominator is 0.
``abandoned_pct``      abandoned / (answered + abandoned) * 100 (``None`` when both are 0).
``asa_s``              mean wait of answered contacts (entry in queue -> accept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class QueueCounters:
    arrived: int = 0          # entered by ContactArrived
    offered: int = 0          # offers made (a contact offered twice counts twice)
    answered: int = 0
    answered_in_sl: int = 0
    answer_wait_total: float = 0.0
    abandoned: int = 0
    abandoned_after_sl: int = 0
    timed_out: int = 0
    overflowed_in: int = 0    # moved here by another queue's overflow
    overflowed_out: int = 0   # moved to another queue
    callbacks: int = 0        # ended by overflow to callback
    voicemails: int = 0       # ended by overflow to voicemail
    cancelled: int = 0
    no_answer: int = 0        # offers that rang out
    rejected: int = 0

    def on_answer(self, waited: float, threshold: float) -> None:
        self.answered += 1
        self.answer_wait_total += waited
        if waited <= threshold:
            self.answered_in_sl += 1

    def on_abandon(self, waited: float, threshold: float) -> None:
        self.abandoned += 1
        if waited > threshold:
            self.abandoned_after_sl += 1

    def figures(self) -> dict[str, Any]:
        denom = self.answered + self.abandoned_after_sl
        handled = self.answered + self.abandoned
        return {
            "arrived": self.arrived,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "abandoned_pct": (100.0 * self.abandoned / handled) if handled else None,
            "service_level_pct": (100.0 * self.answered_in_sl / denom) if denom else None,
            "asa_s": (self.answer_wait_total / self.answered) if self.answered else None,
            "timed_out": self.timed_out,
            "overflowed_in": self.overflowed_in,
            "overflowed_out": self.overflowed_out,
            "callbacks": self.callbacks,
            "voicemails": self.voicemails,
            "cancelled": self.cancelled,
            "no_answer": self.no_answer,
            "rejected": self.rejected,
        }
